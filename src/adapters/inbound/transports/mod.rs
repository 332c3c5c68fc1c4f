//! Transports: how frames reach a listener. Socket.IO (WebSocket and long-polling) and the
//! raw WebSocket (the native framing) feed a session per connection; HTTP serves the
//! dialect's REST routes. They carry frames and name no event: the meaning is the dialect's,
//! the order and answers the session's.

pub mod http;
pub mod socketio;
pub mod websocket;
