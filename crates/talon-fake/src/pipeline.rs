//! The one request pipeline in front of every Talon.One route, the hot
//! `PUT /v2/customer_profiles/{id}` included: [`Pipelined`] wraps their router.
//!
//! In order, for every request:
//!
//! 1. admission ([`admit`]): the rate limit (429), the per-profile in-flight slot (409), the
//!    body limit (413) and the body deadline (408), then the fault rules (status answers,
//!    delays, dropped connections; late requests and late responses are carried on);
//! 2. the handler, whose extractors apply in one order everywhere: auth
//!    ([`crate::api::auth`]), path, query, then content type and parsing of the body
//!    ([`crate::extract`]); a handler holding a request for a late-request fault hands its
//!    work back with [`defer`];
//! 3. journalling and logging ([`Meta::record`]): every request, refused or not, is one
//!    journal entry and one `debug` event (target `talon_fake::request`);
//! 4. the late faults: late requests waiting for this update land, then a late response
//!    waits.
//!
//! The rules come after the body is read because their coin is drawn per request key
//! (method, path and body digest, see [`crate::faults`]), which makes them reproducible
//! whatever the arrival order.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;

use axum::Router;
use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::{Service, ServiceExt};

use crate::api::profiles::profile_id_of;
use crate::error::ApiError;
use crate::extract::{Answer, Res};
use crate::faults::{FaultAction, FaultResponse, LateRequest, RequestKey};
use crate::journal::{Decided, Record, RelayNote, redact_authorization};
use crate::rule::Rule;
use crate::state::{Fake, InFlight};
use crate::store::lock;

/// The service in front of the whole API router: every request the router would answer goes
/// through [`pipeline`] first. One service around the router rather than a layer on each route:
/// a `Router` clone is a reference count, where a route layer clones (allocates) the route.
#[derive(Clone)]
pub(crate) struct Pipelined {
    pub(crate) fake: Fake,
    pub(crate) api: Router,
}

/// The future of the fake's services ([`Pipelined`], [`crate::FakeRouter`]): an answer, never
/// an error.
pub(crate) type Answering = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

impl Service<Request> for Pipelined {
    type Response = Response;
    type Error = Infallible;
    type Future = Answering;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let (fake, api) = (self.fake.clone(), self.api.clone());
        Box::pin(async move { Ok(pipeline(fake, api, req).await) })
    }
}

/// [`admit`], the router's handler, the journal and the log, the late faults.
async fn pipeline(fake: Fake, api: Router, req: Request) -> Response {
    let Admitted {
        meta,
        parts,
        bytes,
        profile_id,
        slot,
        faults_active,
        fault,
    } = match admit(&fake, req).await {
        Ok(a) => a,
        Err(resp) => return resp,
    };
    let mut req = Request::from_parts(parts, Body::from(bytes.clone()));
    let late = match fault {
        Some(FaultResponse::LateRequest(late)) => {
            req.extensions_mut().insert(HoldLate);
            Some(late)
        }
        _ => None,
    };
    let resp = match api.oneshot(req).await {
        Ok(resp) => resp,
        Err(never) => match never {},
    };
    if let (Some(late), Some(id)) = (late, &profile_id)
        && let Some(work) = resp.extensions().get::<Deferred>().and_then(Deferred::take)
    {
        return hold_late(&fake, meta, bytes, id.clone(), work, late);
    }
    let rule = resp
        .extensions()
        .get::<Decided>()
        .map_or(Rule::Undecided, |d| d.0);
    let (mut rparts, rbody) = resp.into_parts();
    let rbytes = one_buffer(rbody).await.unwrap_or_default();
    // Copied, not sliced: a slice would pin hyper's whole read buffer while the entry lives.
    let journal_body = Bytes::copy_from_slice(&bytes);
    let status = rparts.status;
    let relay = if crate::api::segment::is_relay_path(&meta.path) {
        rparts.extensions.remove::<Box<RelayNote>>()
    } else {
        None
    };
    meta.record_relay(
        &fake,
        status.as_u16(),
        journal_body,
        rbytes.clone(),
        rule,
        relay,
    );
    if status.is_success()
        && faults_active
        && let Some(id) = &profile_id
    {
        // Late requests of this profile that were waiting for this update land now, over it,
        // before its answer leaves.
        let due = lock(&fake.inner.faults).late.applied(id);
        for late in due {
            late.apply(&fake);
        }
    }
    if let Some(FaultResponse::LateResponseMs(ms)) = fault {
        // The update is done: free its slot, then answer late.
        drop(slot);
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
    Response::from_parts(rparts, Body::from(rbytes))
}

/// The journal sequence number of the request being answered, a request extension set by the
/// pipeline: the relay's `RequestUUID` is derived from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RequestSeq(pub(crate) u64);

/// A body's bytes. The pipeline's request bodies and every handler's answer are one buffer:
/// its first frame is taken as it is, without the collecting (a queue of buffers) that
/// `to_bytes` does; a body of more frames is collected.
pub(crate) async fn one_buffer(mut body: Body) -> Result<Bytes, axum::Error> {
    use http_body_util::BodyExt;
    let first = match body.frame().await {
        Some(frame) => frame?.into_data().unwrap_or_default(),
        None => return Ok(Bytes::new()),
    };
    if body.is_end_stream() {
        return Ok(first);
    }
    let rest = axum::body::to_bytes(body, usize::MAX).await?;
    let mut all = Vec::with_capacity(first.len() + rest.len());
    all.extend_from_slice(&first);
    all.extend_from_slice(&rest);
    Ok(all.into())
}

/// A request body, at most `limit` bytes: its first frame as it is when it is the only one (a
/// body that arrived with its headers), else every frame collected.
async fn read_limited(body: Body, limit: usize) -> Result<Bytes, axum::Error> {
    use http_body_util::BodyExt;
    let mut body = http_body_util::Limited::new(body, limit);
    let first = match body.frame().await {
        Some(frame) => frame
            .map_err(axum::Error::new)?
            .into_data()
            .unwrap_or_default(),
        None => return Ok(Bytes::new()),
    };
    if body.is_end_stream() {
        return Ok(first);
    }
    let rest = body.collect().await.map_err(axum::Error::new)?.to_bytes();
    let mut all = Vec::with_capacity(first.len() + rest.len());
    all.extend_from_slice(&first);
    all.extend_from_slice(&rest);
    Ok(all.into())
}

/// Logs one answered request at `debug` (target `talon_fake::request`): the journalled ones
/// from [`Meta::record`], the admin ones from their gate.
pub(crate) fn log_request(method: &Method, path: &str, status: u16, rule: &str) {
    // The fields as `talon-harness serve`'s log test reads them (`rule="ok.profile_updated"`).
    tracing::debug!(target: "talon_fake::request", %method, %path, status, rule, "request");
}

// ------------------------------------------------------------------ late requests

/// Set on a request that a late-request fault holds: its handler parses it as usual, then
/// hands its work back with [`defer`] instead of doing it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HoldLate;

/// A handler's deferred work, applied when the late request lands.
type Work = Box<dyn FnOnce(&Fake) -> Res<Answer> + Send>;

/// The response extension that carries [`Work`] from the handler back to the pipeline.
#[derive(Clone)]
struct Deferred(Arc<Mutex<Option<Work>>>);

impl Deferred {
    fn take(&self) -> Option<Work> {
        lock(&self.0).take()
    }
}

/// The response of a handler that was told to [`HoldLate`]: its work, for the pipeline to hold.
pub(crate) fn defer(work: impl FnOnce(&Fake) -> Res<Answer> + Send + 'static) -> Response {
    let mut resp = StatusCode::ACCEPTED.into_response();
    resp.extensions_mut()
        .insert(Deferred(Arc::new(Mutex::new(Some(Box::new(work))))));
    resp
}

/// A request held by a late-request fault, applied later.
pub(crate) struct LatePut {
    meta: Meta,
    raw: Bytes,
    integration_id: String,
    work: Work,
}

impl std::fmt::Debug for LatePut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LatePut")
            .field("meta", &self.meta)
            .field("integration_id", &self.integration_id)
            .finish_non_exhaustive()
    }
}

impl LatePut {
    /// Applies the held update now and journals it (rule `fault.late_request_applied`, with
    /// the status the update got).
    fn apply(self, fake: &Fake) {
        let (status, body) = match (self.work)(fake) {
            Ok(ans) => (ans.status, ans.body),
            Err(e) => (e.status, Bytes::from(e.body_bytes())),
        };
        tracing::debug!(integration_id = %self.integration_id, status = status.as_u16(), "late request applied");
        // A journal entry of its own, in the order it landed.
        let mut meta = self.meta;
        meta.seq = fake.take_seq();
        meta.record(
            fake,
            status.as_u16(),
            self.raw,
            body,
            Rule::FaultLateRequestApplied,
        );
    }
}

/// Holds a late request: journals the attempt (status 0, rule `fault.late_request`), drops the
/// connection, and applies the work after `late.after_requests` more updates of the profile
/// or `late.max_ms`, whichever comes first.
fn hold_late(
    fake: &Fake,
    meta: Meta,
    bytes: Bytes,
    id: String,
    work: Work,
    late: LateRequest,
) -> Response {
    let raw = Bytes::copy_from_slice(&bytes);
    let held = LatePut {
        meta: meta.clone(),
        raw: raw.clone(),
        integration_id: id.clone(),
        work,
    };
    meta.record(fake, 0, raw, Bytes::new(), Rule::FaultLateRequest);
    let ticket = lock(&fake.inner.faults)
        .late
        .hold(&id, late.after_requests, held);
    let fake = fake.clone();
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(late.max_ms)).await;
        let held = lock(&fake.inner.faults).late.take(&id, ticket);
        if let Some(held) = held {
            held.apply(&fake);
        }
    });
    Response::new(Body::new(DroppedBody))
}

impl Fake {
    /// Applies every request a late-request fault still holds, oldest first, as if their
    /// `max_ms` ran out now; returns how many. `simulate` calls it after delivery, so every
    /// late request has landed before the final state is read.
    pub fn release_late_requests(&self) -> usize {
        let held = lock(&self.inner.faults).late.take_all();
        let n = held.len();
        for late in held {
            late.apply(self);
        }
        n
    }

    /// How many requests a late-request fault holds now.
    pub fn late_requests_held(&self) -> usize {
        lock(&self.inner.faults).late.len()
    }
}

// ------------------------------------------------------------------ admission

/// A request that passed admission: its journal metadata, parts, body and concurrency slot.
struct Admitted {
    meta: Meta,
    parts: Parts,
    bytes: Bytes,
    profile_id: Option<String>,
    slot: Option<InFlight>,
    /// Whether a fault plan was active when the request came in.
    faults_active: bool,
    /// A fault the pipeline applies after the handler: a late request or a late response.
    fault: Option<FaultResponse>,
}

/// Rate limit, per-profile concurrency, the body limit, then the fault rules, in that order. A
/// refused request is journalled and answered here; a late request or late response is left
/// to the caller in [`Admitted::fault`].
async fn admit(fake: &Fake, req: Request) -> Result<Admitted, Response> {
    let (mut parts, body) = req.into_parts();
    let meta = Meta::new(fake, &parts);
    // Only the relay's answers name their request (`RequestUUID`); the Integration API's hot
    // path is spared the extension map.
    if crate::api::segment::is_relay_path(parts.uri.path()) {
        parts.extensions.insert(RequestSeq(meta.seq));
    }
    let profile_id = profile_id_of(&parts.method, parts.uri.path());
    let faults_active = fake
        .inner
        .faults_active
        .load(std::sync::atomic::Ordering::Relaxed);
    if faults_active && lock(&fake.inner.faults).rate_limited(tokio::time::Instant::now()) {
        return Err(meta.reject(fake, fault_status(429, Rule::FaultRateLimit)));
    }
    // The in-flight slot is taken before any waiting (delay, slow body), as Talon.One queues them.
    let slot = match &profile_id {
        Some(id) => match fake.hold_profile(id) {
            Some(slot) => Some(slot),
            None => return Err(meta.reject(fake, too_many_updates())),
        },
        None => None,
    };
    let limit = fake.inner.config.body_limit;
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(meta.reject(fake, too_large(limit)));
    }
    let bytes = match read_limited(body, limit).await {
        Ok(b) => b,
        Err(e) => {
            let is_limit = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
                || e.to_string().contains("length limit");
            return Err(meta.reject(
                fake,
                if is_limit {
                    too_large(limit)
                } else if crate::server::is_body_timeout(&e) {
                    body_timed_out(fake)
                } else {
                    ApiError::new(
                        StatusCode::BAD_REQUEST,
                        Rule::BodyUnreadable,
                        "The request body could not be read",
                    )
                },
            ));
        }
    };
    let action = if faults_active {
        let path = parts.uri.path();
        let key = RequestKey::new(parts.method.as_str(), path, &bytes);
        lock(&fake.inner.faults).decide(parts.method.as_str(), path, profile_id.as_deref(), key)
    } else {
        FaultAction::None
    };
    let mut fault = None;
    match action {
        FaultAction::None => {}
        FaultAction::Respond(FaultResponse::Status(s)) => {
            return Err(meta.reject(fake, fault_status(s, Rule::FaultStatus)));
        }
        FaultAction::Respond(FaultResponse::DropConnection) => {
            meta.record(
                fake,
                0,
                Bytes::new(),
                Bytes::new(),
                Rule::FaultDropConnection,
            );
            return Err(Response::new(Body::new(DroppedBody)));
        }
        FaultAction::Respond(FaultResponse::DelayMs(ms)) => {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        }
        FaultAction::Respond(f @ FaultResponse::LateResponseMs(_)) => fault = Some(f),
        FaultAction::Respond(f @ FaultResponse::LateRequest(_)) => {
            if profile_id.is_some() {
                fault = Some(f);
            }
        }
    }
    Ok(Admitted {
        meta,
        parts,
        bytes,
        profile_id,
        slot,
        faults_active,
        fault,
    })
}

/// 409 for a fourth concurrent update of one profile.
fn too_many_updates() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        Rule::ProfileConcurrentUpdates,
        "Too many requests are updating this profile at the same time",
    )
    .parameter(
        "integrationId",
        "Too many parallel requests",
        "avoid parallel requests for the same customer profile; send them sequentially".to_owned(),
    )
}

/// 413 for a body over [`crate::FakeConfig::body_limit`], declared or read.
fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        Rule::BodyTooLarge,
        "Request body too large",
    )
    .pointer(
        "",
        "Request body too large",
        format!("the request body exceeds the limit of {limit} bytes"),
    )
}

/// 408 for a body that did not arrive within [`crate::FakeConfig::body_timeout`] (the slot it
/// held is released when [`admit`] returns).
fn body_timed_out(fake: &Fake) -> ApiError {
    let ms = fake.inner.config.body_timeout.as_millis();
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        Rule::BodyTimeout,
        "Request body timed out",
    )
    .pointer(
        "",
        "Request body timed out",
        format!("the request body was not complete within {ms} ms of its headers"),
    )
}

fn fault_status(status: u16, rule: Rule) -> ApiError {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let msg = match status {
        429 => "Too many requests",
        500 => "Internal server error",
        502 => "Bad gateway",
        _ => "Service unavailable",
    };
    ApiError::new(code, rule, msg)
}

// ------------------------------------------------------------------ journal

/// What the journal keeps of a request besides its body: owned copies, never slices of the
/// request (hyper's `Uri` and header values share its read buffer).
#[derive(Debug, Clone)]
struct Meta {
    /// The journal sequence number, taken when the request came in.
    seq: u64,
    method: Method,
    path: Box<str>,
    query: Option<Box<str>>,
    headers: Vec<(&'static str, Cow<'static, str>)>,
}

impl Meta {
    fn new(fake: &Fake, parts: &Parts) -> Self {
        Self {
            seq: fake.take_seq(),
            method: parts.method.clone(),
            path: parts.uri.path().into(),
            query: parts.uri.query().map(Into::into),
            headers: selected_headers(&parts.headers),
        }
    }

    /// Journals and logs the request: the one place every journalled request passes.
    fn record(self, fake: &Fake, status: u16, body: Bytes, response_body: Bytes, rule: Rule) {
        self.record_relay(fake, status, body, response_body, rule, None);
    }

    fn record_relay(
        self,
        fake: &Fake,
        status: u16,
        body: Bytes,
        response_body: Bytes,
        rule: Rule,
        relay: Option<Box<RelayNote>>,
    ) {
        log_request(&self.method, &self.path, status, rule.as_str());
        fake.push_journal(Record {
            seq: self.seq,
            method: self.method,
            path: self.path,
            query: self.query,
            headers: self.headers,
            body,
            status,
            response_body,
            rule,
            relay,
        });
    }

    /// Journals and answers a request the pipeline refused, in the envelope of the API its
    /// path belongs to (the Segment relay has its own).
    fn reject(self, fake: &Fake, e: ApiError) -> Response {
        if crate::api::segment::is_relay_path(&self.path) {
            let re = crate::api::segment::RelayError::from_deployment(e, self.seq);
            let (status, rule) = (re.status.as_u16(), re.rule);
            let entry = Some(re.entry.clone());
            self.record_relay(
                fake,
                status,
                Bytes::new(),
                re.body_bytes().into(),
                rule,
                entry,
            );
            return re.into_response();
        }
        self.record(
            fake,
            e.status.as_u16(),
            Bytes::new(),
            Bytes::from(e.body_bytes()),
            e.rule,
        );
        e.into_response()
    }
}

const JOURNAL_HEADERS: [header::HeaderName; 3] = [
    header::AUTHORIZATION,
    header::CONTENT_TYPE,
    header::USER_AGENT,
];

fn selected_headers(h: &HeaderMap) -> Vec<(&'static str, Cow<'static, str>)> {
    let mut out = Vec::with_capacity(4);
    for name in &JOURNAL_HEADERS {
        if let Some(v) = h.get(name) {
            let v = String::from_utf8_lossy(v.as_bytes());
            let v = if *name == header::AUTHORIZATION {
                redact_authorization(&v)
            } else if *name == header::CONTENT_TYPE && v == "application/json" {
                Cow::Borrowed("application/json")
            } else {
                Cow::Owned(v.into_owned())
            };
            out.push((name.as_str(), v));
        }
    }
    if let Some(v) = h.get(&crate::api::segment::DESTINATION_HOSTNAME) {
        out.push((
            "destination-hostname",
            Cow::Owned(String::from_utf8_lossy(v.as_bytes()).into_owned()),
        ));
    }
    out.sort();
    out
}

/// A response body that fails at once: hyper aborts the connection.
struct DroppedBody;

impl HttpBody for DroppedBody {
    type Data = Bytes;
    type Error = std::io::Error;
    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "fault: drop_connection",
        ))))
    }
}
