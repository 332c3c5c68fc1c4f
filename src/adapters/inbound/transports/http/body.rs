//! Request bodies read by hand, for routes that lift axum's body limit because they take
//! files: the limit is enforced here, and a body over it is still read to its end (within a
//! budget) before the 413 is answered. A client still sending when the server answers and
//! closes sees a broken pipe, not the 413, so draining is what makes the refusal readable.

use axum::body::{Body, Bytes, HttpBody};
use axum::http::StatusCode;

use super::ApiError;

/// The body's bytes when it is at most `limit` long; a longer one is read on and dropped
/// until `drain` bytes in all (then cut off), and answered 413.
pub async fn read_limited(body: Body, limit: usize, drain: u64) -> Result<Bytes, ApiError> {
    let mut body = std::pin::pin!(body);
    let mut kept = Vec::new();
    let mut seen = 0u64;
    while let Some(frame) = std::future::poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
        let frame = frame.map_err(|e| {
            ApiError::bad_request(format!("the request body could not be read: {e}"))
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen = seen.saturating_add(data.len() as u64);
        if seen > drain {
            break;
        }
        if seen <= limit as u64 {
            kept.extend_from_slice(&data);
        }
    }
    if seen > limit as u64 {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is larger than {limit} bytes"),
        ));
    }
    Ok(kept.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_body_within_the_limit_is_kept_whole() {
        let bytes = read_limited(Body::from("hello"), 5, 100).await.unwrap();
        assert_eq!(bytes.as_ref(), b"hello");
    }

    #[tokio::test]
    async fn a_longer_body_is_refused_after_it_is_drained() {
        let err = read_limited(Body::from(vec![0u8; 6]), 5, 100)
            .await
            .unwrap_err();
        assert_eq!(err.status, StatusCode::PAYLOAD_TOO_LARGE);
        // Past the drain budget too: cut off, still a 413.
        let err = read_limited(Body::from(vec![0u8; 1000]), 5, 100)
            .await
            .unwrap_err();
        assert_eq!(err.status, StatusCode::PAYLOAD_TOO_LARGE);
    }
}
