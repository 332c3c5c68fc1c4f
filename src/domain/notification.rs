//! Notifications: stored per recipient, pushed live when the recipient is online, otherwise
//! kept pending and pushed on the next connection; plus the rule for chat alerts.

use super::conversation::Conversation;
use super::data::DataValue;
use super::ids::{NotificationId, UserId};
use super::time::Timestamp;

pub const MAX_NOTIFICATION_TEXT: usize = 10_000;
pub const MAX_NOTIFICATION_TYPE: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotificationError {
    #[error("notification type must be 1 to {MAX_NOTIFICATION_TYPE} characters")]
    BadType,
    #[error("notification message must not be blank")]
    EmptyMessage,
    #[error("notification text is longer than {MAX_NOTIFICATION_TEXT} characters")]
    TooLong,
    #[error("only the recipient may change a notification")]
    NotRecipient,
}

/// What a caller asks to notify; validated into a `Notification` by `Notification::create`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewNotification {
    pub recipient: UserId,
    /// A free string: `chat`, `LIKE`, `COMMENT`, `EVENT_RSVP`, …
    pub kind: String,
    pub title: Option<String>,
    pub message: String,
    pub reference_id: Option<String>,
    pub data: DataValue,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub id: NotificationId,
    pub recipient: UserId,
    pub kind: String,
    pub title: Option<String>,
    pub message: String,
    pub reference_id: Option<String>,
    pub data: DataValue,
    pub created_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
    pub read_at: Option<Timestamp>,
}

impl Notification {
    pub fn create(
        id: NotificationId,
        new: NewNotification,
        now: Timestamp,
    ) -> Result<Self, NotificationError> {
        let kind = new.kind.trim().to_owned();
        if kind.is_empty() || kind.chars().count() > MAX_NOTIFICATION_TYPE {
            return Err(NotificationError::BadType);
        }
        if new.message.trim().is_empty() {
            return Err(NotificationError::EmptyMessage);
        }
        let too_long = |s: &str| s.chars().count() > MAX_NOTIFICATION_TEXT;
        if too_long(&new.message) || new.title.as_deref().is_some_and(too_long) {
            return Err(NotificationError::TooLong);
        }
        Ok(Self {
            id,
            recipient: new.recipient,
            kind,
            title: new.title,
            message: new.message,
            reference_id: new.reference_id,
            data: new.data,
            created_at: now,
            delivered_at: None,
            read_at: None,
        })
    }

    pub fn is_read(&self) -> bool {
        self.read_at.is_some()
    }

    pub fn is_delivered(&self) -> bool {
        self.delivered_at.is_some()
    }

    /// Only the recipient marks a notification read; marking it again changes nothing.
    pub fn decide_read(&self, by: &UserId) -> Result<bool, NotificationError> {
        if by != &self.recipient {
            return Err(NotificationError::NotRecipient);
        }
        Ok(!self.is_read())
    }
}

/// The chat-alert rule: a participant other than the sender gets an alert about a new
/// message only when none of their connections is viewing that conversation.
pub fn chat_alert_recipients(
    conversation: &Conversation,
    sender: &UserId,
    is_viewing: impl Fn(&UserId) -> bool,
) -> Vec<UserId> {
    conversation
        .others(sender)
        .filter(|u| !is_viewing(u))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::ConversationId;

    fn uid(s: &str) -> UserId {
        UserId::parse(s).unwrap()
    }

    fn new(kind: &str, message: &str) -> NewNotification {
        NewNotification {
            recipient: uid("u1"),
            kind: kind.into(),
            title: None,
            message: message.into(),
            reference_id: None,
            data: DataValue::empty_map(),
        }
    }

    fn create(n: NewNotification) -> Result<Notification, NotificationError> {
        Notification::create(
            NotificationId::parse("n1").unwrap(),
            n,
            Timestamp::from_millis(1),
        )
    }

    #[test]
    fn new_notifications_are_pending_and_unread() {
        let n = create(new("LIKE", "Ann liked your post")).unwrap();
        assert!(!n.is_delivered() && !n.is_read());
    }

    #[test]
    fn type_and_message_are_validated() {
        assert_eq!(create(new(" ", "x")), Err(NotificationError::BadType));
        assert_eq!(
            create(new("LIKE", "  ")),
            Err(NotificationError::EmptyMessage)
        );
        assert_eq!(
            create(new("LIKE", &"x".repeat(MAX_NOTIFICATION_TEXT + 1))),
            Err(NotificationError::TooLong)
        );
    }

    #[test]
    fn only_the_recipient_reads_and_only_once() {
        let mut n = create(new("LIKE", "x")).unwrap();
        assert_eq!(
            n.decide_read(&uid("u2")),
            Err(NotificationError::NotRecipient)
        );
        assert_eq!(n.decide_read(&uid("u1")), Ok(true));
        n.read_at = Some(Timestamp::from_millis(2));
        assert_eq!(n.decide_read(&uid("u1")), Ok(false));
    }

    #[test]
    fn chat_alerts_skip_the_sender_and_viewers() {
        let c = Conversation::new(
            ConversationId::parse("c").unwrap(),
            vec![uid("a"), uid("b"), uid("c")],
            Default::default(),
            Timestamp::from_millis(0),
        )
        .unwrap();
        let alerted = chat_alert_recipients(&c, &uid("a"), |u| u == &uid("b"));
        assert_eq!(alerted, vec![uid("c")]);
    }
}
