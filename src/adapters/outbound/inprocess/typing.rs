//! `LocalTypingRegistry`: the typing states of this process, a `TypingBoard` behind a mutex.
//! The lock is taken inside synchronous code only, never across an `.await`.

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;

use crate::domain::{ConversationId, Timestamp, TypingBoard, TypingChange, UserId};
use crate::ports::{TypingError, TypingRegistry};

pub struct LocalTypingRegistry {
    board: Mutex<TypingBoard>,
}

impl LocalTypingRegistry {
    /// States end `expiry` after their last start.
    pub fn new(expiry: Duration) -> Self {
        Self {
            board: Mutex::new(TypingBoard::new(expiry)),
        }
    }

    fn with_board<T>(&self, f: impl FnOnce(&mut TypingBoard) -> T) -> T {
        // A board update cannot panic halfway; a poisoned lock still guards a usable board.
        let mut board = self
            .board
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut board)
    }
}

#[async_trait]
impl TypingRegistry for LocalTypingRegistry {
    async fn start(
        &self,
        user: &UserId,
        conversation: &ConversationId,
        now: Timestamp,
    ) -> Result<TypingChange, TypingError> {
        Ok(self.with_board(|board| board.start(user, conversation, now)))
    }

    async fn stop(
        &self,
        user: &UserId,
        conversation: &ConversationId,
        now: Timestamp,
    ) -> Result<TypingChange, TypingError> {
        Ok(self.with_board(|board| board.stop(user, conversation, now)))
    }

    async fn expire(&self, now: Timestamp) -> Result<Vec<TypingChange>, TypingError> {
        Ok(self.with_board(|board| board.expire(now)))
    }

    async fn clear_user(
        &self,
        user: &UserId,
        now: Timestamp,
    ) -> Result<Vec<TypingChange>, TypingError> {
        Ok(self.with_board(|board| board.clear_user(user, now)))
    }
}
