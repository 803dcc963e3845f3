//! The Actions differential test: seeded `{"settings", "subscriptions", "event"}` lines through
//! Segment's own Talon.One (Actions) destination (`oracles/segment/actions.mjs`, the pinned
//! `@segment/action-destinations` on `@segment/actions-core`) and through this crate.
//!
//! Run it with `npm ci --prefix oracles/segment && cargo test -p talon-mapper --test
//! actions_differential`. `DIFF_CASES=N` and `DIFF_SEED=S` widen a local run (defaults fixed for
//! CI). When Segment's code is not installed the test fails, naming the command; it never skips.
//!
//! Every line must give the same requests (per subscription: method, URL, headers by name, body
//! bytes) and the same failure messages on both sides (`compare.rs`; `ours.rs` is this crate's
//! side). `regressions.ndjson` holds inputs worth keeping (Segment's observed edge behaviour,
//! and every divergence once fixed), each with `why` and Segment's exact answer, which both the
//! oracle and this crate must still give. `divergences.ndjson` holds the differences this crate
//! keeps for now, by kind, with an example each: accepted only while the crate still differs on
//! its example (`divergence_kind` recognises the kind in seeded lines).

// Tests read the environment (DIFF_CASES, DIFF_SEED) and write their input files.
#![allow(clippy::disallowed_methods)]
#![allow(
    clippy::print_stderr,
    reason = "the outcome counts, shown with --nocapture"
)]

mod compare;
mod generator;
mod node;
mod ours;

use std::collections::BTreeMap;

use serde_json::Value;

/// Lines in a default run: every (action, event type) pair tens of times, a few seconds of Node.
const DEFAULT_CASES: usize = 3000;
const DEFAULT_SEED: u64 = 15;

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, got {text:?}")),
        Err(_) => default,
    }
}

fn default_cases() -> Vec<generator::Case> {
    let count = env_number("DIFF_CASES", DEFAULT_CASES as u64) as usize;
    let seed = env_number("DIFF_SEED", DEFAULT_SEED);
    generator::cases(seed, count)
}

/// `regressions.ndjson`: one `{"why", "line", "segment"}` per line, `line` the exact input
/// line (a string, so its bytes are kept) and `segment` the oracle's answer to it.
fn regressions() -> Vec<(String, String, Value)> {
    entries(include_str!("regressions.ndjson"), "why")
}

/// `divergences.ndjson`: the differences found between Segment's code and this crate, one
/// `{"kind", "why", "line", "segment"}` per line (an example line and Segment's answer to it),
/// as `(kind, line, segment)`.
fn divergences() -> Vec<(String, String, Value)> {
    entries(include_str!("divergences.ndjson"), "kind")
}

/// `(entry[label], entry["line"], entry["segment"])` of each line of `text`.
fn entries(text: &str, label: &str) -> Vec<(String, String, Value)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, entry)| {
            let entry: Value = serde_json::from_str(entry)
                .unwrap_or_else(|e| panic!("line {}: not JSON: {e}", i + 1));
            let text = |name: &str| {
                entry[name]
                    .as_str()
                    .unwrap_or_else(|| panic!("line {}: no string {name:?}", i + 1))
                    .to_owned()
            };
            (text(label), text("line"), entry["segment"].clone())
        })
        .collect()
}

#[test]
fn the_same_seed_gives_the_same_lines_and_another_seed_others() {
    let lines = |seed| {
        generator::cases(seed, 300)
            .into_iter()
            .map(|c| c.line)
            .collect::<Vec<_>>()
    };
    assert_eq!(lines(3), lines(3));
    let (a, b) = (lines(3), lines(4));
    let same = a.iter().zip(&b).filter(|(x, y)| x == y).count();
    assert!(same < 10, "seeds 3 and 4 share {same} of 300 lines");
}

#[test]
fn the_generator_reaches_every_action_event_type_mapping_kind_and_odd_input() {
    let cases = generator::cases(DEFAULT_SEED, DEFAULT_CASES);
    let mut pairs: BTreeMap<(&str, &str, bool), usize> = BTreeMap::new();
    for case in &cases {
        *pairs
            .entry((case.action, case.event_type, case.default_mapping))
            .or_default() += 1;
    }
    for action in generator::ACTIONS {
        for event_type in generator::EVENT_TYPES {
            for default_mapping in [true, false] {
                assert!(
                    pairs.contains_key(&(action, event_type, default_mapping)),
                    "no {action} × {event_type} × default={default_mapping} in {DEFAULT_CASES} lines"
                );
            }
        }
    }
    let events: Vec<Value> = cases
        .iter()
        .map(|c| serde_json::from_str::<Value>(&c.line).expect("JSON")["event"].clone())
        .collect();
    for odd in generator::ODD_IDS {
        let id: Value = serde_json::from_str(odd).expect("JSON");
        assert!(
            events.iter().any(|e| e["userId"] == id),
            "no event with userId {odd}"
        );
    }
    let text = cases.iter().map(|c| c.line.as_str()).collect::<String>();
    for needle in [
        "\"userId\":null",
        "\"traits\":null",
        "\"nickname\":null",
        "\"address\":{",
        "\"products\":[null",
        "\"enabled\":false",
        "\"@arrayPath\"",
    ] {
        assert!(text.contains(needle), "no line contains {needle}");
    }
    // Realistic and edge profiles both: the edge profile's unicode and nested keys show up.
    assert!(events.iter().any(|e| e["traits"]["email"].is_string()));
}

#[test]
fn the_default_mappings_are_the_ones_segments_package_declares() {
    let answers =
        node::run(&[std::path::Path::new("defaults")]).unwrap_or_else(|why| panic!("{why}"));
    assert_eq!(answers.len(), 1, "one line of defaults");
    assert_eq!(
        answers[0],
        generator::defaults(),
        "defaults.json differs from the fields' defaults in Segment's package"
    );
}

#[test]
fn the_oracle_fails_naming_the_install_command_when_segments_code_is_missing() {
    let empty = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-oracle-here");
    let why = node::not_installed_in(&empty).expect("an empty folder has no oracle");
    assert!(why.contains("npm ci --prefix oracles/segment"), "{why}");
    assert!(why.contains(".ci/test"), "{why}");
    assert_eq!(node::not_installed_in(&node::oracle_dir()), None);
}

/// Counts of what Segment's code made of the lines: requests and errors per action.
fn outcomes(answers: &[Value]) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    for answer in answers {
        for (kind, list) in [
            ("request", &answer["requests"]),
            ("error", &answer["errors"]),
        ] {
            for item in list.as_array().into_iter().flatten() {
                let name = item["subscription"].as_str().unwrap_or("?");
                let action = name.split(' ').next().unwrap_or(name);
                *seen.entry(format!("{kind} {action}")).or_default() += 1;
            }
        }
    }
    seen
}

#[test]
fn segments_code_answers_every_line_with_requests_and_errors_for_every_action() {
    let cases = default_cases();
    let lines: Vec<String> = cases.iter().map(|c| c.line.clone()).collect();
    let answers = node::answers("seeded", &lines);
    for (case, answer) in cases.iter().zip(&answers) {
        for error in answer["errors"].as_array().into_iter().flatten() {
            let message = error["message"].as_str().unwrap_or_default();
            assert!(
                !message.starts_with("input:"),
                "the oracle could not read a generated line: {message}\n{}",
                case.line
            );
        }
    }
    let seen = outcomes(&answers);
    eprintln!("outcomes of {} lines: {seen:#?}", cases.len());
    for action in generator::ACTIONS {
        for kind in ["request", "error"] {
            assert!(
                seen.get(&format!("{kind} {action}")).copied().unwrap_or(0) >= 3,
                "Segment's code gave fewer than 3 of kind {kind} for {action}: {seen:#?}"
            );
        }
    }
}

#[test]
fn segments_code_still_gives_the_recorded_answer_to_every_regression_and_divergence() {
    let mut entries = regressions();
    entries.extend(divergences());
    assert!(!entries.is_empty());
    let lines: Vec<String> = entries.iter().map(|(_, line, _)| line.clone()).collect();
    let answers = node::answers("regressions", &lines);
    let mut differ = Vec::new();
    for ((why, line, recorded), answer) in entries.iter().zip(&answers) {
        if recorded != answer {
            differ.push(format!(
                "{why}\n  line: {line}\n  recorded: {recorded}\n  segment now: {answer}"
            ));
        }
    }
    assert!(
        differ.is_empty(),
        "Segment's code no longer answers as regressions.ndjson or divergences.ndjson records:\n{}",
        differ.join("\n")
    );
    // The recorded answers say what the reference (§9) observed, e.g. the cut path of "a#b".
    let urls: Vec<&str> = entries
        .iter()
        .flat_map(|(_, _, s)| s["requests"].as_array().into_iter().flatten())
        .filter_map(|r| r["url"].as_str())
        .collect();
    assert!(urls.contains(&"https://integration.talon.one/segment/v2/customer_profiles/a"));
}

#[test]
fn the_comparison_finds_every_kind_of_difference_and_ignores_header_order() {
    let answer: Value = serde_json::from_str(
        r#"{"requests":[{"subscription":"p","method":"PUT","url":"https://integration.talon.one/segment/v2/customer_profiles/a","headers":[["authorization","ApiKey-v1 k"],["destination-hostname","d"],["user-agent","Segment (Actions)"],["content-type","application/json"]],"body":"{\"a\":1}"}],"errors":[{"subscription":"q","message":"The root value is missing the required field 'eventType'."}]}"#,
    )
    .expect("JSON");
    assert_eq!(compare::differences(&answer, &answer), Vec::<String>::new());

    let mut reordered = answer.clone();
    reordered["requests"][0]["headers"]
        .as_array_mut()
        .expect("headers")
        .reverse();
    assert_eq!(
        compare::differences(&answer, &reordered),
        Vec::<String>::new()
    );

    let changed = |edit: &dyn Fn(&mut Value)| {
        let mut ours = answer.clone();
        edit(&mut ours);
        compare::differences(&answer, &ours)
    };
    type Edit<'a> = (&'a str, &'a dyn Fn(&mut Value));
    let cases: [Edit; 7] = [
        ("method", &|v| v["requests"][0]["method"] = "POST".into()),
        ("url", &|v| {
            v["requests"][0]["url"] =
                "https://integration.talon.one/segment/v2/customer_profiles/a%23b".into();
        }),
        ("body", &|v| v["requests"][0]["body"] = "{\"a\": 1}".into()),
        ("headers", &|v| {
            v["requests"][0]["headers"][1][1] = "d/".into()
        }),
        ("headers", &|v| {
            v["requests"][0]["headers"]
                .as_array_mut()
                .expect("headers")
                .pop();
        }),
        ("request(s)", &|v| v["requests"] = Value::Array(Vec::new())),
        ("errors", &|v| {
            v["errors"][0]["message"] = "eventType is required".into()
        }),
    ];
    for (field, edit) in cases {
        let found = changed(edit);
        assert_eq!(found.len(), 1, "{field}: {found:?}");
        assert!(found[0].contains(field), "{field}: {found:?}");
    }
}

/// The kind of divergence, listed in `divergences.ndjson`, that explains a difference on
/// `line`; `None` when none does (a mismatch). The kinds it knows are the settings' two,
/// both fixed in the mapper since (their lines are regressions now), so none is listed.
fn divergence_kind(line: &str) -> Option<&'static str> {
    let input: Value = serde_json::from_str(line).ok()?;
    let settings = &input["settings"];
    let kind = if settings["deployment"] == "" {
        "empty_deployment"
    } else if settings["apiKey"]
        .as_str()
        .is_some_and(|k| k.chars().any(|c| u32::from(c) > 0xFF))
    {
        "api_key_not_a_header_value"
    } else {
        return None;
    };
    let listed = divergences().iter().any(|(k, _, _)| k == kind);
    listed.then_some(kind)
}

#[test]
fn the_crate_sends_what_segments_code_sends_on_seeded_lines() {
    let cases = default_cases();
    let lines: Vec<String> = cases.iter().map(|c| c.line.clone()).collect();
    let answers = node::answers("compared", &lines);
    let mut mismatches = Vec::new();
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    for (case, segment) in cases.iter().zip(&answers) {
        let ours = ours::answer(&case.line);
        let differences = compare::differences(segment, &ours);
        let outcome = if differences.is_empty() {
            "equal".to_owned()
        } else if let Some(kind) = divergence_kind(&case.line) {
            format!("divergence {kind}")
        } else {
            mismatches.push(format!(
                "{}\n  line: {}\n  segment: {segment}\n  ours:    {ours}",
                differences.join("\n  "),
                case.line
            ));
            continue;
        };
        *outcomes.entry(outcome).or_default() += 1;
    }
    eprintln!("outcomes of {} lines: {outcomes:#?}", cases.len());
    assert!(
        mismatches.is_empty(),
        "{} of {} lines differ from Segment's code (DIFF_SEED and DIFF_CASES reproduce the run); \
         the first ones:\n{}",
        mismatches.len(),
        cases.len(),
        mismatches
            .iter()
            .take(8)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
    let equal = outcomes.get("equal").copied().unwrap_or(0);
    assert!(
        equal * 10 >= cases.len() * 8,
        "only {equal} of {} lines compared equal: {outcomes:?}",
        cases.len()
    );
}

#[test]
fn the_crate_gives_segments_recorded_answer_to_every_regression() {
    let mut differ = Vec::new();
    for (why, line, segment) in regressions() {
        let ours = ours::answer(&line);
        let differences = compare::differences(&segment, &ours);
        if !differences.is_empty() {
            differ.push(format!(
                "{why}\n  {}\n  line: {line}\n  segment: {segment}\n  ours:    {ours}",
                differences.join("\n  ")
            ));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n\n"));
}

#[test]
fn every_listed_divergence_still_diverges_as_described() {
    for (kind, line, segment) in divergences() {
        let ours = ours::answer(&line);
        let differences = compare::differences(&segment, &ours);
        assert!(
            !differences.is_empty(),
            "divergence {kind} is gone (the crate now answers as Segment does): move its line \
             to regressions.ndjson and drop it from divergences.ndjson and divergence_kind"
        );
        assert_eq!(
            divergence_kind(&line),
            Some(kind.as_str()),
            "divergence {kind}'s example is classified otherwise: {differences:?}"
        );
    }
}
