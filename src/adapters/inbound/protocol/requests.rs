//! What a connection can ask the core for, one type per kind of request, each with the
//! result its reply is rendered from (`Request::Output`, implemented in
//! `crate::adapters::inbound::session::execute`). Dialects decode their events into these; a
//! new kind of request is a type here and its `run` there, and only the dialects that use it
//! change.

use super::Emit;
use crate::app::{History, OnlineStatus, PostMessage};
use crate::domain::{
    CallType, Conversation, ConversationContext, ConversationId, Message, MessageId, Notification,
    NotificationId, Seq, Signal, UserId,
};
use crate::ports::Page;

/// Join a conversation's room: its events reach this connection; the user is viewing it.
/// Output: the conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinConversation(pub ConversationId);

/// Join, and make it the connection's own conversation, which later requests may refer to
/// without naming it (see `SessionView::bound_id`). Output: the conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindConversation(pub ConversationId);

/// Leave a joined conversation's room (nothing happens for one not joined). Output: its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaveConversation(pub ConversationId);

/// Post a message, as the client sent it (the use case validates it). Output: the stored
/// message with its conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendMessage(pub PostMessage);

/// A page of a conversation's history. Output: a [`HistoryPage`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadHistory {
    pub conversation: ConversationId,
    pub window: HistoryWindow,
}

/// Ask to be told about notifications (they reach every connection of the user anyway).
/// Output: nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscribeNotifications;

/// Push the user's pending notifications to this connection, each as `render` makes it;
/// they become delivered. Output: how many were pushed.
#[derive(Debug, Clone)]
pub struct DeliverPending {
    pub render: fn(&Notification) -> Emit,
}

/// Start or stop typing in a conversation. Output: nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetTyping {
    pub conversation: ConversationId,
    pub typing: bool,
}

/// Mark one message (and so everything before it) read. Output: a [`MessageRead`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkMessageRead(pub MessageId);

/// Mark everything in a conversation read. Output: a [`ConversationRead`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkConversationRead(pub ConversationId);

/// A user's online status (anyone's may be asked). Output: a [`UserStatus`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnlineStatusOf(pub UserId);

/// Set oneself online or offline (the manual switch). Output: a [`UserStatus`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetOnline(pub bool);

/// Mark one of one's notifications read. Output: the notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkNotificationRead(pub NotificationId);

/// Mark all of one's notifications read. Output: how many were unread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkAllNotificationsRead;

/// Count one's unread notifications. Output: the count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountUnreadNotifications;

/// Tell one's contacts again that one is online (clients that re-announce themselves after
/// reconnecting). Output: nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnounceOnline;

/// Call the other participant of a conversation (the offer is relayed, never stored).
/// Output: the call (ringing, or finished at once when the callee is busy).
#[derive(Debug, Clone, PartialEq)]
pub struct PlaceCall {
    pub conversation: ConversationId,
    pub callee: UserId,
    pub call_type: CallType,
    pub offer: Signal,
}

/// Answer one's ringing call. Output: the call, now active.
#[derive(Debug, Clone, PartialEq)]
pub struct AcceptCall {
    pub answer: Signal,
}

/// Refuse one's ringing call. Output: the finished call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclineCall;

/// Hang up one's live call (before an answer: cancelled). Output: the finished call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HangUp;

/// Relay a signaling payload (an ICE candidate) to the other party of one's live call.
/// Output: nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct RelaySignal {
    pub to: UserId,
    pub payload: Signal,
}

/// Get or create the conversation of these participants (the requester among them) and
/// context. Output: an [`OpenedConversation`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenConversation {
    pub participants: Vec<UserId>,
    pub context: ConversationContext,
}

/// What `OpenConversation` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedConversation {
    pub conversation: Conversation,
    pub created: bool,
}

/// A page of one's visible conversations, newest activity first. Output: the conversations
/// (each knows its unread count for the user: `Conversation::unread_for`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListConversations(pub Page);

/// Hide a conversation from one's list until a newer message arrives. Output: its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HideConversation(pub ConversationId);

/// Change the text of one's own message. Output: the edited message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditMessage {
    pub message: MessageId,
    pub text: String,
}

/// Messages of a conversation by seq: after one seq (oldest first, what a client that has
/// everything up to it is missing), or the newest before one (paging back). Output: the
/// messages with their conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadSeqRange {
    pub conversation: ConversationId,
    pub range: SeqRange,
    pub limit: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqRange {
    /// Seqs above this one, the oldest first.
    After(Seq),
    /// The newest seqs below this one.
    Before(Seq),
}

/// Mark everything in a conversation delivered to oneself. Output: a [`ConversationRead`]
/// (`moved` says whether the delivered mark moved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkConversationDelivered(pub ConversationId);

/// A page of one's notifications, newest first. Output: the notifications.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListNotifications(pub Page);

/// What a reconnecting client has: per conversation, the last seq it holds. The session
/// gathers what came after each (at most `limit` messages in all, and no more than half the
/// connection's outbound byte budget), tells the connection's sink what it is being sent
/// (`ConnectionSink::sent_up_to`), and the dialect sends it before any live event. Output: a
/// [`Resumed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resume {
    pub after: Vec<(ConversationId, Seq)>,
    pub limit: usize,
}

/// What `Resume` answers: per conversation asked for, what was missed, or why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resumed {
    pub conversations: Vec<ResumedConversation>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumedConversation {
    pub id: ConversationId,
    /// The seq the client had.
    pub after: Seq,
    /// The conversation now (its marks are the receipts that changed meanwhile), with the
    /// messages after `after` in seq order; or why it could not be resumed.
    pub outcome: Result<(Conversation, Vec<Message>), super::WireError>,
    /// Whether every message after `after` is in `messages` (false when the resume's limit
    /// cut it short: the client pages the rest with a seq range).
    pub complete: bool,
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

/// What `ReadHistory` answers: the page and how it was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryPage {
    pub history: History,
    pub window: HistoryWindow,
}

/// What `MarkMessageRead` answers: the message and who read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRead {
    pub message: Message,
    pub by: UserId,
}

/// What `MarkConversationRead` answers: the conversation, who read it, and whether their
/// read mark moved (it does not when everything was read already).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationRead {
    pub conversation: ConversationId,
    pub by: UserId,
    pub moved: bool,
}

/// What `OnlineStatusOf` and `SetOnline` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserStatus {
    pub user: UserId,
    pub status: OnlineStatus,
}
