//! One client connection's life, whatever the transport: who it is (from the handshake, or
//! from an identify event afterwards), the dialect's connect calls, then each inbound event
//! through the dialect's table into a request the use cases run, and the dialect's reply
//! into the answer (ack or error) the transport sends; on close, the presence the
//! connection held is given back. Transports only move frames in and out.

mod answer;
mod call;
mod execute;
#[cfg(test)]
pub(crate) mod harness;
mod limits;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Instant;

use serde_json::Value;

pub use answer::{Answer, error_event};
pub use call::{Call, DecodeFn, EventTable, ReplyFn, Request};

use super::auth::{Credentials, authenticate, confirm_claim, verify_token};
use super::hub::{ConnId, ConnectionSink, Hub, ListenerHub};
use super::protocol::{Dialect, Emit, Handshake, IdentifyEvent, IdentityMode, Reply};
use super::protocol::{SessionView, WireError};
use crate::app::{Actor, UseCases};
use crate::domain::{Conversation, ConversationId, Identity};
use crate::ports::{ConnectionRef, TokenVerifier};
use limits::{RateLimiter, json_size};

/// Per-listener settings and services every connection of the listener shares.
pub struct ListenerContext {
    pub name: String,
    pub hub: Arc<Hub>,
    /// The listener's connections, and its dialect.
    pub listener: Arc<ListenerHub>,
    /// The core as this listener sees it (with its conversation policy).
    pub use_cases: UseCases,
    pub tokens: Option<Arc<dyn TokenVerifier>>,
    pub legacy_identity: bool,
    pub limits: SessionLimits,
}

impl ListenerContext {
    pub fn dialect(&self) -> &Arc<dyn Dialect> {
        self.listener.dialect()
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
    sink: Arc<dyn ConnectionSink>,
    state: State,
    /// The dialect's connect calls, decoded at connect and run once the user is known.
    connect_calls: Vec<Call>,
    bound: Option<Conversation>,
    joined: Vec<ConversationId>,
    limiter: RateLimiter,
}

enum State {
    /// Connected, not identified yet (an after-connect dialect). `presented` is the user of
    /// the token the handshake carried, already verified: the only user the identify event
    /// may claim.
    Awaiting {
        presented: Option<Identity>,
    },
    Ready(Actor),
}

impl Session {
    /// Sets up a new connection: with handshake identity, authenticates it and runs the
    /// dialect's connect calls, whose events are the greeting; with after-connect identity,
    /// verifies a presented token and waits for the identify event. On refusal, the error
    /// event to send before disconnecting; nothing of the connection is left registered.
    pub async fn open(
        ctx: Arc<ListenerContext>,
        credentials: &Credentials,
        handshake: &Handshake<'_>,
        sink: Arc<dyn ConnectionSink>,
    ) -> Result<(Session, Vec<Emit>), Emit> {
        let refuse = |e: WireError| error_event(&e);
        let auth_refused =
            |e: super::auth::AuthFailure| error_event(&WireError::new(e.to_string()));
        let dialect = ctx.dialect().clone();
        let (identity, presented) = match dialect.identity() {
            IdentityMode::Handshake => {
                let identity =
                    authenticate(ctx.tokens.as_deref(), credentials, ctx.legacy_identity)
                        .map_err(auth_refused)?;
                (Some(identity), None)
            }
            IdentityMode::AfterConnect(_) => {
                let presented = verify_token(ctx.tokens.as_deref(), credentials.token.as_deref())
                    .map_err(auth_refused)?;
                (None, presented)
            }
        };
        let connect_calls = dialect.on_connect(handshake).map_err(refuse)?;
        let mut session = Session {
            conn: ctx.hub.next_conn_id(),
            limiter: RateLimiter::new(ctx.limits.events_per_second),
            ctx,
            sink,
            state: State::Awaiting { presented },
            connect_calls,
            bound: None,
            joined: Vec::new(),
        };
        let greeting = match identity {
            Some(identity) => match session.identify(identity).await {
                Ok(greeting) => greeting,
                Err(e) => {
                    session.close().await;
                    return Err(refuse(e));
                }
            },
            None => Vec::new(),
        };
        tracing::debug!(listener = %session.ctx.name, conn = session.conn, "connection opened");
        Ok((session, greeting))
    }

    /// One inbound event: what to send back for it.
    pub async fn handle(&mut self, event: &str, args: &Value, wants_ack: bool) -> Answer {
        let result = self.respond(event, args).await;
        if let Err(e) = &result {
            tracing::debug!(
                listener = %self.ctx.name,
                conn = self.conn,
                event,
                error = %e,
                "request refused"
            );
        }
        Answer::new(result, wants_ack)
    }

    /// Gives back what the connection held. Failures are logged: the client is gone anyway.
    pub async fn close(self) {
        self.ctx.listener.unregister(self.conn);
        if let State::Ready(actor) = &self.state
            && let Err(e) = self.ctx.use_cases.connection_closed(&self.origin()).await
        {
            tracing::warn!(error = %e, user = %actor.id(), "connection close not recorded");
        }
        tracing::debug!(listener = %self.ctx.name, conn = self.conn, "connection closed");
    }

    async fn respond(&mut self, event: &str, args: &Value) -> Result<Reply, WireError> {
        self.check_limits(args)?;
        if let IdentityMode::AfterConnect(identify) = self.ctx.dialect().identity()
            && event == identify.event
        {
            let claimed = (identify.decode)(args)?;
            return self.identify_by_event(&claimed, &identify).await;
        }
        let call = {
            let view = self.view()?;
            self.ctx
                .dialect()
                .events()
                .decode(&view, event, args)
                .unwrap_or_else(|| Err(WireError::new(format!("unknown event {event:?}"))))?
        };
        call.run(self).await
    }

    fn check_limits(&mut self, args: &Value) -> Result<(), WireError> {
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
        Ok(())
    }

    /// The identify event of an after-connect dialect. Repeating it for the same user
    /// answers again; another user is refused.
    async fn identify_by_event(
        &mut self,
        claimed: &str,
        identify: &IdentifyEvent,
    ) -> Result<Reply, WireError> {
        let presented = match &self.state {
            State::Ready(actor) if actor.id().as_str() == claimed => {
                return Ok((identify.reply)(&actor.profile));
            }
            State::Ready(actor) => {
                return Err(WireError::new(format!(
                    "this connection is already identified as {}",
                    actor.id()
                )));
            }
            State::Awaiting { presented } => presented.clone(),
        };
        let identity = confirm_claim(presented, claimed, self.ctx.legacy_identity)
            .map_err(|e| WireError::new(e.to_string()))?;
        let greeting = self.identify(identity).await?;
        let mut reply = (identify.reply)(&self.actor()?.profile);
        reply.emits.extend(greeting);
        Ok(reply)
    }

    /// Makes the connection its user's: resolves the profile, registers the connection with
    /// the hub (so it hears about what follows), counts it in presence, then runs the
    /// dialect's connect calls. Returns their events.
    async fn identify(&mut self, identity: Identity) -> Result<Vec<Emit>, WireError> {
        let origin = self.origin();
        let use_cases = &self.ctx.use_cases;
        let actor = use_cases
            .resolve_actor(&identity, Some(origin.clone()))
            .await?;
        self.ctx
            .listener
            .register(self.conn, actor.id().clone(), self.sink.clone());
        if let Err(e) = use_cases.connection_opened(&actor, &origin).await {
            self.ctx.listener.unregister(self.conn);
            return Err(e.into());
        }
        tracing::debug!(listener = %self.ctx.name, conn = self.conn, user = %actor.id(), "connection identified");
        self.state = State::Ready(actor);
        let mut greeting = Vec::new();
        for call in std::mem::take(&mut self.connect_calls) {
            greeting.extend(call.run(self).await?.emits);
        }
        Ok(greeting)
    }

    /// This connection, as events and presence know it.
    fn origin(&self) -> ConnectionRef {
        self.ctx.hub.origin(self.conn)
    }

    fn actor(&self) -> Result<&Actor, WireError> {
        match &self.state {
            State::Ready(actor) => Ok(actor),
            State::Awaiting { .. } => Err(self.not_identified()),
        }
    }

    fn view(&self) -> Result<SessionView<'_>, WireError> {
        Ok(SessionView {
            user: &self.actor()?.profile,
            bound: self.bound.as_ref(),
        })
    }

    fn not_identified(&self) -> WireError {
        match self.ctx.dialect().identity() {
            IdentityMode::AfterConnect(identify) => WireError::new(format!(
                "identify first: send {} with your user id",
                identify.event
            )),
            IdentityMode::Handshake => WireError::new("this connection is not identified"),
        }
    }
}
