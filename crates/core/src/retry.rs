//! The retry policy of processing jobs, in one place: how many attempts a job gets, how long a
//! failed attempt waits before the next one, and that a permanent failure (input that can never
//! be processed) is not retried. Configured by `JOB_MAX_ATTEMPTS`, `JOB_RETRY_BACKOFF_SECONDS` and
//! `JOB_RETRY_BACKOFF_MAX_SECONDS`; the queue records `max_attempts` on each job when it is queued.

use chrono::{DateTime, Utc};
use std::time::Duration;

/// Whether a failed attempt may succeed if tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The input can never be processed (not media, truncated, too large…): no retry.
    Permanent,
    /// Storage, database, a crashed or timed-out encoder: may work next time.
    Transient,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts a job gets before its item is marked failed (at least 1).
    pub max_attempts: i32,
    /// Delay after the first failed attempt; doubles with each further one.
    pub backoff_base: Duration,
    /// Upper bound of that delay.
    pub backoff_cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            backoff_base: Duration::from_secs(10),
            backoff_cap: Duration::from_secs(600),
        }
    }
}

impl RetryPolicy {
    /// How long to wait after the `attempts`-th attempt failed (1-based): base, 2×base, 4×base…
    /// up to the cap.
    pub fn backoff(&self, attempts: i32) -> Duration {
        let doublings = attempts.clamp(1, 16) as u32 - 1;
        self.backoff_base
            .saturating_mul(1 << doublings)
            .min(self.backoff_cap)
    }

    /// When a job whose `attempts`-th attempt failed runs again; `None` for a permanent failure.
    /// (The queue also fails the job for good once `max_attempts` is reached.)
    pub fn retry_at(
        &self,
        attempts: i32,
        failure: Failure,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        match failure {
            Failure::Permanent => None,
            Failure::Transient => Some(now + self.backoff(attempts)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(1), Duration::from_secs(10));
        assert_eq!(p.backoff(2), Duration::from_secs(20));
        assert_eq!(p.backoff(3), Duration::from_secs(40));
        assert_eq!(p.backoff(7), Duration::from_secs(600));
        assert_eq!(p.backoff(1000), Duration::from_secs(600));
        // A job that never ran (attempts 0) waits the base, not less.
        assert_eq!(p.backoff(0), Duration::from_secs(10));
    }

    #[test]
    fn permanent_failures_are_not_retried() {
        let p = RetryPolicy::default();
        let now = Utc::now();
        assert_eq!(p.retry_at(1, Failure::Permanent, now), None);
        assert_eq!(
            p.retry_at(1, Failure::Transient, now),
            Some(now + Duration::from_secs(10))
        );
    }
}
