//! Typed settings. Layered, lowest first: the built-in defaults below (every field of every
//! section has one, applied by serde wherever no layer sets a value), then a TOML file
//! (`config/default.toml` when present, or the file given with `--config`), then the
//! environment: `APP__SECTION__KEY` names, plus the Node servers' own names `PORT`,
//! `DATABASE_URL`, `MONGO_URI`, `JWT_SECRET` and `FRONTEND_URL`, so that a team can keep its
//! deployment settings. See `config/default.toml` for every key with its meaning.

mod load;
pub(crate) mod mask;
mod validate;

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::adapters::inbound::dialects;

pub use load::DEFAULT_FILE;
pub use validate::ValidationErrors;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub store: StoreSettings,
    pub auth: AuthSettings,
    pub listeners: Vec<ListenerSettings>,
    pub http: HttpSettings,
    pub limits: LimitsSettings,
    pub chat: ChatSettings,
    pub blobs: BlobSettings,
    pub bus: BusSettings,
    pub log: LogSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            store: StoreSettings::default(),
            auth: AuthSettings::default(),
            listeners: ListenerSettings::defaults(),
            http: HttpSettings::default(),
            limits: LimitsSettings::default(),
            chat: ChatSettings::default(),
            blobs: BlobSettings::default(),
            bus: BusSettings::default(),
            log: LogSettings::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    Memory,
    /// The durable default that needs no server.
    #[default]
    Sqlite,
    Postgres,
    Mongo,
}

impl StoreKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
            Self::Mongo => "mongo",
        }
    }

    /// Whether this binary was built with the Cargo feature of the same name (memory
    /// needs none).
    pub fn compiled_in(self) -> bool {
        match self {
            Self::Memory => true,
            Self::Sqlite => cfg!(feature = "sqlite"),
            Self::Postgres => cfg!(feature = "postgres"),
            Self::Mongo => cfg!(feature = "mongo"),
        }
    }
}

// Debug is written by hand in `mask` so that URLs with passwords never reach a log.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreSettings {
    pub kind: StoreKind,
    pub sqlite_path: PathBuf,
    pub postgres_url: Option<String>,
    pub mongo_uri: Option<String>,
    /// The MongoDB database; unset takes the one `mongo_uri` names, else "switchboard".
    pub mongo_database: Option<String>,
    pub max_connections: u32,
    pub connect_timeout_secs: u64,
}

impl Default for StoreSettings {
    fn default() -> Self {
        Self {
            kind: StoreKind::default(),
            sqlite_path: PathBuf::from("data/switchboard.db"),
            postgres_url: None,
            mongo_uri: None,
            mongo_database: None,
            max_connections: 10,
            connect_timeout_secs: 5,
        }
    }
}

impl StoreSettings {
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout_secs)
    }
}

// Debug is written by hand in `mask` so that secrets never reach a log.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// HS256 shared secret.
    pub jwt_secret: Option<String>,
    /// RS256 public key, PEM text inline…
    pub jwt_public_key_pem: Option<String>,
    /// …or in a file.
    pub jwt_public_key_file: Option<PathBuf>,
    pub leeway_secs: u64,
    /// Key for server-to-server calls (`Authorization: Bearer` or `x-api-key`).
    pub service_key: Option<String>,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            jwt_secret: None,
            jwt_public_key_pem: None,
            jwt_public_key_file: None,
            leeway_secs: 30,
            service_key: None,
        }
    }
}

impl AuthSettings {
    /// Whether any token verification key is configured.
    pub fn has_jwt_key(&self) -> bool {
        self.jwt_secret.is_some()
            || self.jwt_public_key_pem.is_some()
            || self.jwt_public_key_file.is_some()
    }

    pub fn leeway(&self) -> Duration {
        Duration::from_secs(self.leeway_secs)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    SocketIo,
    WebSocket,
    Rest,
}

impl Transport {
    pub const ALL: [Transport; 3] = [Self::SocketIo, Self::WebSocket, Self::Rest];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SocketIo => "socketio",
            Self::WebSocket => "websocket",
            Self::Rest => "rest",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == raw)
    }
}

/// One listening address with the dialect and transports it serves. Dialect and transports
/// are kept as text so that `validate` can report every unknown name at once; read the
/// transports through `transports()` after validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenerSettings {
    pub name: String,
    /// `host:port`, e.g. `0.0.0.0:3000`.
    pub bind: String,
    /// A name from the dialect registry (`crate::adapters::inbound::dialects`).
    pub dialect: String,
    #[serde(default = "ListenerSettings::default_transports")]
    pub transports: Vec<String>,
    #[serde(default)]
    pub legacy_identity: bool,
    /// Pairs of roles that may message each other through this listener (unordered); empty
    /// allows everyone.
    #[serde(default, deserialize_with = "load::role_pairs")]
    pub allowed_role_pairs: Vec<[String; 2]>,
}

impl ListenerSettings {
    /// A listener of `dialect` named after it, on `bind`, with the given transports.
    pub fn new(dialect: &str, bind: impl Into<String>, transports: &[Transport]) -> Self {
        Self {
            name: dialect.into(),
            bind: bind.into(),
            dialect: dialect.into(),
            transports: transports.iter().map(|t| t.as_str().to_owned()).collect(),
            legacy_identity: false,
            allowed_role_pairs: Vec::new(),
        }
    }

    /// The built-in listeners: one per dialect of the registry, on port 3000 and up in the
    /// registry's order; REST only for a dialect without socket events, else its socket
    /// transport (the raw WebSocket for native, Socket.IO for the families) and REST.
    pub fn defaults() -> Vec<Self> {
        dialects::registry()
            .iter()
            .zip(3000u16..)
            .map(|(dialect, port)| {
                let transports: &[Transport] = if dialect.events().is_empty() {
                    &[Transport::Rest]
                } else if dialect.speaks_raw_websocket() {
                    &[Transport::WebSocket, Transport::Rest]
                } else {
                    &[Transport::SocketIo, Transport::Rest]
                };
                Self::new(dialect.name(), format!("0.0.0.0:{port}"), transports)
            })
            .collect()
    }

    fn default_transports() -> Vec<String> {
        vec![Transport::Rest.as_str().into()]
    }

    /// The known transports; unknown names (which `validate` reports) are left out.
    pub fn transports(&self) -> Vec<Transport> {
        self.transports
            .iter()
            .filter_map(|t| Transport::parse(t))
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    pub max_body_bytes: usize,
    /// Origins allowed by CORS; `*` allows any. The environment may give a comma-separated list.
    #[serde(deserialize_with = "load::list_or_csv")]
    pub cors_origins: Vec<String>,
    /// How long a client may take to send a request's headers.
    pub header_read_timeout_secs: u64,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            cors_origins: vec!["*".into()],
            header_read_timeout_secs: 10,
        }
    }
}

impl HttpSettings {
    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.header_read_timeout_secs)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsSettings {
    pub max_message_chars: usize,
    pub max_frame_bytes: usize,
    /// Per connection; 0 turns the limit off.
    pub events_per_second: u32,
    /// Distinct participants of a conversation opened with the service key.
    pub max_participants: usize,
    /// Distinct participants of a conversation opened with a user's token.
    pub max_participants_by_user: usize,
    /// REST requests a user may make per second (every listener together); 0: no limit.
    pub rest_requests_per_second_per_user: u32,
    /// REST requests one client address may make per second; 0: no limit.
    pub rest_requests_per_second_per_address: u32,
    /// Socket connections one user may have open at once; 0: no limit.
    pub max_connections_per_user: u32,
    /// Bytes of events one connection may have waiting for a client that does not read.
    pub outbound_buffer_bytes: usize,
    /// Seconds a connection may go without reading what it is sent before it is closed.
    pub slow_reader_timeout_secs: u64,
}

impl Default for LimitsSettings {
    fn default() -> Self {
        Self {
            max_message_chars: 10_000,
            // socket.io's own default (maxHttpBufferSize), which the clients are used to.
            max_frame_bytes: 1_000_000,
            events_per_second: 100,
            max_participants: 1000,
            max_participants_by_user: 2,
            rest_requests_per_second_per_user: 20,
            rest_requests_per_second_per_address: 100,
            max_connections_per_user: 20,
            outbound_buffer_bytes: 1024 * 1024,
            slow_reader_timeout_secs: 30,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChatSettings {
    pub typing_expiry_secs: u64,
    pub ring_timeout_secs: u64,
}

impl Default for ChatSettings {
    fn default() -> Self {
        Self {
            typing_expiry_secs: 5,
            ring_timeout_secs: 30,
        }
    }
}

impl ChatSettings {
    pub fn typing_expiry(&self) -> Duration {
        Duration::from_secs(self.typing_expiry_secs)
    }

    pub fn ring_timeout(&self) -> Duration {
        Duration::from_secs(self.ring_timeout_secs)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BlobSettings {
    pub dir: PathBuf,
    pub max_bytes: u64,
    /// Files one message may carry.
    pub max_files_per_message: usize,
    /// Where the HTTP layer serves `dir`; blob URLs are `{public_prefix}/{key}`.
    pub public_prefix: String,
}

impl Default for BlobSettings {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("data/uploads"),
            max_bytes: 10 * 1024 * 1024,
            max_files_per_message: 5,
            public_prefix: "/uploads".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BusSettings {
    /// Events a slow subscriber may fall behind before publishers wait for it.
    pub capacity: usize,
}

impl Default for BusSettings {
    fn default() -> Self {
        Self { capacity: 4096 }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    /// A `tracing` filter (`info`, `switchboard=debug,info`); `RUST_LOG` overrides it.
    pub filter: String,
    pub json: bool,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            filter: "info".into(),
            json: false,
        }
    }
}
