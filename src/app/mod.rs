//! The use cases: what the core can do, each loading through ports, letting the domain
//! decide, persisting, then announcing. This module imports only `crate::domain` and
//! `crate::ports`.

pub mod attachments;
pub mod calls;
pub mod conversations;
pub mod error;
pub mod import;
pub mod messages;
pub mod notifications;
pub mod presence;
pub mod profiles;
pub mod typing;
pub mod use_cases;

pub use attachments::Upload;
pub use conversations::Requester;
pub use error::{AppError, AppResult};
pub use messages::{History, PostMessage, Posted};
pub use presence::OnlineStatus;
pub use profiles::ProfileBook;
pub use use_cases::{Actor, ConversationSizes, Ports, Rules, UseCases};

#[cfg(test)]
pub(crate) mod test_support;
