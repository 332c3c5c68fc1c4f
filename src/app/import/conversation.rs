//! One conversation's import: its stored state, the legacy messages in creation order, each
//! batch written with the conversation as it stands after it, and at the end the marks.
//!
//! Messages already stored (an earlier run, or an interrupted one) keep their seq; new ones
//! continue after the highest seq stored. Every batch is written with the conversation's last
//! seq and last message in the same `ImportSink::save`, so a run stopped anywhere leaves a
//! consistent store that the next run continues.

use std::collections::HashMap;

use super::ImportError;
use super::report::ImportReport;
use crate::domain::{
    CHOSEN_ID_KEY, Conversation, ConversationContext, Message, MessageId, ReadFold, Seq,
};
use crate::ports::{ImportSink, LegacyConversation, LegacyMessage};

pub struct ConversationImport {
    legacy: LegacyConversation,
    conversation: Conversation,
    /// The conversation as stored when the import began (None: new).
    stored: Option<Conversation>,
    next_seq: Seq,
    fold: ReadFold,
    pending: Vec<LegacyMessage>,
}

impl ConversationImport {
    /// Loads what the store has of `legacy`, or decides the new conversation: the family's
    /// context, or, when another stored conversation already has the same participants and
    /// context (a duplicate the Node server let in), the same context plus its own id, so
    /// that it stays a conversation of its own that its id reaches.
    pub async fn begin(
        sink: &dyn ImportSink,
        legacy: LegacyConversation,
        report: &mut ImportReport,
    ) -> Result<Self, ImportError> {
        let id = legacy.id.clone();
        let stored = sink
            .conversation(&id)
            .await
            .map_err(ImportError::store(&id))?;
        let max_seq = sink.max_seq(&id).await.map_err(ImportError::store(&id))?;
        let conversation = match &stored {
            Some(stored) => stored.clone(),
            None => Self::decide_new(sink, &legacy, report).await?,
        };
        let next_seq = Seq(conversation.last_seq.0.max(max_seq.0));
        let fold = ReadFold::new(conversation.participant_ids());
        Ok(Self {
            legacy,
            conversation,
            stored,
            next_seq,
            fold,
            pending: Vec::new(),
        })
    }

    async fn decide_new(
        sink: &dyn ImportSink,
        legacy: &LegacyConversation,
        report: &mut ImportReport,
    ) -> Result<Conversation, ImportError> {
        let id = &legacy.id;
        let created = |context| {
            Conversation::new(
                id.clone(),
                legacy.participants.clone(),
                context,
                legacy.created_at,
            )
            .map_err(|e| ImportError::Invalid(format!("conversation {id}: {e}")))
        };
        let mut conversation = created(legacy.context.clone())?;
        conversation.updated_at = legacy.updated_at.unwrap_or(legacy.created_at);
        let holder = sink
            .conversation_with_key(&conversation.key())
            .await
            .map_err(ImportError::store(id))?;
        if let Some(holder) = holder.filter(|holder| holder != id) {
            report
                .duplicate_conversations
                .add(|| format!("conversation {id} duplicates {holder}"));
            let pairs = legacy
                .context
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .chain([(CHOSEN_ID_KEY.to_owned(), id.as_str().to_owned())]);
            let context = ConversationContext::new(pairs)
                .map_err(|e| ImportError::Invalid(format!("conversation {id}: {e}")))?;
            let updated_at = conversation.updated_at;
            conversation = created(context)?;
            conversation.updated_at = updated_at;
        }
        Ok(conversation)
    }

    pub fn id(&self) -> &crate::domain::ConversationId {
        &self.legacy.id
    }

    /// Queues the next message (creation order); writes a batch when `batch` are queued.
    pub async fn push(
        &mut self,
        sink: &dyn ImportSink,
        message: LegacyMessage,
        batch: usize,
        report: &mut ImportReport,
    ) -> Result<(), ImportError> {
        if !self.conversation.is_participant(&message.sender) {
            report.outside_senders.add(|| {
                format!(
                    "message {} in {} from {}",
                    message.id, message.conversation_id, message.sender
                )
            });
        }
        self.pending.push(message);
        if self.pending.len() >= batch {
            self.flush(sink, report).await?;
        }
        Ok(())
    }

    /// Writes the queued messages that are not stored yet, with the conversation.
    async fn flush(
        &mut self,
        sink: &dyn ImportSink,
        report: &mut ImportReport,
    ) -> Result<(), ImportError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let id = self.legacy.id.clone();
        let ids: Vec<MessageId> = self.pending.iter().map(|m| m.id.clone()).collect();
        let stored: HashMap<MessageId, Seq> = sink
            .stored_seqs(&id, &ids)
            .await
            .map_err(ImportError::store(&id))?
            .into_iter()
            .collect();
        let mut new = Vec::new();
        for legacy in self.pending.drain(..) {
            report.messages.read += 1;
            let seq = match stored.get(&legacy.id) {
                Some(seq) => *seq,
                None => {
                    self.next_seq = Seq(self.next_seq.0 + 1);
                    let message = Message {
                        id: legacy.id.clone(),
                        conversation_id: id.clone(),
                        seq: self.next_seq,
                        sender: legacy.sender.clone(),
                        body: legacy.body.clone(),
                        client_key: None,
                        created_at: legacy.created_at,
                        edited_at: legacy.edited_at,
                    };
                    self.conversation.apply_posted(&message);
                    new.push(message);
                    self.next_seq
                }
            };
            self.fold.observe(seq, legacy.flags());
        }
        report.messages.new += new.len() as u64;
        if !new.is_empty() {
            sink.save(&self.conversation, &new)
                .await
                .map_err(ImportError::store(&id))?;
        }
        Ok(())
    }

    /// Writes what is queued, then the marks the flags give (never moving a stored mark
    /// down), the soft delete, and compares unread counts with the legacy ones.
    pub async fn finish(
        mut self,
        sink: &dyn ImportSink,
        batch_report: &mut ImportReport,
    ) -> Result<(), ImportError> {
        self.flush(sink, batch_report).await?;
        let report = batch_report;
        let id = self.legacy.id.clone();
        let last_seq = self.conversation.last_seq;
        for derived in self.fold.finish() {
            if derived.disagreements > 0 {
                let user = derived.user.clone();
                report.read_disagreements.add_many(
                    derived.disagreements,
                    derived
                        .samples
                        .iter()
                        .map(|m| format!("message {m} in {id}, for {user}")),
                );
            }
            if let Some(p) = self
                .conversation
                .participants
                .iter_mut()
                .find(|p| p.user_id == derived.user)
            {
                p.read = p.read.later(derived.read);
                p.delivered = p.delivered.later(derived.delivered).later(p.read);
                if !self.legacy.active && p.hidden_through.is_none_or(|h| h < last_seq) {
                    p.hidden_through = Some(last_seq);
                }
            }
        }
        if !self.legacy.active {
            report.hidden_conversations += 1;
        }
        for (user, legacy_count) in &self.legacy.unread_counts {
            if !self.conversation.is_participant(user) {
                continue;
            }
            let derived = self.conversation.unread_for(user);
            if derived != *legacy_count {
                report.unread_mismatches.add(|| {
                    format!("{user} in {id}: unreadCount {legacy_count}, derived {derived}")
                });
            }
        }
        match &self.stored {
            None => {
                report.conversations.new += 1;
                sink.save(&self.conversation, &[])
                    .await
                    .map_err(ImportError::store(&id))?;
            }
            Some(stored) if *stored != self.conversation => {
                report.conversations.updated += 1;
                sink.save(&self.conversation, &[])
                    .await
                    .map_err(ImportError::store(&id))?;
            }
            Some(_) => {}
        }
        Ok(())
    }
}
