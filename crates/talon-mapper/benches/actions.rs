//! The Actions benchmark: the same 100,000 realistic NDJSON events through the Talon.One
//! (Actions) destination in this crate and in Segment's own code
//! (`oracles/segment/actions-bench.mjs` under Node), in one run.
//!
//! For every event: parse the line, evaluate every subscription's trigger, resolve its mapping,
//! validate, build the request (method, URL, headers, body), and write the answer as one JSON
//! line (`{"requests", "errors"}`, the shape `actions.mjs` prints), as both sides do. The
//! subscriptions are `fixtures/actions/subscriptions.json` (a typical customer's setup); the
//! events `segment-gen`'s realistic traffic (seed 7, as the pipeline benchmark). Node's HTTP is
//! intercepted at `fetch`, so no side sends anything.
//!
//! `cargo bench -p talon-mapper --bench actions` prints each side's events/s (median of `ROUNDS`
//! rounds, default 5; Rust's rounds half before and half after Node's) and the ratio; the target
//! is Rust at least 3× Segment's code (issue 15). Both sides' answers are compared after timing
//! (headers by name), so the figure is for the same work. `cargo test --benches` runs a token
//! 2,000 events. Needs `npm ci --prefix oracles/segment`.

// A benchmark is allowed a clock, the environment, files, a child process and stdout; the
// crate's library code is not.
#![allow(clippy::disallowed_methods, clippy::print_stdout)]

/// The allocator the `talon-harness` binary uses, so the figure is the shipped one.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use segment_gen::{Generator, Scenario};
use serde_json::{Value, json};
use talon_mapper::actions::ActionsConfig;
use talon_mapper::{Destination, Kind, Mapped, map};

const SETTINGS: &str =
    r#"{"apiKey": "0123456789abcdef", "deployment": "https://yours.europe-west1.talon.one"}"#;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// One event's answer as one JSON line, in `actions.mjs`'s shape.
fn answer_line(mapped: &Mapped) -> String {
    let requests: Vec<Value> = mapped
        .requests
        .iter()
        .map(|r| {
            let headers: Vec<Value> = r.headers.iter().map(|(k, v)| json!([k, &**v])).collect();
            json!({
                "subscription": r.subscription,
                "method": r.method,
                "url": r.url,
                "headers": headers,
                "body": if r.body.is_empty() { Value::Null } else { json!(r.body) },
            })
        })
        .collect();
    let errors: Vec<Value> = mapped
        .diagnostics
        .iter()
        .filter_map(|d| match &d.kind {
            Kind::Action {
                subscription,
                code: "rejected",
                message,
            } => Some(json!({ "subscription": subscription, "message": message })),
            _ => None,
        })
        .collect();
    json!({ "requests": requests, "errors": errors }).to_string()
}

/// An answer with each request's headers sorted by name (their order carries no meaning).
fn canonical(line: &str) -> Value {
    let mut answer: Value = serde_json::from_str(line).unwrap_or(Value::Null);
    if let Some(requests) = answer["requests"].as_array_mut() {
        for request in requests {
            if let Some(headers) = request["headers"].as_array_mut() {
                headers.sort_by_key(|h| h[0].as_str().unwrap_or_default().to_ascii_lowercase());
            }
        }
    }
    answer
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let events: u64 = if quick { 2_000 } else { 100_000 };
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(if quick { 1 } else { 5 });

    // The events, written once; both sides read the same files.
    let scenario = Scenario {
        users: 20_000,
        days: 60,
        max_events: Some(events),
        ..Scenario::default()
    };
    let mut ndjson = Vec::new();
    Generator::new(scenario, 7)
        .expect("valid scenario")
        .write_ndjson(&mut ndjson)
        .expect("write to memory");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let events_file = dir.join("talon-mapper-actions-bench-events.ndjson");
    std::fs::write(&events_file, &ndjson).expect("write the events");
    let settings_file = dir.join("talon-mapper-actions-bench-settings.json");
    std::fs::write(&settings_file, SETTINGS).expect("write the settings");
    let subscriptions_file = workspace().join("fixtures/actions/subscriptions.json");
    let subscriptions =
        std::fs::read_to_string(&subscriptions_file).expect("fixtures/actions/subscriptions.json");
    let text = String::from_utf8(ndjson).expect("NDJSON is UTF-8");
    let lines: Vec<&str> = text.lines().collect();

    let destination = Destination::Actions(
        ActionsConfig::from_json(SETTINGS, &subscriptions).expect("the default subscriptions load"),
    );

    // Rust, half of its rounds before Segment's code runs and half after, so a change in the
    // machine's load during the run weighs on both sides.
    let mut per_second = Vec::new();
    let mut outputs: Vec<String> = Vec::new();
    let rust_rounds = |count: usize, per_second: &mut Vec<f64>, outputs: &mut Vec<String>| {
        for _ in 0..count {
            *outputs = Vec::with_capacity(lines.len());
            let start = Instant::now();
            for line in &lines {
                let mapped = map(&destination, black_box(line.as_bytes()));
                outputs.push(black_box(answer_line(&mapped)));
            }
            per_second.push(lines.len() as f64 / start.elapsed().as_secs_f64());
        }
    };
    rust_rounds(rounds.div_ceil(2), &mut per_second, &mut outputs);

    // Segment's code, same files, same run.
    let node_outputs = dir.join("talon-mapper-actions-bench-node-outputs.ndjson");
    let output = Command::new("node")
        .arg(workspace().join("oracles/segment/actions-bench.mjs"))
        .arg(&events_file)
        .arg(&settings_file)
        .arg(&subscriptions_file)
        .arg(rounds.to_string())
        .arg(&node_outputs)
        .output()
        .expect("node runs (Node.js 20 on PATH; npm ci --prefix oracles/segment)");
    assert!(
        output.status.success(),
        "actions-bench.mjs failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value =
        serde_json::from_slice(&output.stdout).expect("actions-bench.mjs prints one JSON line");
    let node = report["median"].as_f64().expect("median");

    rust_rounds(rounds / 2, &mut per_second, &mut outputs);
    let rust_all: Vec<u64> = per_second.iter().map(|r| r.round() as u64).collect();
    let rust = median(&mut per_second);
    let count = |key: &str| -> usize {
        outputs
            .iter()
            .map(|o| canonical(o)[key].as_array().map_or(0, Vec::len))
            .sum()
    };
    let (rust_requests, rust_errors) = (count("requests"), count("errors"));

    // The same work: line for line the same answers.
    let node_text =
        std::fs::read_to_string(&node_outputs).expect("actions-bench.mjs wrote its outputs");
    let differing: Vec<usize> = node_text
        .lines()
        .zip(&outputs)
        .enumerate()
        .filter(|(_, (n, r))| canonical(n) != canonical(r))
        .map(|(i, _)| i)
        .collect();

    println!(
        "actions: {} realistic events through {} (trigger, mapping, validation, request), {rounds} rounds",
        lines.len(),
        subscriptions_file.display()
    );
    println!(
        "  rust    {rust:>10.0} events/s  ({rust_requests} requests, {rust_errors} errors, rounds {rust_all:?})"
    );
    println!(
        "  segment {node:>10.0} events/s  ({} requests, {} errors, node rounds {})",
        report["requests"], report["errors"], report["rounds"]
    );
    println!("  ratio   {:>10.2}  (target ≥ 3)", rust / node);
    match differing.first() {
        None => println!("  answers: identical on every line (headers by name)"),
        Some(&first) => println!(
            "  answers: {} of {} lines differ; the first, line {}:\n    event   {}\n    segment {}\n    rust    {}",
            differing.len(),
            lines.len(),
            first + 1,
            lines[first],
            node_text.lines().nth(first).unwrap_or(""),
            outputs[first]
        ),
    }
}
