//! How a dialect's decoding meets the session's execution: a `Request` is run by the session;
//! a `Call` is a decoded request paired with the reply its dialect renders from the result;
//! an `EventTable` maps each inbound event of a dialect to its decoding and that reply. So a
//! dialect answers only what it asked, and a new kind of request touches only the dialects
//! that use it.

use std::collections::HashMap;

use async_trait::async_trait;
use serde_json::Value;

use super::Session;
use crate::adapters::inbound::protocol::{Reply, SessionView, WireError};

/// A request the session can run (`crate::adapters::inbound::protocol::requests`).
#[async_trait]
pub trait Request: Send + 'static {
    /// What the dialect's reply is rendered from.
    type Output: Send + Sync + 'static;

    async fn run(self, session: &mut Session) -> Result<Self::Output, WireError>;
}

/// Renders a request's result for the requesting connection.
pub type ReplyFn<O> = fn(&SessionView<'_>, &O) -> Reply;

/// Reads an event's arguments into a request.
pub type DecodeFn<R> = fn(&SessionView<'_>, &Value) -> Result<R, WireError>;

/// A decoded request with its reply, ready to run.
pub struct Call(Box<dyn Run>);

impl Call {
    pub fn new<R: Request>(request: R, reply: ReplyFn<R::Output>) -> Self {
        Self(Box::new(Paired { request, reply }))
    }

    /// Runs the request and renders the reply.
    pub(super) async fn run(self, session: &mut Session) -> Result<Reply, WireError> {
        self.0.run(session).await
    }
}

#[async_trait]
trait Run: Send {
    async fn run(self: Box<Self>, session: &mut Session) -> Result<Reply, WireError>;
}

struct Paired<R: Request> {
    request: R,
    reply: ReplyFn<R::Output>,
}

#[async_trait]
impl<R: Request> Run for Paired<R> {
    async fn run(self: Box<Self>, session: &mut Session) -> Result<Reply, WireError> {
        let Paired { request, reply } = *self;
        let output = request.run(session).await?;
        let view = session.view()?;
        Ok(reply(&view, &output))
    }
}

trait Decode: Send + Sync {
    fn decode(&self, view: &SessionView<'_>, args: &Value) -> Result<Call, WireError>;
}

struct Row<R: Request> {
    decode: DecodeFn<R>,
    reply: ReplyFn<R::Output>,
}

impl<R: Request> Decode for Row<R> {
    fn decode(&self, view: &SessionView<'_>, args: &Value) -> Result<Call, WireError> {
        Ok(Call::new((self.decode)(view, args)?, self.reply))
    }
}

/// A dialect's inbound events.
#[derive(Default)]
pub struct EventTable {
    rows: HashMap<&'static str, Box<dyn Decode>>,
}

impl EventTable {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `event`: its arguments decode into `R`, whose result `reply` renders.
    ///
    /// # Panics
    /// When `event` is in the table already: a mistake in the dialect's table, which any of
    /// its tests finds.
    #[must_use]
    pub fn on<R: Request>(
        mut self,
        event: &'static str,
        decode: DecodeFn<R>,
        reply: ReplyFn<R::Output>,
    ) -> Self {
        let previous = self.rows.insert(event, Box::new(Row { decode, reply }));
        assert!(previous.is_none(), "event {event:?} is in the table twice");
        self
    }

    /// The call for an inbound event; `None` when the dialect has no such event.
    pub fn decode(
        &self,
        view: &SessionView<'_>,
        event: &str,
        args: &Value,
    ) -> Option<Result<Call, WireError>> {
        Some(self.rows.get(event)?.decode(view, args))
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The event names, sorted (for documentation and tests).
    pub fn events(&self) -> Vec<&'static str> {
        let mut names: Vec<_> = self.rows.keys().copied().collect();
        names.sort_unstable();
        names
    }
}
