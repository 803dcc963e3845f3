//! The differential test: seeded, structure-aware (mapping, payload[, fields]) lines through
//! Segment's own code (`oracles/segment/eval.mjs`, the pinned `@segment/actions-core`) and through
//! this crate, compared byte for byte.
//!
//! Run it with `npm ci --prefix oracles/segment && cargo test -p segment-mapping --test
//! differential`. `DIFF_CASES=N` and `DIFF_SEED=S` widen a local run (defaults fixed for CI).
//! When Segment's code is not installed the test fails, naming the command; it never skips.
//!
//! `regressions.ndjson` holds inputs that once differed (each with why), which must agree;
//! `divergences.ndjson` the explained differences, each with both sides' exact answers, accepted
//! only while both still answer so. A divergence found later is committed to one of them first
//! (CONTRIBUTING.md, "Holding segment-mapping to Segment's own code").

// Tests read the environment (DIFF_CASES, DIFF_SEED) and write their input files.
#![allow(clippy::disallowed_methods)]

mod compare;
mod generator;
mod json;
mod node;

use std::collections::BTreeMap;

use generator::Case;

/// Cases in a default run: a few thousand, about three seconds of Node.
const DEFAULT_CASES: usize = 4000;
const DEFAULT_SEED: u64 = 1;

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, got {text:?}")),
        Err(_) => default,
    }
}

/// The committed regression cases: `regressions.ndjson`, one `{"why", "family", "line"}` per
/// line, `line` being the exact input line (a string, so its bytes are kept).
fn regression_cases() -> Vec<(String, Case)> {
    const TEXT: &str = include_str!("regressions.ndjson");
    TEXT.lines()
        .enumerate()
        .map(|(i, entry)| {
            let entry: serde_json::Value = serde_json::from_str(entry)
                .unwrap_or_else(|e| panic!("regressions.ndjson:{}: not JSON: {e}", i + 1));
            let field = |name: &str| {
                entry[name]
                    .as_str()
                    .unwrap_or_else(|| panic!("regressions.ndjson:{}: no string {name:?}", i + 1))
                    .to_owned()
            };
            let family = generator::family_name(&field("family"))
                .unwrap_or_else(|| panic!("regressions.ndjson:{}: unknown family", i + 1));
            (
                field("why"),
                Case {
                    family,
                    line: field("line"),
                },
            )
        })
        .collect()
}

fn default_cases() -> Vec<Case> {
    let count = env_number("DIFF_CASES", DEFAULT_CASES as u64) as usize;
    let seed = env_number("DIFF_SEED", DEFAULT_SEED);
    generator::cases(seed, count)
}

#[test]
fn the_same_seed_gives_the_same_lines_and_another_seed_others() {
    let lines = |seed| {
        generator::cases(seed, 500)
            .into_iter()
            .map(|c| c.line)
            .collect::<Vec<_>>()
    };
    assert_eq!(lines(7), lines(7));
    assert_ne!(lines(7), lines(8));
}

#[test]
fn every_family_and_every_directive_is_generated() {
    let cases = generator::cases(DEFAULT_SEED, DEFAULT_CASES);
    let mut per_family: BTreeMap<&str, usize> = BTreeMap::new();
    for case in &cases {
        *per_family.entry(case.family).or_default() += 1;
    }
    for (family, _) in generator::FAMILIES {
        let seen = per_family.get(family).copied().unwrap_or(0);
        assert!(
            seen >= 40,
            "family {family} has only {seen} of {DEFAULT_CASES} cases"
        );
    }
    for directive in [
        "@path",
        "@template",
        "@literal",
        "@if",
        "@case",
        "@replace",
        "@arrayPath",
        "@json",
        "@flatten",
        "@merge",
        "@transform",
        "@excludeWhenNull",
        "@liquid",
    ] {
        let key = format!("\"{directive}\":");
        let seen = cases.iter().filter(|c| c.line.contains(&key)).count();
        assert!(seen >= 100, "{directive} is in only {seen} lines");
        // Nested: the directive as the argument of another directive somewhere.
        let nested = cases
            .iter()
            .filter(|c| {
                c.line.contains(&format!("\":{{{key}")) && c.line.matches("\"@").count() > 1
            })
            .count();
        assert!(nested > 0, "{directive} never appears nested");
    }
}

#[test]
fn every_generated_line_is_json_that_value_parse_reads() {
    for case in generator::cases(DEFAULT_SEED, DEFAULT_CASES) {
        if let Err(e) = segment_mapping::Value::parse(&case.line) {
            panic!("{} line does not parse: {e}\n{}", case.family, case.line);
        }
    }
}

/// Each output line of the oracle is one of the contract's shapes. Read as text: JavaScript
/// strings may hold lone surrogates (a string spread into UTF-16 code units by `@merge`), which
/// `JSON.stringify` writes as `\udXXX` escapes and serde_json refuses.
fn well_formed(mode: &str, line: &str) -> bool {
    let error = line.starts_with("{\"error\":\"") && line.ends_with("\"}");
    match mode {
        "eval" => {
            error
                || line == "{\"absent\":true}"
                || (line.starts_with("{\"output\":") && line.ends_with('}'))
        }
        _ => error || line == "{\"valid\":true}",
    }
}

#[test]
fn segments_code_answers_every_generated_line_in_the_line_format() {
    let mut cases = default_cases();
    cases.extend(regression_cases().into_iter().map(|(_, case)| case));
    let lines: Vec<String> = cases.iter().map(|c| c.line.clone()).collect();
    let input = node::write_lines("well-formed", &lines);
    for mode in ["eval", "validate"] {
        let outputs = node::run(mode, &input).unwrap_or_else(|why| panic!("{why}"));
        assert_eq!(
            outputs.len(),
            cases.len(),
            "{mode}: one output line per input line"
        );
        for (case, output) in cases.iter().zip(&outputs) {
            assert!(
                well_formed(mode, output),
                "{mode} {}: not a line of the format: {output}\ninput: {}",
                case.family,
                case.line
            );
            assert!(
                !output.starts_with("{\"error\":\"input:"),
                "{mode}: a generated line is not a valid input: {}",
                case.line
            );
        }
        // The cases are not all errors: each mode gives values for most families.
        let good = outputs
            .iter()
            .filter(|o| !o.starts_with("{\"error\""))
            .count();
        assert!(
            good * 3 > outputs.len(),
            "{mode}: only {good} of {} lines are not errors",
            outputs.len()
        );
    }
}

#[test]
fn a_missing_install_of_segments_code_fails_naming_the_command_that_installs_it() {
    let empty = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("segment-mapping-no-oracle");
    std::fs::create_dir_all(&empty).expect("temp dir");
    let why = node::not_installed_in(&empty).expect("an empty folder has no install");
    assert!(why.contains("npm ci --prefix oracles/segment"), "{why}");
    assert!(why.contains(".ci/test"), "{why}");
    assert_eq!(
        node::not_installed(),
        None,
        "this checkout's oracle is installed"
    );
}

#[test]
fn rust_and_segments_code_give_the_same_line_for_every_generated_case() {
    let cases: Vec<(Option<String>, Case)> =
        default_cases().into_iter().map(|c| (None, c)).collect();
    let differences = compare::differences("generated", &cases, &compare::known_divergences());
    assert!(
        differences.is_empty(),
        "{}",
        compare::report(&differences, cases.len())
    );
}

#[test]
fn rust_and_segments_code_give_the_same_line_for_every_regression_case() {
    let cases: Vec<(Option<String>, Case)> = regression_cases()
        .into_iter()
        .map(|(why, c)| (Some(why), c))
        .collect();
    let differences = compare::differences("regressions", &cases, &[]);
    assert!(
        differences.is_empty(),
        "{}",
        compare::report(&differences, cases.len())
    );
}

#[test]
fn every_known_divergence_still_diverges_exactly_as_recorded() {
    let known = compare::known_divergences();
    let cases: Vec<(Option<String>, Case)> = known
        .iter()
        .map(|k| {
            (
                Some(k.why.clone()),
                Case {
                    family: k.family,
                    line: k.line.clone(),
                },
            )
        })
        .collect();
    let answers = compare::answers("divergences", &cases);
    let mut problems = Vec::new();
    for (i, k) in known.iter().enumerate() {
        let a = answers
            .iter()
            .find(|a| a.mode == k.mode && a.input == k.line)
            .expect("an answer per mode");
        let place = format!("divergences.ndjson:{} ({}, {})", i + 1, k.mode, k.family);
        if a.segment != k.segment {
            problems.push(format!(
                "{place}: Segment's code now answers {}\n  recorded {}",
                a.segment, k.segment
            ));
        } else if compare::agree(&a.segment, &a.rust) {
            problems.push(format!(
                "{place}: fixed, this crate now answers as Segment does: move the line to regressions.ndjson (without segment and rust)"
            ));
        } else if a.rust != k.rust {
            problems.push(format!(
                "{place}: this crate now answers {}\n  recorded {}",
                a.rust, k.rust
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn only_lone_surrogates_written_as_replacement_characters_are_the_same_but_lone_surrogates() {
    use compare::same_but_lone_surrogates as same;
    assert!(same(
        r#"{"output":{"0":"\ud83c","1":"\udf89"}}"#,
        "{\"output\":{\"0\":\"\u{FFFD}\",\"1\":\"\u{FFFD}\"}}"
    ));
    // Nothing to replace, or something else differing too, or an escaped backslash before "udXXX".
    assert!(!same(r#"{"output":1}"#, r#"{"output":1}"#));
    assert!(!same(
        r#"{"output":["\ud83c",1]}"#,
        "{\"output\":[\"\u{FFFD}\",2]}"
    ));
    assert!(!same(
        r#"{"output":"\\ud83c"}"#,
        "{\"output\":\"\\\u{FFFD}\"}"
    ));
    // A pair JSON.stringify would never escape is still a difference of the text.
    assert!(!same(r#"{"output":"\u0041"}"#, r#"{"output":"A"}"#));
}
