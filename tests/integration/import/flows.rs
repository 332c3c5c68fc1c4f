//! All five families imported into one store, checked against their manifests, then served:
//! each family's client flows (`tests/js/import/imported.test.mjs`) on the imported data, the
//! new messages continuing each conversation's seq, and a second import that changes nothing.

use serde_json::{Value, json};
use switchboard::domain::{ConversationId, Seq};

use super::{FAMILIES, Legacy, Store, check_first_report, check_nothing_new, check_store, import};
use crate::support;
use crate::support::legacy_fixtures::{Manifest, Plan};

/// The conversation each family's suite posts one message into: the first active one with
/// a few messages.
fn post_to(manifest: &Manifest) -> &str {
    manifest
        .conversations
        .iter()
        .find(|c| c.active && c.messages.len() >= 3)
        .map(|c| c.id.as_str())
        .expect("a plan with an active conversation of three messages or more")
}

/// What the Node suite needs of a manifest.
fn suite_facts(manifest: &Manifest) -> Value {
    let conversations: Vec<Value> = manifest
        .conversations
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "active": c.active,
                "messages": c.messages.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
                "participants": c.participants.iter().map(|p| json!({
                    "id": p.user,
                    "read_upto": p.read_upto,
                    "expected_unread": p.expected_unread,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let users: Vec<Value> = manifest
        .users
        .iter()
        .map(|u| {
            json!({
                "id": u.id,
                "unread_notifications": u.unread_notifications,
                "undelivered_notifications": u.undelivered_notifications,
            })
        })
        .collect();
    json!({ "conversations": conversations, "users": users, "post_to": post_to(manifest) })
}

async fn every_family_imports_and_serves(kind: &str) {
    let Some(store) = Store::fresh(kind).await else {
        return;
    };
    let mut legacies = Vec::new();
    for (i, family) in FAMILIES.into_iter().enumerate() {
        let plan = Plan::new(family, 10, 24, 40 + i as u64);
        let Some(legacy) = Legacy::generate(plan).await else {
            return;
        };
        let report = import(&store.settings, &legacy, false).await;
        check_first_report(&report, &legacy.manifest);
        legacies.push(legacy);
    }
    let stores = store.stores().await;
    for legacy in &legacies {
        check_store(&stores, &legacy.manifest).await;
    }
    drop(stores);

    // The families' own clients on the imported data.
    let facts = json!({
        "families": legacies
            .iter()
            .map(|l| (l.plan.family.name().to_owned(), suite_facts(&l.manifest)))
            .collect::<serde_json::Map<_, _>>(),
    });
    let file = tempfile::NamedTempFile::new().expect("a temporary file");
    std::fs::write(file.path(), facts.to_string()).expect("the facts file is written");
    let app = support::spawn_app_on(store.settings.clone(), &support::all_dialects()).await;
    let env = [("SB_IMPORTED", file.path().display().to_string())];
    crate::js_wire::run_node_suite_with(app, &["import/imported.test.mjs".to_owned()], &env).await;

    // Each suite posted one message into its `post_to` conversation: the next seq.
    let stores = store.stores().await;
    for legacy in &legacies {
        let id = ConversationId::parse(post_to(&legacy.manifest)).unwrap();
        let n = legacy
            .manifest
            .conversation(id.as_str())
            .unwrap()
            .messages
            .len() as u64;
        let newer = stores.messages.after(&id, Seq(n), 10).await.unwrap();
        let seqs: Vec<Seq> = newer.iter().map(|m| m.seq).collect();
        assert_eq!(
            seqs,
            [Seq(n + 1)],
            "{}: the message posted after the move continues the seq",
            legacy.plan.family.name()
        );
    }
    drop(stores);

    // Importing again finds nothing new, also after the apps moved marks and took
    // notifications.
    for legacy in &legacies {
        check_nothing_new(&import(&store.settings, legacy, false).await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_family_imports_into_sqlite_and_its_clients_work() {
    every_family_imports_and_serves("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_family_imports_into_postgres_and_its_clients_work() {
    every_family_imports_and_serves("postgres").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_family_imports_into_mongodb_and_its_clients_work() {
    every_family_imports_and_serves("mongo").await;
}
