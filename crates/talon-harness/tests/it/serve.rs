//! `talon-harness serve`: the standalone fake answers, logs, guards its admin surface, and stops
//! on Ctrl-C or SIGTERM within its shutdown deadline even with a stalled client.
//!
//! Signals go through the shell's built-in `kill` (no dependency on a procps binary). Waits for
//! the child have a margin of 60 s, far beyond every deadline under test.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStderr, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::assert_says;

const MARGIN: Duration = Duration::from_secs(60);
const AUTHPING: &[u8] = b"GET /v2/authping HTTP/1.1\r\nHost: x\r\nAuthorization: ApiKey-v1 segment-demo-integration-key\r\nConnection: close\r\n\r\n";
const STALLED_PUT: &[u8] = b"PUT /v2/customer_profiles/u1 HTTP/1.1\r\nHost: x\r\nAuthorization: ApiKey-v1 segment-demo-integration-key\r\nContent-Type: application/json\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n";

/// A running `serve` and its stderr, read line by line on a thread.
struct Serve {
    child: Option<Child>,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    addr: String,
}

fn spawn_serve(args: &[&str], rust_log: &str) -> Serve {
    spawn_listening("serve", args, rust_log)
}

/// `talon-harness <command> <args>` (one that prints `listening on http://ADDR` on stderr),
/// once it listens; its stdout is dropped.
fn spawn_listening(command: &str, args: &[&str], rust_log: &str) -> Serve {
    let mut child = Command::new(env!("CARGO_BIN_EXE_talon-harness"))
        .arg(command)
        .args(args)
        .env("RUST_LOG", rust_log)
        .env_remove("NO_COLOR")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = read_lines(child.stderr.take().unwrap());
    let mut serve = Serve {
        child: Some(child),
        lines,
        seen: Vec::new(),
        addr: String::new(),
    };
    let line = serve.wait_for("listening on http://");
    serve.addr = line
        .split("listening on http://")
        .nth(1)
        .unwrap()
        .trim()
        .to_owned();
    serve
}

fn read_lines(stderr: ChildStderr) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

impl Serve {
    /// The next stderr line containing `needle` (every line read is kept in `seen`).
    fn wait_for(&mut self, needle: &str) -> String {
        loop {
            match self.lines.recv_timeout(MARGIN) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!("no line with {needle:?}; stderr so far: {:#?}", self.seen),
            }
        }
    }

    fn signal(&self, name: &str) {
        let status = Command::new("sh")
            .args(["-c", &format!("kill -{name} {}", self.pid())])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the exit, and every remaining stderr line; panics after [`MARGIN`].
    fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    fn exit(mut self) -> (ExitStatus, Vec<String>) {
        let (tx, rx) = mpsc::channel();
        let pid = self.pid();
        let Some(mut child) = self.child.take() else {
            panic!("already waited for")
        };
        std::thread::spawn(move || {
            let _ = tx.send(child.wait());
        });
        let status = match rx.recv_timeout(MARGIN) {
            Ok(s) => s.unwrap(),
            Err(_) => {
                let _ = Command::new("sh")
                    .args(["-c", &format!("kill -KILL {pid}")])
                    .status();
                panic!("serve did not stop; stderr: {:#?}", self.seen);
            }
        };
        let rest: Vec<String> = self.lines.iter().collect();
        self.seen.extend(rest);
        (status, std::mem::take(&mut self.seen))
    }
}

impl Drop for Serve {
    /// A failed test must not leave its server running.
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn request(addr: &str, raw: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(MARGIN)).unwrap();
    stream.write_all(raw).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

/// A client whose request is in flight, waiting for a body that never comes. It asks for
/// `100 Continue`, which the server sends only once the fake starts reading the body: by then
/// the request holds its profile's slot and the server counts it as in flight.
fn stalled_client(serve: &Serve) -> TcpStream {
    let mut stream = TcpStream::connect(&serve.addr).unwrap();
    stream.set_read_timeout(Some(MARGIN)).unwrap();
    stream.write_all(STALLED_PUT).unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 256];
    while !String::from_utf8_lossy(&seen).contains("\r\n\r\n") {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "closed before 100 Continue");
        seen.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&seen);
    assert!(head.starts_with("HTTP/1.1 100"), "{head}");
    stream
}

#[test]
fn serve_answers_authping_and_stops_gracefully_on_sigint() {
    let serve = spawn_serve(&["--addr", "127.0.0.1:0"], "info");
    let response = request(&serve.addr, AUTHPING);
    assert!(response.starts_with("HTTP/1.1 204"), "{response}");
    serve.signal("INT");
    let (status, lines) = serve.exit();
    assert!(status.success(), "{lines:#?}");
    assert_eq!(lines.last().map(String::as_str), Some("talon-fake stopped"));
}

#[test]
fn the_startup_banner_names_the_real_port_the_auth_schemes_the_admin_urls_and_the_view() {
    let mut serve = spawn_serve(&["--addr", "127.0.0.1:0"], "info");
    assert!(!serve.addr.ends_with(":0"), "{}", serve.addr);
    serve.wait_for("/__admin/view/");
    let banner = serve.seen.join("\n");
    let base = format!("http://{}", serve.addr);
    for part in [
        "ApiKey-v1".to_owned(),
        "ManagementKey-v1".to_owned(),
        format!("{base}/v2/"),
        format!("{base}/v1/"),
        format!("{base}/__admin/journal"),
        format!("{base}/__admin/state"),
        format!("{base}/__admin/view/"),
    ] {
        assert!(banner.contains(&part), "{part} missing from {banner}");
    }
    let view = request(
        &serve.addr,
        b"GET /__admin/view/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(view.starts_with("HTTP/1.1 200"), "{view}");
    assert!(view.contains("<h1>Applications</h1>"), "{view}");
    serve.signal("INT");
    assert!(serve.exit().0.success());
}

#[rstest::rstest]
#[case::sigint("INT")]
#[case::sigterm("TERM")]
fn a_signal_with_a_stalled_client_stops_at_the_shutdown_deadline_with_the_stop_line(
    #[case] signal: &str,
) {
    let serve = spawn_serve(
        &["--addr", "127.0.0.1:0", "--shutdown-timeout", "0.2"],
        "info",
    );
    let _stalled = stalled_client(&serve);
    serve.signal(signal);
    let (status, lines) = serve.exit();
    assert!(status.success(), "{lines:#?}");
    assert_eq!(
        lines.last().map(String::as_str),
        Some("talon-fake stopped (1 connection still busy at the shutdown deadline, closed)"),
        "{lines:#?}"
    );
}

#[test]
fn a_second_ctrl_c_stops_at_once() {
    // A deadline the test would notice: the second signal must not wait for it.
    let mut serve = spawn_serve(
        &["--addr", "127.0.0.1:0", "--shutdown-timeout", "600"],
        "info",
    );
    let _stalled = stalled_client(&serve);
    serve.signal("INT");
    serve.wait_for("stopping");
    serve.signal("INT");
    let (status, lines) = serve.exit();
    assert!(status.success(), "{lines:#?}");
    assert_eq!(
        lines.last().map(String::as_str),
        Some("talon-fake stopped at once on a second signal (1 connection closed)"),
        "{lines:#?}"
    );
}

#[test]
fn every_request_is_logged_at_debug_the_hot_path_included_without_colour_codes() {
    let mut serve = spawn_serve(&["--addr", "127.0.0.1:0"], "talon_fake=debug");
    let body = r#"{"attributes":{"email":"a@x"}}"#;
    let put = format!(
        "PUT /v2/customer_profiles/u1 HTTP/1.1\r\nHost: x\r\nAuthorization: ApiKey-v1 segment-demo-integration-key\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let response = request(&serve.addr, put.as_bytes());
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let line = serve.wait_for("/v2/customer_profiles/u1");
    for part in ["method=PUT", "status=200", "rule=\"ok.profile_updated\""] {
        assert!(line.contains(part), "{part} missing from {line}");
    }
    serve.signal("INT");
    let (_, lines) = serve.exit();
    // stderr is a pipe: no ANSI escapes, whatever NO_COLOR says.
    assert!(lines.iter().all(|l| !l.contains('\u{1b}')), "{lines:#?}");
}

/// Runs `serve args…`, which must exit 2, and returns its stderr.
fn serve_fails(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_talon-harness"))
        .arg("serve")
        .args(args)
        .output()
        .unwrap();
    crate::exits(&output, 2).stderr
}

#[test]
fn a_taken_port_is_named_and_exits_2() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let stderr = serve_fails(&["--addr", &addr]);
    assert_says(
        &stderr,
        &[&format!("cannot listen on {addr}: address already in use")],
    );
}

#[test]
fn a_non_loopback_address_needs_an_admin_token_or_insecure_admin() {
    // Refused before binding: no socket is opened beyond loopback.
    let stderr = serve_fails(&["--addr", "0.0.0.0:0"]);
    assert_says(&stderr, &["--admin-token", "--insecure-admin"]);
}

#[test]
fn with_an_admin_token_the_admin_surface_needs_it() {
    let serve = spawn_serve(
        &["--addr", "127.0.0.1:0", "--admin-token", "s3cret"],
        "info",
    );
    let without = request(
        &serve.addr,
        b"GET /__admin/journal HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(without.starts_with("HTTP/1.1 401"), "{without}");
    let with = request(
        &serve.addr,
        b"GET /__admin/journal HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\nConnection: close\r\n\r\n",
    );
    assert!(with.starts_with("HTTP/1.1 200"), "{with}");
    serve.signal("INT");
    assert!(serve.exit().0.success());
}

#[test]
fn simulate_serve_shows_the_run_in_the_view_then_serves_until_a_signal_with_the_run_s_exit_code() {
    let mut sim = spawn_listening(
        "simulate",
        &[
            "--serve",
            "127.0.0.1:0",
            "--users",
            "20",
            "--days",
            "2",
            "--seed",
            "3",
        ],
        "info",
    );
    let view = sim.wait_for("/__admin/view/");
    assert!(
        view.contains(&format!("http://{}/__admin/view/", sim.addr)),
        "{view}"
    );
    sim.wait_for("the run is over");
    // After the run the fake still answers: its view shows the simulated customers.
    let page = request(
        &sim.addr,
        b"GET /__admin/view/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    let customers = page
        .split("<td>")
        .nth(2)
        .and_then(|cell| cell.split('<').next())
        .and_then(|n| n.parse::<u32>().ok())
        .unwrap_or(0);
    assert!(
        customers > 0,
        "no customers in the view after the run: {page}"
    );
    sim.signal("INT");
    let (status, lines) = sim.exit();
    assert!(status.success(), "{lines:#?}");
    assert_eq!(lines.last().map(String::as_str), Some("talon-fake stopped"));
}

#[test]
fn simulate_serve_takes_a_loopback_address_only() {
    let out = Command::new(env!("CARGO_BIN_EXE_talon-harness"))
        .args([
            "simulate",
            "--serve",
            "0.0.0.0:0",
            "--users",
            "2",
            "--days",
            "1",
        ])
        .output()
        .unwrap();
    let printed = crate::exits(&out, 2);
    assert_says(
        &printed.stderr,
        &[
            "--serve 0.0.0.0:0",
            "loopback address only",
            "serve --admin-token",
        ],
    );
}

/// A profile update through the Segment relay with the default state's Segment key.
fn relay_put(id: &str) -> Vec<u8> {
    let body = r#"{"attributes":{"email":"a@x"}}"#;
    format!(
        "PUT /segment/v2/customer_profiles/{id} HTTP/1.1\r\nHost: x\r\nAuthorization: ApiKey-v1 segment-demo-relay-key\r\ndestination-hostname: https://mycompany.europe-west1.talon.one\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[test]
fn the_relay_rate_limit_flag_sets_turns_off_or_refuses_bad_values() {
    // 0 refuses every authenticated relay request, whatever the timing.
    let serve = spawn_serve(
        &["--addr", "127.0.0.1:0", "--relay-rate-limit", "0"],
        "info",
    );
    let response = request(&serve.addr, &relay_put("u1"));
    assert!(response.starts_with("HTTP/1.1 429"), "{response}");
    assert!(
        response.contains(r#""Error":"Too many requests: more than 0 requests"#),
        "{response}"
    );
    serve.signal("INT");
    assert!(serve.exit().0.success());
    // off: far more than 60 requests in well under a second are all served.
    let serve = spawn_serve(
        &["--addr", "127.0.0.1:0", "--relay-rate-limit", "off"],
        "info",
    );
    for i in 0..150 {
        let response = request(&serve.addr, &relay_put(&format!("u{i}")));
        assert!(response.starts_with("HTTP/1.1 200"), "{i}: {response}");
    }
    serve.signal("INT");
    assert!(serve.exit().0.success());
    let stderr = serve_fails(&["--relay-rate-limit", "fast"]);
    assert_says(&stderr, &["expected requests per second (e.g. 60) or off"]);
}
