//! What every dialect and transport shares: the `Dialect` trait, the requests a connection
//! can make, the shapes of answers and deliveries, and the argument readers.

pub mod args;
pub mod dialect;
pub mod requests;
pub mod wire;

pub use dialect::{Dialect, Handshake, IdentifyEvent, IdentityMode, SessionView};
pub use requests::{
    AcceptCall, AnnounceOnline, BindConversation, ConversationRead, CountUnreadNotifications,
    DeclineCall, DeliverPending, HangUp, HistoryPage, HistoryWindow, JoinConversation,
    LeaveConversation, MarkAllNotificationsRead, MarkConversationRead, MarkMessageRead,
    MarkNotificationRead, MessageRead, OnlineStatusOf, PlaceCall, ReadHistory, RelaySignal,
    SendMessage, SetOnline, SetTyping, SubscribeNotifications, UserStatus,
};
pub use wire::{Audience, Delivery, Emit, Reply, WireError};
