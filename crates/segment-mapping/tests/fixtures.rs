//! The hand-written fixtures of `tests/fixtures/`: one file per directive (and one for
//! `transform` itself), each case named after the rule it shows, run through the line format
//! (`eval_line`) so that the expected line is exactly what Segment's code gives.
//!
//! A file is a JSON array of cases: `{"name", "mapping", "payload"?, and one of "output",
//! "absent": true or "error"}`. `output` is compared as `JSON.stringify` writes it (key order
//! included: write the expected object's keys in JavaScript's order).

use segment_mapping::{Value, eval_line};

macro_rules! fixtures {
    ($($name:ident => $file:literal),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                run(include_str!(concat!("fixtures/", $file)), $file);
            }
        )*
    };
}

fixtures! {
    transform_rules => "transform.json",
    path_directive => "path.json",
    template_directive => "template.json",
    literal_directive => "literal.json",
    if_directive => "if.json",
    case_directive => "case.json",
    replace_directive => "replace.json",
    array_path_directive => "arrayPath.json",
    json_directive => "json.json",
    flatten_directive => "flatten.json",
    merge_directive => "merge.json",
    transform_directive => "transform-directive.json",
    exclude_when_null_directive => "excludeWhenNull.json",
    liquid_directive => "liquid.json",
}

fn run(text: &str, file: &str) {
    let Ok(Value::Array(cases)) = Value::parse(text) else {
        panic!("{file}: not a JSON array of cases");
    };
    assert!(!cases.is_empty(), "{file}: no cases");
    let mut failures = Vec::new();
    let mut names = std::collections::BTreeSet::new();
    for case in &cases {
        let Value::Object(case) = case else {
            panic!("{file}: a case is not an object");
        };
        let name = case.get("name").and_then(Value::as_str).unwrap_or("?");
        assert!(names.insert(name.to_owned()), "{file}: case {name:?} twice");
        let mut input = segment_mapping::Object::new();
        for key in ["mapping", "payload", "fields"] {
            if let Some(v) = case.get(key) {
                input.insert(key.to_owned(), v.clone());
            }
        }
        let mut expected = segment_mapping::Object::new();
        for key in ["output", "absent", "error"] {
            if let Some(v) = case.get(key) {
                expected.insert(key.to_owned(), v.clone());
            }
        }
        assert_eq!(
            expected.len(),
            1,
            "{file}: case {name:?} needs one expected result"
        );
        let line = Value::Object(input).to_json().unwrap_or_default();
        let got = eval_line(&line);
        let want = Value::Object(expected).to_json().unwrap_or_default();
        if got != want {
            failures.push(format!(
                "{name}\n  input: {line}\n   want: {want}\n    got: {got}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{file}: {} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
