//! Fuzz targets for every parser a client reaches: the dialects' event decoders and identify
//! events, their connect handshakes, the JSON argument readers, whole socket sessions, the
//! REST bodies of every dialect and of the provisioning API, and kaajkaam's multipart form.
//! Each target is a bounded proptest run inside the ordinary test command, so CI fuzzes on
//! every run without a nightly toolchain; `docs/FUZZING.md` lists the targets, their case
//! counts and how to run them longer.

mod examples;
mod handshake;
mod multipart;
mod readers;
mod rest_bytes;
mod rest_json;
mod rest_queries;
mod rest_routes;
mod runner;
mod session;
mod socket_events;
mod strategy;
mod vocabulary;
