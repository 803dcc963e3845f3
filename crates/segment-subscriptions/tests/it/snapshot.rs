//! What triggers parse to, one readable snapshot: the trigger, the package's silent surprises
//! in it, then its tree or its error.

use std::fmt::Write as _;

use segment_subscriptions::parse_with_notes;

/// Triggers from the package's tests and the quirks, each a line.
const TRIGGERS: &[&str] = &[
    r#"type = "identify""#,
    r#"type = "track" and event = "Order Completed""#,
    r#"type = "track" and (event = "Product Added" or event = "Order Completed")"#,
    r#"event = "Product Added" and properties.price >= 100 and properties.premium = true"#,
    r#"properties.foo.bar = "baz""#,
    "traits.logins >= 10",
    "properties.n = 5",
    "properties.n != -1.5",
    "userId != null",
    "userId = true",
    "name = null",
    r#"context.ip = "1.1.1.1""#,
    r#"contains(event, "Product")"#,
    r#"!contains(traits.email, "@")"#,
    r#"match(properties.sku, "ab*")"#,
    r#"!match(name, "*Home")"#,
    r#"match(name, "abc")"#,
    "event = 'Order Completed'",
    r"properties.a\ b.\0 = 1",
    "type = ",
    r#"type = "a" and event = "b" or event = "c""#,
    r#"!(type = "track")"#,
    r#"anonymousId = "a1" and type = "track""#,
    "",
    "typo",
    "type",
    r#"type * "32456""#,
    r#"((type = "track"))"#,
    "contains(event",
    r#"properties.plan foo "pro""#,
    r#"type = "track" and ()"#,
];

#[test]
fn parse_results_read_well() {
    let mut out = String::new();
    for trigger in TRIGGERS {
        let shown = if trigger.is_empty() {
            "(the empty trigger)"
        } else {
            trigger
        };
        let _ = writeln!(out, "{shown}");
        let (result, notes) = parse_with_notes(trigger);
        for note in notes {
            let _ = writeln!(out, "  note: {note}");
        }
        match result {
            Ok(condition) => {
                for line in condition.to_string().lines() {
                    let _ = writeln!(out, "  {line}");
                }
            }
            Err(e) => {
                let _ = writeln!(out, "  error: {e}");
                if let Some(message) = e.segment_message() {
                    let name = e.segment_error_name().unwrap_or_default();
                    let _ = writeln!(out, "  segment: {name}: {message}");
                }
            }
        }
        out.push('\n');
    }
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../../../../snapshots/segment-subscriptions");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!("parse_results", out));
}
