//! Typing use cases: start and stop (participants only), and the sweep that ends typing
//! states nobody stopped. The states live in the typing registry, shared by all nodes when
//! there are several.

use crate::domain::{ConversationId, DomainEvent, TypingChange, UserId};

use super::error::AppResult;
use super::use_cases::{Actor, UseCases};

impl UseCases {
    /// The actor starts (`true`) or stops (`false`) typing in a conversation they take part in.
    pub async fn set_typing(
        &self,
        actor: &Actor,
        id: &ConversationId,
        typing: bool,
    ) -> AppResult<()> {
        let conversation = self.conversation_for(actor.id(), id).await?;
        let now = self.ports.clock.now();
        let registry = &self.ports.typing;
        let change = if typing {
            registry.start(actor.id(), id, now).await?
        } else {
            registry.stop(actor.id(), id, now).await?
        };
        let event = DomainEvent::TypingChanged {
            participants: conversation.participant_ids().cloned().collect(),
            change,
            user_name: actor.profile.name.clone(),
        };
        self.publish(event, actor.origin.clone()).await;
        Ok(())
    }

    /// Ends typing states past their expiry and announces each stop. Run periodically.
    ///
    /// Errors: only when the registry could not be swept; a stop that cannot be announced
    /// is logged (the state is gone either way).
    pub async fn expire_typing(&self) -> AppResult<usize> {
        let expired = self.ports.typing.expire(self.ports.clock.now()).await?;
        let count = expired.len();
        self.announce_stops(expired).await;
        Ok(count)
    }

    /// Ends the user's typing states (their last connection closed). Logged when it fails:
    /// the states expire by themselves anyway.
    pub(super) async fn clear_typing(&self, user: &UserId) {
        match self
            .ports
            .typing
            .clear_user(user, self.ports.clock.now())
            .await
        {
            Ok(cleared) => self.announce_stops(cleared).await,
            Err(e) => tracing::warn!(error = %e, %user, "typing states not cleared"),
        }
    }

    /// Announces each stop to its conversation's participants; one that cannot be
    /// announced is logged and the others still are.
    async fn announce_stops(&self, stops: Vec<TypingChange>) {
        for change in stops {
            let participants = match self
                .ports
                .stores
                .conversations
                .get(&change.conversation_id)
                .await
            {
                Ok(Some(conversation)) => conversation.participant_ids().cloned().collect(),
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, conversation = %change.conversation_id, "typing stop not announced");
                    continue;
                }
            };
            let event = DomainEvent::TypingChanged {
                participants,
                change,
                user_name: None,
            };
            self.publish(event, None).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::test_support::{Mocks, cid, conversation_ab, uid};
    use crate::app::use_cases::Rules;
    use crate::domain::Timestamp;
    use crate::ports::StoreError;

    fn stop(conversation: &str) -> TypingChange {
        TypingChange {
            conversation_id: cid(conversation),
            user_id: uid("a"),
            typing: false,
            at: Timestamp::from_millis(1),
        }
    }

    #[tokio::test]
    async fn a_stop_that_cannot_be_announced_does_not_hold_up_the_others() {
        let mut m = Mocks::new(1);
        m.typing
            .expect_expire()
            .returning(|_| Ok(vec![stop("broken"), stop("c1")]));
        m.conversations.expect_get().returning(|id| {
            if id.as_str() == "broken" {
                Err(StoreError::Unavailable("disk".into()))
            } else {
                Ok(Some(conversation_ab()))
            }
        });
        let events = m.capture_events();
        let expired = m.build(Rules::default()).expire_typing().await.unwrap();
        assert_eq!(expired, 2);
        let events = events.lock().unwrap();
        assert!(
            matches!(events.as_slice(), [DomainEvent::TypingChanged { change, .. }] if change.conversation_id == cid("c1")),
            "{events:?}"
        );
    }
}
