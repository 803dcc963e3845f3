//! `parse` and `matches` are total: any text, however broken, gives a value, never a panic.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use segment_subscriptions::parse;
use serde_json::json;

/// The grammar's characters and a few it does not know.
const ALPHABET: &[&str] = &[
    "type",
    "event",
    "name",
    "userId",
    "properties",
    "traits",
    "context",
    "contains",
    "match",
    "and",
    "or",
    "null",
    "true",
    "false",
    "=",
    "!",
    "!=",
    "<",
    ">",
    "<=",
    ">=",
    "(",
    ")",
    ",",
    ".",
    "[",
    "]",
    "\"",
    "'",
    "\\",
    " ",
    "\t",
    "\n",
    "\r",
    "0",
    "1.",
    "-",
    "+",
    "*",
    "_",
    "é",
    "😀",
    "a",
    "n",
    "o",
];

#[test]
fn any_text_parses_to_a_condition_or_an_error() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let event = json!({"type": "track", "properties": {"a": [1, "x"], "n": 0}, "traits": "s"});
    for _ in 0..20_000 {
        let len = (rng.next_u32() % 24) as usize;
        let text: String = (0..len)
            .map(|_| ALPHABET[(rng.next_u32() as usize) % ALPHABET.len()])
            .collect();
        if let Ok(condition) = parse(&text) {
            let _ = condition.matches(&event);
            let _ = condition.to_string();
        }
    }
}

#[test]
fn every_prefix_of_a_long_trigger_parses_to_a_value() {
    let trigger = r#"type = "track" and (contains(event, "Or\der") or properties.a\ b.\0 >= -1.5) or !match(traits.email, "*@x.com") and context.ip != null"#;
    for end in (0..=trigger.len()).filter(|&i| trigger.is_char_boundary(i)) {
        let _ = parse(&trigger[..end]);
    }
}

#[test]
fn huge_inputs_end_in_a_value() {
    // The lexer's own limits: 100,000 units of a string, a number, an identifier.
    let long_string = format!("event = \"{}\"", "x".repeat(100_000));
    assert!(parse(&long_string).is_err());
    let long_ident = format!("properties.{} exists 1", "a".repeat(100_000));
    assert!(parse(&long_ident).is_err());
    let many_parens = "(".repeat(100_000);
    assert!(parse(&many_parens).is_err());
}
