//! Fault injection: what a flaky gateway or a half-failing aslan does to a
//! client (errors, dropped connections, writes that commit and still fail).

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Response, StatusCode, header};

/// Faults injected into requests (never into [`super::EmulatorHandle`] calls).
/// Everything is off by default; rates are fractions in `0.0..=1.0`.
#[derive(Clone, Debug, PartialEq)]
pub struct Faults {
    /// Extra random latency, uniform in `0..=latency_jitter`, on every request.
    pub latency_jitter: Duration,
    /// Fraction of GETs answered with an error status from `error_statuses`.
    pub get_error_rate: f64,
    /// Fraction of writes (POST/PUT/DELETE) answered with an error status,
    /// without committing.
    pub write_error_rate: f64,
    /// Statuses to pick from (default: 503 when empty). 429 carries
    /// `Retry-After: <retry_after_secs>`.
    pub error_statuses: Vec<u16>,
    /// Fraction of GETs whose connection is closed without an answer.
    pub drop_connection_rate: f64,
    /// The next N requests fail with 503.
    pub fail_next: usize,
    /// The next N creates (POST `/openapi/build`) are committed, then
    /// answered with 500.
    pub commit_then_500_creates: usize,
    /// Fraction of writes that are committed, then answered with 500.
    pub commit_then_500_rate: f64,
    /// The `Retry-After` value of 429 answers, in seconds.
    pub retry_after_secs: u64,
    /// The next N updates (PUT `/openapi/build`) are answered with success
    /// but not stored: server-side loss that only a read-back can catch.
    pub lossy_updates: usize,
    /// An outage window (a Zadig restart): for this long from the first
    /// request after the faults are set, every request is answered 503, 429
    /// and dropped in turn, without being handled. Zero: none.
    pub outage: Duration,
    /// A gateway rate limit (issue 13): a token bucket refilled at this many
    /// requests per second, holding up to a tenth of a second's worth (at
    /// least 1); a request beyond it is answered 429, unhandled, with
    /// `Retry-After` = the wait for the next token in whole seconds, rounded
    /// to the nearest (a bucket that refills in milliseconds says 0). Zero: none.
    pub rate_limit: u32,
    /// Seed of the deterministic random generator.
    pub seed: u64,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            latency_jitter: Duration::ZERO,
            get_error_rate: 0.0,
            write_error_rate: 0.0,
            error_statuses: Vec::new(),
            drop_connection_rate: 0.0,
            fail_next: 0,
            commit_then_500_creates: 0,
            commit_then_500_rate: 0.0,
            retry_after_secs: 1,
            lossy_updates: 0,
            outage: Duration::ZERO,
            rate_limit: 0,
            seed: 0,
        }
    }
}

/// What happens to a request before it reaches aslan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreFault {
    /// Nothing: handle it.
    None,
    /// Answer with this status.
    Status(u16),
    /// Close the connection without answering.
    Drop,
    /// Rate-limited: 429 with this `Retry-After` (seconds).
    Throttle(u64),
}

/// The faults and their random generator.
#[derive(Debug)]
pub struct FaultState {
    /// Current settings (counters count down in place).
    pub faults: Faults,
    rng: fastrand::Rng,
    /// When the outage window began (at the first request).
    outage_started: Option<std::time::Instant>,
    /// Requests failed by the outage so far (picks the next symptom).
    outage_hits: usize,
    /// The rate limit's bucket: tokens, and when it was last refilled.
    bucket: Option<(f64, std::time::Instant)>,
}

fn is_read(method: &Method) -> bool {
    method == Method::GET || method == Method::HEAD
}

fn is_write(method: &Method) -> bool {
    method == Method::POST
        || method == Method::PUT
        || method == Method::DELETE
        || method == Method::PATCH
}

impl FaultState {
    /// New settings; the generator restarts from their seed.
    pub fn new(faults: Faults) -> Self {
        let rng = fastrand::Rng::with_seed(faults.seed);
        FaultState {
            faults,
            rng,
            outage_started: None,
            outage_hits: 0,
            bucket: None,
        }
    }

    /// Draws only for enabled rates, so that turning one fault on does not
    /// shift the sequence of another.
    fn roll(&mut self, rate: f64) -> bool {
        rate > 0.0 && self.rng.f64() < rate
    }

    /// The random part of the latency.
    pub fn jitter(&mut self) -> Duration {
        let max = self.faults.latency_jitter;
        if max.is_zero() {
            return Duration::ZERO;
        }
        let nanos = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(self.rng.u64(0..=nanos))
    }

    fn pick_status(&mut self) -> u16 {
        let statuses = &self.faults.error_statuses;
        if statuses.is_empty() {
            503
        } else {
            statuses[self.rng.usize(0..statuses.len())]
        }
    }

    /// Decides the fate of a request before it is handled.
    pub fn before(&mut self, method: &Method) -> PreFault {
        if !self.faults.outage.is_zero() {
            let started = *self
                .outage_started
                .get_or_insert_with(std::time::Instant::now);
            if started.elapsed() < self.faults.outage {
                self.outage_hits += 1;
                return match self.outage_hits % 3 {
                    1 => PreFault::Status(503),
                    2 => PreFault::Status(429),
                    _ => PreFault::Drop,
                };
            }
        }
        if let Some(retry_after) = self.over_rate() {
            return PreFault::Throttle(retry_after);
        }
        if self.faults.fail_next > 0 {
            self.faults.fail_next -= 1;
            return PreFault::Status(503);
        }
        if is_read(method) {
            if self.roll(self.faults.drop_connection_rate) {
                return PreFault::Drop;
            }
            if self.roll(self.faults.get_error_rate) {
                return PreFault::Status(self.pick_status());
            }
        } else if is_write(method) && self.roll(self.faults.write_error_rate) {
            return PreFault::Status(self.pick_status());
        }
        PreFault::None
    }

    /// Takes a token from the rate limit's bucket; `Some(Retry-After)` when
    /// there is none.
    fn over_rate(&mut self) -> Option<u64> {
        let rate = f64::from(self.faults.rate_limit);
        if rate <= 0.0 {
            return None;
        }
        let capacity = (rate / 10.0).max(1.0);
        let now = std::time::Instant::now();
        let (tokens, last) = self.bucket.get_or_insert((capacity, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * rate).min(capacity);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            return None;
        }
        let wait = (1.0 - *tokens) / rate;
        // `wait` is at most 1 / rate <= 1 s here.
        Some(u64::from(wait >= 0.5))
    }

    /// Whether this update is to be lost (answered with success, not stored).
    pub fn lose_update(&mut self) -> bool {
        if self.faults.lossy_updates > 0 {
            self.faults.lossy_updates -= 1;
            return true;
        }
        false
    }

    /// After a committed write: whether to answer 500 anyway.
    pub fn after_commit(&mut self, is_create: bool) -> bool {
        if is_create && self.faults.commit_then_500_creates > 0 {
            self.faults.commit_then_500_creates -= 1;
            return true;
        }
        self.roll(self.faults.commit_then_500_rate)
    }

    /// The answer to an injected error status, shaped like the component that
    /// would produce it (Envoy for 502/503/504/429, aslan for 500).
    pub fn response(&self, status: u16) -> Response<Body> {
        self.response_after(status, self.faults.retry_after_secs)
    }

    /// [`Self::response`] with this `Retry-After` on a 429.
    pub fn response_after(&self, status: u16, retry_after_secs: u64) -> Response<Body> {
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let (content_type, body) = match status {
            500 => (
                "application/json; charset=utf-8",
                r#"{"code":500,"description":"emulated fault","message":"Internal Error: "}"#
                    .to_owned(),
            ),
            502 => (
                "text/plain",
                "upstream connect error or disconnect/reset before headers. reset reason: connection failure".to_owned(),
            ),
            503 => ("text/plain", "no healthy upstream".to_owned()),
            504 => ("text/plain", "upstream request timeout".to_owned()),
            429 => ("text/plain", "rate limited".to_owned()),
            _ => ("text/plain", String::new()),
        };
        let mut builder = Response::builder()
            .status(code)
            .header(header::CONTENT_TYPE, content_type);
        if status == 429 {
            builder = builder.header(header::RETRY_AFTER, retry_after_secs.to_string());
        }
        builder.body(Body::from(body)).unwrap_or_else(|_| {
            let mut r = Response::new(Body::empty());
            *r.status_mut() = code;
            r
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_next_counts_down_then_stops() {
        let mut f = FaultState::new(Faults {
            fail_next: 2,
            ..Faults::default()
        });
        assert_eq!(f.before(&Method::GET), PreFault::Status(503));
        assert_eq!(f.before(&Method::POST), PreFault::Status(503));
        assert_eq!(f.before(&Method::GET), PreFault::None);
    }

    #[test]
    fn rates_are_deterministic_per_seed() {
        let faults = Faults {
            get_error_rate: 0.5,
            error_statuses: vec![502, 429],
            seed: 7,
            ..Faults::default()
        };
        let run = |faults: &Faults| {
            let mut f = FaultState::new(faults.clone());
            (0..50).map(|_| f.before(&Method::GET)).collect::<Vec<_>>()
        };
        let a = run(&faults);
        assert_eq!(a, run(&faults));
        let errors = a.iter().filter(|p| **p != PreFault::None).count();
        assert!((10..=40).contains(&errors), "{errors}");
        assert!(
            a.iter()
                .all(|p| matches!(p, PreFault::None | PreFault::Status(502 | 429)))
        );
        // GET faults never hit writes.
        let mut f = FaultState::new(faults);
        assert!((0..50).all(|_| f.before(&Method::PUT) == PreFault::None));
    }

    #[test]
    fn commit_then_500_applies_to_the_next_creates() {
        let mut f = FaultState::new(Faults {
            commit_then_500_creates: 1,
            ..Faults::default()
        });
        assert!(!f.after_commit(false));
        assert!(f.after_commit(true));
        assert!(!f.after_commit(true));
    }

    #[test]
    fn an_outage_fails_everything_for_its_window_then_ends() {
        let mut f = FaultState::new(Faults {
            outage: Duration::from_millis(150),
            ..Faults::default()
        });
        assert_eq!(f.before(&Method::GET), PreFault::Status(503));
        assert_eq!(f.before(&Method::PUT), PreFault::Status(429));
        assert_eq!(f.before(&Method::GET), PreFault::Drop);
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(f.before(&Method::GET), PreFault::None);
        assert_eq!(f.before(&Method::POST), PreFault::None);
    }

    #[test]
    fn a_rate_limit_answers_429_beyond_its_bucket_then_refills() {
        let mut f = FaultState::new(Faults {
            rate_limit: 100,
            ..Faults::default()
        });
        // A tenth of a second's worth: 10 pass at once, the 11th is throttled
        // with a wait (10 ms) that rounds to 0 s.
        for _ in 0..10 {
            assert_eq!(f.before(&Method::GET), PreFault::None);
        }
        assert_eq!(f.before(&Method::PUT), PreFault::Throttle(0));
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(f.before(&Method::GET), PreFault::None);
        // One a second: the wait rounds to 1 s.
        let mut slow = FaultState::new(Faults {
            rate_limit: 1,
            ..Faults::default()
        });
        assert_eq!(slow.before(&Method::GET), PreFault::None);
        assert_eq!(slow.before(&Method::GET), PreFault::Throttle(1));
        let r = slow.response_after(429, 1);
        assert_eq!(r.headers()[header::RETRY_AFTER], "1");
    }

    #[test]
    fn rate_limits_carry_retry_after() {
        let f = FaultState::new(Faults::default());
        let r = f.response(429);
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()[header::RETRY_AFTER], "1");
    }
}
