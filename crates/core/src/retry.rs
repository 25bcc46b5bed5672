//! The retry policy of processing jobs, in one place: how many attempts a job gets, how long a
//! failed attempt waits before the next one, that a permanent failure (input that can never
//! be processed) is not retried, and that an outage of the database or object storage is not
//! held against the media (for a bounded time). Configured by `JOB_MAX_ATTEMPTS`,
//! `JOB_RETRY_BACKOFF_SECONDS`, `JOB_RETRY_BACKOFF_MAX_SECONDS` and `JOB_OUTAGE_RETRY_HOURS`;
//! the queue records `max_attempts` on each job when it is queued.

use chrono::{DateTime, Utc};
use std::time::Duration;

/// Whether a failed attempt may succeed if tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The input can never be processed (not media, truncated, too large…): no retry.
    Permanent,
    /// A crashed or timed-out encoder, a bad output: may work next time; counts as an attempt.
    Transient,
    /// The database or object storage could not be reached: nothing was wrong with the media,
    /// so the attempt is not counted (see [`RetryPolicy::outage_retry_for`]).
    Outage,
}

/// What to do with a job whose attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Give up: the item fails.
    Never,
    /// Try again at this time; the failed attempt counts against `max_attempts`.
    Counted(DateTime<Utc>),
    /// Try again at this time without counting the attempt (an outage).
    NotCounted(DateTime<Utc>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts a job gets before its item is marked failed (at least 1).
    pub max_attempts: i32,
    /// Delay after the first failed attempt; doubles with each further one.
    pub backoff_base: Duration,
    /// Upper bound of that delay.
    pub backoff_cap: Duration,
    /// How long after a job was queued outages still go uncounted. Past it they count as
    /// ordinary attempts, so a job cannot circle the queue forever.
    pub outage_retry_for: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            backoff_base: Duration::from_secs(10),
            backoff_cap: Duration::from_secs(600),
            outage_retry_for: Duration::from_secs(24 * 3600),
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
            Failure::Transient | Failure::Outage => Some(now + self.backoff(attempts)),
        }
    }

    /// What to do after the `attempts`-th attempt of a job queued at `queued_at` failed with
    /// `failure`. An outage within [`RetryPolicy::outage_retry_for`] of `queued_at` is retried
    /// without counting the attempt, after a delay that grows with the job's age (a tenth of
    /// it, between the backoff base and cap) since there is no count of outages to double on.
    pub fn decide(
        &self,
        attempts: i32,
        failure: Failure,
        queued_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Retry {
        let age = (now - queued_at).to_std().unwrap_or_default();
        match failure {
            Failure::Permanent => Retry::Never,
            Failure::Outage if age < self.outage_retry_for => {
                let wait = (age / 10).clamp(self.backoff_base, self.backoff_cap);
                Retry::NotCounted(now + wait)
            }
            Failure::Transient | Failure::Outage => Retry::Counted(now + self.backoff(attempts)),
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

    #[test]
    fn outages_are_not_counted_until_the_job_is_old() {
        let p = RetryPolicy::default();
        let now = Utc::now();
        let queued = now - Duration::from_secs(60);
        assert_eq!(
            p.decide(1, Failure::Outage, queued, now),
            Retry::NotCounted(now + Duration::from_secs(10))
        );
        // The wait grows with the job's age, up to the cap.
        let queued = now - Duration::from_secs(3000);
        assert_eq!(
            p.decide(1, Failure::Outage, queued, now),
            Retry::NotCounted(now + Duration::from_secs(300))
        );
        let queued = now - Duration::from_secs(20 * 3600);
        assert_eq!(
            p.decide(2, Failure::Outage, queued, now),
            Retry::NotCounted(now + Duration::from_secs(600))
        );
        // Past the window an outage is an ordinary attempt.
        let old = now - Duration::from_secs(25 * 3600);
        assert_eq!(
            p.decide(2, Failure::Outage, old, now),
            Retry::Counted(now + Duration::from_secs(20))
        );
        assert_eq!(
            p.decide(1, Failure::Transient, now, now),
            Retry::Counted(now + Duration::from_secs(10))
        );
        assert_eq!(p.decide(1, Failure::Permanent, now, now), Retry::Never);
    }
}
