//! Users as the core sees them: an id and a profile. Profiles come from the user directory
//! when it knows the user, else from the claims of the token the user presented.

use super::ids::UserId;
use super::time::Timestamp;

/// A free-form role name (`client`, `provider`, `doctor`, `patient`, …), compared
/// case-insensitively because the importing applications are not consistent about case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Role(String);

impl Role {
    pub fn new(raw: &str) -> Option<Self> {
        let trimmed = raw.trim();
        (!trimmed.is_empty()).then(|| Role(trimmed.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserProfile {
    pub id: UserId,
    pub name: Option<String>,
    pub email: Option<String>,
    pub avatar: Option<String>,
    pub role: Option<Role>,
    /// When the user's last connection closed; `None` if never seen or still online.
    pub last_active: Option<Timestamp>,
}

impl UserProfile {
    pub fn bare(id: UserId) -> Self {
        Self {
            id,
            name: None,
            email: None,
            avatar: None,
            role: None,
            last_active: None,
        }
    }

    /// The rule for "who is this user": the directory's entry wins, field by field; the
    /// token's claims fill what the directory does not know.
    pub fn resolve(directory: Option<UserProfile>, identity: &Identity) -> UserProfile {
        let claims = identity.as_profile();
        match directory {
            None => claims,
            Some(known) => UserProfile {
                id: known.id,
                name: known.name.or(claims.name),
                email: known.email.or(claims.email),
                avatar: known.avatar.or(claims.avatar),
                role: known.role.or(claims.role),
                last_active: known.last_active,
            },
        }
    }

    /// A name to show humans; falls back to the id so that a message never has a blank sender.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(self.id.as_str())
    }
}

/// Who a verified token says the caller is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user_id: UserId,
    pub name: Option<String>,
    pub email: Option<String>,
    pub role: Option<Role>,
}

impl Identity {
    pub fn bare(user_id: UserId) -> Self {
        Self {
            user_id,
            name: None,
            email: None,
            role: None,
        }
    }

    pub fn as_profile(&self) -> UserProfile {
        UserProfile {
            id: self.user_id.clone(),
            name: self.name.clone(),
            email: self.email.clone(),
            avatar: None,
            role: self.role.clone(),
            last_active: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uid(s: &str) -> UserId {
        UserId::parse(s).unwrap()
    }

    #[test]
    fn profile_from_claims_when_directory_has_none() {
        let identity = Identity {
            name: Some("Ann".into()),
            role: Role::new("Doctor"),
            ..Identity::bare(uid("u1"))
        };
        let profile = UserProfile::resolve(None, &identity);
        assert_eq!(profile.name.as_deref(), Some("Ann"));
        assert_eq!(profile.role, Role::new("doctor"));
    }

    #[test]
    fn directory_wins_and_claims_fill_gaps() {
        let identity = Identity {
            name: Some("Token Name".into()),
            email: Some("t@example.com".into()),
            ..Identity::bare(uid("u1"))
        };
        let known = UserProfile {
            name: Some("Directory Name".into()),
            ..UserProfile::bare(uid("u1"))
        };
        let profile = UserProfile::resolve(Some(known), &identity);
        assert_eq!(profile.name.as_deref(), Some("Directory Name"));
        assert_eq!(profile.email.as_deref(), Some("t@example.com"));
    }

    #[test]
    fn display_name_falls_back_to_id() {
        assert_eq!(UserProfile::bare(uid("u9")).display_name(), "u9");
    }

    #[test]
    fn blank_role_is_no_role() {
        assert_eq!(Role::new("  "), None);
    }
}
