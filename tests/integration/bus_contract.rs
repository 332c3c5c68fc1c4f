//! The event bus contract suite: the MUST sentences of `src/ports/event_bus.rs`, checked on
//! every adapter. A bus is given as a pair of handles to one bus (two nodes of a cluster, or
//! one process twice): what one publishes, subscribers on the other must get. Adding an
//! adapter is one `bus_contract_tests!` line at the bottom.

use std::sync::Arc;
use std::time::Duration;

use switchboard::domain::{DomainEvent, NotificationId, UserId};
use switchboard::ports::{ConnectionRef, EventBus, EventEnvelope, EventSubscription, NodeId};

/// Two handles to one bus: `here` and `there` may be two nodes.
pub struct Buses {
    pub here: Arc<dyn EventBus>,
    pub there: Arc<dyn EventBus>,
}

/// How long an event that must come may take.
const WAIT: Duration = Duration::from_secs(5);
/// How long to watch for an event that must not come.
const QUIET: Duration = Duration::from_millis(200);

fn event(n: u32) -> EventEnvelope {
    EventEnvelope::new(
        DomainEvent::NotificationsRead {
            user_id: UserId::parse("u1").unwrap(),
            notification_id: Some(NotificationId::parse(format!("n{n}")).unwrap()),
        },
        None,
    )
}

async fn next(sub: &mut Box<dyn EventSubscription>) -> EventEnvelope {
    let got = tokio::time::timeout(WAIT, sub.next())
        .await
        .expect("an event within the wait")
        .expect("the bus is open");
    (*got).clone()
}

async fn nothing_more(sub: &mut Box<dyn EventSubscription>) {
    if let Ok(got) = tokio::time::timeout(QUIET, sub.next()).await {
        panic!("expected no event, got {got:?}");
    }
}

pub async fn every_subscriber_on_every_node_gets_every_event_in_order(buses: Buses) {
    let mut subs = [
        buses.here.subscribe(),
        buses.there.subscribe(),
        buses.there.subscribe(),
    ];
    for n in 1..=50 {
        buses.here.publish(event(n)).await.unwrap();
    }
    for sub in &mut subs {
        for n in 1..=50 {
            assert_eq!(next(sub).await, event(n));
        }
        nothing_more(sub).await;
    }
}

pub async fn a_subscription_gets_only_what_is_published_after_it(buses: Buses) {
    buses.here.publish(event(1)).await.unwrap();
    let mut sub = buses.there.subscribe();
    buses.here.publish(event(2)).await.unwrap();
    assert_eq!(next(&mut sub).await, event(2));
    nothing_more(&mut sub).await;
}

pub async fn publishing_without_subscribers_succeeds(buses: Buses) {
    buses.here.publish(event(1)).await.unwrap();
    buses.there.publish(event(2)).await.unwrap();
}

pub async fn the_envelope_arrives_whole_with_its_origin(buses: Buses) {
    let mut sub = buses.there.subscribe();
    let origin = ConnectionRef::new(NodeId::new("node-a"), 42);
    let sent = EventEnvelope::new(event(7).event, Some(origin));
    buses.here.publish(sent.clone()).await.unwrap();
    assert_eq!(next(&mut sub).await, sent);
}

pub async fn each_publisher_keeps_its_order_when_several_publish(buses: Buses) {
    let mut sub = buses.here.subscribe();
    let (here, there) = (buses.here.clone(), buses.there.clone());
    let one = tokio::spawn(async move {
        for n in 0..100 {
            here.publish(event(n)).await.unwrap();
        }
    });
    let two = tokio::spawn(async move {
        for n in 1_000..1_100 {
            there.publish(event(n)).await.unwrap();
        }
    });
    one.await.unwrap();
    two.await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..200 {
        let DomainEvent::NotificationsRead {
            notification_id: Some(id),
            ..
        } = next(&mut sub).await.event
        else {
            panic!("an unexpected event");
        };
        seen.push(id.as_str()[1..].parse::<u32>().unwrap());
    }
    let first: Vec<u32> = seen.iter().copied().filter(|n| *n < 1_000).collect();
    let second: Vec<u32> = seen.iter().copied().filter(|n| *n >= 1_000).collect();
    assert_eq!(first, (0..100).collect::<Vec<_>>());
    assert_eq!(second, (1_000..1_100).collect::<Vec<_>>());
}

/// Far more events than any adapter buffers for one subscriber.
const FLOOD: u32 = 20_000;

pub async fn a_subscriber_that_does_not_read_holds_up_nobody(buses: Buses) {
    let mut idle = buses.there.subscribe();
    let published = tokio::time::timeout(WAIT, async {
        for n in 1..=FLOOD {
            buses.here.publish(event(n)).await.unwrap();
        }
    })
    .await;
    assert!(
        published.is_ok(),
        "publishing waited for a subscriber that does not read"
    );
    // It skipped the oldest events, not the newest: it still gets the last one, in order.
    let mut last = 0;
    while let Ok(Some(got)) = tokio::time::timeout(QUIET, idle.next()).await {
        let DomainEvent::NotificationsRead {
            notification_id: Some(id),
            ..
        } = &got.event
        else {
            panic!("an unexpected event");
        };
        let n: u32 = id.as_str()[1..].parse().unwrap();
        assert!(n > last, "{n} after {last}");
        last = n;
    }
    assert_eq!(last, FLOOD);
}

macro_rules! bus_contract_tests {
    ($adapter:ident, $buses:expr) => {
        mod $adapter {
            use super::*;

            bus_contract_tests!(@each $buses;
                every_subscriber_on_every_node_gets_every_event_in_order,
                a_subscription_gets_only_what_is_published_after_it,
                publishing_without_subscribers_succeeds,
                the_envelope_arrives_whole_with_its_origin,
                each_publisher_keeps_its_order_when_several_publish,
                a_subscriber_that_does_not_read_holds_up_nobody,
            );
        }
    };
    (@each $buses:expr; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                super::$check($buses).await;
            }
        )*
    };
}

// One process: both handles are the same bus.
bus_contract_tests!(in_process, {
    let bus: Arc<dyn EventBus> =
        Arc::new(switchboard::adapters::outbound::inprocess::InProcessEventBus::new(1024));
    Buses {
        here: bus.clone(),
        there: bus,
    }
});
