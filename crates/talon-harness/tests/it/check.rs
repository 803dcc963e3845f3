//! `talon-harness check`: the pre-flight lint.

use std::process::Output;

use crate::{harness, repo};

/// Runs `check` on a bug bundle's settings and deployment, plus `extra` flags.
fn check(bundle: &str, extra: &[&str]) -> Output {
    let dir = repo(&format!("fixtures/bugs/{bundle}"));
    let settings = format!("{dir}/settings.json");
    let state = format!("{dir}/talon-state.json");
    let mut args = vec!["check", "--settings", &settings, "--talon-state", &state];
    args.extend_from_slice(extra);
    harness(&args, b"")
}

#[test]
fn a_case_mismatch_between_settings_and_talon_one_is_found() {
    let output = check("trait_case_mismatch", &[]);
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(
            "FAIL every configured Custom Attribute exists in Talon.One with the same name and case"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("`Email` is in Custom Attributes but Talon.One has no CustomerProfile attribute of that name"),
        "{stdout}"
    );
    assert!(stdout.contains("Talon.One has `email`"), "{stdout}");
}

#[test]
fn audience_keys_from_events_are_checked_for_type_and_name() {
    let events = repo("fixtures/bugs/audience_typed_string/events.ndjson");
    let output = check(
        "audience_typed_string",
        &[
            "--events",
            &events,
            "--audience-key",
            "30_day_buyers",
            "--report",
            "json",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let engage = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "every Engage key exists in Talon.One with a fitting type")
        .unwrap();
    assert_eq!(engage["passed"], false);
    let details = engage["details"].to_string();
    assert!(
        details.contains("audience key `vip_customers` is typed `string` in Talon.One"),
        "{details}"
    );
    assert!(
        details.contains("`30_day_buyers` can never be a Talon.One attribute name"),
        "{details}"
    );
}

#[test]
fn a_dotted_custom_attribute_is_an_invalid_setting() {
    let output = check("dotted_custom_attribute", &[]);
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("did you mean \"address_city\"?"),
        "{stdout}"
    );
}

#[test]
fn matching_settings_and_deployment_pass() {
    let output = check("numeric_user_id", &[]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}
