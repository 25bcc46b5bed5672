//! The failed-login throttle.

use crate::error::ApiError;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Slows brute force: after `max_failures` failed logins from one address within `window`,
/// further attempts from it are refused (429) until the window has passed.
#[derive(Debug, Clone)]
pub(crate) struct LoginThrottle {
    inner: Arc<Mutex<HashMap<IpAddr, (u32, Instant)>>>,
    max_failures: u32,
    window: Duration,
}

impl LoginThrottle {
    pub(crate) fn new(max_failures: u32, window: Duration) -> Self {
        LoginThrottle {
            inner: Arc::default(),
            max_failures,
            window,
        }
    }

    /// `Err` with the seconds to wait if this address is currently locked out.
    pub(crate) fn check(&self, ip: IpAddr) -> Result<(), ApiError> {
        let Ok(mut map) = self.inner.lock() else {
            return Ok(());
        };
        if let Some((count, since)) = map.get(&ip).copied() {
            let elapsed = since.elapsed();
            if elapsed >= self.window {
                map.remove(&ip);
            } else if count >= self.max_failures {
                let retry_after_secs = (self.window - elapsed).as_secs().max(1);
                return Err(ApiError::TooManyRequests { retry_after_secs });
            }
        }
        Ok(())
    }

    pub(crate) fn record_failure(&self, ip: IpAddr) {
        let Ok(mut map) = self.inner.lock() else {
            return;
        };
        // Bound memory under a spray of addresses: forget expired entries first.
        if map.len() > 100_000 {
            let window = self.window;
            map.retain(|_, (_, since)| since.elapsed() < window);
        }
        let entry = map.entry(ip).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= self.window {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
    }

    pub(crate) fn record_success(&self, ip: IpAddr) {
        if let Ok(mut map) = self.inner.lock() {
            map.remove(&ip);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_locks_out_after_max_failures_and_success_resets() {
        let t = LoginThrottle::new(3, Duration::from_secs(60));
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..3 {
            assert!(t.check(ip).is_ok());
            t.record_failure(ip);
        }
        assert!(matches!(t.check(ip), Err(ApiError::TooManyRequests { .. })));
        assert!(t.check(other).is_ok());
        t.record_success(ip);
        assert!(t.check(ip).is_ok());
    }
}
