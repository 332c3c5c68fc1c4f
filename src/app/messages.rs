//! Message use cases: post, edit, history and catch-up, delivered and read marks.

use std::collections::HashSet;

use crate::domain::notification::chat_alert_recipients;
use crate::domain::{
    Attachment, CallInfo, ClientKey, Conversation, ConversationId, DomainEvent, MarkKind, Message,
    MessageBody, MessageId, MessageKind, NewMessage, ReadMark, Seq, UserId, UserProfile,
};
use crate::ports::{ConnectionRef, Page};

use super::error::{AppError, AppResult};
use super::profiles::ProfileBook;
use super::use_cases::{Actor, UseCases};

/// A request to post a message, as the client sent it: `post_message` validates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostMessage {
    pub conversation_id: ConversationId,
    pub kind: MessageKind,
    pub text: String,
    pub attachments: Vec<Attachment>,
    /// What a call message records (`kind` is then `Call`).
    pub call: Option<CallInfo>,
    /// The client's idempotency key: a resend with the same key is the same message.
    pub client_key: Option<String>,
    /// The peer of a chat the client names itself: when the conversation does not exist, it
    /// is created under the requested id between the sender and this peer; when it does, the
    /// peer must take part in it.
    pub open_with: Option<UserId>,
}

impl PostMessage {
    /// A text message to an existing conversation.
    pub fn text(conversation_id: ConversationId, text: impl Into<String>) -> Self {
        Self {
            conversation_id,
            kind: MessageKind::Text,
            text: text.into(),
            attachments: Vec::new(),
            call: None,
            client_key: None,
            open_with: None,
        }
    }
}

/// A stored message and the conversation it went to (as it was before the message), for
/// answers that show conversation details (a participant's role in it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    pub message: Message,
    pub conversation: Conversation,
}

/// A page of history with the conversation it belongs to (for receipts and totals).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History {
    pub conversation: Conversation,
    pub messages: Vec<Message>,
}

impl History {
    /// Messages in the conversation; seqs are gap-free, so the newest seq is the count.
    pub fn total(&self) -> u64 {
        self.conversation.last_seq.0
    }
}

impl UseCases {
    /// Posts a message: content rules, participant and policy checks, persist, then
    /// announce. Everything that can refuse or fail happens before the write; after it, the
    /// sender gets the stored message and the others are told, whatever else fails. A
    /// resent message (same client key) returns the stored one and is not announced again.
    pub async fn post_message(&self, actor: &Actor, request: PostMessage) -> AppResult<Posted> {
        let body = MessageBody::new(
            request.kind,
            request.text,
            request.attachments,
            request.call,
            &self.rules.messages,
        )?;
        let client_key = request.client_key.map(ClientKey::new).transpose()?;
        let conversation = match &request.open_with {
            Some(peer) => {
                self.conversation_or_create(actor.id(), &request.conversation_id, peer)
                    .await?
            }
            None => self.load_conversation(&request.conversation_id).await?,
        };
        let id = self.new_id(MessageId::parse)?;
        let now = self.ports.clock.now();
        let new = NewMessage::compose(&conversation, actor.id(), body, client_key, id, now)?;
        self.check_policy(&conversation, &actor.profile).await?;
        let appended = self.ports.stores.messages.append(&new).await?;
        if appended.duplicate {
            tracing::debug!(message = %appended.message.id, "resent message recognised by its client key");
        } else {
            self.announce_posted(
                conversation.clone(),
                &appended.message,
                actor.profile.clone(),
                actor.origin.clone(),
            )
            .await;
        }
        Ok(Posted {
            message: appended.message,
            conversation,
        })
    }

    async fn conversation_or_create(
        &self,
        sender: &UserId,
        id: &ConversationId,
        peer: &UserId,
    ) -> AppResult<Conversation> {
        if let Some(existing) = self.ports.stores.conversations.get(id).await? {
            if existing.is_participant(sender) && !existing.is_participant(peer) {
                return Err(AppError::Forbidden(
                    "the recipient is not a participant of this conversation".into(),
                ));
            }
            return Ok(existing);
        }
        let candidate = Conversation::named(
            id.clone(),
            vec![sender.clone(), peer.clone()],
            self.ports.clock.now(),
        )?;
        let (conversation, _) = self
            .ports
            .stores
            .conversations
            .get_or_create(&candidate)
            .await?;
        Ok(conversation)
    }

    pub(super) async fn check_policy(
        &self,
        conversation: &Conversation,
        sender: &UserProfile,
    ) -> AppResult<()> {
        if self.rules.policy.is_open() {
            return Ok(());
        }
        let others: Vec<UserId> = conversation.others(&sender.id).cloned().collect();
        let profiles = self.ports.stores.users.get_many(&others).await?;
        let role_of = |user: &UserId| {
            if user == &sender.id {
                sender.role.as_ref()
            } else {
                profiles
                    .iter()
                    .find(|p| &p.id == user)
                    .and_then(|p| p.role.as_ref())
            }
        };
        Ok(self
            .rules
            .policy
            .check_post(conversation, &sender.id, role_of)?)
    }

    /// Announces a stored message with its receipt and the chat-alert recipients. The
    /// message is stored, so this cannot fail: when who is viewing cannot be found out, every
    /// recipient gets the chat alert (one alert too many beats a silent message).
    pub(super) async fn announce_posted(
        &self,
        mut conversation: Conversation,
        message: &Message,
        sender: UserProfile,
        origin: Option<ConnectionRef>,
    ) {
        conversation.apply_posted(message);
        // A set: in a 1,000-member room where everyone is viewing, a list made this
        // quadratic (half a million id comparisons per message).
        let mut viewing = HashSet::new();
        for other in conversation.others(&message.sender) {
            match self
                .ports
                .presence
                .is_viewing(other, &conversation.id)
                .await
            {
                Ok(true) => {
                    viewing.insert(other);
                }
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(error = %e, message = %message.id, "viewing unknown; alerting every recipient");
                    viewing.clear();
                    break;
                }
            }
        }
        let alert = chat_alert_recipients(&conversation, &message.sender, |u| viewing.contains(u));
        let event = DomainEvent::MessagePosted {
            participants: conversation.participant_ids().cloned().collect(),
            receipt: conversation.receipt_for(message),
            message: message.clone(),
            sender,
            context: conversation.context.clone(),
            alert,
        };
        self.publish(event, origin).await;
    }

    /// Edits a message's text (sender only).
    pub async fn edit_message(
        &self,
        actor: &Actor,
        id: &MessageId,
        text: String,
    ) -> AppResult<Message> {
        let message = self
            .ports
            .stores
            .messages
            .get(id)
            .await?
            .ok_or_else(|| AppError::not_found("message"))?;
        let conversation = self
            .conversation_for(actor.id(), &message.conversation_id)
            .await?;
        let edited = message.decide_edit(
            actor.id(),
            text,
            &self.rules.messages,
            self.ports.clock.now(),
        )?;
        self.ports.stores.messages.save_edit(&edited).await?;
        let event = DomainEvent::MessageEdited {
            participants: conversation.participant_ids().cloned().collect(),
            message: edited.clone(),
        };
        self.publish(event, actor.origin.clone()).await;
        Ok(edited)
    }

    /// A page of history, oldest first within the page, with the senders' profiles.
    pub async fn history_with_profiles(
        &self,
        actor: &Actor,
        id: &ConversationId,
        page: Page,
    ) -> AppResult<(History, ProfileBook)> {
        let history = self.history(actor.id(), id, page).await?;
        let senders = history.messages.iter().map(|m| m.sender.clone()).collect();
        let book = self.profile_book(actor, senders).await?;
        Ok((history, book))
    }

    /// A page of history, oldest first within the page.
    pub async fn history(
        &self,
        user: &UserId,
        id: &ConversationId,
        page: Page,
    ) -> AppResult<History> {
        let conversation = self.conversation_for(user, id).await?;
        let messages = self.ports.stores.messages.page(id, page).await?;
        Ok(History {
            conversation,
            messages,
        })
    }

    /// Everything after `after` (up to `limit`): what a reconnecting client missed.
    pub async fn catch_up(
        &self,
        user: &UserId,
        id: &ConversationId,
        after: Seq,
        limit: u32,
    ) -> AppResult<History> {
        let conversation = self.conversation_for(user, id).await?;
        let messages = self
            .ports
            .stores
            .messages
            .after(id, after, limit.clamp(1, Page::MAX_LIMIT))
            .await?;
        Ok(History {
            conversation,
            messages,
        })
    }

    /// The newest messages (up to `limit`) below seq `before`, oldest first: paging back
    /// from a seq the client holds.
    pub async fn history_before(
        &self,
        user: &UserId,
        id: &ConversationId,
        before: Seq,
        limit: u32,
    ) -> AppResult<History> {
        let conversation = self.conversation_for(user, id).await?;
        // Seqs are gap-free: the messages at or above `before` are the newest ones to skip.
        let skip = conversation
            .last_seq
            .0
            .saturating_sub(before.0.saturating_sub(1));
        let limit = limit.clamp(1, Page::MAX_LIMIT);
        // Never reach below seq 1: a page of `limit` ending at `before - 1` may be shorter.
        let limit = limit.min(u32::try_from(before.0.saturating_sub(1)).unwrap_or(u32::MAX));
        let messages = if limit == 0 {
            Vec::new()
        } else {
            self.ports
                .stores
                .messages
                .page(id, Page::new(limit, skip))
                .await?
        };
        Ok(History {
            conversation,
            messages,
        })
    }

    /// Marks everything in the conversation read for the actor. `None` when it already was.
    pub async fn mark_conversation_read(
        &self,
        actor: &Actor,
        id: &ConversationId,
    ) -> AppResult<Option<ReadMark>> {
        let conversation = self.conversation_for(actor.id(), id).await?;
        let mark = conversation.decide_read(actor.id(), None, self.ports.clock.now())?;
        self.save_read_mark(actor, &conversation, mark, None).await
    }

    /// Marks one message read: the actor's read mark moves up to it.
    pub async fn mark_message_read(
        &self,
        actor: &Actor,
        id: &MessageId,
    ) -> AppResult<(Message, Option<ReadMark>)> {
        let message = self
            .ports
            .stores
            .messages
            .get(id)
            .await?
            .ok_or_else(|| AppError::not_found("message"))?;
        let conversation = self
            .conversation_for(actor.id(), &message.conversation_id)
            .await?;
        let mark =
            conversation.decide_read(actor.id(), Some(message.seq), self.ports.clock.now())?;
        let saved = self
            .save_read_mark(actor, &conversation, mark, Some(message.id.clone()))
            .await?;
        Ok((message, saved))
    }

    async fn save_read_mark(
        &self,
        actor: &Actor,
        conversation: &Conversation,
        mark: Option<ReadMark>,
        message_id: Option<MessageId>,
    ) -> AppResult<Option<ReadMark>> {
        let Some(mark) = mark else { return Ok(None) };
        if !self
            .ports
            .stores
            .conversations
            .save_mark(&mark, MarkKind::Read)
            .await?
        {
            // A concurrent request moved the mark at least as far: nothing new to announce.
            return Ok(None);
        }
        let event = DomainEvent::MessagesRead {
            participants: conversation.participant_ids().cloned().collect(),
            mark: mark.clone(),
            message_id,
        };
        self.publish(event, actor.origin.clone()).await;
        Ok(Some(mark))
    }

    /// Marks everything in the conversation delivered to the actor.
    pub async fn mark_conversation_delivered(
        &self,
        actor: &Actor,
        id: &ConversationId,
    ) -> AppResult<Option<ReadMark>> {
        let conversation = self.conversation_for(actor.id(), id).await?;
        self.save_delivered_mark(actor, &conversation).await
    }

    pub(super) async fn save_delivered_mark(
        &self,
        actor: &Actor,
        conversation: &Conversation,
    ) -> AppResult<Option<ReadMark>> {
        let Some(mark) = conversation.decide_delivered(actor.id(), self.ports.clock.now())? else {
            return Ok(None);
        };
        if !self
            .ports
            .stores
            .conversations
            .save_mark(&mark, MarkKind::Delivered)
            .await?
        {
            return Ok(None);
        }
        let event = DomainEvent::MessagesDelivered {
            participants: conversation.participant_ids().cloned().collect(),
            mark: mark.clone(),
        };
        self.publish(event, actor.origin.clone()).await;
        Ok(Some(mark))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::app::test_support::{Mocks, actor, cid, conversation_ab, uid};
    use crate::app::use_cases::Rules;
    use crate::domain::{ConversationPolicy, MessageKind, MessageRules, Role};
    use crate::ports::{Appended, StoreError};

    fn text(s: &str) -> MessageBody {
        MessageBody::new(MessageKind::Text, s, vec![], None, &MessageRules::default()).unwrap()
    }

    fn post(key: Option<&str>) -> PostMessage {
        PostMessage {
            client_key: key.map(str::to_owned),
            ..PostMessage::text(cid("c1"), "hello")
        }
    }

    fn with_conversation(m: &mut Mocks) {
        m.conversations
            .expect_get()
            .returning(|_| Ok(Some(conversation_ab())));
    }

    fn appended(new: &NewMessage, seq: u64, duplicate: bool) -> Result<Appended, StoreError> {
        Ok(Appended {
            message: new.clone().stored_as(Seq(seq)),
            duplicate,
        })
    }

    #[tokio::test]
    async fn a_failed_write_is_an_error_and_nothing_is_announced() {
        let mut m = Mocks::new(1_000);
        with_conversation(&mut m);
        m.messages
            .expect_append()
            .returning(|_| Err(StoreError::Unavailable("disk full".into())));
        m.bus.expect_publish().never();
        let result = m
            .build(Rules::default())
            .post_message(&actor("a"), post(None))
            .await;
        assert_eq!(result, Err(AppError::Unavailable));
    }

    #[tokio::test]
    async fn a_non_participant_changes_nothing() {
        let mut m = Mocks::new(1_000);
        with_conversation(&mut m);
        m.messages.expect_append().never();
        m.bus.expect_publish().never();
        let result = m
            .build(Rules::default())
            .post_message(&actor("z"), post(None))
            .await;
        assert!(matches!(result, Err(AppError::Forbidden(_))), "{result:?}");
    }

    #[tokio::test]
    async fn an_unknown_conversation_is_not_found() {
        let mut m = Mocks::new(1_000);
        m.conversations.expect_get().returning(|_| Ok(None));
        m.messages.expect_append().never();
        m.bus.expect_publish().never();
        let result = m
            .build(Rules::default())
            .post_message(&actor("a"), post(None))
            .await;
        assert!(matches!(result, Err(AppError::NotFound(_))), "{result:?}");
    }

    #[tokio::test]
    async fn a_resent_message_is_stored_and_announced_once() {
        let mut m = Mocks::new(1_000);
        with_conversation(&mut m);
        let stored: Mutex<Option<Message>> = Mutex::new(None);
        // The store recognises the second append by its client key (its contract) and
        // returns the first message.
        m.messages.expect_append().times(2).returning(move |new| {
            let mut first = stored.lock().unwrap();
            match first.as_ref() {
                Some(earlier) => Ok(Appended {
                    message: earlier.clone(),
                    duplicate: true,
                }),
                None => {
                    *first = Some(new.clone().stored_as(Seq(1)));
                    appended(new, 1, false)
                }
            }
        });
        m.presence.expect_is_viewing().returning(|_, _| Ok(false));
        let events = m.capture_events();
        let uc = m.build(Rules::default());
        let first = uc
            .post_message(&actor("a"), post(Some("k1")))
            .await
            .unwrap();
        let again = uc
            .post_message(&actor("a"), post(Some("k1")))
            .await
            .unwrap();
        assert_eq!(first.message.id, again.message.id);
        assert_eq!(events.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn bad_content_is_refused_before_anything_is_loaded() {
        for request in [
            PostMessage::text(cid("c1"), "  "),
            PostMessage::text(cid("c1"), "x".repeat(10_001)),
            PostMessage {
                client_key: Some(String::new()),
                ..PostMessage::text(cid("c1"), "hi")
            },
        ] {
            let mut m = Mocks::new(1_000);
            m.conversations.expect_get().never();
            m.messages.expect_append().never();
            let result = m
                .build(Rules::default())
                .post_message(&actor("a"), request)
                .await;
            assert!(matches!(result, Err(AppError::Invalid(_))), "{result:?}");
        }
    }

    #[tokio::test]
    async fn a_stored_message_is_a_success_and_announced_even_when_viewing_is_unknown() {
        let mut m = Mocks::new(1_000);
        with_conversation(&mut m);
        m.messages
            .expect_append()
            .times(1)
            .returning(|new| appended(new, 1, false));
        m.presence
            .expect_is_viewing()
            .returning(|_, _| Err(crate::ports::PresenceError::Unavailable("down".into())));
        let events = m.capture_events();
        let posted = m
            .build(Rules::default())
            .post_message(&actor("a"), post(None))
            .await
            .unwrap();
        assert_eq!(posted.message.seq, Seq(1));
        let events = events.lock().unwrap();
        assert!(
            matches!(events.as_slice(), [DomainEvent::MessagePosted { alert, .. }] if alert == &vec![uid("b")]),
            "{events:?}"
        );
    }

    #[tokio::test]
    async fn recipients_viewing_the_chat_get_no_chat_alert() {
        for (viewing, expected_alert) in [(true, vec![]), (false, vec![uid("b")])] {
            let mut m = Mocks::new(1_000);
            with_conversation(&mut m);
            m.messages
                .expect_append()
                .returning(|new| appended(new, 1, false));
            m.presence
                .expect_is_viewing()
                .returning(move |user, _| Ok(viewing && user == &uid("b")));
            let events = m.capture_events();
            m.build(Rules::default())
                .post_message(&actor("a"), post(None))
                .await
                .unwrap();
            let events = events.lock().unwrap();
            let [
                DomainEvent::MessagePosted {
                    alert,
                    receipt,
                    participants,
                    ..
                },
            ] = events.as_slice()
            else {
                panic!("expected one MessagePosted, got {events:?}");
            };
            assert_eq!(alert, &expected_alert);
            assert_eq!(participants, &vec![uid("a"), uid("b")]);
            assert!(!receipt.delivered && !receipt.is_read);
        }
    }

    #[tokio::test]
    async fn the_policy_refuses_role_pairs_it_does_not_allow() {
        let mut m = Mocks::new(1_000);
        with_conversation(&mut m);
        m.users.expect_get_many().returning(|_| {
            Ok(vec![UserProfile {
                role: Role::new("client"),
                ..UserProfile::bare(uid("b"))
            }])
        });
        m.messages.expect_append().never();
        m.bus.expect_publish().never();
        let rules = Rules {
            policy: ConversationPolicy::with_pairs(vec![(
                Role::new("client").unwrap(),
                Role::new("provider").unwrap(),
            )]),
            ..Rules::default()
        };
        let mut sender = actor("a");
        sender.profile.role = Role::new("client");
        let result = m.build(rules).post_message(&sender, post(None)).await;
        assert!(matches!(result, Err(AppError::Forbidden(_))), "{result:?}");
    }

    #[tokio::test]
    async fn an_unknown_chat_id_is_created_with_that_id_when_asked() {
        let mut m = Mocks::new(1_000);
        m.conversations.expect_get().returning(|_| Ok(None));
        m.conversations
            .expect_get_or_create()
            .returning(|candidate| {
                assert_eq!(candidate.id, cid("chat-7"));
                assert_eq!(
                    candidate
                        .context
                        .get(crate::domain::conversation::CHOSEN_ID_KEY),
                    Some("chat-7")
                );
                Ok((candidate.clone(), true))
            });
        m.messages
            .expect_append()
            .returning(|new| appended(new, 1, false));
        m.presence.expect_is_viewing().returning(|_, _| Ok(false));
        let _events = m.capture_events();
        let request = PostMessage {
            open_with: Some(uid("b")),
            ..PostMessage::text(cid("chat-7"), "hello")
        };
        let posted = m
            .build(Rules::default())
            .post_message(&actor("a"), request)
            .await
            .unwrap();
        assert_eq!(posted.message.conversation_id, cid("chat-7"));
    }

    #[tokio::test]
    async fn a_named_chat_that_exists_needs_the_recipient_among_its_participants() {
        for (peer, allowed) in [("b", true), ("z", false)] {
            let mut m = Mocks::new(1_000);
            with_conversation(&mut m);
            m.conversations.expect_get_or_create().never();
            if allowed {
                m.messages
                    .expect_append()
                    .returning(|new| appended(new, 1, false));
                m.presence.expect_is_viewing().returning(|_, _| Ok(false));
                let _events = m.capture_events();
            } else {
                m.messages.expect_append().never();
            }
            let request = PostMessage {
                open_with: Some(uid(peer)),
                ..post(None)
            };
            let result = m
                .build(Rules::default())
                .post_message(&actor("a"), request)
                .await;
            assert_eq!(result.is_ok(), allowed, "{peer}: {result:?}");
            if !allowed {
                assert!(matches!(result, Err(AppError::Forbidden(_))));
            }
        }
    }

    #[tokio::test]
    async fn reading_announces_only_when_the_mark_moves() {
        let mut m = Mocks::new(1_000);
        m.conversations.expect_get().returning(|_| {
            let mut c = conversation_ab();
            c.last_seq = Seq(3);
            Ok(Some(c))
        });
        // Another request moved the mark first: the store reports no move.
        m.conversations
            .expect_save_mark()
            .times(1)
            .returning(|_, _| Ok(false));
        m.bus.expect_publish().never();
        let mark = m
            .build(Rules::default())
            .mark_conversation_read(&actor("b"), &cid("c1"))
            .await
            .unwrap();
        assert_eq!(mark, None);
    }

    #[tokio::test]
    async fn reading_one_message_moves_the_mark_to_it_and_announces() {
        let mut m = Mocks::new(1_000);
        m.conversations.expect_get().returning(|_| {
            let mut c = conversation_ab();
            c.last_seq = Seq(5);
            Ok(Some(c))
        });
        m.messages.expect_get().returning(|_| {
            let new = NewMessage {
                id: MessageId::parse("m2").unwrap(),
                conversation_id: cid("c1"),
                sender: uid("a"),
                body: text("x"),
                client_key: None,
                created_at: crate::domain::Timestamp::from_millis(5),
            };
            Ok(Some(new.stored_as(Seq(2))))
        });
        m.conversations
            .expect_save_mark()
            .withf(|mark, kind| mark.up_to == Seq(2) && *kind == MarkKind::Read)
            .returning(|_, _| Ok(true));
        let events = m.capture_events();
        let uc = m.build(Rules::default());
        let (_, mark) = uc
            .mark_message_read(&actor("b"), &MessageId::parse("m2").unwrap())
            .await
            .unwrap();
        assert_eq!(mark.map(|m| m.up_to), Some(Seq(2)));
        assert!(matches!(
            events.lock().unwrap().as_slice(),
            [DomainEvent::MessagesRead {
                message_id: Some(_),
                ..
            }]
        ));
    }
}
