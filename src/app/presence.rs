//! Presence use cases: connections opening and closing, a node gone, the manual online
//! switch, and the online status query. Changes are told to the user's contacts only.

use crate::domain::{
    ConversationId, DomainEvent, PresenceChange, PresenceTransition, Timestamp, UserId,
};
use crate::ports::{ConnectionRef, NodeId};

use super::error::{AppError, AppResult};
use super::use_cases::{Actor, UseCases};

/// What a status query answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OnlineStatus {
    pub online: bool,
    pub last_active: Option<Timestamp>,
}

impl UseCases {
    /// Counts the actor's connection `conn` as open, quietly: once the connection is
    /// accepted, `announce_opened` tells the contacts; a connection refused meanwhile is
    /// taken back with `connection_refused`, and nobody hears of it.
    ///
    /// Errors: `Limited` when the user already has `max_connections_per_user` open (the
    /// connection is not counted then); or when the presence registry could not count it.
    pub async fn open_connection(
        &self,
        actor: &Actor,
        conn: &ConnectionRef,
    ) -> AppResult<PresenceTransition> {
        let opened = self
            .ports
            .presence
            .connection_opened(conn, actor.id())
            .await?;
        let max = self.rules.max_connections_per_user;
        if opened.exceeds_connection_limit(max) {
            self.connection_refused(conn).await;
            tracing::info!(user = %actor.id(), max, "connection refused: too many open");
            return Err(AppError::Limited(format!(
                "too many open connections for this user (the limit is {max})"
            )));
        }
        Ok(opened)
    }

    /// Tells the user's contacts what opening a connection changed (see `open_connection`).
    /// The connection is open and counted either way: a failure is logged.
    pub async fn announce_opened(&self, opened: &PresenceTransition) {
        self.announce_transition(opened).await;
    }

    /// Takes back a connection counted by `open_connection` and then refused before it was
    /// announced: its presence is released, and nothing is announced or recorded. A failure
    /// is logged (the connection is gone whatever happens).
    pub async fn connection_refused(&self, conn: &ConnectionRef) {
        if let Err(e) = self.ports.presence.connection_closed(conn).await {
            tracing::warn!(error = %e, %conn, "refused connection still counted");
        }
    }

    /// The connection `conn` closed. Releases its presence first, with everything it was
    /// viewing, in one registry call, so no later failure can leave the user online; then,
    /// on the user's last connection, records when they were last active and ends what
    /// belonged to their presence (typing, a call). Those later steps are logged when they
    /// fail: the disconnect has happened whatever we do.
    ///
    /// Errors: only when the registry could not be reached.
    pub async fn connection_closed(&self, conn: &ConnectionRef) -> AppResult<()> {
        if let Some(transition) = self.ports.presence.connection_closed(conn).await? {
            self.after_disconnect(&transition).await;
        }
        Ok(())
    }

    /// A node stopped without closing its connections (a cluster noticed it is gone):
    /// forgets them, and treats each user who had one there as disconnected from it. Returns
    /// how many users were affected.
    pub async fn forget_node(&self, node: &NodeId) -> AppResult<usize> {
        let transitions = self.ports.presence.node_gone(node).await?;
        for transition in &transitions {
            self.after_disconnect(transition).await;
        }
        Ok(transitions.len())
    }

    async fn after_disconnect(&self, transition: &PresenceTransition) {
        let user = &transition.user_id;
        let now = self.ports.clock.now();
        if transition.was_last_connection()
            && let Err(e) = self.ports.stores.users.record_last_active(user, now).await
        {
            tracing::warn!(error = %e, %user, "last active time not recorded");
        }
        self.announce_transition(transition).await;
        if transition.was_last_connection() {
            self.clear_typing(user).await;
            if let Err(e) = self.end_calls_on_disconnect(user).await {
                tracing::warn!(error = %e, %user, "call could not be ended on disconnect");
            }
        }
    }

    /// The manual switch: offline hides the user while connected; online undoes it.
    pub async fn set_online(&self, actor: &Actor, online: bool) -> AppResult<OnlineStatus> {
        let transition = self
            .ports
            .presence
            .set_manual_offline(actor.id(), !online)
            .await?;
        self.announce_transition(&transition).await;
        self.online_status(actor.id()).await
    }

    pub async fn online_status(&self, user: &UserId) -> AppResult<OnlineStatus> {
        let state = self.ports.presence.state(user).await?;
        let last_active = if state.is_online() {
            None
        } else {
            self.ports
                .stores
                .users
                .get(user)
                .await?
                .and_then(|p| p.last_active)
        };
        Ok(OnlineStatus {
            online: state.is_online(),
            last_active,
        })
    }

    /// Announces the actor's current presence to their contacts even if nothing changed
    /// (clients that re-announce themselves after a reconnect expect others to hear it).
    pub async fn announce_online(&self, actor: &Actor) -> AppResult<()> {
        let state = self.ports.presence.state(actor.id()).await?;
        if state.is_online() {
            let change = PresenceChange {
                user_id: actor.id().clone(),
                online: true,
                last_active: None,
            };
            self.publish_presence(change).await?;
        }
        Ok(())
    }

    /// Tells the contacts what a registry update changed. The update is done: a failure to
    /// find the contacts is logged, not returned.
    async fn announce_transition(&self, transition: &PresenceTransition) {
        let Some(change) = transition.change(self.ports.clock.now()) else {
            return;
        };
        if let Err(e) = self.publish_presence(change).await {
            tracing::warn!(error = %e, user = %transition.user_id, "presence change not announced");
        }
    }

    async fn publish_presence(&self, change: PresenceChange) -> AppResult<()> {
        let contacts = self
            .ports
            .stores
            .conversations
            .contacts_of(&change.user_id)
            .await?;
        self.publish(DomainEvent::PresenceChanged { change, contacts }, None)
            .await;
        Ok(())
    }

    /// The connection `conn` starts viewing a conversation (see `join_conversation`).
    pub(super) async fn start_viewing(
        &self,
        conn: &ConnectionRef,
        id: &ConversationId,
    ) -> AppResult<()> {
        Ok(self.ports.presence.set_viewing(conn, id, true).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::test_support::{Mocks, actor, conn, uid};
    use crate::app::use_cases::Rules;
    use crate::domain::PresenceState;
    use crate::ports::{PresenceError, StoreError};

    fn st(connections: u32) -> PresenceState {
        PresenceState {
            connections,
            manual_offline: false,
        }
    }

    fn transition(user: &str, before: u32, after: u32) -> PresenceTransition {
        PresenceTransition {
            user_id: uid(user),
            before: st(before),
            after: st(after),
        }
    }

    #[tokio::test]
    async fn the_last_disconnect_records_last_active_and_tells_contacts_only() {
        let mut m = Mocks::new(7_000);
        m.presence
            .expect_connection_closed()
            .returning(|_| Ok(Some(transition("a", 1, 0))));
        m.users
            .expect_record_last_active()
            .withf(|user, at| user == &uid("a") && *at == Timestamp::from_millis(7_000))
            .times(1)
            .returning(|_, _| Ok(()));
        m.typing.expect_clear_user().returning(|_, _| Ok(vec![]));
        m.calls.expect_live_call_of().returning(|_| Ok(None));
        m.conversations
            .expect_contacts_of()
            .returning(|_| Ok(vec![uid("b")]));
        let events = m.capture_events();
        m.build(Rules::default())
            .connection_closed(&conn(1))
            .await
            .unwrap();
        let events = events.lock().unwrap();
        let [DomainEvent::PresenceChanged { change, contacts }] = events.as_slice() else {
            panic!("expected one presence change, got {events:?}");
        };
        assert!(!change.online);
        assert_eq!(change.last_active, Some(Timestamp::from_millis(7_000)));
        assert_eq!(contacts, &vec![uid("b")]);
    }

    #[tokio::test]
    async fn another_open_connection_keeps_the_user_online_quietly() {
        let mut m = Mocks::new(7_000);
        m.presence
            .expect_connection_closed()
            .returning(|_| Ok(Some(transition("a", 2, 1))));
        m.users.expect_record_last_active().never();
        m.typing.expect_clear_user().never();
        m.bus.expect_publish().never();
        m.build(Rules::default())
            .connection_closed(&conn(1))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn closing_a_connection_that_is_not_open_does_nothing() {
        let mut m = Mocks::new(7_000);
        m.presence
            .expect_connection_closed()
            .returning(|_| Ok(None));
        m.users.expect_record_last_active().never();
        m.bus.expect_publish().never();
        m.build(Rules::default())
            .connection_closed(&conn(1))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn failures_after_the_release_are_logged_and_the_rest_still_happens() {
        let mut m = Mocks::new(7_000);
        m.presence
            .expect_connection_closed()
            .times(1)
            .returning(|_| Ok(Some(transition("a", 1, 0))));
        m.users
            .expect_record_last_active()
            .returning(|_, _| Err(StoreError::Unavailable("disk".into())));
        m.conversations
            .expect_contacts_of()
            .returning(|_| Err(StoreError::Unavailable("disk".into())));
        // Typing and calls still end with the user's presence.
        m.typing
            .expect_clear_user()
            .times(1)
            .returning(|_, _| Ok(vec![]));
        m.calls
            .expect_live_call_of()
            .times(1)
            .returning(|_| Ok(None));
        m.build(Rules::default())
            .connection_closed(&conn(1))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn an_open_connection_stays_counted_when_its_announcement_fails() {
        let mut m = Mocks::new(7_000);
        m.presence
            .expect_connection_opened()
            .times(1)
            .returning(|_, _| Ok(transition("a", 0, 1)));
        m.presence.expect_connection_closed().never();
        m.conversations
            .expect_contacts_of()
            .returning(|_| Err(StoreError::Unavailable("disk".into())));
        m.bus.expect_publish().never();
        let uc = m.build(Rules::default());
        let opened = uc.open_connection(&actor("a"), &conn(1)).await.unwrap();
        uc.announce_opened(&opened).await;
    }

    #[tokio::test]
    async fn a_refused_connection_is_released_without_a_word() {
        let mut m = Mocks::new(7_000);
        m.presence
            .expect_connection_opened()
            .returning(|_, _| Ok(transition("a", 0, 1)));
        m.presence
            .expect_connection_closed()
            .times(1)
            .returning(|_| Ok(Some(transition("a", 1, 0))));
        m.users.expect_record_last_active().never();
        m.typing.expect_clear_user().never();
        m.bus.expect_publish().never();
        let uc = m.build(Rules::default());
        uc.open_connection(&actor("a"), &conn(1)).await.unwrap();
        uc.connection_refused(&conn(1)).await;
    }

    #[tokio::test]
    async fn a_registry_that_cannot_count_the_connection_refuses_it() {
        let mut m = Mocks::new(7_000);
        m.presence
            .expect_connection_opened()
            .returning(|_, _| Err(PresenceError::Unavailable("down".into())));
        m.bus.expect_publish().never();
        let result = m
            .build(Rules::default())
            .open_connection(&actor("a"), &conn(1))
            .await;
        assert_eq!(result, Err(crate::app::AppError::Unavailable));
    }

    #[tokio::test]
    async fn a_gone_node_disconnects_each_of_its_users() {
        let mut m = Mocks::new(7_000);
        m.presence
            .expect_node_gone()
            .returning(|_| Ok(vec![transition("a", 1, 0), transition("b", 2, 1)]));
        m.users
            .expect_record_last_active()
            .withf(|user, _| user == &uid("a"))
            .times(1)
            .returning(|_, _| Ok(()));
        m.typing
            .expect_clear_user()
            .times(1)
            .returning(|_, _| Ok(vec![]));
        m.calls.expect_live_call_of().returning(|_| Ok(None));
        m.conversations
            .expect_contacts_of()
            .returning(|_| Ok(vec![uid("c")]));
        let events = m.capture_events();
        let affected = m
            .build(Rules::default())
            .forget_node(&NodeId::new("dead"))
            .await
            .unwrap();
        assert_eq!(affected, 2);
        let events = events.lock().unwrap();
        assert!(matches!(
            events.as_slice(),
            [DomainEvent::PresenceChanged { change, .. }] if change.user_id == uid("a") && !change.online
        ));
    }

    #[tokio::test]
    async fn a_disconnect_during_an_active_call_ends_it_for_the_peer() {
        use crate::app::test_support::{cid, conversation_ab};
        use crate::domain::{CallId, CallSession, CallState, CallType, Seq};
        use crate::ports::Appended;
        let mut m = Mocks::new(9_000);
        m.presence
            .expect_connection_closed()
            .returning(|_| Ok(Some(transition("b", 1, 0))));
        m.users.expect_record_last_active().returning(|_, _| Ok(()));
        m.users.expect_get().returning(|_| Ok(None));
        m.typing.expect_clear_user().returning(|_, _| Ok(vec![]));
        m.conversations
            .expect_contacts_of()
            .returning(|_| Ok(vec![uid("a")]));
        m.conversations
            .expect_get()
            .returning(|_| Ok(Some(conversation_ab())));
        m.calls.expect_live_call_of().returning(|_| {
            Ok(Some(CallSession {
                id: CallId::parse("call1").unwrap(),
                conversation_id: cid("c1"),
                caller: uid("a"),
                callee: uid("b"),
                call_type: CallType::Audio,
                started_at: Timestamp::from_millis(1_000),
                state: CallState::Active {
                    accepted_at: Timestamp::from_millis(2_000),
                },
            }))
        });
        m.calls.expect_finish().times(1).returning(|_| Ok(true));
        m.messages
            .expect_append()
            .withf(|new| new.body.call.is_some_and(|c| c.duration_secs == 7))
            .returning(|new| {
                Ok(Appended {
                    message: new.clone().stored_as(Seq(1)),
                    duplicate: false,
                })
            });
        m.presence.expect_is_viewing().returning(|_, _| Ok(false));
        let events = m.capture_events();
        m.build(Rules::default())
            .connection_closed(&conn(1))
            .await
            .unwrap();
        let events = events.lock().unwrap();
        let ended = events.iter().find_map(|e| match e {
            DomainEvent::CallEnded { finished } => Some(finished.clone()),
            _ => None,
        });
        let ended = ended.expect("the peer is told the call ended");
        assert_eq!(ended.other_party(), &uid("a"));
        assert_eq!(ended.record().status, crate::domain::CallOutcome::Completed);
    }
}
