//! `talon-harness check`: the pre-flight lint.

use crate::{harness, repo};

#[test]
fn a_case_mismatch_between_settings_and_talon_one_is_found() {
    let dir = repo("fixtures/bugs/trait_case_mismatch");
    let output = harness(
        &[
            "check",
            "--settings",
            &format!("{dir}/settings.json"),
            "--talon-state",
            &format!("{dir}/talon-state.json"),
        ],
        b"",
    );
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(
            "FAIL every configured Custom Attribute exists in Talon.One with the same name and case"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("`Email` is in Custom Attributes but Talon.One has no CustomerProfile attribute of that name"), "{stdout}");
    assert!(stdout.contains("Talon.One has `email`"), "{stdout}");
}

#[test]
fn audience_keys_from_events_are_checked_for_type_and_name() {
    let dir = repo("fixtures/bugs/audience_typed_string");
    let output = harness(
        &[
            "check",
            "--settings",
            &format!("{dir}/settings.json"),
            "--talon-state",
            &format!("{dir}/talon-state.json"),
            "--events",
            &format!("{dir}/events.ndjson"),
            "--audience-key",
            "30_day_buyers",
            "--report",
            "json",
        ],
        b"",
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
    let dir = repo("fixtures/bugs/dotted_custom_attribute");
    let output = harness(
        &[
            "check",
            "--settings",
            &format!("{dir}/settings.json"),
            "--talon-state",
            &format!("{dir}/talon-state.json"),
        ],
        b"",
    );
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("did you mean \"address_city\"?"),
        "{stdout}"
    );
}

#[test]
fn matching_settings_and_deployment_pass() {
    let dir = repo("fixtures/bugs/numeric_user_id");
    let output = harness(
        &[
            "check",
            "--settings",
            &format!("{dir}/settings.json"),
            "--talon-state",
            &format!("{dir}/talon-state.json"),
        ],
        b"",
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}
