//! Password guessing, slowed down: failed logins are counted per account and per client
//! address in a fixed window; past the limit, logins for that account or from that address
//! are refused with 429 until the window ends, whatever the password.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Beyond this many tracked keys, expired ones are swept before a new one is added, so that
/// a flood of made-up usernames cannot grow the map without end.
const SWEEP_ABOVE: usize = 10_000;

/// Failed-login counters. Shared by all requests (one per server).
#[derive(Debug)]
pub struct LoginLimits {
    /// Failures allowed per window, per account and per address.
    pub max_failures: u32,
    pub window: Duration,
    accounts: Mutex<HashMap<String, Window>>,
    addresses: Mutex<HashMap<IpAddr, Window>>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

impl Default for LoginLimits {
    /// Five failures a minute.
    fn default() -> LoginLimits {
        LoginLimits::new(5, Duration::from_secs(60))
    }
}

/// Which limit was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    Account,
    Address,
}

impl LoginLimits {
    pub fn new(max_failures: u32, window: Duration) -> LoginLimits {
        LoginLimits {
            max_failures: max_failures.max(1),
            window,
            accounts: Mutex::new(HashMap::new()),
            addresses: Mutex::new(HashMap::new()),
        }
    }

    /// Whether a login may be tried now; when not, which limit and how long until it may.
    pub fn check(&self, account: &str, address: Option<IpAddr>) -> Result<(), (Limited, Duration)> {
        let now = Instant::now();
        if let Some(wait) = self.blocked(&self.accounts, &account.to_ascii_lowercase(), now) {
            return Err((Limited::Account, wait));
        }
        if let Some(address) = address
            && let Some(wait) = self.blocked(&self.addresses, &address, now)
        {
            return Err((Limited::Address, wait));
        }
        Ok(())
    }

    /// Counts a failed login against the account and the address.
    pub fn failed(&self, account: &str, address: Option<IpAddr>) {
        let now = Instant::now();
        self.count(&self.accounts, account.to_ascii_lowercase(), now);
        if let Some(address) = address {
            self.count(&self.addresses, address, now);
        }
    }

    /// Forgets the account's failures after a successful login (the address's stay: one
    /// good password must not reset a guesser's budget for other accounts).
    pub fn succeeded(&self, account: &str) {
        if let Ok(mut accounts) = self.accounts.lock() {
            accounts.remove(&account.to_ascii_lowercase());
        }
    }

    fn blocked<K: std::hash::Hash + Eq>(
        &self,
        map: &Mutex<HashMap<K, Window>>,
        key: &K,
        now: Instant,
    ) -> Option<Duration> {
        let map = map.lock().ok()?;
        let window = map.get(key)?;
        let elapsed = now.duration_since(window.started);
        (elapsed < self.window && window.failures >= self.max_failures)
            .then(|| self.window - elapsed)
    }

    fn count<K: std::hash::Hash + Eq>(
        &self,
        map: &Mutex<HashMap<K, Window>>,
        key: K,
        now: Instant,
    ) {
        let Ok(mut map) = map.lock() else { return };
        if map.len() >= SWEEP_ABOVE {
            map.retain(|_, window| now.duration_since(window.started) < self.window);
        }
        let window = map.entry(key).or_insert(Window {
            started: now,
            failures: 0,
        });
        if now.duration_since(window.started) >= self.window {
            *window = Window {
                started: now,
                failures: 0,
            };
        }
        window.failures = window.failures.saturating_add(1);
    }
}

/// The client's address, when the server was started with connection info (tests calling
/// the router directly have none).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub Option<IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|info| info.0.ip()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::disallowed_methods)] // a sync test: sleeping blocks no runtime
    fn accounts_and_addresses_are_limited_apart_and_windows_end() {
        let limits = LoginLimits::new(2, Duration::from_millis(200));
        let here: IpAddr = "192.0.2.1".parse().unwrap();
        let there: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(limits.check("alice", Some(here)).is_ok());
        limits.failed("alice", Some(here));
        limits.failed("Alice", Some(there));
        let (limited, wait) = limits.check("ALICE", None).unwrap_err();
        assert_eq!(limited, Limited::Account);
        assert!(wait <= Duration::from_millis(200));
        // Another account from a fresh address is fine; from a spent address it is not.
        assert!(limits.check("bob", Some(there)).is_ok());
        limits.failed("bob", Some(there));
        assert_eq!(
            limits.check("carol", Some(there)).unwrap_err().0,
            Limited::Address
        );
        limits.succeeded("alice");
        assert!(limits.check("alice", Some(here)).is_ok());
        std::thread::sleep(Duration::from_millis(250));
        assert!(limits.check("carol", Some(there)).is_ok());
    }
}
