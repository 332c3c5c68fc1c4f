//! `MemoryUserDirectory`: user profiles and when each user was last active.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::lock;
use crate::domain::{Timestamp, UserId, UserProfile};
use crate::ports::{StoreError, UserDirectory};

#[derive(Default)]
pub struct MemoryUserDirectory {
    profiles: Mutex<HashMap<UserId, UserProfile>>,
}

#[async_trait]
impl UserDirectory for MemoryUserDirectory {
    async fn get(&self, id: &UserId) -> Result<Option<UserProfile>, StoreError> {
        Ok(lock(&self.profiles)?.get(id).cloned())
    }

    async fn get_many(&self, ids: &[UserId]) -> Result<Vec<UserProfile>, StoreError> {
        let profiles = lock(&self.profiles)?;
        let mut found: Vec<UserProfile> = ids
            .iter()
            .filter_map(|id| profiles.get(id).cloned())
            .collect();
        // The same id asked twice is still one profile.
        found.sort_by(|a, b| a.id.cmp(&b.id));
        found.dedup_by(|a, b| a.id == b.id);
        Ok(found)
    }

    async fn upsert(&self, profile: &UserProfile) -> Result<(), StoreError> {
        let mut profiles = lock(&self.profiles)?;
        let last_active = profiles
            .get(&profile.id)
            .map_or(profile.last_active, |known| known.last_active);
        profiles.insert(
            profile.id.clone(),
            UserProfile {
                last_active,
                ..profile.clone()
            },
        );
        Ok(())
    }

    async fn record_last_active(&self, id: &UserId, at: Timestamp) -> Result<(), StoreError> {
        lock(&self.profiles)?
            .entry(id.clone())
            .or_insert_with(|| UserProfile::bare(id.clone()))
            .last_active = Some(at);
        Ok(())
    }
}
