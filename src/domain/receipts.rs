//! Delivery and read state as per-participant watermarks.
//!
//! Instead of a row per (message, reader), each participant has a "delivered up to seq N"
//! and a "read up to seq N" mark, each with the time it last moved. Marking a conversation
//! read moves one mark (O(1)); unread counts and per-message state (`delivered`, `isRead`,
//! `readBy`) are derived. The price: a message's `readAt` is the time the reader's mark last
//! moved past it, which for a batch read is the time of the batch.

use super::ids::{ConversationId, Seq, UserId};
use super::time::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Watermark {
    pub seq: Seq,
    /// When the mark last moved; `None` while it has never moved.
    pub at: Option<Timestamp>,
}

impl Watermark {
    /// Moves the mark up to `seq` (never down). Returns the new mark, or `None` when the mark
    /// was already there, so that repeated "mark read" calls change and announce nothing.
    pub fn advanced_to(self, seq: Seq, at: Timestamp) -> Option<Watermark> {
        (seq > self.seq).then_some(Watermark { seq, at: Some(at) })
    }

    pub fn covers(self, seq: Seq) -> bool {
        self.seq >= seq
    }

    /// The further on of two marks, with its time (the first on a tie): merging marks never
    /// moves one down.
    pub fn later(self, other: Watermark) -> Watermark {
        if other.seq > self.seq { other } else { self }
    }
}

/// A decided move of one participant's mark, ready to persist and announce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadMark {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
    pub up_to: Seq,
    pub at: Timestamp,
}

/// Per-message state as the wire formats show it, derived from the other participants' marks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MessageReceipt {
    /// Every recipient has it delivered.
    pub delivered: bool,
    /// Every recipient has read it.
    pub is_read: bool,
    /// The recipients who have read it, with the time their mark passed it.
    pub read_by: Vec<(UserId, Timestamp)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watermark_only_moves_up() {
        let t = Timestamp::from_millis(5);
        let mark = Watermark::default().advanced_to(Seq(3), t).unwrap();
        assert_eq!(mark.seq, Seq(3));
        assert_eq!(mark.advanced_to(Seq(3), t), None);
        assert_eq!(mark.advanced_to(Seq(2), t), None);
        assert!(mark.covers(Seq(3)) && !mark.covers(Seq(4)));
    }

    #[test]
    fn the_later_mark_wins_with_its_time() {
        let early = Watermark {
            seq: Seq(2),
            at: Some(Timestamp::from_millis(9)),
        };
        let late = Watermark {
            seq: Seq(5),
            at: None,
        };
        assert_eq!(early.later(late), late);
        assert_eq!(late.later(early), late);
        let tie = Watermark {
            seq: Seq(2),
            at: None,
        };
        assert_eq!(early.later(tie), early);
    }
}
