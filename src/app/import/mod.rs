//! `switchboard import`: a Node server's data into this server's store, with the ids clients
//! already hold, seqs in creation order, and read marks derived from the per-message flags
//! (`crate::domain::ReadFold`). Streamed: memory stays bounded by the batch size, whatever the source's size.
//!
//! Phases, each continuing where an earlier run stopped:
//! 1. users (profiles fill in what the store lacks);
//! 2. messages, conversation by conversation (`conversation`), which also imports each
//!    conversation that has messages;
//! 3. conversations without messages;
//! 4. notifications (new ones inserted, read and delivered state moved forward).
//!
//! Running it again imports only what is new and moves marks forward; nothing stored is
//! rewritten with the same values. `dry_run` reads the store but writes nothing.

mod conversation;
mod dry_run;
pub mod report;
#[cfg(test)]
mod tests;

use std::time::Instant;

use conversation::ConversationImport;
pub use dry_run::DryRun;
pub use report::{Finding, ImportReport, Tally};

use crate::domain::ConversationId;
use crate::ports::{ImportProgress, ImportSink, LegacySource, Read, SourceError, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportOptions {
    /// Records per read and per write.
    pub batch: usize,
    pub dry_run: bool,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            batch: 500,
            dry_run: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("writing {what}: {source}")]
    Store {
        what: String,
        #[source]
        source: StoreError,
    },
    #[error("{0}")]
    Invalid(String),
}

impl ImportError {
    fn store(id: &ConversationId) -> impl Fn(StoreError) -> ImportError + '_ {
        move |source| ImportError::Store {
            what: format!("conversation {id}"),
            source,
        }
    }

    fn store_batch(what: &'static str) -> impl Fn(StoreError) -> ImportError {
        move |source| ImportError::Store {
            what: what.to_owned(),
            source,
        }
    }
}

/// Runs every phase; returns what was found and done.
///
/// # Errors
/// When the source or the store fails; what was written until then stays, and a new run
/// continues from it.
pub async fn import(
    family: &str,
    source: &dyn LegacySource,
    sink: &dyn ImportSink,
    progress: &dyn ImportProgress,
    options: ImportOptions,
) -> Result<ImportReport, ImportError> {
    let started = Instant::now();
    let batch = options.batch.max(1);
    let dry = DryRun::new(sink);
    let sink: &dyn ImportSink = if options.dry_run { &dry } else { sink };
    let mut report = ImportReport::new(family, options.dry_run);
    let counts = source.counts().await?;

    progress.phase("users", counts.users);
    let mut users = source.users().await?;
    while let Some(records) = users.next_batch(batch).await? {
        progress.advance(records.len() as u64);
        let profiles = records_of(records, "user", &mut report);
        report.users.read += profiles.len() as u64;
        report.users.updated += sink
            .save_users(&profiles)
            .await
            .map_err(ImportError::store_batch("users"))?;
    }
    progress.done();

    progress.phase("messages", counts.messages);
    import_messages(source, sink, progress, batch, &mut report).await?;
    progress.done();

    progress.phase("conversations", counts.conversations);
    let mut conversations = source.conversations().await?;
    while let Some(records) = conversations.next_batch(batch).await? {
        progress.advance(records.len() as u64);
        for legacy in records_of(records, "conversation", &mut report) {
            report.conversations.read += 1;
            // Those with messages were imported with them.
            let known = sink
                .conversation(&legacy.id)
                .await
                .map_err(ImportError::store(&legacy.id))?;
            if known.is_none() && !dry.saw(&legacy.id) {
                ConversationImport::begin(sink, legacy, &mut report)
                    .await?
                    .finish(sink, &mut report)
                    .await?;
            }
        }
    }
    progress.done();

    progress.phase("notifications", counts.notifications);
    let mut notifications = source.notifications().await?;
    while let Some(records) = notifications.next_batch(batch).await? {
        progress.advance(records.len() as u64);
        let batch = records_of(records, "notification", &mut report);
        report.notifications.read += batch.len() as u64;
        let (new, updated) = sink
            .save_notifications(&batch)
            .await
            .map_err(ImportError::store_batch("notifications"))?;
        report.notifications.new += new;
        report.notifications.updated += updated;
    }
    progress.done();

    report.elapsed_secs = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Phase 2: the messages stream comes grouped by conversation; each group is one
/// `ConversationImport`.
async fn import_messages(
    source: &dyn LegacySource,
    sink: &dyn ImportSink,
    progress: &dyn ImportProgress,
    batch: usize,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    let mut messages = source.messages().await?;
    let mut current: Option<ConversationImport> = None;
    // The conversation of the messages being skipped because the source lacks it.
    let mut orphaned: Option<ConversationId> = None;
    while let Some(records) = messages.next_batch(batch).await? {
        progress.advance(records.len() as u64);
        for message in records_of(records, "message", report) {
            let conversation = &message.conversation_id;
            if orphaned.as_ref() == Some(conversation) {
                report
                    .orphan_messages
                    .add(|| orphan(&message.id, conversation));
                continue;
            }
            if current.as_ref().is_none_or(|c| c.id() != conversation) {
                if let Some(done) = current.take() {
                    done.finish(sink, report).await?;
                }
                match source.conversation(conversation).await? {
                    Some(legacy) => {
                        orphaned = None;
                        current = Some(ConversationImport::begin(sink, legacy, report).await?);
                    }
                    None => {
                        report
                            .orphan_messages
                            .add(|| orphan(&message.id, conversation));
                        orphaned = Some(conversation.clone());
                        continue;
                    }
                }
            }
            if let Some(importing) = current.as_mut() {
                importing.push(sink, message, batch, report).await?;
            }
        }
    }
    if let Some(done) = current.take() {
        done.finish(sink, report).await?;
    }
    Ok(())
}

fn orphan(message: &crate::domain::MessageId, conversation: &ConversationId) -> String {
    format!("message {message} of conversation {conversation}")
}

/// The mapped records of a batch; the unreadable ones go to the report.
fn records_of<T>(records: Vec<Read<T>>, kind: &str, report: &mut ImportReport) -> Vec<T> {
    records
        .into_iter()
        .filter_map(|read| match read {
            Read::Record(record) => Some(record),
            Read::Unreadable { id, reason } => {
                report.unreadable.add(|| format!("{kind} {id}: {reason}"));
                None
            }
        })
        .collect()
}
