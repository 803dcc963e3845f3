//! Every generated line is a valid Segment Spec payload with the Engage shape where it applies.

use segment_gen::{EventKind, Scenario};
use segment_model::{Event, EventType};
use serde_json::Value;

use crate::support::{run, small, small_edge};

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` with plausible field ranges.
fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    b.len() == 24
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && b[19] == b'.'
        && digits(20..23)
        && b[23] == b'Z'
        && (1..=12).contains(&s[5..7].parse::<u32>().unwrap())
        && (1..=31).contains(&s[8..10].parse::<u32>().unwrap())
        && s[11..13].parse::<u32>().unwrap() < 24
}

fn id_present(id: Option<&segment_model::UserId>) -> bool {
    id.is_some_and(|id| !id.to_string().is_empty())
}

fn check(line: &str, kind: EventKind) {
    let event: Event = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    let raw: Value = serde_json::from_str(line).unwrap();
    assert!(
        id_present(event.user_id.as_ref()) || id_present(event.anonymous_id.as_ref()),
        "{line}"
    );
    assert!(event.message_id.as_deref().is_some_and(|m| !m.is_empty()));
    let times = [&event.timestamp, &event.sent_at, &event.received_at]
        .map(|t| t.as_deref().expect("timestamps are present"));
    for t in times {
        assert!(is_rfc3339(t), "{t}");
    }
    assert!(times[0] <= times[1] && times[1] <= times[2], "{times:?}");
    let context = event.context.as_ref().expect("context");
    let library = context.library.as_ref().expect("context.library");
    assert!(library["name"].is_string() && library["version"].is_string());
    assert!(event.integrations.is_some());
    assert_eq!(
        event.user_id.is_some(),
        kind != EventKind::Anonymous,
        "{line}"
    );

    if !kind.is_engage() {
        assert_eq!(event.kind, EventType::Identify);
        assert!(event.personas().is_none());
        let browser = raw["channel"] == "browser";
        assert_eq!(browser, library["name"] == "analytics.js", "{line}");
        assert_eq!(browser, context.other.contains_key("userAgent"), "{line}");
        assert!(event.traits.is_some());
        return;
    }
    // Engage: the personas block, userId as a string, one identifier.
    let personas = event
        .personas()
        .expect("Engage events carry context.personas");
    let class = personas.computation_class.as_deref().unwrap();
    let key = personas.computation_key.as_deref().unwrap();
    let id = personas.computation_id.as_deref().unwrap();
    assert!(personas.namespace.as_deref().unwrap().starts_with("spa_"));
    assert_eq!(personas.namespace, personas.space_id);
    assert!(matches!(
        event.user_id,
        Some(segment_model::UserId::String(_))
    ));
    assert_eq!(raw["integrations"]["All"], false);
    let audience = matches!(
        kind,
        EventKind::AudienceInitial
            | EventKind::AudienceEntered
            | EventKind::AudienceExited
            | EventKind::AudienceDuplicate
    );
    assert_eq!(class, if audience { "audience" } else { "trait" });
    assert!(id.starts_with(if audience { "aud_" } else { "tra_" }));
    let expected = !matches!(kind, EventKind::AudienceExited);
    match event.kind {
        EventType::Identify => {
            let traits = event.traits.as_ref().unwrap();
            assert_eq!(traits.len(), 2, "{line}");
            assert!(traits["email"].is_string());
            if audience {
                assert_eq!(traits[key], Value::Bool(expected), "{line}");
            } else {
                assert!(!traits[key].is_null());
            }
        }
        EventType::Track => {
            assert!(audience);
            let props = event.properties.as_ref().unwrap();
            assert_eq!(props["audience_key"], key);
            assert_eq!(props[key], Value::Bool(expected));
            let name = if expected {
                "Audience Entered"
            } else {
                "Audience Exited"
            };
            assert_eq!(event.event.as_deref(), Some(name));
            assert!(raw["context"]["traits"]["email"].is_string());
        }
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn every_realistic_event_is_a_valid_spec_payload() {
    let run = run(small(300, 20), 11);
    assert!(run.lines.len() > 1000);
    for (line, meta) in run.lines.iter().zip(&run.metas) {
        check(line, meta.kind);
    }
}

#[test]
fn every_edge_event_is_a_valid_spec_payload() {
    let run = run(small_edge(200, 12), 12);
    assert!(run.metas.iter().any(|m| m.track));
    for (line, meta) in run.lines.iter().zip(&run.metas) {
        check(line, meta.kind);
    }
}

#[test]
fn every_kind_of_event_occurs_in_a_default_sized_run() {
    let run = run(
        Scenario {
            duplicate_enter_share: 0.2,
            ..Scenario::default()
        },
        3,
    );
    for kind in [
        EventKind::Anonymous,
        EventKind::Login,
        EventKind::TraitUpdate,
        EventKind::AudienceInitial,
        EventKind::AudienceEntered,
        EventKind::AudienceExited,
        EventKind::AudienceDuplicate,
        EventKind::ComputedInitial,
        EventKind::ComputedChanged,
    ] {
        assert!(run.metas.iter().any(|m| m.kind == kind), "{kind:?}");
    }
}
