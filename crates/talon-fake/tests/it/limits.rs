//! Connection limits on a real socket: header, body and idle timeouts, the header size cap,
//! and a graceful stop with a deadline. Timeouts are tens of milliseconds; every wait on the
//! client side has a margin of 30 s, so a loaded machine slows these tests but cannot fail them.

use std::time::Duration;

use talon_fake::{Fake, FakeConfig, MockServer, StateFile};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long the client waits for what the server must do: far beyond every server timeout.
const MARGIN: Duration = Duration::from_secs(30);

fn fake_with(config: FakeConfig) -> Fake {
    Fake::new(StateFile::default_state(), config).expect("default state loads")
}

/// Reads until the server closes the connection; `None` if it is still open after [`MARGIN`].
async fn read_until_closed(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(MARGIN, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(out),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// Reads one response head and its `Content-Length` body; `None` on timeout or close.
async fn read_response(stream: &mut TcpStream) -> Option<String> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&out).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let len = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if out.len() >= end + 4 + len {
                return Some(text);
            }
        }
        match tokio::time::timeout(MARGIN, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => out.extend_from_slice(&buf[..n]),
            _ => return None,
        }
    }
}

const PUT_HEAD: &str = "PUT /v2/customer_profiles/p1 HTTP/1.1\r\nHost: x\r\nAuthorization: ApiKey-v1 segment-demo-integration-key\r\nContent-Type: application/json\r\n";

#[tokio::test]
async fn slowloris_connections_are_closed_after_the_header_timeout() {
    // The idle timeout stays at its 60 s default: the header timer, from the first byte, cuts.
    let server = MockServer::start(fake_with(FakeConfig {
        header_timeout: Duration::from_millis(50),
        ..FakeConfig::default()
    }))
    .await
    .expect("starts");
    let mut conns = Vec::new();
    for _ in 0..50 {
        let mut s = TcpStream::connect(server.address()).await.expect("connect");
        s.write_all(b"GET /v2/authping HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .expect("write");
        conns.push(s);
    }
    for s in &mut conns {
        assert!(
            read_until_closed(s).await.is_some(),
            "a connection that never finished its headers is still open"
        );
    }
    // Nothing reached the router, so nothing was journalled; the server still answers.
    assert!(server.fake().journal().is_empty());
    let mut s = TcpStream::connect(server.address()).await.expect("connect");
    s.write_all(b"GET /v2/authping HTTP/1.1\r\nHost: x\r\nAuthorization: ApiKey-v1 segment-demo-integration-key\r\n\r\n")
        .await
        .expect("write");
    let r = read_response(&mut s).await.expect("an answer");
    assert!(r.starts_with("HTTP/1.1 204"), "{r}");
    server.shutdown().await;
}

#[tokio::test]
async fn idle_connections_are_closed_after_the_idle_timeout() {
    let server = MockServer::start(fake_with(FakeConfig {
        idle_timeout: Duration::from_millis(50),
        ..FakeConfig::default()
    }))
    .await
    .expect("starts");
    // A connection that never sends a byte.
    let mut silent = TcpStream::connect(server.address()).await.expect("connect");
    assert_eq!(read_until_closed(&mut silent).await, Some(Vec::new()));
    // A keep-alive connection after its first response.
    let mut s = TcpStream::connect(server.address()).await.expect("connect");
    s.write_all(b"GET /v2/authping HTTP/1.1\r\nHost: x\r\nAuthorization: ApiKey-v1 segment-demo-integration-key\r\n\r\n")
        .await
        .expect("write");
    let r = read_response(&mut s).await.expect("an answer");
    assert!(r.starts_with("HTTP/1.1 204"), "{r}");
    let rest = read_until_closed(&mut s).await;
    assert_eq!(
        rest,
        Some(Vec::new()),
        "the idle connection must be closed, with nothing more written"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn stalled_bodies_get_408_and_release_the_profiles_in_flight_slots() {
    // A header timeout shorter than the body's: it stops once the headers are in.
    let server = MockServer::start(fake_with(FakeConfig {
        header_timeout: Duration::from_millis(20),
        body_timeout: Duration::from_millis(100),
        ..FakeConfig::default()
    }))
    .await
    .expect("starts");
    // Three stalled updates of p1: as many as the profile admits (1 processed + 2 waiting).
    let mut stalled = Vec::new();
    for _ in 0..3 {
        let mut s = TcpStream::connect(server.address()).await.expect("connect");
        s.write_all(format!("{PUT_HEAD}Content-Length: 40\r\n\r\n{{\"attri").as_bytes())
            .await
            .expect("write");
        stalled.push(s);
    }
    for s in &mut stalled {
        let r = read_until_closed(s)
            .await
            .expect("the stalled request is answered and closed");
        let r = String::from_utf8_lossy(&r);
        assert!(r.starts_with("HTTP/1.1 408"), "{r}");
        assert!(r.contains("\"StatusCode\":408"), "in Talon's envelope: {r}");
    }
    let journal = server.fake().journal();
    assert_eq!(journal.len(), 3);
    assert!(
        journal
            .iter()
            .all(|e| e.status == 408 && e.rule == "body.timeout")
    );
    // The slots are free again: the next update of p1 is applied.
    let mut s = TcpStream::connect(server.address()).await.expect("connect");
    let body = r#"{"attributes":{"email":"a@x"}}"#;
    s.write_all(format!("{PUT_HEAD}Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes())
        .await
        .expect("write");
    let r = read_response(&mut s).await.expect("an answer");
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    server.shutdown().await;
}

#[tokio::test]
async fn headers_over_the_cap_get_431_and_are_not_journalled() {
    let server = MockServer::start(fake_with(FakeConfig {
        max_header_bytes: 16 * 1024,
        ..FakeConfig::default()
    }))
    .await
    .expect("starts");
    let mut s = TcpStream::connect(server.address()).await.expect("connect");
    let big = "a".repeat(20 * 1024);
    s.write_all(format!("GET /v2/authping HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\n\r\n").as_bytes())
        .await
        .expect("write");
    let r = read_until_closed(&mut s)
        .await
        .expect("answered and closed");
    let r = String::from_utf8_lossy(&r);
    assert!(r.starts_with("HTTP/1.1 431"), "{r}");
    assert!(server.fake().journal().is_empty());
    server.shutdown().await;
}

#[tokio::test]
async fn a_stop_closes_connections_still_busy_at_the_shutdown_deadline() {
    // One slot per profile, so a busy profile shows the stalled request was admitted.
    let fake = fake_with(FakeConfig {
        max_in_flight_per_profile: 1,
        ..FakeConfig::default()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(talon_fake::serve_on_with(
        listener,
        fake.clone(),
        async {
            let _ = rx.await;
        },
        Duration::from_millis(100),
    ));
    // A body that stalls far beyond the shutdown deadline (the body timeout is 30 s).
    let mut stalled = TcpStream::connect(addr).await.expect("connect");
    stalled
        .write_all(format!("{PUT_HEAD}Content-Length: 40\r\n\r\n{{").as_bytes())
        .await
        .expect("write");
    // An idle connection: closed at once by the stop.
    let mut idle = TcpStream::connect(addr).await.expect("connect");
    idle.write_all(b"GET /v2/authping HTTP/1.1\r\nHost: x\r\nAuthorization: ApiKey-v1 segment-demo-integration-key\r\n\r\n")
        .await
        .expect("write");
    let r = read_response(&mut idle).await.expect("an answer");
    assert!(r.starts_with("HTTP/1.1 204"), "{r}");
    // The stalled request has been admitted (it waits for its body) once its profile is busy.
    tokio::time::timeout(MARGIN, async {
        while fake.hold_profile("p1").is_some() {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the stalled request reaches the fake");
    let _ = tx.send(());
    let stopped = tokio::time::timeout(MARGIN, task)
        .await
        .expect("the server stops within its deadline")
        .expect("joined")
        .expect("served");
    assert_eq!(stopped.cut, 1, "{stopped:?}");
    assert!(!stopped.forced);
    assert!(read_until_closed(&mut stalled).await.is_some());
    assert!(read_until_closed(&mut idle).await.is_some());
}

#[tokio::test]
async fn a_slow_answer_is_cut_by_neither_the_header_nor_the_idle_timeout() {
    let server = MockServer::start(fake_with(FakeConfig {
        header_timeout: Duration::from_millis(20),
        idle_timeout: Duration::from_millis(20),
        faults: talon_fake::FaultPlan::from_json(r#"{"rules":[{"respond":{"delay_ms":300}}]}"#)
            .expect("plan"),
        ..FakeConfig::default()
    }))
    .await
    .expect("starts");
    let mut s = TcpStream::connect(server.address()).await.expect("connect");
    s.write_all(b"GET /v2/authping HTTP/1.1\r\nHost: x\r\nAuthorization: ApiKey-v1 segment-demo-integration-key\r\n\r\n")
        .await
        .expect("write");
    let r = read_response(&mut s)
        .await
        .expect("an answer, after the delay");
    assert!(r.starts_with("HTTP/1.1 204"), "{r}");
    server.shutdown().await;
}
