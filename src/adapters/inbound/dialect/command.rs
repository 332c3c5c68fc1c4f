//! The shared vocabulary between codecs and the session: what a client asks for
//! ([`Command`]) and what the core answered ([`Outcome`]). Every dialect maps its events
//! onto these, so a new dialect adds rows to a table, not new core operations.

use crate::app::messages::History;
use crate::domain::{Conversation, ConversationId, Message, MessageId, Notification, UserId};
use crate::ports::Page;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Join a conversation's room: its events reach this connection; the user is viewing it.
    Join(ConversationId),
    /// Join, and make it the connection's own conversation (quickclinic's relation).
    Bind(ConversationId),
    Leave(ConversationId),
    Post {
        conversation: ConversationId,
        text: String,
    },
    History {
        conversation: ConversationId,
        window: HistoryWindow,
    },
    SubscribeNotifications,
    /// Push the user's pending notifications to this connection; they become delivered.
    DeliverPending,
    Typing {
        conversation: ConversationId,
        typing: bool,
    },
    MarkMessageRead(MessageId),
}

/// How a client pages history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryWindow {
    /// `skip` counts back from the newest message.
    Skip { limit: u32, skip: u64 },
    /// Page 1 holds the newest `limit` messages.
    Numbered { page: u32, limit: u32 },
}

impl HistoryWindow {
    pub fn page(self) -> Page {
        match self {
            Self::Skip { limit, skip } => Page::new(limit, skip),
            Self::Numbered { page, limit } => Page::numbered(page, limit),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Joined(Conversation),
    Bound(Conversation),
    Left(ConversationId),
    Posted(Message),
    History {
        history: History,
        window: HistoryWindow,
    },
    Subscribed,
    Pending(Vec<Notification>),
    Typing,
    MessageRead {
        message: Message,
        by: UserId,
    },
}
