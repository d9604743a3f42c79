//! A token bucket per channel: `burst` messages at once, refilled at `rate_per_minute`. A
//! message over the rate is not dropped: it fails with a retryable "rate limited" error, so the
//! engine tries it again after its back-off, when the bucket has refilled.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One channel's bucket.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    capacity: f64,
    per_second: f64,
    state: Mutex<Bucket>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    refilled: Instant,
}

impl RateLimiter {
    /// A full bucket of `burst` tokens refilled at `per_minute`; both at least 1.
    pub fn new(per_minute: u32, burst: u32) -> RateLimiter {
        let capacity = f64::from(burst.max(1));
        RateLimiter {
            capacity,
            per_second: f64::from(per_minute.max(1)) / 60.0,
            state: Mutex::new(Bucket {
                tokens: capacity,
                refilled: Instant::now(),
            }),
        }
    }

    /// Takes a token, or says how long until one is there.
    pub fn try_take(&self) -> Result<(), Duration> {
        self.try_take_at(Instant::now())
    }

    fn try_take_at(&self, now: Instant) -> Result<(), Duration> {
        let mut bucket = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let elapsed = now.saturating_duration_since(bucket.refilled).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.per_second).min(self.capacity);
        bucket.refilled = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        let missing = 1.0 - bucket.tokens;
        Err(Duration::from_secs_f64(missing / self.per_second))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_tokens_come_back_at_the_rate() {
        let limiter = RateLimiter::new(60, 3);
        let start = Instant::now();
        for _ in 0..3 {
            assert!(limiter.try_take_at(start).is_ok());
        }
        let wait = limiter.try_take_at(start).unwrap_err();
        assert!(
            wait > Duration::from_millis(900) && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        // One second later, one token (60 a minute); not two.
        let later = start + Duration::from_secs(1);
        assert!(limiter.try_take_at(later).is_ok());
        assert!(limiter.try_take_at(later).is_err());
        // A long pause refills up to the burst, no further.
        let much_later = later + Duration::from_secs(3600);
        for _ in 0..3 {
            assert!(limiter.try_take_at(much_later).is_ok());
        }
        assert!(limiter.try_take_at(much_later).is_err());
    }
}
