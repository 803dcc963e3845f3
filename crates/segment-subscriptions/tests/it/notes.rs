//! `parse_with_notes`: each silent surprise of the package is named, and a plain trigger has
//! none.

use segment_subscriptions::{Note, parse_with_notes};

fn notes(trigger: &str) -> Vec<Note> {
    parse_with_notes(trigger).1
}

#[test]
fn a_plain_trigger_has_no_notes() {
    assert_eq!(
        notes(r#"type = "track" and (event = "A" or event = "B")"#),
        []
    );
    assert_eq!(
        notes(r#"match(name, "*Home") or !contains(event, "x")"#),
        []
    );
}

#[test]
fn an_unknown_identifier_is_named_with_what_is_skipped_after_it() {
    assert_eq!(
        notes(r#"anonymousId = "a1" and type = "track""#),
        [
            Note::UnknownIdentifier("anonymousId".to_owned()),
            Note::SkippedToken("=".to_owned()),
            Note::SkippedToken("\"a1\"".to_owned()),
        ]
    );
    assert_eq!(
        notes(r#"toString = 1 and type = "track""#),
        [Note::UnknownIdentifier("toString".to_owned())]
    );
}

#[test]
fn a_dropped_negation_is_named() {
    assert_eq!(notes(r#"!(type = "track")"#), [Note::NegationDropped]);
}

#[test]
fn mixed_joiners_name_the_one_that_wins() {
    assert_eq!(
        notes(r#"type = "a" and event = "b" or event = "c""#),
        [Note::MixedJoiners { used: "or" }]
    );
}

#[test]
fn a_function_on_a_field_it_does_not_read_is_named() {
    assert_eq!(
        notes(r#"contains(type, "tr") or event = "x""#),
        [Note::FunctionFieldIgnored {
            function: "contains",
            field: "type".to_owned()
        }]
    );
}

#[test]
fn match_without_a_star_is_named() {
    assert_eq!(
        notes(r#"match(name, "abc")"#),
        [Note::MatchWithoutStar {
            pattern: "\"abc\"".to_owned()
        }]
    );
}

#[test]
fn single_quotes_are_named() {
    assert_eq!(
        notes("event = 'A'"),
        [Note::SingleQuotes {
            value: "'A'".to_owned()
        }]
    );
}

#[test]
fn a_group_ended_by_a_function_is_named() {
    let found = notes(r#"type = "track" and (contains(event, "Order") or event = "X")"#);
    assert!(found.contains(&Note::GroupEndedByFunction), "{found:?}");
    assert!(
        found.contains(&Note::SkippedToken(")".to_owned())),
        "{found:?}"
    );
    assert!(
        found.contains(&Note::MixedJoiners { used: "or" }),
        "{found:?}"
    );
}

#[test]
fn notes_read_as_plain_words() {
    let text = Note::NegationDropped.to_string();
    assert!(text.contains("not negated"), "{text}");
    let text = Note::UnknownIdentifier("anonymousId".to_owned()).to_string();
    assert!(text.contains("`anonymousId` is not a field"), "{text}");
}

#[test]
fn notes_come_with_an_error_too() {
    let (result, found) = parse_with_notes(r#"anonymousId = "a1""#);
    assert!(result.is_err());
    assert_eq!(
        found.first(),
        Some(&Note::UnknownIdentifier("anonymousId".to_owned()))
    );
}
