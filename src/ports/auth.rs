//! Token verification: from a bearer token to the identity it proves.

use crate::domain::Identity;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token expired")]
    Expired,
    #[error("invalid token: {0}")]
    Invalid(String),
    #[error("token carries no user id (sub, userId, id or _id)")]
    NoUserId,
}

#[cfg_attr(test, mockall::automock)]
pub trait TokenVerifier: Send + Sync {
    /// # Errors
    /// MUST return `Expired` for a token past its `exp`, `NoUserId` for a valid token without
    /// any of the user id claims, and `Invalid` for anything else that does not verify.
    fn verify(&self, token: &str) -> Result<Identity, TokenError>;
}
