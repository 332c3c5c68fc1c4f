//! kaajkaam's REST API under `/api/chat`, the family's main path, with the user's JWT in
//! `x-auth-token` or `Authorization: Bearer`:
//! - `POST /conversations { participantId, orderId?, gigId?, jobId? }` gets or creates the
//!   pair's conversation about that order, gig or job (201 created, 200 found);
//! - `GET /conversations` (mine, newest activity first), `GET /conversations/{id}`,
//!   `DELETE /conversations/{id}` (hidden for me until a newer message);
//! - `GET /conversations/{id}/messages?limit=50&skip=0` (oldest first within the page);
//!   `POST /conversations/{id}/messages` with JSON `{ text }`, or multipart with `text` and
//!   files in `attachments` (201, the message);
//! - `PUT /conversations/{id}/read`, `GET /unread-count` → `{ count }`;
//! - `POST /conversations/{id}/call-record { callType, duration, status }` (201, the call
//!   message).
//!
//! Errors are `{ message }`: 400 bad input, 401 no or bad token, 403 not a participant, 404
//! unknown, 413 a file over `blobs.max_bytes` or a body over `http.max_body_bytes`.

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::json::{CONTEXT_KEYS, conversation_json, message_json};
use crate::adapters::inbound::protocol::args;
use crate::adapters::inbound::transports::http::{
    ApiError, ApiPath, ApiQuery, JsonBody, RestState, UserCaller, read_limited,
};
use crate::app::{AppError, PostMessage, Requester};
use crate::domain::{
    CallInfo, CallOutcome, CallType, ConversationContext, ConversationId, MessageKind,
    MessageReceipt,
};
use crate::ports::Page;

/// The page size when the client gives none.
const DEFAULT_LIMIT: u32 = 50;

pub fn router() -> Router<RestState> {
    Router::new()
        .route(
            "/api/chat/conversations",
            post(open_conversation).get(list_conversations),
        )
        .route(
            "/api/chat/conversations/{id}",
            get(get_conversation).delete(hide_conversation),
        )
        .route(
            "/api/chat/conversations/{id}/messages",
            get(messages).post(send_message).layer(
                // Files count against their own limits (`RestLimits`), checked as they
                // arrive; the JSON form against the listener's body limit.
                DefaultBodyLimit::disable(),
            ),
        )
        .route("/api/chat/conversations/{id}/read", put(mark_read))
        .route("/api/chat/unread-count", get(unread_count))
        .route(
            "/api/chat/conversations/{id}/call-record",
            post(call_record),
        )
}

fn conversation_id(raw: String) -> Result<ConversationId, ApiError> {
    ConversationId::parse(raw).map_err(|e| ApiError::bad_id("conversationId", &e))
}

/// 201 with the conversation when it was created now, 200 when it existed.
async fn open_conversation(
    State(state): State<RestState>,
    UserCaller(actor): UserCaller,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let other = args::user_id(&body, "participantId")?;
    if &other == actor.id() {
        return Err(ApiError::bad_request(
            "participantId must be another user: a conversation has two participants",
        ));
    }
    let mut pairs = Vec::new();
    for key in CONTEXT_KEYS {
        match body.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::String(id)) if !id.trim().is_empty() => {
                pairs.push((key.to_owned(), id.clone()));
            }
            Some(_) => return Err(ApiError::bad_request(format!("{key} must be an id"))),
        }
    }
    let context = ConversationContext::new(pairs).map_err(AppError::from)?;
    let (conversation, created) = state
        .use_cases
        .open_conversation(
            &Requester::User(actor.id().clone()),
            vec![actor.id().clone(), other],
            context,
        )
        .await?;
    let (conversation, people) = state
        .use_cases
        .conversation_with_profiles(&actor, &conversation.id)
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(conversation_json(&conversation, &people))))
}

/// Newest activity first: one page of at most `Page::MAX_LIMIT` (the default); `?limit=&skip=`
/// reach further back.
async fn list_conversations(
    State(state): State<RestState>,
    UserCaller(actor): UserCaller,
    ApiQuery(window): ApiQuery<Window>,
) -> Result<Json<Value>, ApiError> {
    let page = Page::new(
        window.limit.unwrap_or(Page::MAX_LIMIT),
        window.skip.unwrap_or(0),
    );
    let (conversations, people) = state
        .use_cases
        .conversations_with_profiles(&actor, page)
        .await?;
    Ok(Json(Value::Array(
        conversations
            .iter()
            .map(|c| conversation_json(c, &people))
            .collect(),
    )))
}

async fn get_conversation(
    State(state): State<RestState>,
    UserCaller(actor): UserCaller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let id = conversation_id(id)?;
    let (conversation, people) = state
        .use_cases
        .conversation_with_profiles(&actor, &id)
        .await?;
    Ok(Json(conversation_json(&conversation, &people)))
}

async fn hide_conversation(
    State(state): State<RestState>,
    UserCaller(actor): UserCaller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let id = conversation_id(id)?;
    state.use_cases.hide_conversation(actor.id(), &id).await?;
    Ok(Json(
        json!({ "success": true, "message": "Conversation deleted" }),
    ))
}

#[derive(Debug, Deserialize)]
struct Window {
    limit: Option<u32>,
    skip: Option<u64>,
}

async fn messages(
    State(state): State<RestState>,
    UserCaller(actor): UserCaller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(window): ApiQuery<Window>,
) -> Result<Json<Value>, ApiError> {
    let id = conversation_id(id)?;
    let page = Page::new(
        window.limit.unwrap_or(DEFAULT_LIMIT),
        window.skip.unwrap_or(0),
    );
    let history = state.use_cases.history(actor.id(), &id, page).await?;
    let conversation = &history.conversation;
    Ok(Json(Value::Array(
        history
            .messages
            .iter()
            .map(|m| message_json(m, &conversation.receipt_for(m)))
            .collect(),
    )))
}

/// JSON `{ text }`, or multipart with a `text` field and files in `attachments`.
async fn send_message(
    State(state): State<RestState>,
    UserCaller(actor): UserCaller,
    ApiPath(id): ApiPath<String>,
    request: Request,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = conversation_id(id)?;
    let is_multipart = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let posted = if is_multipart {
        // A stranger's files are refused before they are read.
        state.use_cases.conversation_for(actor.id(), &id).await?;
        let (text, files) = super::form::read_message_form(&state, request).await?;
        state
            .use_cases
            .post_message_with_files(&actor, PostMessage::text(id, text), files)
            .await?
    } else {
        let body = read_json(&state, request).await?;
        let text = args::text(&body, "text")?;
        state
            .use_cases
            .post_message(&actor, PostMessage::text(id, text))
            .await?
    };
    Ok((
        StatusCode::CREATED,
        Json(message_json(&posted.message, &MessageReceipt::default())),
    ))
}

/// A JSON object body, within the listener's body limit (the route lifts axum's limit for
/// its files, so the JSON form enforces it here).
async fn read_json(state: &RestState, request: Request) -> Result<Map<String, Value>, ApiError> {
    let limits = state.limits;
    let (parts, body) = request.into_parts();
    let bytes = read_limited(body, limits.max_body_bytes, limits.upload_budget()).await?;
    let JsonBody(body) =
        JsonBody::from_request(Request::from_parts(parts, Body::from(bytes)), state).await?;
    Ok(body)
}

async fn mark_read(
    State(state): State<RestState>,
    UserCaller(actor): UserCaller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let id = conversation_id(id)?;
    state.use_cases.mark_conversation_read(&actor, &id).await?;
    Ok(Json(
        json!({ "success": true, "conversationId": id.as_str() }),
    ))
}

async fn unread_count(
    State(state): State<RestState>,
    UserCaller(actor): UserCaller,
) -> Result<Json<Value>, ApiError> {
    let count = state.use_cases.total_unread(actor.id()).await?;
    Ok(Json(json!({ "count": count })))
}

/// `{ callType: audio | video, duration: whole seconds, status: completed | missed |
/// declined }` → 201, the call message (sender: the caller who records it).
async fn call_record(
    State(state): State<RestState>,
    UserCaller(actor): UserCaller,
    ApiPath(id): ApiPath<String>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = conversation_id(id)?;
    let call_type = CallType::parse(args::string(&body, "callType")?)
        .ok_or_else(|| ApiError::bad_request("callType must be audio or video"))?;
    let status = CallOutcome::parse(args::string(&body, "status")?)
        .ok_or_else(|| ApiError::bad_request("status must be completed, missed or declined"))?;
    let duration = match body.get("duration") {
        None | Some(Value::Null) => 0,
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|d| u32::try_from(d).ok())
            .ok_or_else(|| ApiError::bad_request("duration must be whole seconds"))?,
        Some(_) => return Err(ApiError::bad_request("duration must be whole seconds")),
    };
    let request = PostMessage {
        kind: MessageKind::Call,
        call: Some(CallInfo {
            call_type,
            duration_secs: duration,
            status,
        }),
        ..PostMessage::text(id, "")
    };
    let posted = state.use_cases.post_message(&actor, request).await?;
    Ok((
        StatusCode::CREATED,
        Json(message_json(&posted.message, &MessageReceipt::default())),
    ))
}
