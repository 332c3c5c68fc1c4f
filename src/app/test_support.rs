//! Mock ports for use-case tests: every port is a mockall mock with no expectations, so a
//! test states exactly the calls its behaviour needs and any other call fails it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::domain::{Conversation, ConversationId, DomainEvent, Timestamp, UserId, UserProfile};
use crate::ports::blob::MockBlobStore;
use crate::ports::clock::MockClock;
use crate::ports::event_bus::MockEventBus;
use crate::ports::ids::MockIdGenerator;
use crate::ports::presence::MockPresenceRegistry;
use crate::ports::store::{
    MockCallSessionStore, MockConversationStore, MockMessageStore, MockNotificationStore,
    MockUserDirectory,
};
use crate::ports::typing::MockTypingRegistry;
use crate::ports::{ConnectionRef, NodeId, Stores};

use super::use_cases::{Actor, Ports, Rules, UseCases};

pub struct Mocks {
    pub conversations: MockConversationStore,
    pub messages: MockMessageStore,
    pub notifications: MockNotificationStore,
    pub users: MockUserDirectory,
    pub calls: MockCallSessionStore,
    pub bus: MockEventBus,
    pub presence: MockPresenceRegistry,
    pub typing: MockTypingRegistry,
    pub blobs: MockBlobStore,
    pub clock: MockClock,
    pub ids: MockIdGenerator,
}

impl Mocks {
    /// All mocks empty, except a fixed clock and an id generator counting `id1`, `id2`, …
    pub fn new(now_ms: i64) -> Self {
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .returning(move || Timestamp::from_millis(now_ms));
        let counter = AtomicUsize::new(0);
        let mut ids = MockIdGenerator::new();
        ids.expect_next_id()
            .returning(move || format!("id{}", counter.fetch_add(1, Ordering::Relaxed) + 1));
        Self {
            conversations: MockConversationStore::new(),
            messages: MockMessageStore::new(),
            notifications: MockNotificationStore::new(),
            users: MockUserDirectory::new(),
            calls: MockCallSessionStore::new(),
            bus: MockEventBus::new(),
            presence: MockPresenceRegistry::new(),
            typing: MockTypingRegistry::new(),
            blobs: MockBlobStore::new(),
            clock,
            ids,
        }
    }

    /// Records every published event for later assertions.
    pub fn capture_events(&mut self) -> Arc<Mutex<Vec<DomainEvent>>> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        self.bus.expect_publish().returning(move |envelope| {
            sink.lock().unwrap().push(envelope.event);
            Ok(())
        });
        seen
    }

    pub fn build(self, rules: Rules) -> UseCases {
        let ports = Ports {
            stores: Stores {
                conversations: Arc::new(self.conversations),
                messages: Arc::new(self.messages),
                notifications: Arc::new(self.notifications),
                users: Arc::new(self.users),
                calls: Arc::new(self.calls),
            },
            bus: Arc::new(self.bus),
            presence: Arc::new(self.presence),
            typing: Arc::new(self.typing),
            blobs: Arc::new(self.blobs),
            clock: Arc::new(self.clock),
            ids: Arc::new(self.ids),
        };
        UseCases::new(ports, rules)
    }
}

pub fn uid(s: &str) -> UserId {
    UserId::parse(s).unwrap()
}

pub fn cid(s: &str) -> ConversationId {
    ConversationId::parse(s).unwrap()
}

/// Connection `n` on the node `node1`.
pub fn conn(n: u64) -> ConnectionRef {
    ConnectionRef::new(NodeId::new("node1"), n)
}

/// The user `user` acting through a connection of their own.
pub fn actor(user: &str) -> Actor {
    let n = user.bytes().fold(0u64, |acc, b| acc * 31 + u64::from(b));
    Actor {
        profile: UserProfile::bare(uid(user)),
        origin: Some(conn(n)),
    }
}

/// Conversation `c1` between `a` and `b`.
pub fn conversation_ab() -> Conversation {
    Conversation::new(
        cid("c1"),
        vec![uid("a"), uid("b")],
        Default::default(),
        Timestamp::from_millis(0),
    )
    .unwrap()
}
