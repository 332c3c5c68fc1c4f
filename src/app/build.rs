//! The composition root: turns `Settings` into the adapters the use cases run on. The store
//! backend is chosen in `open_stores` alone, by configuration among the ones compiled in;
//! everything else here has one implementation per process kind (single node for now).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;

use crate::adapters::inbound::dialect::codec_for;
use crate::adapters::inbound::hub::Hub;
use crate::adapters::inbound::rest::{self, RestState};
use crate::adapters::inbound::session::{ListenerContext, SessionLimits};
use crate::adapters::inbound::socketio;
use crate::adapters::outbound::inprocess::{InProcessEventBus, LocalPresenceRegistry};
use crate::adapters::outbound::jwt::JwtVerifier;
use crate::adapters::outbound::local::{LocalDiskBlobStore, ObjectIdGenerator, SystemClock};
use crate::adapters::outbound::memory::memory_stores;
use crate::app::config::{
    AuthSettings, HttpSettings, ListenerSettings, Settings, StoreKind, StoreSettings, Transport,
};
use crate::app::use_cases::{Ports, Rules, UseCases};
use crate::domain::{ConversationPolicy, MessageRules, Role};
use crate::ports::{
    BlobStore, Clock, EventBus, IdGenerator, PresenceRegistry, Stores, TokenVerifier,
};

/// Everything a running server needs, built once at start and shared by every listener.
pub struct App {
    pub settings: Settings,
    pub stores: Stores,
    pub bus: Arc<dyn EventBus>,
    pub presence: Arc<dyn PresenceRegistry>,
    pub blobs: Arc<dyn BlobStore>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
    /// `None` when no JWT key is configured: no token can be verified.
    pub tokens: Option<Arc<dyn TokenVerifier>>,
    /// The use cases every inbound adapter calls, on the ports above.
    pub use_cases: UseCases,
    /// Delivers domain events to every listener's connections.
    pub hub: Arc<Hub>,
}

/// What a listener serves: its HTTP routes, and its Socket.IO server if it has one (kept to
/// close its connections at shutdown).
pub struct ListenerService {
    pub router: Router,
    pub socket_io: Option<socketioxide::SocketIo>,
}

impl App {
    /// The routes and transports of one listener: REST routes of its dialect, the
    /// provisioning API and health; Socket.IO on `/socket.io/`; CORS from `http.cors_origins`.
    ///
    /// # Errors
    /// When the listener asks for something this build cannot serve (a dialect without a
    /// Socket.IO codec yet, the raw WebSocket transport).
    pub fn listener_service(&self, listener: &ListenerSettings) -> anyhow::Result<ListenerService> {
        let name = &listener.name;
        let dialect = listener
            .dialect()
            .with_context(|| format!("listener {name:?}: unknown dialect"))?;
        let transports = listener.transports();
        let mut router = if transports.contains(&Transport::Rest) {
            let state = RestState {
                use_cases: self.use_cases.clone(),
                tokens: self.tokens.clone(),
                service_key: self.settings.auth.service_key.as_deref().map(Arc::from),
                legacy_identity: listener.legacy_identity,
            };
            rest::router(
                dialect,
                state,
                self.clock.clone(),
                self.settings.http.max_body_bytes,
            )
        } else {
            rest::health::router(self.clock.clone())
        };
        if transports.contains(&Transport::WebSocket) {
            anyhow::bail!(
                "listener {name:?}: the raw websocket transport is not available in this version \
                 yet; use socketio"
            );
        }
        let mut socket_io = None;
        if transports.contains(&Transport::SocketIo) {
            let codec = codec_for(dialect).with_context(|| {
                format!(
                    "listener {name:?}: dialect {} has no Socket.IO support in this version yet",
                    dialect.as_str()
                )
            })?;
            let ctx = Arc::new(ListenerContext {
                name: name.clone(),
                hub: self.hub.clone(),
                listener: self.hub.add_listener(codec),
                use_cases: self.use_cases.clone(),
                tokens: self.tokens.clone(),
                legacy_identity: listener.legacy_identity,
                limits: SessionLimits {
                    max_frame_bytes: self.settings.limits.max_frame_bytes,
                    events_per_second: self.settings.limits.events_per_second,
                },
            });
            let (layer, io) = socketio::layer(ctx);
            router = router.layer(layer);
            socket_io = Some(io);
        }
        Ok(ListenerService {
            router: router.layer(cors(&self.settings.http)),
            socket_io,
        })
    }
}

/// CORS as the Node servers configured it (`cors({ origin: FRONTEND_URL, credentials: true })`):
/// `*` reflects any origin, a list allows exactly those.
fn cors(http: &HttpSettings) -> tower_http::cors::CorsLayer {
    use tower_http::cors::{AllowHeaders, AllowMethods, AllowOrigin, CorsLayer};
    let origin = if http.cors_origins.iter().any(|o| o == "*") {
        AllowOrigin::mirror_request()
    } else {
        AllowOrigin::list(
            http.cors_origins
                .iter()
                .filter_map(|o| o.parse::<axum::http::HeaderValue>().ok()),
        )
    };
    CorsLayer::new()
        .allow_origin(origin)
        .allow_credentials(true)
        .allow_methods(AllowMethods::mirror_request())
        .allow_headers(AllowHeaders::mirror_request())
}

/// Builds the app from validated settings.
///
/// # Errors
/// When the store cannot be opened (or was not compiled in), a JWT key is unusable, or the
/// upload directory cannot be created.
pub async fn build(settings: &Settings) -> anyhow::Result<App> {
    let stores = open_stores(&settings.store).await?;
    let tokens = token_verifier(&settings.auth).await?;
    let blobs = LocalDiskBlobStore::open(
        &settings.blobs.dir,
        settings.blobs.max_bytes,
        &settings.blobs.public_prefix,
    )
    .await
    .context("opening the upload directory (blobs.dir)")?;
    let bus: Arc<dyn EventBus> = Arc::new(InProcessEventBus::new(settings.bus.capacity));
    let presence: Arc<dyn PresenceRegistry> = Arc::new(LocalPresenceRegistry::new());
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let ids: Arc<dyn IdGenerator> = Arc::new(ObjectIdGenerator::new());
    let ports = Ports {
        stores: stores.clone(),
        bus: bus.clone(),
        presence: presence.clone(),
        clock: clock.clone(),
        ids: ids.clone(),
    };
    let use_cases = UseCases::new(ports, rules(settings));
    let hub = Hub::new(ids.next_id());
    Ok(App {
        settings: settings.clone(),
        stores,
        bus,
        presence,
        blobs: Arc::new(blobs),
        clock,
        ids,
        tokens,
        use_cases,
        hub,
    })
}

/// The core's rules, from the `limits` and `chat` sections.
fn rules(settings: &Settings) -> Rules {
    let pairs = settings
        .chat
        .allowed_role_pairs
        .iter()
        .filter_map(|[a, b]| Some((Role::new(a)?, Role::new(b)?)))
        .collect();
    Rules {
        messages: MessageRules {
            max_text_chars: settings.limits.max_message_chars,
        },
        policy: ConversationPolicy::with_pairs(pairs),
        typing_expiry: Duration::from_secs(settings.chat.typing_expiry_secs),
        ring_timeout: Duration::from_secs(settings.chat.ring_timeout_secs),
    }
}

/// The one place that picks the store backend. A backend that was not compiled in is a
/// start-up error naming the Cargo feature to rebuild with.
///
/// # Errors
/// When the chosen backend is unavailable or cannot be opened.
pub async fn open_stores(store: &StoreSettings) -> anyhow::Result<Stores> {
    warn_about_unused_urls(store);
    let stores = match store.kind {
        StoreKind::Memory => {
            tracing::warn!("store: memory; nothing will survive a restart");
            memory_stores()
        }
        #[cfg(feature = "sqlite")]
        StoreKind::Sqlite => {
            let path = store.sqlite_path.to_str().with_context(|| {
                format!("store.sqlite_path {:?} is not UTF-8", store.sqlite_path)
            })?;
            create_parent_dir(&store.sqlite_path).await?;
            let connect = crate::adapters::outbound::sqlite::SqliteStores::connect(
                path,
                store.max_connections,
            );
            let stores = tokio::time::timeout(store.connect_timeout(), connect)
                .await
                .with_context(|| format!("opening SQLite database {path}: timed out"))?
                .with_context(|| format!("opening SQLite database {path}"))?;
            tracing::info!(path, "store: sqlite");
            stores
        }
        #[cfg(not(feature = "sqlite"))]
        StoreKind::Sqlite => return Err(not_compiled_in(StoreKind::Sqlite)),
        #[cfg(feature = "postgres")]
        StoreKind::Postgres => {
            use crate::adapters::outbound::postgres::PgStores;
            let url = store.postgres_url.as_deref().context(
                "store.kind is postgres but store.postgres_url (DATABASE_URL) is not set",
            )?;
            let server = PgStores::describe(url);
            let stores = PgStores::connect(url, store.max_connections, store.connect_timeout())
                .await
                .context("opening the PostgreSQL store")?;
            tracing::info!(server, "store: postgres");
            stores
        }
        #[cfg(not(feature = "postgres"))]
        StoreKind::Postgres => return Err(not_compiled_in(StoreKind::Postgres)),
        #[cfg(feature = "mongo")]
        StoreKind::Mongo => open_mongo(store).await?,
        #[cfg(not(feature = "mongo"))]
        StoreKind::Mongo => return Err(not_compiled_in(StoreKind::Mongo)),
    };
    Ok(stores)
}

/// Brings the configured store's schema up to date, then closes the store: what
/// `switchboard migrate` does. Opening a store applies its pending migrations (the server does
/// the same at start), so this opens it without serving. Returns what was done, for the
/// operator.
///
/// # Errors
/// When the store cannot be opened or a migration fails.
pub async fn migrate(store: &StoreSettings) -> anyhow::Result<String> {
    if store.kind == StoreKind::Memory {
        return Ok("store 'memory' keeps nothing on disk: there is nothing to migrate".into());
    }
    open_stores(store).await?;
    Ok(format!(
        "store '{}': the schema is up to date",
        store.kind.as_str()
    ))
}

#[cfg(not(all(feature = "sqlite", feature = "postgres", feature = "mongo")))]
fn not_compiled_in(kind: StoreKind) -> anyhow::Error {
    let name = kind.as_str();
    anyhow::anyhow!(
        "store '{name}' needs the Cargo feature `{name}`; rebuild with --features {name}"
    )
}

/// Connects to MongoDB (`store.mongo_uri`, `store.mongo_database`), creating the indexes;
/// appends use transactions when the deployment has them.
#[cfg(feature = "mongo")]
async fn open_mongo(store: &StoreSettings) -> anyhow::Result<Stores> {
    use crate::adapters::outbound::mongo::{MongoSettings, MongoStores};
    let uri = store
        .mongo_uri
        .as_deref()
        .context("store.kind is mongo but store.mongo_uri (MONGO_URI) is not set")?;
    let shown = crate::app::config::mask::mask_url(uri);
    let settings = MongoSettings {
        uri: uri.to_owned(),
        database: store.mongo_database.clone(),
        max_connections: store.max_connections,
        timeout: store.connect_timeout(),
    };
    let (stores, info) = MongoStores::connect(&settings)
        .await
        .with_context(|| format!("opening MongoDB at {shown}"))?;
    tracing::info!(
        uri = %shown,
        database = %info.database,
        transactions = info.transactions,
        "store: mongo"
    );
    if !info.transactions {
        tracing::warn!(
            "MongoDB has no multi-document transactions (a standalone server): messages are \
             appended with ordered writes that the next append repairs after a crash"
        );
    }
    Ok(stores)
}

/// DATABASE_URL and MONGO_URI are often set for other programs; say so when they are set
/// but another store was chosen, since the operator may have expected them to be used.
fn warn_about_unused_urls(store: &StoreSettings) {
    if store.kind != StoreKind::Postgres && store.postgres_url.is_some() {
        tracing::info!(
            store = store.kind.as_str(),
            "store.postgres_url (DATABASE_URL) is set but not used"
        );
    }
    if store.kind != StoreKind::Mongo && store.mongo_uri.is_some() {
        tracing::info!(
            store = store.kind.as_str(),
            "store.mongo_uri (MONGO_URI) is set but not used"
        );
    }
}

#[cfg(feature = "sqlite")]
async fn create_parent_dir(path: &std::path::Path) -> anyhow::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => tokio::fs::create_dir_all(dir)
            .await
            .with_context(|| format!("creating directory {}", dir.display())),
        _ => Ok(()),
    }
}

async fn token_verifier(auth: &AuthSettings) -> anyhow::Result<Option<Arc<dyn TokenVerifier>>> {
    if !auth.has_jwt_key() {
        tracing::warn!(
            "no JWT key configured (auth.jwt_secret / JWT_SECRET, auth.jwt_public_key_*): tokens cannot be verified"
        );
        return Ok(None);
    }
    let pem = match (&auth.jwt_public_key_pem, &auth.jwt_public_key_file) {
        (Some(pem), _) => Some(pem.clone().into_bytes()),
        (None, Some(file)) => Some(
            tokio::fs::read(file)
                .await
                .with_context(|| format!("reading auth.jwt_public_key_file {}", file.display()))?,
        ),
        (None, None) => None,
    };
    let verifier = JwtVerifier::new(
        auth.jwt_secret.as_deref().map(str::as_bytes),
        pem.as_deref(),
        auth.leeway(),
    )
    .context("setting up JWT verification")?;
    tracing::info!(
        hs256 = auth.jwt_secret.is_some(),
        rs256 = pem.is_some(),
        "JWT verification on"
    );
    Ok(Some(Arc::new(verifier)))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn memory_settings(dir: &Path) -> Settings {
        let mut settings = Settings::default();
        settings.store.kind = StoreKind::Memory;
        settings.blobs.dir = dir.join("uploads");
        settings
    }

    #[tokio::test]
    async fn builds_on_the_memory_store_without_auth() {
        let tmp = tempfile::tempdir().unwrap();
        let app = build(&memory_settings(tmp.path())).await.unwrap();
        assert!(app.tokens.is_none());
        assert!(tmp.path().join("uploads").is_dir());
        assert_eq!(app.ids.next_id().len(), 24);
    }

    #[tokio::test]
    async fn a_configured_secret_turns_verification_on() {
        let tmp = tempfile::tempdir().unwrap();
        let mut settings = memory_settings(tmp.path());
        settings.auth.jwt_secret = Some("s".into());
        let app = build(&settings).await.unwrap();
        assert!(app.tokens.is_some());
    }

    #[tokio::test]
    async fn an_unreadable_public_key_file_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let mut settings = memory_settings(tmp.path());
        settings.auth.jwt_public_key_file = Some(tmp.path().join("missing.pem"));
        let err = build(&settings).await.err().unwrap();
        assert!(
            format!("{err:#}").contains("jwt_public_key_file"),
            "{err:#}"
        );
    }

    #[cfg(feature = "sqlite")]
    #[tokio::test]
    async fn sqlite_creates_its_directory_and_file() {
        let tmp = tempfile::tempdir().unwrap();
        let store = StoreSettings {
            sqlite_path: tmp.path().join("nested/dir/chat.db"),
            ..StoreSettings::default()
        };
        open_stores(&store).await.unwrap();
        assert!(store.sqlite_path.is_file());
    }

    #[tokio::test]
    async fn migrate_has_nothing_to_do_for_memory() {
        let store = StoreSettings {
            kind: StoreKind::Memory,
            ..StoreSettings::default()
        };
        let said = migrate(&store).await.unwrap();
        assert!(said.contains("nothing to migrate"), "{said}");
    }

    #[cfg(feature = "sqlite")]
    #[tokio::test]
    async fn migrate_creates_the_sqlite_schema() {
        let tmp = tempfile::tempdir().unwrap();
        let store = StoreSettings {
            sqlite_path: tmp.path().join("chat.db"),
            ..StoreSettings::default()
        };
        let said = migrate(&store).await.unwrap();
        assert!(said.contains("'sqlite'"), "{said}");
        // The schema is there: the stores open on it and work.
        let stores = open_stores(&store).await.unwrap();
        let id = crate::domain::UserId::parse("u1").unwrap();
        assert_eq!(stores.users.get(&id).await.unwrap(), None);
    }

    #[tokio::test]
    async fn server_stores_explain_why_they_cannot_start() {
        for kind in [StoreKind::Postgres, StoreKind::Mongo] {
            let store = StoreSettings {
                kind,
                ..StoreSettings::default()
            };
            let message = open_stores(&store).await.err().unwrap().to_string();
            let expected = match kind {
                StoreKind::Postgres if cfg!(feature = "postgres") => {
                    "store.postgres_url (DATABASE_URL) is not set"
                }
                StoreKind::Mongo if cfg!(feature = "mongo") => "mongo_uri",
                _ => "needs the Cargo feature",
            };
            assert!(message.contains(expected), "{message}");
            assert!(message.contains(kind.as_str()), "{message}");
        }
    }

    #[cfg(feature = "mongo")]
    #[tokio::test]
    async fn an_unreachable_mongodb_is_an_error_after_the_timeout() {
        let store = StoreSettings {
            kind: StoreKind::Mongo,
            // Port 1: nothing listens there, so the connection is refused at once.
            mongo_uri: Some("mongodb://app:s3cret@127.0.0.1:1/chat?directConnection=true".into()),
            connect_timeout_secs: 1,
            ..StoreSettings::default()
        };
        let started = std::time::Instant::now();
        let message = format!("{:#}", open_stores(&store).await.err().unwrap());
        // Generous: the point is that it gives up instead of hanging.
        assert!(started.elapsed() < Duration::from_secs(30), "{message}");
        assert!(
            message.contains("opening MongoDB at mongodb://app:***@127.0.0.1:1"),
            "{message}"
        );
        assert!(!message.contains("s3cret"), "{message}");
    }

    #[cfg(feature = "postgres")]
    #[tokio::test]
    async fn an_unreachable_postgres_is_an_error_after_the_connect_timeout() {
        // Nothing listens on port 1: every attempt is refused, and the pool gives up when
        // store.connect_timeout_secs has passed.
        let store = StoreSettings {
            kind: StoreKind::Postgres,
            postgres_url: Some("postgres://ann:s3cret@127.0.0.1:1/chat".into()),
            connect_timeout_secs: 1,
            ..StoreSettings::default()
        };
        // Only a guard against hanging, far above the configured timeout.
        let err = tokio::time::timeout(Duration::from_secs(60), open_stores(&store))
            .await
            .expect("open_stores gives up by itself")
            .err()
            .unwrap();
        let message = format!("{err:#}");
        assert!(message.contains("127.0.0.1:1/chat"), "{message}");
        assert!(message.contains("within 1s"), "{message}");
        assert!(!message.contains("s3cret"), "{message}");
    }
}
