//! Real sockets: the fake served on 127.0.0.1 and driven with reqwest.

use serde_json::json;
use talon_fake::{MockServer, ServeConfig};

use crate::support::*;

#[tokio::test]
async fn a_profile_update_over_a_real_socket_is_stored_and_journalled() {
    let server = MockServer::start(fake()).await.expect("starts");
    let client = reqwest::Client::new();
    let r = client
        .put(format!(
            "{}/v2/customer_profiles/u1?runRuleEngine=true",
            server.uri()
        ))
        .header("authorization", IKEY)
        .json(&json!({"attributes": {"email": "a@x"}, "responseContent": ["customerProfile"]}))
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["customerProfile"]["attributes"]["email"], "a@x");
    let r = client
        .get(format!("{}/v2/authping", server.uri()))
        .header("authorization", "ApiKey-v1 nope")
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), 401);
    let j = server.fake().journal();
    assert_eq!(j.len(), 2);
    let r = client
        .get(format!("{}/__admin/journal", server.uri()))
        .send()
        .await
        .expect("sent");
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["entries"][1]["rule"], "auth.unknown_key");
    server.shutdown().await;
}

#[tokio::test]
async fn a_dropped_connection_is_an_error_at_the_client() {
    let server = MockServer::start(fake()).await.expect("starts");
    server.fake().set_faults(
        talon_fake::FaultPlan::from_json(r#"{"rules":[{"respond":"drop_connection","times":1}]}"#)
            .expect("plan"),
    );
    let client = reqwest::Client::new();
    let url = format!("{}/v2/authping", server.uri());
    let first = match client.get(&url).header("authorization", IKEY).send().await {
        Ok(r) => r.bytes().await.map(|_| ()),
        Err(e) => Err(e),
    };
    assert!(first.is_err(), "the first request must fail at the client");
    let second = client
        .get(&url)
        .header("authorization", IKEY)
        .send()
        .await
        .expect("sent");
    assert_eq!(second.status(), 204);
    server.shutdown().await;
}

#[tokio::test]
async fn the_standalone_server_serves_a_state_file_and_stops_on_its_signal() {
    let dir = std::env::temp_dir().join(format!("talon-fake-serve-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let state = dir.join("state.json");
    std::fs::write(&state, talon_fake::DEFAULT_STATE_JSON).expect("write");
    let cfg = ServeConfig {
        state: Some(state),
        ..ServeConfig::default()
    };
    let fake = talon_fake::fake_from_config(&cfg).expect("the state file loads");
    // Bound before the server runs: the first request waits in the backlog.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(talon_fake::serve_on(listener, fake, async {
        let _ = rx.await;
    }));
    let status = reqwest::Client::new()
        .get(format!("http://{addr}/v2/authping"))
        .header("authorization", IKEY)
        .send()
        .await
        .ok()
        .map(|r| r.status().as_u16());
    assert_eq!(status, Some(204));
    let _ = tx.send(());
    assert!(task.await.expect("joined").is_ok());
}

#[test]
fn the_talon_fake_binary_stops_on_sigterm_with_a_stalled_client_and_prints_the_stop_line() {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_talon-fake"))
        .args(["--addr", "127.0.0.1:0", "--shutdown-timeout", "0.2"])
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawns");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    let addr = loop {
        line.clear();
        assert!(
            stderr.read_line(&mut line).expect("reads") > 0,
            "exited early"
        );
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.trim().to_owned();
        }
    };
    // In flight once the server asks for the body (`100 Continue`), which never comes.
    let mut stalled = std::net::TcpStream::connect(&addr).expect("connects");
    stalled
        .set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .expect("timeout");
    stalled
        .write_all(b"PUT /v2/customer_profiles/u1 HTTP/1.1\r\nHost: x\r\nAuthorization: ApiKey-v1 segment-demo-integration-key\r\nContent-Type: application/json\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n")
        .expect("writes");
    let mut buf = [0u8; 64];
    let n = stalled.read(&mut buf).expect("100 Continue");
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 100"));
    let status = std::process::Command::new("sh")
        .args(["-c", &format!("kill -TERM {}", child.id())])
        .status()
        .expect("kill");
    assert!(status.success());
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).expect("reads");
    assert!(child.wait().expect("waits").success(), "{rest}");
    assert_eq!(
        rest.lines().last(),
        Some("talon-fake stopped (1 connection still busy at the shutdown deadline, closed)"),
        "{rest}"
    );
}

#[test]
fn a_non_loopback_serve_config_needs_an_admin_token_or_insecure_admin() {
    let open = ServeConfig {
        addr: "0.0.0.0:8080".parse().expect("addr"),
        ..ServeConfig::default()
    };
    let e = open.check().expect_err("refused");
    assert!(
        matches!(e, talon_fake::ServeError::AdminUnprotected { .. }),
        "{e}"
    );
    assert!(e.to_string().contains("--admin-token"), "{e}");
    let with_token = ServeConfig {
        admin_token: Some("t".into()),
        ..open.clone()
    };
    assert!(with_token.check().is_ok());
    let insecure = ServeConfig {
        insecure_admin: true,
        ..open.clone()
    };
    assert!(insecure.check().is_ok());
    let empty = ServeConfig {
        admin_token: Some(String::new()),
        ..open
    };
    assert!(matches!(
        empty.check(),
        Err(talon_fake::ServeError::EmptyAdminToken)
    ));
    // Loopback stays open for tests.
    assert!(ServeConfig::default().check().is_ok());
    let v6 = ServeConfig {
        addr: "[::1]:0".parse().expect("addr"),
        ..ServeConfig::default()
    };
    assert!(v6.check().is_ok());
}
