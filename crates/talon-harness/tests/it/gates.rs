//! Gates that never lie: lost, unreadable and empty input fail, flags are checked before traffic, and each stream carries one thing.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::{assert_says, exits, harness, repo, scratch};

const EVENTS: &[u8] =
    b"{\"type\":\"identify\",\"userId\":\"u1\",\"traits\":{\"email\":\"a@example.com\"}}\n\
{\"type\":\"identify\",\"userId\":\"u2\",\"traits\":{\"email\":\"b@example.com\"}}\n";

/// A loopback port that nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A loopback HTTP server that is not a fake Talon.One: it answers 404 to
/// everything and records each request line.
fn not_a_fake() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            log.lock().unwrap().push(line.trim_end().to_owned());
            // Read the headers, then answer and close.
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                    break;
                }
            }
            let _ = stream.write_all(
                b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
        }
    });
    (url, seen)
}

/// `replay --settings <the default settings> --events -` with `more` flags, `stdin` as the events.
fn replay_stdin(more: &[&str], stdin: &[u8]) -> std::process::Output {
    let settings = repo("fixtures/settings/default.json");
    let mut args = vec!["replay", "--settings", &settings, "--events", "-"];
    args.extend_from_slice(more);
    harness(&args, stdin)
}

fn json(output: &std::process::Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: stdout {}\nstderr {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name:?} in {report:#}"))
}

#[test]
fn replay_to_an_unreachable_target_exits_1_and_says_every_event_was_lost() {
    let dir = scratch("gates-unreachable");
    let junit = dir.join("junit.xml");
    let target = format!("http://127.0.0.1:{}", closed_port());
    let output = replay_stdin(
        &[
            "--target",
            &target,
            "--max-attempts",
            "2",
            "--report",
            "json",
            "--junit",
            junit.to_str().unwrap(),
        ],
        EVENTS,
    );
    assert_eq!(output.status.code(), Some(1));
    let report = json(&output);
    assert_eq!(report["passed"], false);
    assert_eq!(report["summary"]["failed"], 2);
    let lost = check(&report, "no event was lost (none failed after retries)");
    assert_eq!(lost["passed"], false);
    let details = lost["details"].to_string();
    assert!(
        details.contains("-:1") && details.contains("-:2"),
        "{details}"
    );
    assert!(details.contains("could not connect"), "{details}");
    let junit = std::fs::read_to_string(&junit).unwrap();
    assert!(
        junit.contains("failures=\"1\"") && junit.contains("no event was lost"),
        "{junit}"
    );
    // The human summary went to stderr, with the failure grouped by reason.
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_says(&stderr, &["FAIL no event was lost", "2  could not connect"]);
}

#[test]
fn unreadable_lines_are_findings_with_their_line_and_reason() {
    let mut events = EVENTS.to_vec();
    events.extend_from_slice(b"not json\n[1, 2]\n\n");
    events.extend_from_slice(&[0xFF, b'{', b'}', b'\n']);
    let output = replay_stdin(&["--report", "json"], &events);
    exits(&output, 1);
    let report = json(&output);
    assert_eq!(report["summary"]["events"], 5);
    assert_eq!(report["summary"]["unreadable"], 3);
    let unreadable = check(&report, "every input line is a readable Segment event");
    assert_eq!(unreadable["passed"], false);
    let details: Vec<&str> = unreadable["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert_eq!(details.len(), 3, "{details:?}");
    assert!(
        details[0].starts_with("-:3: not a readable Segment event: expected ident"),
        "{details:?}"
    );
    assert!(
        details[1].starts_with("-:4: ") && details[1].contains("expected a Segment event object"),
        "{details:?}"
    );
    // Line 5 is blank and not an event; line 6 is not UTF-8.
    assert_eq!(
        details[2],
        "-:6: not a readable Segment event: not valid UTF-8 (byte 1)"
    );

    let dir = scratch("gates-map-unreadable");
    let file = dir.join("events.ndjson");
    std::fs::write(&file, &events).unwrap();
    let plain = harness(&["map", "--events", file.to_str().unwrap()], b"");
    assert_eq!(plain.status.code(), Some(0));
    let gated = harness(
        &[
            "map",
            "--events",
            file.to_str().unwrap(),
            "--fail-on-warning",
        ],
        b"",
    );
    let stderr = exits(&gated, 1).stderr;
    assert_says(&stderr, &["unreadable: events.ndjson:4:", "3 unreadable"]);
}

#[test]
fn an_events_source_without_events_is_an_input_error() {
    let dir = scratch("gates-empty");
    let empty = dir.join("empty.ndjson");
    std::fs::write(&empty, b"\n  \n").unwrap();
    let folder = dir.join("nothing");
    std::fs::create_dir_all(&folder).unwrap();
    for events in [empty.to_str().unwrap(), folder.to_str().unwrap(), "-"] {
        for command in ["replay", "map"] {
            let mut args = vec![command, "--events", events];
            if command == "replay" {
                args.extend(["--settings", "SETTINGS"]);
            }
            let settings = repo("fixtures/settings/default.json");
            let args: Vec<&str> = args
                .into_iter()
                .map(|a| {
                    if a == "SETTINGS" {
                        settings.as_str()
                    } else {
                        a
                    }
                })
                .collect();
            let output = harness(&args, b"");
            assert_eq!(output.status.code(), Some(2), "{command} {events}");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(stderr.contains("no events"), "{command} {events}: {stderr}");
        }
    }
}

#[test]
fn simulate_with_no_events_is_an_input_error() {
    for args in [["--users", "0"], ["--events", "0"]] {
        let mut all = vec!["simulate"];
        all.extend(args);
        let output = harness(&all, b"");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_says(&stderr, &["generates no events"]);
    }
}

#[test]
fn counts_and_shares_out_of_range_are_refused_with_the_flag_named() {
    for (args, says) in [
        (
            &["simulate", "--concurrency", "0"][..],
            "must be at least 1",
        ),
        (&["simulate", "--max-attempts", "0"], "must be at least 1"),
        (
            &["simulate", "--fault-rate", "-0.5"],
            "must be at least 0 and below 1",
        ),
        (
            &["simulate", "--fault-rate", "1"],
            "must be at least 0 and below 1",
        ),
        (
            &[
                "replay",
                "--settings",
                "s",
                "--events",
                "-",
                "--concurrency",
                "0",
            ],
            "must be at least 1",
        ),
    ] {
        let output = harness(args, b"");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        let flag = args.iter().rev().nth(1).unwrap();
        assert!(stderr.contains(flag), "{args:?}: {stderr}");
    }
}

#[test]
fn dump_state_from_a_target_that_cannot_give_it_is_refused_before_any_traffic() {
    let (url, seen) = not_a_fake();
    let dir = scratch("gates-dump-refused");
    let output = replay_stdin(
        &[
            "--target",
            &url,
            "--dump-state",
            dir.join("state.json").to_str().unwrap(),
        ],
        EVENTS,
    );
    let stderr = exits(&output, 2).stderr;
    assert_says(&stderr, &["nothing was sent"]);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen, ["GET /__admin/faults HTTP/1.1"]);
    assert!(!dir.join("state.json").exists());
}

#[test]
fn outcomes_on_stdout_leave_the_summary_to_stderr() {
    let output = replay_stdin(&["--outcomes", "-"], EVENTS);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(lines.iter().all(|l| l["outcome"].is_string()));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_says(&stderr, &["every event has exactly one outcome"]);

    let both = replay_stdin(&["--outcomes", "-", "--report", "json"], EVENTS);
    assert_eq!(both.status.code(), Some(2));
    assert!(both.stdout.is_empty());
}

#[test]
fn a_json_report_is_the_only_thing_on_stdout() {
    let output = replay_stdin(&["--report", "json"], EVENTS);
    let report = json(&output);
    assert_eq!(report["command"], "replay");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_says(&stderr, &["delivered"]);
}

#[test]
fn map_into_a_closed_pipe_exits_0_quietly() {
    let dir = scratch("gates-map-pipe");
    let events = dir.join("events.ndjson");
    let generated = harness(
        &[
            "gen",
            "--seed",
            "3",
            "--events",
            "20000",
            "--out",
            events.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(generated.status.code(), Some(0));
    let mut child = Command::new(env!("CARGO_BIN_EXE_talon-harness"))
        .args([
            "map",
            "--format",
            "ndjson",
            "--events",
            events.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    stdout.read_exact(&mut first).unwrap();
    // Like `head`: read a little, then close the pipe while map still writes
    // (its 20,000 results are far more than a pipe holds).
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
}

#[test]
fn the_summary_names_what_ran_and_words_the_journal_cap() {
    let output = harness(
        &["simulate", "--users", "5", "--days", "2", "--seed", "3"],
        b"",
    );
    let stdout = exits(&output, 0).stdout;
    assert_says(
        &stdout,
        &[
            "ran        classic destination, seed 3, 5 users, 2 days, profile realistic, ",
            "journal    kept all ",
        ],
    );
}

#[test]
fn a_scenario_error_names_the_file_in_a_sentence() {
    let output = harness(
        &[
            "simulate",
            "--scenario",
            &repo("fixtures/gen/invalid-share.json"),
        ],
        b"",
    );
    let stderr = exits(&output, 2).stderr;
    assert_says(
        &stderr,
        &[
            "invalid-share.json: invalid scenario: client_side_share must be between 0 and 1, not 1.5",
        ],
    );
    assert!(!stderr.contains("ShareOutOfRange"), "{stderr}");
}

#[test]
fn the_retry_budget_flag_bounds_the_retries_and_is_checked() {
    let target = format!("http://127.0.0.1:{}", closed_port());
    let settings = repo("fixtures/settings/default.json");
    let output = harness(
        &[
            "replay",
            "--settings",
            &settings,
            "--events",
            "-",
            "--target",
            &target,
            "--retry-budget",
            "0",
            "--outcomes",
            "-",
        ],
        GOOD_ONE,
    );
    assert_eq!(output.status.code(), Some(1));
    let outcome: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(outcome["outcome"], "failed");
    assert_eq!(
        outcome["attempts"], 1,
        "a budget of 0 leaves no retry: {outcome}"
    );

    let refused = harness(
        &[
            "replay",
            "--settings",
            &settings,
            "--events",
            "-",
            "--retry-budget",
            "-1",
        ],
        GOOD_ONE,
    );
    let stderr = exits(&refused, 2).stderr;
    assert_says(&stderr, &["--retry-budget"]);
}

const GOOD_ONE: &[u8] =
    b"{\"type\":\"identify\",\"userId\":\"u1\",\"traits\":{\"email\":\"a@example.com\"}}\n";
