//! Notification use cases: create (pushed live when the recipient is online, else kept
//! pending), take pending on connect (in batches, giving back what could not be queued),
//! mark read, count and list.

use crate::domain::{
    DomainEvent, NewNotification, Notification, NotificationId, Timestamp, UserId,
};
use crate::ports::Page;

use super::error::{AppError, AppResult};
use super::use_cases::UseCases;

impl UseCases {
    /// Stores a notification; if the recipient is online it is marked delivered and pushed,
    /// otherwise it stays pending until `take_pending_notifications`. Once it is stored the
    /// call succeeds: when the push cannot be done (presence or the delivered mark failing),
    /// it stays pending and is logged.
    pub async fn notify(&self, new: NewNotification) -> AppResult<Notification> {
        let id = self.new_id(NotificationId::parse)?;
        let now = self.ports.clock.now();
        let mut notification = Notification::create(id, new, now)?;
        self.ports
            .stores
            .notifications
            .insert(&notification)
            .await?;
        match self.push_if_online(&notification, now).await {
            Ok(true) => notification.delivered_at = Some(now),
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(error = %e, notification = %notification.id, "stored notification left pending");
            }
        }
        Ok(notification)
    }

    /// Marks the notification delivered and pushes it when its recipient is online; whether
    /// it did.
    async fn push_if_online(&self, notification: &Notification, now: Timestamp) -> AppResult<bool> {
        let online = self
            .ports
            .presence
            .state(&notification.recipient)
            .await?
            .connections
            > 0;
        if online {
            // Only the caller that flips "delivered" pushes it: a connection taking its pending
            // notifications at this very moment either got it already or will not get it.
            let flipped = self
                .ports
                .stores
                .notifications
                .mark_delivered(std::slice::from_ref(&notification.id), now)
                .await?;
            if !flipped.is_empty() {
                let pushed = Notification {
                    delivered_at: Some(now),
                    ..notification.clone()
                };
                self.publish(DomainEvent::NotificationCreated(pushed), None)
                    .await;
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Up to `limit` of the user's pending notifications, the oldest first, now marked
    /// delivered: the connection that asks pushes them. Each is returned by exactly one call;
    /// a connection delivers a backlog in batches no larger than it can queue.
    pub async fn take_pending_notifications(
        &self,
        user: &UserId,
        limit: usize,
    ) -> AppResult<Vec<Notification>> {
        Ok(self
            .ports
            .stores
            .notifications
            .take_pending(user, self.ports.clock.now(), limit)
            .await?)
    }

    /// Gives back notifications taken by `take_pending_notifications` that the connection
    /// could not queue (it closed, or its buffer was full), so that they stay pending for the
    /// user's next take instead of counting as delivered; returns how many were given back.
    pub async fn release_notifications(&self, ids: &[NotificationId]) -> AppResult<u64> {
        Ok(self.ports.stores.notifications.release(ids).await?)
    }

    pub async fn mark_notification_read(
        &self,
        user: &UserId,
        id: &NotificationId,
    ) -> AppResult<Notification> {
        let mut notification = self
            .ports
            .stores
            .notifications
            .get(id)
            .await?
            .ok_or_else(|| AppError::not_found("notification"))?;
        if notification.decide_read(user)? {
            let now = self.ports.clock.now();
            if self.ports.stores.notifications.mark_read(id, now).await? {
                notification.read_at = Some(now);
                let event = DomainEvent::NotificationsRead {
                    user_id: user.clone(),
                    notification_id: Some(id.clone()),
                };
                self.publish(event, None).await;
            }
        }
        Ok(notification)
    }

    /// Marks all the user's notifications read; returns how many were unread.
    pub async fn mark_all_notifications_read(&self, user: &UserId) -> AppResult<u64> {
        let changed = self
            .ports
            .stores
            .notifications
            .mark_all_read(user, self.ports.clock.now())
            .await?;
        let event = DomainEvent::NotificationsRead {
            user_id: user.clone(),
            notification_id: None,
        };
        self.publish(event, None).await;
        Ok(changed)
    }

    pub async fn unread_notifications(&self, user: &UserId) -> AppResult<u64> {
        Ok(self.ports.stores.notifications.unread_count(user).await?)
    }

    pub async fn list_notifications(
        &self,
        user: &UserId,
        page: Page,
    ) -> AppResult<Vec<Notification>> {
        Ok(self.ports.stores.notifications.list_for(user, page).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::test_support::{Mocks, uid};
    use crate::app::use_cases::Rules;
    use crate::domain::{DataValue, PresenceState};
    use crate::ports::StoreError;

    fn like_for(user: &str) -> NewNotification {
        NewNotification {
            recipient: uid(user),
            kind: "LIKE".into(),
            title: None,
            message: "Ann liked your post".into(),
            reference_id: Some("post-1".into()),
            data: DataValue::empty_map(),
        }
    }

    fn connections(n: u32) -> PresenceState {
        PresenceState {
            connections: n,
            manual_offline: false,
        }
    }

    #[tokio::test]
    async fn an_offline_recipient_keeps_the_notification_pending() {
        let mut m = Mocks::new(1_000);
        m.notifications
            .expect_insert()
            .times(1)
            .returning(|_| Ok(()));
        m.presence.expect_state().returning(|_| Ok(connections(0)));
        m.notifications.expect_mark_delivered().never();
        m.bus.expect_publish().never();
        let n = m
            .build(Rules::default())
            .notify(like_for("u1"))
            .await
            .unwrap();
        assert_eq!(n.delivered_at, None);
    }

    #[tokio::test]
    async fn an_online_recipient_gets_it_live_and_delivered() {
        let mut m = Mocks::new(1_000);
        m.notifications.expect_insert().returning(|_| Ok(()));
        m.presence.expect_state().returning(|_| Ok(connections(1)));
        m.notifications
            .expect_mark_delivered()
            .times(1)
            .returning(|ids, _| Ok(ids.to_vec()));
        let events = m.capture_events();
        let n = m
            .build(Rules::default())
            .notify(like_for("u1"))
            .await
            .unwrap();
        assert_eq!(n.delivered_at, Some(Timestamp::from_millis(1_000)));
        let events = events.lock().unwrap();
        assert!(
            matches!(events.as_slice(), [DomainEvent::NotificationCreated(pushed)] if pushed.id == n.id)
        );
    }

    #[tokio::test]
    async fn a_notification_taken_as_pending_meanwhile_is_not_pushed_twice() {
        let mut m = Mocks::new(1_000);
        m.notifications.expect_insert().returning(|_| Ok(()));
        m.presence.expect_state().returning(|_| Ok(connections(1)));
        m.notifications
            .expect_mark_delivered()
            .returning(|_, _| Ok(vec![]));
        m.bus.expect_publish().never();
        m.build(Rules::default())
            .notify(like_for("u1"))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_failed_insert_is_an_error_and_nothing_is_pushed() {
        let mut m = Mocks::new(1_000);
        m.notifications
            .expect_insert()
            .returning(|_| Err(StoreError::Unavailable("down".into())));
        m.presence.expect_state().never();
        m.bus.expect_publish().never();
        let result = m.build(Rules::default()).notify(like_for("u1")).await;
        assert_eq!(result, Err(AppError::Unavailable));
    }

    #[tokio::test]
    async fn a_stored_notification_is_a_success_when_presence_fails_and_stays_pending() {
        let mut m = Mocks::new(1_000);
        m.notifications
            .expect_insert()
            .times(1)
            .returning(|_| Ok(()));
        m.presence
            .expect_state()
            .returning(|_| Err(crate::ports::PresenceError::Unavailable("down".into())));
        m.notifications.expect_mark_delivered().never();
        m.bus.expect_publish().never();
        let n = m
            .build(Rules::default())
            .notify(like_for("u1"))
            .await
            .unwrap();
        assert_eq!(n.delivered_at, None);
    }

    #[tokio::test]
    async fn invalid_notifications_are_refused_before_storing() {
        let mut m = Mocks::new(1_000);
        m.notifications.expect_insert().never();
        let result = m
            .build(Rules::default())
            .notify(NewNotification {
                message: " ".into(),
                ..like_for("u1")
            })
            .await;
        assert!(matches!(result, Err(AppError::Invalid(_))));
    }

    #[tokio::test]
    async fn pending_notifications_are_handed_to_the_connecting_user() {
        let mut m = Mocks::new(1_000);
        m.notifications
            .expect_take_pending()
            .withf(|user, _, limit| user == &uid("u1") && *limit == 50)
            .times(1)
            .returning(|_, at, _| {
                let n = Notification::create(
                    NotificationId::parse("n1").unwrap(),
                    like_for("u1"),
                    Timestamp::from_millis(1),
                )
                .unwrap();
                Ok(vec![Notification {
                    delivered_at: Some(at),
                    ..n
                }])
            });
        let pending = m
            .build(Rules::default())
            .take_pending_notifications(&uid("u1"), 50)
            .await
            .unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].delivered_at, Some(Timestamp::from_millis(1_000)));
    }

    #[tokio::test]
    async fn released_notifications_are_handed_back_to_the_store() {
        let mut m = Mocks::new(1_000);
        let ids = vec![
            NotificationId::parse("n1").unwrap(),
            NotificationId::parse("n2").unwrap(),
        ];
        let expected = ids.clone();
        m.notifications
            .expect_release()
            .withf(move |given| given == expected.as_slice())
            .times(1)
            .returning(|_| Ok(2));
        m.bus.expect_publish().never();
        let released = m
            .build(Rules::default())
            .release_notifications(&ids)
            .await
            .unwrap();
        assert_eq!(released, 2);
    }

    #[tokio::test]
    async fn a_failed_release_is_an_error() {
        let mut m = Mocks::new(1_000);
        m.notifications
            .expect_release()
            .returning(|_| Err(StoreError::Unavailable("down".into())));
        let result = m
            .build(Rules::default())
            .release_notifications(&[NotificationId::parse("n1").unwrap()])
            .await;
        assert_eq!(result, Err(AppError::Unavailable));
    }

    #[tokio::test]
    async fn someone_elses_notification_is_not_found_and_unchanged() {
        let mut m = Mocks::new(1_000);
        m.notifications.expect_get().returning(|_| {
            Ok(Some(
                Notification::create(
                    NotificationId::parse("n1").unwrap(),
                    like_for("owner"),
                    Timestamp::from_millis(1),
                )
                .unwrap(),
            ))
        });
        m.notifications.expect_mark_read().never();
        m.bus.expect_publish().never();
        let result = m
            .build(Rules::default())
            .mark_notification_read(&uid("intruder"), &NotificationId::parse("n1").unwrap())
            .await;
        assert!(matches!(result, Err(AppError::NotFound(_))));
    }
}
