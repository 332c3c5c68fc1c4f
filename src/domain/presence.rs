//! Presence: a user is online while at least one of their connections is open (counted on
//! every node) unless they set themselves offline; the last disconnect records `lastActive`.

use super::ids::UserId;
use super::time::Timestamp;

/// What the presence registry knows about one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PresenceState {
    pub connections: u32,
    pub manual_offline: bool,
}

impl PresenceState {
    pub fn is_online(self) -> bool {
        self.connections > 0 && !self.manual_offline
    }
}

/// What one registry update did to a user's presence: the state before and after it,
/// read and changed atomically.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceTransition {
    pub user_id: UserId,
    pub before: PresenceState,
    pub after: PresenceState,
}

impl PresenceTransition {
    /// What others should hear about it, if anything.
    pub fn change(&self, now: Timestamp) -> Option<PresenceChange> {
        decide_change(&self.user_id, self.before, self.after, now)
    }

    /// Whether it closed the user's last connection: `lastActive` is recorded then, whatever
    /// the manual setting, and what belonged to the user's presence (typing, a call) ends.
    pub fn was_last_connection(&self) -> bool {
        self.before.connections > 0 && self.after.connections == 0
    }

    /// Whether it opened a connection beyond `max` for the user (0: no limit). Judged after
    /// counting, so two connections opening at once cannot both slip under the limit.
    pub fn exceeds_connection_limit(&self, max: u32) -> bool {
        max > 0 && self.after.connections > max
    }
}

/// A change others should hear about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceChange {
    pub user_id: UserId,
    pub online: bool,
    /// Set when the user went offline: the time of their last activity.
    pub last_active: Option<Timestamp>,
}

/// Compares the visible state before and after a registry update and says what changed.
pub fn decide_change(
    user: &UserId,
    before: PresenceState,
    after: PresenceState,
    now: Timestamp,
) -> Option<PresenceChange> {
    match (before.is_online(), after.is_online()) {
        (false, true) => Some(PresenceChange {
            user_id: user.clone(),
            online: true,
            last_active: None,
        }),
        (true, false) => Some(PresenceChange {
            user_id: user.clone(),
            online: false,
            last_active: Some(now),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uid() -> UserId {
        UserId::parse("u").unwrap()
    }

    fn st(connections: u32, manual_offline: bool) -> PresenceState {
        PresenceState {
            connections,
            manual_offline,
        }
    }

    #[test]
    fn first_connection_goes_online_and_more_change_nothing() {
        let now = Timestamp::from_millis(1);
        assert_eq!(
            decide_change(&uid(), st(0, false), st(1, false), now).map(|c| c.online),
            Some(true)
        );
        assert_eq!(decide_change(&uid(), st(1, false), st(2, false), now), None);
    }

    #[test]
    fn last_disconnect_goes_offline_with_last_active() {
        let now = Timestamp::from_millis(9);
        assert_eq!(decide_change(&uid(), st(2, false), st(1, false), now), None);
        let change = decide_change(&uid(), st(1, false), st(0, false), now).unwrap();
        assert!(!change.online);
        assert_eq!(change.last_active, Some(now));
        let last = PresenceTransition {
            user_id: uid(),
            before: st(1, false),
            after: st(0, false),
        };
        assert!(last.was_last_connection());
        assert_eq!(last.change(now).map(|c| c.online), Some(false));
        let none_left_before = PresenceTransition {
            before: st(0, false),
            ..last
        };
        assert!(!none_left_before.was_last_connection());
    }

    #[test]
    fn manual_offline_hides_an_open_connection() {
        let now = Timestamp::from_millis(1);
        assert!(!st(3, true).is_online());
        assert_eq!(
            decide_change(&uid(), st(1, false), st(1, true), now).map(|c| c.online),
            Some(false)
        );
        assert_eq!(
            decide_change(&uid(), st(1, true), st(1, false), now).map(|c| c.online),
            Some(true)
        );
        // A manually offline user connecting again stays offline.
        assert_eq!(decide_change(&uid(), st(0, true), st(1, true), now), None);
    }

    #[test]
    fn a_connection_beyond_the_limit_exceeds_it_and_zero_means_none() {
        let opened = |connections| PresenceTransition {
            user_id: UserId::parse("u").unwrap(),
            before: PresenceState {
                connections: connections - 1,
                manual_offline: false,
            },
            after: PresenceState {
                connections,
                manual_offline: false,
            },
        };
        assert!(!opened(3).exceeds_connection_limit(3));
        assert!(opened(4).exceeds_connection_limit(3));
        assert!(!opened(4_000).exceeds_connection_limit(0));
    }
}
