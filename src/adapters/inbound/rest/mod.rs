//! The REST transport: axum routers for the HTTP endpoints. Each listener mounts the routes
//! its dialect needs; the health check is common to all.

pub mod health;
