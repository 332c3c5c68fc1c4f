//! What every dialect and transport shares: the `Dialect` trait, the requests a connection
//! can make, the shapes of answers and deliveries, and the argument readers.

pub mod args;
pub mod dialect;
pub mod requests;
pub mod wire;

pub use dialect::{Dialect, Handshake, IdentifyEvent, IdentityMode, SessionView};
pub use requests::{
    AcceptCall, AnnounceOnline, BindConversation, ConversationRead, CountUnreadNotifications,
    DeclineCall, DeliverPending, EditMessage, HangUp, HideConversation, HistoryPage, HistoryWindow,
    JoinConversation, LeaveConversation, ListConversations, ListNotifications,
    MarkAllNotificationsRead, MarkConversationDelivered, MarkConversationRead, MarkMessageRead,
    MarkNotificationRead, MessageRead, OnlineStatusOf, OpenConversation, OpenedConversation,
    PlaceCall, ReadHistory, ReadSeqRange, RelaySignal, Resume, Resumed, ResumedConversation,
    SendMessage, SeqRange, SetOnline, SetTyping, SubscribeNotifications, UserStatus,
};
pub use wire::{Audience, Delivery, Emit, ErrorCode, Position, Reply, WireError};
