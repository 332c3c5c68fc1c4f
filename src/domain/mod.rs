//! The domain core: entities and the rules that decide what happens to them.
//!
//! Everything here is synchronous and pure: no I/O, no async runtime, no serialization
//! framework, no framework types. Functions take values (including the current time) and
//! return decisions; the use cases in `crate::app` load and persist around them.

pub mod call;
pub mod conversation;
pub mod data;
pub mod events;
pub mod ids;
pub mod legacy_reads;
pub mod message;
pub mod notification;
pub mod policy;
pub mod presence;
pub mod receipts;
pub mod time;
pub mod typing;
pub mod user;

pub use call::{
    CallError, CallOutcome, CallSession, CallState, CallType, EndReason, FinishedCall, LineState,
};
pub use conversation::{
    CHOSEN_ID_KEY, Conversation, ConversationContext, ConversationError, LastMessage, MarkKind,
    ParticipantState,
};
pub use data::DataValue;
pub use events::{DomainEvent, Signal};
pub use ids::{CallId, ConversationId, IdError, MessageId, NotificationId, Seq, UserId};
pub use legacy_reads::{DerivedMarks, FlaggedMessage, LegacyRead, ReadFold};
pub use message::{
    Attachment, CallInfo, ClientKey, Message, MessageBody, MessageError, MessageKind, MessageRules,
    NewMessage,
};
pub use notification::{NewNotification, Notification, NotificationError};
pub use policy::{ConversationPolicy, PolicyError};
pub use presence::{PresenceChange, PresenceState, PresenceTransition};
pub use receipts::{MessageReceipt, ReadMark, Watermark};
pub use time::Timestamp;
pub use typing::{TypingBoard, TypingChange};
pub use user::{Identity, Role, UserProfile};
