//! What every handler shares: Talon-shaped extractors of the path and query (bodies:
//! [`crate::body`]), the content-type check, the [`Answer`] a rule returns and how it becomes a
//! response, paging, and the small checks several resources use.

use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, Path, Query, RawPathParams};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::journal::Decided;
use crate::rule::Rule;
use crate::state::Fake;

/// What a rule returns: an [`Answer`] or the [`ApiError`] that refused the request.
pub(crate) type Res<T> = Result<T, ApiError>;

/// The outcome of an accepted request: status, JSON body (empty for 204) and rule id.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) body: axum::body::Bytes,
    pub(crate) rule: Rule,
}

impl Answer {
    pub(crate) fn json(status: StatusCode, rule: Rule, v: &impl serde::Serialize) -> Self {
        Self {
            status,
            body: serde_json::to_vec(v).unwrap_or_default().into(),
            rule,
        }
    }
    pub(crate) fn no_content(rule: Rule) -> Self {
        Self {
            status: StatusCode::NO_CONTENT,
            body: axum::body::Bytes::new(),
            rule,
        }
    }
}

/// Escapes a key for a JSON pointer (`~` → `~0`, `/` → `~1`).
pub(crate) fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

// ------------------------------------------------------------------ responses

pub(crate) fn answer(r: Result<Answer, ApiError>) -> Response {
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

/// A path no route has: 404, in the envelope of the API the path belongs to (the relay's
/// documented `{"StatusCode":404,"Error":"Not Found",…}` under `/segment/`).
pub(crate) async fn not_found(parts: Parts) -> Response {
    let e = ApiError::new(StatusCode::NOT_FOUND, Rule::RouteNotFound, "Not found");
    in_envelope_of(&parts, e, "Not Found")
}

pub(crate) async fn method_not_allowed(parts: Parts) -> Response {
    let e = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        Rule::RouteMethodNotAllowed,
        "Method not allowed",
    );
    in_envelope_of(&parts, e, "Method Not Allowed")
}

fn in_envelope_of(parts: &Parts, e: ApiError, relay_text: &str) -> Response {
    if crate::api::segment::is_relay_path(parts.uri.path()) {
        let seq = crate::api::segment::seq_of(parts);
        return crate::api::segment::RelayError::new(e.status, e.rule, relay_text, seq)
            .into_response();
    }
    e.into_response()
}

/// A path parameter with a Talon-shaped rejection.
pub(crate) struct P<T>(pub(crate) T);

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
pub(crate) struct Q(pub(crate) Vec<(String, String)>);

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

/// 415 unless the body is declared as JSON (`application/json` or `application/*+json`).
pub(crate) fn check_json_content_type(h: &HeaderMap) -> Result<(), ApiError> {
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

pub(crate) fn bool_param(q: &[(String, String)], k: &str) -> Result<bool, ApiError> {
    match query(q, k) {
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
pub(crate) fn invalid_path_param(name: &str, why: String) -> ApiError {
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

pub(crate) fn internal() -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        Rule::Internal,
        "internal error",
    )
}

/// The first value of a query parameter.
pub(crate) fn query<'a>(q: &'a [(String, String)], k: &str) -> Option<&'a str> {
    q.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str())
}

/// `pageSize` (1..=1000, default 1000), `skip` (≥ 0), `withTotalResultSize`.
pub(crate) struct Page {
    pub(crate) size: usize,
    pub(crate) skip: usize,
    with_total: bool,
}

impl Page {
    pub(crate) fn parse(q: &[(String, String)]) -> Res<Self> {
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

    pub(crate) fn wrap<T: serde::Serialize>(&self, all: &[T]) -> Value {
        let data: Vec<&T> = all.iter().skip(self.skip).take(self.size).collect();
        self.wrap_total(data, all.len())
    }

    pub(crate) fn wrap_total<T: serde::Serialize>(&self, data: Vec<T>, total: usize) -> Value {
        if self.with_total {
            json!({"totalResultSize": total, "data": data})
        } else {
            json!({"hasMore": self.skip.saturating_add(data.len()) < total, "data": data})
        }
    }
}

/// 400 when a batch holds more than `max` items (`title`, and the plural noun for the details).
pub(crate) fn too_many(
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
