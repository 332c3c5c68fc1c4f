//! The composition root: the only code that reads configuration or names adapters. It turns
//! `Settings` into the adapters the use cases run on (the store in `stores`, the bus and the
//! presence and typing registries in `cluster`), builds each listener's transports from the
//! dialect registry (`listeners`), serves them (`serve`) and runs the timers (`sweeper`).

mod cluster;
pub mod config;
mod http_server;
mod import;
mod listeners;
pub mod serve;
mod stores;
mod sweeper;

use std::sync::Arc;

use anyhow::Context;

use crate::adapters::inbound::hub::Hub;
use crate::adapters::inbound::transports::http::{RateLimits, RateSettings};
use crate::adapters::outbound::jwt::JwtVerifier;
use crate::adapters::outbound::local::{LocalDiskBlobStore, ObjectIdGenerator, SystemClock};
use crate::app::{ConversationSizes, Ports, Rules, UseCases};
use crate::domain::{ConversationPolicy, MessageRules, Role};
use crate::ports::{Clock, EventBus, IdGenerator, NodeId, Stores, TokenVerifier};
use config::{AuthSettings, Settings};

pub use import::{ImportParts, ImportRequest, import_families, open_import, run_import};
pub use listeners::ListenerService;
pub use stores::{migrate, open_stores};

/// Everything a running server needs, built once at start and shared by every listener.
pub struct App {
    pub settings: Settings,
    pub stores: Stores,
    pub bus: Arc<dyn EventBus>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
    /// `None` when no JWT key is configured: no token can be verified.
    pub tokens: Option<Arc<dyn TokenVerifier>>,
    /// The use cases under the rules of the `chat` and `limits` sections; each listener
    /// serves them under its own conversation policy.
    pub use_cases: UseCases,
    /// Delivers domain events to every listener's connections.
    pub hub: Arc<Hub>,
    /// REST request rates per user and per address, shared by every listener.
    pub rate_limits: Arc<RateLimits>,
}

/// Builds the app from validated settings.
///
/// # Errors
/// When the store cannot be opened (or was not compiled in), a JWT key is unusable, or the
/// upload directory cannot be created.
pub async fn build(settings: &Settings) -> anyhow::Result<App> {
    let stores = open_stores(&settings.store).await?;
    let tokens = token_verifier(&settings.auth).await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let ids: Arc<dyn IdGenerator> = Arc::new(ObjectIdGenerator::new());
    // A fresh id per process start (see `NodeId`).
    let node = NodeId::new(ids.next_id());
    let cluster = cluster::open(settings);
    let blobs = LocalDiskBlobStore::open(
        &settings.blobs.dir,
        settings.blobs.max_bytes,
        &settings.blobs.public_prefix,
    )
    .await
    .context("opening the upload directory (blobs.dir)")?;
    let ports = Ports {
        stores: stores.clone(),
        bus: cluster.bus.clone(),
        presence: cluster.presence,
        typing: cluster.typing,
        blobs: Arc::new(blobs),
        clock: clock.clone(),
        ids: ids.clone(),
    };
    let use_cases = UseCases::new(ports, rules(settings));
    tracing::info!(%node, "node started");
    Ok(App {
        settings: settings.clone(),
        stores,
        bus: cluster.bus,
        clock,
        ids,
        tokens,
        use_cases,
        hub: Hub::new(node),
        rate_limits: RateLimits::new(RateSettings {
            per_user: settings.limits.rest_requests_per_second_per_user,
            per_address: settings.limits.rest_requests_per_second_per_address,
        }),
    })
}

/// The core's rules, from the `limits` and `chat` sections. The conversation policy is
/// each listener's (`listeners::policy`); here it allows everyone.
fn rules(settings: &Settings) -> Rules {
    Rules {
        messages: MessageRules {
            max_text_chars: settings.limits.max_message_chars,
        },
        policy: ConversationPolicy::allow_all(),
        ring_timeout: settings.chat.ring_timeout(),
        max_connections_per_user: settings.limits.max_connections_per_user,
        sizes: ConversationSizes {
            max_participants: settings.limits.max_participants,
            max_participants_by_user: settings.limits.max_participants_by_user,
        },
    }
}

/// A listener's allowed role pairs as the domain's policy.
fn policy(pairs: &[[String; 2]]) -> ConversationPolicy {
    ConversationPolicy::with_pairs(
        pairs
            .iter()
            .filter_map(|[a, b]| Some((Role::new(a)?, Role::new(b)?)))
            .collect(),
    )
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
    use crate::bootstrap::config::StoreKind;

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

    #[test]
    fn blank_roles_make_no_pair() {
        let pairs = [
            ["Client".to_owned(), "provider".to_owned()],
            [" ".to_owned(), "x".to_owned()],
        ];
        let policy = policy(&pairs);
        let role = |r: &str| Role::new(r).unwrap();
        assert!(policy.allows(Some(&role("provider")), Some(&role("client"))));
        assert!(!policy.allows(Some(&role("x")), Some(&role("x"))));
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
}
