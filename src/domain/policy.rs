//! The conversation policy: which pairs of roles may message each other
//! (e.g. `client` ↔ `provider`). An empty policy allows everyone.

use super::conversation::Conversation;
use super::ids::UserId;
use super::user::Role;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("users with roles {sender} and {recipient} may not message each other")]
    RolesNotAllowed { sender: String, recipient: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConversationPolicy {
    allowed_pairs: Vec<(Role, Role)>,
}

impl ConversationPolicy {
    pub fn allow_all() -> Self {
        Self::default()
    }

    /// Pairs are unordered: allowing (client, provider) allows provider → client too.
    pub fn with_pairs(pairs: Vec<(Role, Role)>) -> Self {
        Self {
            allowed_pairs: pairs,
        }
    }

    pub fn is_open(&self) -> bool {
        self.allowed_pairs.is_empty()
    }

    /// A user whose role is unknown fits no pair, so a restrictive policy refuses them.
    pub fn allows(&self, a: Option<&Role>, b: Option<&Role>) -> bool {
        if self.is_open() {
            return true;
        }
        let (Some(a), Some(b)) = (a, b) else {
            return false;
        };
        self.allowed_pairs
            .iter()
            .any(|(x, y)| (x == a && y == b) || (x == b && y == a))
    }

    /// Checks the sender against every other participant, given a way to find roles.
    pub fn check_post<'a>(
        &self,
        conversation: &Conversation,
        sender: &UserId,
        role_of: impl Fn(&UserId) -> Option<&'a Role>,
    ) -> Result<(), PolicyError> {
        if self.is_open() {
            return Ok(());
        }
        let sender_role = role_of(sender);
        for other in conversation.others(sender) {
            let other_role = role_of(other);
            if !self.allows(sender_role, other_role) {
                let name =
                    |r: Option<&Role>| r.map_or("unknown".to_owned(), |r| r.as_str().to_owned());
                return Err(PolicyError::RolesNotAllowed {
                    sender: name(sender_role),
                    recipient: name(other_role),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::ConversationId;
    use crate::domain::time::Timestamp;

    fn role(s: &str) -> Role {
        Role::new(s).unwrap()
    }

    #[test]
    fn open_policy_allows_everyone() {
        assert!(ConversationPolicy::allow_all().allows(None, None));
    }

    #[test]
    fn pairs_are_unordered_and_unknown_roles_are_refused() {
        let p = ConversationPolicy::with_pairs(vec![(role("client"), role("provider"))]);
        assert!(p.allows(Some(&role("provider")), Some(&role("client"))));
        assert!(!p.allows(Some(&role("client")), Some(&role("client"))));
        assert!(!p.allows(Some(&role("client")), None));
    }

    #[test]
    fn post_check_names_the_refused_roles() {
        let uid = |s: &str| UserId::parse(s).unwrap();
        let c = Conversation::new(
            ConversationId::parse("c").unwrap(),
            vec![uid("a"), uid("b")],
            Default::default(),
            Timestamp::from_millis(0),
        )
        .unwrap();
        let p = ConversationPolicy::with_pairs(vec![(role("client"), role("provider"))]);
        let client = role("client");
        let err = p.check_post(&c, &uid("a"), |_| Some(&client)).unwrap_err();
        assert_eq!(
            err,
            PolicyError::RolesNotAllowed {
                sender: "client".into(),
                recipient: "client".into()
            }
        );
        let provider = role("provider");
        assert!(
            p.check_post(&c, &uid("a"), |u| if u == &uid("a") {
                Some(&client)
            } else {
                Some(&provider)
            })
            .is_ok()
        );
    }
}
