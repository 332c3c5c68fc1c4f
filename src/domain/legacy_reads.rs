//! From per-message read flags to watermarks: the rule by which a Node server's history (one
//! read flag per message and reader) becomes this server's read state (one mark per
//! participant), applied by `switchboard import` (`crate::app::import`).
//!
//! A participant's read mark is the newest message they had read: flagged read by them
//! (`readBy`, or `isRead` for every recipient), or sent by them (posting reads everything
//! before, as `Conversation::apply_posted` has it). Messages from others below that mark whose
//! flags say unread are *disagreements*: the watermark model counts them read, the legacy flags
//! did not; they are reported, not hidden. A family that kept no read state (`Unknown`) counts
//! its history as read. Delivered marks follow the `delivered` flag where the family kept one,
//! otherwise the whole history counts as delivered (it was the old server's to deliver), and
//! never lag the read mark.
//!
//! Folding is one pass in seq order with constant state per participant, however long the
//! conversation.

use super::ids::{MessageId, Seq, UserId};
use super::receipts::Watermark;
use super::time::Timestamp;

/// The per-message read state a legacy database kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LegacyRead {
    /// Who read it and when (`readBy: [{ userId, readAt }]`).
    By(Vec<(UserId, Option<Timestamp>)>),
    /// One flag for every recipient (`isRead`, `readAt`).
    Flag { read: bool, at: Option<Timestamp> },
    /// The family kept no read state.
    Unknown,
}

/// What the rule looks at of one legacy message.
#[derive(Debug, Clone, Copy)]
pub struct FlaggedMessage<'a> {
    pub id: &'a MessageId,
    pub sender: &'a UserId,
    pub created_at: Timestamp,
    pub read: &'a LegacyRead,
    /// The recipients' `delivered` flag, when the family kept one.
    pub delivered: Option<bool>,
}

/// How many disagreeing messages a conversation keeps as examples for the report.
pub const SAMPLES_PER_CONVERSATION: usize = 3;

#[derive(Debug, Clone)]
struct Reader {
    user: UserId,
    read: Watermark,
    delivered: Watermark,
    /// Messages from others since the read mark that the flags leave unread.
    unflagged: u64,
    unflagged_samples: Vec<MessageId>,
    disagreements: u64,
    samples: Vec<MessageId>,
}

impl Reader {
    fn new(user: UserId) -> Self {
        Self {
            user,
            read: Watermark::default(),
            delivered: Watermark::default(),
            unflagged: 0,
            unflagged_samples: Vec::new(),
            disagreements: 0,
            samples: Vec::new(),
        }
    }

    /// The read mark moves to `seq`: what lay unflagged below it disagrees.
    fn read_up_to(&mut self, seq: Seq, at: Timestamp) {
        if seq > self.read.seq {
            self.read = Watermark { seq, at: Some(at) };
        }
        self.disagreements += self.unflagged;
        self.unflagged = 0;
        let room = SAMPLES_PER_CONVERSATION.saturating_sub(self.samples.len());
        // Draining empties the list whatever `take` leaves of it.
        self.samples
            .extend(self.unflagged_samples.drain(..).take(room));
    }

    fn delivered_up_to(&mut self, seq: Seq, at: Timestamp) {
        if seq > self.delivered.seq {
            self.delivered = Watermark { seq, at: Some(at) };
        }
    }
}

/// The marks one conversation's legacy flags give, folded message by message.
#[derive(Debug, Clone)]
pub struct ReadFold {
    readers: Vec<Reader>,
    /// Whether any message carried a delivered flag; without one, everything is delivered.
    delivered_flags: bool,
    last: Option<(Seq, Timestamp)>,
}

/// One participant's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerivedMarks {
    pub user: UserId,
    pub read: Watermark,
    pub delivered: Watermark,
    /// Messages from others below the read mark that the legacy flags left unread.
    pub disagreements: u64,
    pub samples: Vec<MessageId>,
}

impl ReadFold {
    pub fn new<'a>(participants: impl IntoIterator<Item = &'a UserId>) -> Self {
        Self {
            readers: participants.into_iter().cloned().map(Reader::new).collect(),
            delivered_flags: false,
            last: None,
        }
    }

    /// Takes the next message, at `seq`; messages come in seq order.
    pub fn observe(&mut self, seq: Seq, message: FlaggedMessage<'_>) {
        self.delivered_flags |= message.delivered.is_some();
        if self.last.is_none_or(|(last, _)| seq > last) {
            self.last = Some((seq, message.created_at));
        }
        for reader in &mut self.readers {
            if &reader.user == message.sender {
                reader.read_up_to(seq, message.created_at);
                reader.delivered_up_to(seq, message.created_at);
                continue;
            }
            match read_by(message.read, &reader.user) {
                Some(at) => reader.read_up_to(seq, at.unwrap_or(message.created_at)),
                None => {
                    reader.unflagged += 1;
                    if reader.unflagged_samples.len() < SAMPLES_PER_CONVERSATION {
                        reader.unflagged_samples.push(message.id.clone());
                    }
                }
            }
            if message.delivered == Some(true) {
                reader.delivered_up_to(seq, message.created_at);
            }
        }
    }

    /// Every participant's marks, in the order they were given.
    pub fn finish(self) -> Vec<DerivedMarks> {
        let everything_delivered = !self.delivered_flags;
        let last = self.last;
        self.readers
            .into_iter()
            .map(|mut r| {
                if let (true, Some((seq, at))) = (everything_delivered, last) {
                    r.delivered_up_to(seq, at);
                }
                if r.delivered.seq < r.read.seq {
                    r.delivered = r.read;
                }
                DerivedMarks {
                    user: r.user,
                    read: r.read,
                    delivered: r.delivered,
                    disagreements: r.disagreements,
                    samples: r.samples,
                }
            })
            .collect()
    }
}

/// `Some(when)` when the flags say `user` read the message.
fn read_by(read: &LegacyRead, user: &UserId) -> Option<Option<Timestamp>> {
    match read {
        LegacyRead::By(readers) => readers.iter().find(|(u, _)| u == user).map(|(_, at)| *at),
        LegacyRead::Flag { read: true, at } => Some(*at),
        LegacyRead::Flag { read: false, .. } => None,
        LegacyRead::Unknown => Some(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uid(s: &str) -> UserId {
        UserId::parse(s).unwrap()
    }

    /// A legacy message's flags, owned for the test.
    struct Legacy {
        id: MessageId,
        sender: UserId,
        created_at: Timestamp,
        read: LegacyRead,
        delivered: Option<bool>,
    }

    fn message(n: i64, sender: &str, read: LegacyRead, delivered: Option<bool>) -> Legacy {
        Legacy {
            id: MessageId::parse(format!("m{n}")).unwrap(),
            sender: uid(sender),
            created_at: Timestamp::from_millis(n * 1000),
            read,
            delivered,
        }
    }

    fn fold(messages: &[Legacy]) -> Vec<DerivedMarks> {
        let (a, b) = (uid("a"), uid("b"));
        let mut fold = ReadFold::new([&a, &b]);
        for (i, m) in messages.iter().enumerate() {
            let flags = FlaggedMessage {
                id: &m.id,
                sender: &m.sender,
                created_at: m.created_at,
                read: &m.read,
                delivered: m.delivered,
            };
            fold.observe(Seq(i as u64 + 1), flags);
        }
        fold.finish()
    }

    fn by(users: &[(&str, i64)]) -> LegacyRead {
        LegacyRead::By(
            users
                .iter()
                .map(|(u, at)| (uid(u), Some(Timestamp::from_millis(*at))))
                .collect(),
        )
    }

    #[test]
    fn the_read_mark_is_the_newest_message_read_and_keeps_its_time() {
        let marks = fold(&[
            message(1, "a", by(&[("b", 50_000)]), None),
            message(2, "a", by(&[("b", 60_000)]), None),
            message(3, "a", by(&[]), None),
        ]);
        let b = &marks[1];
        assert_eq!(b.read.seq, Seq(2));
        assert_eq!(b.read.at, Some(Timestamp::from_millis(60_000)));
        assert_eq!(b.disagreements, 0);
        // a sent everything: read up to the last.
        assert_eq!(marks[0].read.seq, Seq(3));
    }

    #[test]
    fn unflagged_messages_below_the_mark_are_disagreements() {
        let marks = fold(&[
            message(1, "a", by(&[]), None),
            message(2, "a", by(&[]), None),
            message(3, "a", by(&[("b", 9)]), None),
            message(4, "a", by(&[]), None),
        ]);
        let b = &marks[1];
        assert_eq!(b.read.seq, Seq(3));
        assert_eq!(b.disagreements, 2);
        assert_eq!(
            b.samples,
            [
                MessageId::parse("m1").unwrap(),
                MessageId::parse("m2").unwrap()
            ]
        );
    }

    #[test]
    fn posting_reads_what_came_before() {
        let marks = fold(&[
            message(
                1,
                "a",
                LegacyRead::Flag {
                    read: false,
                    at: None,
                },
                Some(true),
            ),
            message(
                2,
                "b",
                LegacyRead::Flag {
                    read: false,
                    at: None,
                },
                Some(false),
            ),
        ]);
        let b = &marks[1];
        assert_eq!(b.read.seq, Seq(2));
        assert_eq!(
            b.disagreements, 1,
            "message 1 was flagged unread below b's own post"
        );
        let a = &marks[0];
        assert_eq!((a.read.seq, a.delivered.seq), (Seq(1), Seq(1)));
    }

    #[test]
    fn delivered_follows_its_flag_and_never_lags_the_read_mark() {
        let marks = fold(&[
            message(
                1,
                "a",
                LegacyRead::Flag {
                    read: true,
                    at: None,
                },
                Some(true),
            ),
            message(
                2,
                "a",
                LegacyRead::Flag {
                    read: false,
                    at: None,
                },
                Some(true),
            ),
            message(
                3,
                "a",
                LegacyRead::Flag {
                    read: false,
                    at: None,
                },
                Some(false),
            ),
        ]);
        assert_eq!(marks[1].read.seq, Seq(1));
        assert_eq!(marks[1].delivered.seq, Seq(2));
    }

    #[test]
    fn without_delivered_flags_the_history_is_delivered() {
        let marks = fold(&[
            message(1, "a", by(&[]), None),
            message(2, "a", by(&[]), None),
        ]);
        assert_eq!(marks[1].read.seq, Seq(0));
        assert_eq!(marks[1].delivered.seq, Seq(2));
    }

    #[test]
    fn a_family_without_read_state_counts_its_history_read() {
        let marks = fold(&[
            message(1, "a", LegacyRead::Unknown, None),
            message(2, "b", LegacyRead::Unknown, None),
        ]);
        assert!(
            marks
                .iter()
                .all(|m| m.read.seq == Seq(2) && m.disagreements == 0)
        );
    }
}
