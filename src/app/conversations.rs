//! Conversation use cases: open (get-or-create), read, list (also with every participant's
//! profile), hide, join and leave.

use crate::domain::{
    Conversation, ConversationContext, ConversationId, DomainEvent, MarkKind, UserId,
};
use crate::ports::{ConnectionRef, Page};

use super::error::{AppError, AppResult};
use super::profiles::ProfileBook;
use super::use_cases::{Actor, UseCases};

/// Who asks to open a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requester {
    /// A trusted server (service key): may open any conversation.
    Service,
    /// A user: may only open conversations they take part in.
    User(UserId),
}

impl UseCases {
    /// Get-or-create by participant set and context. Returns the conversation and whether
    /// it was created now.
    pub async fn open_conversation(
        &self,
        requester: &Requester,
        participants: Vec<UserId>,
        context: ConversationContext,
    ) -> AppResult<(Conversation, bool)> {
        if let Requester::User(user) = requester
            && !participants.contains(user)
        {
            return Err(AppError::Forbidden(
                "you can only open conversations you take part in".into(),
            ));
        }
        let id = self.new_id(ConversationId::parse)?;
        let candidate = Conversation::new(id, participants, context, self.ports.clock.now())?;
        let sizes = self.rules.sizes;
        let max = match requester {
            Requester::Service => sizes.max_participants,
            Requester::User(_) => sizes.max_participants_by_user.min(sizes.max_participants),
        };
        if candidate.participants.len() > max {
            return Err(AppError::Invalid(format!(
                "a conversation opened this way has at most {max} participants"
            )));
        }
        let (conversation, created) = self
            .ports
            .stores
            .conversations
            .get_or_create(&candidate)
            .await?;
        if created {
            tracing::info!(conversation = %conversation.id, "conversation created");
        }
        Ok((conversation, created))
    }

    /// Loads a conversation the user takes part in.
    ///
    /// Errors: `NotFound` for an unknown id, `Forbidden` for a non-participant.
    pub async fn conversation_for(
        &self,
        user: &UserId,
        id: &ConversationId,
    ) -> AppResult<Conversation> {
        let conversation = self.load_conversation(id).await?;
        conversation.ensure_participant(user)?;
        Ok(conversation)
    }

    pub(super) async fn load_conversation(&self, id: &ConversationId) -> AppResult<Conversation> {
        self.ports
            .stores
            .conversations
            .get(id)
            .await?
            .ok_or_else(|| AppError::not_found("conversation"))
    }

    /// The user's visible conversations, newest activity first.
    pub async fn list_conversations(
        &self,
        user: &UserId,
        page: Page,
    ) -> AppResult<Vec<Conversation>> {
        Ok(self
            .ports
            .stores
            .conversations
            .list_for_user(user, page)
            .await?)
    }

    /// A page of the conversations visible to the actor, newest activity first, with a
    /// profile for every participant: what a client's chat list shows. One page at most
    /// (`Page::MAX_LIMIT` conversations), so what one request returns stays bounded however
    /// many conversations others put the actor in.
    pub async fn conversations_with_profiles(
        &self,
        actor: &Actor,
        page: Page,
    ) -> AppResult<(Vec<Conversation>, ProfileBook)> {
        let conversations = self.list_conversations(actor.id(), page).await?;
        let people = conversations
            .iter()
            .flat_map(|c| c.participant_ids().cloned())
            .collect();
        let book = self.profile_book(actor, people).await?;
        Ok((conversations, book))
    }

    /// One conversation the actor takes part in, with a profile for every participant.
    ///
    /// Errors: `NotFound` for an unknown id, `Forbidden` for a non-participant.
    pub async fn conversation_with_profiles(
        &self,
        actor: &Actor,
        id: &ConversationId,
    ) -> AppResult<(Conversation, ProfileBook)> {
        let conversation = self.conversation_for(actor.id(), id).await?;
        let people = conversation.participant_ids().cloned().collect();
        let book = self.profile_book(actor, people).await?;
        Ok((conversation, book))
    }

    /// Soft delete: hidden from the user's list until a newer message arrives.
    pub async fn hide_conversation(&self, user: &UserId, id: &ConversationId) -> AppResult<()> {
        let conversation = self.conversation_for(user, id).await?;
        self.ports
            .stores
            .conversations
            .hide_for(id, user, conversation.last_seq)
            .await?;
        Ok(())
    }

    /// Unread messages over all of the user's conversations.
    pub async fn total_unread(&self, user: &UserId) -> AppResult<u64> {
        Ok(self.ports.stores.conversations.total_unread(user).await?)
    }

    /// The actor's connection `conn` joins a conversation: it is now viewing it, and
    /// everything posted so far has reached the user (delivered). Others are told that the
    /// user joined.
    pub async fn join_conversation(
        &self,
        actor: &Actor,
        conn: &ConnectionRef,
        id: &ConversationId,
    ) -> AppResult<Conversation> {
        let mut conversation = self.conversation_for(actor.id(), id).await?;
        // Viewing first, so that a message posted meanwhile does not alert the user; taken
        // back when the join fails.
        self.start_viewing(conn, id).await?;
        match self.save_delivered_mark(actor, &conversation).await {
            Ok(Some(mark)) => conversation.apply_mark(&mark, MarkKind::Delivered),
            Ok(None) => {}
            Err(e) => {
                if let Err(undo) = self.leave_conversation(conn, id).await {
                    tracing::warn!(error = %undo, %conn, "viewing of a failed join not taken back");
                }
                return Err(e);
            }
        }
        let participants: Vec<UserId> = conversation.participant_ids().cloned().collect();
        let event = DomainEvent::ConversationJoined {
            participants,
            conversation_id: id.clone(),
            user_id: actor.id().clone(),
        };
        self.publish(event, actor.origin.clone()).await;
        Ok(conversation)
    }

    /// The connection `conn` leaves a conversation: it stops viewing it. (Closing the
    /// connection ends all its viewing at once.)
    pub async fn leave_conversation(
        &self,
        conn: &ConnectionRef,
        id: &ConversationId,
    ) -> AppResult<()> {
        self.ports.presence.set_viewing(conn, id, false).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::test_support::{Mocks, uid};
    use crate::app::use_cases::Rules;

    #[tokio::test]
    async fn users_open_only_conversations_they_take_part_in() {
        let mut m = Mocks::new(1);
        m.conversations.expect_get_or_create().never();
        let result = m
            .build(Rules::default())
            .open_conversation(
                &Requester::User(uid("z")),
                vec![uid("a"), uid("b")],
                ConversationContext::default(),
            )
            .await;
        assert!(matches!(result, Err(AppError::Forbidden(_))));
    }

    #[tokio::test]
    async fn sizes_are_capped_and_checked_in_linear_time() {
        let mut m = Mocks::new(1);
        m.conversations.expect_get_or_create().never();
        let uc = m.build(Rules::default());
        let group = vec![uid("a"), uid("b"), uid("c")];
        let by_user = uc
            .open_conversation(&Requester::User(uid("a")), group, Default::default())
            .await;
        assert!(matches!(by_user, Err(AppError::Invalid(_))), "{by_user:?}");
        // Far over the cap: refused, and quickly (the old quadratic deduplication spent
        // minutes on this many ids before saying anything).
        let crowd = (0..150_000).map(|i| uid(&format!("u{i}"))).collect();
        let crowd = uc
            .open_conversation(&Requester::Service, crowd, Default::default())
            .await;
        assert!(
            matches!(&crowd, Err(AppError::Invalid(m)) if m.contains("at most 1000")),
            "{crowd:?}"
        );
    }

    #[tokio::test]
    async fn a_join_whose_delivered_mark_fails_stops_viewing_again() {
        use crate::app::test_support::{actor, cid, conn, conversation_ab};
        use crate::domain::Seq;
        use crate::ports::StoreError;
        let mut m = Mocks::new(1);
        m.conversations.expect_get().returning(|_| {
            let mut c = conversation_ab();
            c.last_seq = Seq(2);
            Ok(Some(c))
        });
        m.presence
            .expect_set_viewing()
            .withf(|_, _, viewing| *viewing)
            .times(1)
            .returning(|_, _, _| Ok(()));
        m.presence
            .expect_set_viewing()
            .withf(|_, _, viewing| !*viewing)
            .times(1)
            .returning(|_, _, _| Ok(()));
        m.conversations
            .expect_save_mark()
            .returning(|_, _| Err(StoreError::Unavailable("disk".into())));
        m.bus.expect_publish().never();
        let result = m
            .build(Rules::default())
            .join_conversation(&actor("b"), &conn(1), &cid("c1"))
            .await;
        assert_eq!(result, Err(AppError::Unavailable));
    }

    #[tokio::test]
    async fn a_single_participant_is_bad_input() {
        let mut m = Mocks::new(1);
        m.conversations.expect_get_or_create().never();
        let result = m
            .build(Rules::default())
            .open_conversation(
                &Requester::Service,
                vec![uid("a")],
                ConversationContext::default(),
            )
            .await;
        assert!(matches!(result, Err(AppError::Invalid(_))));
    }
}
