//! Typing indicators: per user per conversation, expiring by themselves when no stop comes.

use std::collections::HashMap;
use std::time::Duration;

use super::ids::{ConversationId, UserId};
use super::time::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypingChange {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
    pub typing: bool,
    pub at: Timestamp,
}

/// Who is typing where, and until when.
#[derive(Debug, Clone)]
pub struct TypingBoard {
    expiry: Duration,
    deadlines: HashMap<(UserId, ConversationId), Timestamp>,
}

impl TypingBoard {
    pub fn new(expiry: Duration) -> Self {
        Self {
            expiry,
            deadlines: HashMap::new(),
        }
    }

    /// Every start is announced (clients use repeats as keep-alives) and pushes the expiry back.
    pub fn start(
        &mut self,
        user: &UserId,
        conversation: &ConversationId,
        now: Timestamp,
    ) -> TypingChange {
        self.deadlines
            .insert((user.clone(), conversation.clone()), now.plus(self.expiry));
        TypingChange {
            conversation_id: conversation.clone(),
            user_id: user.clone(),
            typing: true,
            at: now,
        }
    }

    /// Every explicit stop is announced, as the existing servers do.
    pub fn stop(
        &mut self,
        user: &UserId,
        conversation: &ConversationId,
        now: Timestamp,
    ) -> TypingChange {
        self.deadlines.remove(&(user.clone(), conversation.clone()));
        TypingChange {
            conversation_id: conversation.clone(),
            user_id: user.clone(),
            typing: false,
            at: now,
        }
    }

    /// Ends every typing state whose deadline has passed; each yields one stop.
    pub fn expire(&mut self, now: Timestamp) -> Vec<TypingChange> {
        let mut expired = Vec::new();
        self.deadlines.retain(|(user, conversation), deadline| {
            let keep = *deadline > now;
            if !keep {
                expired.push(TypingChange {
                    conversation_id: conversation.clone(),
                    user_id: user.clone(),
                    typing: false,
                    at: now,
                });
            }
            keep
        });
        expired
    }

    /// Ends the typing states of a user (their connection closed); each yields one stop.
    pub fn clear_user(&mut self, user: &UserId, now: Timestamp) -> Vec<TypingChange> {
        let mut cleared = Vec::new();
        self.deadlines.retain(|(u, conversation), _| {
            let keep = u != user;
            if !keep {
                cleared.push(TypingChange {
                    conversation_id: conversation.clone(),
                    user_id: u.clone(),
                    typing: false,
                    at: now,
                });
            }
            keep
        });
        cleared
    }

    pub fn is_typing(&self, user: &UserId, conversation: &ConversationId) -> bool {
        self.deadlines
            .contains_key(&(user.clone(), conversation.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> (UserId, ConversationId) {
        (
            UserId::parse("u").unwrap(),
            ConversationId::parse("c").unwrap(),
        )
    }

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_millis(secs * 1000)
    }

    #[test]
    fn typing_expires_by_itself() {
        let (u, c) = ids();
        let mut board = TypingBoard::new(Duration::from_secs(5));
        assert!(board.start(&u, &c, t(0)).typing);
        assert!(board.expire(t(4)).is_empty());
        let expired = board.expire(t(5));
        assert_eq!(expired.len(), 1);
        assert!(!expired[0].typing);
        assert!(!board.is_typing(&u, &c));
        assert!(
            board.expire(t(10)).is_empty(),
            "an expired state stops once"
        );
    }

    #[test]
    fn a_new_start_pushes_the_deadline_back() {
        let (u, c) = ids();
        let mut board = TypingBoard::new(Duration::from_secs(5));
        board.start(&u, &c, t(0));
        board.start(&u, &c, t(3));
        assert!(board.expire(t(6)).is_empty());
        assert_eq!(board.expire(t(8)).len(), 1);
    }

    #[test]
    fn stop_ends_typing_without_a_later_expiry() {
        let (u, c) = ids();
        let mut board = TypingBoard::new(Duration::from_secs(5));
        board.start(&u, &c, t(0));
        assert!(!board.stop(&u, &c, t(1)).typing);
        assert!(board.expire(t(9)).is_empty());
    }

    #[test]
    fn clearing_a_user_stops_all_their_typing() {
        let (u, c) = ids();
        let mut board = TypingBoard::new(Duration::from_secs(5));
        board.start(&u, &c, t(0));
        board.start(&u, &ConversationId::parse("d").unwrap(), t(0));
        assert_eq!(board.clear_user(&u, t(1)).len(), 2);
        assert!(!board.is_typing(&u, &c));
    }
}
