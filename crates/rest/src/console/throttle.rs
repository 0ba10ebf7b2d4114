//! Throttling the console's sign-in per client address, so a token cannot be guessed at speed.
//!
//! Each address may fail [`FAILURES_ALLOWED`] sign-ins within [`WINDOW_SECONDS`]; then every
//! sign-in from it, right token or wrong, is refused with 429 until its window ends (answering
//! a right token would tell a guesser when it has found one). Other addresses are unaffected.
//! The address is the TCP peer's unless the peer is a trusted reverse proxy (see
//! [`super::client_address`]): by default `X-Forwarded-For` is not believed, so behind a proxy
//! the proxy's address is the one throttled. IPv6 addresses count per /64, the block one client
//! usually holds. At most [`TRACKED_ADDRESSES`] addresses are remembered: expired windows are
//! pruned first, then the oldest, so memory stays bounded whatever the number of clients.
//! Time comes from the caller (the console's clock), so tests need not wait a minute.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;

use chrono::{DateTime, TimeDelta, Utc};

/// Failed sign-ins an address may make within a window.
pub const FAILURES_ALLOWED: u32 = 10;

/// How long a window lasts, from an address's first failure.
pub const WINDOW_SECONDS: i64 = 60;

/// The most addresses remembered at once.
pub const TRACKED_ADDRESSES: usize = 10_000;

/// The failed sign-ins of each recent client address.
#[derive(Debug)]
pub struct SignInThrottle {
    allowed: u32,
    window: TimeDelta,
    capacity: usize,
    windows: Mutex<HashMap<IpAddr, Window>>,
}

/// One address's failures since `started`.
#[derive(Debug, Clone, Copy)]
struct Window {
    started: DateTime<Utc>,
    failures: u32,
}

/// An address that must wait before it may sign in again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    /// Whole seconds until its window ends (at least 1), for `Retry-After`.
    pub retry_after: u64,
}

impl Default for SignInThrottle {
    fn default() -> Self {
        Self::new(
            FAILURES_ALLOWED,
            TimeDelta::seconds(WINDOW_SECONDS),
            TRACKED_ADDRESSES,
        )
    }
}

impl SignInThrottle {
    /// A throttle allowing `allowed` failures per `window`, remembering `capacity` addresses.
    pub fn new(allowed: u32, window: TimeDelta, capacity: usize) -> Self {
        Self {
            allowed,
            window,
            capacity: capacity.max(1),
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `client` may try to sign in at `now`; asked before the token is looked at.
    pub fn check(&self, client: IpAddr, now: DateTime<Utc>) -> Result<(), Throttled> {
        let windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        match windows.get(&key(client)) {
            Some(w) if w.failures >= self.allowed && now < w.started + self.window => {
                let left = (w.started + self.window - now).num_milliseconds();
                let retry_after = u64::try_from(left).unwrap_or(0).div_ceil(1_000).max(1);
                Err(Throttled { retry_after })
            }
            _ => Ok(()),
        }
    }

    /// Counts a failed sign-in of `client` at `now`; `true` when it used the last one allowed
    /// (the moment to log that the address is throttled, once).
    pub fn failed(&self, client: IpAddr, now: DateTime<Utc>) -> bool {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let client = key(client);
        if !windows.contains_key(&client) && windows.len() >= self.capacity {
            self.make_room(&mut windows, now);
        }
        let window = windows.entry(client).or_insert(Window {
            started: now,
            failures: 0,
        });
        if now >= window.started + self.window {
            *window = Window {
                started: now,
                failures: 0,
            };
        }
        window.failures = window.failures.saturating_add(1);
        window.failures == self.allowed
    }

    /// How many addresses are remembered.
    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.windows.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Drops the expired windows, then, if none had expired, the oldest one.
    fn make_room(&self, windows: &mut HashMap<IpAddr, Window>, now: DateTime<Utc>) {
        windows.retain(|_, w| now < w.started + self.window);
        if windows.len() >= self.capacity
            && let Some(oldest) = windows
                .iter()
                .min_by_key(|(_, w)| w.started)
                .map(|(a, _)| *a)
        {
            windows.remove(&oldest);
        }
    }
}

/// The address a client is counted under: IPv4 as is (also when mapped into IPv6), IPv6 by /64.
fn key(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V4(_) => client,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let [a, b, c, d, ..] = v6.segments();
                IpAddr::V6(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_764_547_200 + seconds, 0).unwrap()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn ten_failures_in_a_minute_throttle_that_address_until_its_window_ends() {
        let throttle = SignInThrottle::default();
        let client = ip("203.0.113.7");
        for n in 1..=FAILURES_ALLOWED {
            assert_eq!(
                throttle.check(client, at(i64::from(n))),
                Ok(()),
                "failure {n}"
            );
            let last = throttle.failed(client, at(i64::from(n)));
            assert_eq!(last, n == FAILURES_ALLOWED, "failure {n}");
        }
        // The window started at second 1, so it ends at second 61.
        assert_eq!(
            throttle.check(client, at(11)),
            Err(Throttled { retry_after: 50 })
        );
        assert_eq!(
            throttle.check(client, at(60)),
            Err(Throttled { retry_after: 1 })
        );
        assert_eq!(
            throttle.check(ip("203.0.113.8"), at(11)),
            Ok(()),
            "another address"
        );
        assert_eq!(throttle.check(client, at(61)), Ok(()));
        assert!(!throttle.failed(client, at(61)), "a new window starts");
        assert_eq!(throttle.check(client, at(62)), Ok(()));
    }

    #[test]
    fn failures_spread_over_more_than_a_minute_never_throttle() {
        let throttle = SignInThrottle::default();
        let client = ip("203.0.113.7");
        for n in 0..30 {
            throttle.failed(client, at(n * 7));
            assert_eq!(throttle.check(client, at(n * 7)), Ok(()), "at {}s", n * 7);
        }
    }

    /// A sign-in with one token (say, the read token) must not reset the count of guesses at
    /// another: failures count until their window ends, whatever succeeds in between.
    #[test]
    fn a_successful_sign_in_never_forgets_the_failures() {
        let throttle = SignInThrottle::default();
        let client = ip("203.0.113.7");
        for _ in 1..FAILURES_ALLOWED {
            throttle.failed(client, at(0));
        }
        // (a successful sign-in here records nothing)
        assert!(
            throttle.failed(client, at(1)),
            "the tenth failure throttles"
        );
        assert!(throttle.check(client, at(1)).is_err());
    }

    #[test]
    fn ipv6_counts_per_64_block_and_mapped_ipv4_as_ipv4() {
        let throttle = SignInThrottle::new(2, TimeDelta::seconds(60), 100);
        throttle.failed(ip("2001:db8:1:2::1"), at(0));
        throttle.failed(ip("2001:db8:1:2:ffff::9"), at(0));
        assert!(throttle.check(ip("2001:db8:1:2::77"), at(1)).is_err());
        assert_eq!(throttle.check(ip("2001:db8:1:3::1"), at(1)), Ok(()));
        throttle.failed(ip("::ffff:198.51.100.1"), at(0));
        throttle.failed(ip("198.51.100.1"), at(0));
        assert!(throttle.check(ip("198.51.100.1"), at(1)).is_err());
    }

    #[test]
    fn memory_is_bounded_expired_windows_first_then_the_oldest() {
        let throttle = SignInThrottle::new(2, TimeDelta::seconds(60), 3);
        for (n, client) in ["10.0.0.1", "10.0.0.2", "10.0.0.3"].into_iter().enumerate() {
            throttle.failed(ip(client), at(n as i64));
            throttle.failed(ip(client), at(n as i64));
        }
        assert_eq!(throttle.tracked(), 3);
        throttle.failed(ip("10.0.0.4"), at(10));
        assert_eq!(throttle.tracked(), 3, "the oldest went");
        assert_eq!(
            throttle.check(ip("10.0.0.1"), at(10)),
            Ok(()),
            "it was the oldest"
        );
        assert!(throttle.check(ip("10.0.0.2"), at(10)).is_err());
        for n in 0..1_000 {
            throttle.failed(ip(&format!("10.1.{}.{}", n / 256, n % 256)), at(100 + n));
        }
        assert_eq!(throttle.tracked(), 3);
    }
}
