//! A Socket.IO connection's request head, detached from the HTTP connection's read buffer.
//!
//! hyper parses a request in place: the URI and every header value are slices of the
//! connection's read buffer (8 KiB at least). engineioxide keeps the head of the request that
//! opened an Engine.IO session for the session's whole life (`SocketRef::req_parts`), so each
//! connection kept that whole buffer alive: about 10 KB of the 33 KB an idle connection cost
//! (heaptrack, 2,000 idle WebSocket connections). Copying the few bytes the head really holds
//! lets the buffer go when hyper hands the connection over.

use axum::body::Body;
use http::{HeaderValue, Request, Uri};

/// Applied to every request before the Socket.IO layer; only a request that opens an
/// Engine.IO session (`EIO=` without `sid=`: the ones whose head is kept) is touched.
pub fn detach_request_head(mut request: Request<Body>) -> Request<Body> {
    let opens_session = request
        .uri()
        .query()
        .is_some_and(|q| q.contains("EIO=") && !q.contains("sid="));
    if !opens_session {
        return request;
    }
    // `Uri::try_from(String)` and `HeaderValue::from_bytes` copy into allocations of their own.
    if let Ok(uri) = Uri::try_from(request.uri().to_string()) {
        *request.uri_mut() = uri;
    }
    for value in request.headers_mut().values_mut() {
        if let Ok(mut copy) = HeaderValue::from_bytes(value.as_bytes()) {
            copy.set_sensitive(value.is_sensitive());
            *value = copy;
        }
    }
    request
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    /// The head no longer shares the buffer it was parsed from: once the request holds the
    /// only other reference, the buffer is uniquely owned again (what lets it be freed).
    #[test]
    fn the_head_of_a_session_opening_request_no_longer_shares_the_read_buffer() {
        let read_buffer =
            Bytes::from(b"/socket.io/?EIO=4&transport=websocketsecret-token-value".to_vec());
        let uri = Uri::from_maybe_shared(read_buffer.slice(0..37)).unwrap();
        let value = HeaderValue::from_maybe_shared(read_buffer.slice(37..)).unwrap();
        let request = Request::builder()
            .uri(uri)
            .header("authorization", value)
            .body(Body::empty())
            .unwrap();
        let request = detach_request_head(request);
        assert_eq!(request.uri(), "/socket.io/?EIO=4&transport=websocket");
        assert_eq!(request.headers()["authorization"], "secret-token-value");
        assert!(
            read_buffer.is_unique(),
            "the request still refers to the read buffer"
        );
    }
}
