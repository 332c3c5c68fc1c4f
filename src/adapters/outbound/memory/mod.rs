//! In-memory implementations of every store port and of the import sink, for tests and
//! throwaway runs.
//!
//! They are the reference behaviour of the store contract: each operation is written with the
//! domain's own rules (`Conversation::apply_posted`, `apply_mark`, `is_visible_to`,
//! `unread_for`, `identity_key`), and the durable adapters mirror them. Nothing survives the
//! process.

mod calls;
mod conversations;
mod import;
mod messages;
mod notifications;
mod users;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

pub use calls::MemoryCallSessionStore;
pub use conversations::MemoryConversationStore;
pub use import::MemoryImportSink;
pub use messages::MemoryMessageStore;
pub use notifications::MemoryNotificationStore;
pub use users::MemoryUserDirectory;

use crate::domain::{ClientKey, Conversation, ConversationId, Message, MessageId, UserId};
use crate::ports::{ImportSink, StoreError, Stores};

/// A fresh, empty set of in-memory stores. The conversation and message stores share one
/// state, so that an append and its conversation changes happen under one lock.
pub fn memory_stores() -> Stores {
    let chat = SharedChat::default();
    Stores {
        conversations: Arc::new(MemoryConversationStore::new(chat.clone())),
        messages: Arc::new(MemoryMessageStore::new(chat)),
        notifications: Arc::new(MemoryNotificationStore::default()),
        users: Arc::new(MemoryUserDirectory::default()),
        calls: Arc::new(MemoryCallSessionStore::default()),
    }
}

/// Fresh, empty in-memory stores and an import sink that writes into them: what the sink
/// saves, the stores read back.
pub fn memory_stores_with_import() -> (Stores, Arc<dyn ImportSink>) {
    let chat = SharedChat::default();
    let notifications = Arc::new(MemoryNotificationStore::default());
    let users = Arc::new(MemoryUserDirectory::default());
    let stores = Stores {
        conversations: Arc::new(MemoryConversationStore::new(chat.clone())),
        messages: Arc::new(MemoryMessageStore::new(chat.clone())),
        notifications: notifications.clone(),
        users: users.clone(),
        calls: Arc::new(MemoryCallSessionStore::default()),
    };
    let sink = Arc::new(MemoryImportSink::new(chat, notifications, users));
    (stores, sink)
}

/// Conversations and their messages: one state because appending changes both.
#[derive(Default)]
struct ChatState {
    conversations: HashMap<ConversationId, Conversation>,
    by_identity_key: HashMap<String, ConversationId>,
    /// Each conversation's messages in seq order: seq `n` is at index `n - 1`.
    messages: HashMap<ConversationId, Vec<Message>>,
    message_locations: HashMap<MessageId, (ConversationId, usize)>,
    client_keys: HashMap<(ConversationId, UserId, ClientKey), MessageId>,
}

type SharedChat = Arc<Mutex<ChatState>>;

/// Locks a store's state. A poisoned lock means an earlier operation panicked half-way, so
/// the state may be inconsistent: report the store unavailable rather than serve it.
fn lock<T>(state: &Mutex<T>) -> Result<MutexGuard<'_, T>, StoreError> {
    state
        .lock()
        .map_err(|_| StoreError::Unavailable("in-memory store poisoned by a panic".into()))
}

/// The `skip`/`limit` window of a list already sorted newest first.
fn window<T>(items: impl Iterator<Item = T>, page: crate::ports::Page) -> Vec<T> {
    let skip = usize::try_from(page.skip).unwrap_or(usize::MAX);
    items.skip(skip).take(page.limit as usize).collect()
}
