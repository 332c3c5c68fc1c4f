//! The import's decisions, on a source held in memory and a mocked sink: seqs in creation
//! order, stored messages kept, duplicates kept apart, orphans skipped, dry runs silent.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::{ImportOptions, import};
use crate::domain::{
    CHOSEN_ID_KEY, Conversation, ConversationContext, ConversationId, Message, MessageBody,
    MessageId, MessageKind, Notification, Seq, Timestamp, UserId, UserProfile,
};
use crate::ports::import::MockImportSink;
use crate::ports::{
    Batches, LegacyConversation, LegacyCounts, LegacyMessage, LegacyRead, LegacySource, Quiet,
    Read, SourceError,
};

fn uid(s: &str) -> UserId {
    UserId::parse(s).unwrap()
}

fn cid(s: &str) -> ConversationId {
    ConversationId::parse(s).unwrap()
}

fn legacy_conversation(id: &str) -> LegacyConversation {
    LegacyConversation {
        id: cid(id),
        participants: vec![uid("a"), uid("b")],
        context: ConversationContext::default(),
        created_at: Timestamp::from_millis(1),
        updated_at: None,
        unread_counts: vec![(uid("b"), 5)],
        active: true,
    }
}

fn legacy_message(n: i64, conversation: &str, sender: &str, read_by: &[&str]) -> LegacyMessage {
    LegacyMessage {
        id: MessageId::parse(format!("m{n}")).unwrap(),
        conversation_id: cid(conversation),
        sender: uid(sender),
        body: MessageBody {
            kind: MessageKind::Text,
            text: format!("text {n}"),
            attachments: vec![],
            call: None,
        },
        created_at: Timestamp::from_millis(n * 1000),
        edited_at: None,
        read: LegacyRead::By(read_by.iter().map(|u| (uid(u), None)).collect()),
        delivered: None,
    }
}

#[derive(Default)]
struct VecSource {
    conversations: Vec<LegacyConversation>,
    messages: Vec<LegacyMessage>,
}

struct VecBatches<T>(VecDeque<T>);

#[async_trait]
impl<T: Send> Batches<T> for VecBatches<T> {
    async fn next_batch(&mut self, max: usize) -> Result<Option<Vec<Read<T>>>, SourceError> {
        if self.0.is_empty() {
            return Ok(None);
        }
        let n = max.min(self.0.len());
        Ok(Some(self.0.drain(..n).map(Read::Record).collect()))
    }
}

#[async_trait]
impl LegacySource for VecSource {
    async fn counts(&self) -> Result<LegacyCounts, SourceError> {
        Ok(LegacyCounts {
            conversations: self.conversations.len() as u64,
            messages: self.messages.len() as u64,
            notifications: 0,
            users: 0,
        })
    }

    async fn messages(&self) -> Result<Box<dyn Batches<LegacyMessage>>, SourceError> {
        Ok(Box::new(VecBatches(self.messages.clone().into())))
    }

    async fn conversations(&self) -> Result<Box<dyn Batches<LegacyConversation>>, SourceError> {
        Ok(Box::new(VecBatches(self.conversations.clone().into())))
    }

    async fn conversation(
        &self,
        id: &ConversationId,
    ) -> Result<Option<LegacyConversation>, SourceError> {
        Ok(self.conversations.iter().find(|c| &c.id == id).cloned())
    }

    async fn notifications(&self) -> Result<Box<dyn Batches<Notification>>, SourceError> {
        Ok(Box::new(VecBatches(VecDeque::new())))
    }

    async fn users(&self) -> Result<Box<dyn Batches<UserProfile>>, SourceError> {
        Ok(Box::new(VecBatches(VecDeque::new())))
    }
}

type Saved = Arc<Mutex<Vec<(Conversation, Vec<Message>)>>>;

/// A sink that starts empty, records every save, and reads back the conversations saved.
fn empty_sink(saved: &Saved) -> MockImportSink {
    let mut sink = MockImportSink::new();
    let stored = saved.clone();
    sink.expect_conversation().returning(move |id| {
        let saved = stored.lock().unwrap();
        Ok(saved
            .iter()
            .rev()
            .find(|(c, _)| &c.id == id)
            .map(|(c, _)| c.clone()))
    });
    sink.expect_max_seq().returning(|_| Ok(Seq::ZERO));
    sink.expect_conversation_with_key().returning(|_| Ok(None));
    sink.expect_stored_seqs().returning(|_, _| Ok(vec![]));
    let record = saved.clone();
    sink.expect_save().returning(move |c, m| {
        record.lock().unwrap().push((c.clone(), m.to_vec()));
        Ok(())
    });
    sink
}

fn one_conversation() -> VecSource {
    VecSource {
        conversations: vec![legacy_conversation("c")],
        messages: vec![
            legacy_message(1, "c", "a", &[]),
            legacy_message(2, "c", "a", &["b"]),
            legacy_message(3, "c", "a", &[]),
        ],
    }
}

#[tokio::test]
async fn messages_get_seqs_in_order_and_the_flags_give_the_marks() {
    let saved = Saved::default();
    let sink = empty_sink(&saved);
    let options = ImportOptions {
        batch: 2,
        dry_run: false,
    };
    let report = import("family", &one_conversation(), &sink, &Quiet, options)
        .await
        .unwrap();

    let saved = saved.lock().unwrap();
    let seqs: Vec<Vec<u64>> = saved
        .iter()
        .map(|(_, m)| m.iter().map(|m| m.seq.0).collect())
        .collect();
    // Two batches of messages, then the conversation with its marks.
    assert_eq!(seqs, [vec![1, 2], vec![3], vec![]]);
    assert_eq!(report.conversations.read, 1);
    let last = &saved.last().unwrap().0;
    assert_eq!(last.last_seq, Seq(3));
    let b = last.participant(&uid("b")).unwrap();
    assert_eq!(b.read.seq, Seq(2));
    assert_eq!(last.unread_for(&uid("b")), 1);
    assert_eq!(report.messages.new, 3);
    assert_eq!(report.conversations.new, 1);
    assert_eq!(
        report.read_disagreements.count, 1,
        "m1 is below b's mark, unflagged"
    );
    assert_eq!(
        report.unread_mismatches.count, 1,
        "legacy said 5, derived 1"
    );
}

#[tokio::test]
async fn a_second_run_over_stored_data_writes_nothing() {
    // What the first run stored.
    let saved = Saved::default();
    let first = empty_sink(&saved);
    import(
        "family",
        &one_conversation(),
        &first,
        &Quiet,
        ImportOptions::default(),
    )
    .await
    .unwrap();
    let stored = saved.lock().unwrap().last().unwrap().0.clone();
    let messages: Vec<(MessageId, Seq)> = saved
        .lock()
        .unwrap()
        .iter()
        .flat_map(|(_, m)| m.iter().map(|m| (m.id.clone(), m.seq)))
        .collect();

    let mut sink = MockImportSink::new();
    let conversation = stored.clone();
    sink.expect_conversation()
        .returning(move |_| Ok(Some(conversation.clone())));
    sink.expect_max_seq().returning(|_| Ok(Seq(3)));
    sink.expect_stored_seqs()
        .returning(move |_, _| Ok(messages.clone()));
    sink.expect_save().never();
    let report = import(
        "family",
        &one_conversation(),
        &sink,
        &Quiet,
        ImportOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!((report.messages.read, report.messages.new), (3, 0));
    assert_eq!(report.conversations.updated, 0);
}

#[tokio::test]
async fn a_duplicate_of_a_stored_conversation_keeps_its_own_id() {
    let saved = Saved::default();
    let mut sink = MockImportSink::new();
    let stored = saved.clone();
    sink.expect_conversation().returning(move |id| {
        let saved = stored.lock().unwrap();
        Ok(saved
            .iter()
            .rev()
            .find(|(c, _)| &c.id == id)
            .map(|(c, _)| c.clone()))
    });
    sink.expect_max_seq().returning(|_| Ok(Seq::ZERO));
    sink.expect_conversation_with_key()
        .returning(|_| Ok(Some(cid("older"))));
    sink.expect_stored_seqs().returning(|_, _| Ok(vec![]));
    let record = saved.clone();
    sink.expect_save().returning(move |c, m| {
        record.lock().unwrap().push((c.clone(), m.to_vec()));
        Ok(())
    });
    let report = import(
        "family",
        &one_conversation(),
        &sink,
        &Quiet,
        ImportOptions::default(),
    )
    .await
    .unwrap();
    let saved = saved.lock().unwrap();
    let conversation = &saved[0].0;
    assert_eq!(conversation.id, cid("c"));
    assert_eq!(conversation.context.get(CHOSEN_ID_KEY), Some("c"));
    assert_eq!(report.duplicate_conversations.count, 1);
}

#[tokio::test]
async fn messages_of_a_missing_conversation_are_skipped_and_reported() {
    let saved = Saved::default();
    let sink = empty_sink(&saved);
    let source = VecSource {
        conversations: vec![legacy_conversation("c")],
        messages: vec![
            legacy_message(1, "gone", "a", &[]),
            legacy_message(2, "gone", "a", &[]),
            legacy_message(3, "c", "a", &[]),
        ],
    };
    let report = import("family", &source, &sink, &Quiet, ImportOptions::default())
        .await
        .unwrap();
    assert_eq!(report.orphan_messages.count, 2);
    assert_eq!(report.messages.new, 1);
}

#[tokio::test]
async fn a_dry_run_reads_and_counts_but_never_writes() {
    let mut sink = MockImportSink::new();
    sink.expect_conversation().returning(|_| Ok(None));
    sink.expect_max_seq().returning(|_| Ok(Seq::ZERO));
    sink.expect_conversation_with_key().returning(|_| Ok(None));
    sink.expect_stored_seqs().returning(|_, _| Ok(vec![]));
    sink.expect_save().never();
    sink.expect_save_users().never();
    sink.expect_save_notifications().never();
    let options = ImportOptions {
        batch: 2,
        dry_run: true,
    };
    let mut source = one_conversation();
    // A conversation without messages: counted once, in the conversations phase.
    source.conversations.push(legacy_conversation("empty"));
    source.conversations[1].participants = vec![uid("a"), uid("z")];
    let report = import("family", &source, &sink, &Quiet, options)
        .await
        .unwrap();
    assert!(report.dry_run);
    assert_eq!(report.messages.new, 3);
    assert_eq!(report.conversations.new, 2);
}
