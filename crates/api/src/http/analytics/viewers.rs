//! Who a viewer is, without knowing who they are, and how often an address may send beacons.
//!
//! - [`ViewerSalt`]: a viewer is `SHA-256(salt ‖ day ‖ item ‖ address ‖ user agent)`, cut to
//!   128 bits. The salt is random, made in memory for each UTC day and never written anywhere,
//!   so once the day is over (or the process restarts) nobody — the operator included, with the
//!   database and the server's secrets in hand — can recompute a stored hash from a guessed
//!   address: the hashes count unique viewers of one item on one day and nothing else. The
//!   price: a restart during a day, or several replicas, count one viewer once per salt.
//!   IPv6 addresses count by their /64, as the login throttle does.
//! - [`BeaconLimiter`]: at most `BEACONS_PER_MINUTE` (120 by default: a player sends about 7 a
//!   minute — a heartbeat every 10 s and a few events — so some twenty viewers behind one NAT
//!   address) beacons per address per minute, in fixed windows, in this process (each replica
//!   counts on its own).

use chrono::NaiveDate;
use mediaserver_core::MediaId;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);
/// Past this many addresses, those of past windows are dropped before adding another.
const PRUNE_ABOVE: usize = 100_000;

/// The day's salt (see the module documentation).
#[derive(Debug, Default)]
pub(crate) struct ViewerSalt {
    current: Mutex<Option<(NaiveDate, [u8; 32])>>,
}

impl ViewerSalt {
    /// The viewer hash of `client` with `user_agent` watching `media` on `day`, and whether this
    /// call began a new day's salt (the first beacon of a day, or since start).
    pub(crate) fn viewer(
        &self,
        day: NaiveDate,
        media: &MediaId,
        client: IpAddr,
        user_agent: &[u8],
    ) -> (String, bool) {
        let (salt, fresh) = {
            // A poisoned lock only means another beacon panicked: the salt is still whole.
            let mut current = self
                .current
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match *current {
                Some((d, salt)) if d == day => (salt, false),
                _ => {
                    let mut salt = [0u8; 32];
                    rand::rngs::OsRng.fill_bytes(&mut salt);
                    *current = Some((day, salt));
                    (salt, true)
                }
            }
        };
        let mut h = Sha256::new();
        h.update(salt);
        h.update(day.to_string().as_bytes());
        h.update(media.as_str().as_bytes());
        match counted(client) {
            IpAddr::V4(v4) => h.update(v4.octets()),
            IpAddr::V6(v6) => h.update(v6.octets()),
        }
        // Length-prefixed so that no two (address, agent) pairs feed the same bytes.
        h.update((user_agent.len() as u64).to_be_bytes());
        h.update(user_agent);
        (hex::encode(&h.finalize()[..16]), fresh)
    }
}

/// An IPv6 address by its /64 (the block a subscriber holds and picks addresses from).
fn counted(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

/// Beacons per address per minute (see the module documentation).
#[derive(Debug)]
pub(crate) struct BeaconLimiter {
    per_window: u32,
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl BeaconLimiter {
    pub(crate) fn new(per_minute: u32) -> Self {
        BeaconLimiter {
            per_window: per_minute,
            windows: Mutex::default(),
        }
    }

    /// `Err` with the seconds to wait if `client` has used up this window.
    pub(crate) fn admit(&self, client: IpAddr) -> Result<(), u64> {
        self.admit_at(client, Instant::now())
    }

    fn admit_at(&self, client: IpAddr, now: Instant) -> Result<(), u64> {
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let key = counted(client);
        if windows.len() >= PRUNE_ABOVE && !windows.contains_key(&key) {
            windows.retain(|_, (since, _)| now.duration_since(*since) < WINDOW);
        }
        let (since, count) = windows.entry(key).or_insert((now, 0));
        if now.duration_since(*since) >= WINDOW {
            *since = now;
            *count = 0;
        }
        if *count >= self.per_window {
            let left = WINDOW.saturating_sub(now.duration_since(*since));
            return Err(left.as_secs().max(1));
        }
        *count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn one_viewer_per_address_and_agent_per_day_and_item() {
        let salt = ViewerSalt::default();
        let m = MediaId::new();
        let d = day("2026-05-01");
        let (a, fresh) = salt.viewer(d, &m, ip("192.0.2.1"), b"Firefox");
        assert!(fresh, "the first beacon of a day makes its salt");
        let (again, fresh) = salt.viewer(d, &m, ip("192.0.2.1"), b"Firefox");
        assert_eq!((a.as_str(), fresh), (again.as_str(), false));
        assert_eq!(a.len(), 32);
        assert_ne!(a, salt.viewer(d, &m, ip("192.0.2.2"), b"Firefox").0);
        assert_ne!(a, salt.viewer(d, &m, ip("192.0.2.1"), b"Chromium").0);
        assert_ne!(
            a,
            salt.viewer(d, &MediaId::new(), ip("192.0.2.1"), b"Firefox")
                .0
        );
        // One /64 is one address.
        assert_eq!(
            salt.viewer(d, &m, ip("2001:db8::1"), b"x").0,
            salt.viewer(d, &m, ip("2001:db8::ffff:2"), b"x").0
        );
        // The next day has a new salt: yesterday's hashes are not made again.
        let (next, fresh) = salt.viewer(day("2026-05-02"), &m, ip("192.0.2.1"), b"Firefox");
        assert!(fresh);
        assert_ne!(a, next);
        // Nor is the hash text anything of the address.
        assert!(!a.contains("192"));
    }

    #[test]
    fn an_address_gets_its_budget_per_window() {
        let l = BeaconLimiter::new(3);
        let t = Instant::now();
        for _ in 0..3 {
            assert!(l.admit_at(ip("198.51.100.7"), t).is_ok());
        }
        let wait = l.admit_at(ip("198.51.100.7"), t).unwrap_err();
        assert!((1..=60).contains(&wait));
        assert!(l.admit_at(ip("198.51.100.8"), t).is_ok(), "others go on");
        assert!(l.admit_at(ip("198.51.100.7"), t + WINDOW).is_ok());
    }
}
