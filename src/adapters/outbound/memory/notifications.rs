//! `MemoryNotificationStore`: notifications per recipient, with delivery and read state.

use std::cmp::Reverse;
use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::{lock, window};
use crate::domain::{Notification, NotificationId, Timestamp, UserId};
use crate::ports::{NotificationStore, Page, StoreError};

#[derive(Default)]
pub struct MemoryNotificationStore {
    notifications: Mutex<HashMap<NotificationId, Notification>>,
}

#[async_trait]
impl NotificationStore for MemoryNotificationStore {
    async fn insert(&self, notification: &Notification) -> Result<(), StoreError> {
        let mut all = lock(&self.notifications)?;
        if all.contains_key(&notification.id) {
            return Err(StoreError::Conflict(format!(
                "notification id {} is taken",
                notification.id
            )));
        }
        all.insert(notification.id.clone(), notification.clone());
        Ok(())
    }

    async fn get(&self, id: &NotificationId) -> Result<Option<Notification>, StoreError> {
        Ok(lock(&self.notifications)?.get(id).cloned())
    }

    async fn mark_delivered(
        &self,
        ids: &[NotificationId],
        at: Timestamp,
    ) -> Result<Vec<NotificationId>, StoreError> {
        let mut all = lock(&self.notifications)?;
        let mut newly = Vec::new();
        for id in ids {
            if let Some(n) = all.get_mut(id).filter(|n| n.delivered_at.is_none()) {
                n.delivered_at = Some(at);
                newly.push(id.clone());
            }
        }
        Ok(newly)
    }

    async fn take_pending(
        &self,
        user: &UserId,
        at: Timestamp,
        limit: usize,
    ) -> Result<Vec<Notification>, StoreError> {
        let mut all = lock(&self.notifications)?;
        let mut pending: Vec<&mut Notification> = all
            .values_mut()
            .filter(|n| &n.recipient == user && n.delivered_at.is_none())
            .collect();
        pending.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        let taken = pending
            .into_iter()
            .take(limit)
            .map(|n| {
                n.delivered_at = Some(at);
                n.clone()
            })
            .collect();
        Ok(taken)
    }

    async fn release(&self, ids: &[NotificationId]) -> Result<u64, StoreError> {
        let mut all = lock(&self.notifications)?;
        let mut released = 0;
        for id in ids {
            if let Some(n) = all.get_mut(id).filter(|n| n.delivered_at.is_some()) {
                n.delivered_at = None;
                released += 1;
            }
        }
        Ok(released)
    }

    async fn mark_read(&self, id: &NotificationId, at: Timestamp) -> Result<bool, StoreError> {
        let mut all = lock(&self.notifications)?;
        let n = all
            .get_mut(id)
            .ok_or_else(|| StoreError::NotFound(format!("notification {id}")))?;
        let was_unread = n.read_at.is_none();
        if was_unread {
            n.read_at = Some(at);
        }
        Ok(was_unread)
    }

    async fn mark_all_read(&self, user: &UserId, at: Timestamp) -> Result<u64, StoreError> {
        let mut all = lock(&self.notifications)?;
        let mut count = 0;
        for n in all
            .values_mut()
            .filter(|n| &n.recipient == user && n.read_at.is_none())
        {
            n.read_at = Some(at);
            count += 1;
        }
        Ok(count)
    }

    async fn unread_count(&self, user: &UserId) -> Result<u64, StoreError> {
        let all = lock(&self.notifications)?;
        let unread = all
            .values()
            .filter(|n| &n.recipient == user && n.read_at.is_none())
            .count();
        Ok(unread as u64)
    }

    async fn list_for(&self, user: &UserId, page: Page) -> Result<Vec<Notification>, StoreError> {
        let all = lock(&self.notifications)?;
        let mut mine: Vec<&Notification> = all.values().filter(|n| &n.recipient == user).collect();
        // Ties on creation time break by id so that paging is stable.
        mine.sort_by_key(|n| Reverse((n.created_at, &n.id)));
        Ok(window(mine.into_iter().cloned(), page))
    }
}
