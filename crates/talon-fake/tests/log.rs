//! The request log: every request the fake answers logs one `debug` event (target
//! `talon_fake::request`), the hot `PUT /v2/customer_profiles/{id}` included.
//!
//! A test binary of its own, with one test: `tracing` caches per call site whether anyone
//! listens, process-wide, so a subscriber scoped to one test's thread races with the other
//! tests' threads of a shared binary (a call site first reached elsewhere can stay "never").
//! Alone in its process, the test is deterministic.

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use talon_fake::{Fake, FakeConfig, StateFile, router};
use tower::ServiceExt;
use tracing_subscriber::fmt::MakeWriter;

const IKEY: &str = "ApiKey-v1 segment-demo-integration-key";
const MKEY: &str = "ManagementKey-v1 segment-demo-management-key";

/// Every Talon.One route but the hot one (sent first, twice), with the key it needs.
const ROUTES: &[(&str, &str, &str)] = &[
    ("PUT", "/v2/customer_profiles", IKEY),
    ("GET", "/v2/authping", IKEY),
    ("POST", "/v2/customer_audiences", IKEY),
    ("POST", "/v2/audiences", IKEY),
    ("PUT", "/v2/audiences/1", IKEY),
    ("DELETE", "/v2/audiences/1", IKEY),
    ("DELETE", "/v2/audiences/1/memberships", IKEY),
    ("PUT", "/v2/audience_customers/1/attributes", IKEY),
    ("GET", "/v1/attributes", MKEY),
    ("POST", "/v1/attributes", MKEY),
    ("GET", "/v1/attributes/1", MKEY),
    ("PUT", "/v1/attributes/1", MKEY),
    ("GET", "/v1/audiences", MKEY),
    ("GET", "/v1/applications", MKEY),
    ("GET", "/v1/applications/1/customers", MKEY),
    ("GET", "/v1/applications/1/customers/1", MKEY),
];

fn fake() -> Fake {
    Fake::new(StateFile::default_state(), FakeConfig::default()).expect("default state loads")
}

/// Sends a request with a small JSON body; returns its status.
async fn send(fake: &Fake, method: &str, path: &str, key: &str) -> StatusCode {
    request(fake, method, path, key, json!({"attributes": {}})).await
}

async fn request(fake: &Fake, method: &str, path: &str, key: &str, body: Value) -> StatusCode {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", key)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("request");
    router(fake.clone())
        .oneshot(req)
        .await
        .expect("infallible")
        .status()
}

async fn put_profile(fake: &Fake, body: Value) -> StatusCode {
    request(fake, "PUT", "/v2/customer_profiles/u1", IKEY, body).await
}

/// A `tracing` writer into a shared buffer, for one test's default subscriber.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// The `talon_fake::request` events written so far, one line each.
    fn request_lines(&self) -> Vec<String> {
        let bytes = self.0.lock().expect("log buffer").clone();
        String::from_utf8_lossy(&bytes)
            .lines()
            .filter(|l| l.contains("talon_fake::request"))
            .map(str::to_owned)
            .collect()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn every_request_is_logged_once_with_its_status_and_rule_the_profile_update_included() {
    let log = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .without_time()
        .with_writer(log.clone())
        .finish();
    // The test runs on one thread (current-thread runtime), so a thread default sees it all.
    let _guard = tracing::subscriber::set_default(subscriber);
    let fake = fake();
    let ok = put_profile(&fake, json!({"attributes": {"plan": "gold"}})).await;
    assert_eq!(ok.as_u16(), 200);
    let refused = put_profile(&fake, json!({"attributes": {"nope": 1}})).await;
    assert_eq!(refused.as_u16(), 400);
    for (method, path, key) in ROUTES {
        send(&fake, method, path, key).await;
    }
    send(&fake, "GET", "/__admin/journal", "").await;

    let lines = log.request_lines();
    let journal = fake.journal();
    assert_eq!(
        lines.len(),
        journal.len() + 1,
        "one line per request:\n{}",
        lines.join("\n")
    );
    for (line, e) in lines.iter().zip(&journal) {
        for field in [
            format!("method={}", e.method),
            format!("path={}", e.path),
            format!("status={}", e.status),
            format!("rule={:?}", e.rule),
        ] {
            assert!(line.contains(&field), "{field} not in {line}");
        }
    }
    assert!(
        lines[0].contains(r#"rule="ok.profile_updated""#),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains(r#"rule="attribute.unknown""#),
        "{}",
        lines[1]
    );
    let admin = lines.last().expect("the admin request");
    assert!(
        admin.contains("path=/__admin/journal") && admin.contains(r#"rule="admin""#),
        "{admin}"
    );
}
