//! The control endpoints `/__admin/{journal,state,reset,faults}`: never journalled, never
//! faulted; with [`crate::FakeConfig::admin_token`] set they need `Authorization: Bearer <token>`.

use std::task::{Context, Poll};

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::error::ApiError;
use crate::extract::{Q, bool_param};
use crate::faults::FaultPlan;
use crate::pipeline::log_request;
use crate::rule::Rule;
use crate::state::Fake;
use crate::state_file::StateFile;

pub(super) fn routes(fake: Fake) -> Router<Fake> {
    Router::new()
        .route("/__admin/journal", get(admin_journal))
        .route("/__admin/state", get(admin_state))
        .route("/__admin/reset", post(admin_reset))
        .route(
            "/__admin/faults",
            get(admin_get_faults).put(admin_put_faults),
        )
        .merge(crate::view::routes())
        .route_layer(middleware::from_fn_with_state(fake, admin_gate))
}

/// With [`crate::FakeConfig::admin_token`] set, `/__admin/*` needs `Authorization: Bearer <token>`.
/// Admin requests are not journalled; they are logged like the others ([`log_request`]).
async fn admin_gate(State(fake): State<Fake>, req: Request, next: Next) -> Response {
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let resp = gate(&fake, req, next).await;
    log_request(&method, &path, resp.status().as_u16(), "admin");
    resp
}

/// The cookie the view sets once a browser has shown the token (`?token=`): a browser cannot
/// send `Authorization: Bearer`, so this is how it opens the view behind a token.
pub(crate) const VIEW_COOKIE: &str = "talon_fake_admin";

async fn gate(fake: &Fake, req: Request, next: Next) -> Response {
    if let Some(token) = &fake.inner.config.admin_token {
        if let Some(resp) = view_login(&req, token) {
            return resp;
        }
        let bearer = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "))
            .is_some_and(|s| constant_time_eq(s, token.as_bytes()));
        let cookie = req.uri().path().starts_with(crate::view::VIEW_PREFIX)
            && view_cookie(req.headers()).is_some_and(|s| constant_time_eq(&s, token.as_bytes()));
        if !bearer && !cookie {
            return ApiError::new(
                StatusCode::UNAUTHORIZED,
                Rule::AdminUnauthorized,
                "Invalid admin token",
            )
            .parameter(
                "Authorization",
                "Invalid admin token",
                if req.uri().path().starts_with(crate::view::VIEW_PREFIX) {
                    "open /__admin/view/?token=<token> once, with the token given to serve --admin-token (a cookie then keeps the view open), or send it as Authorization: Bearer <token>"
                } else {
                    "send the token given to serve --admin-token as Authorization: Bearer <token>"
                }
                .to_owned(),
            )
            .into_response();
        }
    }
    next.run(req).await
}

/// `GET /__admin/view…?token=<token>` with the right token: `303 See Other` to the same path
/// without the query, setting [`VIEW_COOKIE`] (`HttpOnly`, `SameSite=Strict`, path
/// `/__admin/view`), so the token leaves the address bar and every link of the view works.
fn view_login(req: &Request, token: &str) -> Option<Response> {
    let path = req.uri().path();
    if !path.starts_with(crate::view::VIEW_PREFIX) {
        return None;
    }
    let sent = req
        .uri()
        .query()?
        .split('&')
        .find_map(|kv| kv.strip_prefix("token="))?;
    let sent = percent_encoding::percent_decode_str(sent)
        .decode_utf8()
        .ok()?;
    if !constant_time_eq(sent.as_bytes(), token.as_bytes()) {
        return None;
    }
    let cookie = format!(
        "{VIEW_COOKIE}={}; Path={}; HttpOnly; SameSite=Strict",
        percent_encoding::utf8_percent_encode(token, percent_encoding::NON_ALPHANUMERIC),
        crate::view::VIEW_PREFIX
    );
    let mut resp = axum::response::Redirect::to(path).into_response();
    let value = axum::http::HeaderValue::from_str(&cookie).ok()?;
    resp.headers_mut().insert(header::SET_COOKIE, value);
    Some(resp)
}

/// The decoded value of [`VIEW_COOKIE`] in the request's `Cookie` headers, if any.
fn view_cookie(headers: &axum::http::HeaderMap) -> Option<Vec<u8>> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(VIEW_COOKIE)?.strip_prefix('='))
        .map(|v| percent_encoding::percent_decode_str(v).collect())
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

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn the_admin_token_comparison_needs_the_same_bytes_and_length() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
        assert!(!constant_time_eq(b"", b"x"));
    }
}
