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
use std::time::{Duration, Instant};

use serde_json::Value;

pub use answer::{Answer, error_event};
pub use call::{Call, DecodeFn, EventTable, ReplyFn, Request};

use super::auth::{AuthFailure, CookieOrigins, Credentials, authenticate, confirm_claim};
use super::hub::{ConnId, ConnectionSink, Hub, ListenerHub};
use super::protocol::{Dialect, Emit, Handshake, IdentifyEvent, IdentityMode, Reply};
use super::protocol::{ErrorCode, SessionView, WireError};
use crate::adapters::json::{NUL_REFUSED, contains_nul};
use crate::app::{Actor, UseCases};
use crate::domain::{Conversation, ConversationId, Identity};
use crate::ports::{ConnectionRef, TokenVerifier};
use limits::{RateLimiter, json_size};

/// The refusal of an identify event that names another user than the connection's.
const NOT_THIS_USER: &str = "Authentication error: userId is not this connection's user";

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
    /// Origins whose pages may be identified by the `token` cookie.
    pub cookie_origins: CookieOrigins,
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
    /// Bytes of events a transport may hold for a client that does not read them.
    pub outbound_buffer_bytes: usize,
    /// How long a client may go without reading before its connection is closed.
    pub slow_reader_timeout: Duration,
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
    /// Connected without credentials to an after-connect dialect's listener with legacy
    /// identity: waiting for the identify event.
    Awaiting,
    Ready(Actor),
}

/// A connection turned away: the events it had produced (a partial greeting), then the
/// error; the transport sends them and closes the connection.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub sent: Vec<Emit>,
    pub error: WireError,
}

impl Refusal {
    fn new(error: WireError) -> Self {
        Self {
            sent: Vec::new(),
            error,
        }
    }

    /// What the refused connection is sent at its handshake: the partial greeting, then the
    /// `error` event.
    pub fn events(self) -> Vec<Emit> {
        let mut events = self.sent;
        events.push(error_event(&self.error));
        events
    }

    /// The refusal as the answer to an identify event: the partial greeting, then the error
    /// (in the ack when the client asked for one); the connection is closed after it.
    fn answer(self, wants_ack: bool) -> Answer {
        let mut answer = Answer::refusal(&self.error, wants_ack);
        answer.emits.splice(0..0, self.sent);
        answer.close = true;
        answer
    }
}

/// Why identifying a connection failed.
enum IdentifyFailed {
    /// Something on our side failed before anything of the connection was kept; the client
    /// may try again.
    Unavailable(WireError),
    /// A connect call refused the connection.
    Refused(Refusal),
}

/// Why an event got no reply: a refused request, or a refused connection.
enum Failed {
    Request(WireError),
    Refused(Refusal),
}

impl Failed {
    fn error(&self) -> &WireError {
        match self {
            Failed::Request(error) => error,
            Failed::Refused(refusal) => &refusal.error,
        }
    }
}

impl From<WireError> for Failed {
    fn from(error: WireError) -> Self {
        Failed::Request(error)
    }
}

impl Session {
    /// Sets up a new connection. A connection that presents credentials (a token, or with
    /// legacy identity a bare `userId`) is authenticated now and runs the dialect's connect
    /// calls, whose events are the greeting. A connection to an after-connect dialect that
    /// presents nothing waits for the identify event, which only legacy identity trusts
    /// (without it, nothing could ever identify the connection: it is refused). On refusal,
    /// what to send before disconnecting; nothing of the connection is left registered or
    /// counted.
    pub async fn open(
        ctx: Arc<ListenerContext>,
        credentials: &Credentials,
        handshake: &Handshake<'_>,
        sink: Arc<dyn ConnectionSink>,
    ) -> Result<(Session, Vec<Emit>), Refusal> {
        let auth_refused = |e: AuthFailure| {
            Refusal::new(WireError::coded(ErrorCode::Unauthenticated, e.to_string()))
        };
        let dialect = ctx.dialect().clone();
        let presents_identity = credentials.token.is_some() || credentials.claimed_user.is_some();
        let identity = match dialect.identity() {
            // Nothing to go by yet: the identify event will say who it is, which only legacy
            // identity trusts (without it nothing could ever identify the connection).
            IdentityMode::AfterConnect(_) if !presents_identity => {
                if !ctx.legacy_identity {
                    return Err(auth_refused(AuthFailure::Missing));
                }
                None
            }
            _ => Some(
                authenticate(ctx.tokens.as_deref(), credentials, ctx.legacy_identity)
                    .map_err(auth_refused)?,
            ),
        };
        let connect_calls = dialect.on_connect(handshake).map_err(Refusal::new)?;
        let mut session = Session {
            conn: ctx.hub.next_conn_id(),
            limiter: RateLimiter::new(ctx.limits.events_per_second),
            ctx,
            sink,
            state: State::Awaiting,
            connect_calls,
            bound: None,
            joined: Vec::new(),
        };
        let greeting = match identity {
            Some(identity) => session
                .identify(identity)
                .await
                .map_err(|failed| match failed {
                    IdentifyFailed::Unavailable(error) => Refusal::new(error),
                    IdentifyFailed::Refused(refusal) => refusal,
                })?,
            None => Vec::new(),
        };
        tracing::debug!(listener = %session.ctx.name, conn = session.conn, "connection opened");
        Ok((session, greeting))
    }

    /// One inbound event: what to send back for it (and whether to close the connection
    /// after sending it: an identify event whose connect calls failed refuses it).
    pub async fn handle(&mut self, event: &str, args: &Value, wants_ack: bool) -> Answer {
        let result = self.respond(event, args).await;
        if let Err(failed) = &result {
            tracing::debug!(
                listener = %self.ctx.name,
                conn = self.conn,
                event,
                error = %failed.error(),
                "request refused"
            );
        }
        match result {
            Ok(reply) => Answer::new(Ok(reply), wants_ack),
            Err(Failed::Request(error)) => Answer::new(Err(error), wants_ack),
            Err(Failed::Refused(refusal)) => refusal.answer(wants_ack),
        }
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

    async fn respond(&mut self, event: &str, args: &Value) -> Result<Reply, Failed> {
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
                .unwrap_or_else(|| {
                    Err(WireError::coded(
                        ErrorCode::UnknownType,
                        format!("unknown event {event:?}"),
                    ))
                })?
        };
        Ok(call.run(self).await?)
    }

    fn check_limits(&mut self, args: &Value) -> Result<(), WireError> {
        if !self.limiter.admit(Instant::now()) {
            return Err(WireError::coded(
                ErrorCode::RateLimited,
                format!(
                    "too many events: the limit is {} per second",
                    self.ctx.limits.events_per_second
                ),
            ));
        }
        let size = json_size(args);
        if size > self.ctx.limits.max_frame_bytes {
            return Err(WireError::coded(
                ErrorCode::TooLarge,
                format!(
                    "payload too large: {size} bytes, the limit is {}",
                    self.ctx.limits.max_frame_bytes
                ),
            ));
        }
        if contains_nul(args) {
            return Err(WireError::new(NUL_REFUSED));
        }
        Ok(())
    }

    /// The identify event of an after-connect dialect. On a connection identified already
    /// (by its handshake or an earlier identify event) it is answered again for the same
    /// user and refused for another; otherwise legacy identity takes the claim.
    async fn identify_by_event(
        &mut self,
        claimed: &str,
        identify: &IdentifyEvent,
    ) -> Result<Reply, Failed> {
        if let State::Ready(actor) = &self.state {
            // However the connection was identified, the claim must be that user.
            return if actor.id().as_str() == claimed {
                Ok((identify.reply)(&actor.profile))
            } else {
                Err(Failed::Request(WireError::coded(
                    ErrorCode::Forbidden,
                    NOT_THIS_USER,
                )))
            };
        }
        let identity = confirm_claim(None, claimed, self.ctx.legacy_identity)
            .map_err(|e| WireError::coded(ErrorCode::Unauthenticated, e.to_string()))?;
        let greeting = self
            .identify(identity)
            .await
            .map_err(|failed| match failed {
                IdentifyFailed::Unavailable(error) => Failed::Request(error),
                IdentifyFailed::Refused(refusal) => Failed::Refused(refusal),
            })?;
        let mut reply = (identify.reply)(&self.actor()?.profile);
        reply.emits.extend(greeting);
        Ok(reply)
    }

    /// Makes the connection its user's: resolves the profile, registers the connection with
    /// the hub (so it hears about what follows), counts it in presence, runs the dialect's
    /// connect calls, and only then tells the user's contacts that they are online. Returns
    /// the calls' events. When a call fails, the connection is refused: it is unregistered,
    /// its presence taken back without a word to anyone, and the events already produced
    /// go out before the error.
    async fn identify(&mut self, identity: Identity) -> Result<Vec<Emit>, IdentifyFailed> {
        let origin = self.origin();
        let use_cases = self.ctx.use_cases.clone();
        let actor = use_cases
            .resolve_actor(&identity, Some(origin.clone()))
            .await
            .map_err(|e| IdentifyFailed::Unavailable(e.into()))?;
        self.ctx
            .listener
            .register(self.conn, actor.id().clone(), self.sink.clone());
        let opened = match use_cases.open_connection(&actor, &origin).await {
            Ok(opened) => opened,
            Err(e) => {
                self.ctx.listener.unregister(self.conn);
                return Err(IdentifyFailed::Unavailable(e.into()));
            }
        };
        tracing::debug!(listener = %self.ctx.name, conn = self.conn, user = %actor.id(), "connection identified");
        let awaiting = std::mem::replace(&mut self.state, State::Ready(actor));
        let mut greeting = Vec::new();
        for call in std::mem::take(&mut self.connect_calls) {
            match call.run(self).await {
                Ok(reply) => greeting.extend(reply.emits),
                Err(error) => {
                    self.ctx.listener.unregister(self.conn);
                    use_cases.connection_refused(&origin).await;
                    self.state = awaiting;
                    self.bound = None;
                    self.joined.clear();
                    return Err(IdentifyFailed::Refused(Refusal {
                        sent: greeting,
                        error,
                    }));
                }
            }
        }
        use_cases.announce_opened(&opened).await;
        Ok(greeting)
    }

    /// This connection, as events and presence know it.
    fn origin(&self) -> ConnectionRef {
        self.ctx.hub.origin(self.conn)
    }

    fn actor(&self) -> Result<&Actor, WireError> {
        match &self.state {
            State::Ready(actor) => Ok(actor),
            State::Awaiting => Err(self.not_identified()),
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
            IdentityMode::AfterConnect(identify) => WireError::coded(
                ErrorCode::Unauthenticated,
                format!("identify first: send {} with your user id", identify.event),
            ),
            IdentityMode::Handshake => WireError::coded(
                ErrorCode::Unauthenticated,
                "this connection is not identified",
            ),
        }
    }
}
