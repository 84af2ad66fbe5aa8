//! Retry policy, backoff and the run-wide "not before" gate.
//!
//! Hand-rolled rather than `backon`: the loop has to release its concurrency
//! permit while it sleeps, share a slow-down across every request after a 429,
//! and treat creates differently (read back instead of re-sending). Those fit
//! in a few lines here and would be awkward around a generic retry combinator.

use std::sync::Mutex;
use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use tokio::time::Instant;

/// How hard to retry idempotent requests (GET, PUT, DELETE).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Sends per request, the first included (default 5; 1 disables retries).
    pub max_attempts: u32,
    /// Delay before the first retry; doubled each time (default 200 ms).
    pub base_delay: Duration,
    /// Cap on one backoff delay (default 5 s). A longer `Retry-After` wins.
    pub max_delay: Duration,
    /// Cap on the time one request may take, retries and waits included
    /// (default 60 s): no retry starts that would end after it.
    pub max_total: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            max_total: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// The backoff before retry number `retry` (1 for the first retry):
    /// exponential, capped, with "equal jitter" (half fixed, half random) so
    /// that parallel requests that failed together do not retry together.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = retry.saturating_sub(1).min(20);
        let full = self
            .base_delay
            .saturating_mul(1u32 << exp)
            .min(self.max_delay);
        let half = full / 2;
        let jitter_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
        half + Duration::from_millis(fastrand::u64(0..=jitter_ms))
    }
}

/// `Retry-After` in seconds (the HTTP-date form is ignored: the backoff applies).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    v.parse::<u64>().ok().map(Duration::from_secs)
}

/// A run-wide "do not send before" instant, moved forward by a 429 so that the
/// whole run slows down, not only the request that was throttled.
#[derive(Debug, Default)]
pub struct Pacer {
    not_before: Mutex<Option<Instant>>,
}

impl Pacer {
    /// The instant before which no request should start, if it is in the future.
    pub fn wait_until(&self) -> Option<Instant> {
        let guard = self.not_before.lock().unwrap_or_else(|e| e.into_inner());
        guard.filter(|t| *t > Instant::now())
    }

    /// Pushes the gate to `now + delay` (never pulls it back).
    pub fn push(&self, delay: Duration) {
        let until = Instant::now() + delay;
        let mut guard = self.not_before.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none_or(|t| t < until) {
            *guard = Some(until);
        }
    }

    /// Sleeps until the gate is open.
    pub async fn wait(&self) {
        while let Some(t) = self.wait_until() {
            tokio::time::sleep_until(t).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            max_total: Duration::from_secs(60),
        };
        for _ in 0..50 {
            let d1 = p.backoff(1);
            assert!(d1 >= Duration::from_millis(50) && d1 <= Duration::from_millis(100));
            let d3 = p.backoff(3);
            assert!(d3 >= Duration::from_millis(200) && d3 <= Duration::from_millis(400));
            let d30 = p.backoff(30);
            assert!(d30 >= Duration::from_millis(500) && d30 <= Duration::from_millis(1000));
        }
    }

    #[test]
    fn retry_after_seconds_only() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(RETRY_AFTER, "3".parse().expect("header"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().expect("header"),
        );
        assert_eq!(retry_after(&h), None);
    }

    #[tokio::test]
    async fn pacer_only_moves_forward() {
        let p = Pacer::default();
        assert!(p.wait_until().is_none());
        p.push(Duration::from_millis(200));
        let t1 = p.wait_until().expect("set");
        p.push(Duration::from_millis(10));
        assert_eq!(p.wait_until(), Some(t1));
    }
}
