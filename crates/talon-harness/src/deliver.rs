//! Delivering mapped requests to Talon.One: in order per profile, concurrent across profiles, with retries.
//!
//! Each event is mapped for its [`Destination`] into zero or more
//! [`Request`]s, and the mapper's request is sent as it is: its method, path,
//! headers and body (only the base URL is replaced by the target's, and
//! `Host` is added). The client is hyper's HTTP/1 client with one keep-alive
//! connection per lane ([`Client::connection`]), reopened when the target
//! closes it (a connection closed while idle is replaced without counting an
//! attempt: nothing was written on it); HTTPS goes through rustls with the
//! webpki roots. A lane sends one request at a time, so a connection pool
//! would only add locking.
//! Events are routed to one of `concurrency` lanes by a hash of their
//! request's key (the integrationId for the classic destination). Each lane
//! sends its requests one at a time, so events for one profile are delivered
//! strictly in order and never concurrently (this also keeps clear of
//! Talon.One's 409 for parallel updates of a profile), while different
//! profiles proceed in parallel.
//!
//! An event with several requests (an Actions event matching several
//! subscriptions, one request each; the classic destination sends at most
//! one) goes through the lane of its first request's key, so one profile's
//! requests stay in order and are never concurrent: the Actions delivery key
//! is the request's profile id, and an event's requests (profile, event,
//! session) name the same profile. Every request is sent, in the mapper's
//! order, and retried on its own by the rules below; a rejected or failed
//! request does not stop the next, since each subscription runs on its own
//! in Segment. The event still ends in exactly one outcome, the aggregate of
//! its requests' ([`crate::report::aggregate`]: failed when any failed,
//! else rejected when any was, else delivered), and its
//! [`EventDelivery`] carries each request's own outcome
//! ([`run_detailed`]); the subscriptions the mapper refused (Segment's
//! validation) are its `rejected` diagnostics, listed as not sent.
//!
//! # Pacing
//!
//! With [`DeliveryConfig::pace`], every attempt (retries included) first
//! waits for the [`Pacer`] shared by all lanes: at most N attempts per API
//! key in any one second, as Segment's own delivery would need to stay under
//! the Segment relay's 60 requests per second per key. Without it, the
//! relay's 429 (which carries no `Retry-After`) is retried with the backoff.
//!
//! # Retries
//!
//! A lane retries what is retryable — 409, 429, 5xx, timeouts, refused and
//! dropped connections — with exponential backoff and seeded full jitter, and
//! never another 4xx. Retries stop at whichever limit comes first:
//! `max_attempts`, or the `retry_budget` (default 30 s per event, long enough
//! to ride out a restart of the target): no attempt starts once the budget
//! since the event's first attempt is spent, and the last wait is cut short
//! to end with it. On 429 and 503, a `Retry-After` header (delay-seconds or
//! an IMF-fixdate HTTP-date) replaces the backoff for that wait, capped by
//! what is left of the budget. A failed event keeps the last HTTP status it
//! saw and the last error.
//!
//! A request that cannot even be built (a URL too long for HTTP, a header
//! value HTTP does not allow) is never sent and never retried: no attempt
//! could succeed. It is reported as skipped, reason `request_not_buildable`,
//! not as a delivery loss.
//!
//! # Attempts whose fate is unknown
//!
//! When an attempt times out, or its connection breaks after the request was
//! written (or after a 2xx status arrived), Talon.One may have applied it:
//! the retry may then apply the update twice, and a late copy may land after
//! newer updates of the same profile (old values over new ones). The client
//! cannot tell; it counts such attempts per event (`unconfirmed` in
//! [`Outcome::Delivered`] and [`Outcome::Failed`]) so the report can flag the
//! profile for a read-back. A refused connection, or any answered status
//! other than 2xx, is known not to have applied anything (a 5xx from a proxy
//! could hide an applied request; the harness trusts the status, chosen here).
//!
//! [`run_watched`] also returns a [`Watch`]: for each attribute an unconfirmed
//! attempt carried, the value the profile's last delivered request gave it.
//! Compared with the final state read back from the target ([`Watch::check`]),
//! it finds a late copy that landed over newer updates. It cannot see a copy
//! that lands after the read-back.

use std::collections::{BTreeMap, VecDeque};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::{Duration, SystemTime};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HOST, HeaderMap, HeaderName, HeaderValue, InvalidHeaderValue, RETRY_AFTER};
use hyper::{Method, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::Value;
use talon_mapper::{Destination, Mapped, Request, map};
use tokio::sync::mpsc;
use tower::Service;

use crate::report::{EventDelivery, EventReport, Outcome, RequestReport, Summary, aggregate};

/// The skip reason of a request that cannot be built, so is never sent.
pub const REQUEST_NOT_BUILDABLE: &str = "request_not_buildable";

/// How to deliver.
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// Where requests go: the base URL that replaces the settings'
    /// `applicationDomain` (e.g. the embedded fake's `http://127.0.0.1:PORT`).
    pub target: String,
    /// Lanes: how many profiles are delivered to at once.
    pub concurrency: usize,
    /// Attempts per request, the first included (`u32::MAX`: only the budget limits them).
    pub max_attempts: u32,
    /// How long one event may keep being retried, from the start of its first attempt: no
    /// attempt starts after it. `Duration::ZERO` makes one attempt only.
    pub retry_budget: Duration,
    /// The first retry waits up to this long; each further retry doubles it.
    pub backoff_base: Duration,
    /// No retry waits longer than this (a `Retry-After` may ask for longer, up to the budget).
    pub backoff_max: Duration,
    /// One attempt's time limit.
    pub timeout: Duration,
    /// Seed of the backoff jitter.
    pub seed: u64,
    /// Client-side pacing: at most this many requests (attempts, retries included) per second
    /// per API key, across every lane, strictly (no one-second interval holds more); `None`: no
    /// pacing. See [`Pacer`].
    pub pace: Option<u32>,
}

/// The default [`DeliveryConfig::retry_budget`]: 30 s per event.
pub const DEFAULT_RETRY_BUDGET: Duration = Duration::from_secs(30);

impl DeliveryConfig {
    /// Defaults for `target`: 32 lanes, attempts limited by a 30 s retry budget only,
    /// 20 ms base backoff capped at 2 s, 10 s per attempt, seed 0.
    pub fn new(target: impl Into<String>) -> Self {
        Self {
            target: target.into().trim_end_matches('/').to_owned(),
            concurrency: 32,
            max_attempts: u32::MAX,
            retry_budget: DEFAULT_RETRY_BUDGET,
            backoff_base: Duration::from_millis(20),
            backoff_max: Duration::from_secs(2),
            timeout: Duration::from_secs(10),
            seed: 0,
            pace: None,
        }
    }
}

/// A delivery client: how to reach the target (plain HTTP/1, or HTTPS with the webpki roots),
/// and the target's address. Each lane opens its own [`Connection`] from it.
#[derive(Debug, Clone)]
pub struct Client {
    connector: HttpsConnector<HttpConnector>,
    target: std::result::Result<Target, String>,
    /// Shared by every lane's connection, so the pace holds across lanes.
    pacer: Option<Pacer>,
}

/// Client-side pacing, shared by every lane: at most `per_second` attempts per API key (the
/// request's `Authorization` value) in any one second.
///
/// A sliding window over the times attempts were let go: an attempt at `t` goes only when
/// fewer than `per_second` of its key went in `(t - 1 s, t]`, else it waits until the oldest of
/// them is a second old. So any `per_second + 1` consecutive attempts of a key span at least a
/// second, the strict reading of "N per second", which a token bucket of that rate (burst N)
/// or a sliding-window limit such as the relay's accepts too. Memory: per key the times of the
/// last `per_second` attempts. Time is tokio's, so tests pause it.
#[derive(Debug, Clone)]
pub struct Pacer {
    per_second: usize,
    windows: Arc<std::sync::Mutex<BTreeMap<String, VecDeque<tokio::time::Instant>>>>,
}

impl Pacer {
    /// A pacer letting `per_second` attempts (at least 1) of each key go in any one second.
    pub fn new(per_second: u32) -> Self {
        Self {
            per_second: usize::try_from(per_second.max(1)).unwrap_or(usize::MAX),
            windows: Arc::default(),
        }
    }

    /// Waits until an attempt of `key` may go, and counts it.
    pub async fn wait(&self, key: &str) {
        const SECOND: Duration = Duration::from_secs(1);
        loop {
            let wake = {
                let mut windows = self
                    .windows
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let now = tokio::time::Instant::now();
                if !windows.contains_key(key) {
                    windows.insert(key.to_owned(), VecDeque::with_capacity(self.per_second));
                }
                let Some(window) = windows.get_mut(key) else {
                    return;
                };
                while window
                    .front()
                    .is_some_and(|t| now.saturating_duration_since(*t) >= SECOND)
                {
                    window.pop_front();
                }
                if window.len() < self.per_second {
                    window.push_back(now);
                    return;
                }
                match window.front() {
                    Some(oldest) => *oldest + SECOND,
                    None => return,
                }
            };
            tokio::time::sleep_until(wake).await;
        }
    }
}

/// The parts of the target URL every request reuses.
#[derive(Debug, Clone)]
struct Target {
    /// Scheme and authority: what the connector dials.
    origin: Uri,
    /// The `Host` header.
    host: HeaderValue,
    /// The target's own path, put before each request's path (empty for a bare host).
    prefix: String,
}

/// One keep-alive HTTP/1 connection to the target, opened when first needed and again after
/// it closes; sends one request at a time.
#[derive(Debug)]
pub struct Connection {
    client: Client,
    sender: Option<SendRequest<Full<Bytes>>>,
    /// Header values already converted, by the mapper's shared `Arc` (the classic
    /// destination's `Authorization` and `Content-Type` are one `Arc` for every request).
    converted: Vec<(Arc<str>, HeaderValue)>,
}

/// A delivery client for `config`'s target: keep-alive connections, no proxy, no redirects.
pub fn client(config: &DeliveryConfig) -> Client {
    let mut http = HttpConnector::new();
    http.set_nodelay(true);
    http.enforce_http(false);
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_webpki_roots()
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Client {
        connector,
        target: Target::parse(&config.target),
        pacer: config.pace.map(Pacer::new),
    }
}

impl Target {
    fn parse(target: &str) -> std::result::Result<Self, String> {
        let uri: Uri = target
            .parse()
            .map_err(|e| format!("the target `{target}` is not a URL ({e})"))?;
        let (Some(scheme), Some(authority)) = (uri.scheme(), uri.authority()) else {
            return Err(format!("the target `{target}` has no scheme and host"));
        };
        if !matches!(scheme.as_str(), "http" | "https") {
            return Err(format!(
                "the target `{target}` is not an http:// or https:// URL"
            ));
        }
        let origin = Uri::builder()
            .scheme(scheme.clone())
            .authority(authority.clone())
            .path_and_query("/")
            .build()
            .map_err(|e| format!("the target `{target}`: {e}"))?;
        let host = HeaderValue::from_str(authority.as_str())
            .map_err(|e| format!("the target `{target}`: {e}"))?;
        Ok(Self {
            origin,
            host,
            prefix: uri.path().trim_end_matches('/').to_owned(),
        })
    }
}

impl Client {
    /// A new connection to the target (opened on its first request).
    pub fn connection(&self) -> Connection {
        Connection {
            client: self.clone(),
            sender: None,
            converted: Vec::new(),
        }
    }
}

/// A request ready to go out, once per attempt.
struct Prepared {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
}

impl Prepared {
    fn http(&self) -> hyper::Request<Full<Bytes>> {
        let mut http = hyper::Request::new(Full::new(self.body.clone()));
        *http.method_mut() = self.method.clone();
        *http.uri_mut() = self.uri.clone();
        *http.headers_mut() = self.headers.clone();
        http
    }
}

/// What one attempt got as far as it got.
enum Attempt {
    /// An answer: the status, the `Retry-After` value, and the body (or how it broke off).
    Answered {
        status: u16,
        retry_after: Option<String>,
        body: std::result::Result<Bytes, hyper::Error>,
    },
    /// No connection could be made.
    NotConnected(String),
    /// The connection broke after the request was written.
    Broken(hyper::Error),
}

/// How far an attempt got: a timeout before the request was written applied nothing.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Stage {
    Connecting,
    Written,
}

impl Connection {
    /// The request as HTTP: its method, the target's URL for its path, its headers plus
    /// `Host`; or why it cannot be built.
    fn build(&mut self, request: &Request) -> std::result::Result<Prepared, String> {
        let target = self.client.target.as_ref().map_err(Clone::clone)?;
        let method = Method::from_bytes(request.method.as_bytes())
            .map_err(|_| format!("`{}` is no HTTP method", request.method))?;
        let mut path = String::with_capacity(target.prefix.len() + request.path().len());
        path.push_str(&target.prefix);
        path.push_str(request.path());
        let uri = Uri::try_from(path).map_err(|e| format!("its URL is not valid in HTTP ({e})"))?;
        let host = target.host.clone();
        let mut headers = HeaderMap::with_capacity(request.headers.len() + 1);
        for (name, value) in &request.headers {
            let header = HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| e.to_string())
                .and_then(|n| {
                    self.value_of(value)
                        .map(|v| (n, v))
                        .map_err(|e| e.to_string())
                });
            match header {
                Ok((name, value)) => {
                    headers.append(name, value);
                }
                Err(e) => return Err(format!("header `{name}` is not valid in HTTP ({e})")),
            }
        }
        // HTTP/1.1 needs `Host`; a request that sets its own keeps it.
        headers.entry(HOST).or_insert(host);
        Ok(Prepared {
            method,
            uri,
            headers,
            body: Bytes::from(request.body.clone()),
        })
    }

    /// A header value, converted once per shared `Arc`.
    fn value_of(
        &mut self,
        value: &Arc<str>,
    ) -> std::result::Result<HeaderValue, InvalidHeaderValue> {
        if let Some((_, converted)) = self.converted.iter().find(|(a, _)| Arc::ptr_eq(a, value)) {
            return Ok(converted.clone());
        }
        let converted = HeaderValue::from_str(value)?;
        if self.converted.len() >= 16 {
            self.converted.clear();
        }
        self.converted.push((Arc::clone(value), converted.clone()));
        Ok(converted)
    }

    /// Opens the connection.
    async fn connect(&mut self) -> std::result::Result<&mut SendRequest<Full<Bytes>>, String> {
        let origin = match &self.client.target {
            Ok(target) => target.origin.clone(),
            Err(e) => return Err(e.clone()),
        };
        let io = self
            .client
            .connector
            .call(origin)
            .await
            .map_err(|e| chain(&*e))?;
        let (sender, connection) = hyper::client::conn::http1::handshake(io)
            .await
            .map_err(|e| chain(&e))?;
        tokio::spawn(async move {
            // Its end (the peer closed, or the sender was dropped) shows on the sender.
            let _ = connection.await;
        });
        Ok(self.sender.insert(sender))
    }

    /// One attempt: the request on the open connection (a new one if it closed while idle).
    async fn attempt(
        &mut self,
        mut http: hyper::Request<Full<Bytes>>,
        stage: &mut Stage,
    ) -> Attempt {
        // A connection the target closed while it was idle is replaced without counting an
        // attempt: nothing was written on it. Twice at most.
        for _ in 0..2 {
            *stage = Stage::Connecting;
            let reusable = self.sender.as_ref().is_some_and(|s| !s.is_closed());
            let sender = if reusable {
                self.sender.as_mut().expect("checked")
            } else {
                match self.connect().await {
                    Ok(sender) => sender,
                    Err(e) => return Attempt::NotConnected(e),
                }
            };
            if sender.ready().await.is_err() {
                self.sender = None;
                continue;
            }
            *stage = Stage::Written;
            match sender.try_send_request(http).await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let retry_after = response
                        .headers()
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    let body = response.into_body().collect().await.map(|b| b.to_bytes());
                    if body.is_err() {
                        self.sender = None;
                    }
                    return Attempt::Answered {
                        status,
                        retry_after,
                        body,
                    };
                }
                Err(mut e) => {
                    self.sender = None;
                    match e.take_message() {
                        Some(unsent) => http = unsent,
                        None => return Attempt::Broken(e.into_error()),
                    }
                }
            }
        }
        Attempt::NotConnected(
            "the target closed every connection before a request could be written".into(),
        )
    }
}

/// An error and its causes, joined: "connection refused (os error 111)".
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
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

/// A `Retry-After` value as a wait from `now`: delay-seconds (`120`) or an HTTP-date in
/// IMF-fixdate form (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110 §5.6.7; the obsolete
/// RFC 850 and asctime forms are not read). A date in the past is no wait; anything
/// else unreadable is `None` (the backoff applies).
pub fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let format = time::format_description::parse(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT",
    )
    .ok()?;
    let at = time::PrimitiveDateTime::parse(value, &format)
        .ok()?
        .assume_utc();
    let at = SystemTime::from(at);
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Sends one request on `connection` until it is delivered, rejected, or out of attempts or
/// budget: the outcome is [`Outcome::Delivered`], [`Outcome::Rejected`], [`Outcome::Failed`],
/// or [`Outcome::Skipped`] with [`REQUEST_NOT_BUILDABLE`] when no attempt could be sent. The
/// request goes out as the mapper built it: its method, path, headers (plus `Host`) and body.
pub async fn send(
    connection: &mut Connection,
    config: &DeliveryConfig,
    request: &Request,
    rng: &mut ChaCha8Rng,
) -> Outcome {
    let prepared = match connection.build(request) {
        Ok(prepared) => prepared,
        Err(why) => {
            return Outcome::Skipped {
                reason: REQUEST_NOT_BUILDABLE,
                message: format!("the request cannot be built, so it was never sent: {why}"),
            };
        }
    };
    let max_attempts = config.max_attempts.max(1);
    let deadline = tokio::time::Instant::now() + config.retry_budget;
    let pacer = connection.client.pacer.clone();
    let pace_key = request
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("authorization"))
        .map_or("", |(_, value)| value.as_ref());
    let mut last_error: String;
    let mut last_status = None;
    let mut unconfirmed = 0;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut asked_wait = None;
        let mut stage = Stage::Connecting;
        if let Some(pacer) = &pacer {
            pacer.wait(pace_key).await;
        }
        let answer = tokio::time::timeout(
            config.timeout,
            connection.attempt(prepared.http(), &mut stage),
        )
        .await;
        match answer {
            Ok(Attempt::Answered {
                status,
                retry_after: wait,
                body,
            }) => {
                last_status = Some(status);
                if status == 429 || status == 503 {
                    asked_wait = wait.and_then(|v| retry_after(&v, SystemTime::now()));
                }
                match body {
                    Ok(_) if (200..300).contains(&status) => {
                        return Outcome::Delivered {
                            status,
                            attempts: attempt,
                            unconfirmed,
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
                    Err(e) => {
                        // A 2xx status means it was applied; the retry applies it again.
                        if (200..300).contains(&status) {
                            unconfirmed += 1;
                        }
                        last_error =
                            format!("HTTP {status}, then the body broke off: {}", chain(&e));
                    }
                }
            }
            Ok(Attempt::NotConnected(why)) => {
                last_error = format!("could not connect: {why}");
            }
            Ok(Attempt::Broken(e)) => {
                // Written, then the connection broke: Talon.One may have applied it.
                unconfirmed += 1;
                last_error = format!("connection failed: {}", chain(&e));
            }
            Err(_) => {
                // The response may still come on this connection: it is not reused.
                connection.sender = None;
                if stage == Stage::Written {
                    unconfirmed += 1;
                    last_error = format!("timed out after {:?}", config.timeout);
                } else {
                    last_error =
                        format!("could not connect (timed out after {:?})", config.timeout);
                }
            }
        }
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if attempt >= max_attempts || left.is_zero() {
            break;
        }
        let wait = asked_wait.unwrap_or_else(|| backoff(config, attempt, rng));
        tokio::time::sleep(wait.min(left)).await;
    }
    Outcome::Failed {
        attempts: attempt,
        status: last_status,
        error: last_error,
        unconfirmed,
    }
}

/// The lane of a request's key: a stable hash, so one profile always
/// goes through one lane.
fn lane(key: &str, lanes: usize) -> usize {
    let mut hasher = DefaultHasher::new();
    key.hash(&mut hasher);
    usize::try_from(hasher.finish() % lanes.max(1) as u64).unwrap_or(0)
}

/// One event on its way: what the report needs, and its requests (at least one).
struct Job {
    index: u64,
    source: String,
    diagnostics: Vec<talon_mapper::Diagnostic>,
    requests: Vec<Request>,
}

/// What the profiles with an unconfirmed attempt must hold, by what the client itself sent:
/// for each attribute such an attempt carried, the value the last delivered request of that
/// profile gave it (`None` when a later failed attempt may or may not have set it).
///
/// A late or doubled copy of an unconfirmed attempt can only touch the attributes it
/// carried, so these are the ones worth reading back. Filled by [`run_watched`], one lane
/// at a time (a profile's events all go through one lane, in order).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Watch {
    /// By integrationId: attribute name → the value it must hold.
    pub profiles: BTreeMap<String, BTreeMap<String, Option<Value>>>,
}

impl Watch {
    /// Notes one request's outcome for the profile `request` addressed, when it is a profile
    /// update (classic, or the relay's `/customer_profile…/` paths); an event or session
    /// request sets no profile attribute.
    fn note(&mut self, request: &Request, outcome: &Outcome) {
        if request.subscription.is_some() && !request.path().contains("/customer_profile") {
            return;
        }
        let attributes = || -> serde_json::Map<String, Value> {
            serde_json::from_str::<Value>(&request.body)
                .ok()
                .and_then(|mut v| v.get_mut("attributes").map(Value::take))
                .and_then(|v| match v {
                    Value::Object(m) => Some(m),
                    _ => None,
                })
                .unwrap_or_default()
        };
        let id = &request.key;
        match outcome {
            Outcome::Delivered { unconfirmed, .. } if *unconfirmed > 0 => {
                let watched = self.profiles.entry(id.clone()).or_default();
                for (k, v) in attributes() {
                    watched.insert(k, Some(v));
                }
            }
            Outcome::Delivered { .. } => {
                if let Some(watched) = self.profiles.get_mut(id) {
                    for (k, v) in attributes() {
                        if let Some(slot) = watched.get_mut(&k) {
                            *slot = Some(v);
                        }
                    }
                }
            }
            Outcome::Failed { unconfirmed, .. } if *unconfirmed > 0 => {
                let watched = self.profiles.entry(id.clone()).or_default();
                for (k, _) in attributes() {
                    watched.insert(k, None);
                }
            }
            _ => {}
        }
    }

    /// Forgets the attributes `catalog` lacks: with `skipNonExistingAttributes` (the Actions
    /// destination's relay) an unknown attribute is skipped, never stored, so there is nothing
    /// to read back.
    pub fn retain_known(&mut self, catalog: &BTreeMap<String, talon_fake::rules::AttrType>) {
        for watched in self.profiles.values_mut() {
            watched.retain(|name, _| catalog.contains_key(name));
        }
        self.profiles.retain(|_, watched| !watched.is_empty());
    }

    /// Forgets the profiles whose id the Segment relay's path does not carry unchanged (the
    /// Actions destination puts it into the URL unencoded: `u#1?ref=mail` reaches `u`, `a/b`
    /// no route; `talon_reference::actions::route`): what their requests changed is not theirs
    /// to read back.
    pub fn retain_routable(&mut self) {
        use talon_reference::actions::{Route, route};
        self.profiles
            .retain(|id, _| matches!(route(id), Route::Id(routed, _) if routed == *id));
    }

    /// Whether no profile is watched.
    pub fn is_empty(&self) -> bool {
        self.profiles.is_empty()
    }

    /// Compares the watched attributes with what the target holds (`actual`, e.g. from
    /// `/__admin/state` or the fake's dump; type-aware with `catalog`): every difference is a
    /// profile that an unconfirmed attempt left wrong (applied late, over newer updates).
    pub fn check(
        &self,
        actual: &crate::verify::Profiles,
        catalog: &BTreeMap<String, talon_fake::rules::AttrType>,
    ) -> Vec<crate::verify::Mismatch> {
        let mut expected = crate::verify::Profiles::new();
        let mut held = crate::verify::Profiles::new();
        for (id, watched) in &self.profiles {
            let want: serde_json::Map<String, Value> = watched
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.clone()?)))
                .collect();
            if want.is_empty() {
                continue;
            }
            if let Some(have) = actual.get(id) {
                let have = want
                    .keys()
                    .filter_map(|k| Some((k.clone(), have.get(k)?.clone())))
                    .collect();
                held.insert(id.clone(), have);
            }
            expected.insert(id.clone(), want);
        }
        crate::verify::compare(&expected, &held, catalog)
    }
}

/// Maps and delivers every event, and hands each event's report to `sink`
/// in input order. Every input event yields exactly one report.
pub async fn run<I>(
    events: I,
    destination: &Destination,
    client: &Client,
    config: &DeliveryConfig,
    sink: impl FnMut(EventReport),
) -> Summary
where
    I: IntoIterator<Item = (String, Vec<u8>)>,
{
    run_watched(events, destination, client, config, sink)
        .await
        .0
}

/// [`run_detailed`], handing `sink` only each event's [`EventReport`].
pub async fn run_watched<I>(
    events: I,
    destination: &Destination,
    client: &Client,
    config: &DeliveryConfig,
    mut sink: impl FnMut(EventReport),
) -> (Summary, Watch)
where
    I: IntoIterator<Item = (String, Vec<u8>)>,
{
    run_detailed(events, destination, client, config, |d| sink(d.report)).await
}

/// [`run`], handing `sink` each event's report with the report of each of its requests
/// ([`EventDelivery`]), and returning the [`Watch`] of the profiles whose events had an
/// unconfirmed attempt, to read back after the run.
pub async fn run_detailed<I>(
    events: I,
    destination: &Destination,
    client: &Client,
    config: &DeliveryConfig,
    sink: impl FnMut(EventDelivery),
) -> (Summary, Watch)
where
    I: IntoIterator<Item = (String, Vec<u8>)>,
{
    let mapped = events
        .into_iter()
        .map(|(source, bytes)| (source, map(destination, &bytes)));
    run_mapped(mapped, client, config, sink).await
}

/// [`run_detailed`] for events already mapped (each event's source and [`Mapped`], in input
/// order): for a caller that also needs the requests themselves (`crate::diff` compares
/// them), so each event is mapped once.
pub async fn run_mapped<I>(
    events: I,
    client: &Client,
    config: &DeliveryConfig,
    mut sink: impl FnMut(EventDelivery),
) -> (Summary, Watch)
where
    I: IntoIterator<Item = (String, Mapped)>,
{
    let lanes = config.concurrency.max(1);
    let (done_tx, mut done_rx) = mpsc::channel::<EventDelivery>(4096);
    let mut job_txs = Vec::with_capacity(lanes);
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..lanes {
        let (tx, mut rx) = mpsc::channel::<Job>(64);
        job_txs.push(tx);
        let done = done_tx.clone();
        let mut connection = client.connection();
        let config = config.clone();
        let mut rng = ChaCha8Rng::seed_from_u64(
            config.seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        tasks.spawn(async move {
            let mut watch = Watch::default();
            while let Some(job) = rx.recv().await {
                // Every request, in the mapper's order, each on its own: a rejected or failed
                // one does not stop the next (each subscription runs on its own in Segment).
                let mut requests = Vec::with_capacity(job.requests.len());
                for request in &job.requests {
                    let sent = send(&mut connection, &config, request, &mut rng).await;
                    watch.note(request, &sent);
                    requests.push(RequestReport {
                        subscription: request.subscription.clone(),
                        method: request.method,
                        path: request.path().to_owned(),
                        outcome: sent,
                    });
                }
                let Some(outcome) = aggregate(&requests) else {
                    continue;
                };
                let report = EventReport {
                    index: job.index,
                    source: job.source,
                    integration_id: job.requests.into_iter().next().map(|r| r.key),
                    outcome,
                    diagnostics: job.diagnostics,
                };
                if done.send(EventDelivery { report, requests }).await.is_err() {
                    break;
                }
            }
            watch
        });
    }

    let produce = async {
        let done = done_tx;
        for (index, (source, mapped)) in events.into_iter().enumerate() {
            let Mapped {
                requests,
                skip,
                diagnostics,
            } = mapped;
            let index = index as u64;
            match requests.first() {
                None => {
                    let skip = skip.unwrap_or(talon_mapper::Skip::InvalidEvent {
                        error: "the destination gave no request and no reason".into(),
                    });
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
                    let delivery = EventDelivery {
                        report,
                        requests: Vec::new(),
                    };
                    if done.send(delivery).await.is_err() {
                        break;
                    }
                }
                Some(first) => {
                    let tx = &job_txs[lane(&first.key, lanes)];
                    let job = Job {
                        index,
                        source,
                        diagnostics,
                        requests,
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
        // The reorder buffer: slot `i` holds the report of event `next + i` once it is in.
        // Lanes finish nearly in input order, so the window stays short; a ring of slots
        // costs no allocation per event, as a map would.
        let mut waiting: VecDeque<Option<EventDelivery>> = VecDeque::new();
        let mut next = 0u64;
        while let Some(delivery) = done_rx.recv().await {
            let slot =
                usize::try_from(delivery.report.index.saturating_sub(next)).unwrap_or(usize::MAX);
            if slot >= waiting.len() {
                waiting.resize_with(slot.saturating_add(1), || None);
            }
            waiting[slot] = Some(delivery);
            while let Some(Some(_)) = waiting.front() {
                if let Some(Some(delivery)) = waiting.pop_front() {
                    summary.add_delivery(&delivery);
                    sink(delivery);
                    next += 1;
                }
            }
        }
        // Only reachable if a lane died: report what is left, in order.
        for delivery in waiting.into_iter().flatten() {
            summary.add_delivery(&delivery);
            sink(delivery);
        }
        summary
    };

    let ((), summary) = tokio::join!(produce, collect);
    let mut watch = Watch::default();
    while let Some(lane) = tasks.join_next().await {
        if let Ok(lane) = lane {
            watch.profiles.extend(lane.profiles);
        }
    }
    (summary, watch)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(unix: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(unix)
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        // 1994-11-06T08:49:37Z is 784111777.
        let now = at(784_111_777);
        assert_eq!(retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now),
            Some(Duration::ZERO),
            "a date in the past is no wait"
        );
        for unreadable in ["-1", "1.5", "soon", "Sunday, 06-Nov-94 08:49:37 GMT", ""] {
            assert_eq!(retry_after(unreadable, now), None, "{unreadable:?}");
        }
    }

    #[test]
    fn the_watch_keeps_only_what_the_relay_stores_for_the_profile_named() {
        let mut watch = Watch::default();
        for id in ["u1", "u#1?ref=mail", "team/1", "100% user 1"] {
            watch.profiles.insert(
                id.to_owned(),
                BTreeMap::from([
                    ("email".to_owned(), Some(Value::from("e"))),
                    ("address".to_owned(), Some(Value::from("a"))),
                ]),
            );
        }
        watch.retain_routable();
        watch.retain_known(&BTreeMap::from([(
            "email".to_owned(),
            talon_fake::rules::AttrType::String,
        )]));
        assert_eq!(
            watch.profiles,
            BTreeMap::from([(
                "u1".to_owned(),
                BTreeMap::from([("email".to_owned(), Some(Value::from("e")))])
            )])
        );
    }

    #[test]
    fn the_default_budget_outlasts_the_backoff_of_the_old_attempt_limit() {
        let config = DeliveryConfig::new("http://127.0.0.1:1");
        assert_eq!(config.retry_budget, DEFAULT_RETRY_BUDGET);
        assert_eq!(
            config.max_attempts,
            u32::MAX,
            "only the budget limits attempts"
        );
        // Six attempts waited at most 20 + 40 + 80 + 160 + 320 ms = 0.62 s in all.
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let six: Duration = (1..6).map(|r| backoff(&config, r, &mut rng)).sum();
        assert!(six < Duration::from_millis(620));
    }
}

#[cfg(test)]
mod pacing {
    use super::*;

    /// Attempts of one key let go by `pacer`, `n` of them from `lanes` tasks at once: their
    /// times, sorted.
    async fn released(pacer: &Pacer, lanes: usize, n: usize) -> Vec<tokio::time::Instant> {
        let mut tasks = tokio::task::JoinSet::new();
        for lane in 0..lanes {
            let pacer = pacer.clone();
            tasks.spawn(async move {
                let mut times = Vec::new();
                for _ in (lane..n).step_by(lanes) {
                    pacer.wait("ApiKey-v1 k").await;
                    times.push(tokio::time::Instant::now());
                }
                times
            });
        }
        let mut times = Vec::new();
        while let Some(Ok(lane)) = tasks.join_next().await {
            times.extend(lane);
        }
        times.sort();
        times
    }

    #[tokio::test(start_paused = true)]
    async fn no_one_second_window_holds_more_than_the_pace_across_lanes() {
        let pacer = Pacer::new(60);
        let start = tokio::time::Instant::now();
        let times = released(&pacer, 32, 300).await;
        assert_eq!(times.len(), 300);
        for window in times.windows(61) {
            assert!(
                window[60] - window[0] >= Duration::from_secs(1),
                "61 attempts within {:?}",
                window[60] - window[0]
            );
        }
        // Strict but not slower than it must be: 300 at 60/s go in 4 s (bursts at 0..4 s).
        assert_eq!(times[299] - start, Duration::from_secs(4));
    }

    #[tokio::test(start_paused = true)]
    async fn each_key_has_its_own_pace() {
        let pacer = Pacer::new(2);
        let start = tokio::time::Instant::now();
        for key in ["a", "b", "a", "b"] {
            pacer.wait(key).await;
        }
        assert_eq!(tokio::time::Instant::now(), start, "two of each go at once");
        pacer.wait("a").await;
        assert_eq!(tokio::time::Instant::now() - start, Duration::from_secs(1));
    }
}
