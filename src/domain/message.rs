//! Messages: what may be posted, and what a stored message is.

use super::call::{CallOutcome, CallType};
use super::conversation::{Conversation, ConversationError};
use super::ids::{ConversationId, MessageId, Seq, UserId};
use super::time::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("a message needs non-blank text or at least one attachment")]
    Empty,
    #[error("message text is longer than {max} characters")]
    TooLong { max: usize },
    #[error("message text must not contain NUL (U+0000) characters")]
    NulCharacter,
    #[error("a call message needs call information")]
    MissingCallInfo,
    #[error("an attachment needs a url")]
    AttachmentWithoutUrl,
    #[error("only the sender may edit a message")]
    NotSender,
    #[error("call messages cannot be edited")]
    NotEditable,
    #[error("client key must be 1 to 128 characters")]
    BadClientKey,
    #[error(transparent)]
    Conversation(#[from] ConversationError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    Text,
    Image,
    File,
    Call,
    Meeting,
    System,
}

impl MessageKind {
    pub const ALL: [MessageKind; 6] = [
        Self::Text,
        Self::Image,
        Self::File,
        Self::Call,
        Self::Meeting,
        Self::System,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Image => "image",
            Self::File => "file",
            Self::Call => "call",
            Self::Meeting => "meeting",
            Self::System => "system",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub url: String,
    /// `image`, `video`, `pdf`, `doc`, `file`, … as the client named it.
    pub kind: String,
    pub name: String,
    pub size: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallInfo {
    pub call_type: CallType,
    pub duration_secs: u32,
    pub status: CallOutcome,
}

/// Configurable limits on message content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRules {
    pub max_text_chars: usize,
}

impl Default for MessageRules {
    fn default() -> Self {
        Self {
            max_text_chars: 10_000,
        }
    }
}

/// Validated message content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody {
    pub kind: MessageKind,
    pub text: String,
    pub attachments: Vec<Attachment>,
    pub call: Option<CallInfo>,
}

impl MessageBody {
    pub fn new(
        kind: MessageKind,
        text: impl Into<String>,
        attachments: Vec<Attachment>,
        call: Option<CallInfo>,
        rules: &MessageRules,
    ) -> Result<Self, MessageError> {
        let text = text.into();
        check_text(&text, rules)?;
        if attachments.iter().any(|a| a.url.trim().is_empty()) {
            return Err(MessageError::AttachmentWithoutUrl);
        }
        match (kind, call) {
            (MessageKind::Call, None) => return Err(MessageError::MissingCallInfo),
            (MessageKind::Call, Some(_)) => {}
            _ if text.trim().is_empty() && attachments.is_empty() => {
                return Err(MessageError::Empty);
            }
            _ => {}
        }
        Ok(Self {
            kind,
            text,
            attachments,
            call,
        })
    }

    /// The message every finished call leaves behind.
    pub fn call_record(info: CallInfo) -> Self {
        Self {
            kind: MessageKind::Call,
            text: String::new(),
            attachments: Vec::new(),
            call: Some(info),
        }
    }
}

/// The text rules alone (length), for checking a message before its attachments exist.
pub fn check_text(text: &str, rules: &MessageRules) -> Result<(), MessageError> {
    // Counted in characters, not bytes: the limit is what a person typed.
    if text.chars().count() > rules.max_text_chars {
        return Err(MessageError::TooLong {
            max: rules.max_text_chars,
        });
    }
    // No one types it, and PostgreSQL cannot store it in text: refused alike on every store.
    if text.contains('\0') {
        return Err(MessageError::NulCharacter);
    }
    Ok(())
}

/// A client-chosen key that makes resending safe: the same key from the same sender in the
/// same conversation is stored once.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientKey(String);

impl ClientKey {
    pub fn new(raw: impl Into<String>) -> Result<Self, MessageError> {
        let raw = raw.into();
        if raw.is_empty() || raw.chars().count() > 128 {
            return Err(MessageError::BadClientKey);
        }
        Ok(Self(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A message the domain has decided to post; the store gives it its seq.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub sender: UserId,
    pub body: MessageBody,
    pub client_key: Option<ClientKey>,
    pub created_at: Timestamp,
}

impl NewMessage {
    /// The posting rule: only a participant posts into a conversation.
    pub fn compose(
        conversation: &Conversation,
        sender: &UserId,
        body: MessageBody,
        client_key: Option<ClientKey>,
        id: MessageId,
        now: Timestamp,
    ) -> Result<Self, MessageError> {
        conversation.ensure_participant(sender)?;
        Ok(Self {
            id,
            conversation_id: conversation.id.clone(),
            sender: sender.clone(),
            body,
            client_key,
            created_at: now,
        })
    }

    pub fn stored_as(self, seq: Seq) -> Message {
        Message {
            id: self.id,
            conversation_id: self.conversation_id,
            seq,
            sender: self.sender,
            body: self.body,
            client_key: self.client_key,
            created_at: self.created_at,
            edited_at: None,
        }
    }
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub seq: Seq,
    pub sender: UserId,
    pub body: MessageBody,
    pub client_key: Option<ClientKey>,
    pub created_at: Timestamp,
    pub edited_at: Option<Timestamp>,
}

impl Message {
    pub fn is_edited(&self) -> bool {
        self.edited_at.is_some()
    }

    /// The editing rule: only the sender edits, only text-like messages, and the new text
    /// obeys the same rules as a new message. Returns the edited message to persist.
    pub fn decide_edit(
        &self,
        editor: &UserId,
        new_text: impl Into<String>,
        rules: &MessageRules,
        now: Timestamp,
    ) -> Result<Message, MessageError> {
        if editor != &self.sender {
            return Err(MessageError::NotSender);
        }
        if self.body.kind == MessageKind::Call {
            return Err(MessageError::NotEditable);
        }
        let body = MessageBody::new(
            self.body.kind,
            new_text,
            self.body.attachments.clone(),
            self.body.call,
            rules,
        )?;
        Ok(Message {
            body,
            edited_at: Some(now),
            ..self.clone()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> MessageRules {
        MessageRules { max_text_chars: 5 }
    }

    fn attachment() -> Attachment {
        Attachment {
            url: "/blobs/x.png".into(),
            kind: "image".into(),
            name: "x.png".into(),
            size: 3,
        }
    }

    #[test]
    fn text_must_not_be_blank_unless_there_is_an_attachment() {
        assert_eq!(
            MessageBody::new(MessageKind::Text, "  \n", vec![], None, &rules()),
            Err(MessageError::Empty)
        );
        assert!(
            MessageBody::new(MessageKind::Image, "", vec![attachment()], None, &rules()).is_ok()
        );
    }

    #[test]
    fn text_length_is_limited_in_characters() {
        assert!(MessageBody::new(MessageKind::Text, "ééééé", vec![], None, &rules()).is_ok());
        assert_eq!(
            MessageBody::new(MessageKind::Text, "123456", vec![], None, &rules()),
            Err(MessageError::TooLong { max: 5 })
        );
    }

    #[test]
    fn text_with_a_nul_is_refused() {
        assert_eq!(
            check_text("a\0b", &MessageRules::default()),
            Err(MessageError::NulCharacter)
        );
    }

    #[test]
    fn call_messages_need_call_info_but_no_text() {
        assert_eq!(
            MessageBody::new(MessageKind::Call, "", vec![], None, &rules()),
            Err(MessageError::MissingCallInfo)
        );
        let info = CallInfo {
            call_type: CallType::Video,
            duration_secs: 3,
            status: CallOutcome::Completed,
        };
        assert!(MessageBody::new(MessageKind::Call, "", vec![], Some(info), &rules()).is_ok());
    }

    #[test]
    fn attachments_need_a_url() {
        let bad = Attachment {
            url: " ".into(),
            ..attachment()
        };
        assert_eq!(
            MessageBody::new(MessageKind::File, "", vec![bad], None, &rules()),
            Err(MessageError::AttachmentWithoutUrl)
        );
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in MessageKind::ALL {
            assert_eq!(MessageKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(MessageKind::parse("video"), None);
    }

    fn stored(sender: &str) -> Message {
        Message {
            id: MessageId::parse("m1").unwrap(),
            conversation_id: ConversationId::parse("c1").unwrap(),
            seq: Seq(1),
            sender: UserId::parse(sender).unwrap(),
            body: MessageBody::new(MessageKind::Text, "hi", vec![], None, &rules()).unwrap(),
            client_key: None,
            created_at: Timestamp::from_millis(1),
            edited_at: None,
        }
    }

    #[test]
    fn only_the_sender_edits_and_edits_are_validated() {
        let m = stored("a");
        let now = Timestamp::from_millis(9);
        let edited = m
            .decide_edit(&UserId::parse("a").unwrap(), "yo", &rules(), now)
            .unwrap();
        assert_eq!(edited.body.text, "yo");
        assert_eq!(edited.edited_at, Some(now));
        assert!(edited.is_edited());
        assert_eq!(
            m.decide_edit(&UserId::parse("b").unwrap(), "yo", &rules(), now),
            Err(MessageError::NotSender)
        );
        assert_eq!(
            m.decide_edit(&UserId::parse("a").unwrap(), " ", &rules(), now),
            Err(MessageError::Empty)
        );
    }

    #[test]
    fn client_keys_are_bounded() {
        assert!(ClientKey::new("k-1").is_ok());
        assert_eq!(ClientKey::new(""), Err(MessageError::BadClientKey));
        assert_eq!(
            ClientKey::new("k".repeat(129)),
            Err(MessageError::BadClientKey)
        );
    }
}
