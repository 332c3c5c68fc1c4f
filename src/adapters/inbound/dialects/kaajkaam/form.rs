//! The multipart form of `POST /conversations/{id}/messages`: a `text` field and files in
//! `attachments` (or `attachments[]`, as some form libraries name a list), read within the
//! listener's limits.
//!
//! A refused form is still read to its end, within a budget of what an accepted one may
//! carry, before the refusal is answered: a client that is still sending when the server
//! answers and closes would see a broken pipe instead of the 413 or 400. A form past even
//! that budget is cut off.

use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::StatusCode;

use crate::adapters::inbound::transports::http::{ApiError, RestLimits, RestState};
use crate::app::Upload;

/// The text and the files of the form.
pub async fn read_message_form(
    state: &RestState,
    request: Request,
) -> Result<(String, Vec<Upload>), ApiError> {
    let limits = state.limits;
    let mut multipart = Multipart::from_request(request, state)
        .await
        .map_err(|e| ApiError::bad_request(e.body_text()))?;
    let mut form = Form::new(limits);
    while let Some(field) = multipart.next_field().await.map_err(bad_multipart)? {
        form.read(field).await?;
    }
    form.finish()
}

struct Form {
    limits: RestLimits,
    /// Everything read so far, kept or not.
    total: u64,
    /// What an accepted form may carry, and so what is read of a refused one.
    budget: u64,
    text: String,
    files: Vec<Upload>,
    /// Once set, the rest of the form is read and dropped, then this is the answer.
    refused: Option<ApiError>,
}

impl Form {
    fn new(limits: RestLimits) -> Self {
        Self {
            limits,
            total: 0,
            budget: limits.upload_budget(),
            text: String::new(),
            files: Vec::new(),
            refused: None,
        }
    }

    async fn read(&mut self, field: Field<'_>) -> Result<(), ApiError> {
        if self.refused.is_some() {
            self.skip(field).await
        } else {
            match field.name().unwrap_or_default() {
                "text" => self.read_text(field).await,
                "attachments" | "attachments[]" => self.read_file(field).await,
                // Other fields are not ours: read past them.
                _ => self.skip(field).await,
            }
        }
    }

    fn finish(self) -> Result<(String, Vec<Upload>), ApiError> {
        match self.refused {
            Some(refusal) => Err(refusal),
            None => Ok((self.text, self.files)),
        }
    }

    async fn read_text(&mut self, field: Field<'_>) -> Result<(), ApiError> {
        let limit = self.limits.max_body_bytes as u64;
        match self.collect(field, limit).await? {
            None => self.refuse(too_large("the text field is too large")),
            Some(bytes) => match String::from_utf8(bytes) {
                Ok(text) => self.text = text,
                Err(_) => self.refuse(ApiError::bad_request("text must be UTF-8")),
            },
        }
        Ok(())
    }

    async fn read_file(&mut self, field: Field<'_>) -> Result<(), ApiError> {
        if self.files.len() == self.limits.max_files {
            let at_most = format!("at most {} files per message", self.limits.max_files);
            self.refuse(ApiError::bad_request(at_most));
            return self.skip(field).await;
        }
        // A name is shown to people, never a path; control characters (NUL among them, which
        // PostgreSQL cannot store) are dropped from it.
        let name: String = field
            .file_name()
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_control())
            .collect();
        let name = if name.trim().is_empty() {
            "file".to_owned()
        } else {
            name
        };
        let content_type = field
            .content_type()
            .unwrap_or("application/octet-stream")
            .to_owned();
        let limit = self.limits.max_file_bytes;
        let Some(bytes) = self.collect(field, limit).await? else {
            self.refuse(too_large(format!(
                "{name} is larger than the {limit} byte limit"
            )));
            return Ok(());
        };
        self.files.push(Upload {
            kind: attachment_kind(&content_type).to_owned(),
            name,
            content_type,
            bytes,
        });
        Ok(())
    }

    /// The field's bytes, or `None` (the rest of it read and dropped) when it is over
    /// `limit`.
    async fn collect(
        &mut self,
        mut field: Field<'_>,
        limit: u64,
    ) -> Result<Option<Vec<u8>>, ApiError> {
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(bad_multipart)? {
            self.count(chunk.len())?;
            if (bytes.len() + chunk.len()) as u64 > limit {
                self.skip(field).await?;
                return Ok(None);
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Some(bytes))
    }

    /// Reads the field to its end, keeping nothing.
    async fn skip(&mut self, mut field: Field<'_>) -> Result<(), ApiError> {
        while let Some(chunk) = field.chunk().await.map_err(bad_multipart)? {
            self.count(chunk.len())?;
        }
        Ok(())
    }

    /// Counts bytes read; past the budget, the form is answered now with its refusal (or a
    /// 413) and the rest is not read.
    fn count(&mut self, n: usize) -> Result<(), ApiError> {
        self.total += n as u64;
        if self.total > self.budget {
            return Err(self
                .refused
                .take()
                .unwrap_or_else(|| too_large("the form is larger than a message may be")));
        }
        Ok(())
    }

    /// Remembers the first refusal; the form is read on.
    fn refuse(&mut self, refusal: ApiError) {
        self.refused.get_or_insert(refusal);
    }
}

fn too_large(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, message)
}

fn bad_multipart(e: MultipartError) -> ApiError {
    ApiError::new(e.status(), e.body_text())
}

/// The family's attachment types, from the file's content type.
fn attachment_kind(content_type: &str) -> &'static str {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        t if t.starts_with("image/") => "image",
        t if t.starts_with("video/") => "video",
        "application/pdf" => "pdf",
        "application/msword"
        | "application/rtf"
        | "text/plain"
        | "application/vnd.oasis.opendocument.text" => "doc",
        t if t.starts_with("application/vnd.openxmlformats-officedocument.") => "doc",
        _ => "file",
    }
}

#[cfg(test)]
mod tests {
    use super::attachment_kind;

    #[test]
    fn attachment_types_follow_the_content_type() {
        for (content_type, kind) in [
            ("image/png", "image"),
            ("IMAGE/JPEG", "image"),
            ("video/mp4", "video"),
            ("application/pdf", "pdf"),
            ("text/plain; charset=utf-8", "doc"),
            (
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "doc",
            ),
            ("application/zip", "file"),
            ("", "file"),
        ] {
            assert_eq!(attachment_kind(content_type), kind, "{content_type}");
        }
    }
}
