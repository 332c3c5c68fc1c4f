//! `MemoryCallSessionStore`: live call sessions, at most one per user.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::lock;
use crate::domain::{CallId, CallSession, CallState, Timestamp, UserId};
use crate::ports::{CallSessionStore, StoreError};

#[derive(Default)]
pub struct MemoryCallSessionStore {
    state: Mutex<CallsState>,
}

#[derive(Default)]
struct CallsState {
    sessions: HashMap<CallId, CallSession>,
    /// Who is on which call: the "busy" rule is a lookup here.
    parties: HashMap<UserId, CallId>,
}

#[async_trait]
impl CallSessionStore for MemoryCallSessionStore {
    async fn start(&self, session: &CallSession) -> Result<(), StoreError> {
        let mut state = lock(&self.state)?;
        if state.sessions.contains_key(&session.id) {
            return Err(StoreError::Conflict(format!(
                "call id {} is taken",
                session.id
            )));
        }
        for party in [&session.caller, &session.callee] {
            if state.parties.contains_key(party) {
                return Err(StoreError::Conflict(format!(
                    "{party} is already in a call"
                )));
            }
        }
        for party in [&session.caller, &session.callee] {
            state.parties.insert(party.clone(), session.id.clone());
        }
        state.sessions.insert(session.id.clone(), session.clone());
        Ok(())
    }

    async fn get(&self, id: &CallId) -> Result<Option<CallSession>, StoreError> {
        Ok(lock(&self.state)?.sessions.get(id).cloned())
    }

    async fn live_call_of(&self, user: &UserId) -> Result<Option<CallSession>, StoreError> {
        let state = lock(&self.state)?;
        Ok(state
            .parties
            .get(user)
            .and_then(|id| state.sessions.get(id))
            .cloned())
    }

    async fn update(&self, session: &CallSession) -> Result<(), StoreError> {
        let mut state = lock(&self.state)?;
        let stored = state
            .sessions
            .get_mut(&session.id)
            .ok_or_else(|| StoreError::NotFound(format!("call {}", session.id)))?;
        // Only the state changes during a call; the parties stay who they were at start, as
        // the busy index says.
        stored.state = session.state;
        Ok(())
    }

    async fn finish(&self, id: &CallId) -> Result<bool, StoreError> {
        let mut state = lock(&self.state)?;
        let Some(session) = state.sessions.remove(id) else {
            return Ok(false);
        };
        for party in [&session.caller, &session.callee] {
            state.parties.remove(party);
        }
        Ok(true)
    }

    async fn ringing_since_before(
        &self,
        before: Timestamp,
    ) -> Result<Vec<CallSession>, StoreError> {
        let state = lock(&self.state)?;
        let mut ringing: Vec<CallSession> = state
            .sessions
            .values()
            .filter(|s| s.state == CallState::Ringing && s.started_at < before)
            .cloned()
            .collect();
        ringing.sort_by(|a, b| (a.started_at, &a.id).cmp(&(b.started_at, &b.id)));
        Ok(ringing)
    }
}
