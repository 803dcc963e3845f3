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
