//! Fuzz oracle for the fake server: any request on any endpoint gets a 2xx or a Talon-shaped 4xx, and a rejection changes nothing.
//!
//! [`FuzzRequest::from_bytes`] turns any bytes into one request: an
//! endpoint of the fake's HTTP surface (the Integration and Management APIs'
//! [`ENDPOINTS`], the Segment relay's [`RELAY_ENDPOINTS`], or an unknown
//! path), a method, an `Authorization` value (right key, wrong kind,
//! garbage), a `Content-Type`, for the relay a `destination-hostname` value,
//! a path segment and query from the input, an extra header, and a body
//! (raw bytes, or the input wrapped in a plausible JSON shape). A header
//! value from the input may hold any byte an HTTP client can send (tab and
//! bytes over 0x7f; other control bytes are mapped to those) or be huge.
//! [`check_request`] sends it and checks the answer: under `/segment/` a 4xx
//! is in the relay's envelope `{"StatusCode", "Error", "RequestUUID"}`
//! ([`is_relay_envelope`]), elsewhere in Talon.One's `ErrorResponseWithStatus`
//! ([`is_error_envelope`]).
//!
//! The oracle does not drive [`crate::router`] itself: that needs
//! `tower::ServiceExt`, a dev-dependency here. Callers pass the sending
//! function, e.g. `|req| router(fake.clone()).oneshot(req)`.
//!
//! The `/__admin` control endpoints are left out: they reset the state and
//! install fault plans (whose 5xx are the point), and Talon.One has no such
//! endpoints.

use std::future::Future;

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Method, Request, StatusCode};
use axum::response::Response;
use http_body_util::BodyExt;
use serde_json::Value;

use crate::state::Fake;
use crate::state_file::StateFile;

/// The Integration API key of the default state.
pub const INTEGRATION_AUTH: &str = "ApiKey-v1 segment-demo-integration-key";
/// The Management API key of the default state.
pub const MANAGEMENT_AUTH: &str = "ManagementKey-v1 segment-demo-management-key";

/// The fake's endpoints: method and path, `{}` for a path parameter.
pub const ENDPOINTS: &[(&str, &str)] = &[
    ("PUT", "/v2/customer_profiles/{}"),
    ("PUT", "/v2/customer_profiles"),
    ("GET", "/v2/authping"),
    ("POST", "/v2/customer_audiences"),
    ("POST", "/v2/audiences"),
    ("PUT", "/v2/audiences/{}"),
    ("DELETE", "/v2/audiences/{}"),
    ("DELETE", "/v2/audiences/{}/memberships"),
    ("PUT", "/v2/audience_customers/{}/attributes"),
    ("GET", "/v1/attributes"),
    ("POST", "/v1/attributes"),
    ("GET", "/v1/attributes/{}"),
    ("PUT", "/v1/attributes/{}"),
    ("GET", "/v1/audiences"),
    ("GET", "/v1/applications/{}/customers"),
    ("GET", "/v1/applications/{}/customers/{}"),
    ("GET", "/{}"),
];

/// The Segment relay's endpoints (Talon.One's Third-party API, `talon-actions-destination.md`
/// §4.2, current and deprecated; issue 16's list), `GET /v2/authping` as the destination's
/// `testAuthentication` calls it, and an unknown path under `/segment/`. Listed once here
/// rather than read from the router: a path the fake does not serve yet still gets a 404 in
/// the relay's envelope, and the fuzzer reaches each one as soon as it is served. These
/// requests also carry a `destination-hostname` header.
pub const RELAY_ENDPOINTS: &[(&str, &str)] = &[
    ("PUT", "/segment/v2/customer_profiles/{}"),
    ("PUT", "/segment/v2/events"),
    ("PUT", "/segment/v2/customer_sessions/{}"),
    ("PUT", "/segment/customer_profiles/audiences"),
    ("POST", "/segment/audiences"),
    ("PUT", "/segment/audiences/{}"),
    ("DELETE", "/segment/audiences/{}"),
    ("PUT", "/segment/customer_profile/{}"),
    ("PUT", "/segment/customer_profile_v2/{}"),
    ("PUT", "/segment/event"),
    ("PUT", "/segment/customer_sessions/{}"),
    ("GET", "/v2/authping"),
    ("PUT", "/segment/{}"),
];

/// The relay key of the default state (a third-party key made for Segment).
pub const RELAY_AUTH: &str = "ApiKey-v1 segment-demo-relay-key";
/// The default state's deployment as the Actions destination's setting sends it.
pub const RELAY_HOST: &str = "https://mycompany.europe-west1.talon.one";

/// The further deployment of [`fuzz_state`].
pub const STAGING_HOST: &str = "staging.europe-west1.talon.one";

/// The state the fuzz oracle runs against: the default state, plus a copy of it as a
/// further deployment at [`STAGING_HOST`] (same keys and catalog), so relay requests reach
/// either deployment and a rejection is checked to change neither.
pub fn fuzz_state() -> StateFile {
    let mut state = StateFile::default_state();
    let mut staging = state.clone();
    staging.hostname = Some(STAGING_HOST.to_owned());
    staging.deployments.clear();
    state.deployments.push(staging);
    state
}

/// How many endpoints the first input byte chooses from: [`ENDPOINTS`], then
/// [`RELAY_ENDPOINTS`].
pub const ENDPOINT_COUNT: usize = ENDPOINTS.len() + RELAY_ENDPOINTS.len();

/// Endpoint `i` of [`ENDPOINTS`] followed by [`RELAY_ENDPOINTS`] (modulo their count), and
/// whether it is a relay endpoint.
pub fn endpoint(i: usize) -> ((&'static str, &'static str), bool) {
    let i = i % ENDPOINT_COUNT;
    match ENDPOINTS.get(i) {
        Some(e) => (*e, false),
        None => (RELAY_ENDPOINTS[i - ENDPOINTS.len()], true),
    }
}

/// Body shapes the input is wrapped in; `{}` is replaced by the input.
const BODY_SHAPES: &[&str] = &[
    r#"{"attributes":{}}"#,
    r#"{"attributes":{"email":{}}}"#,
    r#"{"attributes":{"email":"a@b.c","logins":{}}}"#,
    r#"{"customerProfiles":[{"integrationId":"u1","attributes":{}}]}"#,
    r#"{"audiencesChanges":{}}"#,
    r#"{"attributes":{"birthday":{}}}"#,
    r#"{"name":{},"integration":"segment","integrationId":"aud_1"}"#,
    r#"{"entity":"CustomerProfile","name":{},"title":"T","type":"string","description":"d","suggestions":[],"editable":true}"#,
    r#"[{"action":"add","profileIntegrationId":{},"audienceId":1}]"#,
    r#"{"attributes":{"interests":[{}]}}"#,
    r#"{"attributes":{"email":{}},"runRuleEngine":true,"audiencesChanges":{"adds":[1],"deletes":[]}}"#,
    r#"{"eventType":{},"customerProfileId":"u1","eventAttributes":{}}"#,
    r#"{"audienceId":{},"audienceName":"Travel audience"}"#,
    r#"{"audienceName":{}}"#,
    r#"{"data":[{"customerProfileId":{},"adds":[1],"deletes":[]}]}"#,
    r#"{"profileId":"u1","state":"open","cartItems":[{"sku":{},"quantity":1}]}"#,
    r#"{"attributes":{"email":{}},"attributesInfo":[{"name":"email","type":"string"}]}"#,
    r#"{"customerSession":{"profileId":{}},"sessionAttributesInfo":[]}"#,
];

/// One request built from fuzz input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuzzRequest {
    /// The method.
    pub method: String,
    /// Path and query.
    pub uri: String,
    /// Headers, in order.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body.
    pub body: Vec<u8>,
}

/// Reads fields off the front of the input; an exhausted input reads as zeros.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }

    /// A length-prefixed field.
    fn field(&mut self) -> &'a [u8] {
        let n = usize::from(self.byte()).min(self.0.len());
        let (field, rest) = self.0.split_at(n);
        self.0 = rest;
        field
    }

    fn rest(self) -> &'a [u8] {
        self.0
    }
}

/// Percent-encodes all but RFC 3986's unreserved bytes; with `keep_percent`,
/// `%` stays raw so the input can spell any (even invalid) escape.
fn encode(bytes: &[u8], keep_percent: bool) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || (keep_percent && b == b'%') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `bytes` as a header value an HTTP client can send: a control byte (which `http` refuses,
/// tab aside) becomes a tab or the same byte with its high bit set, so the input still
/// reaches the fake with control-like and non-ASCII bytes in it.
fn sendable(bytes: &[u8]) -> Vec<u8> {
    bytes
        .iter()
        .map(|&b| match b {
            b'\t' | 0x20..=0x7e | 0x80..=0xff => b,
            _ if b % 2 == 0 => b'\t',
            _ => b | 0x80,
        })
        .collect()
}

/// `bytes`, made [`sendable`], repeated to over 16 KiB (a huge header value; the socket's
/// header cap is not in the router's way).
fn huge(bytes: &[u8]) -> Vec<u8> {
    let unit = if bytes.is_empty() {
        b"x".to_vec()
    } else {
        sendable(bytes)
    };
    unit.iter().copied().cycle().take(16 * 1024 + 1).collect()
}

impl FuzzRequest {
    /// The request these bytes describe. Every input gives one.
    pub fn from_bytes(data: &[u8]) -> Self {
        let mut r = Reader(data);
        let ((method, template), relay) = endpoint(usize::from(r.byte()));
        let method = match r.byte() % 16 {
            0 => "GET",
            1 => "POST",
            2 => "PATCH",
            3 => "HEAD",
            4 => "OPTIONS",
            5 => "DELETE",
            6 => "PUT",
            _ => method,
        }
        .to_owned();
        let auth: Option<Vec<u8>> = if relay {
            Self::relay_auth(&mut r)
        } else {
            Self::auth(&mut r, template)
        };
        let content_type: Option<Vec<u8>> = match r.byte() % 8 {
            0 => None,
            1 => Some(b"text/plain".to_vec()),
            2 => Some(r.field().to_vec()),
            3 => Some(b"application/problem+json; charset=utf-8".to_vec()),
            _ => Some(b"application/json".to_vec()),
        };
        let hostname = if relay {
            Self::relay_hostname(&mut r)
        } else {
            None
        };
        Self::finish(r, method, template, auth, content_type, hostname)
    }

    /// The `Authorization` value of an Integration or Management API request.
    fn auth(r: &mut Reader<'_>, template: &str) -> Option<Vec<u8>> {
        match r.byte() % 8 {
            0 => None,
            1 => Some(r.field().to_vec()),
            2 => Some(b"ApiKey-v1 wrong".to_vec()),
            3 if template.starts_with("/v1") => Some(INTEGRATION_AUTH.into()),
            3 => Some(MANAGEMENT_AUTH.into()),
            _ if template.starts_with("/v1") => Some(MANAGEMENT_AUTH.into()),
            _ => Some(INTEGRATION_AUTH.into()),
        }
    }

    /// The `Authorization` value of a relay request: none, the input (raw, sendable or huge),
    /// another API's key, a wrong key, or the Segment key plain or in its Basic form.
    fn relay_auth(r: &mut Reader<'_>) -> Option<Vec<u8>> {
        match r.byte() % 10 {
            0 => None,
            1 => Some(r.field().to_vec()),
            2 => Some(sendable(r.field())),
            3 => Some(b"ApiKey-v1 wrong".to_vec()),
            4 => Some(INTEGRATION_AUTH.into()),
            5 => Some(MANAGEMENT_AUTH.into()),
            6 => Some(huge(r.field())),
            // Basic base64("ApiKey-v1 segment-demo-relay-key:").
            7 => Some(b"Basic QXBpS2V5LXYxIHNlZ21lbnQtZGVtby1yZWxheS1rZXk6".to_vec()),
            _ => Some(RELAY_AUTH.into()),
        }
    }

    /// The `destination-hostname` value of a relay request: none, the input (raw, sendable,
    /// huge), an empty or unknown host, the staging deployment of [`fuzz_state`], or the
    /// default deployment in one of its accepted forms.
    fn relay_hostname(r: &mut Reader<'_>) -> Option<Vec<u8>> {
        match r.byte() % 10 {
            0 => None,
            1 => Some(r.field().to_vec()),
            2 => Some(sendable(r.field())),
            3 => Some(huge(r.field())),
            4 => Some(STAGING_HOST.into()),
            5 => Some(Vec::new()),
            6 => Some(b"MyCompany.europe-west1.talon.one".to_vec()),
            7 => Some(b"https://mycompany.europe-west1.talon.one/".to_vec()),
            8 => Some(b"unknown.europe-west1.talon.one".to_vec()),
            _ => Some(RELAY_HOST.into()),
        }
    }

    /// The path, query, extra header and body, read after the headers.
    fn finish(
        mut r: Reader<'_>,
        method: String,
        template: &str,
        auth: Option<Vec<u8>>,
        content_type: Option<Vec<u8>>,
        hostname: Option<Vec<u8>>,
    ) -> Self {
        let mode = r.byte();
        let mut uri = String::new();
        let mut parts = template.split("{}").peekable();
        while let Some(part) = parts.next() {
            uri.push_str(part);
            if parts.peek().is_some() {
                match mode % 4 {
                    0 => uri.push('1'),
                    1 => uri.push_str(&encode(r.field(), true)),
                    _ => uri.push_str(&encode(r.field(), false)),
                }
            }
        }
        match (mode / 4) % 8 {
            1 => uri.push_str("?runRuleEngine=true&responseContent=customerProfile"),
            2 => uri.push_str("?dry=true"),
            3 => {
                uri.push('?');
                uri.push_str(&encode(r.field(), true));
            }
            4 => {
                uri.push_str("?pageSize=");
                uri.push_str(&encode(r.field(), false));
            }
            5 => uri.push_str("?skipNonExistingAttributes=true"),
            6 => {
                uri.push_str("?skipNonExistingAttributes=");
                uri.push_str(&encode(r.field(), true));
            }
            _ => {}
        }
        let mut headers = Vec::new();
        if let Some(auth) = auth {
            headers.push(("authorization".to_owned(), auth));
        }
        if let Some(ct) = content_type {
            headers.push(("content-type".to_owned(), ct));
        }
        if let Some(h) = hostname {
            headers.push(("destination-hostname".to_owned(), h));
        }
        if mode >= 192 {
            let name = [
                "x-fuzz",
                "authorization",
                "content-type",
                "content-length",
                "destination-hostname",
            ][usize::from(mode % 5)];
            headers.push((name.to_owned(), r.field().to_vec()));
        }
        let shape = r.byte();
        let rest = r.rest();
        let body = match usize::from(shape) {
            s if s < BODY_SHAPES.len() * 2 => {
                let (before, after) = BODY_SHAPES[s % BODY_SHAPES.len()]
                    .split_once("{}")
                    .unwrap_or(("", ""));
                let mut body = before.as_bytes().to_vec();
                if s < BODY_SHAPES.len() {
                    body.extend_from_slice(rest);
                } else {
                    // The input as a JSON string, so it is well-formed.
                    let text = String::from_utf8_lossy(rest);
                    body.extend_from_slice(Value::String(text.into_owned()).to_string().as_bytes());
                }
                body.extend_from_slice(after.as_bytes());
                body
            }
            _ => rest.to_vec(),
        };
        Self {
            method,
            uri,
            headers,
            body,
        }
    }

    /// The HTTP request, or `None` when no HTTP client could send it (a
    /// header value with control bytes, a URI `http` refuses).
    pub fn to_http(&self) -> Option<Request<Body>> {
        let method = Method::from_bytes(self.method.as_bytes()).ok()?;
        let mut builder = Request::builder().method(method).uri(&self.uri);
        for (name, value) in &self.headers {
            let name = HeaderName::from_bytes(name.as_bytes()).ok()?;
            let value = HeaderValue::from_bytes(value).ok()?;
            builder = builder.header(name, value);
        }
        builder.body(Body::from(self.body.clone())).ok()
    }
}

/// A broken property of the fake: which one, and what the request got.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{oracle}: {request_line} -> {status}: {detail}")]
pub struct Violation {
    /// The property, as a short phrase.
    pub oracle: &'static str,
    /// `METHOD uri`.
    pub request_line: String,
    /// The status the fake answered.
    pub status: u16,
    /// What was found.
    pub detail: String,
}

/// Whether `body` is Talon.One's `ErrorResponseWithStatus` envelope for `status`.
pub fn is_error_envelope(status: StatusCode, body: &[u8]) -> Result<(), String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("not JSON ({e}): {body:?}"))?;
    let message_ok = value.get("message").is_some_and(Value::is_string);
    let status_ok =
        value.get("StatusCode").and_then(Value::as_u64) == Some(u64::from(status.as_u16()));
    let errors_ok = value
        .get("errors")
        .and_then(Value::as_array)
        .is_some_and(|items| {
            items.iter().all(|e| {
                e.get("title").is_some_and(Value::is_string)
                    && e.get("details").is_none_or(Value::is_string)
                    && e.get("source").is_some_and(Value::is_object)
            })
        });
    if message_ok && status_ok && errors_ok {
        Ok(())
    } else {
        Err(format!("not the error envelope: {value}"))
    }
}

/// Whether `s` is a UUID in its hyphenated lowercase-or-uppercase hex form (8-4-4-4-12).
fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether `body` is the Segment relay's envelope for `status`: exactly `StatusCode` (equal
/// to `status`), a non-empty `Error` and a UUID `RequestUUID` (Talon.One's Third-party API
/// `errorResponseWithStatus`, as `fixtures/talon/schemas/segment/errorResponseWithStatus.json`
/// restates it); in particular never the Integration API's `{message, errors}`.
pub fn is_relay_envelope(status: StatusCode, body: &[u8]) -> Result<(), String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("not JSON ({e}): {body:?}"))?;
    let ok = value.as_object().is_some_and(|o| {
        o.len() == 3
            && o.get("StatusCode").and_then(Value::as_u64) == Some(u64::from(status.as_u16()))
            && o.get("Error")
                .and_then(Value::as_str)
                .is_some_and(|e| !e.is_empty())
            && o.get("RequestUUID")
                .and_then(Value::as_str)
                .is_some_and(is_uuid)
    });
    if ok {
        Ok(())
    } else {
        Err(format!("not the relay's envelope: {value}"))
    }
}

/// Whether the path of `uri` is under the Segment relay (`/segment` or `/segment/…`).
fn is_relay_uri(uri: &str) -> bool {
    let path = uri.split_once('?').map_or(uri, |(p, _)| p);
    crate::api::segment::is_relay_path(path)
}

/// Sends `request` through `send` to `fake` and checks: the status is 2xx
/// or 4xx, never 5xx; a 4xx carries the envelope of the API its path belongs
/// to with its status (the relay's under `/segment/`, else Talon.One's
/// `ErrorResponseWithStatus`); a relay 2xx is empty (204) or a JSON object;
/// and a rejected request leaves [`Fake::state_dump`] unchanged (every
/// deployment's state: the dump holds the further ones).
/// A request that no HTTP client could send passes trivially.
pub async fn check_request<F, Fut>(
    fake: &Fake,
    request: &FuzzRequest,
    send: F,
) -> Result<(), Violation>
where
    F: FnOnce(Request<Body>) -> Fut,
    Fut: Future<Output = Response>,
{
    let Some(http) = request.to_http() else {
        return Ok(());
    };
    let before: StateFile = fake.state_dump();
    let response = send(http).await;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map(|c| c.to_bytes().to_vec())
        .unwrap_or_default();
    let violation = |oracle: &'static str, detail: String| Violation {
        oracle,
        request_line: format!("{} {}", request.method, request.uri),
        status: status.as_u16(),
        detail,
    };
    if !(status.is_success() || status.is_client_error()) {
        return Err(violation(
            "every request gets a 2xx or a 4xx",
            String::from_utf8_lossy(&body).into_owned(),
        ));
    }
    let relay = is_relay_uri(&request.uri);
    if relay && status.is_success() && request.method != "HEAD" {
        let fits = if status == StatusCode::NO_CONTENT {
            body.is_empty()
        } else {
            serde_json::from_slice::<Value>(&body).is_ok_and(|v| v.is_object())
        };
        if !fits {
            return Err(violation(
                "a relay 2xx is a JSON object, or empty for a 204",
                String::from_utf8_lossy(&body).into_owned(),
            ));
        }
    }
    if status.is_client_error() {
        if request.method != "HEAD" {
            if relay {
                is_relay_envelope(status, &body)
                    .map_err(|d| violation("a relay 4xx carries the relay's envelope", d))?;
            } else {
                is_error_envelope(status, &body)
                    .map_err(|d| violation("a 4xx carries Talon.One's error envelope", d))?;
            }
        }
        let after = fake.state_dump();
        if after != before {
            return Err(violation(
                "a rejected request leaves the state unchanged",
                format!(
                    "before:\n{}\nafter:\n{}",
                    before.to_json_pretty(),
                    after.to_json_pretty()
                ),
            ));
        }
    }
    Ok(())
}
