//! The seam between SQL rows and the domain, for every sqlx store: row structs and their
//! mapping to domain values, column encodings of seqs and call states, and the mapping of
//! driver errors to `StoreError`. The rows are generic over how a store keeps times
//! (`TimeColumn`: SQLite's integer milliseconds, PostgreSQL's `timestamptz`) and JSON
//! (`JsonColumn`), so the mapping rules exist once; each store names its own instances.

use chrono::{DateTime, Utc};

use super::json::{JsonColumn, attachments_from_json, context_from_json, data_from_json};
use crate::domain::{
    CallId, CallInfo, CallOutcome, CallSession, CallState, CallType, ClientKey, Conversation,
    ConversationId, LastMessage, Message, MessageBody, MessageId, MessageKind, Notification,
    NotificationId, ParticipantState, Role, Seq, Timestamp, UserId, UserProfile, Watermark,
};
use crate::ports::StoreError;

/// Unique violations are the store's `Conflict`; unreadable values are `Corrupt`; anything
/// else (a refused or dropped connection, a pool timeout, a server shutting down) means the
/// database failed and the operation did not happen.
pub fn db_error(error: sqlx::Error) -> StoreError {
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

pub fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {detail}"))
}

/// Seqs are `u64` in the domain and 64-bit signed integers in SQL. No conversation reaches
/// 2^63 messages, so saturating is only a guard against nonsense marks.
pub fn seq_to_db(seq: Seq) -> i64 {
    i64::try_from(seq.0).unwrap_or(i64::MAX)
}

pub fn seq_from_db(raw: i64) -> Result<Seq, StoreError> {
    u64::try_from(raw)
        .map(Seq)
        .map_err(|_| corrupt("negative seq", raw))
}

/// A count or sum that SQL returns as a signed integer.
pub fn count_from_db(raw: i64) -> Result<u64, StoreError> {
    u64::try_from(raw).map_err(|_| corrupt("negative count", raw))
}

/// A column that holds a point in time, as the driver decodes it.
pub trait TimeColumn {
    fn into_timestamp(self) -> Timestamp;
}

/// SQLite keeps milliseconds since the Unix epoch.
impl TimeColumn for i64 {
    fn into_timestamp(self) -> Timestamp {
        Timestamp::from_millis(self)
    }
}

/// PostgreSQL's `timestamptz` keeps microseconds; the domain's resolution is milliseconds.
impl TimeColumn for DateTime<Utc> {
    fn into_timestamp(self) -> Timestamp {
        Timestamp::from_millis(self.timestamp_millis())
    }
}

fn time<T: TimeColumn>(raw: Option<T>) -> Option<Timestamp> {
    raw.map(TimeColumn::into_timestamp)
}

macro_rules! parse_id {
    ($ty:ty, $raw:expr) => {
        <$ty>::parse($raw).map_err(|e| corrupt(stringify!($ty), e))
    };
}

#[derive(sqlx::FromRow)]
pub struct ConversationRow<T, J> {
    pub id: String,
    context: J,
    created_at: T,
    updated_at: T,
    last_seq: i64,
    last_message_text: Option<String>,
    last_message_sender: Option<String>,
    last_message_at: Option<T>,
}

impl<T: TimeColumn, J: JsonColumn> ConversationRow<T, J> {
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
                at: at.into_timestamp(),
            }),
            _ => None,
        };
        Ok(Conversation {
            id: parse_id!(ConversationId, self.id)?,
            participants,
            context: context_from_json(self.context)?,
            created_at: self.created_at.into_timestamp(),
            updated_at: self.updated_at.into_timestamp(),
            last_message,
            last_seq,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct ParticipantRow<T> {
    pub conversation_id: String,
    user_id: String,
    delivered_seq: i64,
    delivered_at: Option<T>,
    read_seq: i64,
    read_at: Option<T>,
    hidden_through: Option<i64>,
}

impl<T: TimeColumn> ParticipantRow<T> {
    pub fn into_domain(self) -> Result<ParticipantState, StoreError> {
        Ok(ParticipantState {
            user_id: parse_id!(UserId, self.user_id)?,
            delivered: Watermark {
                seq: seq_from_db(self.delivered_seq)?,
                at: time(self.delivered_at),
            },
            read: Watermark {
                seq: seq_from_db(self.read_seq)?,
                at: time(self.read_at),
            },
            hidden_through: self.hidden_through.map(seq_from_db).transpose()?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct MessageRow<T, J> {
    id: String,
    conversation_id: String,
    seq: i64,
    sender: String,
    kind: String,
    text: String,
    attachments: J,
    call_type: Option<String>,
    call_duration: Option<i64>,
    call_status: Option<String>,
    client_key: Option<String>,
    created_at: T,
    edited_at: Option<T>,
}

impl<T: TimeColumn, J: JsonColumn> MessageRow<T, J> {
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
            attachments: attachments_from_json(self.attachments)?,
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
            created_at: self.created_at.into_timestamp(),
            edited_at: time(self.edited_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct NotificationRow<T, J> {
    id: String,
    recipient: String,
    kind: String,
    title: Option<String>,
    message: String,
    reference_id: Option<String>,
    data: J,
    created_at: T,
    delivered_at: Option<T>,
    read_at: Option<T>,
}

impl<T: TimeColumn, J: JsonColumn> NotificationRow<T, J> {
    pub fn into_domain(self) -> Result<Notification, StoreError> {
        Ok(Notification {
            id: parse_id!(NotificationId, self.id)?,
            recipient: parse_id!(UserId, self.recipient)?,
            kind: self.kind,
            title: self.title,
            message: self.message,
            reference_id: self.reference_id,
            data: data_from_json(self.data)?,
            created_at: self.created_at.into_timestamp(),
            delivered_at: time(self.delivered_at),
            read_at: time(self.read_at),
        })
    }
}

/// Ids returned by a statement (`RETURNING id`), back as domain notification ids.
pub fn notification_ids(raw: Vec<String>) -> Result<Vec<NotificationId>, StoreError> {
    raw.into_iter()
        .map(|id| parse_id!(NotificationId, id))
        .collect()
}

/// User ids selected by a statement, back as domain ids.
pub fn user_ids(raw: Vec<String>) -> Result<Vec<UserId>, StoreError> {
    raw.into_iter().map(|id| parse_id!(UserId, id)).collect()
}

#[derive(sqlx::FromRow)]
pub struct UserRow<T> {
    id: String,
    name: Option<String>,
    email: Option<String>,
    avatar: Option<String>,
    role: Option<String>,
    last_active: Option<T>,
}

impl<T: TimeColumn> UserRow<T> {
    pub fn into_domain(self) -> Result<UserProfile, StoreError> {
        Ok(UserProfile {
            id: parse_id!(UserId, self.id)?,
            name: self.name,
            email: self.email,
            avatar: self.avatar,
            role: self.role.as_deref().and_then(Role::new),
            last_active: time(self.last_active),
        })
    }
}

pub const RINGING: &str = "ringing";
pub const ACTIVE: &str = "active";

/// A call state as its `state` and `accepted_at` columns (the time in the domain's type; each
/// store encodes it as it keeps times).
pub fn call_state_to_db(state: CallState) -> (&'static str, Option<Timestamp>) {
    match state {
        CallState::Ringing => (RINGING, None),
        CallState::Active { accepted_at } => (ACTIVE, Some(accepted_at)),
    }
}

#[derive(sqlx::FromRow)]
pub struct CallRow<T> {
    id: String,
    conversation_id: String,
    caller: String,
    callee: String,
    call_type: String,
    started_at: T,
    state: String,
    accepted_at: Option<T>,
}

impl<T: TimeColumn> CallRow<T> {
    pub fn into_domain(self) -> Result<CallSession, StoreError> {
        let state = match (self.state.as_str(), self.accepted_at) {
            (RINGING, _) => CallState::Ringing,
            (ACTIVE, Some(at)) => CallState::Active {
                accepted_at: at.into_timestamp(),
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
            started_at: self.started_at.into_timestamp(),
            state,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_seqs_and_counts_are_corrupt() {
        assert!(matches!(seq_from_db(-1), Err(StoreError::Corrupt(_))));
        assert!(matches!(count_from_db(-1), Err(StoreError::Corrupt(_))));
        assert_eq!(seq_to_db(Seq(u64::MAX)), i64::MAX);
    }

    #[test]
    fn both_time_columns_read_as_milliseconds() {
        let at = DateTime::<Utc>::from_timestamp_millis(1_700_000_000_123).unwrap();
        assert_eq!(
            at.into_timestamp(),
            Timestamp::from_millis(1_700_000_000_123)
        );
        assert_eq!(
            1_700_000_000_123_i64.into_timestamp(),
            Timestamp::from_millis(1_700_000_000_123)
        );
    }
}
