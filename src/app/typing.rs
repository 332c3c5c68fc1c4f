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
    pub async fn expire_typing(&self) -> AppResult<usize> {
        let expired = self.ports.typing.expire(self.ports.clock.now()).await?;
        let count = expired.len();
        self.announce_stops(expired).await?;
        Ok(count)
    }

    /// Ends the user's typing states (their last connection closed). Logged when it fails:
    /// the states expire by themselves anyway.
    pub(super) async fn clear_typing(&self, user: &UserId) {
        let cleared = match self
            .ports
            .typing
            .clear_user(user, self.ports.clock.now())
            .await
        {
            Ok(cleared) => cleared,
            Err(e) => {
                tracing::warn!(error = %e, %user, "typing states not cleared");
                return;
            }
        };
        if let Err(e) = self.announce_stops(cleared).await {
            tracing::warn!(error = %e, %user, "typing stops could not be announced");
        }
    }

    async fn announce_stops(&self, stops: Vec<TypingChange>) -> AppResult<()> {
        for change in stops {
            let Some(conversation) = self
                .ports
                .stores
                .conversations
                .get(&change.conversation_id)
                .await?
            else {
                continue;
            };
            let event = DomainEvent::TypingChanged {
                participants: conversation.participant_ids().cloned().collect(),
                change,
                user_name: None,
            };
            self.publish(event, None).await;
        }
        Ok(())
    }
}
