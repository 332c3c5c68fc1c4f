//! Presence use cases: connections opening and closing, the manual online switch, and the
//! online status query. Changes are told to the user's contacts only.

use crate::domain::presence::{decide_change, records_last_active};
use crate::domain::{DomainEvent, PresenceChange, PresenceState, Timestamp, UserId};

use super::error::AppResult;
use super::use_cases::{Actor, UseCases};

/// What a status query answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OnlineStatus {
    pub online: bool,
    pub last_active: Option<Timestamp>,
}

impl UseCases {
    /// A connection of the actor opened.
    pub async fn connection_opened(&self, actor: &Actor) -> AppResult<()> {
        let (before, after) = self.ports.presence.connection_opened(actor.id()).await?;
        self.announce_presence(actor.id(), before, after).await
    }

    /// A connection of the actor closed, after it had joined `joined` conversations. Ends
    /// what belonged to the connection: its viewing, and on the user's last connection, their
    /// typing and their call.
    pub async fn connection_closed(
        &self,
        actor: &Actor,
        joined: &[crate::domain::ConversationId],
    ) -> AppResult<()> {
        for conversation in joined {
            self.leave_conversation(actor, conversation).await?;
        }
        let (before, after) = self.ports.presence.connection_closed(actor.id()).await?;
        if records_last_active(after) {
            let now = self.ports.clock.now();
            self.ports
                .stores
                .users
                .record_last_active(actor.id(), now)
                .await?;
        }
        self.announce_presence(actor.id(), before, after).await?;
        if records_last_active(after) {
            // What belonged to the user's presence ends with it. A failure here must not
            // undo the disconnect, which has happened whatever we do.
            self.clear_typing(actor.id()).await;
            if let Err(e) = self.end_calls_on_disconnect(actor.id()).await {
                tracing::warn!(error = %e, user = %actor.id(), "call could not be ended on disconnect");
            }
        }
        Ok(())
    }

    /// The manual switch: offline hides the user while connected; online undoes it.
    pub async fn set_online(&self, actor: &Actor, online: bool) -> AppResult<OnlineStatus> {
        let (before, after) = self
            .ports
            .presence
            .set_manual_offline(actor.id(), !online)
            .await?;
        self.announce_presence(actor.id(), before, after).await?;
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

    async fn announce_presence(
        &self,
        user: &UserId,
        before: PresenceState,
        after: PresenceState,
    ) -> AppResult<()> {
        match decide_change(user, before, after, self.ports.clock.now()) {
            Some(change) => self.publish_presence(change).await,
            None => Ok(()),
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::test_support::{Mocks, actor, uid};
    use crate::app::use_cases::Rules;

    fn st(connections: u32) -> PresenceState {
        PresenceState {
            connections,
            manual_offline: false,
        }
    }

    #[tokio::test]
    async fn the_last_disconnect_records_last_active_and_tells_contacts_only() {
        let mut m = Mocks::new(7_000);
        m.presence
            .expect_connection_closed()
            .returning(|_| Ok((st(1), st(0))));
        m.users
            .expect_record_last_active()
            .withf(|user, at| user == &uid("a") && *at == Timestamp::from_millis(7_000))
            .times(1)
            .returning(|_, _| Ok(()));
        m.calls.expect_live_call_of().returning(|_| Ok(None));
        m.conversations
            .expect_contacts_of()
            .returning(|_| Ok(vec![uid("b")]));
        let events = m.capture_events();
        m.build(Rules::default())
            .connection_closed(&actor("a"), &[])
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
            .returning(|_| Ok((st(2), st(1))));
        m.users.expect_record_last_active().never();
        m.bus.expect_publish().never();
        m.build(Rules::default())
            .connection_closed(&actor("a"), &[])
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn closing_a_connection_stops_its_viewing() {
        let mut m = Mocks::new(7_000);
        m.presence
            .expect_set_viewing()
            .withf(|user, conversation, viewing| {
                user == &uid("a") && conversation.as_str() == "c1" && !viewing
            })
            .times(1)
            .returning(|_, _, _| Ok(()));
        m.presence
            .expect_connection_closed()
            .returning(|_| Ok((st(2), st(1))));
        m.build(Rules::default())
            .connection_closed(
                &actor("a"),
                &[crate::domain::ConversationId::parse("c1").unwrap()],
            )
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_disconnect_during_an_active_call_ends_it_for_the_peer() {
        use crate::app::test_support::{cid, conversation_ab};
        use crate::domain::{CallId, CallSession, CallState, CallType, Seq};
        use crate::ports::Appended;
        let mut m = Mocks::new(9_000);
        m.presence
            .expect_connection_closed()
            .returning(|_| Ok((st(1), st(0))));
        m.users.expect_record_last_active().returning(|_, _| Ok(()));
        m.users.expect_get().returning(|_| Ok(None));
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
            .connection_closed(&actor("b"), &[])
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
