//! Profiles for populating user references in answers (a chat list's participants, a
//! history's senders), looked up once per answer.

use std::collections::HashMap;

use crate::domain::{UserId, UserProfile};

use super::error::AppResult;
use super::use_cases::{Actor, UseCases};

/// The profiles an answer names. A user the directory does not know still appears, by id (a
/// display name falls back to it); the caller appears as their token describes them where
/// the directory is silent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileBook {
    caller: UserProfile,
    known: HashMap<UserId, UserProfile>,
}

impl ProfileBook {
    pub fn get(&self, id: &UserId) -> UserProfile {
        if id == &self.caller.id {
            return self.caller.clone();
        }
        self.known
            .get(id)
            .cloned()
            .unwrap_or_else(|| UserProfile::bare(id.clone()))
    }
}

impl UseCases {
    /// The profiles of `people` (duplicates and the caller are looked up once, or not at all).
    pub(super) async fn profile_book(
        &self,
        caller: &Actor,
        mut people: Vec<UserId>,
    ) -> AppResult<ProfileBook> {
        people.sort_unstable();
        people.dedup();
        people.retain(|id| id != caller.id());
        let known = if people.is_empty() {
            HashMap::new()
        } else {
            self.ports
                .stores
                .users
                .get_many(&people)
                .await?
                .into_iter()
                .map(|p| (p.id.clone(), p))
                .collect()
        };
        Ok(ProfileBook {
            caller: caller.profile.clone(),
            known,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::test_support::{Mocks, actor, uid};
    use crate::app::use_cases::Rules;

    #[tokio::test]
    async fn looks_up_each_other_user_once_and_names_strangers_by_id() {
        let mut m = Mocks::new(1);
        m.users
            .expect_get_many()
            .withf(|ids| ids == [uid("b"), uid("c")])
            .times(1)
            .returning(|_| {
                Ok(vec![UserProfile {
                    name: Some("Bea".into()),
                    ..UserProfile::bare(uid("b"))
                }])
            });
        let mut caller = actor("a");
        caller.profile.name = Some("Ann (from the token)".into());
        let book = m
            .build(Rules::default())
            .profile_book(&caller, vec![uid("c"), uid("a"), uid("b"), uid("c")])
            .await
            .unwrap();
        assert_eq!(book.get(&uid("a")), caller.profile);
        assert_eq!(book.get(&uid("b")).name.as_deref(), Some("Bea"));
        assert_eq!(book.get(&uid("c")), UserProfile::bare(uid("c")));
    }
}
