//! Scripted, deterministic fault injection: status answers, delays, dropped connections, late
//! requests and late responses, a rate limit.
//!
//! A [`FaultPlan`] is a list of rules tried in order for every request outside
//! `/__admin`. The first rule that matches (method, path prefix, integration
//! id), still has uses left (`times`) and wins its seeded coin toss
//! (`probability`) fires.
//!
//! # What is deterministic, and what is not
//!
//! The coin of `probability` is drawn per request, not from one generator
//! consumed in arrival order: the draw for rule `i` is a pure function of
//! the plan's `seed`, `i`, the request's key (method, path and a digest of
//! its body, see [`RequestKey`]) and `n`, how many earlier requests with the
//! same key this plan already faulted. A retry of a faulted request therefore
//! draws afresh, and every draw is the same on every run, whatever the
//! concurrency and whatever other requests were decided before. The hash is
//! FNV-1a for the key and SplitMix64 to mix it with the seed, rule and `n`,
//! both written out here (not `std`'s `DefaultHasher`, whose algorithm may
//! change between Rust releases), so a plan and seed give the same faults
//! on every platform and toolchain.
//!
//! Two things stay order-dependent, by nature:
//! - `times` counts firings across all requests a rule matches: with several
//!   profiles matching one rule, which of them gets the first `times` firings
//!   depends on arrival order. Give such a rule an `integration_id` (one
//!   profile's requests arrive in order when the client keeps one request in
//!   flight per profile) for a reproducible plan.
//! - `rate_limit_per_sec` is a token bucket over time: which requests it
//!   refuses depends on timing.
//!
//! Seeded rules with `probability` and no `times`, and `times` rules bound to
//! one profile, are reproducible; `fixtures/talon/faults-example.json` uses only those.
//!
//! # Late requests and late responses
//!
//! Two faults model a request whose fate the client cannot know:
//! - `{"late_request": {"after_requests": N, "max_ms": M}}`: the request
//!   reaches Talon.One after the client gave up on it. The fake answers the
//!   attempt by dropping the connection (to the client this is what a timeout
//!   is: no answer, the request may or may not have been applied), keeps the
//!   request, and applies it once `N` more updates of the same profile were
//!   applied, right after the `N`-th and before its answer, or after `M`
//!   milliseconds, whichever comes first. A client that retried has then
//!   already applied the same update and maybe newer ones: the late copy
//!   writes old values over them. The trigger is ordering-based, so tests
//!   need no race; `M` only bounds how long a request is held when no
//!   further update comes. Only `PUT /v2/customer_profiles/{id}` can be held;
//!   replacing the plan or resetting the fake drops what is held.
//! - `{"late_response_ms": M}`: the request is applied at once, but its answer
//!   is sent `M` milliseconds later (the profile's in-flight slot is released
//!   when the update is done). A client whose time limit is shorter than `M`
//!   retries, and the retry applies the same update a second time.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::store::FxHashMap;

/// The path prefix of single-profile updates, the only requests a late request can hold.
pub(crate) const PROFILE_PREFIX: &str = "/v2/customer_profiles/";

/// The longest `max_ms` or `late_response_ms` a plan may ask for: one hour.
pub const MAX_LATE_MS: u64 = 3_600_000;

/// What a firing rule answers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultResponse {
    /// `{"status": 503}`: answer with this status (429, 500, 502 or 503) in Talon.One's envelope.
    Status(u16),
    /// `{"delay_ms": 250}`: wait, then process the request normally.
    DelayMs(u64),
    /// `"drop_connection"`: abort the connection without a complete response (nothing is applied).
    DropConnection,
    /// `{"late_request": {"after_requests": 2, "max_ms": 2000}}`: drop the connection, keep
    /// the request and apply it later, over newer updates (see the module docs).
    LateRequest(LateRequest),
    /// `{"late_response_ms": 5000}`: apply the request at once, answer this much later.
    LateResponseMs(u64),
}

/// When a held late request is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LateRequest {
    /// Applied right after this many more updates of the same profile were applied (at least 1).
    pub after_requests: u32,
    /// Or after this many milliseconds, whichever comes first (1 to one hour).
    pub max_ms: u64,
}

/// One rule of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// HTTP method to match (any if absent), case-insensitive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Path prefix to match, e.g. `/v2/customer_profiles/` (any if absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
    /// Customer profile integration id to match, for `/v2/customer_profiles/{id}` (any if absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_id: Option<String>,
    /// What to answer.
    pub respond: FaultResponse,
    /// How many times the rule may fire (unlimited if absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
    /// Chance in [0, 1] that a matching request fires the rule (always if absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
}

/// A fault plan (the JSON file given to `--faults`, or `PUT /__admin/faults`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultPlan {
    /// Seed of the coin used by `probability`.
    #[serde(default)]
    pub seed: u64,
    /// Rules, tried in order.
    #[serde(default)]
    pub rules: Vec<FaultRule>,
    /// If set, requests beyond this many per second (token bucket, burst = rate) get 429.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit_per_sec: Option<u32>,
}

/// Why a fault plan was refused.
#[derive(Debug, thiserror::Error)]
pub enum FaultPlanError {
    /// Not valid JSON for the format.
    #[error("invalid fault plan: {0}")]
    Json(#[from] serde_json::Error),
    /// A plan-wide setting out of range.
    #[error("invalid fault plan: {0}")]
    Plan(String),
    /// A rule with an unsupported status, probability or timing.
    #[error("invalid fault rule {index}: {reason}")]
    Rule {
        /// Index of the rule.
        index: usize,
        /// What is wrong.
        reason: String,
    },
}

impl FaultPlan {
    /// Parses and checks a plan.
    pub fn from_json(s: &str) -> Result<Self, FaultPlanError> {
        let plan: Self = serde_json::from_str(s)?;
        plan.validate()?;
        Ok(plan)
    }

    /// Checks statuses (429, 500, 502, 503), probabilities (0..=1), and that late requests
    /// and late responses have timings in range and late requests can match a profile update.
    pub fn validate(&self) -> Result<(), FaultPlanError> {
        for (index, r) in self.rules.iter().enumerate() {
            let refuse = |reason: String| Err(FaultPlanError::Rule { index, reason });
            match r.respond {
                FaultResponse::Status(s) if ![429, 500, 502, 503].contains(&s) => {
                    return refuse(format!("status {s} is not one of 429, 500, 502, 503"));
                }
                FaultResponse::LateRequest(late) => {
                    if late.after_requests == 0 {
                        return refuse("late_request.after_requests must be at least 1".into());
                    }
                    if !(1..=MAX_LATE_MS).contains(&late.max_ms) {
                        return refuse(format!(
                            "late_request.max_ms {} is not in 1..={MAX_LATE_MS}",
                            late.max_ms
                        ));
                    }
                    if r.method
                        .as_deref()
                        .is_some_and(|m| !m.eq_ignore_ascii_case("PUT"))
                    {
                        return refuse(
                            "late_request holds only PUT /v2/customer_profiles/{id}: method must be PUT or absent"
                                .into(),
                        );
                    }
                    if let Some(p) = r.path_prefix.as_deref()
                        && !(PROFILE_PREFIX.starts_with(p) || p.starts_with(PROFILE_PREFIX))
                    {
                        return refuse(format!(
                            "late_request holds only PUT /v2/customer_profiles/{{id}}: path_prefix {p:?} can never match one"
                        ));
                    }
                }
                FaultResponse::LateResponseMs(ms) if !(1..=MAX_LATE_MS).contains(&ms) => {
                    return refuse(format!("late_response_ms {ms} is not in 1..={MAX_LATE_MS}"));
                }
                _ => {}
            }
            if let Some(p) = r.probability
                && !(0.0..=1.0).contains(&p)
            {
                return refuse(format!("probability {p} is not in [0, 1]"));
            }
        }
        if self.rate_limit_per_sec == Some(0) {
            return Err(FaultPlanError::Plan(
                "rate_limit_per_sec must be at least 1 (leave it out for no limit)".into(),
            ));
        }
        Ok(())
    }
}

/// What identifies a request for the coin: method, path and body, digested with FNV-1a.
///
/// Two requests with the same key are the same request to the plan (a retry, or the
/// same update sent twice); they are told apart only by `n`, the count of earlier
/// faulted ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestKey(pub u64);

impl RequestKey {
    /// The key of a request: FNV-1a 64 over `method`, a 0 byte, `path`, a 0 byte and `body`.
    pub fn new(method: &str, path: &str, body: &[u8]) -> Self {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for part in [method.as_bytes(), b"\0", path.as_bytes(), b"\0", body] {
            for b in part {
                h ^= u64::from(*b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        }
        Self(h)
    }
}

/// SplitMix64's finaliser: a stable, well-mixed 64-bit permutation.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The coin of rule `rule` for the `n`-th faulted-before request with `key`: a number in [0, 1).
/// A pure function of its inputs: a `ChaCha8Rng` seeded from their mixed hash.
pub fn coin(seed: u64, rule: usize, key: RequestKey, n: u32) -> f64 {
    let h = mix(seed ^ mix(rule as u64 ^ mix(key.0 ^ mix(u64::from(n)))));
    ChaCha8Rng::seed_from_u64(h).random::<f64>()
}

/// What the engine decided for one request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum FaultAction {
    None,
    Respond(FaultResponse),
}

/// A held late request: applied when `remaining` more updates of its profile were applied.
#[derive(Debug)]
struct Held<T> {
    ticket: u64,
    remaining: u32,
    payload: T,
}

/// Late requests held per profile, in the order they were held.
#[derive(Debug)]
pub(crate) struct LateRequests<T> {
    next_ticket: u64,
    by_profile: FxHashMap<Box<str>, Vec<Held<T>>>,
}

impl<T> Default for LateRequests<T> {
    fn default() -> Self {
        Self {
            next_ticket: 1,
            by_profile: FxHashMap::default(),
        }
    }
}

impl<T> LateRequests<T> {
    /// Holds `payload` for `profile` until `after` more of its updates were applied; the ticket
    /// names it for [`LateRequests::take`].
    pub(crate) fn hold(&mut self, profile: &str, after: u32, payload: T) -> u64 {
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        self.by_profile
            .entry(profile.into())
            .or_default()
            .push(Held {
                ticket,
                remaining: after,
                payload,
            });
        ticket
    }

    /// One more update of `profile` was applied: what is now due, oldest first.
    pub(crate) fn applied(&mut self, profile: &str) -> Vec<T> {
        let Some(list) = self.by_profile.get_mut(profile) else {
            return Vec::new();
        };
        let mut due = Vec::new();
        let mut kept = Vec::with_capacity(list.len());
        for mut h in list.drain(..) {
            h.remaining = h.remaining.saturating_sub(1);
            if h.remaining == 0 {
                due.push(h.payload);
            } else {
                kept.push(h);
            }
        }
        if kept.is_empty() {
            self.by_profile.remove(profile);
        } else {
            *list = kept;
        }
        due
    }

    /// Takes one held request out (its `max_ms` ran out), if it is still held.
    pub(crate) fn take(&mut self, profile: &str, ticket: u64) -> Option<T> {
        let list = self.by_profile.get_mut(profile)?;
        let at = list.iter().position(|h| h.ticket == ticket)?;
        let held = list.remove(at);
        if list.is_empty() {
            self.by_profile.remove(profile);
        }
        Some(held.payload)
    }

    /// Takes every held request out, in the order they were held.
    pub(crate) fn take_all(&mut self) -> Vec<T> {
        let mut all: Vec<Held<T>> = self.by_profile.drain().flat_map(|(_, v)| v).collect();
        all.sort_by_key(|h| h.ticket);
        all.into_iter().map(|h| h.payload).collect()
    }

    /// How many requests are held.
    pub(crate) fn len(&self) -> usize {
        self.by_profile.values().map(Vec::len).sum()
    }
}

/// The running state of a plan.
#[derive(Debug)]
pub(crate) struct FaultEngine {
    plan: FaultPlan,
    fired: Vec<u32>,
    /// How many requests with this key were faulted (by any rule): the `n` of the next draw.
    /// Bounded by the number of faults, not of requests.
    faulted: FxHashMap<RequestKey, u32>,
    tokens: f64,
    last: Option<tokio::time::Instant>,
    pub(crate) late: LateRequests<crate::pipeline::LatePut>,
}

impl FaultEngine {
    pub(crate) fn new(plan: FaultPlan) -> Self {
        Self {
            fired: vec![0; plan.rules.len()],
            faulted: FxHashMap::default(),
            tokens: f64::from(plan.rate_limit_per_sec.unwrap_or(0)),
            last: None,
            late: LateRequests::default(),
            plan,
        }
    }

    /// Whether the plan can ever act (any rule or a rate limit).
    pub(crate) fn is_active(&self) -> bool {
        !self.plan.rules.is_empty() || self.plan.rate_limit_per_sec.is_some()
    }

    pub(crate) fn plan(&self) -> &FaultPlan {
        &self.plan
    }

    /// The rate limiter's decision for one request at `now` (takes a token when it admits).
    pub(crate) fn rate_limited(&mut self, now: tokio::time::Instant) -> bool {
        let Some(rate) = self.plan.rate_limit_per_sec else {
            return false;
        };
        let rate = f64::from(rate);
        if let Some(last) = self.last {
            let dt = now.saturating_duration_since(last).as_secs_f64();
            self.tokens = (self.tokens + dt * rate).min(rate);
        }
        self.last = Some(now);
        if self.tokens < 1.0 {
            return true;
        }
        self.tokens -= 1.0;
        false
    }

    /// The rules' decision for one request. Late requests match only when `integration_id`
    /// is given (a `PUT /v2/customer_profiles/{id}`).
    pub(crate) fn decide(
        &mut self,
        method: &str,
        path: &str,
        integration_id: Option<&str>,
        key: RequestKey,
    ) -> FaultAction {
        let n = self.faulted.get(&key).copied().unwrap_or(0);
        for (i, r) in self.plan.rules.iter().enumerate() {
            let matches = r
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
                && r.path_prefix.as_deref().is_none_or(|p| path.starts_with(p))
                && r.integration_id
                    .as_deref()
                    .is_none_or(|id| integration_id == Some(id))
                && (integration_id.is_some()
                    || !matches!(r.respond, FaultResponse::LateRequest(_)));
            if !matches || r.times.is_some_and(|t| self.fired[i] >= t) {
                continue;
            }
            if let Some(p) = r.probability
                && coin(self.plan.seed, i, key, n) >= p
            {
                continue;
            }
            self.fired[i] += 1;
            *self.faulted.entry(key).or_default() += 1;
            return FaultAction::Respond(r.respond);
        }
        FaultAction::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> tokio::time::Instant {
        tokio::time::Instant::from_std(std::time::Instant::now())
    }

    fn key(path: &str, body: &str) -> RequestKey {
        RequestKey::new("PUT", path, body.as_bytes())
    }

    fn rule(respond: FaultResponse, probability: Option<f64>) -> FaultRule {
        FaultRule {
            method: None,
            path_prefix: None,
            integration_id: None,
            respond,
            times: None,
            probability,
        }
    }

    fn plan(seed: u64, rules: Vec<FaultRule>) -> FaultPlan {
        FaultPlan {
            seed,
            rules,
            rate_limit_per_sec: None,
        }
    }

    #[test]
    fn a_rule_fires_only_the_given_number_of_times() {
        let plan = FaultPlan::from_json(
            r#"{"rules":[{"method":"PUT","path_prefix":"/v2/","respond":{"status":503},"times":2}]}"#,
        )
        .unwrap_or_default();
        let mut e = FaultEngine::new(plan);
        let k = key("/v2/x", "");
        let got: Vec<FaultAction> = (0..3).map(|_| e.decide("PUT", "/v2/x", None, k)).collect();
        assert_eq!(
            got,
            vec![
                FaultAction::Respond(FaultResponse::Status(503)),
                FaultAction::Respond(FaultResponse::Status(503)),
                FaultAction::None
            ]
        );
        assert_eq!(e.decide("GET", "/v2/x", None, k), FaultAction::None);
    }

    #[test]
    fn seeded_probability_gives_the_same_faults_for_the_same_seed() {
        let plan = plan(7, vec![rule(FaultResponse::Status(500), Some(0.5))]);
        let run = |plan: &FaultPlan| {
            let mut e = FaultEngine::new(plan.clone());
            (0..64)
                .map(|i| {
                    let path = format!("/v2/customer_profiles/u{i}");
                    e.decide("PUT", &path, None, key(&path, "{}")) != FaultAction::None
                })
                .collect::<Vec<bool>>()
        };
        let a = run(&plan);
        assert_eq!(a, run(&plan));
        let fired = a.iter().filter(|x| **x).count();
        assert!((16..=48).contains(&fired), "{fired}");
        let other = FaultPlan { seed: 8, ..plan };
        assert_ne!(a, run(&other), "another seed gives other faults");
    }

    #[test]
    fn the_decision_for_a_key_does_not_depend_on_what_was_decided_before() {
        let plan = plan(
            3,
            vec![
                rule(FaultResponse::Status(503), Some(0.3)),
                rule(FaultResponse::DropConnection, Some(0.3)),
            ],
        );
        let path = "/v2/customer_profiles/u1";
        let target = key(path, r#"{"attributes":{"logins":1}}"#);
        // The key's first attempt and four retries, decided first in one engine and after
        // 200 other keys (and their retries) in another.
        let attempts = |e: &mut FaultEngine| {
            (0..5)
                .map(|_| e.decide("PUT", path, Some("u1"), target))
                .collect::<Vec<_>>()
        };
        let mut alone = FaultEngine::new(plan.clone());
        let first = attempts(&mut alone);
        let mut busy = FaultEngine::new(plan);
        for i in 0..200 {
            let p = format!("/v2/customer_profiles/v{i}");
            let k = key(&p, r#"{"attributes":{"logins":1}}"#);
            for _ in 0..3 {
                busy.decide("PUT", &p, Some("v"), k);
            }
        }
        assert_eq!(first, attempts(&mut busy));
    }

    #[test]
    fn a_retry_of_a_faulted_request_draws_afresh() {
        let plan = plan(1, vec![rule(FaultResponse::Status(503), Some(0.5))]);
        let mut e = FaultEngine::new(plan);
        // For each of 64 keys, retry while faulted (at most 20 attempts): every key ends
        // admitted, and some needed more than one attempt.
        let mut retried = 0;
        for i in 0..64 {
            let path = format!("/v2/customer_profiles/u{i}");
            let k = key(&path, "{}");
            let attempts = (1..=20)
                .find(|_| e.decide("PUT", &path, None, k) == FaultAction::None)
                .unwrap_or(21);
            assert!(attempts <= 20, "key {i} was faulted 20 times in a row");
            retried += usize::from(attempts > 1);
        }
        assert!((16..=48).contains(&retried), "{retried}");
    }

    #[test]
    fn the_coin_is_pinned_across_releases() {
        // FNV-1a, SplitMix64 and ChaCha8 are all fixed algorithms: these values never change.
        let k = RequestKey::new("PUT", "/v2/customer_profiles/u1", b"{}");
        assert_eq!(
            k.0,
            RequestKey::new("PUT", "/v2/customer_profiles/u1", b"{}").0
        );
        assert_ne!(
            k,
            RequestKey::new("PUT", "/v2/customer_profiles/u1", b"{ }")
        );
        assert_ne!(k, RequestKey::new("PUT", "/v2/customer_profiles/u2", b"{}"));
        let c = coin(7, 0, k, 0);
        assert!((0.0..1.0).contains(&c));
        assert_eq!(c.to_bits(), PINNED_COIN, "{c} = {:#x}", c.to_bits());
        assert_ne!(coin(7, 0, k, 1), c);
        assert_ne!(coin(7, 1, k, 0), c);
        assert_ne!(coin(8, 0, k, 0), c);
    }

    const PINNED_COIN: u64 = 0x3fee_6443_3f36_428e;

    #[test]
    fn late_requests_match_only_profile_updates() {
        let late = FaultResponse::LateRequest(LateRequest {
            after_requests: 1,
            max_ms: 100,
        });
        let mut e = FaultEngine::new(plan(0, vec![rule(late, None)]));
        let k = key("/v2/customer_audiences", "{}");
        assert_eq!(
            e.decide("POST", "/v2/customer_audiences", None, k),
            FaultAction::None
        );
        let k = key("/v2/customer_profiles/u1", "{}");
        assert_eq!(
            e.decide("PUT", "/v2/customer_profiles/u1", Some("u1"), k),
            FaultAction::Respond(late)
        );
    }

    #[test]
    fn a_held_late_request_is_due_after_the_given_number_of_applied_updates() {
        let mut late = LateRequests::default();
        let a = late.hold("u1", 2, "a");
        late.hold("u1", 1, "b");
        late.hold("u2", 1, "c");
        assert_eq!(late.len(), 3);
        assert_eq!(late.applied("u1"), vec!["b"]);
        assert_eq!(late.applied("u3"), Vec::<&str>::new());
        assert_eq!(late.take("u1", a), Some("a"));
        assert_eq!(late.take("u1", a), None, "taken once");
        late.hold("u1", 5, "d");
        assert_eq!(late.take_all(), vec!["c", "d"]);
        assert_eq!(late.len(), 0);
    }

    #[test]
    fn the_rate_limit_refuses_requests_beyond_the_burst_and_refills_with_time() {
        let plan = FaultPlan {
            rate_limit_per_sec: Some(2),
            ..FaultPlan::default()
        };
        let mut e = FaultEngine::new(plan);
        let t = now();
        assert!(!e.rate_limited(t));
        assert!(!e.rate_limited(t));
        assert!(e.rate_limited(t));
        let later = t + std::time::Duration::from_millis(500);
        assert!(!e.rate_limited(later));
    }

    #[test]
    fn plans_with_unsupported_statuses_or_timings_are_refused() {
        let refused = |json: &str| match FaultPlan::from_json(json) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("accepted: {json}"),
        };
        assert!(refused(r#"{"rules":[{"respond":{"status":404}}]}"#).contains("status 404"));
        assert!(
            refused(r#"{"rules":[{"respond":"drop_connection","probability":2}]}"#)
                .contains("probability 2")
        );
        assert!(
            refused(r#"{"rules":[{"respond":{"late_request":{"after_requests":0,"max_ms":5}}}]}"#)
                .contains("after_requests must be at least 1")
        );
        assert!(
            refused(r#"{"rules":[{"respond":{"late_request":{"after_requests":1,"max_ms":0}}}]}"#)
                .contains("max_ms 0")
        );
        assert!(
            refused(r#"{"rules":[{"method":"POST","respond":{"late_request":{"after_requests":1,"max_ms":5}}}]}"#)
                .contains("method must be PUT")
        );
        assert!(
            refused(r#"{"rules":[{"path_prefix":"/v2/audiences","respond":{"late_request":{"after_requests":1,"max_ms":5}}}]}"#)
                .contains("can never match")
        );
        assert!(
            refused(r#"{"rules":[{"respond":{"late_request":{"after_requests":1}}}]}"#)
                .contains("max_ms")
        );
        assert!(
            refused(r#"{"rules":[{"respond":{"late_response_ms":0}}]}"#)
                .contains("late_response_ms 0")
        );
        assert!(
            refused(r#"{"rate_limit_per_sec":0}"#)
                .contains("rate_limit_per_sec must be at least 1")
        );
        assert!(FaultPlan::from_json(r#"{"seed":1,"rules":[{"respond":{"delay_ms":5}}]}"#).is_ok());
        let ok = FaultPlan::from_json(
            r#"{"rules":[
                {"path_prefix":"/v2/customer_profiles/","respond":{"late_request":{"after_requests":2,"max_ms":2000}}},
                {"path_prefix":"/v2/","respond":{"late_request":{"after_requests":1,"max_ms":1}}},
                {"respond":{"late_response_ms":5000}}
            ]}"#,
        );
        assert!(ok.is_ok(), "{ok:?}");
    }
}
