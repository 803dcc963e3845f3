//! The HTTP surface: [`router`], thin handlers, Talon-shaped extractors, and the front layer
//! (rate limit, faults, per-profile concurrency, body limit, journal).

use std::borrow::Cow;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, RawPathParams, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::fake::{Answer, Fake};
use crate::faults::{
    FaultAction, FaultPlan, FaultResponse, LateRequest, PROFILE_PREFIX, RequestKey,
};
use crate::journal::{Decided, Record, redact_authorization};
use crate::rule::Rule;
use crate::state_file::StateFile;

/// Reserved prefix of the control endpoints; never journalled, never faulted.
pub const ADMIN_PREFIX: &str = "/__admin";

/// The fake's router: Talon.One's Integration and Management endpoints plus `/__admin/*`.
///
/// Use it with `tower::ServiceExt::oneshot` for socket-free tests, or serve it
/// (see [`crate::MockServer`]).
pub fn router(fake: Fake) -> Router {
    let api = Router::new()
        .route("/v2/authping", get(authping))
        .route("/v2/customer_profiles", put(put_profiles))
        .route("/v2/customer_audiences", post(post_customer_audiences))
        .route("/v2/audiences", post(post_audience))
        .route(
            "/v2/audiences/{audienceId}",
            put(put_audience).delete(delete_audience),
        )
        .route(
            "/v2/audiences/{audienceId}/memberships",
            axum::routing::delete(delete_memberships),
        )
        .route(
            "/v2/audience_customers/{audienceId}/attributes",
            put(put_audience_customers),
        )
        .route(
            "/v1/attributes",
            get(list_attributes).post(create_attribute),
        )
        .route(
            "/v1/attributes/{attributeId}",
            get(get_attribute).put(update_attribute),
        )
        .route("/v1/audiences", get(list_audiences))
        .route("/v1/applications", get(list_applications))
        .route(
            "/v1/applications/{applicationId}/customers",
            get(list_customers),
        )
        .route(
            "/v1/applications/{applicationId}/customers/{customerId}",
            get(get_customer),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(fake.clone(), front));
    let admin = Router::new()
        .route("/__admin/journal", get(admin_journal))
        .route("/__admin/state", get(admin_state))
        .route("/__admin/reset", post(admin_reset))
        .route(
            "/__admin/faults",
            get(admin_get_faults).put(admin_put_faults),
        )
        .route_layer(middleware::from_fn_with_state(fake.clone(), admin_gate));
    // The hot path does its own admission and journalling (same rules, no middleware hop).
    let fast = Router::new()
        .route("/v2/customer_profiles/{integrationId}", put(put_profile))
        .method_not_allowed_fallback(method_not_allowed);
    fast.merge(api).merge(admin).with_state(fake)
}

// ------------------------------------------------------------------ responses

fn answer(r: Result<Answer, ApiError>) -> Response {
    match r {
        Ok(a) => {
            let mut resp = if a.body.is_empty() {
                a.status.into_response()
            } else {
                (
                    a.status,
                    [(header::CONTENT_TYPE, "application/json")],
                    a.body,
                )
                    .into_response()
            };
            resp.extensions_mut().insert(Decided(a.rule));
            resp
        }
        Err(e) => e.into_response(),
    }
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, Rule::RouteNotFound, "Not found")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        Rule::RouteMethodNotAllowed,
        "Method not allowed",
    )
}

// ------------------------------------------------------------------ extractors

/// Integration API auth; yields the application position.
struct IntegrationAuth(usize);

impl FromRequestParts<Fake> for IntegrationAuth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, fake: &Fake) -> Result<Self, ApiError> {
        fake.auth_integration(parts.headers.get(header::AUTHORIZATION))
            .map(Self)
    }
}

/// Management API auth.
struct ManagementAuth;

impl FromRequestParts<Fake> for ManagementAuth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, fake: &Fake) -> Result<Self, ApiError> {
        fake.auth_management(parts.headers.get(header::AUTHORIZATION))
            .map(|()| Self)
    }
}

/// A path parameter with a Talon-shaped rejection.
struct P<T>(T);

impl<T> FromRequestParts<Fake> for P<T>
where
    T: serde::de::DeserializeOwned + Send,
{
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, fake: &Fake) -> Result<Self, ApiError> {
        // Every path parameter but the hot path's integration id is an integer: a malformed
        // escape (which axum passes through) cannot parse as one, and invalid UTF-8 is refused
        // by axum, so no two different paths reach the same id; the error names the parameter.
        match Path::<T>::from_request_parts(parts, fake).await {
            Ok(Path(v)) => Ok(Self(v)),
            Err(e) => {
                let key_at = |i: usize| async move {
                    RawPathParams::from_request_parts(parts, fake)
                        .await
                        .ok()
                        .and_then(|p| p.iter().nth(i).map(|(k, _)| k.to_owned()))
                };
                let name = match &e {
                    PathRejection::FailedToDeserializePathParams(d) => match d.kind() {
                        ErrorKind::ParseErrorAtKey { key, .. }
                        | ErrorKind::InvalidUtf8InPathParam { key } => Some(key.clone()),
                        ErrorKind::ParseError { .. } => key_at(0).await,
                        ErrorKind::ParseErrorAtIndex { index, .. } => key_at(*index).await,
                        _ => None,
                    },
                    _ => None,
                };
                let name = name.unwrap_or_else(|| "path".to_owned());
                Err(invalid_path_param(&name, e.body_text()))
            }
        }
    }
}

/// Query pairs with a Talon-shaped rejection.
struct Q(Vec<(String, String)>);

impl FromRequestParts<Fake> for Q {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, fake: &Fake) -> Result<Self, ApiError> {
        match Query::<Vec<(String, String)>>::from_request_parts(parts, fake).await {
            Ok(Query(v)) => Ok(Self(v)),
            Err(e) => Err(ApiError::bad_param(
                Rule::QueryInvalid,
                "query",
                "Invalid query string",
                e.body_text(),
            )),
        }
    }
}

/// A JSON object body. Wrong content type, invalid UTF-8, malformed or too deeply
/// nested JSON, and non-object bodies are all rejected in Talon.One's envelope.
pub(crate) struct TalonJson(pub(crate) Map<String, Value>);

impl FromRequest<Fake> for TalonJson {
    type Rejection = ApiError;
    async fn from_request(req: Request, fake: &Fake) -> Result<Self, ApiError> {
        check_json_content_type(req.headers())?;
        let bytes = Bytes::from_request(req, fake).await.map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                Rule::BodyUnreadable,
                "The request body could not be read",
            )
            .pointer("", "Unreadable body", e.body_text())
        })?;
        parse_object(&bytes).map(Self)
    }
}

/// 415 unless the body is declared as JSON (`application/json` or `application/*+json`).
fn check_json_content_type(h: &HeaderMap) -> Result<(), ApiError> {
    let is_json = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| {
            let m = m.trim();
            m.eq_ignore_ascii_case("application/json")
                || (m.starts_with("application/") && m.ends_with("+json"))
        });
    if is_json {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Rule::BodyContentType,
        "Content-Type must be application/json",
    )
    .parameter(
        "Content-Type",
        "Unsupported media type",
        "send the body as JSON with Content-Type: application/json".to_owned(),
    ))
}

/// Parses a JSON object body (the rules of [`TalonJson`], without the content type).
pub(crate) fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(bytes) {
        // serde_json validates UTF-8 inside strings, and outside strings only ASCII is JSON,
        // so a successful parse implies valid UTF-8.
        Ok(Value::Object(m)) => Ok(m),
        Ok(v) => Err(ApiError::bad_body(
            Rule::BodyNotObject,
            "",
            "Invalid request body",
            format!(
                "the request body must be a JSON object, got {}",
                crate::rules::kind_name(&v)
            ),
        )),
        Err(_) if std::str::from_utf8(bytes).is_err() => Err(ApiError::bad_body(
            Rule::BodyInvalidUtf8,
            "",
            "Invalid request body",
            "the request body is not valid UTF-8".into(),
        )),
        Err(e) => {
            let (rule, what) = if e.to_string().contains("recursion limit") {
                (
                    Rule::BodyTooDeep,
                    "the request body is nested too deeply (limit 127 levels)".to_owned(),
                )
            } else {
                (
                    Rule::BodyMalformedJson,
                    format!("the request body is not valid JSON: {e}"),
                )
            };
            Err(ApiError::bad_body(rule, "", "Invalid request body", what))
        }
    }
}

fn bool_param(q: &[(String, String)], k: &str) -> Result<bool, ApiError> {
    match crate::fake::query(q, k) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(s) => Err(ApiError::bad_param(
            Rule::QueryInvalid,
            k,
            "Invalid query parameter",
            format!("{k} must be true or false, got {s:?}"),
        )),
    }
}

// ------------------------------------------------------------------ integration handlers

async fn authping(State(_): State<Fake>, IntegrationAuth(_): IntegrationAuth) -> Response {
    answer(Ok(Answer {
        status: StatusCode::NO_CONTENT,
        body: Bytes::new(),
        rule: Rule::OkAuthping,
    }))
}

/// `PUT /v2/customer_profiles/{integrationId}`: the hot path, admitted and journalled here
/// rather than in [`front`], with the same checks in the same order.
async fn put_profile(State(fake): State<Fake>, req: Request) -> Response {
    let a = match admit(&fake, req).await {
        Ok(a) => a,
        Err(resp) => return resp,
    };
    let parsed = (|| {
        let app = fake.auth_integration(a.parts.headers.get(header::AUTHORIZATION))?;
        let Some(id) = a.profile_id.as_deref() else {
            let raw = a
                .parts
                .uri
                .path()
                .strip_prefix(PROFILE_PREFIX)
                .unwrap_or_default();
            let why = decode_path_segment(raw)
                .err()
                .unwrap_or_else(|| "the integration id is empty".to_owned());
            return Err(invalid_path_param("integrationId", why));
        };
        let q = match Query::<Vec<(String, String)>>::try_from_uri(&a.parts.uri) {
            Ok(Query(q)) => q,
            Err(e) => {
                return Err(ApiError::bad_param(
                    Rule::QueryInvalid,
                    "query",
                    "Invalid query string",
                    e.body_text(),
                ));
            }
        };
        check_json_content_type(&a.parts.headers)?;
        let body = parse_object(&a.bytes)?;
        let run = bool_param(&q, "runRuleEngine")?;
        let dry = bool_param(&q, "dry")?;
        Ok((app, id.to_owned(), body, run, dry))
    })();
    let (app, id, body, run, dry) = match parsed {
        Ok(p) => p,
        Err(e) => {
            let status = e.status;
            let body = Bytes::from(e.body_bytes());
            let journal_body = Bytes::copy_from_slice(&a.bytes);
            a.meta
                .record(&fake, status.as_u16(), journal_body, body.clone(), e.rule);
            return profile_response(status, body, e.rule);
        }
    };
    if let Some(FaultResponse::LateRequest(late)) = a.fault {
        let update = Update {
            app,
            integration_id: id,
            body,
            run,
            dry,
        };
        return hold_late(&fake, a, update, late);
    }
    let result = fake.update_profile(app, &id, &body, run, dry);
    let (status, body, rule) = match result {
        Ok(ans) => (ans.status, ans.body, ans.rule),
        Err(e) => (e.status, Bytes::from(e.body_bytes()), e.rule),
    };
    let Admitted {
        meta,
        bytes,
        fault,
        faults_active,
        _slot,
        ..
    } = a;
    let journal_body = Bytes::copy_from_slice(&bytes);
    meta.record(&fake, status.as_u16(), journal_body, body.clone(), rule);
    if status.is_success() && faults_active {
        // Late requests of this profile that were waiting for this update land now, over it,
        // before its answer leaves.
        let due = crate::store::lock(&fake.inner.faults).late.applied(&id);
        for late in due {
            late.apply(&fake);
        }
    }
    if let Some(FaultResponse::LateResponseMs(ms)) = fault {
        // The update is done: free its slot, then answer late.
        drop(_slot);
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
    profile_response(status, body, rule)
}

fn profile_response(status: StatusCode, body: Bytes, rule: Rule) -> Response {
    let mut resp = (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    resp.extensions_mut().insert(Decided(rule));
    resp
}

/// A parsed, authorised profile update, ready for [`Fake::update_profile`].
#[derive(Debug)]
struct Update {
    app: usize,
    integration_id: String,
    body: Map<String, Value>,
    run: bool,
    dry: bool,
}

/// A `PUT /v2/customer_profiles/{id}` held by a late-request fault, applied later.
#[derive(Debug)]
pub(crate) struct LatePut {
    meta: Meta,
    raw: Bytes,
    update: Update,
}

impl LatePut {
    /// Applies the held update now and journals it (rule `fault.late_request_applied`, with
    /// the status the update got).
    fn apply(self, fake: &Fake) {
        let u = &self.update;
        let result = fake.update_profile(u.app, &u.integration_id, &u.body, u.run, u.dry);
        let (status, body) = match result {
            Ok(ans) => (ans.status, ans.body),
            Err(e) => (e.status, Bytes::from(e.body_bytes())),
        };
        tracing::debug!(integration_id = %u.integration_id, status = status.as_u16(), "late request applied");
        self.meta.record(
            fake,
            status.as_u16(),
            self.raw,
            body,
            Rule::FaultLateRequestApplied,
        );
    }
}

/// Holds a late request: journals the attempt (status 0, rule `fault.late_request`), drops the
/// connection, and applies the update after `late.after_requests` more updates of the profile
/// or `late.max_ms`, whichever comes first.
fn hold_late(fake: &Fake, a: Admitted, update: Update, late: LateRequest) -> Response {
    let id = update.integration_id.clone();
    let raw = Bytes::copy_from_slice(&a.bytes);
    let held = LatePut {
        meta: Meta {
            method: a.meta.method.clone(),
            path: a.meta.path.clone(),
            query: a.meta.query.clone(),
            headers: a.meta.headers.clone(),
        },
        raw: raw.clone(),
        update,
    };
    a.meta
        .record(fake, 0, raw, Bytes::new(), Rule::FaultLateRequest);
    let ticket = crate::store::lock(&fake.inner.faults)
        .late
        .hold(&id, late.after_requests, held);
    let fake = fake.clone();
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(late.max_ms)).await;
        let held = crate::store::lock(&fake.inner.faults)
            .late
            .take(&id, ticket);
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
        let held = crate::store::lock(&self.inner.faults).late.take_all();
        let n = held.len();
        for late in held {
            late.apply(self);
        }
        n
    }

    /// How many requests a late-request fault holds now.
    pub fn late_requests_held(&self) -> usize {
        crate::store::lock(&self.inner.faults).late.len()
    }
}

async fn put_profiles(
    State(fake): State<Fake>,
    IntegrationAuth(app): IntegrationAuth,
    Q(q): Q,
    TalonJson(body): TalonJson,
) -> Response {
    answer((|| {
        let silent = match crate::fake::query(&q, "silent") {
            None | Some("yes") => true,
            Some("no") => false,
            Some(s) => {
                return Err(ApiError::bad_param(
                    Rule::QueryInvalid,
                    "silent",
                    "Invalid query parameter",
                    format!("silent must be yes or no, got {s:?}"),
                ));
            }
        };
        fake.update_profiles(app, &body, silent)
    })())
}

async fn post_customer_audiences(
    State(fake): State<Fake>,
    _: IntegrationAuth,
    TalonJson(body): TalonJson,
) -> Response {
    answer(fake.update_customer_audiences(&body))
}

async fn post_audience(
    State(fake): State<Fake>,
    _: IntegrationAuth,
    TalonJson(body): TalonJson,
) -> Response {
    answer(fake.create_audience(&body))
}

async fn put_audience(
    State(fake): State<Fake>,
    _: IntegrationAuth,
    P(id): P<i64>,
    TalonJson(body): TalonJson,
) -> Response {
    answer(fake.update_audience(id, &body))
}

async fn delete_audience(State(fake): State<Fake>, _: IntegrationAuth, P(id): P<i64>) -> Response {
    answer(fake.delete_audience(id))
}

async fn delete_memberships(
    State(fake): State<Fake>,
    _: IntegrationAuth,
    P(id): P<i64>,
) -> Response {
    answer(fake.delete_memberships(id))
}

async fn put_audience_customers(
    State(fake): State<Fake>,
    _: IntegrationAuth,
    P(id): P<i64>,
    TalonJson(body): TalonJson,
) -> Response {
    answer(fake.update_audience_customers(id, &body))
}

// ------------------------------------------------------------------ management handlers

async fn list_attributes(State(fake): State<Fake>, _: ManagementAuth, Q(q): Q) -> Response {
    answer(fake.list_attributes(&q))
}

async fn create_attribute(
    State(fake): State<Fake>,
    _: ManagementAuth,
    TalonJson(body): TalonJson,
) -> Response {
    answer(fake.create_attribute(&body))
}

async fn get_attribute(State(fake): State<Fake>, _: ManagementAuth, P(id): P<i64>) -> Response {
    answer(fake.get_attribute(id))
}

async fn update_attribute(
    State(fake): State<Fake>,
    _: ManagementAuth,
    P(id): P<i64>,
    TalonJson(body): TalonJson,
) -> Response {
    answer(fake.update_attribute(id, &body))
}

async fn list_audiences(State(fake): State<Fake>, _: ManagementAuth, Q(q): Q) -> Response {
    answer(fake.list_audiences(&q))
}

async fn list_applications(State(fake): State<Fake>, _: ManagementAuth, Q(q): Q) -> Response {
    answer(fake.list_applications(&q))
}

async fn list_customers(
    State(fake): State<Fake>,
    _: ManagementAuth,
    P(app): P<i64>,
    Q(q): Q,
) -> Response {
    answer(fake.list_customers(app, &q))
}

async fn get_customer(
    State(fake): State<Fake>,
    _: ManagementAuth,
    P((app, customer)): P<(i64, i64)>,
) -> Response {
    answer(fake.get_customer(app, customer))
}

// ------------------------------------------------------------------ admin

/// With [`crate::FakeConfig::admin_token`] set, `/__admin/*` needs `Authorization: Bearer <token>`.
async fn admin_gate(State(fake): State<Fake>, req: Request, next: Next) -> Response {
    if let Some(token) = &fake.inner.config.admin_token {
        let sent = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "));
        if !sent.is_some_and(|s| constant_time_eq(s, token.as_bytes())) {
            return ApiError::new(
                StatusCode::UNAUTHORIZED,
                Rule::AdminUnauthorized,
                "Invalid admin token",
            )
            .parameter(
                "Authorization",
                "Invalid admin token",
                "send the token given to serve --admin-token as Authorization: Bearer <token>"
                    .to_owned(),
            )
            .into_response();
        }
    }
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let resp = next.run(req).await;
    // Admin requests are not journalled; they are logged like the others.
    tracing::debug!(%method, %path, status = resp.status().as_u16(), rule = "admin", "request");
    resp
}

/// Compares without an early exit on the first differing byte.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn admin_journal(State(fake): State<Fake>) -> Response {
    let v = serde_json::json!({"dropped": fake.journal_dropped(), "entries": fake.journal()});
    axum::Json(v).into_response()
}

/// `GET /__admin/state[?reveal_keys=true]`: the state file; API keys are `<redacted>` unless
/// `reveal_keys=true` (a loadable dump needs them).
async fn admin_state(State(fake): State<Fake>, Q(q): Q) -> Response {
    let reveal = match bool_param(&q, "reveal_keys") {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    // Streamed: a blocking task writes the state in 64 KiB chunks into a bounded channel
    // that the response body drains, so neither side holds the whole state in memory.
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::task::spawn_blocking(move || {
        let mut w = std::io::BufWriter::with_capacity(64 * 1024, ChannelWriter(tx.clone()));
        let written = fake
            .write_state(&mut w, !reveal)
            .and_then(|()| std::io::Write::flush(&mut w));
        if let Err(e) = written
            && e.kind() != std::io::ErrorKind::BrokenPipe
        {
            // The client sees the body fail (a truncated body is never a valid state file).
            let _ = tx.blocking_send(Err(e));
        }
    });
    (
        [(header::CONTENT_TYPE, "application/json")],
        Body::new(ChannelBody(rx)),
    )
        .into_response()
}

/// The writing end of a streamed body: every write is one chunk (wrap it in a `BufWriter`).
struct ChannelWriter(tokio::sync::mpsc::Sender<std::io::Result<Bytes>>);

impl std::io::Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .blocking_send(Ok(Bytes::copy_from_slice(buf)))
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::BrokenPipe))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A response body fed by a [`ChannelWriter`]; it ends when the writer is dropped.
struct ChannelBody(tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>);

impl HttpBody for ChannelBody {
    type Data = Bytes;
    type Error = std::io::Error;
    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|r| r.map(http_body::Frame::data)))
    }
}

/// `POST /__admin/reset`: empty body returns to the initial state; a state-file body replaces it.
async fn admin_reset(State(fake): State<Fake>, body: Bytes) -> Response {
    let state = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        match std::str::from_utf8(&body)
            .map_err(|e| e.to_string())
            .and_then(|s| StateFile::from_json(s).map_err(|e| e.to_string()))
        {
            Ok(s) => Some(s),
            Err(e) => {
                return ApiError::bad_body(Rule::AdminInvalidState, "", "Invalid state file", e)
                    .into_response();
            }
        }
    };
    match fake.reset(state) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => ApiError::bad_body(
            Rule::AdminInvalidState,
            "",
            "Invalid state file",
            e.to_string(),
        )
        .into_response(),
    }
}

async fn admin_get_faults(State(fake): State<Fake>) -> Response {
    axum::Json(fake.faults()).into_response()
}

async fn admin_put_faults(State(fake): State<Fake>, body: Bytes) -> Response {
    match std::str::from_utf8(&body)
        .map_err(|e| e.to_string())
        .and_then(|s| FaultPlan::from_json(s).map_err(|e| e.to_string()))
    {
        Ok(plan) => {
            fake.set_faults(plan);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => ApiError::bad_body(Rule::AdminInvalidFaults, "", "Invalid fault plan", e)
            .into_response(),
    }
}

// ------------------------------------------------------------------ front layer

/// The decoded integration id of a `/v2/customer_profiles/{id}` path; `None` if the path has
/// no id or the id is not strictly percent-encoded UTF-8 ([`decode_path_segment`]).
fn profile_id_of(path: &str) -> Option<String> {
    let raw = path.strip_prefix(PROFILE_PREFIX)?;
    if raw.is_empty() || raw.contains('/') {
        return None;
    }
    decode_path_segment(raw).ok()
}

/// Strict percent-decoding of one path segment: every `%` starts two hex digits, and the
/// decoded bytes are UTF-8. Nothing is replaced or passed through, so two different
/// segments never decode to the same id (`coll%FFx` and `coll%FEx` are both refused).
pub(crate) fn decode_path_segment(s: &str) -> Result<String, String> {
    if !s.contains('%') {
        return Ok(s.to_owned());
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            match (b.get(i + 1).and_then(hex), b.get(i + 2).and_then(hex)) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                    continue;
                }
                _ => {
                    let escape: String = s[i..].chars().take(3).collect();
                    return Err(format!(
                        "malformed percent-escape {escape:?} at byte {i}: `%` must be followed by two hex digits"
                    ));
                }
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).map_err(|e| {
        format!(
            "the percent-decoded bytes are not valid UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// 400 for a path parameter that is not strictly percent-encoded UTF-8.
fn invalid_path_param(name: &str, why: String) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        Rule::PathInvalid,
        format!("Invalid path parameter {name}"),
    )
    .parameter(name, "Invalid path parameter", why)
}

fn hex(c: &u8) -> Option<u8> {
    (*c as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
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
    if let Some(v) = h.get("destination-hostname") {
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

/// What the journal keeps of a request besides its body: owned copies, never slices of the
/// request (hyper's `Uri` and header values share its read buffer).
#[derive(Debug)]
struct Meta {
    method: Method,
    path: Box<str>,
    query: Option<Box<str>>,
    headers: Vec<(&'static str, Cow<'static, str>)>,
}

impl Meta {
    fn new(parts: &Parts) -> Self {
        Self {
            method: parts.method.clone(),
            path: parts.uri.path().into(),
            query: parts.uri.query().map(Into::into),
            headers: selected_headers(&parts.headers),
        }
    }

    fn record(self, fake: &Fake, status: u16, body: Bytes, response_body: Bytes, rule: Rule) {
        // Every journalled request, the hot path and refusals included, is logged here once.
        tracing::debug!(method = %self.method, path = %self.path, status, rule = rule.as_str(), "request");
        fake.push_journal(move |seq| Record {
            seq,
            method: self.method,
            path: self.path,
            query: self.query,
            headers: self.headers,
            body,
            status,
            response_body,
            rule,
        });
    }

    fn reject(self, fake: &Fake, e: ApiError) -> Response {
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

/// A request that passed the front checks: its journal metadata, parts, body and concurrency slot.
struct Admitted {
    meta: Meta,
    parts: Parts,
    bytes: Bytes,
    profile_id: Option<String>,
    _slot: Option<crate::fake::InFlight>,
    /// Whether a fault plan was active when the request came in.
    faults_active: bool,
    /// A fault the caller applies: a late request or a late response.
    fault: Option<FaultResponse>,
}

/// Rate limit, per-profile concurrency, the body limit, then the fault rules, in that order. A
/// refused request is journalled and answered here; a late request or late response is left
/// to the caller in [`Admitted::fault`].
///
/// The rules come after the body is read because their coin is drawn per request key
/// (method, path and body digest, see [`crate::faults`]), which makes them reproducible
/// whatever the arrival order.
async fn admit(fake: &Fake, req: Request) -> Result<Admitted, Response> {
    let (parts, body) = req.into_parts();
    let meta = Meta::new(&parts);
    let path = parts.uri.path();
    let profile_id = if parts.method == Method::PUT {
        profile_id_of(path)
    } else {
        None
    };
    let faults_active = fake
        .inner
        .faults_active
        .load(std::sync::atomic::Ordering::Relaxed);
    if faults_active
        && crate::store::lock(&fake.inner.faults).rate_limited(tokio::time::Instant::now())
    {
        return Err(meta.reject(fake, fault_status(429, Rule::FaultRateLimit)));
    }
    // The in-flight slot is taken before any waiting (delay, slow body), as Talon.One queues them.
    let slot = match &profile_id {
        Some(id) => match fake.hold_profile(id) {
            Some(slot) => Some(slot),
            None => {
                return Err(meta.reject(
                    fake,
                    ApiError::new(
                        StatusCode::CONFLICT,
                        Rule::ProfileConcurrentUpdates,
                        "Too many requests are updating this profile at the same time",
                    )
                    .parameter(
                        "integrationId",
                        "Too many parallel requests",
                        "avoid parallel requests for the same customer profile; send them sequentially".to_owned(),
                    ),
                ));
            }
        },
        None => None,
    };
    let limit = fake.inner.config.body_limit;
    let too_large = || {
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
    };
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(meta.reject(fake, too_large()));
    }
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(e) => {
            let is_limit = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
                || e.to_string().contains("length limit");
            return Err(meta.reject(
                fake,
                if is_limit {
                    too_large()
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
        crate::store::lock(&fake.inner.faults).decide(
            parts.method.as_str(),
            path,
            profile_id.as_deref(),
            key,
        )
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
        _slot: slot,
        faults_active,
        fault,
    })
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

/// The layer in front of every API route but the hot one: [`admit`], the handler, the journal.
async fn front(State(fake): State<Fake>, req: Request, next: Next) -> Response {
    let a = match admit(&fake, req).await {
        Ok(a) => a,
        Err(resp) => return resp,
    };
    let late_response = match a.fault {
        Some(FaultResponse::LateResponseMs(ms)) => Some(ms),
        _ => None,
    };
    let resp = next
        .run(Request::from_parts(a.parts, Body::from(a.bytes.clone())))
        .await;
    let rule = resp
        .extensions()
        .get::<Decided>()
        .map_or(Rule::Undecided, |d| d.0);
    let (rparts, rbody) = resp.into_parts();
    let rbytes = axum::body::to_bytes(rbody, usize::MAX)
        .await
        .unwrap_or_default();
    // Copied, not sliced: a slice would pin hyper's whole read buffer while the entry lives.
    let journal_body = Bytes::copy_from_slice(&a.bytes);
    a.meta.record(
        &fake,
        rparts.status.as_u16(),
        journal_body,
        rbytes.clone(),
        rule,
    );
    if let Some(ms) = late_response {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
    Response::from_parts(rparts, Body::from(rbytes))
}
