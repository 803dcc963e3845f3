//! Talon.One's Segment relay: the Third-party API's `/segment/…` endpoints at
//! `https://integration.talon.one`, which every action of the Talon.One (Actions) destination
//! calls (`talon-one-facts.md` §3.7, `talon-actions-destination.md` §4).
//!
//! The relay is a front for the customer's deployment: it names the deployment in the
//! `destination-hostname` header, opens with a third-party key made for Segment, answers in
//! its own envelope `{"StatusCode", "Error", "RequestUUID"}`, and applies the deployment's own
//! rules (attributes, types, all-or-nothing, implicit profiles) through the same code the
//! Integration API uses. Its routes sit behind the one request [`pipeline`](crate::pipeline)
//! like every other route.
//!
//! What every relay handler shares is here: the [`Relay`] extractor (auth, deployment), the
//! [`RelayJson`] body, the [`RelayError`] envelope and [`respond`]. The endpoints are one module
//! per resource.

pub(crate) mod audiences;
pub(crate) mod deprecated;
pub(crate) mod events;
pub(crate) mod limit;
pub(crate) mod profiles;
pub(crate) mod sessions;

use std::borrow::Cow;
use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::de::DeserializeOwned;

use crate::body::TalonJson;
use crate::error::{ApiError, ErrorSource};
use crate::extract::{Answer, Res, answer};
use crate::journal::{Decided, RelayNote};
use crate::pipeline::RequestSeq;
use crate::rule::Rule;
use crate::state::{Fake, read};

/// The path prefix of the relay's endpoints.
pub(crate) const RELAY_PREFIX: &str = "/segment/";

/// The header that names the deployment, as a constant: looked up without parsing its name
/// on every request.
pub(crate) const DESTINATION_HOSTNAME: header::HeaderName =
    header::HeaderName::from_static("destination-hostname");

/// The platform a third-party key must be made for to open the relay.
pub(crate) const SEGMENT_PLATFORM: &str = "Segment";

pub(crate) fn routes() -> Router<Fake> {
    Router::new()
        .merge(audiences::routes())
        .merge(deprecated::routes())
        .merge(profiles::routes())
        .merge(events::routes())
        .merge(sessions::routes())
}

/// Whether `path` belongs to the relay (its answers, refusals included, use its envelope).
pub(crate) fn is_relay_path(path: &str) -> bool {
    path == "/segment" || path.starts_with(RELAY_PREFIX)
}

// ------------------------------------------------------------------ destination-hostname

/// The deployment host a `destination-hostname` value names: surrounding white space, an
/// `https://` or `http://` scheme (any case) and one trailing `/` are dropped, and the host is
/// lowercased (host names are case-insensitive). What is left must be a host name, with an
/// optional `:port`: `mycompany.europe-west1.talon.one`, `https://mycompany.europe-west1.talon.one/`
/// and `MyCompany.europe-west1.talon.one` are one deployment. A path, query, user or second
/// slash is refused. Chosen here (Talon.One documents the bare host, `format: hostname`;
/// Segment sends the setting verbatim, with `https://`, and its docs add a trailing `/`).
pub fn normalize_hostname(raw: &str) -> Result<String, String> {
    normalized_host(raw).map(Cow::into_owned)
}

/// [`normalize_hostname`] without a copy when `raw` holds the host as it is (lowercase): the
/// relay's hot path, where the header value outlives the lookup.
pub(crate) fn normalized_host(raw: &str) -> Result<Cow<'_, str>, String> {
    let s = raw.trim();
    let s = strip_prefix_ignore_case(s, "https://")
        .or_else(|| strip_prefix_ignore_case(s, "http://"))
        .unwrap_or(s);
    let s = s.strip_suffix('/').unwrap_or(s);
    if s.is_empty() {
        return Err("it names no host".to_owned());
    }
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    };
    if let Some(p) = port
        && (p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(format!("{p:?} is not a port"));
    }
    if host.len() > 253 {
        return Err("the host name is longer than 253 characters".to_owned());
    }
    for label in host.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(format!(
                "{host:?} is not a host name (letters, digits and hyphens in dot-separated labels; no path, query or user)"
            ));
        }
    }
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        Ok(Cow::Owned(s.to_ascii_lowercase()))
    } else {
        Ok(Cow::Borrowed(s))
    }
}

/// `s` without `prefix`, compared ASCII case-insensitively; `None` when `s` does not start so.
fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

// ------------------------------------------------------------------ the envelope

/// The relay's `RequestUUID` for the request with journal sequence number `seq`: a version-4
/// shaped UUID whose bits come from `seq` alone, so the same run gives the same ids.
pub(crate) fn request_uuid(seq: u64) -> String {
    fn mix(mut z: u64) -> u64 {
        // SplitMix64's finaliser.
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    let hi = mix(seq.wrapping_add(0x9e37_79b9_7f4a_7c15));
    let lo = mix(hi ^ seq);
    let hi = (hi & 0xffff_ffff_ffff_0fff) | 0x0000_0000_0000_4000;
    let lo = (lo & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0xffff,
        lo >> 48,
        lo & 0xffff_ffff_ffff
    )
}

/// A refusal in the relay's envelope `{"StatusCode", "Error", "RequestUUID"}` (Talon.One's
/// Third-party API `errorResponseWithStatus`), with the rule that decided it and what the
/// journal keeps about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RelayError {
    pub(crate) status: StatusCode,
    pub(crate) error: String,
    pub(crate) rule: Rule,
    pub(crate) seq: u64,
    pub(crate) entry: Box<RelayNote>,
}

impl RelayError {
    /// A refusal of the relay's own (no deployment, auth, rate limit, unknown route).
    pub(crate) fn new(status: StatusCode, rule: Rule, error: impl Into<String>, seq: u64) -> Self {
        Self {
            status,
            error: error.into(),
            rule,
            seq,
            entry: Box::default(),
        }
    }

    /// A refusal by the deployment's rules, answered in the relay's envelope: same status and
    /// rule, `Error` the deployment's details with where they point (`; `-separated when there
    /// are several), and the deployment's own body kept in the journal as `upstream`. Chosen
    /// here: Talon.One does not document whether the relay passes the deployment's
    /// `{message, errors}` through or rewraps it; every documented relay answer is in the
    /// relay's envelope.
    pub(crate) fn from_deployment(e: ApiError, seq: u64) -> Self {
        let error = if e.errors.is_empty() {
            e.message.clone()
        } else {
            e.errors
                .iter()
                .map(|item| match &item.source {
                    ErrorSource::Pointer(p) if p.is_empty() => item.details.clone(),
                    ErrorSource::Pointer(p) => format!("{} (at {p})", item.details),
                    ErrorSource::Parameter(p) => format!("{} (parameter {p})", item.details),
                })
                .collect::<Vec<_>>()
                .join("; ")
        };
        Self {
            status: e.status,
            error,
            rule: e.rule,
            seq,
            entry: Box::new(RelayNote {
                upstream: Some(String::from_utf8_lossy(&e.body_bytes()).into_owned()),
                ..RelayNote::default()
            }),
        }
    }

    /// Names the deployment the request was routed to, for the journal.
    #[must_use]
    pub(crate) fn at(mut self, deployment: &Arc<str>) -> Self {
        self.entry.deployment = Some(Arc::clone(deployment));
        self
    }

    pub(crate) fn body_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "StatusCode": self.status.as_u16(),
            "Error": self.error,
            "RequestUUID": request_uuid(self.seq),
        }))
        .unwrap_or_default()
    }
}

impl IntoResponse for RelayError {
    fn into_response(self) -> Response {
        let mut resp = (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            self.body_bytes(),
        )
            .into_response();
        resp.extensions_mut().insert(Decided(self.rule));
        resp.extensions_mut().insert(self.entry);
        resp
    }
}

/// The sequence number the pipeline gave the request (0 outside it, in unit tests).
pub(crate) fn seq_of(parts: &Parts) -> u64 {
    parts.extensions.get::<RequestSeq>().map_or(0, |s| s.0)
}

/// What an accepted relay request did besides its answer: for the journal.
#[derive(Debug, Default)]
pub(crate) struct Done {
    pub(crate) answer: Option<Answer>,
    /// JSON pointers of the unknown attributes skipped (`skipNonExistingAttributes=true`).
    pub(crate) skipped: Vec<String>,
    /// What was asked for and not done, in words.
    pub(crate) notes: Vec<String>,
}

/// The response to a relay request that reached its deployment: the answer, or the
/// deployment's refusal in the relay's envelope; either way journalled with the deployment.
pub(crate) fn respond(relay: &Relay, done: Res<Done>) -> Response {
    match done {
        Ok(done) => {
            let Some(ans) = done.answer else {
                return RelayError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Rule::Internal,
                    "internal error",
                    relay.seq,
                )
                .at(&relay.host)
                .into_response();
            };
            let mut resp = answer(Ok(ans));
            resp.extensions_mut().insert(Box::new(RelayNote {
                deployment: Some(Arc::clone(&relay.host)),
                skipped: done.skipped,
                notes: done.notes,
                upstream: None,
            }));
            resp
        }
        Err(e) => RelayError::from_deployment(e, relay.seq)
            .at(&relay.host)
            .into_response(),
    }
}

// ------------------------------------------------------------------ auth and deployment

/// An authorised relay request: its deployment (this fake or one of the state file's further
/// deployments), the deployment's host, the key's application there, and the request's
/// sequence number.
#[derive(Debug, Clone)]
pub(crate) struct Relay {
    pub(crate) deployment: Fake,
    /// The deployment's host, normalised: its catalog's own copy.
    pub(crate) host: Arc<str>,
    pub(crate) app: usize,
    pub(crate) seq: u64,
}

impl FromRequestParts<Fake> for Relay {
    type Rejection = RelayError;
    async fn from_request_parts(parts: &mut Parts, fake: &Fake) -> Result<Self, RelayError> {
        let seq = seq_of(parts);
        let (host, key) = relay_credentials(&parts.headers, seq)?;
        // One catalog read routes the request and reads its key there.
        let Some((deployment, (host, found))) =
            fake.route(&host, |cat| (Arc::clone(&cat.hostname), key_in(cat, &key)))
        else {
            return Err(RelayError::new(
                StatusCode::BAD_REQUEST,
                Rule::RelayDeploymentUnknown,
                format!(
                    "Unknown deployment {host:?}: this relay knows {}",
                    fake.hostnames()
                        .iter()
                        .map(|h| format!("{h:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                seq,
            ));
        };
        let app = match found {
            KeyIs::Segment(app) => app,
            KeyIs::Refused(rule, why) => return Err(unauthorized(rule, &why, seq).at(&host)),
            KeyIs::Unknown => {
                let why = unknown_key(fake, &host, &key);
                return Err(unauthorized(Rule::AuthUnknownKey, &why, seq).at(&host));
            }
        };
        deployment.admit_relay(&key, seq).map_err(|e| e.at(&host))?;
        Ok(Self {
            deployment,
            host,
            app,
            seq,
        })
    }
}

/// The deployment host (normalised) and the API key of a relay request, in that order of
/// checks: the `Authorization` header must be there (401 "Missing Session Token", as
/// documented), then `destination-hostname` (400 "No Deployment URL specified", as
/// documented), then the key must be readable. Both borrow the headers when they can (a
/// lowercase host, an `ApiKey-v1` key).
fn relay_credentials(h: &HeaderMap, seq: u64) -> Result<(Cow<'_, str>, Cow<'_, str>), RelayError> {
    let Some(auth) = h.get(header::AUTHORIZATION) else {
        return Err(RelayError::new(
            StatusCode::UNAUTHORIZED,
            Rule::AuthMissing,
            "Missing Session Token",
            seq,
        ));
    };
    let host = match h.get(&DESTINATION_HOSTNAME).map(HeaderValue::to_str) {
        None => {
            return Err(RelayError::new(
                StatusCode::BAD_REQUEST,
                Rule::RelayNoDeployment,
                "No Deployment URL specified",
                seq,
            ));
        }
        Some(Ok(v)) if v.trim().is_empty() => {
            return Err(RelayError::new(
                StatusCode::BAD_REQUEST,
                Rule::RelayNoDeployment,
                "No Deployment URL specified",
                seq,
            ));
        }
        Some(Ok(v)) => normalized_host(v).map_err(|why| {
            RelayError::new(
                StatusCode::BAD_REQUEST,
                Rule::RelayDeploymentInvalid,
                format!("Invalid Deployment URL {v:?}: {why}"),
                seq,
            )
        })?,
        Some(Err(_)) => {
            return Err(RelayError::new(
                StatusCode::BAD_REQUEST,
                Rule::RelayDeploymentInvalid,
                "Invalid Deployment URL: the destination-hostname header is not visible ASCII",
                seq,
            ));
        }
    };
    let key = api_key(auth).map_err(|why| unauthorized(Rule::AuthMalformed, why, seq))?;
    Ok((host, key))
}

/// The key of `Authorization: ApiKey-v1 <key>` (borrowed from the header), or of its
/// documented Basic alternative (`Basic ` and the base64 of `ApiKey-v1 <key>:`).
fn api_key(h: &HeaderValue) -> Result<Cow<'_, str>, &'static str> {
    let s = h
        .to_str()
        .map_err(|_| "the Authorization header is not valid text")?;
    match s.split_once(' ') {
        Some((scheme, b64)) if scheme.eq_ignore_ascii_case("Basic") => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|_| "the Basic credentials are not base64")?;
            let text =
                String::from_utf8(bytes).map_err(|_| "the Basic credentials are not text")?;
            // user:password, with the user `ApiKey-v1 <key>` and an empty password.
            match text.rsplit_once(':') {
                Some((user, "")) => apikey_v1(user).map(|k| Cow::Owned(k.to_owned())),
                _ => Err(
                    "the Basic credentials must be the base64 of \"ApiKey-v1 <key>:\" (an empty password)",
                ),
            }
        }
        _ => apikey_v1(s).map(Cow::Borrowed),
    }
}

/// The key of `ApiKey-v1 <key>`.
fn apikey_v1(plain: &str) -> Result<&str, &'static str> {
    match plain.split_once(' ') {
        Some(("ApiKey-v1", key)) if !key.is_empty() && !key.contains(' ') => Ok(key),
        _ => Err(
            "expected \"Authorization: ApiKey-v1 <key>\" with a third-party key made for Segment",
        ),
    }
}

/// What a key is in one deployment's catalog.
enum KeyIs {
    /// A third-party key made for Segment, of this application.
    Segment(usize),
    /// A key of another kind (Integration, Management, another platform's): the rule and why.
    Refused(Rule, String),
    /// No key of this deployment.
    Unknown,
}

/// What `key` is in `cat`: the key of an application if it is a third-party key made for
/// Segment; else the rule and reason (an Integration API key, a Management API key, another
/// platform's key), or unknown.
fn key_in(cat: &crate::state::Catalog, key: &str) -> KeyIs {
    if let Some((app, platform)) = cat.third_party_keys.get(key) {
        if platform == SEGMENT_PLATFORM {
            return KeyIs::Segment(*app);
        }
        return KeyIs::Refused(
            Rule::AuthWrongKind,
            format!(
                "this third-party key was made for {platform:?}; the Segment endpoints need one made for Segment"
            ),
        );
    }
    if cat.integration_keys.contains_key(key) {
        return KeyIs::Refused(
            Rule::AuthWrongKind,
            "an Integration API key does not open the Segment endpoints; create a third-party key for Segment".to_owned(),
        );
    }
    if cat.management_keys.contains(key) {
        return KeyIs::Refused(
            Rule::AuthWrongKind,
            "a Management API key does not open the Segment endpoints".to_owned(),
        );
    }
    KeyIs::Unknown
}

/// Why `key` is unknown to deployment `host`: it may be a key of another deployment of the
/// state file (another deployment's key).
fn unknown_key(front: &Fake, host: &str, key: &str) -> String {
    let elsewhere = front
        .hostnames()
        .into_iter()
        .filter(|h| h != host)
        .find(|h| {
            front.deployment(h).is_some_and(|d| {
                let c = read(&d.inner.catalog);
                c.third_party_keys.contains_key(key) || c.integration_keys.contains_key(key)
            })
        });
    match elsewhere {
        Some(other) => {
            format!("unknown API key for deployment {host:?}: it is a key of deployment {other:?}")
        }
        None => format!("unknown API key for deployment {host:?}"),
    }
}

fn unauthorized(rule: Rule, why: &str, seq: u64) -> RelayError {
    RelayError::new(
        StatusCode::UNAUTHORIZED,
        rule,
        format!("Invalid API key: {why}"),
        seq,
    )
}

/// Whether a request to the deployment's own `GET /v2/authping` may use `key`: the Segment
/// destination's `testAuthentication` calls it with the third-party key (inferred: the
/// destination's only credential is that key, so Talon.One must accept it there).
pub(crate) fn is_segment_key(cat: &crate::state::Catalog, key: &str) -> Option<usize> {
    cat.third_party_keys
        .get(key)
        .filter(|(_, p)| p == SEGMENT_PLATFORM)
        .map(|(app, _)| *app)
}

// ------------------------------------------------------------------ bodies and paths

/// A JSON body read into `T` by the fake's body rules ([`crate::body`]), refused in the
/// relay's envelope.
pub(crate) struct RelayJson<T>(pub(crate) T);

impl<T: DeserializeOwned> FromRequest<Fake> for RelayJson<T> {
    type Rejection = RelayError;
    async fn from_request(req: Request, fake: &Fake) -> Result<Self, RelayError> {
        let seq = req.extensions().get::<RequestSeq>().map_or(0, |s| s.0);
        TalonJson::<T>::from_request(req, fake)
            .await
            .map(|TalonJson(v)| Self(v))
            .map_err(|e| RelayError::from_deployment(e, seq))
    }
}

/// The strictly percent-decoded path segment after `prefix` (and before `suffix`), or the
/// 400 `path.invalid` naming `param`.
pub(crate) fn path_id(path: &str, prefix: &str, suffix: &str, param: &str) -> Res<String> {
    let raw = path
        .strip_prefix(prefix)
        .and_then(|r| r.strip_suffix(suffix))
        .unwrap_or_default();
    match crate::extract::decode_path_segment(raw) {
        Ok(id) if !id.is_empty() => Ok(id),
        Ok(_) => Err(crate::extract::invalid_path_param(
            param,
            format!("the {param} is empty"),
        )),
        Err(why) => Err(crate::extract::invalid_path_param(param, why)),
    }
}

/// Query pairs, refused in the relay's envelope.
pub(crate) struct RelayQ(pub(crate) Vec<(String, String)>);

impl FromRequestParts<Fake> for RelayQ {
    type Rejection = RelayError;
    async fn from_request_parts(parts: &mut Parts, fake: &Fake) -> Result<Self, RelayError> {
        let seq = seq_of(parts);
        crate::extract::Q::from_request_parts(parts, fake)
            .await
            .map(|crate::extract::Q(q)| Self(q))
            .map_err(|e| RelayError::from_deployment(e, seq))
    }
}

/// `skipNonExistingAttributes`: `true` or `false` (absent: false), else 400 `query.invalid`.
pub(crate) fn skip_flag(q: &[(String, String)]) -> Res<bool> {
    crate::extract::bool_param(q, "skipNonExistingAttributes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hostname_is_the_bare_host_whatever_scheme_slash_or_case_came_with_it() {
        for v in [
            "mycompany.europe-west1.talon.one",
            "https://mycompany.europe-west1.talon.one",
            "https://mycompany.europe-west1.talon.one/",
            "HTTPS://MyCompany.Europe-West1.talon.one/",
            "http://mycompany.europe-west1.talon.one",
            "  mycompany.europe-west1.talon.one  ",
        ] {
            assert_eq!(
                normalize_hostname(v).as_deref(),
                Ok("mycompany.europe-west1.talon.one"),
                "{v:?}"
            );
        }
        assert_eq!(
            normalize_hostname("localhost:8080").as_deref(),
            Ok("localhost:8080")
        );
    }

    #[test]
    fn a_lowercase_host_and_an_apikey_v1_key_are_read_without_a_copy() {
        assert!(matches!(
            normalized_host("https://mycompany.europe-west1.talon.one/"),
            Ok(Cow::Borrowed("mycompany.europe-west1.talon.one"))
        ));
        assert!(matches!(
            normalized_host("HTTPS://MyCompany.talon.one"),
            Ok(Cow::Owned(h)) if h == "mycompany.talon.one"
        ));
        let h = HeaderValue::from_static("ApiKey-v1 k1");
        assert!(matches!(api_key(&h), Ok(Cow::Borrowed("k1"))));
    }

    #[test]
    fn a_hostname_with_a_path_query_user_or_bad_label_is_refused() {
        for v in [
            "",
            "https://",
            "https://x.talon.one//",
            "https://x.talon.one/v2",
            "x.talon.one?a=b",
            "user@x.talon.one",
            "x..talon.one",
            "-x.talon.one",
            "x.talon.one:http",
            "x.talon.one:",
            "x_y.talon.one",
            "x talon.one",
        ] {
            assert!(normalize_hostname(v).is_err(), "{v:?}");
        }
    }

    #[test]
    fn a_request_uuid_is_a_version_4_uuid_fixed_by_the_sequence_number() {
        let a = request_uuid(1);
        assert_eq!(a, request_uuid(1));
        assert_ne!(a, request_uuid(2));
        let parts: Vec<&str> = a.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'), "{a}");
        assert!(
            matches!(parts[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'),
            "{a}"
        );
        assert!(
            a.bytes()
                .all(|b| b == b'-' || b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
    }

    #[test]
    fn an_api_key_is_read_from_apikey_v1_or_its_basic_form() {
        let b64 = base64::engine::general_purpose::STANDARD.encode("ApiKey-v1 k1:");
        for v in ["ApiKey-v1 k1".to_owned(), format!("Basic {b64}")] {
            let h = HeaderValue::from_str(&v).expect("header");
            assert_eq!(api_key(&h).as_deref(), Ok("k1"), "{v}");
        }
        let no_colon = base64::engine::general_purpose::STANDARD.encode("ApiKey-v1 k1");
        for v in [
            "ApiKey-v1".to_owned(),
            "ApiKey-v1 a b".to_owned(),
            "Bearer k1".to_owned(),
            "ManagementKey-v1 k1".to_owned(),
            "Basic !!!".to_owned(),
            format!("Basic {no_colon}"),
        ] {
            let h = HeaderValue::from_str(&v).expect("header");
            assert!(api_key(&h).is_err(), "{v}");
        }
    }

    #[test]
    fn a_deployment_refusal_keeps_status_rule_and_pointer_in_the_relay_envelope() {
        let e = ApiError::bad_body(
            Rule::AttributeUnknown,
            "/attributes/Email",
            "Unknown attribute",
            "attribute \"Email\" is not defined".to_owned(),
        );
        let r = RelayError::from_deployment(e, 7);
        assert_eq!(
            (r.status, r.rule),
            (StatusCode::BAD_REQUEST, Rule::AttributeUnknown)
        );
        assert_eq!(
            r.error,
            "attribute \"Email\" is not defined (at /attributes/Email)"
        );
        let body: serde_json::Value = serde_json::from_slice(&r.body_bytes()).expect("json");
        assert_eq!(body["StatusCode"], 400);
        assert_eq!(body["RequestUUID"], request_uuid(7));
        assert_eq!(body.as_object().map(|o| o.len()), Some(3));
        let upstream: serde_json::Value =
            serde_json::from_str(r.entry.upstream.as_deref().unwrap_or("")).expect("upstream");
        assert_eq!(
            upstream["errors"][0]["source"]["pointer"],
            "/attributes/Email"
        );
    }
}
