//! Files attached to messages: a message posted with uploads (the files are stored only for a
//! post that would be accepted), and a stored file read back to be served.

use crate::domain::Attachment;
use crate::domain::message::check_text;
use crate::ports::Blob;

use super::error::{AppError, AppResult};
use super::messages::{PostMessage, Posted};
use super::use_cases::{Actor, UseCases};

/// A file a client uploaded with a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// The client's file name: shown to the other participants, never used as a path.
    pub name: String,
    pub content_type: String,
    /// What the client's family calls this kind of file (`image`, `pdf`, …).
    pub kind: String,
    pub bytes: Vec<u8>,
}

impl UseCases {
    /// Posts a message with uploaded files as its attachments. The participant, policy and
    /// text checks come first, so that a refused post stores no file; then the files are
    /// stored and the message is posted as `post_message` does.
    pub async fn post_message_with_files(
        &self,
        actor: &Actor,
        mut request: PostMessage,
        files: Vec<Upload>,
    ) -> AppResult<Posted> {
        let conversation = self
            .conversation_for(actor.id(), &request.conversation_id)
            .await?;
        self.check_policy(&conversation, &actor.profile).await?;
        check_text(&request.text, &self.rules.messages)?;
        for file in files {
            let size = file.bytes.len();
            let stored = self
                .ports
                .blobs
                .put(&file.name, &file.content_type, file.bytes)
                .await?;
            tracing::debug!(key = %stored.key, size, "attachment stored");
            request.attachments.push(Attachment {
                url: stored.url,
                kind: file.kind,
                name: file.name,
                size: stored.size,
            });
        }
        self.post_message(actor, request).await
    }

    /// A stored file by its key, to serve it back.
    ///
    /// Errors: `NotFound` for an unknown key.
    pub async fn attachment(&self, key: &str) -> AppResult<Blob> {
        self.ports
            .blobs
            .get(key)
            .await?
            .ok_or_else(|| AppError::not_found("file"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::test_support::{Mocks, actor, cid, conversation_ab};
    use crate::app::use_cases::Rules;
    use crate::domain::Seq;
    use crate::ports::{Appended, BlobError, StoredBlob};

    fn upload(name: &str) -> Upload {
        Upload {
            name: name.into(),
            content_type: "image/png".into(),
            kind: "image".into(),
            bytes: vec![1, 2, 3],
        }
    }

    #[tokio::test]
    async fn a_refused_post_stores_no_file() {
        let mut m = Mocks::new(1);
        m.conversations
            .expect_get()
            .returning(|_| Ok(Some(conversation_ab())));
        m.blobs.expect_put().never();
        m.messages.expect_append().never();
        let uc = m.build(Rules::default());
        let stranger = uc
            .post_message_with_files(
                &actor("z"),
                PostMessage::text(cid("c1"), ""),
                vec![upload("a.png")],
            )
            .await;
        assert!(
            matches!(stranger, Err(AppError::Forbidden(_))),
            "{stranger:?}"
        );
        let too_long = uc
            .post_message_with_files(
                &actor("a"),
                PostMessage::text(cid("c1"), "x".repeat(10_001)),
                vec![upload("a.png")],
            )
            .await;
        assert!(
            matches!(too_long, Err(AppError::Invalid(_))),
            "{too_long:?}"
        );
    }

    #[tokio::test]
    async fn stored_files_become_the_attachments() {
        let mut m = Mocks::new(1);
        m.conversations
            .expect_get()
            .returning(|_| Ok(Some(conversation_ab())));
        m.blobs.expect_put().times(1).returning(|_, _, bytes| {
            Ok(StoredBlob {
                key: "k1.png".into(),
                url: "/uploads/k1.png".into(),
                size: bytes.len() as u64,
            })
        });
        m.messages.expect_append().returning(|new| {
            Ok(Appended {
                message: new.clone().stored_as(Seq(1)),
                duplicate: false,
            })
        });
        m.presence.expect_is_viewing().returning(|_, _| Ok(false));
        let _events = m.capture_events();
        let posted = m
            .build(Rules::default())
            .post_message_with_files(
                &actor("a"),
                PostMessage::text(cid("c1"), ""),
                vec![upload("a.png")],
            )
            .await
            .unwrap();
        assert_eq!(
            posted.message.body.attachments,
            vec![Attachment {
                url: "/uploads/k1.png".into(),
                kind: "image".into(),
                name: "a.png".into(),
                size: 3,
            }]
        );
    }

    #[tokio::test]
    async fn a_file_over_the_limit_is_too_large() {
        let mut m = Mocks::new(1);
        m.conversations
            .expect_get()
            .returning(|_| Ok(Some(conversation_ab())));
        m.blobs
            .expect_put()
            .returning(|_, _, _| Err(BlobError::TooLarge { max: 2 }));
        m.messages.expect_append().never();
        let result = m
            .build(Rules::default())
            .post_message_with_files(
                &actor("a"),
                PostMessage::text(cid("c1"), ""),
                vec![upload("a.png")],
            )
            .await;
        assert!(matches!(result, Err(AppError::TooLarge(_))), "{result:?}");
    }
}
