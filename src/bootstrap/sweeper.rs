//! The background sweep that ends what time ends: typing states without a stop, calls
//! ringing past the ring timeout, and rate-limit entries of clients gone quiet.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::adapters::inbound::transports::http::RateLimits;
use crate::app::UseCases;

/// Runs the sweep every `every` until `shutdown` changes (the composition root flips it).
pub fn spawn_sweeper(
    use_cases: UseCases,
    rate_limits: Arc<RateLimits>,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.changed() => return,
            }
            if let Err(e) = use_cases.expire_typing().await {
                tracing::warn!(error = %e, "typing sweep failed");
            }
            if let Err(e) = use_cases.expire_ringing_calls().await {
                tracing::warn!(error = %e, "ring timeout sweep failed");
            }
            rate_limits.forget_idle();
        }
    })
}
