//! `UseCases`: the application service every inbound adapter calls. It holds the ports
//! and the configured rules; its operations live in the sibling files, one per area
//! (conversations, messages, notifications, presence, typing, calls), each following the
//! same order: load through ports, let the domain decide, persist, then publish.

use std::sync::Arc;
use std::time::Duration;

use crate::domain::{ConversationPolicy, DomainEvent, Identity, MessageRules, UserId, UserProfile};
use crate::ports::{
    BlobStore, Clock, ConnectionRef, EventBus, EventEnvelope, IdGenerator, PresenceRegistry,
    Stores, TypingRegistry,
};

use super::error::{AppError, AppResult};

/// The configurable rules of the core.
#[derive(Debug, Clone)]
pub struct Rules {
    pub messages: MessageRules,
    pub policy: ConversationPolicy,
    pub ring_timeout: Duration,
    pub sizes: ConversationSizes,
    /// Connections one user may have open at once (every listener and node); 0: no limit.
    pub max_connections_per_user: u32,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            messages: MessageRules::default(),
            policy: ConversationPolicy::allow_all(),
            ring_timeout: Duration::from_secs(30),
            sizes: ConversationSizes::default(),
            max_connections_per_user: 20,
        }
    }
}

/// How many distinct participants a conversation opened by whom may have. A user's token
/// opens pairs unless configured otherwise: anyone may add anyone to what they open, so a
/// large limit would let one user grow everyone's conversation lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConversationSizes {
    /// Opened with the service key.
    pub max_participants: usize,
    /// Opened with a user's token.
    pub max_participants_by_user: usize,
}

impl Default for ConversationSizes {
    fn default() -> Self {
        Self {
            max_participants: 1000,
            max_participants_by_user: 2,
        }
    }
}

/// Everything the use cases need from the world.
#[derive(Clone)]
pub struct Ports {
    pub stores: Stores,
    pub bus: Arc<dyn EventBus>,
    pub presence: Arc<dyn PresenceRegistry>,
    pub typing: Arc<dyn TypingRegistry>,
    /// Uploaded files (message attachments).
    pub blobs: Arc<dyn BlobStore>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
}

/// The authenticated user behind a request, and the connection it came from (`None`: a
/// REST call, which every connection of the user hears about).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub profile: UserProfile,
    pub origin: Option<ConnectionRef>,
}

impl Actor {
    pub fn id(&self) -> &UserId {
        &self.profile.id
    }
}

#[derive(Clone)]
pub struct UseCases {
    pub(super) ports: Ports,
    pub(super) rules: Arc<Rules>,
}

impl UseCases {
    pub fn new(ports: Ports, rules: Rules) -> Self {
        Self {
            ports,
            rules: Arc::new(rules),
        }
    }

    /// The same core under another conversation policy: what one listener enforces on the
    /// messages sent through it, beside listeners that allow everyone.
    #[must_use]
    pub fn with_policy(&self, policy: ConversationPolicy) -> Self {
        Self {
            ports: self.ports.clone(),
            rules: Arc::new(Rules {
                policy,
                ..(*self.rules).clone()
            }),
        }
    }

    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// Who a verified identity is: the directory's profile, filled in by the token's claims.
    pub async fn resolve_actor(
        &self,
        identity: &Identity,
        origin: Option<ConnectionRef>,
    ) -> AppResult<Actor> {
        let known = self.ports.stores.users.get(&identity.user_id).await?;
        Ok(Actor {
            profile: UserProfile::resolve(known, identity),
            origin,
        })
    }

    /// Creates or replaces a user's profile (server-to-server provisioning).
    pub async fn upsert_user(&self, profile: UserProfile) -> AppResult<()> {
        Ok(self.ports.stores.users.upsert(&profile).await?)
    }

    pub async fn user_profile(&self, id: &UserId) -> AppResult<Option<UserProfile>> {
        Ok(self.ports.stores.users.get(id).await?)
    }

    pub(super) fn new_id<T>(
        &self,
        parse: impl FnOnce(String) -> Result<T, crate::domain::IdError>,
    ) -> AppResult<T> {
        parse(self.ports.ids.next_id()).map_err(|e| {
            tracing::error!(error = %e, "id generator produced an invalid id");
            AppError::Unavailable
        })
    }

    /// Announces an event whose data is already stored. A bus failure cannot undo the write,
    /// and the request did succeed, so it is logged rather than returned: clients catch up
    /// from the store (history after seq N, pending notifications).
    pub(super) async fn publish(&self, event: DomainEvent, origin: Option<ConnectionRef>) {
        if let Err(e) = self
            .ports
            .bus
            .publish(EventEnvelope::new(event, origin))
            .await
        {
            tracing::error!(error = %e, "stored change could not be announced");
        }
    }
}
