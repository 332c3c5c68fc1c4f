//! The seam between SQLite rows and the domain: row structs and their mapping to domain
//! values, column encodings of seqs and call states, and the mapping of driver errors to
//! `StoreError`. Nothing outside this folder sees a sqlx type.

use super::json::{attachments_from_json, context_from_json, data_from_text};
use crate::domain::{
    CallId, CallInfo, CallOutcome, CallSession, CallState, CallType, ClientKey, Conversation,
    ConversationId, LastMessage, Message, MessageBody, MessageId, MessageKind, Notification,
    NotificationId, ParticipantState, Role, Seq, Timestamp, UserId, UserProfile, Watermark,
};
use crate::ports::StoreError;

/// Unique violations are the store's `Conflict`; unreadable values are `Corrupt`; anything
/// else means the database failed and the operation did not happen.
pub(super) fn db_error(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(db.message().to_owned())
        }
        sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::ColumnIndexOutOfBounds { .. }
        | sqlx::Error::TypeNotFound { .. } => StoreError::Corrupt(error.to_string()),
        _ => StoreError::Unavailable(error.to_string()),
    }
}

pub(super) fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {detail}"))
}

/// Seqs are `u64` in the domain and `INTEGER` (i64) here. No conversation reaches 2^63
/// messages, so saturating is only a guard against nonsense marks.
pub(super) fn seq_to_db(seq: Seq) -> i64 {
    i64::try_from(seq.0).unwrap_or(i64::MAX)
}

pub(super) fn seq_from_db(raw: i64) -> Result<Seq, StoreError> {
    u64::try_from(raw)
        .map(Seq)
        .map_err(|_| corrupt("negative seq", raw))
}

fn millis(raw: Option<i64>) -> Option<Timestamp> {
    raw.map(Timestamp::from_millis)
}

macro_rules! parse_id {
    ($ty:ty, $raw:expr) => {
        <$ty>::parse($raw).map_err(|e| corrupt(stringify!($ty), e))
    };
}

#[derive(sqlx::FromRow)]
pub(super) struct ConversationRow {
    pub id: String,
    context: String,
    created_at: i64,
    updated_at: i64,
    last_seq: i64,
    last_message_text: Option<String>,
    last_message_sender: Option<String>,
    last_message_at: Option<i64>,
}

impl ConversationRow {
    pub fn into_domain(
        self,
        participants: Vec<ParticipantState>,
    ) -> Result<Conversation, StoreError> {
        if participants.len() < 2 {
            return Err(corrupt("conversation without two participants", &self.id));
        }
        let last_seq = seq_from_db(self.last_seq)?;
        let last_message = match (self.last_message_sender, self.last_message_at) {
            (Some(sender), Some(at)) => Some(LastMessage {
                seq: last_seq,
                text: self.last_message_text.unwrap_or_default(),
                sender: parse_id!(UserId, sender)?,
                at: Timestamp::from_millis(at),
            }),
            _ => None,
        };
        Ok(Conversation {
            id: parse_id!(ConversationId, self.id)?,
            participants,
            context: context_from_json(&self.context)?,
            created_at: Timestamp::from_millis(self.created_at),
            updated_at: Timestamp::from_millis(self.updated_at),
            last_message,
            last_seq,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct ParticipantRow {
    pub conversation_id: String,
    user_id: String,
    delivered_seq: i64,
    delivered_at: Option<i64>,
    read_seq: i64,
    read_at: Option<i64>,
    hidden_through: Option<i64>,
}

impl ParticipantRow {
    pub fn into_domain(self) -> Result<ParticipantState, StoreError> {
        Ok(ParticipantState {
            user_id: parse_id!(UserId, self.user_id)?,
            delivered: Watermark {
                seq: seq_from_db(self.delivered_seq)?,
                at: millis(self.delivered_at),
            },
            read: Watermark {
                seq: seq_from_db(self.read_seq)?,
                at: millis(self.read_at),
            },
            hidden_through: self.hidden_through.map(seq_from_db).transpose()?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct MessageRow {
    id: String,
    conversation_id: String,
    seq: i64,
    sender: String,
    kind: String,
    text: String,
    attachments: String,
    call_type: Option<String>,
    call_duration: Option<i64>,
    call_status: Option<String>,
    client_key: Option<String>,
    created_at: i64,
    edited_at: Option<i64>,
}

impl MessageRow {
    pub fn into_domain(self) -> Result<Message, StoreError> {
        let kind =
            MessageKind::parse(&self.kind).ok_or_else(|| corrupt("message kind", &self.kind))?;
        let call = match (self.call_type, self.call_duration, self.call_status) {
            (Some(call_type), Some(duration), Some(status)) => Some(CallInfo {
                call_type: CallType::parse(&call_type)
                    .ok_or_else(|| corrupt("call type", &call_type))?,
                duration_secs: u32::try_from(duration)
                    .map_err(|_| corrupt("call duration", duration))?,
                status: CallOutcome::parse(&status)
                    .ok_or_else(|| corrupt("call status", &status))?,
            }),
            _ => None,
        };
        // Stored content is loaded as it was accepted, not re-validated: limits may have
        // changed since, and history must stay readable.
        let body = MessageBody {
            kind,
            text: self.text,
            attachments: attachments_from_json(&self.attachments)?,
            call,
        };
        Ok(Message {
            id: parse_id!(MessageId, self.id)?,
            conversation_id: parse_id!(ConversationId, self.conversation_id)?,
            seq: seq_from_db(self.seq)?,
            sender: parse_id!(UserId, self.sender)?,
            body,
            client_key: self
                .client_key
                .map(|k| ClientKey::new(k).map_err(|e| corrupt("client key", e)))
                .transpose()?,
            created_at: Timestamp::from_millis(self.created_at),
            edited_at: millis(self.edited_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct NotificationRow {
    id: String,
    recipient: String,
    kind: String,
    title: Option<String>,
    message: String,
    reference_id: Option<String>,
    data: String,
    created_at: i64,
    delivered_at: Option<i64>,
    read_at: Option<i64>,
}

impl NotificationRow {
    pub fn into_domain(self) -> Result<Notification, StoreError> {
        Ok(Notification {
            id: parse_id!(NotificationId, self.id)?,
            recipient: parse_id!(UserId, self.recipient)?,
            kind: self.kind,
            title: self.title,
            message: self.message,
            reference_id: self.reference_id,
            data: data_from_text(&self.data)?,
            created_at: Timestamp::from_millis(self.created_at),
            delivered_at: millis(self.delivered_at),
            read_at: millis(self.read_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct UserRow {
    id: String,
    name: Option<String>,
    email: Option<String>,
    avatar: Option<String>,
    role: Option<String>,
    last_active: Option<i64>,
}

impl UserRow {
    pub fn into_domain(self) -> Result<UserProfile, StoreError> {
        Ok(UserProfile {
            id: parse_id!(UserId, self.id)?,
            name: self.name,
            email: self.email,
            avatar: self.avatar,
            role: self.role.as_deref().and_then(Role::new),
            last_active: millis(self.last_active),
        })
    }
}

pub(super) const RINGING: &str = "ringing";
pub(super) const ACTIVE: &str = "active";

/// A call state as its `state` and `accepted_at` columns.
pub(super) fn call_state_to_db(state: CallState) -> (&'static str, Option<i64>) {
    match state {
        CallState::Ringing => (RINGING, None),
        CallState::Active { accepted_at } => (ACTIVE, Some(accepted_at.as_millis())),
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct CallRow {
    id: String,
    conversation_id: String,
    caller: String,
    callee: String,
    call_type: String,
    started_at: i64,
    state: String,
    accepted_at: Option<i64>,
}

impl CallRow {
    pub fn into_domain(self) -> Result<CallSession, StoreError> {
        let state = match (self.state.as_str(), self.accepted_at) {
            (RINGING, _) => CallState::Ringing,
            (ACTIVE, Some(at)) => CallState::Active {
                accepted_at: Timestamp::from_millis(at),
            },
            (other, _) => return Err(corrupt("call state", other)),
        };
        Ok(CallSession {
            id: parse_id!(CallId, self.id)?,
            conversation_id: parse_id!(ConversationId, self.conversation_id)?,
            caller: parse_id!(UserId, self.caller)?,
            callee: parse_id!(UserId, self.callee)?,
            call_type: CallType::parse(&self.call_type)
                .ok_or_else(|| corrupt("call type", &self.call_type))?,
            started_at: Timestamp::from_millis(self.started_at),
            state,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_seqs_are_corrupt() {
        assert!(matches!(seq_from_db(-1), Err(StoreError::Corrupt(_))));
        assert_eq!(seq_to_db(Seq(u64::MAX)), i64::MAX);
    }
}
