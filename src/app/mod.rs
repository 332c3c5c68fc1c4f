//! Use cases and the composition root.

pub mod calls;
pub mod conversations;
pub mod error;
pub mod messages;
pub mod notifications;
pub mod presence;
pub mod sweeper;
pub mod typing;
pub mod use_cases;

pub use conversations::Requester;
pub use error::{AppError, AppResult};
pub use messages::{History, PostMessage};
pub use presence::OnlineStatus;
pub use use_cases::{Actor, Ports, Rules, UseCases};

#[cfg(test)]
mod test_support;

pub mod build;
pub mod config;
pub mod serve;
