//! Importing into the Node server's own database, and `serve` refusing a database that still
//! holds legacy data that was never imported.

use mongodb::bson::{Document, doc};
use switchboard::adapters::outbound::mongo::MongoStores;
use switchboard::adapters::outbound::postgres::PgStores;
use switchboard::bootstrap::config::{StoreKind, StoreSettings};
use switchboard::ports::StoreError;

use super::{Legacy, check_first_report_of, check_nothing_new, check_store, import};
use crate::support::legacy_fixtures::{Family, Plan};
use crate::support::mongo::TestMongoDatabase;

fn unavailable_message(result: Result<impl Sized, StoreError>) -> String {
    match result {
        Err(StoreError::Unavailable(message)) => message,
        Err(other) => panic!("expected Unavailable, got {other:?}"),
        Ok(_) => panic!("the store opened on unimported legacy data"),
    }
}

async fn in_place_on_mongodb(family: Family) {
    let Some(legacy) = Legacy::generate(Plan::new(family, 8, 15, 5)).await else {
        return;
    };
    let name = legacy.database.clone().unwrap();
    let settings = StoreSettings {
        kind: StoreKind::Mongo,
        mongo_uri: Some(legacy.from.clone()),
        mongo_database: Some(name.clone()),
        ..StoreSettings::default()
    };
    let database = TestMongoDatabase {
        uri: legacy.from.clone(),
        name: name.clone(),
    };
    let refused = unavailable_message(MongoStores::connect(&database.settings()).await);
    assert!(refused.contains("switchboard import --family"), "{refused}");
    assert!(refused.contains("never imported"), "{refused}");

    check_first_report_of(
        &import(&settings, &legacy, false).await,
        &legacy.manifest,
        true,
    );
    let (stores, _) = MongoStores::connect(&database.settings())
        .await
        .expect("the imported database serves");
    check_store(&stores, &legacy.manifest).await;
    check_nothing_new(&import(&settings, &legacy, false).await);

    // The Node server's own fields are still there beside the added ones.
    let raw = database.raw().await;
    let messages = raw.collection::<Document>("messages");
    let legacy_field = match family {
        Family::Kaajkaam => "readBy",
        Family::Linsta => "chatRoomId",
        _ => "createdAt",
    };
    let without_seq = messages
        .count_documents(doc! { "seq": { "$exists": false } })
        .await
        .unwrap();
    assert_eq!(without_seq, 0, "every legacy message was upgraded in place");
    let kept = messages
        .count_documents(doc! { legacy_field: { "$exists": true } })
        .await
        .unwrap();
    assert_eq!(kept, legacy.manifest.totals.messages, "{legacy_field} kept");
    if family == Family::Kaajkaam {
        let conversations = raw.collection::<Document>("conversations");
        for id in &legacy.manifest.inactive_conversations {
            let oid = mongodb::bson::oid::ObjectId::parse_str(id).unwrap();
            let doc = conversations
                .find_one(doc! { "_id": oid })
                .await
                .unwrap()
                .unwrap();
            assert_eq!(doc.get_bool("isActive"), Ok(false), "isActive kept: {doc}");
            assert!(doc.contains_key("unreadCount"), "unreadCount kept: {doc}");
            assert!(doc.contains_key("identityKey"), "identityKey added: {doc}");
        }
    }
    // The database is dropped with `database`; `legacy` would drop it again, harmlessly.
    drop(stores);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kaajkaam_imports_in_place_on_its_mongodb_database() {
    in_place_on_mongodb(Family::Kaajkaam).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linsta_imports_in_place_on_its_mongodb_database() {
    in_place_on_mongodb(Family::Linsta).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quickclinic_imports_in_place_on_its_postgres_database() {
    let Some(legacy) = Legacy::generate(Plan::new(Family::Quickclinic, 8, 15, 5)).await else {
        return;
    };
    let settings = StoreSettings {
        kind: StoreKind::Postgres,
        postgres_url: Some(legacy.from.clone()),
        ..StoreSettings::default()
    };
    let connect = || PgStores::connect(&legacy.from, 4, std::time::Duration::from_secs(5));
    let refused = unavailable_message(connect().await);
    assert!(
        refused.contains("switchboard import --family quickclinic"),
        "{refused}"
    );
    check_first_report_of(
        &import(&settings, &legacy, false).await,
        &legacy.manifest,
        true,
    );
    let stores = connect().await.expect("the imported database serves");
    check_store(&stores, &legacy.manifest).await;
    check_nothing_new(&import(&settings, &legacy, false).await);
}
