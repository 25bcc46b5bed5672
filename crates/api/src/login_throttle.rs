//! The failed-login throttle. It counts by client address (the one `http::forwarded` tells
//! apart behind trusted proxies), never by account alone, so that no one can lock another
//! person out from elsewhere:
//! - per account and client: `max_failures` within the window lock that account for that
//!   client only. Guessing one password is slow, and the account's owner, anywhere else
//!   (behind the same proxy included), still logs in.
//! - per client: [`CLIENT_BUDGET_FACTOR`] times as many failures over all accounts lock the
//!   client out of every account, so spraying one password over many accounts is slow too.
//!   Ten times, so that a household or office behind one NAT address is not caught by a few
//!   people mistyping.
//!
//! A success clears its own account-and-client count only: otherwise an attacker holding an
//! account of their own could log into it to reset their budget. IPv6 clients are counted by
//! their /64, the block a subscriber usually holds and picks addresses from at will. The counts
//! live in this process: each replica counts on its own.

use crate::error::ApiError;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How many more failures a client may have over all accounts than for one account.
pub(crate) const CLIENT_BUDGET_FACTOR: u32 = 10;

/// Past this many entries in a map, expired ones are dropped before adding another.
const PRUNE_ABOVE: usize = 100_000;

/// Slows brute force without letting it lock others out (see the module documentation).
#[derive(Debug, Clone)]
pub(crate) struct LoginThrottle {
    inner: Arc<Mutex<Counts>>,
    max_failures: u32,
    window: Duration,
}

#[derive(Debug, Default)]
struct Counts {
    /// By (client, SHA-256 of the normalised email): fixed-size keys, however long the email.
    accounts: HashMap<(IpAddr, [u8; 32]), Failures>,
    clients: HashMap<IpAddr, Failures>,
}

/// Failures since the first one of the current window.
#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    since: Instant,
}

impl LoginThrottle {
    pub(crate) fn new(max_failures: u32, window: Duration) -> Self {
        LoginThrottle {
            inner: Arc::default(),
            max_failures,
            window,
        }
    }

    fn client_budget(&self) -> u32 {
        self.max_failures.saturating_mul(CLIENT_BUDGET_FACTOR)
    }

    /// `Err` with the seconds to wait if `client` may not try to log in as `email` now.
    pub(crate) fn check(&self, client: IpAddr, email: &str) -> Result<(), ApiError> {
        let Ok(mut counts) = self.inner.lock() else {
            return Ok(());
        };
        let (client, account) = keys(client, email);
        let window = self.window;
        let wait = [
            locked_for(
                &mut counts.accounts,
                &(client, account),
                self.max_failures,
                window,
            ),
            locked_for(&mut counts.clients, &client, self.client_budget(), window),
        ]
        .into_iter()
        .flatten()
        .max();
        match wait {
            Some(wait) => Err(ApiError::TooManyRequests {
                retry_after_secs: wait.as_secs().max(1),
            }),
            None => Ok(()),
        }
    }

    pub(crate) fn record_failure(&self, client: IpAddr, email: &str) {
        let Ok(mut counts) = self.inner.lock() else {
            return;
        };
        let (client, account) = keys(client, email);
        count_failure(&mut counts.accounts, (client, account), self.window);
        count_failure(&mut counts.clients, client, self.window);
    }

    pub(crate) fn record_success(&self, client: IpAddr, email: &str) {
        if let Ok(mut counts) = self.inner.lock() {
            counts.accounts.remove(&keys(client, email));
        }
    }
}

/// The client as counted (an IPv6 address by its /64) and the account (its normalised email,
/// digested).
fn keys(client: IpAddr, email: &str) -> (IpAddr, [u8; 32]) {
    let client = match client.to_canonical() {
        IpAddr::V6(v6) => {
            let mut octets = v6.octets();
            octets[8..].fill(0);
            IpAddr::from(octets)
        }
        v4 => v4,
    };
    let account = Sha256::digest(email.trim().to_lowercase().as_bytes()).into();
    (client, account)
}

/// How long `key` stays locked out, if it is (forgetting its count once the window has passed).
fn locked_for<K: Hash + Eq>(
    map: &mut HashMap<K, Failures>,
    key: &K,
    max: u32,
    window: Duration,
) -> Option<Duration> {
    let failures = map.get(key).copied()?;
    let elapsed = failures.since.elapsed();
    if elapsed >= window {
        map.remove(key);
        None
    } else if failures.count >= max {
        Some(window - elapsed)
    } else {
        None
    }
}

fn count_failure<K: Hash + Eq>(map: &mut HashMap<K, Failures>, key: K, window: Duration) {
    // Bound memory under a spray of addresses or emails: forget expired entries first.
    if map.len() > PRUNE_ABOVE {
        map.retain(|_, f| f.since.elapsed() < window);
    }
    let fresh = || Failures {
        count: 0,
        since: Instant::now(),
    };
    let failures = map.entry(key).or_insert_with(fresh);
    if failures.since.elapsed() >= window {
        *failures = fresh();
    }
    failures.count += 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn locked(t: &LoginThrottle, client: &str, email: &str) -> bool {
        matches!(
            t.check(ip(client), email),
            Err(ApiError::TooManyRequests { .. })
        )
    }

    #[test]
    fn an_account_locks_for_one_client_only_and_success_resets_it() {
        let t = LoginThrottle::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            assert!(!locked(&t, "10.0.0.1", "me@example.com"));
            t.record_failure(ip("10.0.0.1"), "me@example.com");
        }
        assert!(locked(&t, "10.0.0.1", "me@example.com"));
        // The same account's email however written.
        assert!(locked(&t, "10.0.0.1", " Me@Example.COM"));
        // The owner elsewhere, and the same client's other accounts, are not locked.
        assert!(!locked(&t, "10.0.0.2", "me@example.com"));
        assert!(!locked(&t, "10.0.0.1", "other@example.com"));
        t.record_success(ip("10.0.0.1"), "me@example.com");
        assert!(!locked(&t, "10.0.0.1", "me@example.com"));
    }

    #[test]
    fn a_client_spraying_many_accounts_runs_out_of_budget() {
        let t = LoginThrottle::new(2, Duration::from_secs(60));
        let budget = 2 * CLIENT_BUDGET_FACTOR;
        for i in 0..budget {
            let email = format!("user{i}@example.com");
            assert!(!locked(&t, "10.0.0.1", &email), "{i}");
            t.record_failure(ip("10.0.0.1"), &email);
            // Logging into an account of one's own does not give the budget back.
            t.record_success(ip("10.0.0.1"), "mine@example.com");
        }
        assert!(locked(&t, "10.0.0.1", "fresh@example.com"));
        assert!(!locked(&t, "10.0.0.2", "fresh@example.com"));
    }

    #[test]
    fn ipv6_clients_count_by_their_64() {
        let t = LoginThrottle::new(2, Duration::from_secs(60));
        t.record_failure(ip("2001:db8:0:1::1"), "me@example.com");
        t.record_failure(ip("2001:db8:0:1:ffff::2"), "me@example.com");
        assert!(locked(&t, "2001:db8:0:1::3", "me@example.com"));
        assert!(!locked(&t, "2001:db8:0:2::1", "me@example.com"));
        // An IPv4 client of a dual-stack listener is that IPv4 client.
        t.record_failure(ip("::ffff:192.0.2.1"), "me@example.com");
        t.record_failure(ip("192.0.2.1"), "me@example.com");
        assert!(locked(&t, "192.0.2.1", "me@example.com"));
    }

    #[test]
    fn locks_end_with_the_window() {
        let t = LoginThrottle::new(1, Duration::from_millis(50));
        t.record_failure(ip("10.0.0.1"), "me@example.com");
        let Err(ApiError::TooManyRequests { retry_after_secs }) =
            t.check(ip("10.0.0.1"), "me@example.com")
        else {
            panic!("not locked")
        };
        assert_eq!(retry_after_secs, 1);
        std::thread::sleep(Duration::from_millis(60));
        assert!(!locked(&t, "10.0.0.1", "me@example.com"));
    }
}
