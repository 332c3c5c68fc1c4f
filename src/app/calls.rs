//! Call use cases: place, accept, decline, hang up, relay signaling, ring timeouts and
//! disconnects. Every finished call is recorded as a call message from the caller.

use crate::domain::call::FinishedCall;
use crate::domain::{
    CallId, CallSession, CallType, ConversationId, DomainEvent, EndReason, LineState, MessageBody,
    MessageId, NewMessage, Signal, UserId,
};
use crate::ports::{ConnectionRef, StoreError};

use super::error::{AppError, AppResult};
use super::use_cases::{Actor, UseCases};

impl UseCases {
    /// Places a call. A busy callee is not rung: the caller is told, and a missed call is
    /// recorded. Returns the session (ringing, or already finished when busy).
    pub async fn place_call(
        &self,
        actor: &Actor,
        conversation_id: &ConversationId,
        callee: &UserId,
        call_type: CallType,
        offer: Signal,
    ) -> AppResult<CallSession> {
        let conversation = self.conversation_for(actor.id(), conversation_id).await?;
        let calls = &self.ports.stores.calls;
        let lines = LineState {
            caller_in_call: calls.live_call_of(actor.id()).await?.is_some(),
            callee_in_call: calls.live_call_of(callee).await?.is_some(),
        };
        let id = self.new_id(CallId::parse)?;
        let now = self.ports.clock.now();
        let session =
            match CallSession::place(id, &conversation, actor.id(), callee, call_type, lines, now)?
            {
                Ok(session) => session,
                Err(busy) => return self.callee_busy(busy, actor.origin.clone()).await,
            };
        match calls.start(&session).await {
            Ok(()) => {}
            // Lost a race with another call for one of the two: the store is the arbiter.
            Err(StoreError::Conflict(_)) => {
                if calls.live_call_of(actor.id()).await?.is_some() {
                    return Err(crate::domain::CallError::CallerBusy.into());
                }
                let busy = FinishedCall {
                    session,
                    reason: EndReason::Busy,
                    ended_by: None,
                    ended_at: now,
                };
                return self.callee_busy(busy, actor.origin.clone()).await;
            }
            Err(e) => return Err(e.into()),
        }
        self.publish(
            DomainEvent::CallRinging {
                call: session.clone(),
                offer,
            },
            actor.origin.clone(),
        )
        .await;
        Ok(session)
    }

    async fn callee_busy(
        &self,
        busy: FinishedCall,
        origin: Option<ConnectionRef>,
    ) -> AppResult<CallSession> {
        self.record_call(&busy, origin.clone()).await?;
        self.publish(
            DomainEvent::CallBusy {
                call: busy.session.clone(),
            },
            origin,
        )
        .await;
        Ok(busy.session)
    }

    /// The callee answers their ringing call.
    pub async fn accept_call(&self, actor: &Actor, answer: Signal) -> AppResult<CallSession> {
        let session = self.live_call(actor.id()).await?;
        let active = session.accept(actor.id(), self.ports.clock.now())?;
        self.ports.stores.calls.update(&active).await?;
        self.publish(
            DomainEvent::CallAccepted {
                call: active.clone(),
                answer,
            },
            actor.origin.clone(),
        )
        .await;
        Ok(active)
    }

    /// The callee refuses their ringing call.
    pub async fn decline_call(&self, actor: &Actor) -> AppResult<FinishedCall> {
        let session = self.live_call(actor.id()).await?;
        let finished = session.decline(actor.id(), self.ports.clock.now())?;
        self.finish_call(finished, actor.origin.clone()).await
    }

    /// Either party hangs up (before an answer: cancelled or declined; after: completed).
    pub async fn hang_up(&self, actor: &Actor) -> AppResult<FinishedCall> {
        let session = self.live_call(actor.id()).await?;
        let finished = session.hang_up(actor.id(), self.ports.clock.now())?;
        self.finish_call(finished, actor.origin.clone()).await
    }

    /// Relays a signaling payload (ICE) to the other party of the actor's live call.
    pub async fn relay_signal(&self, actor: &Actor, to: &UserId, payload: Signal) -> AppResult<()> {
        let session = self.live_call(actor.id()).await?;
        let peer = session.relay_target(actor.id())?;
        if peer != to {
            return Err(AppError::Forbidden(
                "signals go only to the other party of your call".into(),
            ));
        }
        let event = DomainEvent::CallSignal {
            from: actor.id().clone(),
            to: to.clone(),
            call: session,
            payload,
        };
        self.publish(event, actor.origin.clone()).await;
        Ok(())
    }

    /// Ends calls that rang longer than the ring timeout (missed). Run periodically.
    pub async fn expire_ringing_calls(&self) -> AppResult<usize> {
        let now = self.ports.clock.now();
        let cutoff = crate::domain::Timestamp::from_millis(
            now.as_millis()
                - i64::try_from(self.rules.ring_timeout.as_millis()).unwrap_or(i64::MAX),
        );
        let mut ended = 0;
        for session in self.ports.stores.calls.ringing_since_before(cutoff).await? {
            if let Some(finished) = session.timed_out(self.rules.ring_timeout, now) {
                self.finish_call(finished, None).await?;
                ended += 1;
            }
        }
        Ok(ended)
    }

    pub(super) async fn end_calls_on_disconnect(&self, user: &UserId) -> AppResult<()> {
        if let Some(session) = self.ports.stores.calls.live_call_of(user).await? {
            let finished = session.disconnected(user, self.ports.clock.now())?;
            match self.finish_call(finished, None).await {
                // Someone else ended it meanwhile (the peer hung up, the ring timed out).
                Ok(_) | Err(AppError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    async fn live_call(&self, user: &UserId) -> AppResult<CallSession> {
        self.ports
            .stores
            .calls
            .live_call_of(user)
            .await?
            .ok_or_else(|| AppError::not_found("call"))
    }

    /// Removes the call and records it; only the one caller that removes it records and
    /// announces, so racing enders (hang-up vs. timeout) produce one record.
    async fn finish_call(
        &self,
        finished: FinishedCall,
        origin: Option<ConnectionRef>,
    ) -> AppResult<FinishedCall> {
        if !self.ports.stores.calls.finish(&finished.session.id).await? {
            return Err(AppError::not_found("call"));
        }
        // The call is over whatever happens next: the parties are told even when its record
        // cannot be stored (which is logged).
        if let Err(e) = self.record_call(&finished, origin.clone()).await {
            tracing::error!(error = %e, call = %finished.session.id, "finished call not recorded");
        }
        let event = match finished.reason {
            EndReason::Declined => DomainEvent::CallDeclined {
                finished: finished.clone(),
            },
            _ => DomainEvent::CallEnded {
                finished: finished.clone(),
            },
        };
        self.publish(event, origin).await;
        Ok(finished)
    }

    /// Stores and announces the call message (sender: the caller). What can fail is done
    /// before the write.
    async fn record_call(
        &self,
        finished: &FinishedCall,
        origin: Option<ConnectionRef>,
    ) -> AppResult<()> {
        let caller = &finished.session.caller;
        let conversation = self
            .load_conversation(&finished.session.conversation_id)
            .await?;
        let sender = self
            .ports
            .stores
            .users
            .get(caller)
            .await?
            .unwrap_or_else(|| crate::domain::UserProfile::bare(caller.clone()));
        let id = self.new_id(MessageId::parse)?;
        let body = MessageBody::call_record(finished.record());
        let new = NewMessage::compose(&conversation, caller, body, None, id, finished.ended_at)?;
        let appended = self.ports.stores.messages.append(&new).await?;
        self.announce_posted(conversation, &appended.message, sender, origin)
            .await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::app::test_support::{Mocks, actor, cid, conversation_ab, uid};
    use crate::app::use_cases::Rules;
    use crate::domain::{CallOutcome, CallState, DataValue, MessageKind, Seq, Timestamp};
    use crate::ports::Appended;

    fn ringing_since(ms: i64) -> CallSession {
        CallSession {
            id: CallId::parse("call1").unwrap(),
            conversation_id: cid("c1"),
            caller: uid("a"),
            callee: uid("b"),
            call_type: CallType::Video,
            started_at: Timestamp::from_millis(ms),
            state: CallState::Ringing,
        }
    }

    fn rules() -> Rules {
        Rules {
            ring_timeout: Duration::from_secs(30),
            ..Rules::default()
        }
    }

    /// Expectations for recording a call message with the given outcome.
    fn expect_call_record(m: &mut Mocks, outcome: CallOutcome) {
        m.conversations
            .expect_get()
            .returning(|_| Ok(Some(conversation_ab())));
        m.messages
            .expect_append()
            .withf(move |new| {
                new.sender == uid("a")
                    && new.body.kind == MessageKind::Call
                    && new.body.call.is_some_and(|c| c.status == outcome)
            })
            .times(1)
            .returning(|new| {
                Ok(Appended {
                    message: new.clone().stored_as(Seq(1)),
                    duplicate: false,
                })
            });
        m.users.expect_get().returning(|_| Ok(None));
        m.presence.expect_is_viewing().returning(|_, _| Ok(false));
    }

    #[tokio::test]
    async fn a_call_ringing_past_the_timeout_is_missed_and_recorded() {
        // The clock reads 31 s after the call was placed at t = 0.
        let mut m = Mocks::new(31_000);
        m.calls
            .expect_ringing_since_before()
            .withf(|cutoff| *cutoff == Timestamp::from_millis(1_000))
            .returning(|_| Ok(vec![ringing_since(0)]));
        m.calls.expect_finish().times(1).returning(|_| Ok(true));
        expect_call_record(&mut m, CallOutcome::Missed);
        let events = m.capture_events();
        let ended = m.build(rules()).expire_ringing_calls().await.unwrap();
        assert_eq!(ended, 1);
        let events = events.lock().unwrap();
        assert!(
            matches!(events[0], DomainEvent::MessagePosted { .. }),
            "recorded before the end is announced"
        );
        assert!(
            matches!(&events[1], DomainEvent::CallEnded { finished } if finished.reason == EndReason::Timeout)
        );
    }

    #[tokio::test]
    async fn a_call_still_within_the_timeout_keeps_ringing() {
        let mut m = Mocks::new(29_000);
        // A store may return a call at the edge; the domain rule decides.
        m.calls
            .expect_ringing_since_before()
            .returning(|_| Ok(vec![ringing_since(0)]));
        m.calls.expect_finish().never();
        m.bus.expect_publish().never();
        assert_eq!(m.build(rules()).expire_ringing_calls().await.unwrap(), 0);
    }

    #[tokio::test]
    async fn a_busy_callee_is_not_rung_and_a_missed_call_is_recorded() {
        let mut m = Mocks::new(1_000);
        m.calls.expect_live_call_of().returning(|user| {
            Ok((user == &uid("b")).then(|| CallSession {
                caller: uid("c"),
                ..ringing_since(0)
            }))
        });
        m.calls.expect_start().never();
        expect_call_record(&mut m, CallOutcome::Missed);
        let events = m.capture_events();
        let offer = DataValue::String("sdp".into());
        m.build(rules())
            .place_call(&actor("a"), &cid("c1"), &uid("b"), CallType::Audio, offer)
            .await
            .unwrap();
        let events = events.lock().unwrap();
        assert!(
            events
                .iter()
                .any(|e| matches!(e, DomainEvent::CallBusy { .. }))
        );
        assert!(
            !events
                .iter()
                .any(|e| matches!(e, DomainEvent::CallRinging { .. }))
        );
    }

    #[tokio::test]
    async fn racing_enders_record_the_call_once() {
        let mut m = Mocks::new(5_000);
        m.calls
            .expect_live_call_of()
            .returning(|_| Ok(Some(ringing_since(0))));
        // The timeout sweep removed it first.
        m.calls.expect_finish().returning(|_| Ok(false));
        m.messages.expect_append().never();
        m.bus.expect_publish().never();
        let result = m.build(rules()).hang_up(&actor("a")).await;
        assert!(matches!(result, Err(AppError::NotFound(_))));
    }

    #[tokio::test]
    async fn a_hang_up_whose_record_fails_still_ends_the_call_for_the_peer() {
        let mut m = Mocks::new(5_000);
        m.calls
            .expect_live_call_of()
            .returning(|_| Ok(Some(ringing_since(0))));
        m.calls.expect_finish().times(1).returning(|_| Ok(true));
        m.conversations
            .expect_get()
            .returning(|_| Ok(Some(conversation_ab())));
        m.users.expect_get().returning(|_| Ok(None));
        m.messages
            .expect_append()
            .returning(|_| Err(crate::ports::StoreError::Unavailable("disk".into())));
        let events = m.capture_events();
        let finished = m.build(rules()).hang_up(&actor("a")).await.unwrap();
        assert_eq!(finished.reason, EndReason::Cancelled);
        let events = events.lock().unwrap();
        assert!(
            matches!(events.as_slice(), [DomainEvent::CallEnded { .. }]),
            "{events:?}"
        );
    }

    #[tokio::test]
    async fn signals_go_only_to_the_other_party() {
        let mut m = Mocks::new(5_000);
        m.calls
            .expect_live_call_of()
            .returning(|_| Ok(Some(ringing_since(0))));
        m.bus.expect_publish().never();
        let result = m
            .build(rules())
            .relay_signal(&actor("a"), &uid("z"), DataValue::Null)
            .await;
        assert!(matches!(result, Err(AppError::Forbidden(_))));
    }
}
