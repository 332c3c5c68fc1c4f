//! What the test binaries share (`integration`, `features`): the whole server started
//! in-process on ephemeral ports with a listener per chosen dialect on the memory store (or a
//! chosen one), the test secrets, HS256 tokens, the Node.js setup of `tests/js`, real
//! database servers (`real_servers`, `postgres`, `mongo`), and generated legacy databases of
//! the Node servers for the import (`legacy_fixtures`).

// Each test binary compiles this module and uses a different part of it.
#![allow(dead_code)]

pub mod legacy_fixtures;
#[cfg(feature = "mongo")]
pub mod mongo;
pub mod native_client;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod process;
pub mod raw_http;
pub mod real_servers;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;

use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};
use switchboard::adapters::inbound::dialects;
use switchboard::bootstrap::config::{
    ListenerSettings, Settings, StoreKind, StoreSettings, Transport,
};
use switchboard::bootstrap::serve::{self, RunningServer};

pub const JWT_SECRET: &str = "switchboard-black-box-secret";
pub const SERVICE_KEY: &str = "switchboard-black-box-service-key";
/// How long a call rings unanswered before it is missed, in the test server.
pub const RING_TIMEOUT_SECS: u64 = 4;
/// The largest upload of the test server: small, so that refusing a larger one is cheap.
pub const MAX_FILE_BYTES: u64 = 256 * 1024;

/// A running server and the base URLs of its listeners, one per dialect it was started
/// with.
pub struct TestApp {
    server: RunningServer,
    urls: Vec<(String, String)>,
    /// Where the server keeps uploads; removed with the app.
    _uploads: tempfile::TempDir,
}

impl std::fmt::Debug for TestApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestApp")
            .field("urls", &self.urls)
            .finish_non_exhaustive()
    }
}

/// The listeners the black-box suites use: one per dialect of the registry, named after it;
/// for each dialect with socket events, a second one with legacy identity on (a bare
/// `userId` in the handshake, or the identify event of a dialect that has one), named
/// `<dialect>_legacy`, and a third that lets only clients and providers message each other,
/// named `<dialect>_restricted`.
pub fn all_dialects() -> Vec<String> {
    let mut names = Vec::new();
    for dialect in dialects::registry() {
        names.push(dialect.name().to_owned());
        if !dialect.events().is_empty() {
            names.push(format!("{}{LEGACY}", dialect.name()));
            names.push(format!("{}{RESTRICTED}", dialect.name()));
        }
    }
    names
}

/// The suffix of a listener name that turns legacy identity on.
const LEGACY: &str = "_legacy";
/// The suffix of a listener name that allows only the role pair client–provider.
const RESTRICTED: &str = "_restricted";

/// The listener `name` on an ephemeral port: the dialect of that name (or, for
/// `<dialect>_legacy` and `<dialect>_restricted`, that dialect with legacy identity on or
/// the client–provider policy), with its socket transport (the raw WebSocket for native,
/// Socket.IO for the families) and REST, or REST alone for a dialect without socket events.
fn listener(name: &str) -> ListenerSettings {
    let (dialect, legacy, restricted) = if let Some(d) = name.strip_suffix(LEGACY) {
        (d, true, false)
    } else if let Some(d) = name.strip_suffix(RESTRICTED) {
        (d, false, true)
    } else {
        (name, false, false)
    };
    let found = dialects::by_name(dialect)
        .unwrap_or_else(|| panic!("no dialect {dialect:?} in the registry"));
    let transports: &[Transport] = if found.events().is_empty() {
        &[Transport::Rest]
    } else if found.speaks_raw_websocket() {
        &[Transport::WebSocket, Transport::Rest]
    } else {
        &[Transport::SocketIo, Transport::Rest]
    };
    let pairs = if restricted {
        vec![["client".to_owned(), "provider".to_owned()]]
    } else {
        Vec::new()
    };
    ListenerSettings {
        name: name.to_owned(),
        legacy_identity: legacy,
        allowed_role_pairs: pairs,
        ..ListenerSettings::new(dialect, "127.0.0.1:0", transports)
    }
}

/// Logs stay quiet unless `TEST_LOG` is set (then `RUST_LOG`, or `info`, filters them).
fn init_test_log() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            let filter = tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_test_writer()
                .try_init();
        }
    });
}

/// Starts the server as a deployment would run it, on the memory store, with a listener on
/// port 0 for each of `listeners` (dialect names, see `listener`).
pub async fn spawn_app(listeners: &[String]) -> TestApp {
    spawn_app_on(memory_store(), listeners).await
}

/// Starts the server as a deployment would run it, on the given store, with a listener on
/// port 0 for each of `listeners`.
pub async fn spawn_app_on(store: StoreSettings, listeners: &[String]) -> TestApp {
    spawn_app_with(store, listeners, |_| {}).await
}

/// `spawn_app_on`, with the test settings changed by `adjust` before the server starts.
pub async fn spawn_app_with(
    store: StoreSettings,
    listeners: &[String],
    adjust: impl FnOnce(&mut Settings),
) -> TestApp {
    init_test_log();
    let mut settings = Settings {
        store,
        ..Settings::default()
    };
    settings.auth.jwt_secret = Some(JWT_SECRET.into());
    settings.auth.service_key = Some(SERVICE_KEY.into());
    settings.listeners = listeners.iter().map(|name| listener(name)).collect();
    // Every test client is 127.0.0.1, and the suites run side by side: an address limit
    // would count them all as one client. The limit has its own tests.
    settings.limits.rest_requests_per_second_per_address = 0;
    // Short enough for a test to wait out an unanswered call.
    settings.chat.ring_timeout_secs = RING_TIMEOUT_SECS;
    let uploads = tempfile::tempdir().expect("a temporary upload directory");
    settings.blobs.dir = uploads.path().to_owned();
    settings.blobs.max_bytes = MAX_FILE_BYTES;
    adjust(&mut settings);
    let server = serve::start(settings)
        .await
        .expect("the server starts with the test settings");
    let urls = listeners
        .iter()
        .map(|name| (name.clone(), format!("http://{}", server.addr(name))))
        .collect();
    TestApp {
        server,
        urls,
        _uploads: uploads,
    }
}

impl TestApp {
    /// The base URL of the listener `name`.
    ///
    /// # Panics
    /// When the app was started without that listener.
    pub fn url(&self, name: &str) -> &str {
        self.urls
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, url)| url.as_str())
            .unwrap_or_else(|| panic!("the app was started without a {name} listener"))
    }

    /// Every listener: name and base URL.
    pub fn urls(&self) -> &[(String, String)] {
        &self.urls
    }

    pub async fn stop(self) {
        self.server.stop().await;
    }
}

/// The claims of a test token. `exp` is seconds from now (negative: already expired).
pub struct Claims<'a> {
    pub sub: &'a str,
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub role: Option<&'a str>,
    pub exp_in_secs: i64,
}

/// An HS256 JWT as the apps' auth services issue them.
pub fn token_signed_with(claims: &Claims<'_>, secret: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs() as i64;
    let mut body = json!({ "sub": claims.sub, "iat": now, "exp": now + claims.exp_in_secs });
    for (key, value) in [
        ("name", claims.name),
        ("email", claims.email),
        ("role", claims.role),
    ] {
        if let Some(value) = value {
            body[key] = Value::from(value);
        }
    }
    jsonwebtoken::encode(
        &Header::default(),
        &body,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("an HS256 token")
}

pub fn token(claims: &Claims<'_>) -> String {
    token_signed_with(claims, JWT_SECRET)
}

/// The token of `user` with nothing but their id, valid for an hour, signed with `secret`.
pub fn user_token_signed_with(user: &str, secret: &str) -> String {
    token_signed_with(
        &Claims {
            sub: user,
            name: None,
            email: None,
            role: None,
            exp_in_secs: 3600,
        },
        secret,
    )
}

/// The token of `user` with nothing but their id, for the test server.
pub fn user_token(user: &str) -> String {
    user_token_signed_with(user, JWT_SECRET)
}

/// The in-memory store: nothing to set up, nothing left behind.
pub fn memory_store() -> StoreSettings {
    StoreSettings {
        kind: StoreKind::Memory,
        ..StoreSettings::default()
    }
}

/// `tests/js`, where the Node.js side of the black-box tests lives.
pub fn js_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js")
}

/// Installs `tests/js`'s locked dependencies when they are missing. Test binaries run in
/// parallel (nextest), so the install is serialised by a file lock.
///
/// # Errors
/// A message with npm's output when Node.js or npm is missing or the install fails: never a
/// silent skip, the suites that need Node cannot run without it.
pub fn ensure_node_modules() -> Result<(), String> {
    let dir = js_dir();
    let installed = || {
        dir.join("node_modules/socket.io-client/package.json")
            .exists()
    };
    if installed() {
        return Ok(());
    }
    let lock_path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tests-js-npm-ci.lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|err| format!("cannot open {}: {err}", lock_path.display()))?;
    lock.lock()
        .map_err(|err| format!("cannot lock {}: {err}", lock_path.display()))?;
    if installed() {
        return Ok(());
    }
    let output = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .output()
        .map_err(|err| format!("cannot run npm (is Node.js installed?): {err}"))?;
    if !output.status.success() {
        return Err(format!(
            "npm ci in {} failed ({}):\n{}\n{}",
            dir.display(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(())
}
