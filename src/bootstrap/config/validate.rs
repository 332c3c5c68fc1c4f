//! Checks that need more than types: what a start with these settings would trip over.
//! Every problem is collected, so an operator fixes a config in one round, not one per run.

use std::collections::{HashMap, HashSet};
use std::fmt;

use super::{ListenerSettings, Settings, StoreKind, Transport};
use crate::adapters::inbound::dialects;

/// More clock skew than this hides real expiry; it is a typo, not a tolerance.
const MAX_LEEWAY_SECS: u64 = 3_600;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ValidationErrors {
    pub problems: Vec<String>,
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration:")?;
        for problem in &self.problems {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

impl Settings {
    /// # Errors
    /// Every problem found, each as one sentence naming the key.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut problems = Vec::new();
        self.check_store(&mut problems);
        self.check_auth(&mut problems);
        check_listeners(&self.listeners, &mut problems);
        self.check_limits(&mut problems);
        self.check_cors(&mut problems);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors { problems })
        }
    }

    fn check_store(&self, problems: &mut Vec<String>) {
        let store = &self.store;
        if !store.kind.compiled_in() {
            let name = store.kind.as_str();
            problems.push(format!(
                "store.kind is {name} but this binary was built without the Cargo feature `{name}`"
            ));
        }
        match store.kind {
            StoreKind::Postgres if blank(&store.postgres_url) => problems.push(
                "store.kind is postgres but store.postgres_url (or DATABASE_URL) is not set".into(),
            ),
            StoreKind::Mongo if blank(&store.mongo_uri) => problems
                .push("store.kind is mongo but store.mongo_uri (or MONGO_URI) is not set".into()),
            StoreKind::Sqlite if store.sqlite_path.as_os_str().is_empty() => {
                problems.push("store.sqlite_path must not be empty".into());
            }
            _ => {}
        }
        if store.max_connections == 0 {
            problems.push("store.max_connections must be at least 1".into());
        }
        if store.connect_timeout_secs == 0 {
            problems.push("store.connect_timeout_secs must be at least 1".into());
        }
    }

    fn check_auth(&self, problems: &mut Vec<String>) {
        let auth = &self.auth;
        if auth.jwt_secret.as_deref() == Some("") {
            problems.push("auth.jwt_secret is empty; remove it or set a secret".into());
        }
        if auth.service_key.as_deref() == Some("") {
            problems.push("auth.service_key is empty; remove it or set a key".into());
        }
        if auth.jwt_public_key_pem.is_some() && auth.jwt_public_key_file.is_some() {
            problems.push(
                "set only one of auth.jwt_public_key_pem and auth.jwt_public_key_file".into(),
            );
        }
        if let Some(pem) = &auth.jwt_public_key_pem
            && !pem.contains("-----BEGIN")
        {
            problems.push("auth.jwt_public_key_pem is not PEM text (-----BEGIN …)".into());
        }
        if auth.leeway_secs > MAX_LEEWAY_SECS {
            problems.push(format!(
                "auth.leeway_secs is {}; at most {MAX_LEEWAY_SECS} makes sense",
                auth.leeway_secs
            ));
        }
    }

    /// `*` (any page, never with credentials) or a list of origins (those, with
    /// credentials), never both: a page of any origin must not get credentialed answers.
    fn check_cors(&self, problems: &mut Vec<String>) {
        let origins = &self.http.cors_origins;
        let any = origins.iter().any(|o| o.trim() == "*");
        if any && origins.len() > 1 {
            problems.push(
                "http.cors_origins mixes \"*\" with listed origins; use either \"*\" (any page, \
                 without cookies) or the list of your apps' origins"
                    .into(),
            );
        }
        for origin in origins.iter().filter(|o| o.trim() != "*") {
            let valid = origin.split_once("://").is_some_and(|(scheme, rest)| {
                matches!(scheme, "http" | "https")
                    && !rest.is_empty()
                    && !rest.trim_end_matches('/').contains('/')
            }) && origin.parse::<axum::http::HeaderValue>().is_ok();
            if !valid {
                problems.push(format!(
                    "http.cors_origins: {origin:?} is not an origin (scheme://host[:port])"
                ));
            }
        }
    }

    fn check_limits(&self, problems: &mut Vec<String>) {
        let positive = [
            ("http.max_body_bytes", self.http.max_body_bytes as u64),
            (
                "http.header_read_timeout_secs",
                self.http.header_read_timeout_secs,
            ),
            (
                "limits.max_message_chars",
                self.limits.max_message_chars as u64,
            ),
            ("limits.max_frame_bytes", self.limits.max_frame_bytes as u64),
            (
                "limits.outbound_buffer_bytes",
                self.limits.outbound_buffer_bytes as u64,
            ),
            (
                "limits.slow_reader_timeout_secs",
                self.limits.slow_reader_timeout_secs,
            ),
            ("chat.typing_expiry_secs", self.chat.typing_expiry_secs),
            ("chat.ring_timeout_secs", self.chat.ring_timeout_secs),
            ("blobs.max_bytes", self.blobs.max_bytes),
            (
                "blobs.max_files_per_message",
                self.blobs.max_files_per_message as u64,
            ),
            ("bus.capacity", self.bus.capacity as u64),
        ];
        for (key, value) in positive {
            if value == 0 {
                problems.push(format!("{key} must be at least 1"));
            }
        }
        for (key, value) in [
            ("limits.max_participants", self.limits.max_participants),
            (
                "limits.max_participants_by_user",
                self.limits.max_participants_by_user,
            ),
        ] {
            if value < 2 {
                problems.push(format!(
                    "{key} is {value}; a conversation has at least 2 participants"
                ));
            }
        }
        if self.blobs.dir.as_os_str().is_empty() {
            problems.push("blobs.dir must not be empty".into());
        }
        let prefix = &self.blobs.public_prefix;
        if !(prefix.starts_with('/')
            || prefix.starts_with("http://")
            || prefix.starts_with("https://"))
        {
            problems.push(format!(
                "blobs.public_prefix {prefix:?} must be a path starting with / or an http(s) URL"
            ));
        }
        if let Err(err) = tracing_subscriber::EnvFilter::try_new(&self.log.filter) {
            problems.push(format!(
                "log.filter {:?} is not a valid filter: {err}",
                self.log.filter
            ));
        }
    }
}

fn blank(value: &Option<String>) -> bool {
    value.as_deref().is_none_or(|v| v.trim().is_empty())
}

fn check_listeners(listeners: &[ListenerSettings], problems: &mut Vec<String>) {
    if listeners.is_empty() {
        problems.push("no listeners: configure at least one [[listeners]]".into());
    }
    let mut names = HashSet::new();
    // Port -> (host, listener name) of the listeners seen so far.
    let mut ports: HashMap<u16, Vec<(&str, &str)>> = HashMap::new();
    for listener in listeners {
        let name = listener.name.as_str();
        if name.trim().is_empty() {
            problems.push(format!("a listener (bind {}) has no name", listener.bind));
        } else if !names.insert(name) {
            problems.push(format!("listener name {name:?} is used twice"));
        }
        match split_bind(&listener.bind) {
            None => problems.push(format!(
                "listener {name:?}: bind {:?} is not host:port",
                listener.bind
            )),
            // Port 0 asks the OS for a free port, so it never clashes.
            Some((_, 0)) => {}
            Some((host, port)) => {
                let seen = ports.entry(port).or_default();
                if let Some((_, other)) = seen.iter().find(|(other_host, _)| {
                    *other_host == host || is_wildcard(host) || is_wildcard(other_host)
                }) {
                    problems.push(format!(
                        "listeners {other:?} and {name:?} both bind port {port} ({})",
                        listener.bind
                    ));
                }
                seen.push((host, name));
            }
        }
        match dialects::by_name(&listener.dialect) {
            None => problems.push(format!(
                "listener {name:?}: unknown dialect {:?} (known: {})",
                listener.dialect,
                dialects::names().join(", ")
            )),
            Some(dialect)
                if dialect.events().is_empty()
                    && listener
                        .transports()
                        .iter()
                        .any(|t| matches!(t, Transport::SocketIo | Transport::WebSocket)) =>
            {
                problems.push(format!(
                    "listener {name:?}: dialect {} has no socket events; serve it over rest",
                    dialect.name()
                ));
            }
            Some(_) => {}
        }
        for [a, b] in &listener.allowed_role_pairs {
            if a.trim().is_empty() || b.trim().is_empty() {
                problems.push(format!(
                    "listener {name:?}: allowed_role_pairs has a blank role in [{a:?}, {b:?}]"
                ));
            }
        }
        if listener.transports.is_empty() {
            problems.push(format!("listener {name:?} has no transports"));
        }
        for transport in &listener.transports {
            if Transport::parse(transport).is_none() {
                let known: Vec<_> = Transport::ALL.iter().map(|t| t.as_str()).collect();
                problems.push(format!(
                    "listener {name:?}: unknown transport {transport:?} (known: {})",
                    known.join(", ")
                ));
            }
        }
    }
}

fn split_bind(bind: &str) -> Option<(&str, u16)> {
    let (host, port) = bind.rsplit_once(':')?;
    let port = port.parse().ok()?;
    (!host.is_empty()).then_some((host, port))
}

fn is_wildcard(host: &str) -> bool {
    matches!(host, "0.0.0.0" | "[::]" | "::")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Valid settings in every feature set.
    fn base() -> Settings {
        let mut settings = Settings::default();
        settings.store.kind = StoreKind::Memory;
        settings
    }

    fn problems(settings: &Settings) -> Vec<String> {
        settings
            .validate()
            .err()
            .map(|e| e.problems)
            .unwrap_or_default()
    }

    /// A registered dialect with socket events (every dialect has them today).
    fn socket_dialect() -> &'static str {
        let found = dialects::registry().iter().find(|d| !d.events().is_empty());
        found.expect("a dialect with socket events").name()
    }

    /// A listener of a socket dialect with Socket.IO and REST.
    fn listener(name: &str, bind: &str) -> ListenerSettings {
        ListenerSettings {
            name: name.into(),
            ..ListenerSettings::new(
                socket_dialect(),
                bind,
                &[Transport::SocketIo, Transport::Rest],
            )
        }
    }

    fn rest_listener(name: &str, bind: &str) -> ListenerSettings {
        ListenerSettings {
            name: name.into(),
            ..ListenerSettings::new(socket_dialect(), bind, &[Transport::Rest])
        }
    }

    #[test]
    fn the_defaults_are_valid() {
        // The default store is SQLite, which a build without that feature cannot open.
        if cfg!(feature = "sqlite") {
            assert_eq!(Settings::default().validate(), Ok(()));
        }
        assert_eq!(base().validate(), Ok(()));
    }

    #[test]
    fn no_listeners_is_a_problem() {
        let settings = Settings {
            listeners: vec![],
            ..base()
        };
        assert_eq!(
            problems(&settings),
            vec!["no listeners: configure at least one [[listeners]]"]
        );
    }

    #[test]
    fn every_listener_problem_is_reported_at_once() {
        let mut bad_transport = listener("c", "127.0.0.1:4002");
        bad_transport.transports.push("carrier-pigeon".into());
        let mut unknown_dialect = listener("b", "127.0.0.1:4000");
        unknown_dialect.dialect = "klingon".into();
        let mut blank_role = listener("e", "127.0.0.1:4004");
        blank_role.allowed_role_pairs = vec![["client".into(), " ".into()]];
        let settings = Settings {
            listeners: vec![
                listener("a", "0.0.0.0:4000"),
                unknown_dialect,
                bad_transport,
                listener("a", "localhost"),
                blank_role,
            ],
            ..base()
        };
        let found = problems(&settings);
        let expect = [
            "both bind port 4000",
            "unknown dialect \"klingon\"",
            "unknown transport \"carrier-pigeon\"",
            "listener name \"a\" is used twice",
            "bind \"localhost\" is not host:port",
            "listener \"e\": allowed_role_pairs has a blank role",
        ];
        assert_eq!(found.len(), expect.len(), "{found:#?}");
        for text in expect {
            assert!(
                found.iter().any(|p| p.contains(text)),
                "{text} not in {found:#?}"
            );
        }
    }

    #[test]
    fn different_hosts_and_port_zero_do_not_clash() {
        let settings = Settings {
            listeners: vec![
                listener("a", "127.0.0.1:4000"),
                listener("b", "10.0.0.1:4000"),
                rest_listener("c", "127.0.0.1:0"),
                rest_listener("d", "127.0.0.1:0"),
            ],
            ..base()
        };
        assert_eq!(settings.validate(), Ok(()));
    }

    #[test]
    fn a_chosen_server_store_needs_its_url() {
        let mentions =
            |settings: &Settings, key: &str| problems(settings).iter().any(|p| p.contains(key));
        let mut settings = base();
        settings.store.kind = StoreKind::Postgres;
        assert!(mentions(&settings, "store.postgres_url"));
        settings.store.postgres_url = Some("postgres://localhost/chat".into());
        assert!(!mentions(&settings, "store.postgres_url"));
        settings.store.kind = StoreKind::Mongo;
        assert!(mentions(&settings, "store.mongo_uri"));
    }

    #[test]
    fn a_store_that_was_not_compiled_in_is_reported() {
        let mut settings = Settings::default();
        settings.store.kind = StoreKind::Sqlite;
        let found = problems(&settings);
        if cfg!(feature = "sqlite") {
            assert!(found.is_empty(), "{found:#?}");
        } else {
            assert!(found[0].contains("Cargo feature `sqlite`"), "{found:#?}");
        }
    }

    #[test]
    fn auth_problems_are_reported() {
        let mut settings = base();
        settings.auth.jwt_secret = Some(String::new());
        settings.auth.jwt_public_key_pem = Some("abc".into());
        settings.auth.jwt_public_key_file = Some("key.pem".into());
        settings.auth.leeway_secs = 86_400;
        assert_eq!(problems(&settings).len(), 4, "{:#?}", problems(&settings));
    }

    #[test]
    fn zero_limits_and_bad_values_are_reported() {
        let mut settings = base();
        settings.bus.capacity = 0;
        settings.limits.max_message_chars = 0;
        settings.blobs.public_prefix = "uploads".into();
        settings.log.filter = "info,,=[".into();
        let found = problems(&settings);
        for text in [
            "bus.capacity",
            "limits.max_message_chars",
            "blobs.public_prefix",
            "log.filter",
        ] {
            assert!(
                found.iter().any(|p| p.contains(text)),
                "{text} not in {found:#?}"
            );
        }
    }

    #[test]
    fn cors_never_mixes_any_origin_with_listed_ones() {
        let mut settings = base();
        settings.http.cors_origins = vec!["*".into(), "https://app.example".into()];
        assert!(problems(&settings).iter().any(|p| p.contains("mixes")));
        settings.http.cors_origins = vec!["https://app.example/path".into(), "app".into()];
        assert_eq!(
            problems(&settings)
                .iter()
                .filter(|p| p.contains("is not an origin"))
                .count(),
            2
        );
        settings.http.cors_origins =
            vec!["https://app.example".into(), "http://localhost:5173".into()];
        assert!(problems(&settings).is_empty());
        settings.http.cors_origins = vec!["*".into()];
        assert!(problems(&settings).is_empty());
        settings.limits.max_participants_by_user = 1;
        assert!(
            problems(&settings)
                .iter()
                .any(|p| p.contains("max_participants_by_user"))
        );
    }

    #[test]
    fn the_error_lists_every_problem_on_its_own_line() {
        let errors = ValidationErrors {
            problems: vec!["one".into(), "two".into()],
        };
        assert_eq!(
            errors.to_string(),
            "invalid configuration:\n  - one\n  - two"
        );
    }
}
