//! `switchboard import` end to end (docs/MIGRATION.md): legacy databases generated in each
//! family's shape (`support::legacy_fixtures`, with a manifest of what to expect), imported
//! into SQLite, PostgreSQL and MongoDB through the same code the command runs.
//!
//! - `flows`: all five families into one store of each kind; the result checked against the
//!   manifests (seqs in creation order, marks, unread counts, notifications); then each
//!   family's own client flows on it (`tests/js/import`, the real socket.io-client and REST);
//!   a second import changes nothing.
//! - `resume`: an import interrupted halfway and run again equals an uninterrupted one; an
//!   import again at cut-over brings what the Node server wrote since; a dry run writes nothing.
//! - `in_place`: on the Node server's own MongoDB database and PostgreSQL database, and
//!   `serve` refusing a database with unimported legacy data.
//! - `mapping`: fields a deployment renamed, named in a mapping file.

mod flows;
mod in_place;
mod mapping;
mod resume;

use std::any::Any;
use std::collections::BTreeMap;

use switchboard::app::import::{ImportOptions, ImportReport};
use switchboard::bootstrap::config::{StoreKind, StoreSettings};
use switchboard::bootstrap::{ImportRequest, open_stores, run_import};
use switchboard::domain::{ConversationId, Seq, UserId};
use switchboard::ports::{Page, Quiet, Stores};

use crate::support;
use crate::support::legacy_fixtures::{Family, Manifest, Plan, Target, write};

pub const FAMILIES: [Family; 5] = [
    Family::Calmora,
    Family::Marketplace,
    Family::Kaajkaam,
    Family::Linsta,
    Family::Quickclinic,
];

/// A store to import into, and what must outlive it (a directory, a database to drop).
pub struct Store {
    pub settings: StoreSettings,
    _keep: Box<dyn Any + Send>,
}

impl Store {
    /// A fresh `sqlite`, `postgres` or `mongo` store; `None` when its server is missing
    /// (outside CI; under CI that fails).
    pub async fn fresh(kind: &str) -> Option<Self> {
        let (settings, keep): (StoreSettings, Box<dyn Any + Send>) = match kind {
            "sqlite" => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let settings = StoreSettings {
                    kind: StoreKind::Sqlite,
                    sqlite_path: dir.path().join("imported.db"),
                    ..StoreSettings::default()
                };
                (settings, Box::new(dir))
            }
            "postgres" => {
                let database = postgres_database("sb_import").await?;
                let settings = StoreSettings {
                    kind: StoreKind::Postgres,
                    postgres_url: Some(database.url.clone()),
                    ..StoreSettings::default()
                };
                (settings, Box::new(database))
            }
            "mongo" => {
                let database = support::mongo::TestMongoDatabase::empty(
                    support::mongo::MongoServer::ReplicaSet,
                )
                .await?;
                let settings = StoreSettings {
                    kind: StoreKind::Mongo,
                    mongo_uri: Some(database.uri.clone()),
                    mongo_database: Some(database.name.clone()),
                    ..StoreSettings::default()
                };
                (settings, Box::new(database))
            }
            other => panic!("no store {other:?}"),
        };
        Some(Self {
            settings,
            _keep: keep,
        })
    }

    pub async fn stores(&self) -> Stores {
        open_stores(&self.settings)
            .await
            .expect("the imported store opens for serving")
    }
}

async fn postgres_database(prefix: &str) -> Option<support::postgres::TestDatabase> {
    match support::postgres::TestDatabase::create(prefix).await {
        Ok(database) => Some(database),
        Err(err) => {
            support::real_servers::unreachable("PostgreSQL", err);
            None
        }
    }
}

/// A generated legacy database, its URI, and the generator's manifest.
pub struct Legacy {
    pub plan: Plan,
    pub from: String,
    pub database: Option<String>,
    pub manifest: Manifest,
    _keep: Box<dyn Any + Send>,
}

impl Legacy {
    /// Generates `plan` into a fresh database of the family's kind.
    pub async fn generate(plan: Plan) -> Option<Self> {
        if plan.family.on_postgres() {
            let database = postgres_database("sb_legacy").await?;
            let manifest = write(&plan, &Target::Postgres { url: &database.url }).await;
            Some(Self {
                plan,
                from: database.url.clone(),
                database: None,
                manifest,
                _keep: Box::new(database),
            })
        } else {
            let database =
                support::mongo::TestMongoDatabase::empty(support::mongo::MongoServer::ReplicaSet)
                    .await?;
            let target = Target::Mongo {
                uri: &database.uri,
                database: &database.name,
            };
            let manifest = write(&plan, &target).await;
            Some(Self {
                plan,
                from: database.uri.clone(),
                database: Some(database.name.clone()),
                manifest,
                _keep: Box::new(database),
            })
        }
    }

    /// Where the generator writes more (`add_more`).
    pub fn target(&self) -> Target<'_> {
        match &self.database {
            Some(name) => Target::Mongo {
                uri: &self.from,
                database: name,
            },
            None => Target::Postgres { url: &self.from },
        }
    }

    pub fn request(&self, dry_run: bool) -> ImportRequest {
        ImportRequest {
            family: self.plan.family.name().to_owned(),
            from: self.from.clone(),
            database: self.database.clone(),
            mapping: None,
            options: ImportOptions { batch: 7, dry_run },
        }
    }
}

/// Runs the import as `switchboard import` does (a small batch, so batches split conversations).
pub async fn import(store: &StoreSettings, legacy: &Legacy, dry_run: bool) -> ImportReport {
    run_import(store, &legacy.request(dry_run), &Quiet)
        .await
        .unwrap_or_else(|e| panic!("import of {}: {e:#}", legacy.plan.family.name()))
}

/// Messages below a participant's read mark that the legacy flags leave unread: those the
/// generator planted, and those between the last one flagged read and a later message of
/// their own (posting reads what came before: docs/MIGRATION.md, "Read marks").
fn expected_disagreements(manifest: &Manifest) -> u64 {
    if !manifest.family.keeps_reads() {
        return 0;
    }
    let implied: usize = manifest
        .conversations
        .iter()
        .flat_map(|c| {
            c.participants.iter().map(|p| {
                c.messages
                    .iter()
                    .enumerate()
                    .filter(|(i, m)| m.sender != p.user && *i >= p.marked_upto && *i < p.read_upto)
                    .count()
            })
        })
        .sum();
    (manifest.disagreements.len() + implied) as u64
}

/// The report of a first import agrees with the manifest.
pub fn check_first_report(report: &ImportReport, manifest: &Manifest) {
    check_first_report_of(report, manifest, false);
}

/// `check_first_report`; `in_place`: into the Node server's own database, where a legacy
/// notification already in this store's layout (kaajkaam's are) counts as stored, not new.
pub fn check_first_report_of(report: &ImportReport, manifest: &Manifest, in_place: bool) {
    let family = manifest.family.name();
    let totals = &manifest.totals;
    assert_eq!(report.messages.new, totals.messages, "{family}: messages");
    assert_eq!(
        report.conversations.new, totals.conversations,
        "{family}: conversations"
    );
    if in_place {
        assert!(
            report.notifications.read == totals.notifications,
            "{family}: {report}"
        );
    } else {
        assert_eq!(
            report.notifications.new, totals.notifications,
            "{family}: notifications"
        );
    }
    assert_eq!(
        report.unreadable.count, 0,
        "{family}: {:?}",
        report.unreadable
    );
    assert_eq!(report.orphan_messages.count, 0, "{family}");
    assert_eq!(
        report.read_disagreements.count,
        expected_disagreements(manifest),
        "{family}: {:?}",
        report.read_disagreements
    );
    assert_eq!(
        report.unread_mismatches.count,
        manifest.unread_count_mismatches.len() as u64,
        "{family}: {:?}",
        report.unread_mismatches
    );
    assert_eq!(
        report.hidden_conversations,
        manifest.inactive_conversations.len() as u64,
        "{family}"
    );
}

/// A report that found nothing to write.
pub fn check_nothing_new(report: &ImportReport) {
    let family = &report.family;
    assert_eq!(report.messages.new, 0, "{family}: {report}");
    assert_eq!(report.conversations.new, 0, "{family}: {report}");
    assert_eq!(report.conversations.updated, 0, "{family}: {report}");
    assert_eq!(report.notifications.new, 0, "{family}: {report}");
    assert_eq!(report.notifications.updated, 0, "{family}: {report}");
    assert_eq!(report.users.updated, 0, "{family}: {report}");
}

/// The store holds what the manifest says: each conversation's messages in creation order at
/// seqs 1..n, each participant's marks and unread count, each user's notifications.
pub async fn check_store(stores: &Stores, manifest: &Manifest) {
    let family = manifest.family.name();
    for facts in &manifest.conversations {
        let id = ConversationId::parse(facts.id.clone()).unwrap();
        let conversation = stores
            .conversations
            .get(&id)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{family}: conversation {} imported", facts.id));
        let n = facts.messages.len() as u64;
        assert_eq!(conversation.last_seq, Seq(n), "{family} {}", facts.id);
        let messages = stores.messages.after(&id, Seq::ZERO, 10_000).await.unwrap();
        let ids: Vec<&str> = messages.iter().map(|m| m.id.as_str()).collect();
        let expected: Vec<&str> = facts.messages.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, expected, "{family} {}: creation order", facts.id);
        assert!(
            messages
                .iter()
                .enumerate()
                .all(|(i, m)| m.seq == Seq(i as u64 + 1)),
            "{family} {}: seqs 1..n",
            facts.id
        );
        for p in &facts.participants {
            let user = UserId::parse(p.user.clone()).unwrap();
            let state = conversation
                .participant(&user)
                .unwrap_or_else(|| panic!("{family} {}: participant {}", facts.id, p.user));
            assert_eq!(
                state.read.seq,
                Seq(p.read_upto as u64),
                "{family} {}: read mark of {}",
                facts.id,
                p.user
            );
            assert_eq!(
                conversation.unread_for(&user),
                p.expected_unread as u64,
                "{family} {}: unread of {}",
                facts.id,
                p.user
            );
            if let Some(delivered) = p.delivered_upto {
                assert!(
                    state.delivered.seq >= Seq(delivered as u64),
                    "{family} {}: delivered mark of {}",
                    facts.id,
                    p.user
                );
            }
        }
        assert_eq!(
            conversation.is_visible_to(&conversation.participants[0].user_id),
            facts.active,
            "{family} {}: soft delete",
            facts.id
        );
    }
    for user in &manifest.users {
        let id = UserId::parse(user.id.clone()).unwrap();
        let profile = stores.users.get(&id).await.unwrap();
        assert!(profile.is_some(), "{family}: profile of {}", user.id);
        assert_eq!(
            stores.notifications.unread_count(&id).await.unwrap(),
            user.unread_notifications,
            "{family}: unread notifications of {}",
            user.id
        );
    }
}

/// Everything the store holds for the manifest's conversations and users, for comparing two
/// imports (message bodies and times included, through `Debug`).
pub async fn snapshot(stores: &Stores, manifest: &Manifest) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for facts in &manifest.conversations {
        let id = ConversationId::parse(facts.id.clone()).unwrap();
        let conversation = stores.conversations.get(&id).await.unwrap();
        let messages = stores.messages.after(&id, Seq::ZERO, 10_000).await.unwrap();
        out.insert(
            format!("conversation {}", facts.id),
            format!("{conversation:?}\n{messages:?}"),
        );
    }
    for user in &manifest.users {
        let id = UserId::parse(user.id.clone()).unwrap();
        let profile = stores.users.get(&id).await.unwrap();
        let notifications = stores
            .notifications
            .list_for(&id, Page::new(Page::MAX_LIMIT, 0))
            .await
            .unwrap();
        out.insert(
            format!("user {}", user.id),
            format!("{profile:?}\n{notifications:?}"),
        );
    }
    out
}
