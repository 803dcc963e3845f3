//! README's exit-code table, cell by cell: every cell is a run of the binary that ends with that code.
//!
//! The table in README.md ("Exit codes") is parsed and compared with the
//! cases below both ways, so the documentation cannot drift from what the
//! binary does: a cell without a case, or a case without a cell, fails.

use std::path::Path;

use talon_fake::{Fake, FakeConfig, MockServer, StateFile};

use crate::{harness, repo, scratch};
use std::collections::BTreeMap;

/// One run of the binary and the code it must end with.
struct Run {
    args: Vec<String>,
    stdin: Vec<u8>,
    code: i32,
    /// The flag that makes this run differ from the cell's first run, as
    /// the README names it (`1 with --fail-on-reject`).
    flag: Option<&'static str>,
    /// A server: stopped with Ctrl-C (SIGINT) once it says where it listens.
    interrupt: bool,
}

fn run(args: &[&str], stdin: &[u8], code: i32) -> Run {
    Run {
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        stdin: stdin.to_vec(),
        code,
        flag: None,
        interrupt: false,
    }
}

/// `serve`, run until it listens, then stopped with Ctrl-C.
fn interrupted(args: &[&str], code: i32) -> Run {
    Run {
        interrupt: true,
        ..run(args, b"", code)
    }
}

fn with_flag(flag: &'static str, args: &[&str], stdin: &[u8], code: i32) -> Run {
    let mut all: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    all.push(flag.to_owned());
    Run {
        args: all,
        stdin: stdin.to_vec(),
        code,
        flag: Some(flag),
        interrupt: false,
    }
}

/// The README's columns, in order.
const COLUMNS: [&str; 7] = [
    "nothing to report",
    "unreadable event line",
    "mapper warning",
    "rejected by Talon.One",
    "event lost (failed after retries)",
    "result differs from what must hold",
    "no events, bad flag or unreadable file",
];

const GOOD: &[u8] =
    b"{\"type\":\"identify\",\"userId\":\"u1\",\"traits\":{\"email\":\"a@example.com\"}}\n";
const UNREADABLE: &[u8] =
    b"{\"type\":\"identify\",\"userId\":\"u1\",\"traits\":{\"email\":\"a@example.com\"}}\nnot json\n";

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Copies bundle `from` (all its files) to `dir/name`, then lets `change` edit it.
fn bundle_copy(from: &str, dir: &Path, name: &str, change: impl FnOnce(&Path)) -> String {
    let to = dir.join(name);
    std::fs::create_dir_all(&to).unwrap();
    for entry in std::fs::read_dir(repo(&format!("fixtures/bugs/{from}"))).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
    change(&to);
    to.display().to_string()
}

/// A folder for the cases' files, one per call: both tests build the cases at once, and a
/// shared folder emptied by one while the other copies into it failed now and then.
fn files() -> std::path::PathBuf {
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = scratch(&format!("exit-codes-{n}"));
    std::fs::write(
        dir.join("lost.json"),
        r#"{"seed": 1, "rules": [{"path_prefix": "/v2/customer_profiles/", "respond": {"status": 502}}]}"#,
    )
    .unwrap();
    // `check` for Talon.One (Actions): a deployment the state does not have, and a
    // subscriptions file that is no list.
    std::fs::write(
        dir.join("actions-elsewhere.json"),
        r#"{"apiKey": "shop-segment-key", "deployment": "https://elsewhere.europe-west1.talon.one"}"#,
    )
    .unwrap();
    std::fs::write(dir.join("no-subscriptions.json"), r#"{"subscriptions": 1}"#).unwrap();
    dir
}

/// Every cell of the table as the runs that prove it, keyed by (command, column).
fn cases() -> BTreeMap<(&'static str, &'static str), Vec<Run>> {
    let dir = files();
    let lost_plan = dir.join("lost.json").display().to_string();
    let settings = repo("fixtures/settings/default.json");
    let rejected = repo("fixtures/bugs/string_true_to_boolean");
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let replay = |events: &str, more: &[&str]| -> Vec<String> {
        let mut args = vec!["replay", "--settings", &settings, "--events", events];
        args.extend_from_slice(more);
        args.iter().map(|a| (*a).to_owned()).collect()
    };
    let bundle_events = format!("{rejected}/events.ndjson");
    let bundle_state = format!("{rejected}/talon-state.json");
    let bundle_settings = format!("{rejected}/settings.json");
    let small = ["simulate", "--users", "5", "--days", "2", "--seed", "3"];

    let mut cells: BTreeMap<(&str, &str), Vec<Run>> = BTreeMap::new();
    let mut cell = |command, column, runs| {
        cells.insert((command, column), runs);
    };

    // map
    let john = repo("fixtures/segment/identify_john_doe.json");
    let warned = repo("fixtures/segment/identify_case_mismatch_email.json");
    cell(
        "map",
        COLUMNS[0],
        vec![run(&["map", "--events", &john], b"", 0)],
    );
    cell(
        "map",
        COLUMNS[1],
        vec![
            run(&["map", "--events", "-"], UNREADABLE, 0),
            with_flag(
                "--fail-on-warning",
                &["map", "--events", "-"],
                UNREADABLE,
                1,
            ),
        ],
    );
    cell(
        "map",
        COLUMNS[2],
        vec![
            run(&["map", "--events", &warned], b"", 0),
            with_flag("--fail-on-warning", &["map", "--events", &warned], b"", 1),
        ],
    );
    cell(
        "map",
        COLUMNS[6],
        vec![run(&["map", "--events", "-"], b"", 2)],
    );

    // simulate
    cell("simulate", COLUMNS[0], vec![run(&small, b"", 0)]);
    let edge = [
        "simulate",
        "--profile",
        "edge",
        "--users",
        "20",
        "--days",
        "2",
        "--seed",
        "9",
    ];
    cell(
        "simulate",
        COLUMNS[3],
        vec![
            run(&edge, b"", 0),
            with_flag("--fail-on-reject", &edge, b"", 1),
        ],
    );
    let mut lost = small.to_vec();
    lost.extend(["--faults", &lost_plan, "--max-attempts", "1"]);
    cell("simulate", COLUMNS[4], vec![run(&lost, b"", 1)]);
    cell(
        "simulate",
        COLUMNS[6],
        vec![
            run(&["simulate", "--users", "0"], b"", 2),
            run(&["simulate", "--concurrency", "0"], b"", 2),
        ],
    );

    // replay
    let ok = replay("-", &[]);
    cell("replay", COLUMNS[0], vec![run(&strs(&ok), GOOD, 0)]);
    cell("replay", COLUMNS[1], vec![run(&strs(&ok), UNREADABLE, 1)]);
    let warned_replay = replay(&warned, &[]);
    cell(
        "replay",
        COLUMNS[2],
        vec![run(&strs(&warned_replay), b"", 0)],
    );
    let rejecting = [
        "replay",
        "--settings",
        &bundle_settings,
        "--events",
        &bundle_events,
        "--talon-state",
        &bundle_state,
    ];
    cell(
        "replay",
        COLUMNS[3],
        vec![
            run(&rejecting, b"", 0),
            with_flag("--fail-on-reject", &rejecting, b"", 1),
        ],
    );
    let unreachable = replay("-", &["--target", &closed, "--max-attempts", "1"]);
    cell(
        "replay",
        COLUMNS[4],
        vec![run(&strs(&unreachable), GOOD, 1)],
    );
    cell(
        "replay",
        COLUMNS[6],
        vec![
            run(&strs(&ok), b"", 2),
            run(&strs(&replay("/nonexistent/events.ndjson", &[])), b"", 2),
        ],
    );

    // repro
    let unreadable_bundle = bundle_copy("numeric_user_id", &dir, "unreadable", |b| {
        let mut events = std::fs::read(b.join("events.ndjson")).unwrap();
        events.extend_from_slice(b"not json\n");
        std::fs::write(b.join("events.ndjson"), events).unwrap();
    });
    let differs = bundle_copy("string_true_to_boolean", &dir, "differs", |b| {
        let expected = std::fs::read_to_string(b.join("expected.json")).unwrap();
        // Claim the rejected event was delivered.
        let edited = expected.replacen("\"rejected\"", "\"delivered\"", 1);
        assert_ne!(edited, expected);
        std::fs::write(b.join("expected.json"), edited).unwrap();
    });
    cell(
        "repro",
        COLUMNS[0],
        vec![run(
            &["repro", &repo("fixtures/bugs/numeric_user_id")],
            b"",
            0,
        )],
    );
    cell(
        "repro",
        COLUMNS[1],
        vec![run(&["repro", &unreadable_bundle], b"", 1)],
    );
    cell(
        "repro",
        COLUMNS[2],
        vec![run(
            &["repro", &repo("fixtures/bugs/trait_case_mismatch")],
            b"",
            0,
        )],
    );
    cell(
        "repro",
        COLUMNS[3],
        vec![run(&["repro", &rejected], b"", 0)],
    );
    cell("repro", COLUMNS[5], vec![run(&["repro", &differs], b"", 1)]);
    cell(
        "repro",
        COLUMNS[6],
        vec![run(&["repro", "/nonexistent/bundle"], b"", 2)],
    );

    // check
    let default_state = repo("fixtures/talon/default-state.json");
    let check_defaults = |events: &str| -> Vec<String> {
        [
            "check",
            "--settings",
            &settings,
            "--talon-state",
            &default_state,
            "--events",
            events,
        ]
        .iter()
        .map(|a| (*a).to_owned())
        .collect()
    };
    // Talon.One (Actions), inferred from the settings' `deployment`.
    let actions = repo("fixtures/check/actions");
    let actions_settings = format!("{actions}/settings.json");
    let actions_state = format!("{actions}/talon-state.json");
    let actions_subscriptions = format!("{actions}/subscriptions.json");
    let check_actions =
        |settings: &str, subscriptions: &str, events: Option<&str>| -> Vec<String> {
            let mut args = vec![
                "check",
                "--settings",
                settings,
                "--subscriptions",
                subscriptions,
                "--talon-state",
                &actions_state,
            ];
            if let Some(events) = events {
                args.extend(["--events", events]);
            }
            args.iter().map(|a| (*a).to_owned()).collect()
        };
    let actions_events = format!("{actions}/events.ndjson");
    let elsewhere = dir.join("actions-elsewhere.json").display().to_string();
    let no_subscriptions = dir.join("no-subscriptions.json").display().to_string();
    const REFUSED: &[u8] = b"{\"type\":\"identify\",\"userId\":\"u1\",\"traits\":{\"email\":5}}\n";
    cell(
        "check",
        COLUMNS[0],
        vec![
            run(&strs(&check_defaults("-")), GOOD, 0),
            run(
                &strs(&check_actions(
                    &actions_settings,
                    &actions_subscriptions,
                    Some(&actions_events),
                )),
                b"",
                0,
            ),
        ],
    );
    cell(
        "check",
        COLUMNS[1],
        vec![
            run(&strs(&check_defaults("-")), UNREADABLE, 1),
            run(
                &strs(&check_actions(
                    &actions_settings,
                    &actions_subscriptions,
                    Some("-"),
                )),
                UNREADABLE,
                1,
            ),
        ],
    );
    cell(
        "check",
        COLUMNS[2],
        vec![run(&strs(&check_defaults(&warned)), b"", 0)],
    );
    cell(
        "check",
        COLUMNS[3],
        vec![
            run(
                &[
                    "check",
                    "--settings",
                    &bundle_settings,
                    "--talon-state",
                    &bundle_state,
                    "--events",
                    &bundle_events,
                ],
                b"",
                1,
            ),
            run(
                &strs(&check_actions(
                    &actions_settings,
                    &actions_subscriptions,
                    Some("-"),
                )),
                REFUSED,
                1,
            ),
        ],
    );
    cell(
        "check",
        COLUMNS[5],
        vec![
            run(
                &[
                    "check",
                    "--settings",
                    &repo("fixtures/bugs/trait_case_mismatch/settings.json"),
                    "--talon-state",
                    &repo("fixtures/bugs/trait_case_mismatch/talon-state.json"),
                ],
                b"",
                1,
            ),
            run(
                &strs(&check_actions(&elsewhere, &actions_subscriptions, None)),
                b"",
                1,
            ),
        ],
    );
    cell(
        "check",
        COLUMNS[6],
        vec![
            run(&strs(&check_defaults("-")), b"", 2),
            run(
                &[
                    "check",
                    "--settings",
                    &settings,
                    "--talon-state",
                    "/nonexistent.json",
                ],
                b"",
                2,
            ),
            run(
                &strs(&check_actions(&actions_settings, &no_subscriptions, None)),
                b"",
                2,
            ),
            run(
                &strs(&check_actions(
                    &actions_settings,
                    &actions_subscriptions,
                    Some("-"),
                )),
                b"",
                2,
            ),
        ],
    );

    // pull (against the embedded fake started by the caller, see `pull_target`)
    cell(
        "pull",
        COLUMNS[0],
        vec![run(
            &[
                "pull",
                "--target",
                PULL_TARGET,
                "--management-key",
                "segment-demo-management-key",
                "--out",
                "OUT",
            ],
            b"",
            0,
        )],
    );
    cell(
        "pull",
        COLUMNS[6],
        vec![
            run(
                &[
                    "pull",
                    "--target",
                    PULL_TARGET,
                    "--management-key",
                    "wrong",
                    "--out",
                    "OUT",
                ],
                b"",
                2,
            ),
            run(
                &[
                    "pull",
                    "--target",
                    &closed,
                    "--management-key",
                    "k",
                    "--out",
                    "OUT",
                ],
                b"",
                2,
            ),
        ],
    );

    // serve
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken_addr = taken.local_addr().unwrap().to_string();
    // Held for the whole test process, so the port stays taken for every run.
    std::mem::forget(taken);
    cell(
        "serve",
        COLUMNS[0],
        vec![interrupted(&["serve", "--addr", "127.0.0.1:0"], 0)],
    );
    cell(
        "serve",
        COLUMNS[6],
        vec![
            run(&["serve", "--addr", &taken_addr], b"", 2),
            run(
                &[
                    "serve",
                    "--addr",
                    "127.0.0.1:0",
                    "--state",
                    "/nonexistent.json",
                ],
                b"",
                2,
            ),
            run(&["serve", "--addr", "0.0.0.0:0"], b"", 2),
        ],
    );

    // gen
    cell(
        "gen",
        COLUMNS[0],
        vec![run(&["gen", "--events", "3"], b"", 0)],
    );
    cell(
        "gen",
        COLUMNS[6],
        vec![run(
            &[
                "gen",
                "--scenario",
                &repo("fixtures/gen/invalid-share.json"),
            ],
            b"",
            2,
        )],
    );

    // mapping eval and mapping validate: Segment's errors are answers (0); a line that is
    // not an input line is the "unreadable event line" column.
    for (command, action, line) in [
        (
            "mapping eval",
            "eval",
            &br#"{"mapping":{"@path":"$.nope"},"payload":{}}"#[..],
        ),
        (
            "mapping validate",
            "validate",
            &br#"{"mapping":{"@path":true}}"#[..],
        ),
    ] {
        cell(
            command,
            COLUMNS[0],
            vec![run(&["mapping", action, "-"], line, 0)],
        );
        cell(
            command,
            COLUMNS[1],
            vec![run(&["mapping", action, "-"], b"not json\n", 1)],
        );
        cell(
            command,
            COLUMNS[6],
            vec![
                run(&["mapping", action, "-"], b"", 2),
                run(&["mapping", action, "no/such/file.ndjson"], b"", 2),
            ],
        );
    }
    // diff: a change's regressions are its findings; the same rejection on both sides is not.
    let fewer = dir.join("diff-fewer.json").display().to_string();
    std::fs::write(
        &fewer,
        r#"{"apiKey": "segment-demo-integration-key", "applicationDomain": "https://demo.talon.one", "customAttributes": ["email"]}"#,
    )
    .unwrap();
    let accepted = dir.join("diff-accepted.json").display().to_string();
    std::fs::write(
        &accepted,
        r#"{"accepted": [{"kind": "attribute_removed", "attribute": "plan"}, {"kind": "state_attribute_lost", "attribute": "plan"}]}"#,
    )
    .unwrap();
    const PLAN: &[u8] =
        b"{\"type\":\"identify\",\"userId\":\"u1\",\"traits\":{\"email\":\"a@example.com\",\"plan\":\"gold\"}}\n";
    let same = |events: &str| -> Vec<String> {
        [
            "diff", "--before", &settings, "--after", &settings, "--events", events,
        ]
        .iter()
        .map(|a| (*a).to_owned())
        .collect()
    };
    cell("diff", COLUMNS[0], vec![run(&strs(&same("-")), GOOD, 0)]);
    cell(
        "diff",
        COLUMNS[1],
        vec![run(&strs(&same("-")), UNREADABLE, 1)],
    );
    cell("diff", COLUMNS[2], vec![run(&strs(&same(&warned)), b"", 0)]);
    cell(
        "diff",
        COLUMNS[3],
        vec![run(
            &[
                "diff",
                "--before",
                &bundle_settings,
                "--after",
                &bundle_settings,
                "--talon-state",
                &bundle_state,
                "--events",
                &bundle_events,
            ],
            b"",
            0,
        )],
    );
    let regressed = [
        "diff", "--before", &settings, "--after", &fewer, "--events", "-",
    ];
    let mut reviewed: Vec<&str> = regressed.to_vec();
    reviewed.extend(["--accept", &accepted]);
    cell(
        "diff",
        COLUMNS[5],
        vec![
            run(&regressed, PLAN, 1),
            Run {
                flag: Some("--accept"),
                ..run(&reviewed, PLAN, 0)
            },
        ],
    );
    cell(
        "diff",
        COLUMNS[6],
        vec![
            run(&strs(&same("-")), b"", 2),
            run(&["diff", "--before", &settings, "--events", "-"], GOOD, 2),
        ],
    );
    cells
}

/// The table under README's "Exit codes" heading: (command, column) → cell text.
fn readme_table() -> BTreeMap<(String, String), String> {
    let readme = std::fs::read_to_string(repo("README.md")).unwrap();
    let section = readme
        .split("\n### Exit codes\n")
        .nth(1)
        .expect("README has an `### Exit codes` section");
    let rows: Vec<Vec<String>> = section
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_owned())
                .collect()
        })
        .collect();
    let header = &rows[0];
    assert_eq!(header[1..], COLUMNS, "README's exit-code columns");
    let mut table = BTreeMap::new();
    for row in &rows[2..] {
        let command = row[0].trim_matches('`').to_owned();
        for (column, text) in COLUMNS.iter().zip(&row[1..]) {
            table.insert((command.clone(), (*column).to_owned()), text.clone());
        }
    }
    table
}

/// What README says for a cell proven by `runs`.
fn render(runs: &[Run]) -> String {
    let base = runs[0].code.to_string();
    let flagged: Vec<String> = runs
        .iter()
        .filter_map(|r| r.flag.map(|f| format!("{} with `{f}`", r.code)))
        .collect();
    if flagged.is_empty() {
        base
    } else {
        format!("{base} ({})", flagged.join(", "))
    }
}

#[test]
fn every_cell_of_the_readme_exit_code_table_has_a_run_and_every_run_a_cell() {
    let table = readme_table();
    let cases = cases();
    for ((command, column), text) in &table {
        let key = (command.as_str(), column.as_str());
        match cases.iter().find(|((c, k), _)| (*c, *k) == key) {
            Some((_, runs)) => assert_eq!(text, &render(runs), "README cell {command} / {column}"),
            None => assert_eq!(text, "—", "README cell {command} / {column} has no run"),
        }
    }
    for (command, column) in cases.keys() {
        assert!(
            table.contains_key(&((*command).to_owned(), (*column).to_owned())),
            "no README cell for {command} / {column}"
        );
    }
}

/// Stands for the URL of a fake Talon.One that the test starts.
const PULL_TARGET: &str = "PULL_TARGET";

#[test]
fn every_run_of_the_exit_code_table_ends_with_its_code() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fake = Fake::new(StateFile::default_state(), FakeConfig::default()).unwrap();
    let server = runtime.block_on(MockServer::start(fake)).unwrap();
    let out = scratch("exit-codes-pull").join("state.json");
    let out = out.to_str().unwrap();
    let uri = server.uri();
    for ((command, column), runs) in cases() {
        for run in runs {
            let args: Vec<&str> = run
                .args
                .iter()
                .map(|a| match a.as_str() {
                    PULL_TARGET => uri.as_str(),
                    "OUT" => out,
                    other => other,
                })
                .collect();
            let output = if run.interrupt {
                until_listening_then_interrupted(&args)
            } else {
                harness(&args, &run.stdin)
            };
            assert_eq!(
                output.status.code(),
                Some(run.code),
                "{command} / {column}: {args:?}\nstdout {}\nstderr {}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
    runtime.block_on(server.shutdown());
}

/// Runs a server until it prints where it listens, then sends it Ctrl-C
/// (through the shell's built-in `kill`) and waits for it to stop.
fn until_listening_then_interrupted(args: &[&str]) -> std::process::Output {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_talon-harness"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "{args:?} ended before it listened: {seen}"
        );
        seen.push_str(&line);
        if line.contains("listening on") {
            break;
        }
    }
    let status = std::process::Command::new("sh")
        .args(["-c", &format!("kill -INT {}", child.id())])
        .status()
        .unwrap();
    assert!(status.success());
    let mut output = child.wait_with_output().unwrap();
    let mut rest = String::new();
    let _ = std::io::Read::read_to_string(&mut stderr, &mut rest);
    seen.push_str(&rest);
    output.stderr = seen.into_bytes();
    output
}
