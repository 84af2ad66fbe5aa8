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
    /// Sends per request, the first included (default: no limit, the time
    /// budget `max_total` decides; 1 disables retries).
    pub max_attempts: u32,
    /// Delay before the first retry; doubled each time (default 200 ms).
    pub base_delay: Duration,
    /// Cap on one backoff delay (default 5 s). A longer `Retry-After` wins.
    pub max_delay: Duration,
    /// Cap on the time one request may take, retries and waits included
    /// (default 60 s, `--retry-budget`): no retry starts that would end after
    /// it. A Zadig restart (about 10 s of 503, 429 and dropped connections)
    /// fits in it, so it costs time, not the run.
    pub max_total: Duration,
}

/// Tries of a request whose connection is refused while nothing in this run
/// has answered yet: a wrong host or port, not an outage, so it fails fast.
pub const REFUSED_TRIES: u32 = 2;

/// How long an outage lasts before it is reported (once): a blip that one
/// retry heals is not worth a line.
pub const OUTAGE_WARN_AFTER: Duration = Duration::from_secs(2);

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: u32::MAX,
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

    /// The default policy with another time budget; zero disables retries.
    pub fn with_budget(budget: Duration) -> Self {
        if budget.is_zero() {
            return RetryPolicy::none();
        }
        RetryPolicy {
            max_total: budget,
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

/// Why a retryable attempt failed, as an outage report names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Symptom {
    /// An HTTP status (429, 502, 503, 504).
    Status(u16),
    /// The connection broke or was closed without an answer.
    Dropped,
    /// No answer within the per-request timeout.
    Timeout,
    /// The connection was refused (after Zadig had answered in this run).
    Refused,
}

/// The run-wide view of an outage: every request that fails retryably
/// reports here, so that one outage gives one warning, not one per request.
#[derive(Debug, Default)]
pub struct Outage {
    state: Mutex<OutageState>,
}

#[derive(Debug, Default)]
struct OutageState {
    since: Option<Instant>,
    symptoms: Vec<Symptom>,
    warned: bool,
}

impl Outage {
    /// A retryable failure at `now`. Returns the warning to print when this
    /// outage has lasted [`OUTAGE_WARN_AFTER`] and was not reported yet.
    pub fn failed(&self, symptom: Symptom, now: Instant, budget: Duration) -> Option<String> {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let since = *s.since.get_or_insert(now);
        if !s.symptoms.contains(&symptom) {
            s.symptoms.push(symptom);
            s.symptoms.sort();
        }
        let lasted = now.saturating_duration_since(since);
        if s.warned || lasted < OUTAGE_WARN_AFTER {
            return None;
        }
        s.warned = true;
        Some(outage_message(&s.symptoms, lasted, budget))
    }

    /// An answer came: the outage, if any, is over. Returns how long it
    /// lasted when it had been reported.
    pub fn answered(&self, now: Instant) -> Option<Duration> {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let since = s.since?;
        let warned = s.warned;
        *s = OutageState::default();
        warned.then(|| now.saturating_duration_since(since))
    }
}

/// "Zadig answered 503 and 429, and dropped connections, for 12 s; retrying
/// (each request for up to 60 s)".
pub fn outage_message(symptoms: &[Symptom], lasted: Duration, budget: Duration) -> String {
    let statuses: Vec<String> = symptoms
        .iter()
        .filter_map(|s| match s {
            Symptom::Status(c) => Some(c.to_string()),
            _ => None,
        })
        .collect();
    let mut parts = Vec::new();
    if !statuses.is_empty() {
        parts.push(format!("answered {}", statuses.join(" and ")));
    }
    for s in symptoms {
        match s {
            Symptom::Dropped => parts.push("dropped connections".to_owned()),
            Symptom::Timeout => parts.push("did not answer in time".to_owned()),
            Symptom::Refused => parts.push("refused connections".to_owned()),
            Symptom::Status(_) => {}
        }
    }
    let what = match parts.len() {
        0 => "failed".to_owned(),
        1 => parts.remove(0),
        _ => {
            let last = parts.pop().unwrap_or_default();
            format!("{}, and {last},", parts.join(", "))
        }
    };
    format!(
        "Zadig {what} for {} s; retrying (each request for up to {} s, --retry-budget)",
        lasted.as_secs(),
        budget.as_secs()
    )
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

    #[test]
    fn one_warning_per_outage_after_it_lasted() {
        let o = Outage::default();
        let t0 = Instant::now();
        let budget = Duration::from_secs(60);
        assert_eq!(o.failed(Symptom::Status(503), t0, budget), None);
        assert_eq!(
            o.failed(Symptom::Dropped, t0 + Duration::from_millis(500), budget),
            None
        );
        let w = o
            .failed(Symptom::Status(429), t0 + Duration::from_secs(3), budget)
            .expect("warned once it lasted");
        assert_eq!(
            w,
            "Zadig answered 429 and 503, and dropped connections, for 3 s; retrying \
             (each request for up to 60 s, --retry-budget)"
        );
        assert_eq!(
            o.failed(Symptom::Status(503), t0 + Duration::from_secs(5), budget),
            None,
            "not twice"
        );
        assert_eq!(
            o.answered(t0 + Duration::from_secs(12)),
            Some(Duration::from_secs(12))
        );
        // A new outage is reported again; a blip that heals is not.
        let t1 = t0 + Duration::from_secs(20);
        assert_eq!(o.failed(Symptom::Status(503), t1, budget), None);
        assert_eq!(o.answered(t1 + Duration::from_secs(1)), None);
        assert_eq!(
            o.failed(Symptom::Status(503), t1 + Duration::from_secs(2), budget),
            None
        );
        assert_eq!(
            o.failed(Symptom::Status(503), t1 + Duration::from_secs(4), budget)
                .as_deref(),
            Some(
                "Zadig answered 503 for 2 s; retrying (each request for up to 60 s, --retry-budget)"
            )
        );
    }

    #[test]
    fn budget_zero_disables_retries() {
        assert_eq!(RetryPolicy::with_budget(Duration::ZERO).max_attempts, 1);
        let p = RetryPolicy::with_budget(Duration::from_secs(5));
        assert_eq!(p.max_total, Duration::from_secs(5));
        assert_eq!(p.max_attempts, u32::MAX);
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
