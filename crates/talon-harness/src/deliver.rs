//! Delivering mapped requests to Talon.One: in order per profile, concurrent across profiles, with retries.
//!
//! Events are routed to one of `concurrency` lanes by a hash of their
//! integrationId. Each lane sends its requests one at a time, so events for
//! one profile are delivered strictly in order and never concurrently (this
//! also keeps clear of Talon.One's 409 for parallel updates of a profile),
//! while different profiles proceed in parallel. A lane retries what is
//! retryable — 409, 429, 5xx, timeouts, dropped connections — with
//! exponential backoff and seeded full jitter, up to `max_attempts`; it
//! never retries another 4xx.

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use talon_mapper::{Mapped, Outcome as MapOutcome, Request, Settings, map_json};
use tokio::sync::mpsc;

use crate::report::{EventReport, Outcome, Summary};

/// How to deliver.
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// Where requests go: the base URL that replaces the settings'
    /// `applicationDomain` (e.g. the embedded fake's `http://127.0.0.1:PORT`).
    pub target: String,
    /// Lanes: how many profiles are delivered to at once.
    pub concurrency: usize,
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// The first retry waits up to this long; each further retry doubles it.
    pub backoff_base: Duration,
    /// No retry waits longer than this.
    pub backoff_max: Duration,
    /// One attempt's time limit.
    pub timeout: Duration,
    /// Seed of the backoff jitter.
    pub seed: u64,
}

impl DeliveryConfig {
    /// Defaults for `target`: 32 lanes, 6 attempts, 20 ms base backoff capped
    /// at 2 s, 10 s per attempt, seed 0.
    pub fn new(target: impl Into<String>) -> Self {
        Self {
            target: target.into().trim_end_matches('/').to_owned(),
            concurrency: 32,
            max_attempts: 6,
            backoff_base: Duration::from_millis(20),
            backoff_max: Duration::from_secs(2),
            timeout: Duration::from_secs(10),
            seed: 0,
        }
    }
}

/// An HTTP client fit for delivery: keep-alive connections, no proxy.
pub fn client(config: &DeliveryConfig) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(config.concurrency.max(1))
        .tcp_nodelay(true)
        .no_proxy()
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// Whether a status is worth another attempt.
pub fn is_retryable(status: u16) -> bool {
    status == 409 || status == 429 || (500..600).contains(&status)
}

/// The wait before retry number `retry` (1-based): full jitter over
/// `min(max, base * 2^(retry-1))`.
pub fn backoff(config: &DeliveryConfig, retry: u32, rng: &mut ChaCha8Rng) -> Duration {
    let exp = config.backoff_base.saturating_mul(
        1u32.checked_shl(retry.saturating_sub(1))
            .unwrap_or(u32::MAX),
    );
    let cap = exp.min(config.backoff_max);
    let nanos = u64::try_from(cap.as_nanos()).unwrap_or(u64::MAX);
    if nanos == 0 {
        return Duration::ZERO;
    }
    Duration::from_nanos(rng.random_range(0..=nanos))
}

/// Sends one request until it is delivered, rejected, or out of attempts:
/// the outcome is [`Outcome::Delivered`], [`Outcome::Rejected`] or
/// [`Outcome::Failed`].
pub async fn send(
    client: &reqwest::Client,
    config: &DeliveryConfig,
    request: &Request,
    rng: &mut ChaCha8Rng,
) -> Outcome {
    let url = format!("{}{}", config.target, request.path());
    let mut headers = HeaderMap::with_capacity(request.headers.len());
    for (name, value) in &request.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(name, value);
        }
    }
    let attempts = config.max_attempts.max(1);
    let mut last_error = String::new();
    for attempt in 1..=attempts {
        let sent = client
            .put(&url)
            .headers(headers.clone())
            .timeout(config.timeout)
            .body(request.body.clone())
            .send()
            .await;
        match sent {
            Ok(response) => {
                let status = response.status().as_u16();
                match response.bytes().await {
                    Ok(_) if (200..300).contains(&status) => {
                        return Outcome::Delivered {
                            status,
                            attempts: attempt,
                        };
                    }
                    Ok(body) if !is_retryable(status) => {
                        return Outcome::Rejected {
                            status,
                            error: serde_json::from_slice(&body).unwrap_or_else(|_| {
                                Value::String(String::from_utf8_lossy(&body).into_owned())
                            }),
                            attempts: attempt,
                        };
                    }
                    Ok(body) => {
                        last_error = format!("HTTP {status}: {}", String::from_utf8_lossy(&body));
                    }
                    Err(e) => last_error = format!("HTTP {status}, then the body broke off: {e}"),
                }
            }
            Err(e) => last_error = describe(&e),
        }
        if attempt < attempts {
            tokio::time::sleep(backoff(config, attempt, rng)).await;
        }
    }
    Outcome::Failed {
        attempts,
        error: last_error,
    }
}

fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "connection failed"
    };
    // reqwest's Display hides the cause; walk the chain for the reason.
    let mut text = format!("{kind}: {error}");
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The lane of an integrationId: a stable hash, so one profile always
/// goes through one lane.
fn lane(integration_id: &str, lanes: usize) -> usize {
    let mut hasher = DefaultHasher::new();
    integration_id.hash(&mut hasher);
    usize::try_from(hasher.finish() % lanes.max(1) as u64).unwrap_or(0)
}

/// One event on its way: what the report needs, and the request.
struct Job {
    index: u64,
    source: String,
    diagnostics: Vec<talon_mapper::Diagnostic>,
    request: Request,
}

/// Maps and delivers every event, and hands each event's report to `sink`
/// in input order. Every input event yields exactly one report.
pub async fn run<I>(
    events: I,
    settings: &Settings,
    client: &reqwest::Client,
    config: &DeliveryConfig,
    mut sink: impl FnMut(EventReport),
) -> Summary
where
    I: IntoIterator<Item = (String, Vec<u8>)>,
{
    let lanes = config.concurrency.max(1);
    let (done_tx, mut done_rx) = mpsc::channel::<EventReport>(4096);
    let mut job_txs = Vec::with_capacity(lanes);
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..lanes {
        let (tx, mut rx) = mpsc::channel::<Job>(64);
        job_txs.push(tx);
        let done = done_tx.clone();
        let client = client.clone();
        let config = config.clone();
        let mut rng = ChaCha8Rng::seed_from_u64(
            config.seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        tasks.spawn(async move {
            while let Some(job) = rx.recv().await {
                let outcome = send(&client, &config, &job.request, &mut rng).await;
                let report = EventReport {
                    index: job.index,
                    source: job.source,
                    integration_id: Some(job.request.integration_id),
                    outcome,
                    diagnostics: job.diagnostics,
                };
                if done.send(report).await.is_err() {
                    return;
                }
            }
        });
    }

    let produce = async {
        let done = done_tx;
        for (index, (source, bytes)) in events.into_iter().enumerate() {
            let Mapped {
                outcome,
                diagnostics,
            } = map_json(&bytes, settings);
            let index = index as u64;
            match outcome {
                MapOutcome::Skip(skip) => {
                    let report = EventReport {
                        index,
                        source,
                        integration_id: None,
                        outcome: Outcome::Skipped {
                            reason: skip.code(),
                            message: skip.to_string(),
                        },
                        diagnostics,
                    };
                    if done.send(report).await.is_err() {
                        break;
                    }
                }
                MapOutcome::Send(request) => {
                    let tx = &job_txs[lane(&request.integration_id, lanes)];
                    let job = Job {
                        index,
                        source,
                        diagnostics,
                        request,
                    };
                    if tx.send(job).await.is_err() {
                        break;
                    }
                }
            }
        }
        drop(job_txs);
    };

    let collect = async {
        let mut summary = Summary::default();
        let mut waiting: BTreeMap<u64, EventReport> = BTreeMap::new();
        let mut next = 0u64;
        while let Some(report) = done_rx.recv().await {
            waiting.insert(report.index, report);
            while let Some(report) = waiting.remove(&next) {
                summary.add(&report);
                sink(report);
                next += 1;
            }
        }
        // Only reachable if a lane died: report what is left, in order.
        for (_, report) in std::mem::take(&mut waiting) {
            summary.add(&report);
            sink(report);
        }
        summary
    };

    let ((), summary) = tokio::join!(produce, collect);
    while tasks.join_next().await.is_some() {}
    summary
}
