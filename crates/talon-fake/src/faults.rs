//! Scripted, deterministic fault injection: status answers, delays, dropped connections, a rate limit.
//!
//! A [`FaultPlan`] is a list of rules tried in order for every request outside
//! `/__admin`. The first rule that matches (method, path prefix, integration
//! id), still has uses left (`times`) and wins its seeded coin toss
//! (`probability`) fires. The coin is a `ChaCha8Rng` seeded with
//! [`FaultPlan::seed`] and tossed only for matching rules, so the same plan and
//! the same request order give the same faults.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// What a firing rule answers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultResponse {
    /// `{"status": 503}`: answer with this status (429, 500, 502 or 503) in Talon.One's envelope.
    Status(u16),
    /// `{"delay_ms": 250}`: wait, then process the request normally.
    DelayMs(u64),
    /// `"drop_connection"`: abort the connection without a complete response.
    DropConnection,
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
    /// A rule with an unsupported status or probability.
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

    /// Checks statuses (429, 500, 502, 503) and probabilities (0..=1).
    pub fn validate(&self) -> Result<(), FaultPlanError> {
        for (index, r) in self.rules.iter().enumerate() {
            if let FaultResponse::Status(s) = r.respond
                && ![429, 500, 502, 503].contains(&s)
            {
                return Err(FaultPlanError::Rule {
                    index,
                    reason: format!("status {s} is not one of 429, 500, 502, 503"),
                });
            }
            if let Some(p) = r.probability
                && !(0.0..=1.0).contains(&p)
            {
                return Err(FaultPlanError::Rule {
                    index,
                    reason: format!("probability {p} is not in [0, 1]"),
                });
            }
        }
        Ok(())
    }
}

/// What the engine decided for one request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum FaultAction {
    None,
    RateLimited,
    Respond(FaultResponse),
}

/// The running state of a plan.
#[derive(Debug)]
pub(crate) struct FaultEngine {
    plan: FaultPlan,
    fired: Vec<u32>,
    rng: ChaCha8Rng,
    tokens: f64,
    last: Option<tokio::time::Instant>,
}

impl FaultEngine {
    pub(crate) fn new(plan: FaultPlan) -> Self {
        Self {
            fired: vec![0; plan.rules.len()],
            rng: ChaCha8Rng::seed_from_u64(plan.seed),
            tokens: f64::from(plan.rate_limit_per_sec.unwrap_or(0)),
            last: None,
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

    /// Decides for one request. `now` only feeds the rate limiter.
    pub(crate) fn decide(
        &mut self,
        method: &str,
        path: &str,
        integration_id: Option<&str>,
        now: tokio::time::Instant,
    ) -> FaultAction {
        if let Some(rate) = self.plan.rate_limit_per_sec {
            let rate = f64::from(rate);
            if let Some(last) = self.last {
                let dt = now.saturating_duration_since(last).as_secs_f64();
                self.tokens = (self.tokens + dt * rate).min(rate);
            }
            self.last = Some(now);
            if self.tokens < 1.0 {
                return FaultAction::RateLimited;
            }
            self.tokens -= 1.0;
        }
        for (i, r) in self.plan.rules.iter().enumerate() {
            let matches = r
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
                && r.path_prefix.as_deref().is_none_or(|p| path.starts_with(p))
                && r.integration_id
                    .as_deref()
                    .is_none_or(|id| integration_id == Some(id));
            if !matches || r.times.is_some_and(|t| self.fired[i] >= t) {
                continue;
            }
            if let Some(p) = r.probability
                && self.rng.random::<f64>() >= p
            {
                continue;
            }
            self.fired[i] += 1;
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

    #[test]
    fn a_rule_fires_only_the_given_number_of_times() {
        let plan = FaultPlan::from_json(
            r#"{"rules":[{"method":"PUT","path_prefix":"/v2/","respond":{"status":503},"times":2}]}"#,
        )
        .unwrap_or_default();
        let mut e = FaultEngine::new(plan);
        let t = now();
        let got: Vec<FaultAction> = (0..3).map(|_| e.decide("PUT", "/v2/x", None, t)).collect();
        assert_eq!(
            got,
            vec![
                FaultAction::Respond(FaultResponse::Status(503)),
                FaultAction::Respond(FaultResponse::Status(503)),
                FaultAction::None
            ]
        );
        assert_eq!(e.decide("GET", "/v2/x", None, t), FaultAction::None);
    }

    #[test]
    fn seeded_probability_gives_the_same_faults_for_the_same_seed() {
        let plan = FaultPlan {
            seed: 7,
            rules: vec![FaultRule {
                method: None,
                path_prefix: None,
                integration_id: None,
                respond: FaultResponse::Status(500),
                times: None,
                probability: Some(0.5),
            }],
            rate_limit_per_sec: None,
        };
        let t = now();
        let run = |plan: &FaultPlan| {
            let mut e = FaultEngine::new(plan.clone());
            (0..64)
                .map(|_| e.decide("GET", "/", None, t) != FaultAction::None)
                .collect::<Vec<bool>>()
        };
        let a = run(&plan);
        assert_eq!(a, run(&plan));
        let fired = a.iter().filter(|x| **x).count();
        assert!((16..=48).contains(&fired), "{fired}");
    }

    #[test]
    fn the_rate_limit_refuses_requests_beyond_the_burst_and_refills_with_time() {
        let plan = FaultPlan {
            rate_limit_per_sec: Some(2),
            ..FaultPlan::default()
        };
        let mut e = FaultEngine::new(plan);
        let t = now();
        assert_eq!(e.decide("GET", "/", None, t), FaultAction::None);
        assert_eq!(e.decide("GET", "/", None, t), FaultAction::None);
        assert_eq!(e.decide("GET", "/", None, t), FaultAction::RateLimited);
        let later = t + std::time::Duration::from_millis(500);
        assert_eq!(e.decide("GET", "/", None, later), FaultAction::None);
    }

    #[test]
    fn plans_with_unsupported_statuses_are_refused() {
        assert!(FaultPlan::from_json(r#"{"rules":[{"respond":{"status":404}}]}"#).is_err());
        assert!(
            FaultPlan::from_json(r#"{"rules":[{"respond":"drop_connection","probability":2}]}"#)
                .is_err()
        );
        assert!(FaultPlan::from_json(r#"{"seed":1,"rules":[{"respond":{"delay_ms":5}}]}"#).is_ok());
    }
}
