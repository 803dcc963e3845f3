//! The deployment state behind a cheap `Clone` handle, and every business rule as a synchronous method.
//!
//! Handlers in [`crate::http`] only extract, call one of these methods and
//! respond. Lock order is catalog → one profile shard; no lock is held across
//! an `.await`. Every mutating method validates the whole request before it
//! touches state, so a rejected request changes nothing.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use axum::http::{HeaderValue, StatusCode};
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::faults::{FaultEngine, FaultPlan};
use crate::journal::{
    DEFAULT_JOURNAL_CAP, DEFAULT_JOURNAL_MAX_BYTES, Journal, JournalEntry, Record,
};
use crate::rule::Rule;
use crate::rules::{self, AttrType, Entity};
use crate::state_file::{
    Application, Attribute, Audience, IntegrationKey, ProfileRecord, StateFile, StateFileError,
};
use crate::store::{self, AttrIdx, FxHashMap, Profile, Profiles, lock};

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
    catalog: RwLock<Catalog>,
    profiles: Profiles,
    next_profile_id: AtomicU32,
    inflight: Mutex<FxHashMap<Box<str>, u32>>,
    pub(crate) journal: Mutex<Journal>,
    pub(crate) faults: Mutex<FaultEngine>,
    /// False while the plan has no rules and no rate limit: the front layer then skips the fault lock.
    pub(crate) faults_active: std::sync::atomic::AtomicBool,
}

/// Everything but the profiles: small, read on every request.
#[derive(Debug, Default)]
pub(crate) struct Catalog {
    account_id: i64,
    applications: Vec<Application>,
    integration_keys: FxHashMap<String, usize>,
    management_keys: HashSet<String>,
    /// Indexed by [`AttrIdx`]; never reordered, never shrunk.
    attributes: Vec<Attribute>,
    profile_attrs: FxHashMap<Box<str>, (AttrIdx, AttrType)>,
    audiences: BTreeMap<u32, Audience>,
    next_attribute_id: i64,
    next_audience_id: u32,
}

/// The outcome of an accepted request: status, JSON body (empty for 204) and rule id.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) body: axum::body::Bytes,
    pub(crate) rule: Rule,
}

impl Answer {
    fn json(status: StatusCode, rule: Rule, v: &impl serde::Serialize) -> Self {
        Self {
            status,
            body: serde_json::to_vec(v).unwrap_or_default().into(),
            rule,
        }
    }
    fn no_content(rule: Rule) -> Self {
        Self {
            status: StatusCode::NO_CONTENT,
            body: axum::body::Bytes::new(),
            rule,
        }
    }
}

/// Guard for one in-flight update of a profile; releases the slot on drop.
#[derive(Debug)]
pub struct InFlight {
    fake: Fake,
    key: Box<str>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut map = lock(&self.fake.inner.inflight);
        if let Some(n) = map.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.key);
            }
        }
    }
}

type Res<T> = Result<T, ApiError>;

fn read(c: &RwLock<Catalog>) -> RwLockReadGuard<'_, Catalog> {
    c.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}
fn write(c: &RwLock<Catalog>) -> RwLockWriteGuard<'_, Catalog> {
    c.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Escapes a key for a JSON pointer (`~` → `~0`, `/` → `~1`).
pub(crate) fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

impl Fake {
    /// A fake holding `state`. Fails if the state is inconsistent (duplicate ids, unknown references, invalid values).
    pub fn new(state: StateFile, config: FakeConfig) -> Result<Self, StateFileError> {
        let faults = FaultEngine::new(config.faults.clone());
        let active = faults.is_active();
        let journal = Journal::new(config.journal_cap, config.journal_max_bytes);
        let fake = Self {
            inner: Arc::new(Shared {
                tick: AtomicU64::new(0),
                initial: Mutex::new(StateFile::empty()),
                catalog: RwLock::new(Catalog::default()),
                profiles: Profiles::new(),
                next_profile_id: AtomicU32::new(1),
                inflight: Mutex::new(FxHashMap::default()),
                journal: Mutex::new(journal),
                faults: Mutex::new(faults),
                faults_active: std::sync::atomic::AtomicBool::new(active),
                config,
            }),
        };
        fake.load(state)?;
        Ok(fake)
    }

    /// A fake with the built-in default state and default configuration.
    pub fn with_default_state() -> Self {
        Self::new(StateFile::default_state(), FakeConfig::default())
            .or_else(|_| Self::new(StateFile::empty(), FakeConfig::default()))
            .unwrap_or_else(|_| unreachable_empty())
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
        let mut map = lock(&self.inner.inflight);
        let n = map.entry(integration_id.into()).or_insert(0);
        if *n >= self.inner.config.max_in_flight_per_profile {
            if *n == 0 {
                map.remove(integration_id);
            }
            return None;
        }
        *n += 1;
        Some(InFlight {
            fake: self.clone(),
            key: integration_id.into(),
        })
    }

    pub(crate) fn push_journal(&self, rec: impl FnOnce(u64) -> Record) {
        let mut j = lock(&self.inner.journal);
        let seq = j.next_seq();
        j.push(rec(seq));
    }

    fn now(&self) -> i64 {
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

    fn now_string(&self) -> String {
        rules::format_time(self.now())
    }

    // ---------------------------------------------------------------- state file

    fn load(&self, state: StateFile) -> Result<(), StateFileError> {
        let bad = |m: String| StateFileError::Inconsistent(m);
        let mut cat = Catalog {
            account_id: state.account_id,
            next_attribute_id: 1,
            next_audience_id: 1,
            ..Catalog::default()
        };
        let mut apps = state.applications.clone();
        apps.sort_by_key(|a| a.id);
        if apps.windows(2).any(|w| w[0].id == w[1].id) {
            return Err(bad("duplicate application id".into()));
        }
        if apps.len() > 64 {
            return Err(bad("at most 64 applications are supported".into()));
        }
        cat.applications = apps;
        for k in &state.integration_keys {
            let pos = cat.app_pos(k.application_id).ok_or_else(|| {
                bad(format!(
                    "integration key for unknown application {}",
                    k.application_id
                ))
            })?;
            if cat.integration_keys.insert(k.key.clone(), pos).is_some() {
                return Err(bad("duplicate integration key".into()));
            }
        }
        for k in &state.management_keys {
            if cat.integration_keys.contains_key(k) || !cat.management_keys.insert(k.clone()) {
                return Err(bad("duplicate management key".into()));
            }
        }
        for a in &state.attributes {
            let mut a = a.clone();
            a.account_id = state.account_id;
            if a.title.is_empty() {
                a.title.clone_from(&a.name);
            }
            cat.add_attribute(a).map_err(|e| bad(e.message))?;
        }
        for a in &state.audiences {
            let id = u32::try_from(a.id)
                .ok()
                .filter(|i| *i > 0)
                .ok_or_else(|| bad(format!("audience id {} out of range", a.id)))?;
            let mut a = a.clone();
            a.account_id = state.account_id;
            if cat.audiences.insert(id, a).is_some() {
                return Err(bad(format!("duplicate audience id {id}")));
            }
            cat.next_audience_id = cat.next_audience_id.max(id.saturating_add(1));
        }
        // Profiles: validate everything before anything is replaced.
        let mut seen = HashSet::new();
        let mut loaded = Vec::with_capacity(state.profiles.len());
        let mut max_id = 0u32;
        for p in &state.profiles {
            rules::check_integration_id(&p.integration_id).map_err(bad)?;
            if !seen.insert(p.integration_id.as_str()) {
                return Err(bad(format!("duplicate profile {:?}", p.integration_id)));
            }
            let mut pairs = cat
                .validate_attributes(&p.attributes, "/attributes")
                .map_err(|e| bad(format!("profile {:?}: {}", p.integration_id, e.message)))?;
            let created = rules::parse_time(&p.created)
                .ok_or_else(|| bad(format!("profile {:?}: bad created", p.integration_id)))?;
            let last = match &p.last_activity {
                Some(t) => rules::parse_time(t).ok_or_else(|| {
                    bad(format!("profile {:?}: bad lastActivity", p.integration_id))
                })?,
                None => created,
            };
            let id = u32::try_from(p.id)
                .map_err(|_| bad(format!("profile id {} out of range", p.id)))?;
            max_id = max_id.max(id);
            let mut prof = Profile::new(id, created);
            prof.last_activity = last;
            prof.attrs = store::encode_values(&mut pairs).into_boxed_slice();
            for a in &p.audiences {
                let aid = u32::try_from(*a)
                    .ok()
                    .filter(|i| cat.audiences.contains_key(i))
                    .ok_or_else(|| {
                        bad(format!(
                            "profile {:?}: unknown audience {a}",
                            p.integration_id
                        ))
                    })?;
                prof.set_audience(aid, true);
            }
            for app in &p.applications {
                let pos = cat.app_pos(*app).ok_or_else(|| {
                    bad(format!(
                        "profile {:?}: unknown application {app}",
                        p.integration_id
                    ))
                })?;
                prof.apps |= 1 << pos;
            }
            loaded.push((p.integration_id.as_str(), prof));
        }
        // Commit.
        let mut guard = write(&self.inner.catalog);
        self.inner.profiles.for_each_shard(|s| s.clear());
        let mut next = max_id.saturating_add(1);
        for (iid, mut prof) in loaded {
            if prof.id == 0 {
                prof.id = next;
                next = next.saturating_add(1);
            }
            self.inner.profiles.shard(iid).insert(iid.into(), prof);
        }
        self.inner.next_profile_id.store(next, Ordering::Relaxed);
        *guard = cat;
        *lock(&self.inner.initial) = state;
        Ok(())
    }

    /// The current state in the state-file format, every list sorted: deterministic.
    ///
    /// This builds the whole state in memory; [`Fake::write_state`] writes the same bytes as
    /// its [`StateFile::to_json_pretty`] without doing so.
    pub fn state_dump(&self) -> StateFile {
        let cat = read(&self.inner.catalog);
        let mut profiles = Vec::new();
        self.inner.profiles.for_each_shard(|s| {
            // Order does not reach output: the list is sorted below.
            #[allow(clippy::iter_over_hash_type)]
            for (iid, p) in s.iter() {
                profiles.push(cat.profile_record(iid, p));
            }
        });
        profiles.sort_by(|a, b| a.integration_id.cmp(&b.integration_id));
        let mut state = cat.dump_without_profiles();
        state.profiles = profiles;
        state
    }

    /// Writes the current state to `w` as [`StateFile::to_json_pretty`] of
    /// [`Fake::state_dump`] would, byte for byte, without building it: the catalog (small),
    /// then the profiles in integration-id order, a batch at a time. Only the sorted list of
    /// integration ids is held in full; no lock is held while writing to `w`.
    ///
    /// With `redact_keys`, API keys are written as [`crate::REDACTED_KEY`]. Profiles are
    /// read batch by batch, so updates made while it writes may or may not be included (each
    /// profile is written as it was at one instant); one that is deleted meanwhile is left out.
    pub fn write_state(
        &self,
        mut w: impl std::io::Write,
        redact_keys: bool,
    ) -> std::io::Result<()> {
        let mut head = read(&self.inner.catalog).dump_without_profiles();
        if redact_keys {
            head.redact_keys();
        }
        let head = head.to_json_pretty();
        let mut ids: Vec<Box<str>> = Vec::with_capacity(self.profile_count());
        self.inner.profiles.for_each_shard(|s| {
            // Order does not reach output: the list is sorted below.
            #[allow(clippy::iter_over_hash_type)]
            ids.extend(s.keys().cloned());
        });
        ids.sort_unstable();
        // Without profiles the field is skipped (`skip_serializing_if`): the head is all.
        let Some(open) = head.strip_suffix("\n}\n") else {
            return w.write_all(head.as_bytes());
        };
        let mut started = false;
        let mut buf = Vec::with_capacity(64 * 1024);
        let mut records = Vec::with_capacity(STATE_BATCH);
        for batch in ids.chunks(STATE_BATCH) {
            {
                let cat = read(&self.inner.catalog);
                for iid in batch {
                    let shard = self.inner.profiles.shard(iid);
                    if let Some(p) = shard.get(iid) {
                        records.push(cat.profile_record(iid, p));
                    }
                }
            }
            for r in records.drain(..) {
                if started {
                    buf.extend_from_slice(b",\n");
                } else {
                    buf.extend_from_slice(open.as_bytes());
                    buf.extend_from_slice(b",\n  \"profiles\": [\n");
                    started = true;
                }
                let one = serde_json::to_vec_pretty(&r).map_err(std::io::Error::other)?;
                // Nested two levels deep: four more spaces on every line (a JSON string never
                // holds a raw newline, so lines are the formatter's own).
                for (i, line) in one.split(|b| *b == b'\n').enumerate() {
                    if i > 0 {
                        buf.push(b'\n');
                    }
                    buf.extend_from_slice(b"    ");
                    buf.extend_from_slice(line);
                }
            }
            w.write_all(&buf)?;
            buf.clear();
        }
        if started {
            w.write_all(b"\n  ]\n}\n")
        } else {
            w.write_all(head.as_bytes())
        }
    }

    /// A profile as the API shows it (`CustomerProfile`), or `None`.
    pub fn profile(&self, integration_id: &str) -> Option<Value> {
        let cat = read(&self.inner.catalog);
        let shard = self.inner.profiles.shard(integration_id);
        shard
            .get(integration_id)
            .map(|p| cat.profile_json(integration_id, p))
    }

    /// Sets attributes on a profile as `PUT /v2/customer_profiles/{id}` would for the given
    /// application, with every rule enforced (seeding and benchmarks, without HTTP).
    pub fn upsert_profile(
        &self,
        application_id: i64,
        integration_id: &str,
        attributes: &Map<String, Value>,
    ) -> Result<(), ApiError> {
        let app = read(&self.inner.catalog)
            .app_pos(application_id)
            .ok_or_else(|| {
                ApiError::not_found(Rule::ApplicationNotFound, "applicationId", "application")
            })?;
        let mut body = Map::new();
        body.insert("attributes".to_owned(), Value::Object(attributes.clone()));
        self.update_profile(app, integration_id, &body, false, false)
            .map(|_| ())
    }

    // ---------------------------------------------------------------- auth

    /// Checks `Authorization: ApiKey-v1 <key>`; returns the application position.
    pub(crate) fn auth_integration(&self, h: Option<&HeaderValue>) -> Res<usize> {
        let cat = read(&self.inner.catalog);
        let (scheme, key) = split_auth(h)?;
        if scheme != "ApiKey-v1" {
            return Err(if scheme == "ManagementKey-v1" {
                unauthorized(
                    Rule::AuthWrongKind,
                    "a Management API key does not open the Integration API",
                )
            } else {
                unauthorized(
                    Rule::AuthMalformed,
                    "expected \"Authorization: ApiKey-v1 <key>\"",
                )
            });
        }
        match cat.integration_keys.get(key) {
            Some(pos) => Ok(*pos),
            None if cat.management_keys.contains(key) => Err(unauthorized(
                Rule::AuthWrongKind,
                "a Management API key does not open the Integration API",
            )),
            None => Err(unauthorized(Rule::AuthUnknownKey, "unknown API key")),
        }
    }

    /// Checks `Authorization: ManagementKey-v1 <key>`.
    pub(crate) fn auth_management(&self, h: Option<&HeaderValue>) -> Res<()> {
        let cat = read(&self.inner.catalog);
        let (scheme, key) = split_auth(h)?;
        if scheme != "ManagementKey-v1" {
            return Err(if scheme == "ApiKey-v1" {
                unauthorized(
                    Rule::AuthWrongKind,
                    "an Integration API key does not open the Management API",
                )
            } else {
                unauthorized(
                    Rule::AuthMalformed,
                    "expected \"Authorization: ManagementKey-v1 <key>\"",
                )
            });
        }
        if cat.management_keys.contains(key) {
            Ok(())
        } else if cat.integration_keys.contains_key(key) {
            Err(unauthorized(
                Rule::AuthWrongKind,
                "an Integration API key does not open the Management API",
            ))
        } else {
            Err(unauthorized(
                Rule::AuthUnknownKey,
                "unknown Management API key",
            ))
        }
    }

    // ---------------------------------------------------------------- integration API

    /// `PUT /v2/customer_profiles/{integrationId}`.
    pub(crate) fn update_profile(
        &self,
        app: usize,
        integration_id: &str,
        body: &Map<String, Value>,
        run_rule_engine: bool,
        dry: bool,
    ) -> Res<Answer> {
        rules::check_integration_id(integration_id).map_err(|d| {
            ApiError::bad_param(
                Rule::IntegrationIdInvalid,
                "integrationId",
                "Invalid integrationId",
                d,
            )
        })?;
        check_keys(
            body,
            &[
                "attributes",
                "evaluableCampaignIds",
                "responseContent",
                "audiencesChanges",
            ],
            "",
        )?;
        let attrs = match body.get("attributes") {
            None => None,
            Some(Value::Object(m)) => Some(m),
            Some(v) => return Err(not_object("/attributes", v)),
        };
        if let Some(v) = body.get("evaluableCampaignIds") {
            int_array(v, "/evaluableCampaignIds")?;
        }
        let mut want_profile = false;
        let mut want_lists: Vec<&'static str> = Vec::new();
        if let Some(v) = body.get("responseContent") {
            let Value::Array(items) = v else {
                return Err(not_array("/responseContent", v));
            };
            for (i, item) in items.iter().enumerate() {
                let s = item.as_str().unwrap_or("");
                match s {
                    "customerProfile" => want_profile = true,
                    "triggeredCampaigns" => want_lists.push("triggeredCampaigns"),
                    "ruleFailureReasons" => want_lists.push("ruleFailureReasons"),
                    "awardedGiveaways" => want_lists.push("awardedGiveaways"),
                    "loyalty" | "event" | "campaignEligibility" => {}
                    _ => {
                        return Err(ApiError::bad_body(
                            Rule::BodyInvalidField,
                            &format!("/responseContent/{i}"),
                            "Invalid responseContent value",
                            format!(
                                "expected one of customerProfile, triggeredCampaigns, loyalty, event, awardedGiveaways, ruleFailureReasons, campaignEligibility; got {item}"
                            ),
                        ));
                    }
                }
            }
            if !items.is_empty() && !run_rule_engine {
                return Err(ApiError::bad_body(
                    Rule::ResponseContentRequiresRuleEngine,
                    "/responseContent",
                    "responseContent requires runRuleEngine=true",
                    "responseContent can only be used when the runRuleEngine query parameter is true".into(),
                ));
            }
        }
        let changes = match body.get("audiencesChanges") {
            None => None,
            Some(v) => Some(parse_audience_changes(v)?),
        };
        let cat = read(&self.inner.catalog);
        let mut pairs = match attrs {
            Some(m) => cat.validate_attributes(m, "/attributes")?,
            None => Vec::new(),
        };
        if let Some((adds, deletes)) = &changes {
            for (list, name) in [(adds, "adds"), (deletes, "deletes")] {
                for (i, a) in list.iter().enumerate() {
                    if !a.is_some_and(|a| cat.audiences.contains_key(&a)) {
                        return Err(ApiError::bad_body(
                            Rule::AudienceUnknown,
                            &format!("/audiencesChanges/{name}/{i}"),
                            "Unknown audience",
                            format!("there is no audience with id {}", display_opt(*a)),
                        ));
                    }
                }
            }
        }
        let new_blob = store::encode_values(&mut pairs);
        let persist = !(dry && run_rule_engine);
        let now = self.now();
        let mut shard = self.inner.profiles.shard(integration_id);
        let mut scratch;
        let profile: &mut Profile = if persist {
            if !shard.contains_key(integration_id) {
                let id = self.inner.next_profile_id.fetch_add(1, Ordering::Relaxed);
                shard.insert(integration_id.into(), Profile::new(id, now));
            }
            match shard.get_mut(integration_id) {
                Some(p) => p,
                None => return Err(internal()),
            }
        } else {
            scratch = shard.get(integration_id).cloned().unwrap_or_else(|| {
                Profile::new(self.inner.next_profile_id.load(Ordering::Relaxed), now)
            });
            &mut scratch
        };
        if !new_blob.is_empty() {
            profile.attrs = store::merge_blobs(&profile.attrs, &new_blob);
        }
        // Audience changes are applied only when the Rule Engine runs (inferred from the
        // Third-party API docs: "If false … Audience changes are not applied").
        if run_rule_engine && let Some((adds, deletes)) = &changes {
            for a in adds.iter().flatten() {
                profile.set_audience(*a, true);
            }
            for a in deletes.iter().flatten() {
                profile.set_audience(*a, false);
            }
        }
        profile.apps |= 1 << app;
        profile.last_activity = now;
        if !want_profile && want_lists.is_empty() {
            return Ok(Answer {
                status: StatusCode::OK,
                body: axum::body::Bytes::from_static(EMPTY_INTEGRATION_STATE),
                rule: if persist {
                    Rule::OkProfileUpdated
                } else {
                    Rule::OkProfileDryRun
                },
            });
        }
        let mut out = json!({"effects": [], "createdCoupons": [], "createdReferrals": []});
        if want_profile {
            out["customerProfile"] = cat.profile_json(integration_id, profile);
        }
        for l in want_lists {
            out[l] = json!([]);
        }
        Ok(Answer::json(
            StatusCode::OK,
            if persist {
                Rule::OkProfileUpdated
            } else {
                Rule::OkProfileDryRun
            },
            &out,
        ))
    }

    /// `PUT /v2/customer_profiles?silent=yes|no`.
    pub(crate) fn update_profiles(
        &self,
        app: usize,
        body: &Map<String, Value>,
        silent: bool,
    ) -> Res<Answer> {
        check_keys(body, &["customerProfiles"], "")?;
        let items: &[Value] = match body.get("customerProfiles") {
            None => &[],
            Some(Value::Array(a)) => a,
            Some(v) => return Err(not_array("/customerProfiles", v)),
        };
        too_many(
            items.len(),
            rules::MAX_BATCH_PROFILES,
            Rule::BatchTooManyProfiles,
            "/customerProfiles",
            ("Too many customer profiles", "profiles"),
        )?;
        let cat = read(&self.inner.catalog);
        let mut parsed = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let base = format!("/customerProfiles/{i}");
            let Value::Object(m) = item else {
                return Err(not_object(&base, item));
            };
            check_keys(m, &["integrationId", "attributes"], &base)?;
            let iid = match m.get("integrationId") {
                Some(Value::String(s)) => s.as_str(),
                Some(v) => return Err(wrong_field(&format!("{base}/integrationId"), "string", v)),
                None => return Err(missing(&format!("{base}/integrationId"))),
            };
            rules::check_integration_id(iid).map_err(|d| {
                ApiError::bad_body(
                    Rule::IntegrationIdInvalid,
                    &format!("{base}/integrationId"),
                    "Invalid integrationId",
                    d,
                )
            })?;
            let pairs = match m.get("attributes") {
                None => Vec::new(),
                Some(Value::Object(a)) => {
                    cat.validate_attributes(a, &format!("{base}/attributes"))?
                }
                Some(v) => return Err(not_object(&format!("{base}/attributes"), v)),
            };
            parsed.push((iid, pairs));
        }
        let mut states = Vec::new();
        for (iid, mut pairs) in parsed {
            let blob = store::encode_values(&mut pairs);
            let now = self.now();
            let mut shard = self.inner.profiles.shard(iid);
            if !shard.contains_key(iid) {
                let id = self.inner.next_profile_id.fetch_add(1, Ordering::Relaxed);
                shard.insert(iid.into(), Profile::new(id, now));
            }
            if let Some(p) = shard.get_mut(iid) {
                p.attrs = store::merge_blobs(&p.attrs, &blob);
                p.apps |= 1 << app;
                p.last_activity = now;
                if !silent {
                    states.push(json!({"customerProfile": cat.profile_json(iid, p)}));
                }
            }
        }
        if silent {
            Ok(Answer::no_content(Rule::OkProfilesUpdated))
        } else {
            Ok(Answer::json(
                StatusCode::OK,
                Rule::OkProfilesUpdated,
                &json!({"integrationStates": states}),
            ))
        }
    }

    /// `POST /v2/customer_audiences`.
    pub(crate) fn update_customer_audiences(&self, body: &Map<String, Value>) -> Res<Answer> {
        check_keys(body, &["data"], "")?;
        let items: &[Value] = match body.get("data") {
            Some(Value::Array(a)) => a,
            Some(v) => return Err(not_array("/data", v)),
            None => return Err(missing("/data")),
        };
        too_many(
            items.len(),
            rules::MAX_AUDIENCE_ACTIONS,
            Rule::BatchTooManyAudienceActions,
            "/data",
            ("Too many audience actions", "actions"),
        )?;
        let cat = read(&self.inner.catalog);
        let mut actions = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let base = format!("/data/{i}");
            let Value::Object(m) = item else {
                return Err(not_object(&base, item));
            };
            check_keys(m, &["action", "profileIntegrationId", "audienceId"], &base)?;
            let add = match m.get("action") {
                Some(Value::String(s)) if s == "add" => true,
                Some(Value::String(s)) if s == "delete" => false,
                Some(v) => {
                    return Err(ApiError::bad_body(
                        Rule::BodyInvalidField,
                        &format!("{base}/action"),
                        "Invalid action",
                        format!("expected \"add\" or \"delete\", got {v}"),
                    ));
                }
                None => return Err(missing(&format!("{base}/action"))),
            };
            let iid = match m.get("profileIntegrationId") {
                Some(Value::String(s)) => s.as_str(),
                Some(v) => {
                    return Err(wrong_field(
                        &format!("{base}/profileIntegrationId"),
                        "string",
                        v,
                    ));
                }
                None => return Err(missing(&format!("{base}/profileIntegrationId"))),
            };
            rules::check_integration_id(iid).map_err(|d| {
                ApiError::bad_body(
                    Rule::IntegrationIdInvalid,
                    &format!("{base}/profileIntegrationId"),
                    "Invalid profileIntegrationId",
                    d,
                )
            })?;
            let aid = match m.get("audienceId") {
                Some(v @ Value::Number(n)) => match n.as_i64() {
                    Some(x) => x,
                    None => return Err(wrong_field(&format!("{base}/audienceId"), "integer", v)),
                },
                Some(v) => return Err(wrong_field(&format!("{base}/audienceId"), "integer", v)),
                None => return Err(missing(&format!("{base}/audienceId"))),
            };
            let Some(aid) = u32::try_from(aid)
                .ok()
                .filter(|a| cat.audiences.contains_key(a))
            else {
                return Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    Rule::AudienceUnknown,
                    "Audience not found",
                )
                .pointer(
                    format!("{base}/audienceId"),
                    "Not found",
                    format!("there is no audience with id {aid}"),
                ));
            };
            actions.push((add, iid, aid));
        }
        for (add, iid, aid) in actions {
            let mut shard = self.inner.profiles.shard(iid);
            if add && !shard.contains_key(iid) {
                // Created, but not attached to any application (invisible in the Customers tab).
                let id = self.inner.next_profile_id.fetch_add(1, Ordering::Relaxed);
                shard.insert(iid.into(), Profile::new(id, self.now()));
            }
            if let Some(p) = shard.get_mut(iid) {
                p.set_audience(aid, add);
            }
        }
        Ok(Answer::no_content(Rule::OkCustomerAudiencesUpdated))
    }

    /// `POST /v2/audiences`.
    pub(crate) fn create_audience(&self, body: &Map<String, Value>) -> Res<Answer> {
        check_keys(
            body,
            &[
                "name",
                "sandbox",
                "description",
                "subscribedApplicationsIds",
                "integration",
                "integrationId",
                "createdIn3rdParty",
                "lastUpdate",
            ],
            "",
        )?;
        let name = audience_name(body)?;
        let description = opt_string(body, "description")?;
        let integration = opt_string(body, "integration")?;
        let integration_id = opt_string(body, "integrationId")?;
        if let Some(i) = &integration_id
            && (i.is_empty() || i.chars().count() > 1000)
        {
            return Err(ApiError::bad_body(
                Rule::BodyInvalidField,
                "/integrationId",
                "Invalid integrationId",
                "integrationId must have 1 to 1000 characters".into(),
            ));
        }
        let sandbox = opt_bool(body, "sandbox")?;
        let created3 = opt_bool(body, "createdIn3rdParty")?;
        if let Some(v) = body.get("lastUpdate")
            && !v.as_str().is_some_and(rules::is_rfc3339)
        {
            return Err(wrong_field("/lastUpdate", "RFC 3339 date-time string", v));
        }
        let subs = match body.get("subscribedApplicationsIds") {
            Some(v) => Some(int_array(v, "/subscribedApplicationsIds")?),
            None => None,
        };
        let created = self.now_string();
        let mut cat = write(&self.inner.catalog);
        if let Some(subs) = &subs {
            cat.check_subscribed_applications(subs)?;
        }
        if let Some(iid) = &integration_id
            && cat
                .audiences
                .values()
                .any(|a| a.integration_id.as_ref() == Some(iid) && a.integration == integration)
        {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                Rule::AudienceDuplicateIntegrationId,
                "An audience with this ID already exists for this integration",
            )
            .pointer(
                "/integrationId",
                "Conflict",
                format!(
                    "an audience with integrationId {iid:?} already exists for this integration"
                ),
            ));
        }
        let id = cat.next_audience_id;
        cat.next_audience_id = id.saturating_add(1);
        let a = Audience {
            id: i64::from(id),
            created,
            account_id: cat.account_id,
            name,
            description,
            sandbox,
            integration,
            integration_id,
            created_in3rd_party: created3,
            subscribed_applications_ids: subs,
        };
        let ans = Answer::json(StatusCode::CREATED, Rule::OkAudienceCreated, &a);
        cat.audiences.insert(id, a);
        Ok(ans)
    }

    /// `PUT /v2/audiences/{audienceId}`.
    pub(crate) fn update_audience(&self, audience: i64, body: &Map<String, Value>) -> Res<Answer> {
        check_keys(body, &["name", "subscribedApplicationsIds"], "")?;
        let name = audience_name(body)?;
        let subs = match body.get("subscribedApplicationsIds") {
            Some(v) => Some(int_array(v, "/subscribedApplicationsIds")?),
            None => None,
        };
        let mut cat = write(&self.inner.catalog);
        if u32::try_from(audience)
            .ok()
            .is_none_or(|id| !cat.audiences.contains_key(&id))
        {
            return Err(ApiError::not_found(
                Rule::AudienceNotFound,
                "audienceId",
                "audience",
            ));
        }
        if let Some(subs) = &subs {
            cat.check_subscribed_applications(subs)?;
        }
        let a = u32::try_from(audience)
            .ok()
            .and_then(|id| cat.audiences.get_mut(&id))
            .ok_or_else(|| ApiError::not_found(Rule::AudienceNotFound, "audienceId", "audience"))?;
        a.name = name;
        if subs.is_some() {
            a.subscribed_applications_ids = subs;
        }
        Ok(Answer::json(StatusCode::OK, Rule::OkAudienceUpdated, a))
    }

    /// `DELETE /v2/audiences/{audienceId}` (also removes every membership).
    pub(crate) fn delete_audience(&self, audience: i64) -> Res<Answer> {
        let mut cat = write(&self.inner.catalog);
        let id = u32::try_from(audience)
            .ok()
            .filter(|id| cat.audiences.contains_key(id))
            .ok_or_else(|| ApiError::not_found(Rule::AudienceNotFound, "audienceId", "audience"))?;
        cat.audiences.remove(&id);
        self.remove_members(id);
        Ok(Answer::no_content(Rule::OkAudienceDeleted))
    }

    /// `DELETE /v2/audiences/{audienceId}/memberships`.
    pub(crate) fn delete_memberships(&self, audience: i64) -> Res<Answer> {
        let cat = read(&self.inner.catalog);
        let id = u32::try_from(audience)
            .ok()
            .filter(|id| cat.audiences.contains_key(id))
            .ok_or_else(|| ApiError::not_found(Rule::AudienceNotFound, "audienceId", "audience"))?;
        self.remove_members(id);
        Ok(Answer::no_content(Rule::OkMembershipsDeleted))
    }

    fn remove_members(&self, id: u32) {
        self.inner.profiles.for_each_shard(|s| {
            // Order-independent mutation of every member.
            #[allow(clippy::iter_over_hash_type)]
            for p in s.values_mut() {
                if p.is_member(id) {
                    p.set_audience(id, false);
                }
            }
        });
    }

    /// `PUT /v2/audience_customers/{audienceId}/attributes`.
    pub(crate) fn update_audience_customers(
        &self,
        audience: i64,
        body: &Map<String, Value>,
    ) -> Res<Answer> {
        let cat = read(&self.inner.catalog);
        let id = u32::try_from(audience)
            .ok()
            .filter(|id| cat.audiences.contains_key(id))
            .ok_or_else(|| ApiError::not_found(Rule::AudienceNotFound, "audienceId", "audience"))?;
        let mut pairs = cat.validate_attributes(body, "")?;
        let blob = store::encode_values(&mut pairs);
        let now = self.now();
        self.inner.profiles.for_each_shard(|s| {
            // Order-independent mutation of every member.
            #[allow(clippy::iter_over_hash_type)]
            for p in s.values_mut() {
                if p.is_member(id) {
                    p.attrs = store::merge_blobs(&p.attrs, &blob);
                    p.last_activity = now;
                }
            }
        });
        Ok(Answer::no_content(Rule::OkAudienceCustomersUpdated))
    }

    // ---------------------------------------------------------------- management API

    /// `GET /v1/attributes`.
    pub(crate) fn list_attributes(&self, q: &[(String, String)]) -> Res<Answer> {
        let page = Page::parse(q)?;
        let entity = match query(q, "entity") {
            Some(e) => Some(
                serde_json::from_value::<Entity>(Value::String(e.to_owned())).map_err(|_| {
                    ApiError::bad_param(
                        Rule::QueryInvalid,
                        "entity",
                        "Invalid entity",
                        format!("unknown entity {e:?}"),
                    )
                })?,
            ),
            None => None,
        };
        let ty = query(q, "type");
        let kind = query(q, "kind");
        if let Some(k) = kind
            && k != "builtin"
            && k != "custom"
        {
            return Err(ApiError::bad_param(
                Rule::QueryInvalid,
                "kind",
                "Invalid kind",
                format!("expected builtin or custom, got {k:?}"),
            ));
        }
        let search = query(q, "search").map(str::to_lowercase);
        let cat = read(&self.inner.catalog);
        let mut all: Vec<&Attribute> = cat
            .attributes
            .iter()
            .filter(|a| entity.is_none_or(|e| a.entity == e))
            .filter(|a| ty.is_none_or(|t| a.ty.as_str() == t))
            .filter(|_| kind != Some("builtin"))
            .filter(|a| {
                search.as_deref().is_none_or(|s| {
                    a.name.to_lowercase().contains(s)
                        || a.description.to_lowercase().contains(s)
                        || a.ty.as_str().contains(s)
                })
            })
            .collect();
        all.sort_by_key(|a| a.id);
        let total = all.len();
        let data: Vec<&&Attribute> = all.iter().skip(page.skip).take(page.size).collect();
        Ok(Answer::json(
            StatusCode::OK,
            Rule::OkAttributesListed,
            &json!({"totalResultSize": total, "data": data}),
        ))
    }

    /// `POST /v1/attributes`.
    pub(crate) fn create_attribute(&self, body: &Map<String, Value>) -> Res<Answer> {
        let new = parse_new_attribute(body)?;
        let created = self.now_string();
        let mut cat = write(&self.inner.catalog);
        let id = cat.next_attribute_id;
        let a = Attribute {
            id,
            created,
            account_id: cat.account_id,
            ..new
        };
        cat.add_attribute(a.clone())?;
        Ok(Answer::json(
            StatusCode::CREATED,
            Rule::OkAttributeCreated,
            &a,
        ))
    }

    /// `GET /v1/attributes/{attributeId}`.
    pub(crate) fn get_attribute(&self, id: i64) -> Res<Answer> {
        let cat = read(&self.inner.catalog);
        let a = cat.attributes.iter().find(|a| a.id == id).ok_or_else(|| {
            ApiError::not_found(Rule::AttributeNotFound, "attributeId", "attribute")
        })?;
        Ok(Answer::json(StatusCode::OK, Rule::OkAttribute, a))
    }

    /// `PUT /v1/attributes/{attributeId}`: only non-identifying fields may change.
    pub(crate) fn update_attribute(&self, id: i64, body: &Map<String, Value>) -> Res<Answer> {
        let new = parse_new_attribute(body)?;
        let mut cat = write(&self.inner.catalog);
        let a = cat
            .attributes
            .iter_mut()
            .find(|a| a.id == id)
            .ok_or_else(|| {
                ApiError::not_found(Rule::AttributeNotFound, "attributeId", "attribute")
            })?;
        for (field, same) in [
            ("entity", a.entity == new.entity),
            ("name", a.name == new.name),
            ("type", a.ty == new.ty),
            ("eventType", a.event_type == new.event_type),
        ] {
            if !same {
                return Err(ApiError::bad_body(
                    Rule::AttributeImmutable,
                    &format!("/{field}"),
                    "Attribute field cannot be changed",
                    format!(
                        "the {field} of an existing attribute cannot be changed; create a new attribute instead"
                    ),
                ));
            }
        }
        a.title = new.title;
        a.description = new.description;
        a.suggestions = new.suggestions;
        a.has_allowed_list = new.has_allowed_list;
        a.restricted_by_suggestions = new.restricted_by_suggestions;
        a.editable = new.editable;
        a.subscribed_applications_ids = new.subscribed_applications_ids;
        Ok(Answer::json(StatusCode::OK, Rule::OkAttributeUpdated, a))
    }

    /// `GET /v1/audiences`.
    pub(crate) fn list_audiences(&self, q: &[(String, String)]) -> Res<Answer> {
        let page = Page::parse(q)?;
        let cat = read(&self.inner.catalog);
        let all: Vec<&Audience> = cat.audiences.values().collect();
        Ok(Answer::json(
            StatusCode::OK,
            Rule::OkAudiencesListed,
            &page.wrap(&all),
        ))
    }

    /// `GET /v1/applications`: `{totalResultSize, data}`, by id. The state
    /// holds only id and name; the other required fields are filled with
    /// fixed values (chosen here: CONTRACT.md).
    pub(crate) fn list_applications(&self, q: &[(String, String)]) -> Res<Answer> {
        let page = Page::parse(q)?;
        let cat = read(&self.inner.catalog);
        let mut apps: Vec<&Application> = cat.applications.iter().collect();
        apps.sort_by_key(|a| a.id);
        let data: Vec<Value> = apps
            .iter()
            .skip(page.skip)
            .take(page.size)
            .map(|a| {
                json!({
                    "id": a.id,
                    "created": "2024-01-01T00:00:00Z",
                    "modified": "2024-01-01T00:00:00Z",
                    "accountId": cat.account_id,
                    "name": a.name,
                    "timezone": "UTC",
                    "currency": "EUR",
                    "loyaltyPrograms": [],
                })
            })
            .collect();
        Ok(Answer::json(
            StatusCode::OK,
            Rule::OkApplicationsListed,
            &json!({"totalResultSize": apps.len(), "data": data}),
        ))
    }

    /// `GET /v1/applications/{applicationId}/customers`.
    pub(crate) fn list_customers(&self, app_id: i64, q: &[(String, String)]) -> Res<Answer> {
        let page = Page::parse(q)?;
        let cat = read(&self.inner.catalog);
        let pos = cat.app_pos(app_id).ok_or_else(|| {
            ApiError::not_found(Rule::ApplicationNotFound, "applicationId", "application")
        })?;
        let bit = 1u64 << pos;
        let mut found: Vec<(u32, Value)> = Vec::new();
        if let Some(iid) = query(q, "integrationId") {
            let shard = self.inner.profiles.shard(iid);
            if let Some(p) = shard.get(iid).filter(|p| p.apps & bit != 0) {
                found.push((p.id, cat.profile_json(iid, p)));
            }
        } else {
            let mut hits: Vec<(u32, Box<str>)> = Vec::new();
            self.inner.profiles.for_each_shard(|s| {
                hits.extend(
                    s.iter()
                        .filter(|(_, p)| p.apps & bit != 0)
                        .map(|(k, p)| (p.id, k.clone())),
                );
            });
            hits.sort();
            for (_, iid) in hits.iter().skip(page.skip).take(page.size) {
                let shard = self.inner.profiles.shard(iid);
                if let Some(p) = shard.get(iid) {
                    found.push((p.id, cat.profile_json(iid, p)));
                }
            }
            let total = hits.len();
            let data: Vec<Value> = found.into_iter().map(|(_, v)| v).collect();
            return Ok(Answer::json(
                StatusCode::OK,
                Rule::OkCustomersListed,
                &page.wrap_total(data, total),
            ));
        }
        let total = found.len();
        let data: Vec<Value> = found
            .into_iter()
            .skip(page.skip)
            .take(page.size)
            .map(|(_, v)| v)
            .collect();
        Ok(Answer::json(
            StatusCode::OK,
            Rule::OkCustomersListed,
            &page.wrap_total(data, total),
        ))
    }

    /// `GET /v1/applications/{applicationId}/customers/{customerId}`.
    pub(crate) fn get_customer(&self, app_id: i64, customer: i64) -> Res<Answer> {
        let cat = read(&self.inner.catalog);
        let pos = cat.app_pos(app_id).ok_or_else(|| {
            ApiError::not_found(Rule::ApplicationNotFound, "applicationId", "application")
        })?;
        let bit = 1u64 << pos;
        let mut out = None;
        self.inner.profiles.for_each_shard(|s| {
            if out.is_none()
                && let Some((k, p)) = s
                    .iter()
                    .find(|(_, p)| i64::from(p.id) == customer && p.apps & bit != 0)
            {
                out = Some(cat.profile_json(k, p));
            }
        });
        match out {
            Some(v) => Ok(Answer::json(StatusCode::OK, Rule::OkCustomer, &v)),
            None => Err(ApiError::not_found(
                Rule::CustomerNotFound,
                "customerId",
                "customer profile",
            )),
        }
    }
}

const EMPTY_INTEGRATION_STATE: &[u8] =
    br#"{"effects":[],"createdCoupons":[],"createdReferrals":[]}"#;

fn unreachable_empty() -> Fake {
    // `Fake::new` cannot fail for an empty state; this keeps `with_default_state` total.
    Fake {
        inner: Arc::new(Shared {
            config: FakeConfig::default(),
            tick: AtomicU64::new(0),
            initial: Mutex::new(StateFile::empty()),
            catalog: RwLock::new(Catalog::default()),
            profiles: Profiles::new(),
            next_profile_id: AtomicU32::new(1),
            inflight: Mutex::new(FxHashMap::default()),
            journal: Mutex::new(Journal::new(DEFAULT_JOURNAL_CAP, DEFAULT_JOURNAL_MAX_BYTES)),
            faults: Mutex::new(FaultEngine::new(FaultPlan::default())),
            faults_active: std::sync::atomic::AtomicBool::new(false),
        }),
    }
}

impl Catalog {
    /// One stored profile in the state-file format.
    fn profile_record(&self, iid: &str, p: &Profile) -> ProfileRecord {
        ProfileRecord {
            integration_id: iid.to_owned(),
            id: i64::from(p.id),
            created: rules::format_time(p.created),
            last_activity: Some(rules::format_time(p.last_activity)),
            attributes: self.attrs_map(&p.attrs),
            audiences: p.audiences.iter().map(|a| i64::from(*a)).collect(),
            applications: self
                .applications
                .iter()
                .enumerate()
                .filter(|(i, _)| p.apps & (1 << i) != 0)
                .map(|(_, a)| a.id)
                .collect(),
        }
    }

    /// Everything but the profiles in the state-file format, every list sorted.
    fn dump_without_profiles(&self) -> StateFile {
        let mut integration_keys: Vec<IntegrationKey> = self
            .integration_keys
            .iter()
            .map(|(k, pos)| IntegrationKey {
                key: k.clone(),
                application_id: self.applications[*pos].id,
            })
            .collect();
        integration_keys.sort_by(|a, b| a.key.cmp(&b.key));
        let mut management_keys: Vec<String> = self.management_keys.iter().cloned().collect();
        management_keys.sort();
        let mut attributes = self.attributes.clone();
        attributes.sort_by_key(|a| a.id);
        StateFile {
            account_id: self.account_id,
            applications: self.applications.clone(),
            integration_keys,
            management_keys,
            attributes,
            audiences: self.audiences.values().cloned().collect(),
            profiles: Vec::new(),
        }
    }

    fn app_pos(&self, id: i64) -> Option<usize> {
        self.applications.iter().position(|a| a.id == id)
    }

    /// An audience's `subscribedApplicationsIds`: unique (OAS `uniqueItems: true`) and each an
    /// application of the deployment; 400 with a pointer at the first offending item otherwise.
    fn check_subscribed_applications(&self, ids: &[i64]) -> Res<()> {
        for (i, id) in ids.iter().enumerate() {
            let pointer = format!("/subscribedApplicationsIds/{i}");
            if ids[..i].contains(id) {
                return Err(ApiError::bad_body(
                    Rule::AudienceDuplicateApplication,
                    &pointer,
                    "Duplicate application id",
                    format!("application {id} is listed more than once; the ids must be unique"),
                ));
            }
            if self.app_pos(*id).is_none() {
                return Err(ApiError::bad_body(
                    Rule::AudienceUnknownApplication,
                    &pointer,
                    "Unknown application",
                    format!("there is no application with id {id}"),
                ));
            }
        }
        Ok(())
    }

    fn add_attribute(&mut self, a: Attribute) -> Res<()> {
        let idx = AttrIdx::try_from(self.attributes.len()).map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                Rule::AttributeTooMany,
                "too many attributes",
            )
        })?;
        if !rules::is_valid_attribute_name(&a.name) {
            return Err(ApiError::bad_body(
                Rule::AttributeInvalidName,
                "/name",
                "Invalid attribute name",
                format!("{:?} does not match ^[A-Za-z]\\w*$", a.name),
            ));
        }
        if self.attributes.iter().any(|b| b.id == a.id) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                Rule::AttributeDuplicate,
                format!("duplicate attribute id {}", a.id),
            ));
        }
        if self
            .attributes
            .iter()
            .any(|b| b.entity == a.entity && b.name == a.name && b.event_type == a.event_type)
        {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                Rule::AttributeDuplicate,
                format!(
                    "an attribute named {:?} already exists for entity {:?}",
                    a.name, a.entity
                ),
            )
            .pointer(
                "/name",
                "Attribute already exists",
                format!(
                    "an attribute named {:?} already exists for this entity",
                    a.name
                ),
            ));
        }
        if self
            .attributes
            .iter()
            .any(|b| b.entity == a.entity && b.title == a.title && b.event_type == a.event_type)
        {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                Rule::AttributeDuplicate,
                format!(
                    "an attribute titled {:?} already exists for entity {:?}",
                    a.title, a.entity
                ),
            )
            .pointer(
                "/title",
                "Attribute already exists",
                format!(
                    "an attribute titled {:?} already exists for this entity",
                    a.title
                ),
            ));
        }
        if a.entity == Entity::CustomerProfile {
            self.profile_attrs
                .insert(a.name.as_str().into(), (idx, a.ty));
        }
        self.next_attribute_id = self.next_attribute_id.max(a.id.saturating_add(1));
        self.attributes.push(a);
        Ok(())
    }

    /// Checks every attribute of a request; all problems are reported together.
    fn validate_attributes<'a>(
        &self,
        attrs: &'a Map<String, Value>,
        base: &str,
    ) -> Res<Vec<(AttrIdx, &'a Value)>> {
        let mut out = Vec::with_capacity(attrs.len());
        let mut err: Option<ApiError> = None;
        for (name, value) in attrs {
            let problem = match self.profile_attrs.get(name.as_str()) {
                None => Some((
                    Rule::AttributeUnknown,
                    "Unknown attribute",
                    format!(
                        "attribute {name:?} is not defined for entity CustomerProfile (names are case-sensitive)"
                    ),
                    String::new(),
                )),
                Some((idx, ty)) => match rules::check_value(*ty, value) {
                    Ok(()) => {
                        out.push((*idx, value));
                        None
                    }
                    Err(p) => Some((
                        Rule::AttributeType,
                        "Invalid attribute value",
                        format!("attribute {name:?} has type {}: {p}", ty.as_str()),
                        p.pointer_suffix(),
                    )),
                },
            };
            if let Some((rule, title, details, suffix)) = problem {
                let pointer = format!("{base}/{}{suffix}", escape_pointer(name));
                err = Some(match err {
                    None => ApiError::new(StatusCode::BAD_REQUEST, rule, details.clone())
                        .pointer(pointer, title, details),
                    Some(e) => e.pointer(pointer, title, details),
                });
            }
        }
        match err {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }

    fn attrs_map(&self, blob: &[u8]) -> Map<String, Value> {
        let mut pairs: Vec<(&str, Value)> = store::blob_entries(blob)
            .filter_map(|(idx, bytes)| {
                let a = self.attributes.get(usize::from(idx))?;
                Some((
                    a.name.as_str(),
                    serde_json::from_slice(bytes).unwrap_or(Value::Null),
                ))
            })
            .collect();
        pairs.sort_by(|a, b| a.0.cmp(b.0));
        pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    }

    fn profile_json(&self, integration_id: &str, p: &Profile) -> Value {
        let memberships: Vec<Value> = p
            .audiences
            .iter()
            .filter_map(|a| {
                self.audiences
                    .get(a)
                    .map(|au| json!({"id": au.id, "name": au.name}))
            })
            .collect();
        json!({
            "id": p.id,
            "created": rules::format_time(p.created),
            "integrationId": integration_id,
            "attributes": self.attrs_map(&p.attrs),
            "accountId": self.account_id,
            "closedSessions": 0,
            "totalSales": 0,
            "lastActivity": rules::format_time(p.last_activity),
            "audienceMemberships": memberships,
            "sandbox": false,
        })
    }
}

fn split_auth(h: Option<&HeaderValue>) -> Res<(&str, &str)> {
    let Some(h) = h else {
        return Err(unauthorized(
            Rule::AuthMissing,
            "the Authorization header is missing",
        ));
    };
    let s = h.to_str().map_err(|_| {
        unauthorized(
            Rule::AuthMalformed,
            "the Authorization header is not valid text",
        )
    })?;
    match s.split_once(' ') {
        Some((scheme, key)) if !key.is_empty() && !key.contains(' ') => Ok((scheme, key)),
        _ => Err(unauthorized(
            Rule::AuthMalformed,
            "expected \"Authorization: <scheme> <key>\"",
        )),
    }
}

fn unauthorized(rule: Rule, details: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, rule, "Invalid API key").parameter(
        "Authorization",
        "Invalid API key",
        details,
    )
}

fn internal() -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        Rule::Internal,
        "internal error",
    )
}

fn display_opt(a: Option<u32>) -> String {
    a.map_or_else(|| "(out of range)".to_owned(), |a| a.to_string())
}

/// Rejects keys not in `allowed` (request bodies are strict here; chosen, see `CONTRACT.md`).
pub(crate) fn check_keys(m: &Map<String, Value>, allowed: &[&str], base: &str) -> Res<()> {
    for k in m.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(ApiError::bad_body(
                Rule::BodyUnknownField,
                &format!("{base}/{}", escape_pointer(k)),
                "Unknown field",
                format!(
                    "{k:?} is not a field of this request; expected one of: {}",
                    allowed.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

fn missing(pointer: &str) -> ApiError {
    ApiError::bad_body(
        Rule::BodyMissingField,
        pointer,
        "Missing required field",
        format!("{pointer} is required"),
    )
}

fn wrong_field(pointer: &str, expected: &str, v: &Value) -> ApiError {
    ApiError::bad_body(
        Rule::BodyInvalidField,
        pointer,
        "Invalid field type",
        format!("{pointer} must be {expected}, got {}", rules::kind_name(v)),
    )
}

fn not_object(pointer: &str, v: &Value) -> ApiError {
    wrong_field(pointer, "an object", v)
}

fn not_array(pointer: &str, v: &Value) -> ApiError {
    wrong_field(pointer, "an array", v)
}

fn int_array(v: &Value, pointer: &str) -> Res<Vec<i64>> {
    let Value::Array(items) = v else {
        return Err(not_array(pointer, v));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, x)| {
            x.as_i64()
                .ok_or_else(|| wrong_field(&format!("{pointer}/{i}"), "an integer", x))
        })
        .collect()
}

/// Audience ids of a request; `None` for ids that cannot exist (negative or too large).
type AudienceIds = Vec<Option<u32>>;

/// `audiencesChanges`: an object with both `adds` and `deletes`, arrays of integers.
/// Ids that do not fit a `u32` are kept as `None` (reported as unknown audiences).
fn parse_audience_changes(v: &Value) -> Res<(AudienceIds, AudienceIds)> {
    let Value::Object(m) = v else {
        return Err(not_object("/audiencesChanges", v));
    };
    check_keys(m, &["adds", "deletes"], "/audiencesChanges")?;
    let get = |k: &str| -> Res<Vec<Option<u32>>> {
        let p = format!("/audiencesChanges/{k}");
        let v = m.get(k).ok_or_else(|| missing(&p))?;
        Ok(int_array(v, &p)?
            .into_iter()
            .map(|x| u32::try_from(x).ok())
            .collect())
    };
    Ok((get("adds")?, get("deletes")?))
}

fn audience_name(body: &Map<String, Value>) -> Res<String> {
    match body.get("name") {
        Some(Value::String(s)) if !s.is_empty() && s.chars().count() <= 1000 => Ok(s.clone()),
        Some(Value::String(_)) => Err(ApiError::bad_body(
            Rule::BodyInvalidField,
            "/name",
            "Invalid name",
            "name must have 1 to 1000 characters".into(),
        )),
        Some(v) => Err(wrong_field("/name", "a string", v)),
        None => Err(missing("/name")),
    }
}

fn opt_string(body: &Map<String, Value>, k: &str) -> Res<Option<String>> {
    match body.get(k) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v) => Err(wrong_field(&format!("/{k}"), "a string", v)),
    }
}

fn opt_bool(body: &Map<String, Value>, k: &str) -> Res<Option<bool>> {
    match body.get(k) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(v) => Err(wrong_field(&format!("/{k}"), "a boolean", v)),
    }
}

/// Validates a `NewAttribute` body (also the body of `PUT /v1/attributes/{id}`).
fn parse_new_attribute(body: &Map<String, Value>) -> Res<Attribute> {
    check_keys(
        body,
        &[
            "entity",
            "eventType",
            "name",
            "title",
            "type",
            "description",
            "suggestions",
            "hasAllowedList",
            "restrictedBySuggestions",
            "editable",
            "subscribedApplicationsIds",
            "subscribedCatalogsIds",
            "allowedSubscriptions",
        ],
        "",
    )?;
    for k in [
        "entity",
        "name",
        "title",
        "type",
        "description",
        "suggestions",
        "editable",
    ] {
        if !body.contains_key(k) {
            return Err(missing(&format!("/{k}")));
        }
    }
    let entity_v = &body["entity"];
    let entity: Entity = serde_json::from_value(entity_v.clone()).map_err(|_| {
        ApiError::bad_body(Rule::AttributeInvalidEntity, "/entity", "Invalid entity", format!("{entity_v} is not one of Application, Campaign, CustomerProfile, CustomerSession, CartItem, Coupon, Event, Giveaway, LoyaltyCard, Referral, Store"))
    })?;
    let name = opt_string(body, "name")?.unwrap_or_default();
    if !rules::is_valid_attribute_name(&name) {
        return Err(ApiError::bad_body(
            Rule::AttributeInvalidName,
            "/name",
            "Invalid attribute name",
            format!("{name:?} does not match ^[A-Za-z]\\w*$"),
        ));
    }
    let title = opt_string(body, "title")?.unwrap_or_default();
    if !rules::is_valid_attribute_title(&title) {
        return Err(ApiError::bad_body(
            Rule::AttributeInvalidTitle,
            "/title",
            "Invalid attribute title",
            format!("{title:?} does not match ^[A-Za-z][A-Za-z0-9_.!~*'() -]*$"),
        ));
    }
    let ty_v = &body["type"];
    let ty: AttrType = serde_json::from_value(ty_v.clone()).map_err(|_| {
        ApiError::bad_body(Rule::AttributeInvalidType, "/type", "Invalid attribute type", format!("{ty_v} is not one of string, number, boolean, time, (list string), (list number), (list time), location, (list location)"))
    })?;
    let description = opt_string(body, "description")?.unwrap_or_default();
    let suggestions = match &body["suggestions"] {
        Value::Array(items) => {
            if items.len() > rules::MAX_SUGGESTIONS {
                return Err(ApiError::bad_body(
                    Rule::AttributeInvalidSuggestions,
                    "/suggestions",
                    "Too many suggestions",
                    format!("at most {} suggestions are allowed", rules::MAX_SUGGESTIONS),
                ));
            }
            items
                .iter()
                .enumerate()
                .map(|(i, s)| match s {
                    Value::String(s) if !s.is_empty() => Ok(s.clone()),
                    _ => Err(wrong_field(
                        &format!("/suggestions/{i}"),
                        "a non-empty string",
                        s,
                    )),
                })
                .collect::<Res<Vec<String>>>()?
        }
        v => return Err(not_array("/suggestions", v)),
    };
    let editable = opt_bool(body, "editable")?.unwrap_or(true);
    let event_type = opt_string(body, "eventType")?;
    let subs = match body.get("subscribedApplicationsIds") {
        Some(v) => int_array(v, "/subscribedApplicationsIds")?,
        None => Vec::new(),
    };
    if let Some(v) = body.get("subscribedCatalogsIds") {
        int_array(v, "/subscribedCatalogsIds")?;
    }
    if let Some(v) = body.get("allowedSubscriptions") {
        let ok = v.as_array().is_some_and(|a| {
            a.len() <= 2
                && a.iter().all(|x| {
                    x.as_str()
                        .is_some_and(|s| s == "application" || s == "catalog")
                })
        });
        if !ok {
            return Err(wrong_field(
                "/allowedSubscriptions",
                "at most 2 of \"application\", \"catalog\"",
                v,
            ));
        }
    }
    Ok(Attribute {
        id: 0,
        created: String::new(),
        account_id: 0,
        entity,
        event_type,
        name,
        title,
        ty,
        description,
        suggestions,
        has_allowed_list: opt_bool(body, "hasAllowedList")?.unwrap_or(false),
        restricted_by_suggestions: opt_bool(body, "restrictedBySuggestions")?.unwrap_or(false),
        editable,
        subscribed_applications_ids: subs,
    })
}

/// The first value of a query parameter.
pub(crate) fn query<'a>(q: &'a [(String, String)], k: &str) -> Option<&'a str> {
    q.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str())
}

/// `pageSize` (1..=1000, default 1000), `skip` (≥ 0), `withTotalResultSize`.
struct Page {
    size: usize,
    skip: usize,
    with_total: bool,
}

impl Page {
    fn parse(q: &[(String, String)]) -> Res<Self> {
        let num = |k: &str, default: usize, min: usize, max: usize| -> Res<usize> {
            match query(q, k) {
                None => Ok(default),
                Some(s) => s
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (min..=max).contains(n))
                    .ok_or_else(|| {
                        ApiError::bad_param(
                            Rule::QueryInvalid,
                            k,
                            "Invalid query parameter",
                            format!("{k} must be an integer in {min}..={max}, got {s:?}"),
                        )
                    }),
            }
        };
        let with_total = match query(q, "withTotalResultSize") {
            None | Some("false") => false,
            Some("true") => true,
            Some(s) => {
                return Err(ApiError::bad_param(
                    Rule::QueryInvalid,
                    "withTotalResultSize",
                    "Invalid query parameter",
                    format!("withTotalResultSize must be true or false, got {s:?}"),
                ));
            }
        };
        Ok(Self {
            size: num("pageSize", 1000, 1, 1000)?,
            skip: num("skip", 0, 0, usize::MAX)?,
            with_total,
        })
    }

    fn wrap<T: serde::Serialize>(&self, all: &[T]) -> Value {
        let data: Vec<&T> = all.iter().skip(self.skip).take(self.size).collect();
        self.wrap_total(data, all.len())
    }

    fn wrap_total<T: serde::Serialize>(&self, data: Vec<T>, total: usize) -> Value {
        if self.with_total {
            json!({"totalResultSize": total, "data": data})
        } else {
            json!({"hasMore": self.skip.saturating_add(data.len()) < total, "data": data})
        }
    }
}

/// 400 when a batch holds more than `max` items (`title`, and the plural noun for the details).
fn too_many(
    len: usize,
    max: usize,
    rule: Rule,
    pointer: &str,
    (title, noun): (&str, &str),
) -> Result<(), ApiError> {
    if len <= max {
        return Ok(());
    }
    Err(ApiError::bad_body(
        rule,
        pointer,
        title,
        format!("{len} {noun} sent; at most {max} are allowed per request"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event_attribute(id: i64, name: &str) -> Attribute {
        serde_json::from_value(json!({"id": id, "created": "2024-01-01T00:00:00Z", "entity": "Event", "name": name, "title": name, "type": "string", "description": "", "suggestions": [], "editable": true}))
            .expect("attribute")
    }

    #[test]
    fn the_catalog_holds_65536_attributes_and_refuses_the_next_with_attribute_too_many() {
        let mut cat = Catalog {
            attributes: vec![event_attribute(1, "same"); usize::from(AttrIdx::MAX)],
            ..Catalog::default()
        };
        assert_eq!(
            cat.add_attribute(event_attribute(2, "last"))
                .map_err(|e| e.rule),
            Ok(())
        );
        let err = cat
            .add_attribute(event_attribute(3, "oneMore"))
            .expect_err("the index is full");
        assert_eq!(
            (err.status, err.rule),
            (StatusCode::BAD_REQUEST, Rule::AttributeTooMany)
        );
        assert_eq!(cat.attributes.len(), usize::from(AttrIdx::MAX) + 1);
    }
}
