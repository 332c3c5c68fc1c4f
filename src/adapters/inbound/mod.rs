//! Inbound adapters: transports and dialect codecs (Socket.IO, WebSocket, REST).
