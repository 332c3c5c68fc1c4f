//! A conversation policy belongs to the listener: one process runs a listener that allows
//! only some role pairs beside a listener that allows everyone, over the same conversation.
//! Driven through each listener's HTTP routes (quickclinic's chats, which post messages).

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use switchboard::app::Requester;
use switchboard::bootstrap::build;
use switchboard::bootstrap::config::{ListenerSettings, Settings, StoreKind, Transport};
use switchboard::domain::{ConversationContext, Role, UserId, UserProfile};
use tower::ServiceExt;

use crate::support::{self, Claims};

fn quickclinic(name: &str, pairs: &[[&str; 2]]) -> ListenerSettings {
    ListenerSettings {
        name: name.into(),
        allowed_role_pairs: pairs
            .iter()
            .map(|[a, b]| [a.to_string(), b.to_string()])
            .collect(),
        ..ListenerSettings::new("quickclinic", "127.0.0.1:0", &[Transport::Rest])
    }
}

async fn post(
    router: &axum::Router,
    relation: &str,
    user: &str,
    text: &str,
) -> (StatusCode, Value) {
    let token = support::token(&Claims {
        sub: user,
        name: None,
        email: None,
        role: None,
        exp_in_secs: 3600,
    });
    let request = Request::post(format!("/api/doctorpatientrelations/{relation}/chats"))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(json!({ "text": text }).to_string()))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = to_bytes(response.into_body(), 64 * 1024).await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn a_restricted_listener_refuses_pairs_it_does_not_allow_beside_an_open_one() {
    let mut settings = Settings::default();
    settings.store.kind = StoreKind::Memory;
    settings.auth.jwt_secret = Some(support::JWT_SECRET.into());
    let open = quickclinic("open", &[]);
    let restricted = quickclinic("restricted", &[["client", "provider"]]);
    settings.listeners = vec![open.clone(), restricted.clone()];
    let app = build(&settings).await.unwrap();
    let open = app.listener_service(&open).unwrap().router;
    let restricted = app.listener_service(&restricted).unwrap().router;

    let with_role = |id: &str, role: &str| UserProfile {
        role: Role::new(role),
        ..UserProfile::bare(UserId::parse(id).unwrap())
    };
    for profile in [with_role("ann", "client"), with_role("bob", "client")] {
        app.use_cases.upsert_user(profile).await.unwrap();
    }
    let context = ConversationContext::new([
        ("doctorId".to_owned(), "ann".to_owned()),
        ("patientId".to_owned(), "bob".to_owned()),
    ])
    .unwrap();
    let people = vec![UserId::parse("ann").unwrap(), UserId::parse("bob").unwrap()];
    let (relation, _) = app
        .use_cases
        .open_conversation(&Requester::Service, people, context)
        .await
        .unwrap();
    let relation = relation.id.as_str();

    let (status, body) = post(&restricted, relation, "ann", "client to client").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("client")),
        "{body}"
    );
    let (status, body) = post(&open, relation, "ann", "client to client").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    app.use_cases
        .upsert_user(with_role("bob", "provider"))
        .await
        .unwrap();
    let (status, body) = post(&restricted, relation, "ann", "client to provider").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}
