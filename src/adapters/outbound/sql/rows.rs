//! The seam between SQL rows and the domain, for every sqlx store: row structs and their
//! mapping to domain values (with the encodings all stores share, from `stored`), and the
//! mapping of driver errors to `StoreError`. The rows are generic over how a store keeps times
//! (`TimeColumn`: SQLite's integer milliseconds, PostgreSQL's `timestamptz`) and JSON
//! (`JsonColumn`), so the mapping rules exist once; each store names its own instances.

use chrono::{DateTime, Utc};

use super::json::{JsonColumn, attachments_from_json, context_from_json, data_from_json};
pub use crate::adapters::outbound::stored::{
    RINGING, call_state_to_db, corrupt, seq_from_db, seq_to_db,
};
use crate::adapters::outbound::stored::{
    call_info, call_state_from_db, call_type, client_key, message_kind,
};
use crate::domain::{
    CallId, CallSession, Conversation, ConversationId, LastMessage, Message, MessageBody,
    MessageId, Notification, NotificationId, ParticipantState, Role, Timestamp, UserId,
    UserProfile, Watermark,
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
        let kind = message_kind(&self.kind)?;
        let call = match (self.call_type, self.call_duration, self.call_status) {
            (Some(call_type), Some(duration), Some(status)) => {
                Some(call_info(&call_type, duration, &status)?)
            }
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
            client_key: client_key(self.client_key)?,
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
        let state = call_state_from_db(&self.state, time(self.accepted_at))?;
        Ok(CallSession {
            id: parse_id!(CallId, self.id)?,
            conversation_id: parse_id!(ConversationId, self.conversation_id)?,
            caller: parse_id!(UserId, self.caller)?,
            callee: parse_id!(UserId, self.callee)?,
            call_type: call_type(&self.call_type)?,
            started_at: self.started_at.into_timestamp(),
            state,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_counts_are_corrupt() {
        assert!(matches!(count_from_db(-1), Err(StoreError::Corrupt(_))));
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
