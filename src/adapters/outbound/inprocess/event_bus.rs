//! `InProcessEventBus`: domain events fanned out to every subscriber of this process over a
//! `tokio::sync::broadcast` channel. Each event is wrapped in one `Arc` and shared, so a
//! thousand subscribers cost a thousand pointer copies, not a thousand event clones.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::broadcast::{self, error::RecvError};

use crate::ports::{BusError, EventBus, EventEnvelope, EventSubscription};

/// Used when the configured capacity is zero: tokio's broadcast channel refuses zero.
const MIN_CAPACITY: usize = 1;

/// The bus of one process. Dropping it ends every subscription (`next` returns `None`).
pub struct InProcessEventBus {
    sender: broadcast::Sender<Arc<EventEnvelope>>,
}

impl InProcessEventBus {
    /// `capacity` is how many events a slow subscriber may fall behind before it starts
    /// skipping the oldest ones.
    pub fn new(capacity: usize) -> Self {
        // tokio panics on 0 and on more than usize::MAX / 2; keep the value in that range.
        let capacity = capacity.clamp(MIN_CAPACITY, usize::MAX / 2);
        let (sender, _) = broadcast::channel(capacity);
        Self { sender }
    }
}

#[async_trait]
impl EventBus for InProcessEventBus {
    async fn publish(&self, envelope: EventEnvelope) -> Result<(), BusError> {
        // `send` fails only when nobody is subscribed, and then there is nobody to tell:
        // that is a success for a fire-and-forget bus, not an error for the use case.
        let _ = self.sender.send(Arc::new(envelope));
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
                // The port's promise: a slow subscriber skips, it never holds up the others.
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
}
