//! Call sessions: ringing → accepted → ended, or declined, missed, busy, cancelled.
//! Signaling payloads (SDP, ICE) never reach this module; it keeps only the call's state.

use std::time::Duration;

use super::conversation::{Conversation, ConversationError};
use super::ids::{CallId, ConversationId, UserId};
use super::message::CallInfo;
use super::time::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error("the callee is busy in another call")]
    CalleeBusy,
    #[error("you are already in a call")]
    CallerBusy,
    #[error("you cannot call yourself")]
    SelfCall,
    #[error("no such call")]
    NoSuchCall,
    #[error("only the callee can answer this call")]
    NotCallee,
    #[error("the call is not ringing")]
    NotRinging,
    #[error("the call is not live")]
    NotLive,
    #[error("you are not a party to this call")]
    NotParty,
    #[error(transparent)]
    Conversation(#[from] ConversationError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallType {
    Audio,
    Video,
}

impl CallType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Audio => "audio",
            Self::Video => "video",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "audio" => Some(Self::Audio),
            "video" => Some(Self::Video),
            _ => None,
        }
    }
}

/// What the call message records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOutcome {
    Completed,
    Missed,
    Declined,
}

impl CallOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Missed => "missed",
            Self::Declined => "declined",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "completed" => Some(Self::Completed),
            "missed" => Some(Self::Missed),
            "declined" => Some(Self::Declined),
            _ => None,
        }
    }
}

/// Why a call finished; several reasons record the same outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// A party hung up an accepted call.
    HungUp,
    /// The callee refused a ringing call.
    Declined,
    /// Nobody answered within the ring timeout.
    Timeout,
    /// The callee was already in a call and was not rung.
    Busy,
    /// The caller hung up before an answer.
    Cancelled,
    /// A party's connection closed.
    Disconnected,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallState {
    Ringing,
    Active { accepted_at: Timestamp },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallSession {
    pub id: CallId,
    pub conversation_id: ConversationId,
    pub caller: UserId,
    pub callee: UserId,
    pub call_type: CallType,
    pub started_at: Timestamp,
    pub state: CallState,
}

/// A call that has ended, with what to record about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinishedCall {
    pub session: CallSession,
    pub reason: EndReason,
    pub ended_by: Option<UserId>,
    pub ended_at: Timestamp,
}

impl FinishedCall {
    pub fn outcome(&self) -> CallOutcome {
        match self.reason {
            EndReason::Declined => CallOutcome::Declined,
            EndReason::Timeout | EndReason::Busy | EndReason::Cancelled => CallOutcome::Missed,
            EndReason::HungUp | EndReason::Disconnected => match self.session.state {
                CallState::Active { .. } => CallOutcome::Completed,
                CallState::Ringing => CallOutcome::Missed,
            },
        }
    }

    /// Whole seconds between the answer and the end; zero for calls never answered.
    pub fn duration_secs(&self) -> u32 {
        match self.session.state {
            CallState::Active { accepted_at } => {
                u32::try_from(self.ended_at.since(accepted_at).as_secs()).unwrap_or(u32::MAX)
            }
            CallState::Ringing => 0,
        }
    }

    /// The call message's content. Its sender is always the caller.
    pub fn record(&self) -> CallInfo {
        CallInfo {
            call_type: self.session.call_type,
            duration_secs: self.duration_secs(),
            status: self.outcome(),
        }
    }

    /// The party who did not end the call, who must be told.
    pub fn other_party(&self) -> &UserId {
        match &self.ended_by {
            Some(u) if u == &self.session.caller => &self.session.callee,
            _ => &self.session.caller,
        }
    }
}

/// What the server knows about the two parties' current calls when a call is placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LineState {
    pub caller_in_call: bool,
    pub callee_in_call: bool,
}

impl CallSession {
    /// The rule for placing a call. A busy callee is not rung: the result is a finished
    /// call (reason `Busy`), which the caller is told about and which is recorded.
    pub fn place(
        id: CallId,
        conversation: &Conversation,
        caller: &UserId,
        callee: &UserId,
        call_type: CallType,
        lines: LineState,
        now: Timestamp,
    ) -> Result<Result<CallSession, FinishedCall>, CallError> {
        if caller == callee {
            return Err(CallError::SelfCall);
        }
        conversation.ensure_participant(caller)?;
        conversation.ensure_participant(callee)?;
        if lines.caller_in_call {
            return Err(CallError::CallerBusy);
        }
        let session = CallSession {
            id,
            conversation_id: conversation.id.clone(),
            caller: caller.clone(),
            callee: callee.clone(),
            call_type,
            started_at: now,
            state: CallState::Ringing,
        };
        if lines.callee_in_call {
            return Ok(Err(FinishedCall {
                session,
                reason: EndReason::Busy,
                ended_by: None,
                ended_at: now,
            }));
        }
        Ok(Ok(session))
    }

    pub fn is_party(&self, user: &UserId) -> bool {
        user == &self.caller || user == &self.callee
    }

    pub fn peer_of(&self, user: &UserId) -> Result<&UserId, CallError> {
        if user == &self.caller {
            Ok(&self.callee)
        } else if user == &self.callee {
            Ok(&self.caller)
        } else {
            Err(CallError::NotParty)
        }
    }

    pub fn accept(&self, by: &UserId, now: Timestamp) -> Result<CallSession, CallError> {
        if by != &self.callee {
            return Err(if self.is_party(by) {
                CallError::NotCallee
            } else {
                CallError::NotParty
            });
        }
        if self.state != CallState::Ringing {
            return Err(CallError::NotRinging);
        }
        Ok(CallSession {
            state: CallState::Active { accepted_at: now },
            ..self.clone()
        })
    }

    pub fn decline(&self, by: &UserId, now: Timestamp) -> Result<FinishedCall, CallError> {
        if by != &self.callee {
            return Err(if self.is_party(by) {
                CallError::NotCallee
            } else {
                CallError::NotParty
            });
        }
        if self.state != CallState::Ringing {
            return Err(CallError::NotRinging);
        }
        Ok(self.finish(EndReason::Declined, Some(by), now))
    }

    /// Hanging up: before an answer the caller cancels (recorded as missed) and the callee
    /// declines; after it, the call completes.
    pub fn hang_up(&self, by: &UserId, now: Timestamp) -> Result<FinishedCall, CallError> {
        if !self.is_party(by) {
            return Err(CallError::NotParty);
        }
        let reason = match (self.state, by == &self.caller) {
            (CallState::Ringing, true) => EndReason::Cancelled,
            (CallState::Ringing, false) => EndReason::Declined,
            (CallState::Active { .. }, _) => EndReason::HungUp,
        };
        Ok(self.finish(reason, Some(by), now))
    }

    /// A party's connection closed: the call ends, whatever state it was in.
    pub fn disconnected(&self, user: &UserId, now: Timestamp) -> Result<FinishedCall, CallError> {
        if !self.is_party(user) {
            return Err(CallError::NotParty);
        }
        Ok(self.finish(EndReason::Disconnected, Some(user), now))
    }

    /// The ring timeout: a call still ringing `ring_timeout` after it was placed is missed.
    pub fn timed_out(&self, ring_timeout: Duration, now: Timestamp) -> Option<FinishedCall> {
        (self.state == CallState::Ringing && now.since(self.started_at) >= ring_timeout)
            .then(|| self.finish(EndReason::Timeout, None, now))
    }

    /// Signaling (ICE) is relayed only between the parties of a live call; returns the peer.
    pub fn relay_target(&self, from: &UserId) -> Result<&UserId, CallError> {
        self.peer_of(from)
    }

    fn finish(&self, reason: EndReason, by: Option<&UserId>, now: Timestamp) -> FinishedCall {
        FinishedCall {
            session: self.clone(),
            reason,
            ended_by: by.cloned(),
            ended_at: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uid(s: &str) -> UserId {
        UserId::parse(s).unwrap()
    }

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_millis(secs * 1000)
    }

    fn conv() -> Conversation {
        Conversation::new(
            ConversationId::parse("c").unwrap(),
            vec![uid("a"), uid("b")],
            Default::default(),
            t(0),
        )
        .unwrap()
    }

    fn ringing() -> CallSession {
        CallSession::place(
            CallId::parse("k").unwrap(),
            &conv(),
            &uid("a"),
            &uid("b"),
            CallType::Video,
            LineState::default(),
            t(10),
        )
        .unwrap()
        .unwrap()
    }

    #[test]
    fn placing_a_call_rings_the_callee() {
        let s = ringing();
        assert_eq!(s.state, CallState::Ringing);
        assert_eq!(s.peer_of(&uid("a")).unwrap(), &uid("b"));
    }

    #[test]
    fn only_participants_call_each_other() {
        let r = CallSession::place(
            CallId::parse("k").unwrap(),
            &conv(),
            &uid("a"),
            &uid("z"),
            CallType::Audio,
            LineState::default(),
            t(0),
        );
        assert!(matches!(
            r,
            Err(CallError::Conversation(ConversationError::NotParticipant(
                _
            )))
        ));
        let r = CallSession::place(
            CallId::parse("k").unwrap(),
            &conv(),
            &uid("a"),
            &uid("a"),
            CallType::Audio,
            LineState::default(),
            t(0),
        );
        assert_eq!(r, Err(CallError::SelfCall));
    }

    #[test]
    fn a_busy_callee_is_not_rung_and_the_call_is_recorded_missed() {
        let lines = LineState {
            caller_in_call: false,
            callee_in_call: true,
        };
        let finished = CallSession::place(
            CallId::parse("k").unwrap(),
            &conv(),
            &uid("a"),
            &uid("b"),
            CallType::Audio,
            lines,
            t(0),
        )
        .unwrap()
        .unwrap_err();
        assert_eq!(finished.reason, EndReason::Busy);
        assert_eq!(finished.record().status, CallOutcome::Missed);
        let lines = LineState {
            caller_in_call: true,
            callee_in_call: false,
        };
        let r = CallSession::place(
            CallId::parse("k").unwrap(),
            &conv(),
            &uid("a"),
            &uid("b"),
            CallType::Audio,
            lines,
            t(0),
        );
        assert_eq!(r, Err(CallError::CallerBusy));
    }

    #[test]
    fn accepted_then_hung_up_completes_with_whole_seconds() {
        let active = ringing().accept(&uid("b"), t(12)).unwrap();
        let done = active
            .hang_up(&uid("a"), Timestamp::from_millis(12_000 + 65_900))
            .unwrap();
        assert_eq!(
            done.record(),
            CallInfo {
                call_type: CallType::Video,
                duration_secs: 65,
                status: CallOutcome::Completed
            }
        );
        assert_eq!(done.other_party(), &uid("b"));
    }

    #[test]
    fn only_the_callee_answers_a_ringing_call() {
        assert_eq!(
            ringing().accept(&uid("a"), t(11)),
            Err(CallError::NotCallee)
        );
        assert_eq!(ringing().accept(&uid("z"), t(11)), Err(CallError::NotParty));
        let active = ringing().accept(&uid("b"), t(11)).unwrap();
        assert_eq!(active.accept(&uid("b"), t(12)), Err(CallError::NotRinging));
        assert_eq!(active.decline(&uid("b"), t(12)), Err(CallError::NotRinging));
    }

    #[test]
    fn declined_calls_record_declined() {
        let done = ringing().decline(&uid("b"), t(11)).unwrap();
        assert_eq!(done.record().status, CallOutcome::Declined);
        assert_eq!(done.other_party(), &uid("a"));
    }

    #[test]
    fn caller_hanging_up_before_an_answer_records_missed() {
        let done = ringing().hang_up(&uid("a"), t(11)).unwrap();
        assert_eq!(done.reason, EndReason::Cancelled);
        assert_eq!(
            done.record(),
            CallInfo {
                call_type: CallType::Video,
                duration_secs: 0,
                status: CallOutcome::Missed
            }
        );
    }

    #[test]
    fn ring_timeout_misses_the_call() {
        let s = ringing();
        assert_eq!(s.timed_out(Duration::from_secs(30), t(39)), None);
        let done = s.timed_out(Duration::from_secs(30), t(40)).unwrap();
        assert_eq!(done.record().status, CallOutcome::Missed);
        let active = s.accept(&uid("b"), t(15)).unwrap();
        assert_eq!(active.timed_out(Duration::from_secs(30), t(100)), None);
    }

    #[test]
    fn disconnect_during_an_active_call_completes_it() {
        let active = ringing().accept(&uid("b"), t(20)).unwrap();
        let done = active.disconnected(&uid("b"), t(25)).unwrap();
        assert_eq!(done.record().status, CallOutcome::Completed);
        assert_eq!(done.record().duration_secs, 5);
        assert_eq!(done.other_party(), &uid("a"));
        let ringing_done = ringing().disconnected(&uid("b"), t(11)).unwrap();
        assert_eq!(ringing_done.record().status, CallOutcome::Missed);
    }

    #[test]
    fn signals_are_relayed_only_between_parties() {
        let s = ringing();
        assert_eq!(s.relay_target(&uid("b")).unwrap(), &uid("a"));
        assert_eq!(s.relay_target(&uid("z")), Err(CallError::NotParty));
    }
}
