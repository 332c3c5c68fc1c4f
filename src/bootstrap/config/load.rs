//! Reading the layers into `Settings`: defaults, then the file, then the Node servers'
//! environment names, then `APP__…` names (the most specific wins), then `PORT`.

use std::collections::HashMap;
use std::path::Path;

use config::builder::DefaultState;
use config::{Config, ConfigBuilder, ConfigError, Environment, File, FileFormat};
use serde::{Deserialize, Deserializer};

use super::Settings;

/// Read when no `--config` is given, relative to the working directory, if it exists.
pub const DEFAULT_FILE: &str = "config/default.toml";

/// The Node servers' environment names and the keys they set. `PORT` is handled apart:
/// it changes one part of the first listener's `bind`.
const NODE_NAMES: [(&str, &str); 4] = [
    ("DATABASE_URL", "store__postgres_url"),
    ("MONGO_URI", "store__mongo_uri"),
    ("JWT_SECRET", "auth__jwt_secret"),
    ("FRONTEND_URL", "http__cors_origins"),
];

impl Settings {
    /// Loads the layered settings from `path` (which must exist) or, without one, from
    /// `config/default.toml` if present, and from the process environment.
    ///
    /// # Errors
    /// When a layer cannot be read or parsed, or a value has the wrong type or an unknown key.
    pub fn load(path: Option<&Path>) -> Result<Settings, ConfigError> {
        let env = process_env();
        match path {
            Some(path) => Self::load_with(Some(path), true, &env),
            None => Self::load_with(Some(Path::new(DEFAULT_FILE)), false, &env),
        }
    }

    /// `load` with an explicit environment, so that tests never touch the process's.
    ///
    /// # Errors
    /// As `load`.
    pub fn load_with(
        file: Option<&Path>,
        file_required: bool,
        env: &HashMap<String, String>,
    ) -> Result<Settings, ConfigError> {
        let mut builder = Config::builder();
        if let Some(path) = file {
            builder = builder.add_source(
                File::from(path)
                    .format(FileFormat::Toml)
                    .required(file_required),
            );
        }
        assemble(builder, env)
    }
}

/// Adds the environment layers on top of `builder` (which holds the file, if any) and
/// deserializes; the defaults come from serde for every key no layer sets.
pub(super) fn assemble(
    builder: ConfigBuilder<DefaultState>,
    env: &HashMap<String, String>,
) -> Result<Settings, ConfigError> {
    let node_names: config::Map<String, String> = NODE_NAMES
        .iter()
        .filter_map(|(name, key)| env.get(*name).map(|v| ((*key).to_owned(), v.clone())))
        .collect();
    let app: config::Map<String, String> =
        env.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let mut settings: Settings = builder
        .add_source(
            Environment::default()
                .separator("__")
                .ignore_empty(true)
                .source(Some(node_names)),
        )
        .add_source(
            Environment::with_prefix("APP")
                .prefix_separator("__")
                .separator("__")
                .ignore_empty(true)
                .source(Some(app)),
        )
        .build()?
        .try_deserialize()?;
    apply_port(&mut settings, env.get("PORT"))?;
    Ok(settings)
}

/// Only Unicode variables can be settings; others (rare, and never ours) are skipped
/// instead of failing the start, which `std::env::vars` would do by panicking.
fn process_env() -> HashMap<String, String> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

/// `PORT` moves the first listener to that port, as it moved the Node server.
fn apply_port(settings: &mut Settings, port: Option<&String>) -> Result<(), ConfigError> {
    let Some(raw) = port.map(|p| p.trim()).filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let port: u16 = raw
        .parse()
        .map_err(|_| ConfigError::Message(format!("PORT must be a port number, not {raw:?}")))?;
    if let Some(first) = settings.listeners.first_mut() {
        let host = first
            .bind
            .rsplit_once(':')
            .map_or("0.0.0.0", |(host, _)| host);
        first.bind = format!("{host}:{port}");
    }
    Ok(())
}

/// A list from a file, or a comma-separated string from the environment.
pub(super) fn list_or_csv<'de, D: Deserializer<'de>>(de: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        List(Vec<String>),
        Csv(String),
    }
    Ok(match Raw::deserialize(de)? {
        Raw::List(list) => list,
        Raw::Csv(csv) => csv
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

/// `[["client", "provider"]]` from a file, or `client:provider,doctor:patient`.
pub(super) fn role_pairs<'de, D: Deserializer<'de>>(de: D) -> Result<Vec<[String; 2]>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Pairs(Vec<[String; 2]>),
        Csv(String),
    }
    match Raw::deserialize(de)? {
        Raw::Pairs(pairs) => Ok(pairs),
        Raw::Csv(csv) => csv
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|pair| match pair.split_once(':') {
                Some((a, b)) => Ok([a.trim().to_owned(), b.trim().to_owned()]),
                None => Err(serde::de::Error::custom(format!(
                    "role pair {pair:?} must look like role:role"
                ))),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bootstrap::config::StoreKind;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn from(toml: &str, vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let builder = Config::builder().add_source(File::from_str(toml, FileFormat::Toml));
        assemble(builder, &env(vars))
    }

    #[test]
    fn nothing_configured_gives_the_defaults() {
        assert_eq!(from("", &[]).unwrap(), Settings::default());
        assert_eq!(
            Settings::load_with(None, false, &env(&[])).unwrap(),
            Settings::default()
        );
    }

    #[test]
    fn the_shipped_default_file_says_exactly_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(DEFAULT_FILE);
        let loaded = Settings::load_with(Some(&path), true, &env(&[])).unwrap();
        assert_eq!(loaded, Settings::default());
    }

    #[test]
    fn a_missing_default_file_is_fine_but_a_missing_named_file_is_not() {
        let missing = Path::new("/nonexistent/switchboard.toml");
        assert!(Settings::load_with(Some(missing), false, &env(&[])).is_ok());
        assert!(Settings::load_with(Some(missing), true, &env(&[])).is_err());
    }

    #[test]
    fn file_overrides_defaults_and_environment_overrides_file() {
        let toml = r#"
            [store]
            kind = "memory"
            max_connections = 3
            [limits]
            max_message_chars = 500
        "#;
        let settings = from(
            toml,
            &[
                ("APP__STORE__MAX_CONNECTIONS", "7"),
                ("APP__LOG__JSON", "true"),
            ],
        )
        .unwrap();
        assert_eq!(settings.store.kind, StoreKind::Memory);
        assert_eq!(settings.store.max_connections, 7);
        assert_eq!(settings.limits.max_message_chars, 500);
        assert!(settings.log.json);
        // Untouched keys keep their defaults, inside touched sections too.
        assert_eq!(settings.store.connect_timeout_secs, 5);
        assert_eq!(settings.chat.typing_expiry_secs, 5);
    }

    #[test]
    fn a_named_file_on_disk_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("switchboard.toml");
        std::fs::write(&path, "[bus]\ncapacity = 64\n").unwrap();
        let settings = Settings::load_with(Some(&path), true, &env(&[])).unwrap();
        assert_eq!(settings.bus.capacity, 64);
    }

    #[test]
    fn the_node_servers_names_are_honoured() {
        let settings = from(
            "",
            &[
                ("PORT", "5000"),
                ("JWT_SECRET", "s3cret"),
                (
                    "DATABASE_URL",
                    "postgresql://postgres:pw@localhost:5432/clinic",
                ),
                ("MONGO_URI", "mongodb://127.0.0.1:27017/chat"),
                (
                    "FRONTEND_URL",
                    "http://localhost:3000, http://localhost:5173",
                ),
            ],
        )
        .unwrap();
        assert_eq!(settings.listeners[0].bind, "0.0.0.0:5000");
        assert_eq!(settings.auth.jwt_secret.as_deref(), Some("s3cret"));
        assert_eq!(
            settings.store.postgres_url.as_deref(),
            Some("postgresql://postgres:pw@localhost:5432/clinic")
        );
        assert_eq!(
            settings.store.mongo_uri.as_deref(),
            Some("mongodb://127.0.0.1:27017/chat")
        );
        assert_eq!(
            settings.http.cors_origins,
            vec!["http://localhost:3000", "http://localhost:5173"]
        );
        // A Node server name does not pick the store: that stays an explicit choice.
        assert_eq!(settings.store.kind, StoreKind::Sqlite);
    }

    #[test]
    fn app_names_beat_the_node_servers_names() {
        let settings = from(
            "",
            &[("JWT_SECRET", "node"), ("APP__AUTH__JWT_SECRET", "app")],
        )
        .unwrap();
        assert_eq!(settings.auth.jwt_secret.as_deref(), Some("app"));
    }

    #[test]
    fn secrets_that_look_like_numbers_stay_text() {
        let settings = from(
            "",
            &[("JWT_SECRET", "1e5"), ("APP__AUTH__SERVICE_KEY", "007")],
        )
        .unwrap();
        assert_eq!(settings.auth.jwt_secret.as_deref(), Some("1e5"));
        assert_eq!(settings.auth.service_key.as_deref(), Some("007"));
    }

    #[test]
    fn empty_variables_count_as_unset() {
        let settings = from("", &[("JWT_SECRET", ""), ("APP__LOG__FILTER", "")]).unwrap();
        assert_eq!(settings.auth.jwt_secret, None);
        assert_eq!(settings.log.filter, "info");
    }

    #[test]
    fn port_moves_the_first_listener_of_the_file() {
        let toml = r#"
            [[listeners]]
            name = "first"
            bind = "127.0.0.1:4000"
            dialect = "one"
            transports = ["socketio"]
            [[listeners]]
            name = "second"
            bind = "[::]:4001"
            dialect = "two"
        "#;
        let settings = from(toml, &[("PORT", "8080")]).unwrap();
        assert_eq!(settings.listeners.len(), 2);
        assert_eq!(settings.listeners[0].bind, "127.0.0.1:8080");
        assert_eq!(settings.listeners[1].bind, "[::]:4001");
        // A listener without `transports` or `legacy_identity` gets the defaults.
        assert_eq!(settings.listeners[1].transports, vec!["rest"]);
        assert!(!settings.listeners[1].legacy_identity);
    }

    #[test]
    fn a_bad_port_is_an_error() {
        let err = from("", &[("PORT", "eighty")]).unwrap_err();
        assert!(err.to_string().contains("PORT"), "{err}");
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_errors() {
        assert!(from("[store]\nkindd = \"memory\"\n", &[]).is_err());
        assert!(from("[store]\nkind = \"oracle\"\n", &[]).is_err());
        assert!(from("", &[("APP__BUS__CAPACITY", "lots")]).is_err());
        assert!(from("", &[("APP__NOPE__X", "1")]).is_err());
    }

    #[test]
    fn role_pairs_are_set_per_listener_as_pairs_or_a_string() {
        let listener = |name: &str, port: u16, pairs: &str| {
            format!(
                "[[listeners]]\nname = \"{name}\"\nbind = \"0.0.0.0:{port}\"\ndialect = \"any\"\n{pairs}\n"
            )
        };
        let toml = [
            listener(
                "market",
                3005,
                "allowed_role_pairs = [[\"client\", \"provider\"]]",
            ),
            listener(
                "clinic",
                3006,
                "allowed_role_pairs = \"client:provider, doctor:patient\"",
            ),
            listener("open", 3007, ""),
        ]
        .concat();
        let listeners = from(&toml, &[]).unwrap().listeners;
        let pair = |a: &str, b: &str| [a.to_owned(), b.to_owned()];
        assert_eq!(
            listeners[0].allowed_role_pairs,
            vec![pair("client", "provider")]
        );
        assert_eq!(
            listeners[1].allowed_role_pairs,
            vec![pair("client", "provider"), pair("doctor", "patient")]
        );
        assert!(listeners[2].allowed_role_pairs.is_empty());
        let bad = listener("bad", 3008, "allowed_role_pairs = \"client\"");
        assert!(from(&bad, &[]).is_err());
    }

    #[test]
    fn role_pairs_are_no_longer_a_chat_setting() {
        let err = from("[chat]\nallowed_role_pairs = []\n", &[]).unwrap_err();
        assert!(err.to_string().contains("allowed_role_pairs"), "{err}");
    }
}
