//! The relay's rate limit: at most N accepted requests per API key in any one second, across
//! every `/segment/…` endpoint (Talon.One documents 60: "Talon.One limits integrations with
//! Segment to 60 requests per second for any given client, regardless of the endpoint",
//! `talon-one-facts.md` §3.8, `talon-actions-destination.md` §4.8).
//!
//! The algorithm is a sliding window, the strict reading of "N per second": a request of a key
//! at time `t` is accepted only if fewer than N of that key's requests were accepted in
//! `(t - 1 s, t]`, so no one-second interval ever holds more than N accepted requests. A client
//! that paces itself to pass this window passes a token bucket of the same rate too, so the
//! fake never accepts what a real implementation could refuse for the rate alone. Refused
//! requests are not counted: a limiter that counted its own refusals would keep a client that
//! retries at a steady pace refused for ever.
//!
//! Cost and memory: one small lock per relay request; per key a ring (`VecDeque`) of the
//! accepted requests' times in the last second, at most N of them (8 bytes each), which keeps
//! its capacity, so the steady state allocates nothing. Only authenticated requests are counted
//! (the check runs after the key is known), so the keys held are the deployment's own Segment
//! keys: the map is bounded by the state file, not by what clients send.
//!
//! The clock is [`RelayClock`]: tokio's `Instant` (tests can pause and advance it) or a
//! [`ManualClock`] that tests set.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::StatusCode;

use super::RelayError;
use crate::rule::Rule;
use crate::state::Fake;
use crate::store::{FxHashMap, lock};

/// Talon.One's documented limit for Segment integrations: 60 requests per second per client.
pub const DEFAULT_RELAY_RATE_LIMIT: u32 = 60;

/// The window the limit counts over: one second.
const WINDOW_NANOS: u64 = 1_000_000_000;

/// Where the relay's rate limit reads the time.
#[derive(Debug, Clone, Default)]
pub enum RelayClock {
    /// tokio's [`Instant`](tokio::time::Instant): real time on a server; paused and advanced by
    /// tests that use `tokio::time::pause`.
    #[default]
    Tokio,
    /// A shared millisecond counter that only moves when a test sets or advances it.
    Manual(ManualClock),
}

/// A clock that tests move by hand: milliseconds since an arbitrary start, shared by every
/// clone (and so by every deployment of a fake configured with it).
#[derive(Debug, Clone, Default)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    /// A clock at 0 ms.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the time to `ms` milliseconds.
    pub fn set_ms(&self, ms: u64) {
        self.0.store(ms, Ordering::SeqCst);
    }

    /// Moves the time forward by `ms` milliseconds.
    pub fn advance_ms(&self, ms: u64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }

    /// The time, in milliseconds.
    pub fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// One deployment's rate-limit windows, by API key.
#[derive(Debug)]
pub(crate) struct RelayLimiter {
    /// The zero of [`RelayClock::Tokio`] readings.
    origin: tokio::time::Instant,
    windows: Mutex<FxHashMap<Box<str>, VecDeque<u64>>>,
}

impl Default for RelayLimiter {
    fn default() -> Self {
        Self {
            origin: tokio::time::Instant::now(),
            windows: Mutex::new(FxHashMap::default()),
        }
    }
}

impl RelayLimiter {
    /// The time in nanoseconds on `clock`.
    fn now(&self, clock: &RelayClock) -> u64 {
        match clock {
            RelayClock::Tokio => u64::try_from(
                tokio::time::Instant::now()
                    .saturating_duration_since(self.origin)
                    .as_nanos(),
            )
            .unwrap_or(u64::MAX),
            RelayClock::Manual(m) => m.now_ms().saturating_mul(1_000_000),
        }
    }

    /// Counts a request of `key` if fewer than `limit` of its requests were accepted in the
    /// last second; `false` (nothing counted) otherwise.
    pub(crate) fn admit(&self, key: &str, limit: u32, clock: &RelayClock) -> bool {
        let now = self.now(clock);
        let mut windows = lock(&self.windows);
        if !windows.contains_key(key) {
            // The key's first request since the fake was loaded: its one allocation.
            windows.insert(key.into(), VecDeque::new());
        }
        windows
            .get_mut(key)
            .is_some_and(|window| admit_at(window, now, limit))
    }

    /// Forgets every key's window (a reset of the fake).
    pub(crate) fn clear(&self) {
        lock(&self.windows).clear();
    }
}

/// The sliding-window rule on one key's accepted times (oldest first): times a second or more
/// before `now` leave the window; then `now` is accepted and recorded if fewer than `limit`
/// remain. A clock that went back (a manual clock set lower) counts as no time passed.
fn admit_at(window: &mut VecDeque<u64>, now: u64, limit: u32) -> bool {
    while window
        .front()
        .is_some_and(|&t| now.saturating_sub(t) >= WINDOW_NANOS)
    {
        window.pop_front();
    }
    if window.len() >= limit as usize {
        return false;
    }
    window.push_back(now);
    true
}

impl Fake {
    /// Counts an authenticated relay request with `key` against this deployment's rate limit
    /// ([`crate::FakeConfig::relay_rate_limit`]), or refuses it with 429 `relay.rate_limit`.
    pub(crate) fn admit_relay(&self, key: &str, seq: u64) -> Result<(), RelayError> {
        let config = &self.inner.config;
        match config.relay_rate_limit {
            None => Ok(()),
            Some(n) if self.inner.relay_limit.admit(key, n, &config.relay_clock) => Ok(()),
            Some(n) => Err(too_many(n, seq)),
        }
    }
}

/// The 429 of a request over the limit, in the relay's envelope.
pub(crate) fn too_many(limit: u32, seq: u64) -> RelayError {
    RelayError::new(
        StatusCode::TOO_MANY_REQUESTS,
        Rule::RelayRateLimit,
        format!(
            "Too many requests: more than {limit} requests in one second with this API key (the relay's limit per client, across every /segment endpoint); slow down and retry"
        ),
        seq,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn the_window_accepts_the_limit_then_refuses_until_the_oldest_is_a_second_old() {
        let mut w = VecDeque::new();
        for i in 0..3 {
            assert!(admit_at(&mut w, i * MS, 3), "request {i}");
        }
        assert!(!admit_at(&mut w, 999 * MS, 3), "a full window refuses");
        assert_eq!(w.len(), 3, "a refusal is not counted");
        assert!(admit_at(&mut w, 1000 * MS, 3), "the first left the window");
        assert!(!admit_at(&mut w, 1000 * MS, 3), "the second is still in it");
        assert!(admit_at(&mut w, 1001 * MS, 3));
    }

    #[test]
    fn no_one_second_interval_holds_more_than_the_limit_of_accepted_requests() {
        // A client far over the limit, one request every 7 ms for 5 seconds.
        let limit = 10;
        let mut w = VecDeque::new();
        let accepted: Vec<u64> = (0..715)
            .map(|i| i * 7 * MS)
            .filter(|&t| admit_at(&mut w, t, limit))
            .collect();
        for (i, &start) in accepted.iter().enumerate() {
            let inside = accepted[i..]
                .iter()
                .take_while(|&&t| t < start + WINDOW_NANOS)
                .count();
            assert!(
                inside <= limit as usize,
                "{inside} in the second from {start}"
            );
        }
        // And the limit is used, not undershot: 10 per second over 5 seconds.
        assert_eq!(accepted.len(), 50);
        assert!(
            w.len() <= limit as usize,
            "memory stays bounded by the limit"
        );
    }

    #[test]
    fn a_clock_that_goes_back_counts_as_no_time_passed() {
        let mut w = VecDeque::new();
        assert!(admit_at(&mut w, 5000 * MS, 1));
        assert!(!admit_at(&mut w, 0, 1));
        assert!(admit_at(&mut w, 6000 * MS, 1));
    }

    #[test]
    fn a_limit_of_zero_refuses_every_request() {
        let mut w = VecDeque::new();
        assert!(!admit_at(&mut w, 0, 0));
        assert!(w.is_empty());
    }

    #[test]
    fn keys_have_their_own_windows_and_a_clear_forgets_them() {
        let clock = RelayClock::Manual(ManualClock::new());
        let l = RelayLimiter::default();
        assert!(l.admit("a", 1, &clock));
        assert!(!l.admit("a", 1, &clock));
        assert!(l.admit("b", 1, &clock));
        l.clear();
        assert!(l.admit("a", 1, &clock));
    }
}
