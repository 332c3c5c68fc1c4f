//! The state of one scenario: its own server (fresh memory store, ephemeral ports), its own
//! Node bridge, the users it made, and what the last request or event returned, so that the
//! `Then` steps can look at it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::bridge::{Bridge, Received};
use crate::support::{self, Claims, TestApp};

/// How long an expected event may take to arrive.
pub const WAIT: Duration = Duration::from_secs(5);
/// How long to watch for an event that must not arrive.
pub const QUIET: Duration = Duration::from_millis(300);

/// A user of the scenario: a profile known to the server and a token saying the same.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub name: String,
    pub email: String,
    pub token: String,
}

#[derive(Debug, cucumber::World)]
#[world(init = Self::start)]
pub struct Switchboard {
    app: Option<TestApp>,
    bridge: Option<Bridge>,
    users: HashMap<String, User>,
    /// Connection name → the user it connected as (a user may have several connections).
    clients: HashMap<String, String>,
    /// The conversation the scenario talks about: a linsta chat room, a quickclinic relation or
    /// a provisioned conversation (in the core they are one thing).
    conversation: Option<String>,
    /// Every conversation id a create-or-get request answered, in order.
    pub opened: Vec<String>,
    /// The last HTTP response: status and body.
    pub response: Option<(u16, Value)>,
    /// The last acknowledgement a client received.
    pub ack: Option<Value>,
    /// Per connection, the last chat message it received (payload in its dialect's shape).
    pub last_message: HashMap<String, Value>,
}

impl Switchboard {
    async fn start() -> Self {
        tokio::task::spawn_blocking(support::ensure_node_modules)
            .await
            .expect("the npm install task")
            .unwrap_or_else(|err| panic!("{err}"));
        Self {
            app: Some(support::spawn_app(&support::all_dialects()).await),
            bridge: Some(Bridge::spawn()),
            users: HashMap::new(),
            clients: HashMap::new(),
            conversation: None,
            opened: Vec::new(),
            response: None,
            ack: None,
            last_message: HashMap::new(),
        }
    }

    /// Ends the scenario's bridge and server (the `after` hook).
    pub async fn stop(&mut self) {
        if let Some(bridge) = self.bridge.take() {
            bridge.shutdown().await;
        }
        if let Some(app) = self.app.take() {
            app.stop().await;
        }
    }

    pub fn app(&self) -> &TestApp {
        self.app.as_ref().expect("the server is running")
    }

    pub fn bridge(&mut self) -> &mut Bridge {
        self.bridge.as_mut().expect("the bridge is running")
    }

    pub fn user(&self, name: &str) -> &User {
        self.users
            .get(name)
            .unwrap_or_else(|| panic!("no user {name:?}: add one with a Given step"))
    }

    /// The user behind a connection name.
    pub fn user_of(&self, client: &str) -> &User {
        let user = self.clients.get(client).map_or(client, String::as_str);
        self.user(user)
    }

    pub fn conversation(&self) -> String {
        self.conversation
            .clone()
            .expect("no conversation yet: open a chat room or a relation first")
    }

    pub fn set_conversation(&mut self, id: &str) {
        self.conversation = Some(id.to_owned());
        self.opened.push(id.to_owned());
    }

    /// Makes a user: a fresh ObjectId-like id, the profile upserted with the service key, and
    /// a token carrying the same name, email and role.
    pub async fn add_user(&mut self, label: &str, role: Option<&str>) {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let id = format!("66f0{n:020x}");
        let mut chars = label.chars();
        let name = chars
            .next()
            .map(|first| first.to_uppercase().chain(chars).collect::<String>())
            .unwrap_or_default();
        let email = format!("{label}@example.com");
        let token = support::token(&Claims {
            sub: &id,
            name: Some(&name),
            email: Some(&email),
            role,
            exp_in_secs: 3600,
        });
        let profile = json!({
            "name": name,
            "email": email,
            "avatar": format!("https://example.com/{id}.png"),
            "role": role.unwrap_or("user"),
        });
        let url = format!("{}/api/v1/users/{id}", self.app().url("native"));
        let (status, body) = self
            .bridge()
            .http("PUT", &url, service_headers(), Some(profile))
            .await;
        assert!(
            matches!(status, 200 | 201 | 204),
            "upserting user {label}: {status} {body}"
        );
        self.users.insert(
            label.to_owned(),
            User {
                id,
                name,
                email,
                token,
            },
        );
    }

    /// Opens a socket.io-client connection `client` as `user`; returns the bridge's reply.
    pub async fn connect(
        &mut self,
        client: &str,
        user: &str,
        url: String,
        options: Value,
    ) -> Value {
        self.clients.insert(client.to_owned(), user.to_owned());
        self.last_message.remove(client);
        self.bridge().connect(client, &url, options).await
    }

    /// An HTTP call, kept as the scenario's last response.
    pub async fn http(&mut self, method: &str, url: String, headers: Value, body: Option<Value>) {
        let response = self.bridge().http(method, &url, headers, body).await;
        self.response = Some(response);
    }

    /// An HTTP call with `user`'s token (`None`: anonymous), kept as the last response.
    pub async fn http_as(
        &mut self,
        user: Option<&str>,
        method: &str,
        url: String,
        body: Option<Value>,
    ) {
        let headers = match user {
            Some(user) => json!({ "authorization": format!("Bearer {}", self.user(user).token) }),
            None => json!({}),
        };
        self.http(method, url, headers, body).await;
    }

    pub fn response(&self) -> &(u16, Value) {
        self.response.as_ref().expect("no HTTP response yet")
    }

    /// Waits for `event` on `client` and takes it; fails the step with what did arrive.
    pub async fn expect(
        &mut self,
        client: &str,
        event: &str,
        matches: impl Fn(&Received) -> bool,
    ) -> Received {
        self.bridge()
            .expect(client, event, WAIT, &matches)
            .await
            .unwrap_or_else(|err| panic!("{err}"))
    }

    /// Fails the step if `client` receives a matching `event` within the quiet window.
    pub async fn expect_none(
        &mut self,
        client: &str,
        event: &str,
        matches: impl Fn(&Received) -> bool,
    ) {
        self.bridge()
            .expect_none(client, event, QUIET, &matches)
            .await
            .unwrap_or_else(|err| panic!("{err}"));
    }
}

/// The headers of a server-to-server call.
pub fn service_headers() -> Value {
    json!({ "x-api-key": support::SERVICE_KEY })
}

/// `"a, b, c"` → `["a", "b", "c"]`; `""` → `[]`.
pub fn list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Whether a wire timestamp is ISO-8601 UTC with milliseconds (`2026-01-05T12:00:00.000Z`).
pub fn is_iso_millis(value: &Value) -> bool {
    let Some(s) = value.as_str() else {
        return false;
    };
    let b = s.as_bytes();
    let digits = |range: std::ops::Range<usize>| range.into_iter().all(|i| b[i].is_ascii_digit());
    b.len() == 24
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && b[19] == b'.'
        && digits(20..23)
        && b[23] == b'Z'
}

/// The texts of a message list, in order.
pub fn texts(messages: &Value) -> Vec<String> {
    messages
        .as_array()
        .unwrap_or_else(|| panic!("expected a list of messages, got {messages}"))
        .iter()
        .map(|m| m["text"].as_str().unwrap_or_default().to_owned())
        .collect()
}
