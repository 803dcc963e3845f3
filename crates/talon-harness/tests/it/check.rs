//! `talon-harness check`: the pre-flight lint.

use std::process::Output;

use crate::{assert_says, exits, harness, repo};

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
    let stdout = exits(&output, 1).stdout;
    assert_says(
        &stdout,
        &[
            "FAIL every configured Custom Attribute exists in Talon.One with the same name and case",
            "`Email` is in Custom Attributes but Talon.One has no CustomerProfile attribute `Email`",
            "Talon.One has `email`, which differs only in case (names are case-sensitive): rename Custom Attribute `Email` to `email`, the name Talon.One has",
        ],
    );
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
    let stdout = exits(&output, 1).stdout;
    assert_says(
        &stdout,
        &[
            "Segment flattens nested traits with `_`, not `.`: write \"address_city\"",
            "rename Custom Attribute `address.city` to `address_city`, the name Talon.One has",
        ],
    );
    assert!(
        !stdout.contains("case-sensitive"),
        "a dot is not a case difference: {stdout}"
    );
}

#[test]
fn matching_settings_and_deployment_pass() {
    let output = check("numeric_user_id", &[]);
    exits(&output, 0);
}

/// The details of the check named `name` in a `--report json` output.
fn details(report: &serde_json::Value, name: &str) -> Vec<String> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .map(|c| {
            c["details"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_else(|| panic!("no check `{name}` in {report}"))
}

#[test]
fn a_string_true_for_a_boolean_attribute_fails_check_with_events_naming_the_line_and_types() {
    let events = repo("fixtures/bugs/string_true_to_boolean/events.ndjson");
    let output = check(
        "string_true_to_boolean",
        &["--events", &events, "--report", "json"],
    );
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        details(
            &report,
            "every value the events send fits its attribute's type in Talon.One"
        ),
        [
            "events.ndjson:1: `newsletter` is a string \"true\" but Talon.One's `newsletter` is `boolean` (expected boolean, got string): the whole update for `u-9009` is rejected (400)"
        ]
    );
}

#[test]
fn an_api_key_the_deployment_does_not_know_fails_and_a_known_one_names_its_application() {
    let dir = crate::scratch("check-key");
    let settings = dir.join("settings.json");
    std::fs::write(
        &settings,
        r#"{"apiKey": "not-a-key-of-this-deployment", "applicationDomain": "https://shop.talon.one", "customAttributes": ["plan"]}"#,
    )
    .unwrap();
    let state = repo("fixtures/bugs/numeric_user_id/talon-state.json");
    let output = harness(
        &[
            "check",
            "--settings",
            settings.to_str().unwrap(),
            "--talon-state",
            &state,
            "--report",
            "json",
        ],
        b"",
    );
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let key = details(&report, "Talon.One knows the API key");
    assert_eq!(key.len(), 1, "{key:?}");
    assert!(
        key[0].starts_with("the API key `not-…` is not an Integration API key of this deployment (its applications: 1 \"Shop\"): Talon.One answers 401 to every request"),
        "{key:?}"
    );
    assert!(
        !key[0].contains("not-a-key-of"),
        "the key is not printed whole"
    );

    let output = check("numeric_user_id", &[]);
    let stdout = exits(&output, 0).stdout;
    assert_says(
        &stdout,
        &[
            "ok   Talon.One knows the API key",
            "the API key `bund…` opens application 1 \"Shop\"",
        ],
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_audience_key_missing_from_the_catalog_must_be_created_as_a_boolean() {
    let output = check(
        "numeric_user_id",
        &["--audience-key", "vip_customers", "--report", "json"],
    );
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        details(
            &report,
            "every Engage key exists in Talon.One with a fitting type"
        ),
        [
            "Engage audience key `vip_customers` has no CustomerProfile attribute in Talon.One: its updates are rejected; create `vip_customers` as a boolean CustomerProfile attribute"
        ]
    );
}

/// The sources of the events a bundle's expected.json says Talon.One rejects. In a bundle
/// with two destinations, only those of the destination `label` names (`classic` or
/// `Actions`), without the label.
fn rejected_sources(bundle: &std::path::Path, label: Option<&str>) -> Vec<String> {
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bundle.join("expected.json")).unwrap())
            .unwrap();
    expected["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["outcome"] == "rejected")
        .filter_map(|o| {
            let source = o["source"].as_str().unwrap();
            match label {
                Some(label) => source
                    .strip_suffix(&format!(" ({label})"))
                    .map(str::to_owned),
                None => Some(source.to_owned()),
            }
        })
        .collect()
}

/// The events `check --events` names in the checks that predict a refusal (`names`).
fn predicted_sources(report: &serde_json::Value, names: &[&str]) -> Vec<String> {
    let mut predicted: Vec<String> = names
        .iter()
        .flat_map(|check| details(report, check))
        .map(|d| d.split(": ").next().unwrap().to_owned())
        .collect();
    predicted.sort();
    predicted.dedup();
    predicted
}

/// Runs `check --events … --report json` on a bundle's files: its classic settings
/// (`settings.json`, or `classic-settings.json` next to Actions ones), or its Talon.One
/// (Actions) settings with `--subscriptions`.
fn check_bundle(dir: &std::path::Path, actions: bool) -> Output {
    let path = |file: &str| dir.join(file).to_str().unwrap().to_owned();
    let settings = if actions || !dir.join("classic-settings.json").is_file() {
        path("settings.json")
    } else {
        path("classic-settings.json")
    };
    let (state, events, subscriptions) = (
        path("talon-state.json"),
        path("events.ndjson"),
        path("subscriptions.json"),
    );
    let mut args = vec![
        "check",
        "--settings",
        &settings,
        "--talon-state",
        &state,
        "--events",
        &events,
        "--report",
        "json",
    ];
    if actions {
        args.extend(["--subscriptions", subscriptions.as_str()]);
    }
    harness(&args, b"")
}

/// Actions events Talon.One refuses because the unencoded id changed the request's path into
/// one the relay does not serve (404): `check` names them under
/// `preflight::actions::PATHS` ("no id the events send changes the request's path") with the
/// path Talon.One receives, which is not one of the checks that predict a refusal (an id that
/// only cuts the path, `user#7` → `user`, is delivered, to another profile), so the test
/// counts these by name.
const PATH_REFUSALS: &[(&str, &str)] = &[(
    "actions_user_id_with_hash_or_slash_misroutes",
    "events.ndjson:3",
)];

/// Every bundle, classic and Talon.One (Actions): `check --events` names exactly the events
/// the bundle's run sees rejected, through the checks of the bundle's destination that
/// predict a refusal (`preflight::EVENT_CHECKS`, `preflight::actions::EVENT_CHECKS`). A bundle
/// with both destinations is checked once per destination against that destination's
/// outcomes. A rejection `check` cannot predict would fail here; the rate limit's 429s are
/// `failed`, not rejected (they depend on the pace, which `check` does not know), so the
/// burst bundle expects no rejection and `check` predicts none.
#[test]
fn check_with_events_predicts_exactly_the_events_each_bundle_sees_rejected() {
    let mut dirs: Vec<_> = std::fs::read_dir(repo("fixtures/bugs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let (mut rejecting, mut actions_bundles, mut actions_rejecting) = (0, 0, 0);
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let actions = dir.join("subscriptions.json").is_file();
        let both = actions && dir.join("classic-settings.json").is_file();
        let mut runs = vec![(
            actions,
            both.then_some(if actions { "Actions" } else { "classic" }),
        )];
        if both {
            runs.push((false, Some("classic")));
        }
        for (actions, label) in runs {
            let output = check_bundle(&dir, actions);
            let report: serde_json::Value =
                serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
                    panic!("{name}: {e}: {}", String::from_utf8_lossy(&output.stderr))
                });
            let names = if actions {
                talon_harness::preflight::actions::EVENT_CHECKS
            } else {
                talon_harness::preflight::EVENT_CHECKS
            };
            let mut predicted = predicted_sources(&report, names);
            if actions {
                // Refusals the path check finds but does not count as such (see
                // PATH_REFUSALS): named by it, then counted here.
                let paths = predicted_sources(&report, &[talon_harness::preflight::actions::PATHS]);
                for (_, source) in PATH_REFUSALS.iter().filter(|(b, _)| *b == name) {
                    assert!(
                        paths.iter().any(|p| p == source),
                        "{name}: check does not name {source} as an id that changes the path: {paths:?}"
                    );
                    predicted.push((*source).to_owned());
                }
                predicted.sort();
            }
            let rejected = rejected_sources(&dir, label);
            assert_eq!(predicted, rejected, "{name} ({label:?}): {report:#}");
            if !rejected.is_empty() {
                rejecting += 1;
                assert_eq!(output.status.code(), Some(1), "{name} must fail check");
                if actions {
                    actions_rejecting += 1;
                }
            }
            if actions {
                actions_bundles += 1;
            }
        }
    }
    assert!(rejecting >= 5, "only {rejecting} bundles see a rejection");
    assert!(
        actions_bundles >= 8,
        "only {actions_bundles} Actions bundles"
    );
    assert!(
        actions_rejecting >= 4,
        "only {actions_rejecting} Actions bundles see a rejection"
    );
}

#[test]
fn generated_events_replayed_with_the_default_settings_and_state_are_never_rejected() {
    let events = harness(&["gen", "--seed", "7", "--users", "20", "--days", "3"], b"");
    assert!(events.status.success());
    let dir = crate::scratch("defaults-fit");
    let outcomes = dir.join("outcomes.ndjson");
    let output = harness(
        &[
            "replay",
            "--events",
            "-",
            "--outcomes",
            outcomes.to_str().unwrap(),
        ],
        &events.stdout,
    );
    exits(&output, 0);
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&outcomes)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() > 20);
    assert!(
        lines.iter().all(|l| l["status"] != 401),
        "the default settings' apiKey is not a key of the default state"
    );
    let rejected: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["outcome"] == "rejected")
        .collect();
    assert!(
        rejected.is_empty(),
        "the default state lacks what the default settings or Engage send: {rejected:#?}"
    );
    assert!(lines.iter().any(|l| l["outcome"] == "delivered"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn check_with_events_predicts_exactly_the_rejections_a_replay_of_generated_edge_cases_sees() {
    let dir = crate::scratch("check-vs-replay");
    let events = dir.join("events.ndjson");
    let outcomes = dir.join("outcomes.ndjson");
    let generated = harness(
        &[
            "gen",
            "--seed",
            "3",
            "--users",
            "60",
            "--days",
            "5",
            "--profile",
            "edge",
            "--out",
            events.to_str().unwrap(),
        ],
        b"",
    );
    assert!(generated.status.success());
    let settings = repo("fixtures/settings/default.json");
    let state = repo("fixtures/talon/default-state.json");
    let replay = harness(
        &[
            "replay",
            "--settings",
            &settings,
            "--talon-state",
            &state,
            "--events",
            events.to_str().unwrap(),
            "--outcomes",
            outcomes.to_str().unwrap(),
        ],
        b"",
    );
    // Rejections are findings only with --fail-on-reject; the run itself must complete.
    assert_ne!(
        replay.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    let mut rejected: Vec<String> = std::fs::read_to_string(&outcomes)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|o| o["outcome"] == "rejected")
        .map(|o| o["source"].as_str().unwrap().to_owned())
        .collect();
    rejected.sort();
    let output = harness(
        &[
            "check",
            "--settings",
            &settings,
            "--talon-state",
            &state,
            "--events",
            events.to_str().unwrap(),
            "--report",
            "json",
        ],
        b"",
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let mut predicted: Vec<String> = talon_harness::preflight::EVENT_CHECKS
        .iter()
        .flat_map(|check| details(&report, check))
        .map(|d| d.split(": ").next().unwrap().to_owned())
        .collect();
    predicted.sort();
    predicted.dedup();
    assert!(rejected.len() > 50, "the edge profile gets rejections");
    assert_eq!(predicted, rejected);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_unreadable_event_line_is_a_finding_of_check() {
    let dir = crate::scratch("check-unreadable");
    let events = dir.join("events.ndjson");
    std::fs::write(
        &events,
        "{\"type\": \"identify\", \"userId\": \"u-1\", \"traits\": {\"plan\": \"pro\"}}\n{not json\n",
    )
    .unwrap();
    let output = check(
        "numeric_user_id",
        &["--events", events.to_str().unwrap(), "--report", "json"],
    );
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let unreadable = details(&report, "every event line is a readable Segment event");
    assert_eq!(unreadable.len(), 1, "{unreadable:?}");
    assert!(
        unreadable[0].starts_with("events.ndjson:2: not a readable Segment event: "),
        "{unreadable:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn near_misses_and_attributes_of_another_entity_name_the_fix() {
    let dir = crate::scratch("check-near-misses");
    let settings = dir.join("settings.json");
    std::fs::write(
        &settings,
        r#"{"apiKey": "k-1", "applicationDomain": "https://shop.talon.one", "customAttributes": ["Email", "channel"]}"#,
    )
    .unwrap();
    let attribute = |id: u32, entity: &str, name: &str| {
        format!(
            r#"{{"id": {id}, "entity": "{entity}", "name": "{name}", "title": "{name}", "type": "string"}}"#
        )
    };
    let state = dir.join("talon-state.json");
    std::fs::write(
        &state,
        format!(
            r#"{{"applications": [{{"id": 1, "name": "Shop"}}], "integrationKeys": [{{"key": "k-1", "applicationId": 1}}], "managementKeys": [], "attributes": [{}, {}, {}]}}"#,
            attribute(1, "CustomerProfile", "email"),
            attribute(2, "CustomerProfile", "Email"),
            attribute(3, "CustomerSession", "channel"),
        ),
    )
    .unwrap();
    let output = harness(
        &[
            "check",
            "--settings",
            settings.to_str().unwrap(),
            "--talon-state",
            state.to_str().unwrap(),
            "--report",
            "json",
        ],
        b"",
    );
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        details(
            &report,
            "no Custom Attribute differs from a Talon.One attribute only by case or `.`"
        ),
        [
            "Talon.One has both `email` and `Email`; Custom Attributes lists only `Email` (only the case differs, and names are case-sensitive): a trait `email` is never sent; add `email` to Custom Attributes if the traits carry it"
        ]
    );
    assert_eq!(
        details(
            &report,
            "every configured Custom Attribute exists in Talon.One with the same name and case"
        ),
        [
            "`channel` is in Custom Attributes but Talon.One has no CustomerProfile attribute `channel`: every identify carrying it is rejected; `channel` exists for CustomerSession, not CustomerProfile: create it for CustomerProfile"
        ]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
