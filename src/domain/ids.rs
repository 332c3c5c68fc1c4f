//! Identifier newtypes. Ids are opaque strings: a Mongo ObjectId hex, a UUID, or whatever
//! the importing team already has; the core never parses them.

use std::fmt;

/// Longest id accepted from the outside; longer ones are almost certainly garbage or abuse.
pub const MAX_ID_LEN: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{kind} must not be empty")]
    Empty { kind: &'static str },
    #[error("{kind} is longer than {MAX_ID_LEN} characters")]
    TooLong { kind: &'static str },
    #[error("{kind} must not contain control characters or whitespace")]
    BadCharacter { kind: &'static str },
}

fn check(kind: &'static str, raw: &str) -> Result<(), IdError> {
    if raw.is_empty() {
        return Err(IdError::Empty { kind });
    }
    if raw.len() > MAX_ID_LEN {
        return Err(IdError::TooLong { kind });
    }
    if raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(IdError::BadCharacter { kind });
    }
    Ok(())
}

macro_rules! opaque_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Validates an id that came from outside (a client, a token, a database row).
            pub fn parse(raw: impl Into<String>) -> Result<Self, IdError> {
                let raw = raw.into();
                check($kind, &raw)?;
                Ok(Self(raw))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

opaque_id!(
    /// A user, as known to the importing application.
    UserId,
    "user id"
);
opaque_id!(
    /// A conversation (a chat, a chat room, a doctor–patient relation).
    ConversationId,
    "conversation id"
);
opaque_id!(
    /// One stored message.
    MessageId,
    "message id"
);
opaque_id!(
    /// One stored notification.
    NotificationId,
    "notification id"
);
opaque_id!(
    /// One call session; made by the server.
    CallId,
    "call id"
);

/// A message's position in its conversation: 1 for the first, then gap-free and monotonic,
/// so that "everything after N" is a complete catch-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Seq(pub u64);

impl Seq {
    pub const ZERO: Seq = Seq(0);

    pub fn next(self) -> Seq {
        Seq(self.0 + 1)
    }
}

impl fmt::Display for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_object_ids_and_uuids() {
        assert!(UserId::parse("66f1234567890abcdef01234").is_ok());
        assert!(UserId::parse("0b6f3c1e-8d7a-4b8e-9a43-2d1f6e0c9b11").is_ok());
    }

    #[test]
    fn rejects_empty_long_and_whitespace_ids() {
        assert_eq!(UserId::parse(""), Err(IdError::Empty { kind: "user id" }));
        assert_eq!(
            ConversationId::parse("x".repeat(MAX_ID_LEN + 1)),
            Err(IdError::TooLong {
                kind: "conversation id"
            })
        );
        assert_eq!(
            MessageId::parse("a b"),
            Err(IdError::BadCharacter { kind: "message id" })
        );
    }

    #[test]
    fn seq_counts_up_from_zero() {
        assert_eq!(Seq::ZERO.next(), Seq(1));
        assert!(Seq(2) > Seq(1));
    }
}
