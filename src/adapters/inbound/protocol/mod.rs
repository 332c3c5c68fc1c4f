//! What every dialect and transport shares: the `Dialect` trait, the requests a connection
//! can make, the shapes of answers and deliveries, and the argument readers.

pub mod args;
pub mod dialect;
pub mod requests;
pub mod wire;

pub use dialect::{Dialect, Handshake, IdentifyEvent, IdentityMode, SessionView};
pub use requests::{
    BindConversation, DeliverPending, HistoryPage, HistoryWindow, JoinConversation,
    LeaveConversation, MarkMessageRead, MessageRead, ReadHistory, SendMessage, SetTyping,
    SubscribeNotifications,
};
pub use wire::{Audience, Delivery, Emit, Reply, WireError};
