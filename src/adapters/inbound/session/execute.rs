//! How the session runs each kind of request: the use case it calls and the connection
//! state it keeps (joined rooms, the bound conversation).

use async_trait::async_trait;

use super::{Request, Session};
use crate::adapters::inbound::protocol::{
    AcceptCall, AnnounceOnline, BindConversation, ConversationRead, CountUnreadNotifications,
    DeclineCall, DeliverPending, EditMessage, Emit, HangUp, HideConversation, HistoryPage,
    JoinConversation, LeaveConversation, ListConversations, ListNotifications,
    MarkAllNotificationsRead, MarkConversationDelivered, MarkConversationRead, MarkMessageRead,
    MarkNotificationRead, MessageRead, OnlineStatusOf, OpenConversation, OpenedConversation,
    PlaceCall, ReadHistory, ReadSeqRange, RelaySignal, Resume, Resumed, ResumedConversation,
    SendMessage, SeqRange, SetOnline, SetTyping, SubscribeNotifications, UserStatus, WireError,
};
use crate::app::{History, Posted, Requester};
use crate::domain::call::FinishedCall;
use crate::domain::{CallSession, Conversation, ConversationId, Message, Notification};
use crate::ports::Page;

/// How many pending notifications `DeliverPending` takes at a time: a backlog of any size
/// goes out in batches of this size, each taken once the previous one is queued.
const PENDING_BATCH: usize = 100;

#[async_trait]
impl Request for JoinConversation {
    type Output = Conversation;

    async fn run(self, session: &mut Session) -> Result<Conversation, WireError> {
        session.join(&self.0).await
    }
}

#[async_trait]
impl Request for BindConversation {
    type Output = Conversation;

    async fn run(self, session: &mut Session) -> Result<Conversation, WireError> {
        let conversation = session.join(&self.0).await?;
        session.bound = Some(conversation.clone());
        Ok(conversation)
    }
}

#[async_trait]
impl Request for LeaveConversation {
    type Output = ConversationId;

    async fn run(self, session: &mut Session) -> Result<ConversationId, WireError> {
        let id = self.0;
        if session.joined.contains(&id) {
            session.ctx.listener.leave(session.conn, &id);
            session.joined.retain(|j| j != &id);
            let origin = session.origin();
            session
                .ctx
                .use_cases
                .leave_conversation(&origin, &id)
                .await?;
        }
        Ok(id)
    }
}

#[async_trait]
impl Request for SendMessage {
    type Output = Posted;

    async fn run(self, session: &mut Session) -> Result<Posted, WireError> {
        let actor = session.actor()?;
        Ok(session.ctx.use_cases.post_message(actor, self.0).await?)
    }
}

#[async_trait]
impl Request for ReadHistory {
    type Output = HistoryPage;

    async fn run(self, session: &mut Session) -> Result<HistoryPage, WireError> {
        let user = session.actor()?.id();
        let history = session
            .ctx
            .use_cases
            .history(user, &self.conversation, self.window.page())
            .await?;
        Ok(HistoryPage {
            history,
            window: self.window,
        })
    }
}

#[async_trait]
impl Request for SubscribeNotifications {
    type Output = ();

    async fn run(self, session: &mut Session) -> Result<(), WireError> {
        // Notifications reach every connection of the user; asking only needs an identity.
        session.actor()?;
        Ok(())
    }
}

/// Each batch is marked delivered as it is taken, sent straight to the connection, and
/// given back if the connection closes before the transport has queued it: nothing is
/// marked delivered that was not queued, and a backlog larger than any buffer goes out whole.
#[async_trait]
impl Request for DeliverPending {
    type Output = usize;

    async fn run(self, session: &mut Session) -> Result<usize, WireError> {
        let user = session.actor()?.id().clone();
        let use_cases = session.ctx.use_cases.clone();
        let mut delivered = 0;
        loop {
            let batch = use_cases
                .take_pending_notifications(&user, PENDING_BATCH)
                .await?;
            for notification in &batch {
                let Emit { event, payload } = (self.render)(notification);
                match serde_json::value::to_raw_value(&payload) {
                    Ok(raw) => session.sink.send(event, &raw),
                    Err(e) => tracing::error!(error = %e, event, "notification not encodable"),
                }
            }
            if !session.sink.settled().await {
                let taken: Vec<_> = batch.iter().map(|n| n.id.clone()).collect();
                if let Err(e) = use_cases.release_notifications(&taken).await {
                    tracing::warn!(error = %e, %user, "taken notifications not given back");
                }
                return Err(WireError::new(
                    "the connection closed before its notifications were queued",
                ));
            }
            delivered += batch.len();
            if batch.len() < PENDING_BATCH {
                return Ok(delivered);
            }
        }
    }
}

#[async_trait]
impl Request for SetTyping {
    type Output = ();

    async fn run(self, session: &mut Session) -> Result<(), WireError> {
        let actor = session.actor()?;
        session
            .ctx
            .use_cases
            .set_typing(actor, &self.conversation, self.typing)
            .await?;
        Ok(())
    }
}

#[async_trait]
impl Request for MarkMessageRead {
    type Output = MessageRead;

    async fn run(self, session: &mut Session) -> Result<MessageRead, WireError> {
        let actor = session.actor()?;
        let (message, _) = session
            .ctx
            .use_cases
            .mark_message_read(actor, &self.0)
            .await?;
        Ok(MessageRead {
            message,
            by: actor.id().clone(),
        })
    }
}

#[async_trait]
impl Request for MarkConversationRead {
    type Output = ConversationRead;

    async fn run(self, session: &mut Session) -> Result<ConversationRead, WireError> {
        let actor = session.actor()?;
        let mark = session
            .ctx
            .use_cases
            .mark_conversation_read(actor, &self.0)
            .await?;
        Ok(ConversationRead {
            conversation: self.0,
            by: actor.id().clone(),
            moved: mark.is_some(),
        })
    }
}

#[async_trait]
impl Request for OnlineStatusOf {
    type Output = UserStatus;

    async fn run(self, session: &mut Session) -> Result<UserStatus, WireError> {
        session.actor()?;
        let status = session.ctx.use_cases.online_status(&self.0).await?;
        Ok(UserStatus {
            user: self.0,
            status,
        })
    }
}

#[async_trait]
impl Request for SetOnline {
    type Output = UserStatus;

    async fn run(self, session: &mut Session) -> Result<UserStatus, WireError> {
        let actor = session.actor()?;
        let status = session.ctx.use_cases.set_online(actor, self.0).await?;
        Ok(UserStatus {
            user: actor.id().clone(),
            status,
        })
    }
}

#[async_trait]
impl Request for MarkNotificationRead {
    type Output = Notification;

    async fn run(self, session: &mut Session) -> Result<Notification, WireError> {
        let user = session.actor()?.id();
        Ok(session
            .ctx
            .use_cases
            .mark_notification_read(user, &self.0)
            .await?)
    }
}

#[async_trait]
impl Request for MarkAllNotificationsRead {
    type Output = u64;

    async fn run(self, session: &mut Session) -> Result<u64, WireError> {
        let user = session.actor()?.id();
        Ok(session
            .ctx
            .use_cases
            .mark_all_notifications_read(user)
            .await?)
    }
}

#[async_trait]
impl Request for CountUnreadNotifications {
    type Output = u64;

    async fn run(self, session: &mut Session) -> Result<u64, WireError> {
        let user = session.actor()?.id();
        Ok(session.ctx.use_cases.unread_notifications(user).await?)
    }
}

#[async_trait]
impl Request for AnnounceOnline {
    type Output = ();

    async fn run(self, session: &mut Session) -> Result<(), WireError> {
        let actor = session.actor()?;
        Ok(session.ctx.use_cases.announce_online(actor).await?)
    }
}

#[async_trait]
impl Request for PlaceCall {
    type Output = CallSession;

    async fn run(self, session: &mut Session) -> Result<CallSession, WireError> {
        let actor = session.actor()?;
        Ok(session
            .ctx
            .use_cases
            .place_call(
                actor,
                &self.conversation,
                &self.callee,
                self.call_type,
                self.offer,
            )
            .await?)
    }
}

#[async_trait]
impl Request for AcceptCall {
    type Output = CallSession;

    async fn run(self, session: &mut Session) -> Result<CallSession, WireError> {
        let actor = session.actor()?;
        Ok(session
            .ctx
            .use_cases
            .accept_call(actor, self.answer)
            .await?)
    }
}

#[async_trait]
impl Request for DeclineCall {
    type Output = FinishedCall;

    async fn run(self, session: &mut Session) -> Result<FinishedCall, WireError> {
        let actor = session.actor()?;
        Ok(session.ctx.use_cases.decline_call(actor).await?)
    }
}

#[async_trait]
impl Request for HangUp {
    type Output = FinishedCall;

    async fn run(self, session: &mut Session) -> Result<FinishedCall, WireError> {
        let actor = session.actor()?;
        Ok(session.ctx.use_cases.hang_up(actor).await?)
    }
}

#[async_trait]
impl Request for RelaySignal {
    type Output = ();

    async fn run(self, session: &mut Session) -> Result<(), WireError> {
        let actor = session.actor()?;
        Ok(session
            .ctx
            .use_cases
            .relay_signal(actor, &self.to, self.payload)
            .await?)
    }
}

#[async_trait]
impl Request for OpenConversation {
    type Output = OpenedConversation;

    async fn run(self, session: &mut Session) -> Result<OpenedConversation, WireError> {
        let requester = Requester::User(session.actor()?.id().clone());
        let (conversation, created) = session
            .ctx
            .use_cases
            .open_conversation(&requester, self.participants, self.context)
            .await?;
        Ok(OpenedConversation {
            conversation,
            created,
        })
    }
}

#[async_trait]
impl Request for ListConversations {
    type Output = Vec<Conversation>;

    async fn run(self, session: &mut Session) -> Result<Vec<Conversation>, WireError> {
        let user = session.actor()?.id();
        Ok(session
            .ctx
            .use_cases
            .list_conversations(user, self.0)
            .await?)
    }
}

#[async_trait]
impl Request for HideConversation {
    type Output = ConversationId;

    async fn run(self, session: &mut Session) -> Result<ConversationId, WireError> {
        let user = session.actor()?.id();
        session
            .ctx
            .use_cases
            .hide_conversation(user, &self.0)
            .await?;
        Ok(self.0)
    }
}

#[async_trait]
impl Request for EditMessage {
    type Output = Message;

    async fn run(self, session: &mut Session) -> Result<Message, WireError> {
        let actor = session.actor()?;
        Ok(session
            .ctx
            .use_cases
            .edit_message(actor, &self.message, self.text)
            .await?)
    }
}

#[async_trait]
impl Request for ReadSeqRange {
    type Output = History;

    async fn run(self, session: &mut Session) -> Result<History, WireError> {
        let user = session.actor()?.id();
        let use_cases = &session.ctx.use_cases;
        Ok(match self.range {
            SeqRange::After(seq) => {
                use_cases
                    .catch_up(user, &self.conversation, seq, self.limit)
                    .await?
            }
            SeqRange::Before(seq) => {
                use_cases
                    .history_before(user, &self.conversation, seq, self.limit)
                    .await?
            }
        })
    }
}

#[async_trait]
impl Request for MarkConversationDelivered {
    type Output = ConversationRead;

    async fn run(self, session: &mut Session) -> Result<ConversationRead, WireError> {
        let actor = session.actor()?;
        let mark = session
            .ctx
            .use_cases
            .mark_conversation_delivered(actor, &self.0)
            .await?;
        Ok(ConversationRead {
            conversation: self.0,
            by: actor.id().clone(),
            moved: mark.is_some(),
        })
    }
}

#[async_trait]
impl Request for ListNotifications {
    type Output = Vec<Notification>;

    async fn run(self, session: &mut Session) -> Result<Vec<Notification>, WireError> {
        let user = session.actor()?.id();
        Ok(session
            .ctx
            .use_cases
            .list_notifications(user, self.0)
            .await?)
    }
}

/// Reads what came after each seq the client holds, in pages, until the resume's limit: a
/// count of messages, and half the connection's outbound byte budget (the replay is queued at
/// once, and must not cut the client off as a slow reader). A conversation the user may not
/// see (or that the store cannot read now) is reported with its error, and the others are
/// resumed all the same. The sink learns what is sent, so the live copies of these messages
/// that arrive meanwhile are skipped.
#[async_trait]
impl Request for Resume {
    type Output = Resumed;

    async fn run(self, session: &mut Session) -> Result<Resumed, WireError> {
        let user = session.actor()?.id().clone();
        let use_cases = session.ctx.use_cases.clone();
        let mut budget = ReplayBudget {
            messages: self.limit,
            bytes: session.ctx.limits.outbound_buffer_bytes / 2,
        };
        let mut conversations = Vec::with_capacity(self.after.len());
        for (id, after) in self.after {
            let mut messages: Vec<Message> = Vec::new();
            let mut from = after;
            let outcome = loop {
                let want = budget.messages.min(Page::MAX_LIMIT as usize).max(1);
                let page = match use_cases
                    .catch_up(&user, &id, from, u32::try_from(want).unwrap_or(1))
                    .await
                {
                    Ok(page) => page,
                    Err(e) => break Err(WireError::from(e)),
                };
                let fetched = page.messages.len();
                for message in page.messages {
                    if !budget.take(&message) {
                        break;
                    }
                    from = message.seq;
                    messages.push(message);
                }
                if from >= page.conversation.last_seq || budget.spent() || fetched < want {
                    break Ok(page.conversation);
                }
            };
            let entry = match outcome {
                Ok(conversation) => {
                    if let Some(last) = messages.last() {
                        session.sink.sent_up_to(&(id.clone(), last.seq));
                    }
                    ResumedConversation {
                        id,
                        after,
                        complete: from >= conversation.last_seq,
                        outcome: Ok((conversation, messages)),
                    }
                }
                Err(error) => ResumedConversation {
                    id,
                    after,
                    outcome: Err(error),
                    complete: false,
                },
            };
            conversations.push(entry);
        }
        Ok(Resumed { conversations })
    }
}

/// What a resume may still send.
struct ReplayBudget {
    messages: usize,
    bytes: usize,
}

impl ReplayBudget {
    /// Room for the framing and fields around a message's text and attachments.
    const PER_MESSAGE: usize = 512;

    /// Takes a message if there is room for it.
    fn take(&mut self, message: &Message) -> bool {
        let body = &message.body;
        let size = Self::PER_MESSAGE
            + body.text.len()
            + body
                .attachments
                .iter()
                .map(|a| a.url.len() + a.name.len() + a.kind.len() + 64)
                .sum::<usize>();
        if self.messages == 0 || size > self.bytes {
            self.messages = 0;
            return false;
        }
        self.messages -= 1;
        self.bytes -= size;
        true
    }

    fn spent(&self) -> bool {
        self.messages == 0
    }
}

impl Session {
    /// Joins a conversation's room once per connection. The participant check comes first,
    /// the room next (so nothing posted after the join is missed), the use case last.
    async fn join(&mut self, id: &ConversationId) -> Result<Conversation, WireError> {
        let actor = self.actor()?;
        let use_cases = &self.ctx.use_cases;
        if self.joined.contains(id) {
            return Ok(use_cases.conversation_for(actor.id(), id).await?);
        }
        use_cases.conversation_for(actor.id(), id).await?;
        self.ctx.listener.join(self.conn, id);
        match use_cases.join_conversation(actor, &self.origin(), id).await {
            Ok(conversation) => {
                self.joined.push(id.clone());
                Ok(conversation)
            }
            Err(e) => {
                self.ctx.listener.leave(self.conn, id);
                Err(e.into())
            }
        }
    }
}
