//! quickclinic's REST routes, the doctor's or the patient's JWT on all of them:
//! `POST /api/doctorpatientrelations { doctorId, patientId }` gets or creates the relation
//! (a conversation between the two whose context names who is the doctor and who the
//! patient, so the pair in the other roles is another relation);
//! `GET /api/doctorpatientrelations/{relationId}/chats?page=1&limit=20` pages its messages as
//! the socket's `initial_messages` does; `POST …/chats { text }` sends one, answering
//! `201 { message }` while the use case's event reaches the sockets as `new_message`.
//! Creating answers 201 and finding an existing relation 200, so a client can tell them
//! apart; the family's clients accept either.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::DEFAULT_LIMIT;
use super::json::{DOCTOR_KEY, PATIENT_KEY, message_json, page_json, relation_json};
use crate::adapters::inbound::protocol::{HistoryWindow, args};
use crate::adapters::inbound::transports::http::{
    ApiError, ApiPath, ApiQuery, JsonBody, RestState, UserCaller,
};
use crate::app::{Actor, AppError, PostMessage, Requester};
use crate::domain::{ConversationContext, ConversationId, MessageReceipt, UserId};

pub fn router() -> Router<RestState> {
    Router::new()
        .route("/api/doctorpatientrelations", post(open_relation))
        .route(
            "/api/doctorpatientrelations/{relationId}/chats",
            get(relation_chats).post(send_chat),
        )
}

/// `{ id, doctorId, patientId, createdAt }`; 201 when created now, 200 when it existed.
async fn open_relation(
    State(state): State<RestState>,
    UserCaller(actor): UserCaller,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let party = |field: &str| -> Result<UserId, ApiError> {
        UserId::parse(args::string(&body, field)?).map_err(|e| ApiError::bad_id(field, &e))
    };
    let doctor = party(DOCTOR_KEY)?;
    let patient = party(PATIENT_KEY)?;
    if doctor == patient {
        return Err(ApiError::bad_request(
            "doctorId and patientId must be different users",
        ));
    }
    check_roles(&state, &actor, &doctor, &patient).await?;
    let context = ConversationContext::new([
        (DOCTOR_KEY.to_owned(), doctor.as_str().to_owned()),
        (PATIENT_KEY.to_owned(), patient.as_str().to_owned()),
    ])
    .map_err(AppError::from)?;
    // The use case refuses a caller who is neither party (403).
    let (relation, created) = state
        .use_cases
        .open_conversation(
            &Requester::User(actor.id().clone()),
            vec![doctor, patient],
            context,
        )
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(relation_json(&relation))))
}

/// Where roles are known (the caller's from their token or profile, the other party's from
/// their profile), the doctor side must be a doctor and the patient side a patient: a claim
/// in the body never makes anyone a doctor. Unknown roles are not checked, so families whose
/// tokens carry no role keep working.
async fn check_roles(
    state: &RestState,
    actor: &Actor,
    doctor: &UserId,
    patient: &UserId,
) -> Result<(), ApiError> {
    for (user, wanted) in [(doctor, "doctor"), (patient, "patient")] {
        let role = if user == actor.id() {
            actor.profile.role.clone()
        } else {
            state
                .use_cases
                .user_profile(user)
                .await?
                .and_then(|p| p.role)
        };
        if let Some(role) = role
            && role.as_str() != wanted
        {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("{user} is a {}, not a {wanted}", role.as_str()),
            ));
        }
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    page: Option<u32>,
    limit: Option<u32>,
}

/// `{ messages, pagination: { page, limit, total, totalPages, hasMore } }`.
async fn relation_chats(
    State(state): State<RestState>,
    UserCaller(actor): UserCaller,
    ApiPath(relation): ApiPath<String>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    let relation = relation_id(relation)?;
    let window = HistoryWindow::Numbered {
        page: query.page.unwrap_or(1).max(1),
        limit: query.limit.unwrap_or(DEFAULT_LIMIT),
    };
    let history = state
        .use_cases
        .history(actor.id(), &relation, window.page())
        .await?;
    Ok(Json(page_json(&history, window)))
}

/// `201 { message }`. The message is announced by the use case, so every connection of both
/// parties gets `new_message`, whichever dialect it speaks.
async fn send_chat(
    State(state): State<RestState>,
    UserCaller(actor): UserCaller,
    ApiPath(relation): ApiPath<String>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let relation = relation_id(relation)?;
    let text = args::text(&body, "text")?;
    let posted = state
        .use_cases
        .post_message(&actor, PostMessage::text(relation, text))
        .await?;
    // Just posted: nobody else has read it yet.
    let rendered = message_json(
        &posted.message,
        Some(&posted.conversation.context),
        &MessageReceipt::default(),
    );
    Ok((StatusCode::CREATED, Json(json!({ "message": rendered }))))
}

fn relation_id(raw: String) -> Result<ConversationId, ApiError> {
    ConversationId::parse(raw).map_err(|e| ApiError::bad_id("relationId", &e))
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use axum::http::StatusCode as S;
    use serde_json::json;

    use super::*;
    use crate::adapters::inbound::transports::http::harness::{Harness, has_message, token};
    use crate::domain::DomainEvent;

    async fn open(h: &Harness, by: &str, doctor: &str, patient: &str) -> (StatusCode, Value) {
        h.call(
            "POST",
            "/api/doctorpatientrelations",
            Some(&token(by)),
            Some(json!({ "doctorId": doctor, "patientId": patient })),
        )
        .await
    }

    async fn send(h: &Harness, by: &str, relation: &str, text: &str) -> (StatusCode, Value) {
        h.call(
            "POST",
            &format!("/api/doctorpatientrelations/{relation}/chats"),
            Some(&token(by)),
            Some(json!({ "text": text })),
        )
        .await
    }

    fn relation_of(body: &Value) -> String {
        body["id"].as_str().unwrap().to_owned()
    }

    #[tokio::test]
    async fn either_party_opens_the_same_relation() {
        let h = Harness::new(&super::super::Quickclinic::default()).await;
        let (status, created) = open(&h, "doc", "doc", "pat").await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(created["doctorId"], "doc");
        assert_eq!(created["patientId"], "pat");
        assert!(
            created["createdAt"]
                .as_str()
                .is_some_and(|s| s.ends_with('Z'))
        );
        let (status, again) = open(&h, "pat", "doc", "pat").await;
        assert_eq!((status, &again), (StatusCode::OK, &created));
        // The same two people in the other roles are another relation.
        let (status, swapped) = open(&h, "doc", "pat", "doc").await;
        assert_eq!(status, StatusCode::CREATED);
        assert_ne!(swapped["id"], created["id"]);
    }

    #[tokio::test]
    async fn known_roles_must_match_the_sides_they_take() {
        use crate::adapters::inbound::transports::http::harness::{SECRET, token_with};
        use crate::domain::{Role, UserProfile};
        let h = Harness::new(&super::super::Quickclinic::default()).await;
        let as_role = |sub: &str, role: &str| token_with(sub, json!({ "role": role }), SECRET);
        let relation =
            |doctor: &str, patient: &str| Some(json!({ "doctorId": doctor, "patientId": patient }));
        const PATH: &str = "/api/doctorpatientrelations";
        // A patient's token cannot name its holder the doctor.
        let (status, body) = h
            .call(
                "POST",
                PATH,
                Some(&as_role("mal", "patient")),
                relation("mal", "victim"),
            )
            .await;
        assert_eq!(status, S::FORBIDDEN, "{body}");
        assert!(has_message(&body));
        // Nor can a doctor make a known doctor the patient.
        h.use_cases
            .upsert_user(UserProfile {
                role: Role::new("doctor"),
                ..UserProfile::bare(UserId::parse("house").unwrap())
            })
            .await
            .unwrap();
        let (status, _) = h
            .call(
                "POST",
                PATH,
                Some(&as_role("doc", "doctor")),
                relation("doc", "house"),
            )
            .await;
        assert_eq!(status, S::FORBIDDEN);
        // Matching roles, or roles nobody stated, are fine.
        let (status, body) = h
            .call(
                "POST",
                PATH,
                Some(&as_role("doc", "doctor")),
                relation("doc", "pat"),
            )
            .await;
        assert_eq!(status, S::CREATED, "{body}");
        let (status, _) = h
            .call(
                "POST",
                PATH,
                Some(&as_role("pat2", "patient")),
                relation("house", "pat2"),
            )
            .await;
        assert_eq!(status, S::CREATED);
    }

    #[tokio::test]
    async fn chats_are_sent_announced_and_paged() {
        let h = Harness::new(&super::super::Quickclinic::default()).await;
        let relation = relation_of(&open(&h, "doc", "doc", "pat").await.1);
        let mut events = h.bus.subscribe();

        let (status, sent) = send(&h, "pat", &relation, "it hurts").await;
        assert_eq!(status, StatusCode::CREATED, "{sent}");
        let message = &sent["message"];
        assert!(message["id"].is_string());
        assert!(
            message["createdAt"]
                .as_str()
                .is_some_and(|s| s.ends_with('Z'))
        );
        assert_eq!(
            json!({
                "relationId": message["relationId"], "senderId": message["senderId"],
                "senderRole": message["senderRole"], "text": message["text"],
                "isRead": message["isRead"], "readAt": message["readAt"],
            }),
            json!({
                "relationId": relation, "senderId": "pat", "senderRole": "patient",
                "text": "it hurts", "isRead": false, "readAt": null,
            })
        );
        // Announced with no origin: every socket of both parties is told.
        let envelope = events.next().await.unwrap();
        assert!(envelope.origin.is_none());
        match &envelope.event {
            DomainEvent::MessagePosted { message: m, .. } => {
                assert_eq!(Some(m.id.as_str()), message["id"].as_str());
            }
            other => panic!("unexpected event {other:?}"),
        }

        for text in ["m2", "m3", "m4", "m5"] {
            assert_eq!(
                send(&h, "doc", &relation, text).await.0,
                StatusCode::CREATED
            );
        }
        let chats = format!("/api/doctorpatientrelations/{relation}/chats");
        let cases = [
            (
                "",
                vec!["it hurts", "m2", "m3", "m4", "m5"],
                json!({ "page": 1, "limit": 20, "total": 5, "totalPages": 1, "hasMore": false }),
            ),
            (
                "?page=1&limit=2",
                vec!["m4", "m5"],
                json!({ "page": 1, "limit": 2, "total": 5, "totalPages": 3, "hasMore": true }),
            ),
            (
                "?page=3&limit=2",
                vec!["it hurts"],
                json!({ "page": 3, "limit": 2, "total": 5, "totalPages": 3, "hasMore": false }),
            ),
            (
                "?page=0&limit=2",
                vec!["m4", "m5"],
                json!({ "page": 1, "limit": 2, "total": 5, "totalPages": 3, "hasMore": true }),
            ),
        ];
        for (query, texts, pagination) in cases {
            let (status, page) = h
                .call("GET", &format!("{chats}{query}"), Some(&token("doc")), None)
                .await;
            assert_eq!(status, StatusCode::OK, "{query}: {page}");
            let got: Vec<&str> = page["messages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["text"].as_str().unwrap())
                .collect();
            assert_eq!(got, texts, "{query}");
            assert_eq!(page["pagination"], pagination, "{query}");
        }
        let (_, page) = h
            .call(
                "GET",
                &format!("{chats}?limit=1"),
                Some(&token("pat")),
                None,
            )
            .await;
        assert_eq!(page["messages"][0]["senderRole"], "doctor");
    }

    #[tokio::test]
    async fn refusals_have_their_status_and_a_message() {
        let h = Harness::new(&super::super::Quickclinic::default()).await;
        let relation = relation_of(&open(&h, "doc", "doc", "pat").await.1);
        let chats = format!("/api/doctorpatientrelations/{relation}/chats");
        let unknown = "/api/doctorpatientrelations/66f1234567890abcdef01234/chats";
        let doc = || Some(token("doc"));
        let mallory = || Some(token("mallory"));
        let open = |bearer, body| {
            let uri = "/api/doctorpatientrelations".to_owned();
            ("POST", uri, bearer, Some(body))
        };
        let pair = json!({ "doctorId": "doc", "patientId": "pat" });
        let get = |uri: &str, bearer| ("GET", uri.to_owned(), bearer, None);
        let post = |uri: &str, bearer, body| ("POST", uri.to_owned(), bearer, Some(body));
        let text = |t: &str| json!({ "text": t });
        let cases = [
            (
                "anonymous relation",
                open(None, pair.clone()),
                S::UNAUTHORIZED,
            ),
            (
                "bad token",
                open(Some("x.y.z".into()), pair.clone()),
                S::UNAUTHORIZED,
            ),
            ("third party", open(mallory(), pair.clone()), S::FORBIDDEN),
            (
                "no patientId",
                open(doc(), json!({ "doctorId": "doc" })),
                S::BAD_REQUEST,
            ),
            (
                "numeric doctorId",
                open(doc(), json!({ "doctorId": 1, "patientId": "pat" })),
                S::BAD_REQUEST,
            ),
            (
                "same user twice",
                open(doc(), json!({ "doctorId": "doc", "patientId": "doc" })),
                S::BAD_REQUEST,
            ),
            ("anonymous GET", get(&chats, None), S::UNAUTHORIZED),
            (
                "anonymous POST",
                post(&chats, None, text("hi")),
                S::UNAUTHORIZED,
            ),
            ("stranger GET", get(&chats, mallory()), S::FORBIDDEN),
            (
                "stranger POST",
                post(&chats, mallory(), text("hi")),
                S::FORBIDDEN,
            ),
            ("unknown GET", get(unknown, doc()), S::NOT_FOUND),
            (
                "unknown POST",
                post(unknown, doc(), text("hi")),
                S::NOT_FOUND,
            ),
            (
                "blank text",
                post(&chats, doc(), text("  ")),
                S::BAD_REQUEST,
            ),
            ("no text", post(&chats, doc(), json!({})), S::BAD_REQUEST),
            (
                "numeric text",
                post(&chats, doc(), json!({ "text": 5 })),
                S::BAD_REQUEST,
            ),
            (
                "oversize text",
                post(&chats, doc(), text(&"x".repeat(10_001))),
                S::BAD_REQUEST,
            ),
            (
                "bad page",
                get(&format!("{chats}?page=one"), doc()),
                S::BAD_REQUEST,
            ),
            (
                "bad limit",
                get(&format!("{chats}?limit=-5"), doc()),
                S::BAD_REQUEST,
            ),
        ];
        for (label, (method, uri, bearer, body), expected) in cases {
            let (status, answer) = h.call(method, &uri, bearer.as_deref(), body).await;
            assert_eq!(status, expected, "{label}: {answer}");
            assert!(has_message(&answer), "{label}: {answer}");
        }
        // Nothing refused was stored.
        let (_, page) = h.call("GET", &chats, doc().as_deref(), None).await;
        assert_eq!(page["pagination"]["total"], 0, "{page}");
        // Exactly the limit is fine.
        assert_eq!(
            send(&h, "doc", &relation, &"y".repeat(10_000)).await.0,
            StatusCode::CREATED
        );
    }
}
