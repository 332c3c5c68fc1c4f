//! Domain events: everything a client may be told. Each names the users it concerns; the
//! connection hub turns that into connections and each connection's dialect renders it.

use super::call::{CallSession, FinishedCall};
use super::conversation::ConversationContext;
use super::data::DataValue;
use super::ids::{ConversationId, MessageId, NotificationId, UserId};
use super::message::Message;
use super::notification::Notification;
use super::presence::PresenceChange;
use super::receipts::{MessageReceipt, ReadMark};
use super::typing::TypingChange;
use super::user::UserProfile;

/// A WebRTC signaling payload (SDP offer/answer, ICE candidate), relayed untouched.
pub type Signal = DataValue;

// Events are built once per change and shared behind an `Arc` by the bus, so the size of
// the largest variant costs one allocation per change, not a copy per receiver.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum DomainEvent {
    MessagePosted {
        participants: Vec<UserId>,
        message: Message,
        receipt: MessageReceipt,
        sender: UserProfile,
        /// The conversation's context keys: some dialects derive fields from them (the
        /// sender's role from who the context names as which party).
        context: ConversationContext,
        /// Recipients not viewing the conversation, who get a chat alert.
        alert: Vec<UserId>,
    },
    MessageEdited {
        participants: Vec<UserId>,
        message: Message,
    },
    MessagesDelivered {
        participants: Vec<UserId>,
        mark: ReadMark,
    },
    MessagesRead {
        participants: Vec<UserId>,
        mark: ReadMark,
        /// Set when one message was marked read (the mark moved up to it).
        message_id: Option<MessageId>,
    },
    ConversationJoined {
        participants: Vec<UserId>,
        conversation_id: ConversationId,
        user_id: UserId,
    },
    NotificationCreated(Notification),
    NotificationsRead {
        user_id: UserId,
        /// `None` when all of the user's notifications were marked read.
        notification_id: Option<NotificationId>,
    },
    PresenceChanged {
        change: PresenceChange,
        /// Users who share a conversation with the user: the only ones told.
        contacts: Vec<UserId>,
    },
    TypingChanged {
        participants: Vec<UserId>,
        change: TypingChange,
        user_name: Option<String>,
    },
    CallRinging {
        call: CallSession,
        offer: Signal,
    },
    CallAccepted {
        call: CallSession,
        answer: Signal,
    },
    /// The callee was already in a call; only the caller is told.
    CallBusy {
        call: CallSession,
    },
    CallDeclined {
        finished: FinishedCall,
    },
    CallEnded {
        finished: FinishedCall,
    },
    CallSignal {
        call: CallSession,
        from: UserId,
        to: UserId,
        payload: Signal,
    },
}
