//! The run-wide concurrency bound, adaptive (issue 13): `--concurrency` is a
//! ceiling, not a fixed number.
//!
//! AIMD, as TCP congestion avoidance: every good answer adds `1 / limit` to the
//! limit (one more slot per window of answers), and a 429 or 503 halves it, at
//! most once per window: only an answer to a request sent since the last
//! decrease lowers it again, so the 16 requests that were in flight when the
//! server said "too many" count as one signal, not 16 halvings.
//!
//! The slots are a [`Semaphore`] whose permits follow the limit: added when it
//! rises, forgotten when it falls (the ones in use are forgotten as they come
//! back), so a waiting request never spins.

use std::sync::Mutex;

use tokio::sync::{AcquireError, Semaphore, SemaphorePermit};

/// The adaptive bound shared by every request of a run.
#[derive(Debug)]
pub struct Limiter {
    sem: Semaphore,
    ceiling: usize,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// The current limit, fractional between whole slots.
    limit: f64,
    /// Permits that exist (free or held); more than `floor(limit)` only while
    /// held ones are still to come back.
    existing: usize,
    /// Bumped by every decrease.
    epoch: u64,
    /// The lowest whole limit reached.
    low: usize,
    /// Decreases so far.
    decreases: u64,
}

/// A held slot; it goes back (or is retired, if the limit fell) on drop.
#[derive(Debug)]
pub struct Slot<'a> {
    limiter: &'a Limiter,
    permit: Option<SemaphorePermit<'a>>,
    epoch: u64,
}

/// What the limiter has done so far (benchmarks and tests print it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LimiterStats {
    /// The whole limit now.
    pub limit: usize,
    /// The lowest it went.
    pub low: usize,
    /// How many times it was halved.
    pub decreases: u64,
}

impl Limiter {
    /// A limiter starting at (and never above) `ceiling` (at least 1).
    pub fn new(ceiling: usize) -> Limiter {
        let ceiling = ceiling.max(1);
        Limiter {
            sem: Semaphore::new(ceiling),
            ceiling,
            state: Mutex::new(State {
                limit: ceiling as f64,
                existing: ceiling,
                epoch: 0,
                low: ceiling,
                decreases: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for a free slot.
    pub async fn acquire(&self) -> Result<Slot<'_>, AcquireError> {
        let permit = self.sem.acquire().await?;
        let epoch = self.lock().epoch;
        Ok(Slot {
            limiter: self,
            permit: Some(permit),
            epoch,
        })
    }

    /// A good answer: additive increase, up to the ceiling.
    pub fn good(&self) {
        let mut s = self.lock();
        if s.limit >= self.ceiling as f64 {
            return;
        }
        s.limit = (s.limit + 1.0 / s.limit).min(self.ceiling as f64);
        self.resize(&mut s);
    }

    /// A 429 or 503 to a request sent in `slot`'s window: multiplicative
    /// decrease, once per window. Returns whether the limit was lowered.
    pub fn overloaded(&self, slot: &Slot<'_>) -> bool {
        let mut s = self.lock();
        if slot.epoch != s.epoch || s.limit <= 1.0 {
            return false;
        }
        s.limit = (s.limit / 2.0).floor().max(1.0);
        s.epoch += 1;
        s.decreases += 1;
        self.resize(&mut s);
        s.low = s.low.min(whole(s.limit));
        true
    }

    /// Brings the permits towards `floor(limit)`.
    fn resize(&self, s: &mut State) {
        let target = whole(s.limit);
        if s.existing < target {
            self.sem.add_permits(target - s.existing);
            s.existing = target;
        } else if s.existing > target {
            s.existing -= self.sem.forget_permits(s.existing - target);
        }
    }

    /// The figures so far.
    pub fn stats(&self) -> LimiterStats {
        let s = self.lock();
        LimiterStats {
            limit: whole(s.limit),
            low: s.low,
            decreases: s.decreases,
        }
    }
}

fn whole(limit: f64) -> usize {
    // `limit` is in 1..=ceiling, so the cast is exact and in range.
    (limit.floor() as usize).max(1)
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let Some(permit) = self.permit.take() else {
            return;
        };
        let mut s = self.limiter.lock();
        if s.existing > whole(s.limit) {
            // The limit fell while this slot was held: retire it.
            permit.forget();
            s.existing -= 1;
        } else {
            drop(s);
            drop(permit);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn halves_once_per_window_then_grows_back_to_the_ceiling() {
        let l = Limiter::new(16);
        let slots: Vec<_> = futures_slots(&l, 16).await;
        assert_eq!(l.sem.available_permits(), 0);
        // Every request of the window is throttled: one halving, not 16.
        let lowered = slots.iter().filter(|s| l.overloaded(s)).count();
        assert_eq!(lowered, 1);
        assert_eq!(l.stats().limit, 8);
        drop(slots);
        // The 8 retired slots are gone; 8 are free.
        assert_eq!(l.sem.available_permits(), 8);

        // A request of the new window lowers it again.
        let s = l.acquire().await.expect("slot");
        assert!(l.overloaded(&s));
        drop(s);
        assert_eq!(l.stats().limit, 4);
        assert_eq!(l.sem.available_permits(), 4);

        // Additive increase: about one slot per window of good answers.
        for _ in 0..5 {
            l.good();
        }
        assert_eq!(l.stats().limit, 5);
        assert_eq!(l.sem.available_permits(), 5);
        for _ in 0..1000 {
            l.good();
        }
        let st = l.stats();
        assert_eq!(st.limit, 16, "capped at the ceiling");
        assert_eq!(st.low, 4);
        assert_eq!(st.decreases, 2);
        assert_eq!(l.sem.available_permits(), 16);
    }

    #[tokio::test]
    async fn never_below_one() {
        let l = Limiter::new(2);
        for _ in 0..5 {
            let s = l.acquire().await.expect("slot");
            l.overloaded(&s);
        }
        assert_eq!(l.stats().limit, 1);
        assert_eq!(l.sem.available_permits(), 1);
        let _held = l.acquire().await.expect("the last slot");
    }

    async fn futures_slots(l: &Limiter, n: usize) -> Vec<Slot<'_>> {
        let mut v = Vec::new();
        for _ in 0..n {
            v.push(l.acquire().await.expect("slot"));
        }
        v
    }
}
