//! Shared helpers: a fake with the default state and one-shot requests through `router(...)`
//! (`get`, `put`, `post`, `delete` for the common JSON calls, `call` and `raw` for the rest).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use talon_fake::{Fake, FakeConfig, StateFile, router};
use tower::ServiceExt;

pub(crate) const IKEY: &str = "ApiKey-v1 segment-demo-integration-key";
pub(crate) const MKEY: &str = "ManagementKey-v1 segment-demo-management-key";

/// A fake with the default state, its relay rate limit on (the default) but on a manual clock
/// that never moves: a test that sends more than 60 relay requests to one fake gets 429s every
/// time, never only on a fast machine.
pub(crate) fn fake() -> Fake {
    let config = FakeConfig {
        relay_clock: talon_fake::RelayClock::Manual(talon_fake::ManualClock::new()),
        ..FakeConfig::default()
    };
    Fake::new(StateFile::default_state(), config).expect("default state loads")
}

/// A response: status and body parsed as JSON (`Null` when empty or not JSON).
#[derive(Debug)]
pub(crate) struct Resp {
    pub(crate) status: StatusCode,
    pub(crate) json: Value,
    pub(crate) raw: Vec<u8>,
}

pub(crate) async fn send(fake: &Fake, req: Request<Body>) -> Resp {
    let resp = router(fake.clone()).oneshot(req).await.expect("infallible");
    let status = resp.status();
    let raw = resp
        .into_body()
        .collect()
        .await
        .map(|c| c.to_bytes().to_vec())
        .unwrap_or_default();
    let json = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    Resp { status, json, raw }
}

/// A request with an optional `Authorization` value and an optional JSON body.
pub(crate) async fn call(
    fake: &Fake,
    method: &str,
    uri: &str,
    auth: Option<&str>,
    body: Option<Value>,
) -> Resp {
    send(fake, request(method, uri, auth, body)).await
}

/// A request with an optional `Authorization` value and an optional JSON body, unsent.
pub(crate) fn request(
    method: &str,
    uri: &str,
    auth: Option<&str>,
    body: Option<Value>,
) -> Request<Body> {
    let mut b = Request::builder().method(method).uri(uri);
    if let Some(a) = auth {
        b = b.header("authorization", a);
    }
    let body = match body {
        Some(v) => {
            b = b.header("content-type", "application/json");
            Body::from(serde_json::to_vec(&v).expect("json"))
        }
        None => Body::empty(),
    };
    b.body(body).expect("request")
}

/// A raw request with the integration key and the given content type.
pub(crate) async fn raw(
    fake: &Fake,
    method: &str,
    uri: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Resp {
    let mut b = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", IKEY);
    if let Some(ct) = content_type {
        b = b.header("content-type", ct);
    }
    send(fake, b.body(Body::from(body)).expect("request")).await
}

pub(crate) async fn put_profile(fake: &Fake, id: &str, query: &str, body: Value) -> Resp {
    let uri = format!("/v2/customer_profiles/{id}{query}");
    put(fake, &uri, Some(IKEY), body).await
}

/// Asserts Talon.One's `ErrorResponseWithStatus` envelope and returns the pointers/parameters of its errors.
pub(crate) fn assert_error_shape(r: &Resp, status: u16) -> Vec<String> {
    assert_eq!(r.status.as_u16(), status, "body: {}", r.json);
    assert!(r.json["message"].is_string(), "message: {}", r.json);
    assert_eq!(r.json["StatusCode"], status, "{}", r.json);
    let errors = r.json["errors"].as_array().expect("errors[]");
    errors
        .iter()
        .map(|e| {
            assert!(e["title"].is_string(), "{e}");
            assert!(e["details"].is_string(), "{e}");
            let src = e["source"].as_object().expect("source");
            assert_eq!(src.len(), 1, "exactly one of pointer/parameter: {e}");
            src.get("pointer")
                .or_else(|| src.get("parameter"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        })
        .collect()
}

/// The rule recorded for the last journal entry.
pub(crate) fn last_rule(fake: &Fake) -> String {
    fake.journal()
        .last()
        .map(|e| e.rule.clone())
        .unwrap_or_default()
}

/// `GET uri` with an optional `Authorization` value.
pub(crate) async fn get(fake: &Fake, uri: &str, auth: Option<&str>) -> Resp {
    call(fake, "GET", uri, auth, None).await
}

/// `DELETE uri` with an optional `Authorization` value.
pub(crate) async fn delete(fake: &Fake, uri: &str, auth: Option<&str>) -> Resp {
    call(fake, "DELETE", uri, auth, None).await
}

/// `PUT uri` with an optional `Authorization` value and a JSON body.
pub(crate) async fn put(fake: &Fake, uri: &str, auth: Option<&str>, body: Value) -> Resp {
    call(fake, "PUT", uri, auth, Some(body)).await
}

/// `POST uri` with an optional `Authorization` value and a JSON body.
pub(crate) async fn post(fake: &Fake, uri: &str, auth: Option<&str>, body: Value) -> Resp {
    call(fake, "POST", uri, auth, Some(body)).await
}
