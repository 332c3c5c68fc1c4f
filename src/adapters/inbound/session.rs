//! One client connection's life, whatever the transport: authenticate the handshake, run
//! the dialect's connect commands, then turn each inbound event into a command for the use
//! cases and the outcome into the dialect's reply; on close, give back what the connection
//! held (rooms, presence). Transports only move frames in and out.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::auth::{Credentials, authenticate};
use super::dialect::{
    Command, DialectCodec, Emit, Handshake, Outcome, Reply, SessionView, WireError,
};
use super::hub::{ConnId, ConnectionSink, Hub, ListenerHub};
use crate::app::{Actor, PostMessage, UseCases};
use crate::domain::{Conversation, ConversationId, MessageBody, MessageKind};
use crate::ports::TokenVerifier;

/// Per-listener settings and services every connection of the listener shares.
pub struct ListenerContext {
    pub name: String,
    pub hub: Arc<Hub>,
    pub listener: Arc<ListenerHub>,
    pub use_cases: UseCases,
    pub tokens: Option<Arc<dyn TokenVerifier>>,
    pub legacy_identity: bool,
    pub limits: SessionLimits,
}

impl ListenerContext {
    pub fn codec(&self) -> &Arc<dyn DialectCodec> {
        self.listener.codec()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// Largest accepted event payload, as JSON bytes.
    pub max_frame_bytes: usize,
    /// Events per second per connection; 0 turns the limit off.
    pub events_per_second: u32,
}

pub struct Session {
    ctx: Arc<ListenerContext>,
    conn: ConnId,
    actor: Actor,
    bound: Option<Conversation>,
    joined: Vec<ConversationId>,
    limiter: RateLimiter,
}

impl Session {
    /// Authenticates and sets up a new connection. On refusal, the error event to send before
    /// disconnecting; nothing of the connection is left registered.
    pub async fn open(
        ctx: Arc<ListenerContext>,
        credentials: &Credentials,
        handshake: &Handshake<'_>,
        sink: Arc<dyn ConnectionSink>,
    ) -> Result<(Session, Vec<Emit>), Emit> {
        let codec = ctx.codec().clone();
        let refuse = |e: WireError| codec.error(&e);
        let identity = authenticate(ctx.tokens.as_deref(), credentials, ctx.legacy_identity)
            .map_err(|e| refuse(WireError::new(e.to_string())))?;
        let commands = codec.on_connect(handshake).map_err(refuse)?;
        let conn = ctx.hub.next_conn_id();
        let actor = ctx
            .use_cases
            .resolve_actor(&identity, Some(ctx.hub.origin(conn)))
            .await
            .map_err(|e| refuse(e.into()))?;
        ctx.listener.register(conn, actor.id().clone(), sink);
        let mut session = Session {
            limiter: RateLimiter::new(ctx.limits.events_per_second),
            ctx,
            conn,
            actor,
            bound: None,
            joined: Vec::new(),
        };
        if let Err(e) = session
            .ctx
            .use_cases
            .connection_opened(&session.actor)
            .await
        {
            session.ctx.listener.unregister(conn);
            return Err(refuse(e.into()));
        }
        let mut greeting = Vec::new();
        for command in commands {
            match session.execute(command).await {
                Ok(outcome) => greeting.extend(session.reply(&outcome).emits),
                Err(e) => {
                    session.close().await;
                    return Err(refuse(e));
                }
            }
        }
        tracing::debug!(
            listener = %session.ctx.name,
            conn,
            user = %session.actor.id(),
            "connection opened"
        );
        Ok((session, greeting))
    }

    pub fn user_id(&self) -> &str {
        self.actor.id().as_str()
    }

    /// One inbound event: its reply, or the error to show the client.
    pub async fn handle(&mut self, event: &str, args: &Value) -> Result<Reply, WireError> {
        if !self.limiter.admit(Instant::now()) {
            return Err(WireError::new(format!(
                "too many events: the limit is {} per second",
                self.ctx.limits.events_per_second
            )));
        }
        let size = json_size(args);
        if size > self.ctx.limits.max_frame_bytes {
            return Err(WireError::new(format!(
                "payload too large: {size} bytes, the limit is {}",
                self.ctx.limits.max_frame_bytes
            )));
        }
        let command = {
            let view = self.view();
            self.ctx.codec().decode(&view, event, args)?
        };
        let outcome = self.execute(command).await?;
        Ok(self.reply(&outcome))
    }

    /// Gives back what the connection held. Failures are logged: the client is gone anyway.
    pub async fn close(self) {
        self.ctx.listener.unregister(self.conn);
        if let Err(e) = self
            .ctx
            .use_cases
            .connection_closed(&self.actor, &self.joined)
            .await
        {
            tracing::warn!(error = %e, user = %self.actor.id(), "connection close not fully recorded");
        }
        tracing::debug!(listener = %self.ctx.name, conn = self.conn, "connection closed");
    }

    fn view(&self) -> SessionView<'_> {
        SessionView {
            user: &self.actor.profile,
            bound: self.bound.as_ref(),
        }
    }

    fn reply(&self, outcome: &Outcome) -> Reply {
        self.ctx.codec().reply(&self.view(), outcome)
    }

    async fn execute(&mut self, command: Command) -> Result<Outcome, WireError> {
        let uc = &self.ctx.use_cases;
        let actor = &self.actor;
        Ok(match command {
            Command::Join(id) => Outcome::Joined(self.join(&id).await?),
            Command::Bind(id) => {
                let conversation = self.join(&id).await?;
                self.bound = Some(conversation.clone());
                Outcome::Bound(conversation)
            }
            Command::Leave(id) => {
                if self.joined.contains(&id) {
                    self.ctx.listener.leave(self.conn, &id);
                    self.joined.retain(|j| j != &id);
                    uc.leave_conversation(actor, &id).await?;
                }
                Outcome::Left(id)
            }
            Command::Post { conversation, text } => {
                let body = MessageBody::new(
                    MessageKind::Text,
                    text,
                    Vec::new(),
                    None,
                    &uc.rules().messages,
                )
                .map_err(|e| WireError::new(e.to_string()))?;
                let request = PostMessage {
                    conversation_id: conversation,
                    body,
                    client_key: None,
                    create_with_peer: None,
                };
                Outcome::Posted(uc.post_message(actor, request).await?)
            }
            Command::History {
                conversation,
                window,
            } => Outcome::History {
                history: uc.history(actor.id(), &conversation, window.page()).await?,
                window,
            },
            Command::SubscribeNotifications => Outcome::Subscribed,
            Command::DeliverPending => {
                Outcome::Pending(uc.take_pending_notifications(actor.id()).await?)
            }
            Command::Typing {
                conversation,
                typing,
            } => {
                uc.set_typing(actor, &conversation, typing).await?;
                Outcome::Typing
            }
            Command::MarkMessageRead(id) => {
                let (message, _) = uc.mark_message_read(actor, &id).await?;
                Outcome::MessageRead {
                    message,
                    by: actor.id().clone(),
                }
            }
        })
    }

    /// Joins a conversation's room once per connection. The participant check comes first,
    /// the room next (so nothing posted after the join is missed), the use case last.
    async fn join(&mut self, id: &ConversationId) -> Result<Conversation, WireError> {
        let uc = &self.ctx.use_cases;
        if self.joined.contains(id) {
            return Ok(uc.conversation_for(self.actor.id(), id).await?);
        }
        uc.conversation_for(self.actor.id(), id).await?;
        self.ctx.listener.join(self.conn, id);
        match uc.join_conversation(&self.actor, id).await {
            Ok(conversation) => {
                self.joined.push(id.clone());
                Ok(conversation)
            }
            Err(e) => {
                self.ctx.listener.leave(self.conn, id);
                Err(e.into())
            }
        }
    }
}

/// A token bucket: bursts up to one second's worth of events, refilled continuously.
struct RateLimiter {
    per_second: f64,
    tokens: f64,
    last: Option<Instant>,
}

impl RateLimiter {
    fn new(per_second: u32) -> Self {
        Self {
            per_second: f64::from(per_second),
            tokens: f64::from(per_second),
            last: None,
        }
    }

    fn admit(&mut self, now: Instant) -> bool {
        if self.per_second <= 0.0 {
            return true;
        }
        let elapsed = self
            .last
            .map_or(Duration::ZERO, |last| now.saturating_duration_since(last));
        self.last = Some(now);
        self.tokens = (self.tokens + elapsed.as_secs_f64() * self.per_second).min(self.per_second);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The payload's size as compact JSON, counted without building the text.
fn json_size(value: &Value) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // Writing to a counter cannot fail, and a Value always serializes.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn rate_limiter_allows_a_burst_then_refills() {
        let mut limiter = RateLimiter::new(3);
        let t0 = Instant::now();
        assert!((0..3).all(|_| limiter.admit(t0)));
        assert!(!limiter.admit(t0));
        assert!(limiter.admit(t0 + Duration::from_millis(340)));
        assert!(!limiter.admit(t0 + Duration::from_millis(340)));
    }

    #[test]
    fn zero_means_no_limit() {
        let mut limiter = RateLimiter::new(0);
        let t0 = Instant::now();
        assert!((0..10_000).all(|_| limiter.admit(t0)));
    }

    #[test]
    fn json_size_is_the_compact_length() {
        let v = json!({ "text": "héllo", "n": [1, 2] });
        assert_eq!(json_size(&v), serde_json::to_vec(&v).unwrap().len());
    }
}
