//! The pipeline benchmark: the same 100,000 NDJSON events through this crate and through
//! Segment's own code (`oracles/segment/bench.mjs` under Node), in one run.
//!
//! For every event: parse the line, evaluate the Talon.One (Actions) subscription for its type
//! (`updateCustomerProfileV3`'s mapping for an identify, `trackEventV2`'s for a track, from
//! `fixtures/segment-mapping/talon-actions.json`), clean and validate the payload against the
//! action's fields, serialise the result (or the error's message). The events are `segment-gen`'s
//! realistic traffic (seed 7): identifies with traits, Engage audience and computed-trait tracks.
//!
//! `cargo bench -p segment-mapping --bench pipeline` prints each side's events/s (median of
//! `ROUNDS` rounds, default 5; Rust's rounds half before and half after Node's) and the ratio, and
//! where Rust's time goes by step; the target is Rust at least 3× Segment's code
//! (issue 14). Both sides' output lines are compared after timing, so the figure is for the same
//! work. `cargo test --benches` runs a token 2,000 events. Needs `npm ci --prefix oracles/segment`.

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
use segment_mapping::{Fields, Value, transform};

const ACTIONS: &str = include_str!("../../../fixtures/segment-mapping/talon-actions.json");

struct Subscription {
    mapping: Value,
    fields: Fields,
}

fn subscription(actions: &Value, name: &str) -> Subscription {
    let action = actions
        .as_object()
        .and_then(|a| a.get(name))
        .and_then(Value::as_object)
        .expect("action in talon-actions.json");
    let mapping = action.get("mapping").expect("mapping").clone();
    let fields = Fields::parse(action.get("fields").expect("fields")).expect("the fields parse");
    Subscription { mapping, fields }
}

/// One event line through the pipeline, as one output line.
fn pipeline(line: &str, identify: &Subscription, track: &Subscription) -> String {
    let event = match Value::parse(line) {
        Ok(event) => event,
        Err(e) => return error_line(&e.to_string()),
    };
    let is_track = event
        .as_object()
        .and_then(|o| o.get("type"))
        .and_then(Value::as_str)
        == Some("track");
    let sub = if is_track { track } else { identify };
    let payload = match transform(&sub.mapping, &event) {
        Ok(payload) => payload,
        Err(e) => return error_line(&e.to_string()),
    };
    match sub.fields.clean(payload, true) {
        // `JSON.stringify(undefined)` is undefined; Node's side writes it as the text "undefined".
        Ok(clean) => clean.to_json().unwrap_or_else(|| "undefined".to_owned()),
        Err(e) => error_line(&e.to_string()),
    }
}

/// Where Rust's time goes: the share of each step (parse, transform, clean, serialise) over one
/// more pass, timed step by step (outside the figures above; the clock reads add a little).
fn phase_shares(lines: &[&str], identify: &Subscription, track: &Subscription) -> [f64; 4] {
    let mut spent = [0f64; 4];
    for line in lines {
        let t0 = Instant::now();
        let Ok(event) = Value::parse(line) else {
            continue;
        };
        let t1 = Instant::now();
        let is_track = event
            .as_object()
            .and_then(|o| o.get("type"))
            .and_then(Value::as_str)
            == Some("track");
        let sub = if is_track { track } else { identify };
        let payload = transform(&sub.mapping, &event);
        let t2 = Instant::now();
        let clean = payload.ok().map(|p| sub.fields.clean(p, true));
        let t3 = Instant::now();
        black_box(clean.and_then(Result::ok).and_then(|c| c.to_json()));
        let t4 = Instant::now();
        for (i, (a, b)) in [(t0, t1), (t1, t2), (t2, t3), (t3, t4)]
            .into_iter()
            .enumerate()
        {
            spent[i] += (b - a).as_secs_f64();
        }
    }
    let total: f64 = spent.iter().sum();
    spent.map(|s| 100.0 * s / total)
}

fn error_line(message: &str) -> String {
    let mut object = segment_mapping::Object::new();
    object.insert("error".to_owned(), Value::String(message.to_owned()));
    Value::Object(object)
        .to_json()
        .expect("an object serialises")
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn oracle_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../oracles/segment")
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let events: u64 = if quick { 2_000 } else { 100_000 };
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(if quick { 1 } else { 5 });

    // The events, written once; both sides read the same file.
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
    let events_file = dir.join("segment-mapping-pipeline-events.ndjson");
    std::fs::write(&events_file, &ndjson).expect("write the events");
    let actions_file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/segment-mapping/talon-actions.json");
    let text = String::from_utf8(ndjson).expect("NDJSON is UTF-8");
    let lines: Vec<&str> = text.lines().collect();

    let actions = Value::parse(ACTIONS).expect("talon-actions.json parses");
    let identify = subscription(&actions, "updateCustomerProfileV3");
    let track = subscription(&actions, "trackEventV2");

    // Rust, half of its rounds before Segment's code runs and half after, so a change in the
    // machine's load during the run weighs on both sides.
    let mut per_second = Vec::new();
    let mut outputs: Vec<String> = Vec::new();
    let rust_rounds = |count: usize, per_second: &mut Vec<f64>, outputs: &mut Vec<String>| {
        for _ in 0..count {
            *outputs = Vec::with_capacity(lines.len());
            let start = Instant::now();
            for line in &lines {
                outputs.push(black_box(pipeline(black_box(line), &identify, &track)));
            }
            per_second.push(lines.len() as f64 / start.elapsed().as_secs_f64());
        }
    };
    rust_rounds(rounds.div_ceil(2), &mut per_second, &mut outputs);

    // Segment's code, same file, same run.
    let node_outputs = dir.join("segment-mapping-pipeline-node-outputs.ndjson");
    let output = Command::new("node")
        .arg(oracle_dir().join("bench.mjs"))
        .arg(&events_file)
        .arg(&actions_file)
        .arg(rounds.to_string())
        .arg(&node_outputs)
        .output()
        .expect("node runs (Node.js 20 on PATH; npm ci --prefix oracles/segment)");
    assert!(
        output.status.success(),
        "bench.mjs failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("bench.mjs prints one JSON line");
    let node = report["median"].as_f64().expect("median");

    rust_rounds(rounds / 2, &mut per_second, &mut outputs);
    let rust_all: Vec<u64> = per_second.iter().map(|r| r.round() as u64).collect();
    let rust = median(&mut per_second);
    let rust_errors = outputs
        .iter()
        .filter(|o| o.starts_with("{\"error\":"))
        .count();
    let phases = phase_shares(&lines, &identify, &track);

    // The same work: line for line the same outputs.
    let node_text = std::fs::read_to_string(&node_outputs).expect("bench.mjs wrote its outputs");
    let differing: Vec<usize> = node_text
        .lines()
        .zip(&outputs)
        .enumerate()
        .filter(|(_, (n, r))| n != r)
        .map(|(i, _)| i)
        .collect();
    println!(
        "pipeline: {} events ({} identify/track subscriptions of Talon.One (Actions)), {rounds} rounds",
        lines.len(),
        2
    );
    println!("  rust    {rust:>10.0} events/s  ({rust_errors} errors, rounds {rust_all:?})");
    println!(
        "  segment {node:>10.0} events/s  ({} errors, node rounds {})",
        report["errors"], report["rounds"]
    );
    println!("  ratio   {:>10.2}  (target ≥ 3)", rust / node);
    println!(
        "  rust's time by step: parse {:.0}%, transform {:.0}%, clean {:.0}%, serialise {:.0}%",
        phases[0], phases[1], phases[2], phases[3]
    );
    if differing.is_empty() {
        println!("  outputs: identical on every line");
    } else {
        let first = differing[0];
        println!(
            "  outputs: {} of {} lines differ; first, line {}:\n    event:   {}\n    segment: {}\n    rust:    {}",
            differing.len(),
            lines.len(),
            first + 1,
            lines[first],
            node_text.lines().nth(first).unwrap_or(""),
            outputs[first]
        );
    }
    assert!(
        differing.is_empty(),
        "the two sides did different work: the figures compare nothing"
    );
}
