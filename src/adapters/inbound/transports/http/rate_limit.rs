//! Request rates of the REST routes, so that one account or one machine cannot flood the
//! server or grow everyone's data at machine speed: per client address before anything else
//! is done (`limit_by_address`, a middleware), and per user once their token is checked (the
//! `UserCaller` extractor asks `check_user`). Over a limit: `429 { message }` with
//! `Retry-After`. Calls with the service key come from the operator's own servers: they are
//! not limited by address. One `RateLimits` is shared by every listener of the process, so a
//! user gains nothing by spreading requests over listeners.
//!
//! The counting is governor's (GCRA): each key may spend `per_second` requests a second,
//! with bursts of up to one second's worth.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::{ApiError, RestState};
use crate::adapters::inbound::auth::is_service_call;
use crate::domain::UserId;

/// The limits, in requests per second; 0 turns one off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateSettings {
    pub per_user: u32,
    pub per_address: u32,
}

pub struct RateLimits {
    users: Option<DefaultKeyedRateLimiter<UserId>>,
    addresses: Option<DefaultKeyedRateLimiter<IpAddr>>,
    clock: DefaultClock,
}

impl RateLimits {
    pub fn new(settings: RateSettings) -> Arc<Self> {
        Arc::new(Self {
            users: keyed(settings.per_user),
            addresses: keyed(settings.per_address),
            clock: DefaultClock::default(),
        })
    }

    /// No limits at all (tests of other things).
    pub fn unlimited() -> Arc<Self> {
        Self::new(RateSettings {
            per_user: 0,
            per_address: 0,
        })
    }

    /// Counts a request of `user`.
    ///
    /// # Errors
    /// 429 when the user is over their rate.
    pub fn check_user(&self, user: &UserId) -> Result<(), ApiError> {
        let Some(users) = &self.users else {
            return Ok(());
        };
        users.check_key(user).map_err(|not_until| {
            ApiError::too_many_requests(
                "from this user",
                not_until.wait_time_from(self.clock.now()),
            )
        })
    }

    /// Counts a request from `address`.
    ///
    /// # Errors
    /// 429 when the address is over its rate.
    pub fn check_address(&self, address: IpAddr) -> Result<(), ApiError> {
        let Some(addresses) = &self.addresses else {
            return Ok(());
        };
        addresses.check_key(&address).map_err(|not_until| {
            ApiError::too_many_requests(
                "from this address",
                not_until.wait_time_from(self.clock.now()),
            )
        })
    }

    /// Forgets keys that are back to a fresh state, so the tables hold only the recently
    /// busy: run periodically.
    pub fn forget_idle(&self) {
        if let Some(users) = &self.users {
            users.retain_recent();
            users.shrink_to_fit();
        }
        if let Some(addresses) = &self.addresses {
            addresses.retain_recent();
            addresses.shrink_to_fit();
        }
    }
}

/// A table of `per_second` per key; `None` for 0 (no limit).
fn keyed<K: std::hash::Hash + Eq + Clone>(per_second: u32) -> Option<DefaultKeyedRateLimiter<K>> {
    NonZeroU32::new(per_second).map(|n| RateLimiter::keyed(Quota::per_second(n)))
}

/// The per-address limit, for every REST route of a listener. The address is the TCP peer
/// (the server loop records it on each request); behind a proxy that is the proxy, so the
/// limit then applies to the proxy as a whole and should be raised or turned off there.
pub async fn limit_by_address(
    State(state): State<RestState>,
    request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    if let Some(ip) = peer
        && !is_service_call(request.headers(), state.service_key.as_deref())
        && let Err(refused) = state.rate_limits.check_address(ip)
    {
        return refused.into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;

    #[test]
    fn a_user_over_the_rate_is_refused_with_a_retry_time_and_others_are_not() {
        let limits = RateLimits::new(RateSettings {
            per_user: 3,
            per_address: 0,
        });
        let ann = UserId::parse("ann").unwrap();
        let bob = UserId::parse("bob").unwrap();
        for _ in 0..3 {
            limits.check_user(&ann).unwrap();
        }
        let refused = limits.check_user(&ann).unwrap_err();
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(refused.retry_after_secs, Some(1));
        assert!(limits.check_user(&bob).is_ok());
        // No address limit configured: every address passes.
        for _ in 0..100 {
            limits.check_address([10, 0, 0, 1].into()).unwrap();
        }
    }

    #[test]
    fn addresses_are_limited_apart() {
        let limits = RateLimits::new(RateSettings {
            per_user: 0,
            per_address: 2,
        });
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        limits.check_address(a).unwrap();
        limits.check_address(a).unwrap();
        assert!(limits.check_address(a).is_err());
        assert!(limits.check_address(b).is_ok());
        limits.forget_idle();
    }
}
