//! Running again: an interrupted import continues to the result of an uninterrupted one, an
//! import at cut-over brings what the Node server wrote since the first, and a dry run
//! writes nothing.

use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use switchboard::app::import::{ImportOptions, import as import_with};
use switchboard::bootstrap::open_import;
use switchboard::domain::{
    Conversation, ConversationId, Message, MessageId, Notification, Seq, UserProfile,
};
use switchboard::ports::{ImportSink, Quiet, StoreError};

use super::{Legacy, Store, check_first_report, check_nothing_new, check_store, import, snapshot};
use crate::support::legacy_fixtures::{Family, Plan, add_more};

/// A sink that fails every write after the first `writes` (the process "dies" there: what
/// was written stays, nothing after it is).
struct DiesAfter<'a> {
    inner: &'a dyn ImportSink,
    writes: AtomicUsize,
}

impl DiesAfter<'_> {
    fn write(&self) -> Result<(), StoreError> {
        let left = self.writes.load(Ordering::SeqCst);
        if left == 0 {
            return Err(StoreError::Unavailable("killed halfway".into()));
        }
        self.writes.store(left - 1, Ordering::SeqCst);
        Ok(())
    }
}

#[async_trait]
impl ImportSink for DiesAfter<'_> {
    async fn conversation(&self, id: &ConversationId) -> Result<Option<Conversation>, StoreError> {
        self.inner.conversation(id).await
    }

    async fn conversation_with_key(&self, key: &str) -> Result<Option<ConversationId>, StoreError> {
        self.inner.conversation_with_key(key).await
    }

    async fn max_seq(&self, conversation: &ConversationId) -> Result<Seq, StoreError> {
        self.inner.max_seq(conversation).await
    }

    async fn stored_seqs(
        &self,
        conversation: &ConversationId,
        ids: &[MessageId],
    ) -> Result<Vec<(MessageId, Seq)>, StoreError> {
        self.inner.stored_seqs(conversation, ids).await
    }

    async fn save(
        &self,
        conversation: &Conversation,
        messages: &[Message],
    ) -> Result<(), StoreError> {
        self.write()?;
        self.inner.save(conversation, messages).await
    }

    async fn save_notifications(&self, batch: &[Notification]) -> Result<(u64, u64), StoreError> {
        self.write()?;
        self.inner.save_notifications(batch).await
    }

    async fn save_users(&self, batch: &[UserProfile]) -> Result<u64, StoreError> {
        self.write()?;
        self.inner.save_users(batch).await
    }
}

async fn interrupted_then_resumed(kind: &str, family: Family) {
    let Some(legacy) = Legacy::generate(Plan::new(family, 10, 30, 7)).await else {
        return;
    };
    let (Some(interrupted), Some(clean)) = (Store::fresh(kind).await, Store::fresh(kind).await)
    else {
        return;
    };
    let parts = open_import(&interrupted.settings, &legacy.request(false))
        .await
        .expect("the import opens");
    let dying = DiesAfter {
        inner: parts.sink.as_ref(),
        writes: AtomicUsize::new(9),
    };
    let options = ImportOptions {
        batch: 7,
        dry_run: false,
    };
    let died = import_with(parts.family, parts.source.as_ref(), &dying, &Quiet, options).await;
    assert!(died.is_err(), "the import was cut off halfway");
    drop(parts);

    let resumed = import(&interrupted.settings, &legacy, false).await;
    assert!(resumed.messages.new > 0, "{resumed}");
    assert!(
        resumed.messages.new < legacy.manifest.totals.messages,
        "{resumed}"
    );
    check_first_report(
        &import(&clean.settings, &legacy, false).await,
        &legacy.manifest,
    );

    let (a, b) = (interrupted.stores().await, clean.stores().await);
    check_store(&a, &legacy.manifest).await;
    assert_eq!(
        snapshot(&a, &legacy.manifest).await,
        snapshot(&b, &legacy.manifest).await,
        "the resumed import holds what the uninterrupted one does"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_import_resumes_to_the_same_result_on_sqlite() {
    interrupted_then_resumed("sqlite", Family::Kaajkaam).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_import_resumes_to_the_same_result_on_postgres() {
    interrupted_then_resumed("postgres", Family::Quickclinic).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_import_resumes_to_the_same_result_on_mongodb() {
    interrupted_then_resumed("mongo", Family::Marketplace).await;
}

/// Import, the Node server keeps writing (new messages, reads, notifications), import again.
async fn import_again_at_cut_over(kind: &str, family: Family) {
    let Some(mut legacy) = Legacy::generate(Plan::new(family, 10, 20, 11)).await else {
        return;
    };
    let Some(store) = Store::fresh(kind).await else {
        return;
    };
    check_first_report(
        &import(&store.settings, &legacy, false).await,
        &legacy.manifest,
    );

    let before = legacy.manifest.totals;
    legacy.manifest = add_more(&legacy.plan, &legacy.manifest, &legacy.target()).await;
    let after = legacy.manifest.totals;
    let report = import(&store.settings, &legacy, false).await;
    assert_eq!(
        report.messages.new,
        after.messages - before.messages,
        "{report}"
    );
    assert_eq!(
        report.notifications.new,
        after.notifications - before.notifications,
        "{report}"
    );
    assert!(report.conversations.updated > 0, "{report}");
    check_store(&store.stores().await, &legacy.manifest).await;
    check_nothing_new(&import(&store.settings, &legacy, false).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn importing_again_at_cut_over_brings_what_the_node_server_wrote_since() {
    import_again_at_cut_over("sqlite", Family::Kaajkaam).await;
    import_again_at_cut_over("postgres", Family::Calmora).await;
    import_again_at_cut_over("mongo", Family::Linsta).await;
    import_again_at_cut_over("sqlite", Family::Quickclinic).await;
    import_again_at_cut_over("postgres", Family::Marketplace).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_reports_what_an_import_writes_and_writes_nothing() {
    let Some(legacy) = Legacy::generate(Plan::new(Family::Kaajkaam, 8, 20, 3)).await else {
        return;
    };
    let Some(store) = Store::fresh("sqlite").await else {
        return;
    };
    let dry = import(&store.settings, &legacy, true).await;
    assert!(dry.dry_run);
    let stores = store.stores().await;
    for facts in &legacy.manifest.conversations {
        let id = ConversationId::parse(facts.id.clone()).unwrap();
        assert_eq!(stores.conversations.get(&id).await.unwrap(), None);
    }
    let real = import(&store.settings, &legacy, false).await;
    assert_eq!(dry.messages, real.messages);
    assert_eq!(dry.conversations, real.conversations);
    assert_eq!(dry.read_disagreements, real.read_disagreements);
    assert_eq!(dry.unread_mismatches, real.unread_mismatches);
    check_first_report(&real, &legacy.manifest);
}
