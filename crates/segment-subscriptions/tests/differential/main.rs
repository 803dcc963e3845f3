//! The differential test: seeded (trigger, event) pairs through Segment's own package
//! (`oracles/segment/fql.mjs`, `@segment/destination-subscriptions` pinned in its lock file)
//! and through this crate, which must agree on every pair: the same match, or the same error
//! (class and message). A construct this crate refuses must be listed, with what the package
//! does instead, in `differential/divergences.ndjson`, and each listed example is checked
//! against the package too, so the list stays true.
#![allow(
    clippy::disallowed_methods,
    reason = "a test writes its input file and reads the list"
)]
#![allow(
    clippy::print_stderr,
    reason = "the outcome counts, shown with --nocapture"
)]

mod generator;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use segment_subscriptions::{Condition, Operator, TriggerError, parse};
use serde_json::{Value, json};

/// Pairs per run: enough to reach every operator and error many times over, quick under Node.
const CASES: usize = 10_000;
const SEED: u64 = 15;

/// What the oracle must have installed: the package and its lexer, as the crate docs name them.
const PINNED: [(&str, &str); 2] = [
    ("@segment/destination-subscriptions", "3.37.0"),
    ("@segment/fql-ts", "1.10.1"),
];

fn oracle_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../oracles/segment")
}

/// The oracle's answers to `lines` (one JSON object per line, in order).
fn run_oracle(name: &str, lines: &[String]) -> Vec<Value> {
    let dir = oracle_dir();
    assert!(
        dir.join("node_modules/@segment/destination-subscriptions")
            .is_dir(),
        "Segment's subscription package is not installed in {}: run \
         `npm ci --prefix oracles/segment` (`.ci/test` does it) and run the test again",
        dir.display()
    );
    // The versions the crate reproduces (its docs name them): a different install is a
    // different oracle.
    for (package, version) in PINNED {
        let manifest = dir.join("node_modules").join(package).join("package.json");
        let text = std::fs::read_to_string(&manifest)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", manifest.display()));
        let installed: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
        assert_eq!(
            installed["version"].as_str(),
            Some(version),
            "{package} in {}: the crate reproduces {version}; run `npm ci --prefix oracles/segment`",
            dir.display()
        );
    }
    let file = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("segment-subscriptions-differential-{name}.ndjson"));
    std::fs::write(&file, lines.join("\n") + "\n")
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", file.display()));
    let script = dir.join("fql.mjs");
    let output = Command::new("node")
        .arg(&script)
        .arg(&file)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `node` ({e}): Node.js 20 or later must be on PATH to run Segment's code"
            )
        });
    assert!(
        output.status.success(),
        "`node {} {}` failed ({}): {}",
        script.display(),
        file.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let answers: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("oracle line {l:?}: {e}")))
        .collect();
    assert_eq!(answers.len(), lines.len(), "one answer per input line");
    answers
}

/// This crate's answer, in the oracle's words; `Err(kind)` for a construct it refuses.
fn ours(trigger: &str, event: &Value) -> Result<Value, String> {
    match parse(trigger) {
        Err(TriggerError::Unsupported(u)) => Err(u.kind().to_owned()),
        Err(e) => Ok(json!({
            "error": e.segment_message().unwrap_or_default(),
            "name": e.segment_error_name().unwrap_or_default(),
        })),
        Ok(condition) => match condition.matches(event) {
            Ok(b) => Ok(json!({ "match": b })),
            Err(e) => Err(match e {
                segment_subscriptions::EvalError::BuiltIn { .. } => "built-in-path".to_owned(),
                segment_subscriptions::EvalError::NotAnObject => "not-an-object".to_owned(),
            }),
        },
    }
}

fn input_line(trigger: &str, event: &Value) -> String {
    json!({ "trigger": trigger, "event": event }).to_string()
}

/// The documented divergences: `{"kind", "trigger", "event", "segment", "reason"}` per line.
fn divergences() -> Vec<Value> {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/differential/divergences.ndjson");
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("{}: {l:?}: {e}", file.display()))
        })
        .collect()
}

fn operators_in(condition: &Condition, seen: &mut BTreeMap<&'static str, usize>) {
    match condition {
        Condition::Group { children, .. } => children.iter().for_each(|c| operators_in(c, seen)),
        Condition::Field { operator, .. } => *seen.entry(operator.as_str()).or_default() += 1,
    }
}

#[test]
fn the_crate_agrees_with_segments_package_on_seeded_pairs() {
    let mut generator = generator::Gen::new(SEED);
    let pairs: Vec<(String, Value)> = (0..CASES).map(|_| generator.pair()).collect();
    let lines: Vec<String> = pairs.iter().map(|(t, e)| input_line(t, e)).collect();
    let answers = run_oracle("seeded", &lines);
    let listed: Vec<String> = divergences()
        .iter()
        .filter_map(|d| d["kind"].as_str().map(str::to_owned))
        .collect();

    let mut mismatches = Vec::new();
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    let mut operators = BTreeMap::new();
    for ((trigger, event), segment) in pairs.iter().zip(&answers) {
        if let Ok(condition) = parse(trigger) {
            operators_in(&condition, &mut operators);
        }
        let outcome = match ours(trigger, event) {
            Ok(ours) if &ours == segment => match segment.get("match") {
                Some(m) => format!("match {m}"),
                None => format!("error {}", segment["error"]),
            },
            Ok(ours) => {
                mismatches.push(format!(
                    "trigger: {trigger:?}\n  event: {event}\n  segment: {segment}\n  ours: {ours}"
                ));
                continue;
            }
            Err(kind) if listed.contains(&kind) => format!("divergence {kind}"),
            Err(kind) => {
                mismatches.push(format!(
                    "trigger: {trigger:?}\n  event: {event}\n  segment: {segment}\n  ours: \
                     unsupported ({kind}), which divergences.ndjson does not list"
                ));
                continue;
            }
        };
        *outcomes.entry(outcome).or_default() += 1;
    }
    eprintln!("outcomes of {CASES} pairs: {outcomes:#?}\noperators: {operators:?}");
    assert!(
        mismatches.is_empty(),
        "{} of {CASES} pairs differ from Segment's package; the first ones:\n{}",
        mismatches.len(),
        mismatches
            .iter()
            .take(15)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );

    // The generator reaches what it claims to: every operator, both answers, every error.
    for op in Operator::ALL {
        assert!(
            operators.get(op.as_str()).copied().unwrap_or(0) >= 3,
            "operator {op:?} seen {operators:?}"
        );
    }
    let count = |prefix: &str| {
        outcomes
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(_, n)| n)
            .sum::<usize>()
    };
    assert!(count("match true") >= CASES / 20, "{outcomes:#?}");
    assert!(count("match false") >= CASES / 20, "{outcomes:#?}");
    for error in [
        "error \"Cannot read properties of undefined (reading 'type')\"",
        "error \"Value token is missing\"",
        "error \"contains() is missing",
        "error \"match() is missing",
    ] {
        assert!(count(error) >= 1, "no case ended in {error}: {outcomes:#?}");
    }
}

#[test]
fn every_listed_divergence_is_what_segments_package_and_the_crate_do() {
    let list = divergences();
    assert!(!list.is_empty());
    let lines: Vec<String> = list
        .iter()
        .map(|d| input_line(d["trigger"].as_str().unwrap_or_default(), &d["event"]))
        .collect();
    let answers = run_oracle("divergences", &lines);
    for (d, segment) in list.iter().zip(&answers) {
        let trigger = d["trigger"].as_str().unwrap_or_default();
        assert_eq!(segment, &d["segment"], "Segment's package on {trigger:?}");
        assert_eq!(
            ours(trigger, &d["event"]),
            Err(d["kind"].as_str().unwrap_or_default().to_owned()),
            "this crate on {trigger:?}"
        );
        assert!(
            d["reason"].as_str().is_some_and(|r| !r.is_empty()),
            "a reason for {trigger:?}"
        );
    }
}

/// Edges a generator reaches rarely: the lexer's length limits on both sides of the bound,
/// and the quirks the hand-written tests assert, checked against the package as well.
fn edge_pairs() -> Vec<(String, Value)> {
    let mut pairs = Vec::new();
    for n in [99_999, 100_000] {
        let x = "x".repeat(n);
        pairs.push((format!("event = \"{x}\""), json!({ "event": x })));
        pairs.push((
            format!("properties.{x} exists 1"),
            json!({"properties": {}}),
        ));
        pairs.push((
            format!("properties.n = 1{}", "0".repeat(n - 1)),
            json!({"properties": {}}),
        ));
        pairs.push((
            format!("properties.{} exists 1", "a".repeat(n - 11)),
            json!({"properties": {}}),
        ));
    }
    let cases: &[(&str, Value)] = &[
        (
            r#"type = "track" and (contains(event, "Order") or event = "X")"#,
            json!({"type": "page", "event": "X"}),
        ),
        (r#"!(type = "track")"#, json!({"type": "track"})),
        (
            r#"anonymousId = "a1" and type = "track""#,
            json!({"type": "track"}),
        ),
        (r#"match(name, "abc")"#, json!({"name": "xbc"})),
        (r#"match(name, "😀x")"#, json!({"name": "a😀x"})),
        ("event = 'A'", json!({"event": "'A'"})),
        ("properties.a.b < 1", json!({"properties": {"a": 0}})),
        (
            "properties.s.length = 3",
            json!({"properties": {"s": "a😀"}}),
        ),
        (
            r#"properties.s.\1 = "b""#,
            json!({"properties": {"s": "abc"}}),
        ),
        (
            r"properties.items.\0.sku exists 1",
            json!({"properties": {"items": [{"sku": 0}]}}),
        ),
        (
            "properties.items.map exists 1",
            json!({"properties": {"items": []}}),
        ),
        (
            "properties.items.map.foo = null",
            json!({"properties": {"items": []}}),
        ),
        ("properties.toString != null", json!({"properties": {}})),
        (r#"properties.n < "0x10""#, json!({"properties": {"n": 15}})),
        (r#"properties.n > " 14 ""#, json!({"properties": {"n": 15}})),
        ("properties.n > true", json!({"properties": {"n": 15}})),
        (
            "properties.n = 12345678901234567890",
            json!({"properties": {"n": 12_345_678_901_234_567_890_u64}}),
        ),
        (
            "properties.n < 1.7976931348623157e308",
            json!({"properties": {"n": 1.0}}),
        ),
        (r#"userId ="x""#, json!({"userId": "x"})),
        (r#"userId !="x""#, json!({"userId": "x"})),
        ("type = \"track\"\r\n", json!({"type": "track"})),
        ("an", json!({})),
        ("type = null", json!({"type": "null"})),
        ("userId = 5", json!({"userId": "5"})),
        ("userId = -0", json!({"userId": "0"})),
        ("event = 99999999999999999999999", json!({"event": "1e+23"})),
        (
            "toString = 1 and type = \"track\"",
            json!({"type": "track"}),
        ),
        ("contains(type, \"tr\")", json!({"type": "track"})),
        (
            "contains(propertiesX.a, \"1\")",
            json!({"properties": {"X.a": "1"}}),
        ),
        ("contains", json!({})),
        ("match(event", json!({})),
        ("()", json!({})),
        ("((type = \"track\"))", json!({"type": "track"})),
        ("type = \"a\"\"b\"", json!({"type": "a"})),
    ];
    pairs.extend(cases.iter().map(|(t, e)| ((*t).to_owned(), e.clone())));
    pairs
}

#[test]
fn hand_picked_edges_agree_with_segments_package() {
    let pairs = edge_pairs();
    let lines: Vec<String> = pairs.iter().map(|(t, e)| input_line(t, e)).collect();
    let answers = run_oracle("edges", &lines);
    for ((trigger, event), segment) in pairs.iter().zip(&answers) {
        let shown: String = trigger.chars().take(80).collect();
        assert_eq!(
            ours(trigger, event).as_ref(),
            Ok(segment),
            "{shown:?} on {event}"
        );
    }
}
