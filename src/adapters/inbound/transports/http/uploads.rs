//! `GET {public_prefix}/{key}`: uploaded files served back with the content type they were
//! uploaded with. Keys are long and random (the blob store makes them), so a file is found
//! only through the message that links it. A CDN or proxy can serve the directory instead
//! (`blobs.public_prefix` as an absolute URL), and then this route is not mounted.
//!
//! A client chooses the content type it uploads with, so a file could be HTML or SVG with a
//! script in it: only media and PDFs are served inline, everything else as a download, and
//! every file under a sandboxing content security policy, so that no upload ever runs as
//! this origin.

use axum::Router;
use axum::extract::State;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_SECURITY_POLICY, CONTENT_TYPE,
    X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::{ApiError, ApiPath, RestState};

/// The route for files under `prefix` (a path such as `/uploads`).
pub fn router(prefix: &str) -> Router<RestState> {
    let path = format!("{}/{{key}}", prefix.trim_end_matches('/'));
    Router::new().route(&path, get(serve))
}

async fn serve(
    State(state): State<RestState>,
    ApiPath(key): ApiPath<String>,
) -> Result<Response, ApiError> {
    let blob = state.use_cases.attachment(&key).await?;
    let content_type = HeaderValue::from_str(&blob.content_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    let disposition = if shown_inline(&blob.content_type) {
        "inline"
    } else {
        "attachment"
    };
    Ok((
        StatusCode::OK,
        [
            (CONTENT_TYPE, content_type),
            (CONTENT_DISPOSITION, HeaderValue::from_static(disposition)),
            (
                CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; sandbox"),
            ),
            // What was uploaded is what is served: never sniffed into something else.
            (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            // A key is never reused for other bytes.
            (
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
        ],
        blob.bytes,
    )
        .into_response())
}

/// Types a browser shows without running anything: pictures (but not SVG, which can carry
/// scripts), sound, video and PDF.
fn shown_inline(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    (essence.starts_with("image/") && !essence.starts_with("image/svg"))
        || essence.starts_with("audio/")
        || essence.starts_with("video/")
        || essence == "application/pdf"
}

#[cfg(test)]
mod tests {
    use super::shown_inline;

    #[test]
    fn only_media_and_pdf_are_shown_inline() {
        for inline in [
            "image/png",
            "IMAGE/JPEG; q=1",
            "video/mp4",
            "audio/ogg",
            "application/pdf",
        ] {
            assert!(shown_inline(inline), "{inline}");
        }
        for download in [
            "text/html",
            "image/svg+xml",
            "application/xhtml+xml",
            "text/plain",
            "",
        ] {
            assert!(!shown_inline(download), "{download}");
        }
    }
}
