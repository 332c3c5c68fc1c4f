//! Conversations: who takes part, what they are about, and each participant's state in them.

use std::collections::{BTreeMap, HashSet};

use super::ids::{ConversationId, IdError, Seq, UserId};
use super::message::Message;
use super::receipts::{MessageReceipt, ReadMark, Watermark};
use super::time::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConversationError {
    #[error("a conversation needs at least two distinct participants")]
    TooFewParticipants,
    #[error("user {0} is not a participant of this conversation")]
    NotParticipant(UserId),
    #[error("invalid context key {0:?}")]
    BadContextKey(String),
    #[error(transparent)]
    BadId(#[from] IdError),
}

/// Optional keys that say what a conversation is about (`orderId`, `gigId`, `jobId`,
/// `relationId`, …). Two conversations with the same participants but different context
/// are different conversations.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConversationContext(BTreeMap<String, String>);

impl ConversationContext {
    pub fn new(
        pairs: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConversationError> {
        let mut map = BTreeMap::new();
        for (key, value) in pairs {
            let key_ok = !key.is_empty()
                && key.len() <= 64
                && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !key_ok {
                return Err(ConversationError::BadContextKey(key));
            }
            // Context values are ids of other things (an order, a gig): same rules as ids.
            let value = ConversationId::parse(value)?.into_string();
            map.insert(key, value);
        }
        Ok(Self(map))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The context key of a conversation created under an id its poster chose (`Conversation::named`).
pub const CHOSEN_ID_KEY: &str = "chosenId";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastMessage {
    pub seq: Seq,
    pub text: String,
    pub sender: UserId,
    pub at: Timestamp,
}

/// One participant's state in one conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipantState {
    pub user_id: UserId,
    pub delivered: Watermark,
    pub read: Watermark,
    /// Soft delete: the conversation is hidden from this user's list until a message newer
    /// than this seq arrives.
    pub hidden_through: Option<Seq>,
}

impl ParticipantState {
    pub fn new(user_id: UserId) -> Self {
        Self {
            user_id,
            delivered: Watermark::default(),
            read: Watermark::default(),
            hidden_through: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pub id: ConversationId,
    /// In the order the conversation was created with; no duplicates.
    pub participants: Vec<ParticipantState>,
    pub context: ConversationContext,
    pub created_at: Timestamp,
    /// Last activity (creation or the latest message); lists sort by it, newest first.
    pub updated_at: Timestamp,
    pub last_message: Option<LastMessage>,
    /// Seq of the newest message; `Seq::ZERO` when there is none.
    pub last_seq: Seq,
}

impl Conversation {
    pub fn new(
        id: ConversationId,
        participants: Vec<UserId>,
        context: ConversationContext,
        now: Timestamp,
    ) -> Result<Self, ConversationError> {
        // A set beside the list keeps the creation order and stays linear in the input.
        let mut seen = HashSet::with_capacity(participants.len());
        let unique: Vec<UserId> = participants
            .into_iter()
            .filter(|p| seen.insert(p.clone()))
            .collect();
        if unique.len() < 2 {
            return Err(ConversationError::TooFewParticipants);
        }
        Ok(Self {
            id,
            participants: unique.into_iter().map(ParticipantState::new).collect(),
            context,
            created_at: now,
            updated_at: now,
            last_message: None,
            last_seq: Seq::ZERO,
        })
    }

    /// A conversation under an id its first poster chose (clients that name their chats
    /// themselves). The context records the id, so that in get-or-create the pair's other
    /// conversations never stand in for it, and two nodes creating it at once create one.
    pub fn named(
        id: ConversationId,
        participants: Vec<UserId>,
        now: Timestamp,
    ) -> Result<Self, ConversationError> {
        let context =
            ConversationContext::new([(CHOSEN_ID_KEY.to_owned(), id.as_str().to_owned())])?;
        Self::new(id, participants, context, now)
    }

    /// The key that makes get-or-create idempotent: the same participant set (in any order)
    /// and the same context give the same key. The unit separator cannot occur in ids.
    pub fn identity_key(participants: &[UserId], context: &ConversationContext) -> String {
        let mut ids: Vec<&str> = participants.iter().map(UserId::as_str).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut key = ids.join("\u{1f}");
        for (k, v) in context.iter() {
            key.push('\u{1e}');
            key.push_str(k);
            key.push('=');
            key.push_str(v);
        }
        key
    }

    pub fn key(&self) -> String {
        let ids: Vec<UserId> = self.participant_ids().cloned().collect();
        Self::identity_key(&ids, &self.context)
    }

    pub fn participant_ids(&self) -> impl Iterator<Item = &UserId> {
        self.participants.iter().map(|p| &p.user_id)
    }

    pub fn participant(&self, user: &UserId) -> Option<&ParticipantState> {
        self.participants.iter().find(|p| &p.user_id == user)
    }

    pub fn is_participant(&self, user: &UserId) -> bool {
        self.participant(user).is_some()
    }

    /// The participation rule: only participants read, post, mark read, join or call.
    pub fn ensure_participant(
        &self,
        user: &UserId,
    ) -> Result<&ParticipantState, ConversationError> {
        self.participant(user)
            .ok_or_else(|| ConversationError::NotParticipant(user.clone()))
    }

    /// Everyone but `user`: the recipients of what `user` does.
    pub fn others<'a>(&'a self, user: &'a UserId) -> impl Iterator<Item = &'a UserId> + 'a {
        self.participant_ids().filter(move |p| *p != user)
    }

    /// Unread messages for `user`. Posting moves the poster's own read mark to the new
    /// message (see `crate::ports::MessageStore::append`), so every message after a read mark
    /// is from someone else and the count is a subtraction.
    pub fn unread_for(&self, user: &UserId) -> u64 {
        self.participant(user)
            .map_or(0, |p| self.last_seq.0.saturating_sub(p.read.seq.0))
    }

    pub fn is_visible_to(&self, user: &UserId) -> bool {
        self.participant(user)
            .is_some_and(|p| p.hidden_through.is_none_or(|hidden| self.last_seq > hidden))
    }

    /// Decides "mark read up to `up_to`" (everything when `None`) for `user`. `None` when the
    /// mark would not move: nothing to persist, nothing to announce.
    pub fn decide_read(
        &self,
        user: &UserId,
        up_to: Option<Seq>,
        now: Timestamp,
    ) -> Result<Option<ReadMark>, ConversationError> {
        let state = self.ensure_participant(user)?;
        Ok(self.decide_mark(state.read, user, up_to, now))
    }

    /// Decides "everything so far has reached `user`" (the delivered mark).
    pub fn decide_delivered(
        &self,
        user: &UserId,
        now: Timestamp,
    ) -> Result<Option<ReadMark>, ConversationError> {
        let state = self.ensure_participant(user)?;
        Ok(self.decide_mark(state.delivered, user, None, now))
    }

    fn decide_mark(
        &self,
        current: Watermark,
        user: &UserId,
        up_to: Option<Seq>,
        now: Timestamp,
    ) -> Option<ReadMark> {
        let target = up_to.map_or(self.last_seq, |s| s.min(self.last_seq));
        current.advanced_to(target, now).map(|mark| ReadMark {
            conversation_id: self.id.clone(),
            user_id: user.clone(),
            up_to: mark.seq,
            at: now,
        })
    }

    /// Per-message state for the wire, derived from the recipients' marks.
    pub fn receipt_for(&self, message: &Message) -> MessageReceipt {
        let mut receipt = MessageReceipt {
            delivered: true,
            is_read: true,
            read_by: Vec::new(),
        };
        for p in self
            .participants
            .iter()
            .filter(|p| p.user_id != message.sender)
        {
            let read = p.read.covers(message.seq);
            receipt.delivered &= read || p.delivered.covers(message.seq);
            receipt.is_read &= read;
            if read {
                let at = p.read.at.unwrap_or(message.created_at);
                receipt.read_by.push((p.user_id.clone(), at));
            }
        }
        receipt
    }

    /// Applies a stored message to this value, as the stores do when they append one.
    /// Stores that work on rows mirror exactly these changes in SQL.
    pub fn apply_posted(&mut self, message: &Message) {
        self.last_seq = message.seq;
        self.updated_at = message.created_at;
        self.last_message = Some(LastMessage {
            seq: message.seq,
            text: message.body.text.clone(),
            sender: message.sender.clone(),
            at: message.created_at,
        });
        if let Some(p) = self
            .participants
            .iter_mut()
            .find(|p| p.user_id == message.sender)
        {
            let mark = Watermark {
                seq: message.seq,
                at: Some(message.created_at),
            };
            p.read = mark;
            p.delivered = mark;
        }
    }

    /// Applies a persisted read or delivered mark to this value.
    pub fn apply_mark(&mut self, mark: &ReadMark, kind: MarkKind) {
        if let Some(p) = self
            .participants
            .iter_mut()
            .find(|p| p.user_id == mark.user_id)
        {
            let new = Watermark {
                seq: mark.up_to,
                at: Some(mark.at),
            };
            match kind {
                MarkKind::Read => {
                    if p.read.seq < new.seq {
                        p.read = new;
                    }
                    // Reading implies having received.
                    if p.delivered.seq < new.seq {
                        p.delivered = new;
                    }
                }
                MarkKind::Delivered => {
                    if p.delivered.seq < new.seq {
                        p.delivered = new;
                    }
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkKind {
    Delivered,
    Read,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::MessageId;
    use crate::domain::message::{MessageBody, MessageKind, MessageRules};

    fn uid(s: &str) -> UserId {
        UserId::parse(s).unwrap()
    }

    fn t(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    fn conv() -> Conversation {
        Conversation::new(
            ConversationId::parse("c1").unwrap(),
            vec![uid("a"), uid("b")],
            Default::default(),
            t(0),
        )
        .unwrap()
    }

    fn msg(seq: u64, sender: &str) -> Message {
        Message {
            id: MessageId::parse(format!("m{seq}")).unwrap(),
            conversation_id: ConversationId::parse("c1").unwrap(),
            seq: Seq(seq),
            sender: uid(sender),
            body: MessageBody::new(
                MessageKind::Text,
                "hi",
                vec![],
                None,
                &MessageRules::default(),
            )
            .unwrap(),
            client_key: None,
            created_at: t(seq as i64 * 10),
            edited_at: None,
        }
    }

    fn post(c: &mut Conversation, seq: u64, sender: &str) -> Message {
        let m = msg(seq, sender);
        c.apply_posted(&m);
        m
    }

    #[test]
    fn needs_two_distinct_participants() {
        let one = Conversation::new(
            ConversationId::parse("c").unwrap(),
            vec![uid("a"), uid("a")],
            Default::default(),
            t(0),
        );
        assert_eq!(one, Err(ConversationError::TooFewParticipants));
    }

    #[test]
    fn identity_key_ignores_participant_order_but_not_context() {
        let ctx = ConversationContext::new([("orderId".to_string(), "o1".to_string())]).unwrap();
        let k1 = Conversation::identity_key(&[uid("a"), uid("b")], &ctx);
        let k2 = Conversation::identity_key(&[uid("b"), uid("a")], &ctx);
        let k3 = Conversation::identity_key(&[uid("a"), uid("b")], &ConversationContext::default());
        assert_eq!(k1, k2);
        assert_ne!(k1, k3);
    }

    #[test]
    fn context_keys_are_checked() {
        assert!(ConversationContext::new([("order id".to_string(), "x".to_string())]).is_err());
        assert!(ConversationContext::new([("orderId".to_string(), "".to_string())]).is_err());
    }

    #[test]
    fn only_participants_pass_the_participation_rule() {
        let c = conv();
        assert!(c.ensure_participant(&uid("a")).is_ok());
        assert_eq!(
            c.ensure_participant(&uid("z")).err(),
            Some(ConversationError::NotParticipant(uid("z")))
        );
        assert!(c.decide_read(&uid("z"), None, t(1)).is_err());
    }

    #[test]
    fn unread_is_derived_from_the_read_mark() {
        let mut c = conv();
        post(&mut c, 1, "a");
        post(&mut c, 2, "a");
        assert_eq!(c.unread_for(&uid("b")), 2);
        assert_eq!(c.unread_for(&uid("a")), 0, "own messages are never unread");
        post(&mut c, 3, "b");
        assert_eq!(
            c.unread_for(&uid("b")),
            0,
            "posting reads everything before"
        );
        assert_eq!(c.unread_for(&uid("a")), 1);
    }

    #[test]
    fn reading_zeroes_unread_and_repeating_changes_nothing() {
        let mut c = conv();
        post(&mut c, 1, "a");
        post(&mut c, 2, "a");
        let mark = c.decide_read(&uid("b"), None, t(100)).unwrap().unwrap();
        assert_eq!(mark.up_to, Seq(2));
        c.apply_mark(&mark, MarkKind::Read);
        assert_eq!(c.unread_for(&uid("b")), 0);
        assert_eq!(c.decide_read(&uid("b"), None, t(101)).unwrap(), None);
    }

    #[test]
    fn reading_one_message_moves_the_mark_up_to_it() {
        let mut c = conv();
        for s in 1..=3 {
            post(&mut c, s, "a");
        }
        let mark = c
            .decide_read(&uid("b"), Some(Seq(2)), t(100))
            .unwrap()
            .unwrap();
        c.apply_mark(&mark, MarkKind::Read);
        assert_eq!(c.unread_for(&uid("b")), 1);
        // An older message is already covered: nothing moves.
        assert_eq!(
            c.decide_read(&uid("b"), Some(Seq(1)), t(101)).unwrap(),
            None
        );
        // A seq beyond the newest is clamped.
        assert_eq!(
            c.decide_read(&uid("b"), Some(Seq(99)), t(102))
                .unwrap()
                .unwrap()
                .up_to,
            Seq(3)
        );
    }

    #[test]
    fn delivering_marks_everything_so_far_delivered() {
        let mut c = conv();
        let m1 = post(&mut c, 1, "a");
        assert!(!c.receipt_for(&m1).delivered);
        let mark = c.decide_delivered(&uid("b"), t(50)).unwrap().unwrap();
        c.apply_mark(&mark, MarkKind::Delivered);
        let receipt = c.receipt_for(&m1);
        assert!(receipt.delivered && !receipt.is_read && receipt.read_by.is_empty());
        assert_eq!(c.decide_delivered(&uid("b"), t(51)).unwrap(), None);
    }

    #[test]
    fn receipts_show_who_read_and_when() {
        let mut c = conv();
        let m1 = post(&mut c, 1, "a");
        let mark = c.decide_read(&uid("b"), None, t(77)).unwrap().unwrap();
        c.apply_mark(&mark, MarkKind::Read);
        let receipt = c.receipt_for(&m1);
        assert!(receipt.delivered && receipt.is_read);
        assert_eq!(receipt.read_by, vec![(uid("b"), t(77))]);
    }

    #[test]
    fn hidden_conversation_reappears_with_a_new_message() {
        let mut c = conv();
        post(&mut c, 1, "a");
        c.participants[1].hidden_through = Some(Seq(1));
        assert!(!c.is_visible_to(&uid("b")));
        assert!(c.is_visible_to(&uid("a")));
        post(&mut c, 2, "a");
        assert!(c.is_visible_to(&uid("b")));
    }
}
