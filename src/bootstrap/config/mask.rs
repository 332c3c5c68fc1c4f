//! Showing settings without their secrets: `masked()` for `check-config`, and the `Debug`
//! of the sections that hold secrets, so that `{:?}` in a log line cannot leak them either.

use std::fmt;

use super::{AuthSettings, Settings, StoreSettings};

const MASK: &str = "***";
/// Query parameters whose values are treated as secrets, by substring of the lowercased name.
const SECRET_PARAMS: [&str; 5] = ["pass", "pwd", "secret", "token", "key"];

impl Settings {
    /// The effective settings as TOML, with `jwt_secret`, `service_key` and passwords inside
    /// URLs replaced by `***`.
    pub fn masked(&self) -> String {
        let mut shown = self.clone();
        shown.auth = shown.auth.masked();
        shown.store = shown.store.masked();
        // Every field is a string, number, bool, list or table, so rendering cannot fail;
        // fall back to the (equally masked) Debug form rather than panic if that ever changes.
        toml::to_string_pretty(&shown).unwrap_or_else(|err| format!("# {err}\n{shown:#?}"))
    }
}

impl AuthSettings {
    fn masked(&self) -> Self {
        Self {
            jwt_secret: self.jwt_secret.as_ref().map(|_| MASK.to_owned()),
            service_key: self.service_key.as_ref().map(|_| MASK.to_owned()),
            ..self.clone()
        }
    }
}

impl StoreSettings {
    fn masked(&self) -> Self {
        Self {
            postgres_url: self.postgres_url.as_deref().map(mask_url),
            mongo_uri: self.mongo_uri.as_deref().map(mask_url),
            ..self.clone()
        }
    }
}

impl fmt::Debug for AuthSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = self.masked();
        f.debug_struct("AuthSettings")
            .field("jwt_secret", &shown.jwt_secret)
            .field("jwt_public_key_pem", &shown.jwt_public_key_pem)
            .field("jwt_public_key_file", &shown.jwt_public_key_file)
            .field("leeway_secs", &shown.leeway_secs)
            .field("service_key", &shown.service_key)
            .finish()
    }
}

impl fmt::Debug for StoreSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = self.masked();
        f.debug_struct("StoreSettings")
            .field("kind", &shown.kind)
            .field("sqlite_path", &shown.sqlite_path)
            .field("postgres_url", &shown.postgres_url)
            .field("mongo_uri", &shown.mongo_uri)
            .field("mongo_database", &shown.mongo_database)
            .field("max_connections", &shown.max_connections)
            .field("connect_timeout_secs", &shown.connect_timeout_secs)
            .finish()
    }
}

/// Replaces the password of `scheme://user:password@host…` and the values of secret-looking
/// query parameters. When in doubt it masks more: a password may itself contain `@`, `/` or
/// `:` when the operator did not percent-encode it, so the user info runs up to the last `@`
/// before the query.
pub(crate) fn mask_url(url: &str) -> String {
    let (before_query, query) = match url.split_once('?') {
        Some((head, query)) => (head, Some(query)),
        None => (url, None),
    };
    let mut out = match before_query.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((userinfo, host_and_path)) => {
                let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
                let password = if userinfo.contains(':') {
                    format!(":{MASK}")
                } else {
                    String::new()
                };
                format!("{scheme}://{user}{password}@{host_and_path}")
            }
            None => before_query.to_owned(),
        },
        None => before_query.to_owned(),
    };
    if let Some(query) = query {
        out.push('?');
        out.push_str(&mask_query(query));
    }
    out
}

fn mask_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_secret_param(name) => format!("{name}={MASK}"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn is_secret_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_PARAMS.iter().any(|secret| name.contains(secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_masked() {
        let cases = [
            (
                "postgresql://postgres:postgres@localhost:5432/clinic",
                "postgresql://postgres:***@localhost:5432/clinic",
            ),
            (
                "mongodb://admin:p@ss/w:rd@h1:27017,h2:27017/db?authSource=admin",
                "mongodb://admin:***@h1:27017,h2:27017/db?authSource=admin",
            ),
            (
                "postgres://localhost/db?user=me&password=hunter2&sslmode=require",
                "postgres://localhost/db?user=me&password=***&sslmode=require",
            ),
            ("mongodb://user@host/db", "mongodb://user@host/db"),
            (
                "mongodb://127.0.0.1:27017/?directConnection=true",
                "mongodb://127.0.0.1:27017/?directConnection=true",
            ),
            ("not a url", "not a url"),
        ];
        for (url, shown) in cases {
            assert_eq!(mask_url(url), shown, "{url}");
        }
    }

    fn secret_settings() -> Settings {
        let mut settings = Settings::default();
        settings.auth.jwt_secret = Some("jwt-s3cret".into());
        settings.auth.service_key = Some("svc-k3y".into());
        settings.store.postgres_url = Some("postgres://app:db-pa55@db/chat".into());
        settings.store.mongo_uri = Some("mongodb://app:mongo-pa55@m/chat".into());
        settings
    }

    #[test]
    fn masked_rendering_hides_every_secret_and_shows_the_rest() {
        let shown = secret_settings().masked();
        for secret in ["jwt-s3cret", "svc-k3y", "db-pa55", "mongo-pa55"] {
            assert!(!shown.contains(secret), "{secret} leaked:\n{shown}");
        }
        assert!(shown.contains("jwt_secret = \"***\""), "{shown}");
        assert!(shown.contains("postgres://app:***@db/chat"), "{shown}");
        assert!(shown.contains("bind = \"0.0.0.0:3000\""), "{shown}");
        assert!(shown.contains("max_message_chars = 10000"), "{shown}");
    }

    #[test]
    fn the_masked_rendering_is_loadable_toml() {
        let shown = Settings::default().masked();
        let parsed: Settings = toml::from_str(&shown).unwrap_or_else(|e| panic!("{e}\n{shown}"));
        assert_eq!(parsed, Settings::default());
    }

    #[test]
    fn debug_output_hides_secrets_too() {
        let debug = format!("{:?}", secret_settings());
        for secret in ["jwt-s3cret", "svc-k3y", "db-pa55", "mongo-pa55"] {
            assert!(!debug.contains(secret), "{secret} leaked: {debug}");
        }
    }
}
