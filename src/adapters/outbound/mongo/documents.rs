//! The document layout, and its mapping to domain values. Field names follow the Mongoose
//! models of the Node servers (the richest family's `Conversation` and `Message`, the
//! notification and user shapes the dialects send); what the core needs beyond them is
//! added under new names:
//!
//! - `conversations`: `participants`, `lastMessage { text, sender, timestamp }`, `isActive`,
//!   `createdAt`, `updatedAt` as in Mongoose; added: `context` (orderId, gigId, …),
//!   `identityKey` (what makes get-or-create idempotent), `lastSeq`, and `watermarks`, one
//!   entry per participant with the delivered and read marks (this replaces Mongoose's
//!   `unreadCount` map: unread = `lastSeq - readSeq`) and the per-user soft delete.
//! - `messages`: `conversationId`, `sender`, `text`, `messageType`, `attachments
//!   [{ url, type, name, size }]`, `callInfo { callType, duration, status }`, `isEdited`,
//!   `editedAt`, `createdAt`; added: `seq` and `clientKey`. Per-message `readBy` is not
//!   stored: it is derived from the conversation's read marks.
//! - `notifications`, `users`, `callsessions`: see their structs.

use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Bson, DateTime, Document};
use serde::{Deserialize, Serialize};

use super::values::{
    context_from_bson, context_to_bson, corrupt, data_from_bson, data_to_bson, date, id_to_bson,
    ids_to_bson, parse_id, timestamp,
};
use crate::adapters::outbound::stored::{
    call_info, call_state_from_db, call_state_to_db, call_type, client_key, message_kind,
    seq_from_db, seq_to_db,
};
use crate::domain::{
    Attachment, CallId, CallSession, CallState, Conversation, ConversationId, LastMessage, Message,
    MessageBody, MessageId, Notification, NotificationId, ParticipantState, Role, Timestamp,
    UserId, UserProfile, Watermark,
};
use crate::ports::StoreError;

fn opt_date(at: Option<Timestamp>) -> Option<DateTime> {
    at.map(date)
}

fn opt_timestamp(at: Option<DateTime>) -> Option<Timestamp> {
    at.map(timestamp)
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ConversationDoc {
    #[serde(rename = "_id")]
    pub id: Bson,
    /// In the order the conversation was created with (Mongoose's field; indexed).
    pub participants: Vec<Bson>,
    #[serde(default)]
    pub context: Document,
    pub identity_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message: Option<LastMessageDoc>,
    pub last_seq: i64,
    /// One per participant, in the order of `participants`.
    pub watermarks: Vec<WatermarkDoc>,
    /// Mongoose's flag, kept for tools that filter on it; always true (deleting hides a
    /// conversation for one user, in `watermarks`).
    pub is_active: bool,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct LastMessageDoc {
    pub text: String,
    pub sender: Bson,
    pub timestamp: DateTime,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WatermarkDoc {
    pub user_id: Bson,
    pub delivered_seq: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<DateTime>,
    pub read_seq: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_at: Option<DateTime>,
    /// The user deleted the conversation when it had this many messages: it stays out of
    /// their list until a newer message arrives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden_through_seq: Option<i64>,
    /// Whether the conversation is out of this user's list now (`lastSeq <= hiddenThroughSeq`),
    /// kept by every write that changes either side, so that listing is one indexed query.
    #[serde(default)]
    pub hidden: bool,
}

impl ConversationDoc {
    pub fn from_domain(c: &Conversation) -> Self {
        Self {
            id: id_to_bson(c.id.as_str()),
            participants: ids_to_bson(c.participant_ids().map(UserId::as_str)),
            context: context_to_bson(&c.context),
            identity_key: c.key(),
            last_message: c.last_message.as_ref().map(|m| LastMessageDoc {
                text: m.text.clone(),
                sender: id_to_bson(m.sender.as_str()),
                timestamp: date(m.at),
            }),
            last_seq: seq_to_db(c.last_seq),
            watermarks: c
                .participants
                .iter()
                .map(|p| WatermarkDoc {
                    user_id: id_to_bson(p.user_id.as_str()),
                    delivered_seq: seq_to_db(p.delivered.seq),
                    delivered_at: opt_date(p.delivered.at),
                    read_seq: seq_to_db(p.read.seq),
                    read_at: opt_date(p.read.at),
                    hidden_through_seq: p.hidden_through.map(seq_to_db),
                    hidden: !c.is_visible_to(&p.user_id),
                })
                .collect(),
            is_active: true,
            created_at: date(c.created_at),
            updated_at: date(c.updated_at),
        }
    }

    pub fn into_domain(self) -> Result<Conversation, StoreError> {
        let id = parse_id!(ConversationId, self.id)?;
        if self.watermarks.len() < 2 {
            return Err(corrupt("conversation without two participants", &id));
        }
        let last_seq = seq_from_db(self.last_seq)?;
        let last_message = match self.last_message {
            Some(m) => Some(LastMessage {
                seq: last_seq,
                text: m.text,
                sender: parse_id!(UserId, m.sender)?,
                at: timestamp(m.timestamp),
            }),
            None => None,
        };
        let participants = self
            .watermarks
            .into_iter()
            .map(|w| {
                Ok(ParticipantState {
                    user_id: parse_id!(UserId, w.user_id)?,
                    delivered: Watermark {
                        seq: seq_from_db(w.delivered_seq)?,
                        at: opt_timestamp(w.delivered_at),
                    },
                    read: Watermark {
                        seq: seq_from_db(w.read_seq)?,
                        at: opt_timestamp(w.read_at),
                    },
                    hidden_through: w.hidden_through_seq.map(seq_from_db).transpose()?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Conversation {
            id,
            participants,
            context: context_from_bson(&self.context)?,
            created_at: timestamp(self.created_at),
            updated_at: timestamp(self.updated_at),
            last_message,
            last_seq,
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct MessageDoc {
    #[serde(rename = "_id")]
    pub id: Bson,
    pub conversation_id: Bson,
    /// Gap-free per conversation: 1, 2, 3, … (unique with `conversationId`).
    pub seq: i64,
    pub sender: Bson,
    pub text: String,
    pub message_type: String,
    #[serde(default)]
    pub attachments: Vec<AttachmentDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_info: Option<CallInfoDoc>,
    #[serde(default)]
    pub is_edited: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<DateTime>,
    /// The sender's idempotency key, when the client gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_key: Option<String>,
    pub created_at: DateTime,
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct AttachmentDoc {
    pub url: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub size: i64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct CallInfoDoc {
    pub call_type: String,
    /// Whole seconds.
    pub duration: i64,
    pub status: String,
}

impl MessageDoc {
    pub fn from_domain(m: &Message) -> Self {
        Self {
            id: id_to_bson(m.id.as_str()),
            conversation_id: id_to_bson(m.conversation_id.as_str()),
            seq: seq_to_db(m.seq),
            sender: id_to_bson(m.sender.as_str()),
            text: m.body.text.clone(),
            message_type: m.body.kind.as_str().to_owned(),
            attachments: m
                .body
                .attachments
                .iter()
                .map(|a| AttachmentDoc {
                    url: a.url.clone(),
                    kind: a.kind.clone(),
                    name: a.name.clone(),
                    size: i64::try_from(a.size).unwrap_or(i64::MAX),
                })
                .collect(),
            call_info: m.body.call.map(|c| CallInfoDoc {
                call_type: c.call_type.as_str().to_owned(),
                duration: i64::from(c.duration_secs),
                status: c.status.as_str().to_owned(),
            }),
            is_edited: m.is_edited(),
            edited_at: opt_date(m.edited_at),
            client_key: m.client_key.as_ref().map(|k| k.as_str().to_owned()),
            created_at: date(m.created_at),
        }
    }

    pub fn into_domain(self) -> Result<Message, StoreError> {
        let kind = message_kind(&self.message_type)?;
        let call = self
            .call_info
            .map(|c| call_info(&c.call_type, c.duration, &c.status))
            .transpose()?;
        let attachments = self
            .attachments
            .into_iter()
            .map(|a| {
                Ok(Attachment {
                    size: u64::try_from(a.size).map_err(|_| corrupt("attachment size", a.size))?,
                    url: a.url,
                    kind: a.kind,
                    name: a.name,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        // Stored content is loaded as it was accepted, not re-validated: limits may have
        // changed since, and history must stay readable.
        let body = MessageBody {
            kind,
            text: self.text,
            attachments,
            call,
        };
        Ok(Message {
            id: parse_id!(MessageId, self.id)?,
            conversation_id: parse_id!(ConversationId, self.conversation_id)?,
            seq: seq_from_db(self.seq)?,
            sender: parse_id!(UserId, self.sender)?,
            body,
            client_key: client_key(self.client_key)?,
            created_at: timestamp(self.created_at),
            edited_at: opt_timestamp(self.edited_at),
        })
    }
}

/// The notification shapes the dialects send (`userId`, `type`, `title`, `message`,
/// `referenceId`, `data`, `isRead`, `delivered`), with the times of reading and delivery.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct NotificationDoc {
    #[serde(rename = "_id")]
    pub id: Bson,
    pub user_id: Bson,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_id: Option<String>,
    #[serde(default)]
    pub data: Bson,
    pub is_read: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_at: Option<DateTime>,
    pub delivered: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<DateTime>,
    /// Which delivery took the notification (see `notifications.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_id: Option<ObjectId>,
    pub created_at: DateTime,
}

impl NotificationDoc {
    pub fn from_domain(n: &Notification) -> Self {
        Self {
            id: id_to_bson(n.id.as_str()),
            user_id: id_to_bson(n.recipient.as_str()),
            kind: n.kind.clone(),
            title: n.title.clone(),
            message: n.message.clone(),
            reference_id: n.reference_id.clone(),
            data: data_to_bson(&n.data),
            is_read: n.read_at.is_some(),
            read_at: opt_date(n.read_at),
            delivered: n.delivered_at.is_some(),
            delivered_at: opt_date(n.delivered_at),
            delivery_id: None,
            created_at: date(n.created_at),
        }
    }

    pub fn into_domain(self) -> Result<Notification, StoreError> {
        Ok(Notification {
            id: parse_id!(NotificationId, self.id)?,
            recipient: parse_id!(UserId, self.user_id)?,
            kind: self.kind,
            title: self.title,
            message: self.message,
            reference_id: self.reference_id,
            data: data_from_bson(self.data)?,
            created_at: timestamp(self.created_at),
            delivered_at: opt_timestamp(self.delivered_at),
            read_at: opt_timestamp(self.read_at),
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct UserDoc {
    #[serde(rename = "_id")]
    pub id: Bson,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_active: Option<DateTime>,
}

impl UserDoc {
    pub fn into_domain(self) -> Result<UserProfile, StoreError> {
        Ok(UserProfile {
            id: parse_id!(UserId, self.id)?,
            name: self.name,
            email: self.email,
            avatar: self.avatar,
            role: self.role.as_deref().and_then(Role::new),
            last_active: opt_timestamp(self.last_active),
        })
    }
}

/// A live call. `parties` (caller and callee) has a unique index: a user already in a call
/// cannot be a party of a second one, which is how "busy" holds across nodes.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct CallDoc {
    #[serde(rename = "_id")]
    pub id: Bson,
    pub conversation_id: Bson,
    pub caller: Bson,
    pub callee: Bson,
    pub call_type: String,
    pub started_at: DateTime,
    /// `ringing` or `active`.
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_at: Option<DateTime>,
    pub parties: Vec<Bson>,
}

/// A call state as its `state` and `acceptedAt` fields.
pub(super) fn call_state_fields(state: CallState) -> (&'static str, Option<DateTime>) {
    let (name, accepted_at) = call_state_to_db(state);
    (name, opt_date(accepted_at))
}

impl CallDoc {
    pub fn from_domain(s: &CallSession) -> Self {
        let (state, accepted_at) = call_state_fields(s.state);
        let mut parties = vec![id_to_bson(s.caller.as_str())];
        if s.callee != s.caller {
            parties.push(id_to_bson(s.callee.as_str()));
        }
        Self {
            id: id_to_bson(s.id.as_str()),
            conversation_id: id_to_bson(s.conversation_id.as_str()),
            caller: id_to_bson(s.caller.as_str()),
            callee: id_to_bson(s.callee.as_str()),
            call_type: s.call_type.as_str().to_owned(),
            started_at: date(s.started_at),
            state: state.to_owned(),
            accepted_at,
            parties,
        }
    }

    pub fn into_domain(self) -> Result<CallSession, StoreError> {
        let state = call_state_from_db(&self.state, opt_timestamp(self.accepted_at))?;
        Ok(CallSession {
            id: parse_id!(CallId, self.id)?,
            conversation_id: parse_id!(ConversationId, self.conversation_id)?,
            caller: parse_id!(UserId, self.caller)?,
            callee: parse_id!(UserId, self.callee)?,
            call_type: call_type(&self.call_type)?,
            started_at: timestamp(self.started_at),
            state,
        })
    }
}
