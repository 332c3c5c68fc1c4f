//! `InProcessEventBus`: domain events fanned out to every subscriber of this process over a
//! `tokio::sync::broadcast` channel. Each event is wrapped in one `Arc` and shared, so a
//! thousand subscribers cost a thousand pointer copies, not a thousand event clones.
//!
//! A subscriber that is a whole channel behind slows the publishers down (they wait for
//! room, up to `STALL_WAIT`) rather than lose events: the hub is such a subscriber, and an
//! event it skipped is a message that was acknowledged and never delivered live. Waiting
//! publishers are use cases that have not answered yet, so the load reaches the clients as
//! slower acks and, past their inbox, as refusals. Only a subscriber that reads nothing for
//! `STALL_WAIT` is given up on: it then skips the oldest events (logged), and publishers
//! stop waiting for it until it catches up.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::time::Instant;

use crate::ports::{BusError, EventBus, EventEnvelope, EventSubscription};

/// Used when the configured capacity is zero: tokio's broadcast channel refuses zero.
const MIN_CAPACITY: usize = 1;
/// How long publishers wait for a subscriber with a full queue that reads nothing: far
/// longer than a busy hub needs to make room, short enough that one that stopped reading
/// holds nobody up for long.
const STALL_WAIT: Duration = Duration::from_secs(1);
/// How often a waiting publisher looks for room again.
const ROOM_POLL: Duration = Duration::from_millis(1);

/// The bus of one process. Dropping it ends every subscription (`next` returns `None`).
pub struct InProcessEventBus {
    sender: broadcast::Sender<Arc<EventEnvelope>>,
    capacity: usize,
    /// Whether a subscriber left the queue full for `STALL_WAIT` (then publish without
    /// waiting until there is room again). Its lock is held from the check for room to the
    /// send, never across an `.await`.
    stalled: Mutex<bool>,
}

impl InProcessEventBus {
    /// `capacity` is how many events a slow subscriber may fall behind before publishers
    /// wait for it.
    pub fn new(capacity: usize) -> Self {
        // tokio panics on 0 and on more than usize::MAX / 2; keep the value in that range.
        let capacity = capacity.clamp(MIN_CAPACITY, usize::MAX / 2);
        let (sender, _) = broadcast::channel(capacity);
        Self {
            sender,
            capacity,
            stalled: Mutex::new(false),
        }
    }

    /// Sends `envelope` once the slowest subscriber has room for it, or without waiting
    /// once it has been stalled for `STALL_WAIT`. (`len` counts the events some subscriber
    /// has not seen yet, at most `capacity`; with no subscriber it is 0.) The room is checked
    /// and taken under one lock, so that publishers finding room at the same moment cannot
    /// overrun it together.
    async fn send_when_room(&self, envelope: Arc<EventEnvelope>) {
        let deadline = Instant::now() + STALL_WAIT;
        loop {
            {
                let mut stalled = self.stalled.lock().unwrap_or_else(PoisonError::into_inner);
                let has_room = self.sender.len() < self.capacity;
                if has_room {
                    *stalled = false;
                } else if !*stalled && Instant::now() >= deadline {
                    *stalled = true;
                    tracing::warn!(
                        "an event subscriber read nothing for {STALL_WAIT:?} with {} events \
                         waiting; publishing without it, so it skips the oldest",
                        self.capacity
                    );
                }
                if has_room || *stalled {
                    // `send` fails only when nobody is subscribed, and then there is nobody
                    // to tell: a success for a fire-and-forget bus.
                    let _ = self.sender.send(envelope);
                    return;
                }
            }
            tokio::time::sleep(ROOM_POLL).await;
        }
    }
}

#[async_trait]
impl EventBus for InProcessEventBus {
    async fn publish(&self, envelope: EventEnvelope) -> Result<(), BusError> {
        self.send_when_room(Arc::new(envelope)).await;
        Ok(())
    }

    fn subscribe(&self) -> Box<dyn EventSubscription> {
        Box::new(InProcessSubscription {
            receiver: self.sender.subscribe(),
        })
    }
}

struct InProcessSubscription {
    receiver: broadcast::Receiver<Arc<EventEnvelope>>,
}

#[async_trait]
impl EventSubscription for InProcessSubscription {
    async fn next(&mut self) -> Option<Arc<EventEnvelope>> {
        loop {
            match self.receiver.recv().await {
                Ok(envelope) => return Some(envelope),
                // The port's promise: a subscriber that stopped reading skips, it does not
                // hold up the others for longer than `STALL_WAIT`.
                Err(RecvError::Lagged(skipped)) => {
                    tracing::warn!(
                        skipped,
                        "event subscriber fell behind; oldest events skipped"
                    );
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }
}

// What every bus owes (order, every subscriber, only later events, the origin kept) is
// checked by the contract suite (tests/integration/bus_contract.rs); these tests are about
// this adapter's own sharing and capacity.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{DomainEvent, NotificationId, UserId};

    fn envelope(n: u32) -> EventEnvelope {
        EventEnvelope::new(
            DomainEvent::NotificationsRead {
                user_id: UserId::parse("u1").unwrap(),
                notification_id: Some(NotificationId::parse(format!("n{n}")).unwrap()),
            },
            None,
        )
    }

    #[tokio::test]
    async fn subscribers_share_one_allocation_per_event() {
        let bus = InProcessEventBus::new(4);
        let mut a = bus.subscribe();
        let mut b = bus.subscribe();
        bus.publish(envelope(1)).await.unwrap();
        let (x, y) = (a.next().await.unwrap(), b.next().await.unwrap());
        assert!(Arc::ptr_eq(&x, &y));
    }

    #[tokio::test]
    async fn a_slow_subscriber_slows_the_publisher_and_misses_nothing() {
        let bus = Arc::new(InProcessEventBus::new(4));
        let mut slow = bus.subscribe();
        let publisher = tokio::spawn({
            let bus = bus.clone();
            async move {
                for n in 1..=50 {
                    bus.publish(envelope(n)).await.unwrap();
                }
            }
        });
        for n in 1..=50 {
            tokio::time::sleep(Duration::from_millis(1)).await;
            assert_eq!(*slow.next().await.unwrap(), envelope(n));
        }
        publisher.await.unwrap();
    }

    #[tokio::test]
    async fn a_lagging_subscriber_skips_the_oldest_and_goes_on() {
        let bus = InProcessEventBus::new(2);
        let mut slow = bus.subscribe();
        for n in 1..=5 {
            bus.publish(envelope(n)).await.unwrap();
        }
        // Capacity 2: events 1 to 3 were overwritten; the subscriber resumes at 4.
        assert_eq!(*slow.next().await.unwrap(), envelope(4));
        assert_eq!(*slow.next().await.unwrap(), envelope(5));
    }

    #[tokio::test]
    async fn subscriptions_end_when_the_bus_is_dropped() {
        let bus = InProcessEventBus::new(4);
        let mut sub = bus.subscribe();
        bus.publish(envelope(1)).await.unwrap();
        drop(bus);
        // Events already sent are still delivered, then the stream ends.
        assert!(sub.next().await.is_some());
        assert!(sub.next().await.is_none());
    }

    #[tokio::test]
    async fn zero_capacity_is_raised_instead_of_panicking() {
        let bus = InProcessEventBus::new(0);
        let mut sub = bus.subscribe();
        bus.publish(envelope(1)).await.unwrap();
        assert_eq!(*sub.next().await.unwrap(), envelope(1));
    }

    /// Publishers that find room at the same moment must not, together, overrun it: the
    /// room is checked and taken under one lock. (Without it, the closed-loop benchmark
    /// lost a few acknowledged messages in 380,000.)
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_publishers_never_overrun_a_slow_subscriber() {
        const PUBLISHERS: u32 = 8;
        const EACH: u32 = 200;
        let bus = Arc::new(InProcessEventBus::new(2));
        let mut slow = bus.subscribe();
        let publishers: Vec<_> = (0..PUBLISHERS)
            .map(|p| {
                let bus = bus.clone();
                tokio::spawn(async move {
                    for n in 0..EACH {
                        bus.publish(envelope(p * EACH + n)).await.unwrap();
                    }
                })
            })
            .collect();
        let mut seen = std::collections::HashSet::new();
        while seen.len() < (PUBLISHERS * EACH) as usize {
            let event = tokio::time::timeout(Duration::from_secs(5), slow.next())
                .await
                .expect("an event was skipped: the subscriber waits for one never coming")
                .unwrap();
            assert!(seen.insert(format!("{event:?}")), "a duplicate: {event:?}");
        }
        for publisher in publishers {
            publisher.await.unwrap();
        }
    }
}
