//! A deployment whose fields drifted from its docs: without a mapping file its records are
//! reported unreadable and nothing of them is written; with one naming the drifted fields,
//! the import is whole.

use mongodb::bson::{Document, doc};
use switchboard::bootstrap::run_import;
use switchboard::ports::Quiet;

use super::{Legacy, Store, check_first_report, check_store, import};
use crate::support::legacy_fixtures::{Family, Plan};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mapping_file_names_the_fields_a_deployment_renamed() {
    let Some(legacy) = Legacy::generate(Plan::new(Family::Linsta, 6, 12, 9)).await else {
        return;
    };
    let Some(store) = Store::fresh("sqlite").await else {
        return;
    };
    let client = mongodb::Client::with_uri_str(&legacy.from).await.unwrap();
    let db = client.database(legacy.database.as_deref().unwrap());
    db.collection::<Document>("messages")
        .update_many(
            doc! {},
            doc! { "$rename": { "chatRoomId": "roomId", "text": "body" } },
        )
        .await
        .expect("fields renamed");

    let unmapped = import(&store.settings, &legacy, true).await;
    assert_eq!(unmapped.messages.read, 0, "{unmapped}");
    assert_eq!(
        unmapped.unreadable.count, legacy.manifest.totals.messages,
        "{unmapped}"
    );
    assert!(
        unmapped.unreadable.examples[0].contains("roomId")
            || unmapped.unreadable.examples[0].contains("chatRoomId"),
        "the reason names the field: {unmapped}"
    );

    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        file.path(),
        "[messages]\nconversation = \"roomId\"\ntext = \"body\"\n",
    )
    .unwrap();
    let mut request = legacy.request(false);
    request.mapping = Some(file.path().to_owned());
    let report = run_import(&store.settings, &request, &Quiet).await.unwrap();
    check_first_report(&report, &legacy.manifest);
    check_store(&store.stores().await, &legacy.manifest).await;

    std::fs::write(file.path(), "[messages]\ntxt = \"body\"\n").unwrap();
    let typo = run_import(&store.settings, &request, &Quiet)
        .await
        .err()
        .map(|e| format!("{e:#}"))
        .expect("an unknown key is refused");
    assert!(typo.contains("txt"), "{typo}");
}
