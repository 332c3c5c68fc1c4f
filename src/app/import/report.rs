//! What an import run found and did: counts, and a few examples of everything worth a look.
//! Printed for the operator (`Display`) or as JSON (`Serialize`) for scripts and tests.

use std::fmt;

use serde::Serialize;

/// How many examples each finding keeps.
pub const SAMPLES: usize = 10;

/// A count with its first few examples.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub count: u64,
    pub examples: Vec<String>,
}

impl Finding {
    pub fn add(&mut self, example: impl FnOnce() -> String) {
        self.add_many(1, std::iter::once_with(example));
    }

    pub fn add_many(&mut self, count: u64, examples: impl IntoIterator<Item = String>) {
        self.count += count;
        let room = SAMPLES.saturating_sub(self.examples.len());
        self.examples.extend(examples.into_iter().take(room));
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Records read from the source.
    pub read: u64,
    /// Written for the first time.
    pub new: u64,
    /// Already there and changed (marks moved, profile fields filled in).
    pub updated: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImportReport {
    pub family: String,
    /// Nothing was written: the counts say what a real run would do.
    pub dry_run: bool,
    pub conversations: Tally,
    pub messages: Tally,
    pub notifications: Tally,
    /// Profiles: `updated` counts those created or filled in (`new` stays 0: the sink does
    /// not tell the two apart).
    pub users: Tally,
    /// Documents or rows that could not be mapped (a missing or bad field), skipped.
    pub unreadable: Finding,
    /// Messages whose conversation is not in the source, skipped.
    pub orphan_messages: Finding,
    /// Conversations whose participants and context equal an earlier one's (the Node server
    /// let duplicates in): imported under their own id with it recorded in their context, so
    /// that clients holding that id still reach them.
    pub duplicate_conversations: Finding,
    /// Messages from others below a reader's mark that the legacy flags left unread.
    pub read_disagreements: Finding,
    /// Participants whose derived unread count differs from the legacy `unreadCount`.
    pub unread_mismatches: Finding,
    /// Messages whose sender is not a participant of their conversation (imported as they are).
    pub outside_senders: Finding,
    /// Soft-deleted conversations (`isActive: false`), hidden for every participant.
    pub hidden_conversations: u64,
    /// Wall time of the run.
    pub elapsed_secs: f64,
}

impl ImportReport {
    pub fn new(family: &str, dry_run: bool) -> Self {
        Self {
            family: family.to_owned(),
            dry_run,
            ..Self::default()
        }
    }
}

fn tally(f: &mut fmt::Formatter<'_>, name: &str, t: &Tally) -> fmt::Result {
    writeln!(
        f,
        "  {name:<14} {:>10} read {:>10} new {:>10} updated",
        t.read, t.new, t.updated
    )
}

fn finding(f: &mut fmt::Formatter<'_>, name: &str, x: &Finding) -> fmt::Result {
    if x.count == 0 {
        return Ok(());
    }
    writeln!(f, "  {name}: {}", x.count)?;
    for example in &x.examples {
        writeln!(f, "      {example}")?;
    }
    if x.count > x.examples.len() as u64 {
        writeln!(f, "      …")?;
    }
    Ok(())
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let heading = if self.dry_run {
            "dry run: nothing written, the counts say what a run would write"
        } else {
            "done"
        };
        writeln!(
            f,
            "import of {} ({heading}, {:.1} s)",
            self.family, self.elapsed_secs
        )?;
        tally(f, "conversations", &self.conversations)?;
        tally(f, "messages", &self.messages)?;
        if self.dry_run {
            // Comparing them would need reads the import sink does not offer.
            for (name, t) in [
                ("notifications", &self.notifications),
                ("users", &self.users),
            ] {
                writeln!(
                    f,
                    "  {name:<14} {:>10} read (not compared in a dry run)",
                    t.read
                )?;
            }
        } else {
            tally(f, "notifications", &self.notifications)?;
            // A profile is created or filled in: one count, `updated`.
            writeln!(
                f,
                "  {:<14} {:>10} read {:>10} created or filled in",
                "users", self.users.read, self.users.updated
            )?;
        }
        if self.hidden_conversations > 0 {
            writeln!(
                f,
                "  soft-deleted conversations, hidden for their participants: {}",
                self.hidden_conversations
            )?;
        }
        finding(f, "unreadable records (skipped)", &self.unreadable)?;
        finding(
            f,
            "messages of conversations the source does not have (skipped)",
            &self.orphan_messages,
        )?;
        finding(
            f,
            "duplicate conversations (kept under their own id)",
            &self.duplicate_conversations,
        )?;
        finding(
            f,
            "messages counted read by a mark that their flags left unread",
            &self.read_disagreements,
        )?;
        finding(
            f,
            "unread counts that differ from the legacy unreadCount",
            &self.unread_mismatches,
        )?;
        finding(
            f,
            "messages from senders outside their conversation (imported)",
            &self.outside_senders,
        )
    }
}
