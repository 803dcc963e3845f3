//! The deployment's shared state: [`Fake`], a cheap `Clone` handle around [`Shared`], its
//! configuration, the [`Catalog`] (everything but the profiles) and the profile store.
//!
//! The resources in [`crate::api`] hold the business rules, as synchronous methods on [`Fake`]
//! and plain functions; this module only holds the state they share. Lock order is catalog →
//! one profile shard; no lock is held across an `.await`. Every mutating method validates the
//! whole request before it touches state, so a rejected request changes nothing.

pub(crate) mod activity;
mod catalog;
mod load;

pub(crate) use catalog::Scope;

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::api::segment::limit::{DEFAULT_RELAY_RATE_LIMIT, RelayLimiter};
pub use crate::api::segment::limit::{ManualClock, RelayClock};
use crate::faults::{FaultEngine, FaultPlan};
use crate::journal::{
    DEFAULT_JOURNAL_CAP, DEFAULT_JOURNAL_MAX_BYTES, Journal, JournalEntry, Record,
};
use crate::rules::{self, AttrType};
use crate::state_file::{Application, Attribute, Audience, StateFile, StateFileError};
use crate::store::{AttrIdx, FxHashMap, Profiles, lock};

/// Where `created` and `lastActivity` timestamps come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// Always this instant (unix seconds).
    Fixed {
        /// Unix seconds.
        unix_secs: i64,
    },
    /// `start`, then `start + step`, … one step per timestamp taken: deterministic for a given request order.
    Step {
        /// Unix seconds of the first timestamp.
        start_unix_secs: i64,
        /// Milliseconds between consecutive timestamps.
        step_ms: u64,
    },
    /// The system clock (serve mode only; never in tests).
    System,
}

/// 2024-01-01T00:00:00Z, the default start of the deterministic clock.
pub const DEFAULT_EPOCH: i64 = 1_704_067_200;

impl Default for Clock {
    fn default() -> Self {
        Self::Step {
            start_unix_secs: DEFAULT_EPOCH,
            step_ms: 1000,
        }
    }
}

/// Default request body limit in bytes (larger bodies get 413): 1 MiB, chosen here.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// Talon.One processes one update of a profile and queues two; more concurrent ones get 409.
pub const DEFAULT_MAX_IN_FLIGHT_PER_PROFILE: u32 = 3;

/// Default limit on the time from a request's first byte to the end of its headers: 10 s,
/// chosen here.
pub const DEFAULT_HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Default limit on how long a connection may wait, sending nothing, for its next request
/// (after the accept, or after its last response): 60 s, chosen here (the idle timeout of
/// common load balancers).
pub const DEFAULT_IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Default limit on the time from a request's headers to the end of its body: 30 s, chosen here.
pub const DEFAULT_BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Default cap on a request's start line and headers together: 64 KiB (431 beyond), chosen here
/// (common load balancers in front of APIs allow about as much).
pub const DEFAULT_MAX_HEADER_BYTES: usize = 64 * 1024;

/// Profiles read per catalog lock by [`Fake::write_state`].
const STATE_BATCH: usize = 1024;

/// Configuration of a [`Fake`].
#[derive(Debug, Clone)]
pub struct FakeConfig {
    /// Timestamp source.
    pub clock: Clock,
    /// Most journal entries kept.
    pub journal_cap: usize,
    /// Most journal bytes kept: each entry counts its record, path, query, header values and
    /// both bodies; the oldest entries are dropped beyond it.
    pub journal_max_bytes: usize,
    /// Request body limit (413 beyond).
    pub body_limit: usize,
    /// Concurrent updates of one profile allowed (processing + queued); the next gets 409.
    pub max_in_flight_per_profile: u32,
    /// Initial fault plan.
    pub faults: FaultPlan,
    /// On a socket ([`crate::MockServer`], [`crate::serve_on`]): a connection whose request's
    /// headers are not complete this long after their first byte is closed (no answer: there
    /// is no request to answer yet).
    pub header_timeout: std::time::Duration,
    /// On a socket: a connection that sends nothing for this long while waiting for its next
    /// request (after the accept, or after its last response) is closed. It also bounds the
    /// whole wait for a request's headers, so the effective header limit is the smaller of
    /// `header_timeout` from the first byte and `idle_timeout` from the start of the wait.
    pub idle_timeout: std::time::Duration,
    /// On a socket: a request body not complete this long after its headers gets 408
    /// `body.timeout`, and its per-profile slot is released.
    pub body_timeout: std::time::Duration,
    /// On a socket: most bytes of a request's start line and headers; beyond it hyper answers 431
    /// and closes the connection (the request never reaches the router or the journal).
    pub max_header_bytes: usize,
    /// When set, every `/__admin/*` request needs `Authorization: Bearer <token>` (401
    /// `admin.unauthorized` otherwise). `None`: open, for tests on loopback.
    pub admin_token: Option<String>,
    /// The Segment relay's rate limit: most requests one API key may have accepted in any one
    /// second, across every `/segment/…` endpoint (429 `relay.rate_limit` beyond; refused
    /// requests do not count). Default `Some(60)`, Talon.One's documented limit; `None` turns
    /// it off; `Some(0)` refuses every authenticated relay request.
    pub relay_rate_limit: Option<u32>,
    /// The clock of [`FakeConfig::relay_rate_limit`]: tokio's (the default; tests can pause it)
    /// or a [`ManualClock`] tests move by hand.
    pub relay_clock: RelayClock,
}

impl Default for FakeConfig {
    fn default() -> Self {
        Self {
            clock: Clock::default(),
            journal_cap: DEFAULT_JOURNAL_CAP,
            journal_max_bytes: DEFAULT_JOURNAL_MAX_BYTES,
            body_limit: DEFAULT_BODY_LIMIT,
            max_in_flight_per_profile: DEFAULT_MAX_IN_FLIGHT_PER_PROFILE,
            faults: FaultPlan::default(),
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            admin_token: None,
            relay_rate_limit: Some(DEFAULT_RELAY_RATE_LIMIT),
            relay_clock: RelayClock::Tokio,
        }
    }
}

/// The fake deployment: a cheap `Clone` handle shared by the router, the server and tests.
#[derive(Debug, Clone)]
pub struct Fake {
    pub(crate) inner: Arc<Shared>,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: FakeConfig,
    tick: AtomicU64,
    initial: Mutex<StateFile>,
    pub(crate) catalog: RwLock<Catalog>,
    pub(crate) profiles: Profiles,
    pub(crate) next_profile_id: AtomicU32,
    /// In-flight updates per profile; the key is shared with the slots' guards ([`InFlight`]).
    inflight: Mutex<FxHashMap<Arc<str>, u32>>,
    /// In-flight updates per customer session (the same limit as per profile).
    session_inflight: Mutex<FxHashMap<Arc<str>, u32>>,
    /// The events and sessions the deployment stores.
    pub(crate) activity: Mutex<activity::Activity>,
    pub(crate) journal: Mutex<Journal>,
    /// The next journal sequence number, taken when a request is admitted (so a response can
    /// name it, as the relay's `RequestUUID` does).
    pub(crate) next_seq: AtomicU64,
    /// The further deployments of the state file ([`StateFile::deployments`]), each a whole
    /// fake of its own that only the Segment relay reaches; their journals stay empty (the
    /// front fake journals every request).
    pub(crate) deployments: RwLock<Vec<Fake>>,
    pub(crate) faults: Mutex<FaultEngine>,
    /// False while the plan has no rules and no rate limit: the pipeline then skips the fault lock.
    pub(crate) faults_active: std::sync::atomic::AtomicBool,
    /// The Segment relay's rate-limit windows of this deployment's keys.
    pub(crate) relay_limit: RelayLimiter,
}

/// Everything but the profiles: small, read on every request.
#[derive(Debug, Default)]
pub(crate) struct Catalog {
    pub(crate) account_id: i64,
    /// The host the relay routes to this deployment, normalised
    /// ([`crate::api::segment::normalize_hostname`]); shared by every journal entry of a relay
    /// request routed here.
    pub(crate) hostname: Arc<str>,
    /// `hostname` as the state file gave it, for the dump.
    pub(crate) hostname_given: Option<String>,
    pub(crate) applications: Vec<Application>,
    pub(crate) integration_keys: FxHashMap<String, usize>,
    /// Third-party keys: the application position and the platform (`Segment`).
    pub(crate) third_party_keys: FxHashMap<String, (usize, String)>,
    pub(crate) management_keys: HashSet<String>,
    /// Indexed by [`AttrIdx`]; never reordered, never shrunk.
    pub(crate) attributes: Vec<Attribute>,
    pub(crate) profile_attrs: FxHashMap<Box<str>, (AttrIdx, AttrType)>,
    /// `CustomerSession` attributes by name.
    pub(crate) session_attrs: catalog::AttrIndex,
    /// `CartItem` attributes by name.
    pub(crate) cart_item_attrs: catalog::AttrIndex,
    /// `Event` attributes by event type (`""`: those without `eventType`, for every type), then name.
    pub(crate) event_attrs: FxHashMap<Box<str>, catalog::AttrIndex>,
    /// Event types the state file declares (`eventTypes`) or the deprecated `PUT /segment/event`
    /// created, with the data type given when it was created, if any.
    pub(crate) event_types: BTreeMap<String, Option<AttrType>>,
    pub(crate) audiences: BTreeMap<u32, Audience>,
    pub(crate) next_attribute_id: i64,
    pub(crate) next_audience_id: u32,
}

/// Guard for one in-flight update of a profile; releases the slot on drop.
#[derive(Debug)]
pub struct InFlight {
    fake: Fake,
    key: Arc<str>,
    session: bool,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let slots = if self.session {
            &self.fake.inner.session_inflight
        } else {
            &self.fake.inner.inflight
        };
        let mut map = lock(slots);
        if let Some(n) = map.get_mut(&*self.key) {
            *n -= 1;
            if *n == 0 {
                map.remove(&*self.key);
            }
        }
    }
}

pub(crate) fn read(c: &RwLock<Catalog>) -> RwLockReadGuard<'_, Catalog> {
    c.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}
pub(crate) fn write(c: &RwLock<Catalog>) -> RwLockWriteGuard<'_, Catalog> {
    c.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Fake {
    /// A fake holding `state`. Fails if the state is inconsistent (duplicate ids, unknown references, invalid values).
    pub fn new(state: StateFile, config: FakeConfig) -> Result<Self, StateFileError> {
        let fake = Self::empty(config);
        fake.load(state)?;
        Ok(fake)
    }

    /// A fake holding nothing yet, with `config`.
    fn empty(config: FakeConfig) -> Self {
        let faults = FaultEngine::new(config.faults.clone());
        let active = faults.is_active();
        let journal = Journal::new(config.journal_cap, config.journal_max_bytes);
        Self {
            inner: Arc::new(Shared {
                tick: AtomicU64::new(0),
                initial: Mutex::new(StateFile::empty()),
                catalog: RwLock::new(Catalog::default()),
                profiles: Profiles::new(),
                next_profile_id: AtomicU32::new(1),
                inflight: Mutex::new(FxHashMap::default()),
                session_inflight: Mutex::new(FxHashMap::default()),
                activity: Mutex::new(activity::Activity::default()),
                journal: Mutex::new(journal),
                next_seq: AtomicU64::new(1),
                deployments: RwLock::new(Vec::new()),
                faults: Mutex::new(faults),
                faults_active: std::sync::atomic::AtomicBool::new(active),
                relay_limit: RelayLimiter::default(),
                config,
            }),
        }
    }

    /// A fake with the built-in default state and default configuration.
    pub fn with_default_state() -> Self {
        Self::new(StateFile::default_state(), FakeConfig::default())
            .or_else(|_| Self::new(StateFile::empty(), FakeConfig::default()))
            .unwrap_or_else(|_| Self::empty(FakeConfig::default()))
    }

    /// Replaces the whole state (catalog and profiles) and clears the journal and fault counters.
    /// With `None`, returns to the state the fake was created with.
    pub fn reset(&self, state: Option<StateFile>) -> Result<(), StateFileError> {
        let state = match state {
            Some(s) => s,
            None => lock(&self.inner.initial).clone(),
        };
        self.load(state)?;
        lock(&self.inner.journal).clear();
        self.inner.relay_limit.clear();
        self.inner.next_seq.store(1, Ordering::SeqCst);
        let plan = lock(&self.inner.faults).plan().clone();
        self.set_faults(plan);
        Ok(())
    }

    /// Replaces the fault plan (counters and coin restart).
    pub fn set_faults(&self, plan: FaultPlan) {
        let engine = FaultEngine::new(plan);
        let mut guard = lock(&self.inner.faults);
        self.inner
            .faults_active
            .store(engine.is_active(), Ordering::SeqCst);
        *guard = engine;
    }

    /// The current fault plan.
    pub fn faults(&self) -> FaultPlan {
        lock(&self.inner.faults).plan().clone()
    }

    /// The journal, oldest first.
    pub fn journal(&self) -> Vec<JournalEntry> {
        lock(&self.inner.journal).entries()
    }

    /// How many journal entries were dropped because of the cap.
    pub fn journal_dropped(&self) -> u64 {
        lock(&self.inner.journal).dropped()
    }

    /// The memory the kept journal entries hold, as the byte budget
    /// ([`FakeConfig::journal_max_bytes`]) counts it: each entry's record, path, query, header
    /// values and both bodies.
    pub fn journal_bytes(&self) -> usize {
        lock(&self.inner.journal).bytes()
    }

    /// Number of stored customer profiles.
    pub fn profile_count(&self) -> usize {
        self.inner.profiles.len()
    }

    /// Holds one in-flight slot for `integration_id` (as an update being processed would), or
    /// `None` if all slots are taken. Tests use it to make the 409 rule deterministic.
    pub fn hold_profile(&self, integration_id: &str) -> Option<InFlight> {
        self.hold(integration_id, false)
    }

    /// Holds one in-flight slot for the customer session `integration_id`, like
    /// [`Fake::hold_profile`] (the same limit, slots of their own), or `None` if all are taken.
    pub fn hold_session(&self, integration_id: &str) -> Option<InFlight> {
        self.hold(integration_id, true)
    }

    fn hold(&self, integration_id: &str, session: bool) -> Option<InFlight> {
        let max = self.inner.config.max_in_flight_per_profile;
        let mut map = lock(if session {
            &self.inner.session_inflight
        } else {
            &self.inner.inflight
        });
        // The guard shares the map's key: one allocation for the first slot of an id, none
        // for the next ones.
        let key = match map.get_key_value(integration_id) {
            Some((_, n)) if *n >= max => return None,
            Some((k, _)) => {
                let k = Arc::clone(k);
                if let Some(n) = map.get_mut(integration_id) {
                    *n += 1;
                }
                k
            }
            None if max == 0 => return None,
            None => {
                let k: Arc<str> = integration_id.into();
                map.insert(Arc::clone(&k), 1);
                k
            }
        };
        drop(map);
        Some(InFlight {
            fake: self.clone(),
            key,
            session,
        })
    }

    /// Takes the next journal sequence number (when a request is admitted).
    pub(crate) fn take_seq(&self) -> u64 {
        self.inner.next_seq.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn push_journal(&self, rec: Record) {
        let evicted = lock(&self.inner.journal).push(rec);
        // Freed outside the lock.
        drop(evicted);
    }

    /// The deployment the Segment relay routes `hostname` (normalised) to: this one, or one of
    /// the state file's further [`StateFile::deployments`].
    pub(crate) fn deployment(&self, hostname: &str) -> Option<Fake> {
        self.route(hostname, |_| ()).map(|(d, ())| d)
    }

    /// The deployment the Segment relay routes `hostname` (normalised) to, and what `at` reads
    /// in its catalog under the same read lock (the deployment's one catalog read for routing
    /// and its key together).
    pub(crate) fn route<R>(
        &self,
        hostname: &str,
        at: impl FnOnce(&Catalog) -> R,
    ) -> Option<(Fake, R)> {
        {
            let cat = read(&self.inner.catalog);
            if *cat.hostname == *hostname {
                return Some((self.clone(), at(&cat)));
            }
        }
        let more = self
            .inner
            .deployments
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for d in more.iter() {
            let cat = read(&d.inner.catalog);
            if *cat.hostname == *hostname {
                return Some((d.clone(), at(&cat)));
            }
        }
        None
    }

    /// The hosts of every deployment this fake stands in for, this one first.
    pub fn hostnames(&self) -> Vec<String> {
        let mut out = vec![read(&self.inner.catalog).hostname.to_string()];
        let more = self
            .inner
            .deployments
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        out.extend(
            more.iter()
                .map(|d| read(&d.inner.catalog).hostname.to_string()),
        );
        out
    }

    pub(crate) fn now(&self) -> i64 {
        match self.inner.config.clock {
            Clock::Fixed { unix_secs } => unix_secs.saturating_mul(1_000_000_000),
            Clock::Step {
                start_unix_secs,
                step_ms,
            } => {
                let n = self.inner.tick.fetch_add(1, Ordering::Relaxed);
                let offset = i64::try_from(n.saturating_mul(step_ms).saturating_mul(1_000_000))
                    .unwrap_or(i64::MAX);
                start_unix_secs
                    .saturating_mul(1_000_000_000)
                    .saturating_add(offset)
            }
            Clock::System => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .ok()
                .and_then(|d| i64::try_from(d.as_nanos()).ok())
                .unwrap_or(0),
        }
    }

    pub(crate) fn now_string(&self) -> String {
        rules::format_time(self.now())
    }
}
