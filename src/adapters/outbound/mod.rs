//! Outbound adapters, one folder per technology; each optional one behind its Cargo feature.
