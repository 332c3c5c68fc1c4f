//! The store contract suite: one set of checks, run against every store adapter.
//!
//! Each check in the modules below is an `async fn(&Stores)` that tests one MUST sentence or
//! operation of `src/ports/store.rs` on fresh, empty stores. `store_contract_tests!` turns the
//! whole suite into one `#[tokio::test]` per check for one adapter, so that adding an adapter
//! is one line at the bottom of this file. A check added to a module must also be listed in
//! the macro, which is the one place that names them all.

mod calls;
mod conversations;
mod import_sink;
mod messages;
mod notifications;
pub mod support;
mod users;

#[cfg(feature = "mongo")]
use crate::support::mongo as mongo_support;
use support::Fixture;

/// `store_contract_tests!(name, factory)` generates the module `name` with one test per
/// check. `factory` is an expression giving a future of `Option<Fixture>`: `Some` of plain
/// `Stores` (`.into()`), or of `Fixture::keeping(stores, guard)` when something must outlive
/// the stores (a temporary directory, a database to drop); `None` skips the check, which only
/// a real server's factory may do, through `real_servers::unreachable` (a failure under CI).
/// It is evaluated once per test, so every test starts empty.
macro_rules! store_contract_tests {
    ($adapter:ident, $factory:expr) => {
        store_contract_tests!(@suite $adapter, $factory, {
            conversations: [
                get_or_create_returns_the_existing_conversation,
                get_or_create_is_idempotent_under_concurrency,
                get_or_create_conflicts_when_the_id_is_taken,
                a_large_group_is_got_or_created_once,
                get_reads_back_or_returns_none,
                list_for_user_is_newest_activity_first,
                hidden_conversations_reappear_with_a_new_message,
                hide_for_needs_a_participant,
                save_mark_moves_marks_up_only,
                total_unread_counts_every_conversation,
                contacts_of_lists_everyone_once,
            ],
            messages: [
                append_assigns_gap_free_seqs,
                concurrent_appends_get_seqs_one_to_n,
                a_resent_client_key_is_stored_once,
                concurrent_resends_are_stored_once,
                append_to_an_unknown_conversation_is_not_found,
                append_moves_the_senders_marks,
                get_reads_back_every_field,
                page_selects_newest_and_returns_oldest_first,
                after_returns_newer_messages_oldest_first,
                save_edit_updates_text_and_edit_time,
            ],
            notifications: [
                insert_then_get_reads_back_every_field,
                insert_with_a_taken_id_conflicts,
                mark_delivered_returns_only_newly_delivered,
                take_pending_takes_each_notification_once,
                take_pending_takes_the_oldest_up_to_the_limit,
                concurrent_take_pending_calls_are_disjoint,
                concurrent_small_batches_take_each_notification_once,
                concurrent_takers_giving_batches_back_lose_none,
                release_gives_taken_notifications_back,
                read_marks_and_unread_counts,
                list_for_is_newest_first,
            ],
            users: [
                upsert_then_get_reads_back,
                get_many_leaves_out_unknown_ids,
                last_active_and_profile_are_kept_apart,
            ],
            calls: [
                start_then_read_back,
                start_conflicts_when_either_party_is_busy,
                concurrent_calls_to_one_callee_let_one_through,
                update_saves_the_state_change,
                finish_happens_exactly_once,
                ringing_since_before_finds_unanswered_calls,
            ],
        });
    };
    (@suite $adapter:ident, $factory:expr, {
        $($area:ident: [$($check:ident),* $(,)?]),* $(,)?
    }) => {
        mod $adapter {
            #[allow(unused_imports)]
            use super::*;

            async fn fixture() -> ::std::option::Option<crate::store_contract::support::Fixture> {
                $factory.await
            }

            $(
                mod $area {
                    $(
                        // Several worker threads, so that the concurrency checks really race.
                        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                        async fn $check() {
                            let Some(fixture) = super::fixture().await else {
                                return;
                            };
                            crate::store_contract::$area::$check(&fixture.stores).await;
                        }
                    )*
                }
            )*
        }
    };
}

store_contract_tests!(memory, async {
    Some(switchboard::adapters::outbound::memory::memory_stores().into())
});

#[cfg(feature = "sqlite")]
store_contract_tests!(sqlite, async {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("store.db");
    let stores = switchboard::adapters::outbound::sqlite::SqliteStores::connect(
        path.to_str().expect("a UTF-8 temporary path"),
        4,
    )
    .await
    .expect("a fresh SQLite database");
    Some(Fixture::keeping(stores, dir))
});

// Appends in transactions (a server that advertises a replica set).
#[cfg(feature = "mongo")]
store_contract_tests!(mongo, async {
    let (stores, _, database) =
        mongo_support::TestMongoDatabase::open(mongo_support::MongoServer::ReplicaSet).await?;
    Some(Fixture::keeping(stores, database))
});

// Appends with ordered writes (a standalone server: no transactions).
#[cfg(feature = "mongo")]
store_contract_tests!(mongo_standalone, async {
    let (stores, _, database) =
        mongo_support::TestMongoDatabase::open(mongo_support::MongoServer::Standalone).await?;
    Some(Fixture::keeping(stores, database))
});

#[cfg(feature = "postgres")]
store_contract_tests!(postgres, async {
    use switchboard::adapters::outbound::postgres::PgStores;
    // A fresh database per check, dropped with the fixture.
    let database = match crate::support::postgres::TestDatabase::create("sb_contract").await {
        Ok(database) => database,
        Err(err) => {
            let server = PgStores::describe(&crate::support::postgres::server_url());
            crate::support::real_servers::unreachable(&format!("PostgreSQL at {server}"), err);
            return None;
        }
    };
    let stores = PgStores::connect(&database.url, 8, std::time::Duration::from_secs(10))
        .await
        .expect("the PostgreSQL stores open on a fresh database");
    Some(Fixture::keeping(stores, database))
});
