//! `talon-harness diff`: each kind of change, for both destinations, with the differences it
//! must report and its exit code; the accept file; the library's streaming engine.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::{assert_says, exits, harness, repo, scratch};

/// The classic settings of these tests: the default key and domain, these Custom Attributes.
fn classic_settings(dir: &Path, name: &str, attributes: &[&str]) -> String {
    let path = dir.join(name);
    let settings = json!({
        "apiKey": "segment-demo-integration-key",
        "applicationDomain": "https://demo.talon.one",
        "customAttributes": attributes,
    });
    std::fs::write(&path, settings.to_string()).unwrap();
    path.display().to_string()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// Identify events for the classic tests.
const CLASSIC_EVENTS: &str = r#"{"type": "identify", "userId": "u1", "traits": {"email": "a@example.com", "plan": "gold", "address": {"city": "Berlin"}, "logins": 3}}
{"type": "identify", "userId": "u2", "traits": {"email": "b@example.com", "logins": 4}}
{"type": "track", "userId": "u2", "event": "Order Completed"}
{"type": "identify", "userId": "u3", "traits": {"email": "c@example.com", "plan": "silver", "address": {"city": "Paris"}}}
"#;

/// Identify events for the Actions tests (the simulated deployment's catalog has `email`,
/// `plan` and `logins`, and no `address`).
const ACTIONS_EVENTS: &str = r#"{"type": "identify", "userId": "u1", "traits": {"email": "a@example.com", "plan": "gold", "logins": 3}}
{"type": "identify", "userId": "u2", "traits": {"email": "b@example.com", "address": {"city": "Paris"}}}
{"type": "identify", "userId": "u3", "traits": {"email": "c@example.com", "plan": "silver"}}
"#;

/// Runs `diff` with `args` and `--report json`, expecting `code`; returns the report.
#[track_caller]
fn diff(args: &[&str], code: i32) -> Value {
    let mut all = vec!["diff"];
    all.extend_from_slice(args);
    all.extend(["--report", "json"]);
    let printed = exits(&harness(&all, b""), code);
    serde_json::from_str(&printed.stdout).unwrap_or_else(|e| panic!("{e}: {}", printed.stdout))
}

/// The report's one group of `kind`.
#[track_caller]
fn group<'a>(report: &'a Value, kind: &str) -> &'a Value {
    report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["kind"] == kind)
        .unwrap_or_else(|| panic!("no `{kind}` group in {report:#}"))
}

/// The report's groups as `kind attribute count` (regressions that fail marked `!`), sorted.
fn groups(report: &Value) -> Vec<String> {
    let mut lines: Vec<String> = report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let fails = g["regressions"].as_u64().unwrap() > 0 && g["accepted"] == false;
            format!(
                "{}{} {} {}{}",
                if fails { "!" } else { "" },
                g["kind"].as_str().unwrap(),
                g["attribute"].as_str().unwrap_or("-"),
                g["count"],
                g["subscription"]
                    .as_str()
                    .map_or_else(String::new, |s| format!(" [{s}]")),
            )
        })
        .collect();
    lines.sort();
    lines
}

fn has(report: &Value, line: &str) -> bool {
    groups(report).iter().any(|g| g == line)
}

#[track_caller]
fn assert_groups(report: &Value, expected: &[&str]) {
    for line in expected {
        assert!(
            has(report, line),
            "`{line}` missing from {:#?}",
            groups(report)
        );
    }
}

/// The shipped subscriptions with the profile subscription changed by `edit`, as one edited
/// subscription (the shape `--after` merges over `--before`'s list).
fn edited_profile_subscription(edit: impl FnOnce(&mut Value)) -> String {
    let list: Value = serde_json::from_str(talon_harness::world::DEFAULT_SUBSCRIPTIONS).unwrap();
    let mut one = list["subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "sub_identify_profile")
        .unwrap()
        .clone();
    edit(&mut one);
    one.to_string()
}

const PROFILE: &str = "Identify: update customer profile";

// Classic destination.

#[test]
fn classic_attribute_added_is_reported_as_new_data_and_exits_0() {
    let dir = scratch("diff-classic-added");
    let before = classic_settings(&dir, "before.json", &["email"]);
    let after = classic_settings(&dir, "after.json", &["email", "plan"]);
    let events = write(&dir, "events.ndjson", CLASSIC_EVENTS);
    let report = diff(
        &["--before", &before, "--after", &after, "--events", &events],
        0,
    );
    assert_eq!(
        groups(&report),
        ["attribute_added plan 2", "state_attribute_gained plan 2"]
    );
    assert_eq!(report["events"], 4);
    assert_eq!(report["changedEvents"], 2);
    assert_eq!(
        report["byKind"],
        json!({"attribute_added": 2, "state_attribute_gained": 2})
    );
    assert_eq!(report["byAttribute"], json!({"plan": 2}));
    assert_eq!(report["passed"], true);
}

#[test]
fn classic_attribute_removed_is_a_regression_and_exits_1() {
    let dir = scratch("diff-classic-removed");
    let before = classic_settings(&dir, "before.json", &["email", "address_city"]);
    let after = classic_settings(&dir, "after.json", &["email"]);
    let events = write(&dir, "events.ndjson", CLASSIC_EVENTS);
    let report = diff(
        &["--before", &before, "--after", &after, "--events", &events],
        1,
    );
    assert_eq!(
        groups(&report),
        [
            "!attribute_removed address_city 2",
            "!state_attribute_lost address_city 2"
        ]
    );
    let out = harness(
        &[
            "diff", "--before", &before, "--after", &after, "--events", &events,
        ],
        b"",
    );
    let printed = exits(&out, 1);
    assert_says(
        &printed.stdout,
        &[
            "FAIL `address_city` no longer sent for 2 of 4 events",
            "FAIL Talon.One would no longer hold `address_city` for 2 of 3 profiles",
            "events.ndjson:1 (profile `u1`): delivered",
            "`address_city` no longer sent (was \"Berlin\")",
            "result     FAIL: 2 kinds of regression not accepted",
        ],
    );
}

#[test]
fn classic_attribute_renamed_by_case_loses_it_with_the_mappers_warning_and_exits_1() {
    let dir = scratch("diff-classic-case");
    let before = classic_settings(&dir, "before.json", &["email", "plan"]);
    let after = classic_settings(&dir, "after.json", &["email", "Plan"]);
    let events = write(&dir, "events.ndjson", CLASSIC_EVENTS);
    let report = diff(
        &["--before", &before, "--after", &after, "--events", &events],
        1,
    );
    assert_eq!(
        groups(&report),
        [
            "!attribute_removed plan 2",
            "!state_attribute_lost plan 2",
            "warning_added plan 2",
        ]
    );
    let warning = group(&report, "warning_added");
    assert_eq!(warning["rule"], "case_mismatch");
}

#[test]
fn classic_flatten_collision_introduced_names_the_dropped_path_and_exits_0() {
    let dir = scratch("diff-classic-collision");
    let before = classic_settings(&dir, "before.json", &["email"]);
    let after = classic_settings(&dir, "after.json", &["email", "address_city"]);
    let events = write(
        &dir,
        "events.ndjson",
        r#"{"type": "identify", "userId": "u-4004", "traits": {"email": "x@example.com", "address": {"city": "München"}, "address_city": "Munich"}}
"#,
    );
    let report = diff(
        &["--before", &before, "--after", &after, "--events", &events],
        0,
    );
    assert_eq!(
        groups(&report),
        [
            "attribute_added address_city 1",
            "state_attribute_gained address_city 1",
            "warning_added address_city 1",
        ]
    );
    let warning = &report["examples"][0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "warning_added")
        .unwrap()["explanation"];
    assert!(
        warning.as_str().unwrap().contains("dropped `address.city`"),
        "{warning}"
    );
}

/// The default state with `logins` retyped from number to string.
fn retyped_default_state(dir: &Path) -> String {
    let mut state: Value = serde_json::from_str(
        &std::fs::read_to_string(repo("fixtures/talon/default-state.json")).unwrap(),
    )
    .unwrap();
    for attribute in state["attributes"].as_array_mut().unwrap() {
        if attribute["name"] == "logins" {
            attribute["type"] = "string".into();
        }
    }
    write(dir, "after-state.json", &state.to_string())
}

#[test]
fn classic_catalog_type_changed_rejects_the_events_that_send_it_and_exits_1() {
    let dir = scratch("diff-classic-retype");
    let settings = classic_settings(&dir, "settings.json", &["email", "logins"]);
    let after_state = retyped_default_state(&dir);
    let events = write(&dir, "events.ndjson", CLASSIC_EVENTS);
    let report = diff(
        &[
            "--before",
            &settings,
            "--after-state",
            &after_state,
            "--events",
            &events,
        ],
        1,
    );
    assert_groups(
        &report,
        &[
            "!now_rejected logins 2",
            "!state_attribute_lost email 2",
            "!state_attribute_lost logins 2",
        ],
    );
    let rejected = group(&report, "now_rejected");
    assert!(
        rejected["rule"].as_str().unwrap().starts_with("HTTP 400"),
        "{rejected}"
    );
    assert!(
        rejected["explanation"]
            .as_str()
            .unwrap()
            .contains("`logins`"),
        "{rejected}"
    );
    assert_eq!(report["after"]["rejected"], 2);
    // The final state, per profile: both users lose what the rejected updates carried.
    assert_eq!(report["changedProfiles"], 2);
    let profiles: Vec<String> = report["profileExamples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let lost: Vec<&str> = p["changes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["attribute"].as_str().unwrap())
                .collect();
            format!("{}: {}", p["profile"].as_str().unwrap(), lost.join(" "))
        })
        .collect();
    assert_eq!(profiles, ["u1: email logins", "u2: email logins"]);
}

// The Talon.One (Actions) destination.

#[test]
fn actions_trigger_narrowed_stops_the_subscription_and_exits_1() {
    let dir = scratch("diff-actions-trigger");
    let after = write(
        &dir,
        "narrowed.json",
        &edited_profile_subscription(|s| {
            s["trigger"] = r#"type = "identify" and traits.plan = "gold""#.into();
        }),
    );
    let events = write(&dir, "events.ndjson", ACTIONS_EVENTS);
    let report = diff(&["--after", &after, "--events", &events], 1);
    assert_eq!(report["destination"], "actions");
    assert_groups(
        &report,
        &[
            &format!("!request_removed - 2 [{PROFILE}]"),
            &format!("!attribute_removed email 2 [{PROFILE}]"),
            &format!("!attribute_removed plan 1 [{PROFILE}]"),
            // Not in the catalog: skipped by Talon.One before, so nothing is lost.
            &format!("attribute_removed address 1 [{PROFILE}]"),
            "!state_attribute_lost email 2",
        ],
    );
    let removed = group(&report, "request_removed");
    assert_eq!(removed["rule"], "trigger_changed");
    assert_eq!(
        removed["explanation"],
        "its trigger, now `type = \"identify\" and traits.plan = \"gold\"`, no longer matches"
    );
}

#[test]
fn a_subscription_disabled_or_removed_is_named_as_such() {
    let dir = scratch("diff-actions-disabled");
    let events = write(&dir, "events.ndjson", ACTIONS_EVENTS);
    let disabled = write(
        &dir,
        "disabled.json",
        &edited_profile_subscription(|s| s["enabled"] = false.into()),
    );
    let mut list: Value =
        serde_json::from_str(talon_harness::world::DEFAULT_SUBSCRIPTIONS).unwrap();
    list["subscriptions"]
        .as_array_mut()
        .unwrap()
        .retain(|s| s["id"] != "sub_identify_profile");
    let removed = write(&dir, "removed.json", &list.to_string());
    for (after, rule, words) in [
        (&disabled, "disabled", "the subscription is disabled"),
        (
            &removed,
            "removed",
            "the subscription is no longer in the configuration",
        ),
    ] {
        let report = diff(&["--after", after, "--events", &events], 1);
        let removed = group(&report, "request_removed");
        assert_eq!(
            (removed["rule"].as_str(), removed["explanation"].as_str()),
            (Some(rule), Some(words)),
            "{removed:#}"
        );
        assert_eq!(removed["subscription"], PROFILE);
    }
}

#[test]
fn actions_mapping_path_typo_loses_every_attribute_and_exits_1() {
    let dir = scratch("diff-actions-typo");
    let after = write(
        &dir,
        "typo.json",
        &edited_profile_subscription(|s| {
            s["settings"]["attributes"] = json!({"@path": "$.trait"});
        }),
    );
    let events = write(&dir, "events.ndjson", ACTIONS_EVENTS);
    let report = diff(&["--after", &after, "--events", &events], 1);
    assert_groups(
        &report,
        &[
            &format!("!attribute_removed email 3 [{PROFILE}]"),
            &format!("!attribute_removed logins 1 [{PROFILE}]"),
            "!state_attribute_lost email 3",
            "!state_attribute_lost plan 2",
        ],
    );
    assert!(
        !groups(&report)
            .iter()
            .any(|g| g.contains("request_removed")),
        "the request is still sent: {:#?}",
        groups(&report)
    );
}

#[test]
fn actions_skip_non_existing_attributes_flipped_off_rejects_unknown_attributes_and_exits_1() {
    let dir = scratch("diff-actions-skip");
    let after = write(
        &dir,
        "noskip.json",
        &edited_profile_subscription(|s| {
            s["settings"]["skipNonExistingAttributes"] = false.into();
        }),
    );
    let events = write(&dir, "events.ndjson", ACTIONS_EVENTS);
    let report = diff(&["--after", &after, "--events", &events], 1);
    assert_groups(
        &report,
        &[
            &format!("!now_rejected address 1 [{PROFILE}]"),
            &format!("url_changed - 3 [{PROFILE}]"),
            "!state_attribute_lost email 1",
        ],
    );
    let url = group(&report, "url_changed");
    assert_eq!(url["rule"], "query `skipNonExistingAttributes=true` -> ``");
}

#[test]
fn actions_attribute_added_to_a_mapping_only_adds_data_and_exits_0() {
    let dir = scratch("diff-actions-added");
    let subscriptions = profile_mapping;
    let before = write(
        &dir,
        "before.json",
        &subscriptions(json!({"email": {"@path": "$.traits.email"}})),
    );
    let after = write(
        &dir,
        "after.json",
        &subscriptions(
            json!({"email": {"@path": "$.traits.email"}, "plan": {"@path": "$.traits.plan"}}),
        ),
    );
    let events = write(&dir, "events.ndjson", ACTIONS_EVENTS);
    let report = diff(
        &["--before", &before, "--after", &after, "--events", &events],
        0,
    );
    assert_eq!(
        groups(&report),
        [
            "attribute_added plan 2 [Profile]",
            "state_attribute_gained plan 2"
        ]
    );
}

#[test]
fn no_longer_sending_a_name_another_entity_has_loses_nothing_of_the_profile() {
    let dir = scratch("diff-actions-entity");
    let mut state =
        talon_harness::world::World::for_actions(&segment_gen::Scenario::default()).state;
    let mut event_attribute = state.attributes[0].clone();
    event_attribute.id = 9_999;
    event_attribute.entity = talon_fake::rules::Entity::Event;
    event_attribute.name = "coupon_code".into();
    event_attribute.ty = talon_fake::rules::AttrType::String;
    state.attributes.push(event_attribute);
    let state = write(&dir, "state.json", &serde_json::to_string(&state).unwrap());
    let before = write(
        &dir,
        "before.json",
        &profile_mapping(json!({"email": {"@path": "$.traits.email"},
            "coupon_code": {"@path": "$.traits.coupon_code"}})),
    );
    let after = write(
        &dir,
        "after.json",
        &profile_mapping(json!({"email": {"@path": "$.traits.email"}})),
    );
    let events = write(
        &dir,
        "events.ndjson",
        r#"{"type": "identify", "userId": "u1", "traits": {"email": "a@example.com", "coupon_code": "SPRING"}}"#,
    );
    // `coupon_code` is an Event attribute, not a profile one: the relay skipped it before.
    let report = diff(
        &[
            "--before",
            &before,
            "--after",
            &after,
            "--talon-state",
            &state,
            "--events",
            &events,
        ],
        0,
    );
    assert_eq!(
        groups(&report),
        ["attribute_removed coupon_code 1 [Profile]"]
    );
}

/// One profile subscription mapping these attributes, `skipNonExistingAttributes` on.
fn profile_mapping(attributes: Value) -> String {
    json!({"subscriptions": [{
        "id": "p", "name": "Profile", "actionSlug": "updateCustomerProfileV3", "enabled": true,
        "trigger": "type = \"identify\"",
        "settings": {"customerProfileId": {"@path": "$.userId"}, "skipNonExistingAttributes": true, "attributes": attributes}
    }]})
    .to_string()
}

#[test]
fn actions_attribute_removed_or_renamed_by_case_loses_it_and_exits_1() {
    let dir = scratch("diff-actions-removed");
    let before = write(
        &dir,
        "before.json",
        &profile_mapping(
            json!({"email": {"@path": "$.traits.email"}, "plan": {"@path": "$.traits.plan"}}),
        ),
    );
    let removed = write(
        &dir,
        "removed.json",
        &profile_mapping(json!({"email": {"@path": "$.traits.email"}})),
    );
    let renamed = write(
        &dir,
        "renamed.json",
        &profile_mapping(
            json!({"email": {"@path": "$.traits.email"}, "Plan": {"@path": "$.traits.plan"}}),
        ),
    );
    let events = write(&dir, "events.ndjson", ACTIONS_EVENTS);
    let report = diff(
        &[
            "--before", &before, "--after", &removed, "--events", &events,
        ],
        1,
    );
    assert_eq!(
        groups(&report),
        [
            "!attribute_removed plan 2 [Profile]",
            "!state_attribute_lost plan 2"
        ]
    );
    // `Plan` is no attribute of the catalog: Talon.One skips it, so `plan` is lost the same.
    let report = diff(
        &[
            "--before", &before, "--after", &renamed, "--events", &events,
        ],
        1,
    );
    assert_eq!(
        groups(&report),
        [
            "!attribute_removed plan 2 [Profile]",
            "!state_attribute_lost plan 2",
            "attribute_added Plan 2 [Profile]",
        ]
    );
}

#[test]
fn actions_catalog_type_changed_rejects_and_exits_1() {
    let dir = scratch("diff-actions-retype");
    let world = talon_harness::world::World::for_actions(&segment_gen::Scenario::default());
    let before_state = write(&dir, "before-state.json", &world.state.to_json_pretty());
    let mut after: Value = serde_json::from_str(&world.state.to_json_pretty()).unwrap();
    for attribute in after["attributes"].as_array_mut().unwrap() {
        if attribute["name"] == "plan" {
            attribute["type"] = "number".into();
        }
    }
    let after_state = write(&dir, "after-state.json", &after.to_string());
    let events = write(&dir, "events.ndjson", ACTIONS_EVENTS);
    let report = diff(
        &[
            "--destination",
            "actions",
            "--before-state",
            &before_state,
            "--after-state",
            &after_state,
            "--events",
            &events,
        ],
        1,
    );
    assert_groups(
        &report,
        &[
            &format!("!now_rejected plan 2 [{PROFILE}]"),
            "!state_attribute_lost plan 2",
        ],
    );
}

#[test]
fn a_state_pulled_without_keys_still_gates_the_change_for_both_destinations() {
    let dir = scratch("diff-pulled");
    // Classic: the default state as `pull` writes it, without its keys.
    let mut state: Value = serde_json::from_str(
        &std::fs::read_to_string(repo("fixtures/talon/default-state.json")).unwrap(),
    )
    .unwrap();
    state["integrationKeys"] = json!([]);
    let pulled = write(&dir, "pulled.json", &state.to_string());
    let before = classic_settings(&dir, "before.json", &["email", "address_city"]);
    let after = classic_settings(&dir, "after.json", &["email"]);
    let events = write(&dir, "events.ndjson", CLASSIC_EVENTS);
    let out = harness(
        &[
            "diff",
            "--before",
            &before,
            "--after",
            &after,
            "--talon-state",
            &pulled,
            "--events",
            &events,
            "--report",
            "json",
        ],
        b"",
    );
    let printed = exits(&out, 1);
    assert_says(&printed.stderr, &["the state holds no API key"]);
    let report: Value = serde_json::from_str(&printed.stdout).unwrap();
    assert_eq!(report["before"]["delivered"], 3);
    assert_groups(&report, &["!attribute_removed address_city 2"]);
    // Actions: the simulated deployment without keys or host, the customer's own settings.
    let world = talon_harness::world::World::for_actions(&segment_gen::Scenario::default());
    let mut state: Value = serde_json::from_str(&world.state.to_json_pretty()).unwrap();
    state["integrationKeys"] = json!([]);
    state.as_object_mut().unwrap().remove("hostname");
    let pulled = write(&dir, "pulled-actions.json", &state.to_string());
    let after = write(
        &dir,
        "typo.json",
        &edited_profile_subscription(|s| {
            s["settings"]["attributes"] = json!({"@path": "$.trait"});
        }),
    );
    let events = write(&dir, "actions.ndjson", ACTIONS_EVENTS);
    let settings = repo("fixtures/actions/settings.json");
    let report = diff(
        &[
            "--settings",
            &settings,
            "--after",
            &after,
            "--talon-state",
            &pulled,
            "--events",
            &events,
        ],
        1,
    );
    assert_eq!(report["before"]["delivered"], 3);
    assert_groups(&report, &["!state_attribute_lost email 3"]);
}

#[test]
fn a_comparison_talon_one_refuses_on_both_sides_fails_instead_of_passing_blind() {
    let dir = scratch("diff-blind");
    // A state that has keys, none of them the settings': every request is refused (401).
    let mut settings: Value = serde_json::from_str(
        &std::fs::read_to_string(classic_settings(&dir, "x.json", &["email"])).unwrap(),
    )
    .unwrap();
    settings["apiKey"] = "not-a-key-of-the-state".into();
    let settings = write(&dir, "settings.json", &settings.to_string());
    let state = repo("fixtures/talon/default-state.json");
    let events = write(&dir, "events.ndjson", CLASSIC_EVENTS);
    let report = diff(
        &[
            "--before",
            &settings,
            "--after",
            &settings,
            "--talon-state",
            &state,
            "--events",
            &events,
        ],
        1,
    );
    assert_eq!(
        report["groups"],
        json!([]),
        "the same refusals on both sides"
    );
    let blind = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Talon.One accepted events on at least one side")
        .unwrap();
    assert_eq!(blind["passed"], false, "{blind}");
    // Without --talon-state, the built-in state takes the settings' own key.
    let report = diff(
        &[
            "--before", &settings, "--after", &settings, "--events", &events,
        ],
        0,
    );
    assert_eq!(report["before"]["delivered"], 3);
}

#[test]
fn actions_settings_changed_to_a_deployment_talon_one_does_not_have_rejects_and_exits_1() {
    let dir = scratch("diff-actions-settings");
    let world = talon_harness::world::World::for_actions(&segment_gen::Scenario::default());
    let state = write(&dir, "state.json", &world.state.to_json_pretty());
    let before = write(
        &dir,
        "before-settings.json",
        &world.settings_json.to_string(),
    );
    let mut moved = world.settings_json.clone();
    moved["deployment"] = "https://simulated.us-east1.talon.one".into();
    let after = write(&dir, "after-settings.json", &moved.to_string());
    let events = write(&dir, "events.ndjson", ACTIONS_EVENTS);
    let report = diff(
        &[
            "--before-settings",
            &before,
            "--after-settings",
            &after,
            "--talon-state",
            &state,
            "--events",
            &events,
        ],
        1,
    );
    assert_groups(
        &report,
        &[
            &format!("header_changed destination-hostname 3 [{PROFILE}]"),
            "!state_attribute_lost email 3",
        ],
    );
    assert!(
        groups(&report)
            .iter()
            .any(|g| g.starts_with("!now_rejected") && g.ends_with(&format!("3 [{PROFILE}]"))),
        "{:#?}",
        groups(&report)
    );
}

#[test]
fn an_unchanged_configuration_says_so_in_markdown_and_streams_its_comparisons_to_stdout() {
    let dir = scratch("diff-unchanged");
    let settings = classic_settings(&dir, "settings.json", &["email", "plan"]);
    let events = write(&dir, "events.ndjson", CLASSIC_EVENTS);
    let printed = exits(
        &harness(
            &[
                "diff", "--before", &settings, "--after", &settings, "--events", &events,
                "--report", "markdown",
            ],
            b"",
        ),
        0,
    );
    assert!(
        printed
            .stdout
            .starts_with("### talon-harness diff: no change\n\n4 events compared"),
        "{}",
        printed.stdout
    );
    let printed = exits(
        &harness(
            &[
                "diff",
                "--before",
                &settings,
                "--after",
                &settings,
                "--events",
                "-",
                "--changes",
                "-",
            ],
            CLASSIC_EVENTS.as_bytes(),
        ),
        0,
    );
    let lines: Vec<Value> = printed
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "one line per event on stdout");
    assert!(lines.iter().all(|l| l["changes"] == json!([])));
    assert_says(
        &printed.stderr,
        &["no change: every event gives the same requests"],
    );
}

// The gate: accept file, exit 2, one comparison per event.

#[test]
fn an_accept_file_lets_the_reviewed_change_pass_on_a_new_sample_and_still_fails_a_new_one() {
    let dir = scratch("diff-accept");
    let before = classic_settings(&dir, "before.json", &["email", "plan", "address_city"]);
    let after = classic_settings(&dir, "after.json", &["email", "plan"]);
    let events = write(&dir, "events.ndjson", CLASSIC_EVENTS);
    let accept = dir.join("accepted.json").display().to_string();
    diff(
        &[
            "--before",
            &before,
            "--after",
            &after,
            "--events",
            &events,
            "--write-accept",
            &accept,
        ],
        0,
    );
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&accept).unwrap()).unwrap();
    assert_eq!(
        written,
        json!({"accepted": [
            {"kind": "attribute_removed", "attribute": "address_city"},
            {"kind": "state_attribute_lost", "attribute": "address_city"},
        ]})
    );
    // Another sample of the same traffic: other users, other cities, same kinds of difference.
    let sample = write(
        &dir,
        "sample.ndjson",
        r#"{"type": "identify", "userId": "v9", "traits": {"email": "z@example.com", "address": {"city": "Rome"}}}
"#,
    );
    let report = diff(
        &[
            "--before", &before, "--after", &after, "--events", &sample, "--accept", &accept,
        ],
        0,
    );
    assert!(
        report["groups"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["accepted"] == true)
    );
    // A new regression is not covered.
    let worse = classic_settings(&dir, "worse.json", &["email"]);
    let report = diff(
        &[
            "--before", &before, "--after", &worse, "--events", &events, "--accept", &accept,
        ],
        1,
    );
    assert_groups(
        &report,
        &[
            "!attribute_removed plan 2",
            "attribute_removed address_city 2",
        ],
    );
}

#[test]
fn diff_refuses_nothing_to_compare_empty_events_and_a_bad_accept_file_with_exit_2() {
    let dir = scratch("diff-usage");
    let settings = classic_settings(&dir, "settings.json", &["email"]);
    let events = write(&dir, "events.ndjson", CLASSIC_EVENTS);
    let empty = write(&dir, "empty.ndjson", "\n");
    let bad = write(
        &dir,
        "bad.json",
        r#"{"accepted": [{"kind": "no_such_kind"}]}"#,
    );
    let printed = exits(
        &harness(&["diff", "--before", &settings, "--events", &events], b""),
        2,
    );
    assert_says(&printed.stderr, &["nothing to compare"]);
    let printed = exits(
        &harness(
            &[
                "diff", "--before", &settings, "--after", &settings, "--events", &empty,
            ],
            b"",
        ),
        2,
    );
    assert_says(&printed.stderr, &["no events"]);
    exits(
        &harness(
            &[
                "diff", "--before", &settings, "--after", &settings, "--events", &events,
                "--accept", &bad,
            ],
            b"",
        ),
        2,
    );
    let printed = exits(
        &harness(
            &[
                "diff",
                "--before",
                &settings,
                "--after",
                &settings,
                "--settings",
                &settings,
                "--events",
                &events,
            ],
            b"",
        ),
        2,
    );
    assert_says(&printed.stderr, &["`deployment` is required"]);
}

#[test]
fn every_input_event_gets_exactly_one_comparison_line_and_an_unreadable_one_fails() {
    let dir = scratch("diff-changes");
    let before = classic_settings(&dir, "before.json", &["email"]);
    let after = classic_settings(&dir, "after.json", &["email", "plan"]);
    let events = write(
        &dir,
        "events.ndjson",
        &format!("{CLASSIC_EVENTS}not json\n"),
    );
    let changes = dir.join("changes.ndjson");
    let report = diff(
        &[
            "--before",
            &before,
            "--after",
            &after,
            "--events",
            &events,
            "--changes",
            changes.to_str().unwrap(),
        ],
        1,
    );
    let lines: Vec<Value> = std::fs::read_to_string(&changes)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line["index"], i);
    }
    assert_eq!(lines[0]["changes"][0]["kind"], "attribute_added");
    assert_eq!(lines[1]["changes"], json!([]));
    assert_eq!(lines[4]["before"], "skipped");
    let unreadable = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "every input line is a readable Segment event")
        .unwrap();
    assert_eq!(unreadable["passed"], false);
}

#[test]
fn the_junit_report_has_a_failing_case_per_regression_not_accepted() {
    let dir = scratch("diff-junit");
    let before = classic_settings(&dir, "before.json", &["email", "address_city"]);
    let after = classic_settings(&dir, "after.json", &["email", "plan"]);
    let events = write(&dir, "events.ndjson", CLASSIC_EVENTS);
    let junit = dir.join("junit.xml");
    diff(
        &[
            "--before",
            &before,
            "--after",
            &after,
            "--events",
            &events,
            "--junit",
            junit.to_str().unwrap(),
        ],
        1,
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_says(
        &xml,
        &[
            "every event has exactly one comparison",
            "attribute_removed: `address_city` no longer sent",
            "attribute_added: `plan` now sent",
            "failures=\"2\"",
        ],
    );
}

// The library.

fn lines(text: &str) -> Vec<talon_harness::input::EventLine> {
    text.lines()
        .enumerate()
        .map(|(i, l)| talon_harness::input::EventLine {
            source: format!("events:{}", i + 1),
            bytes: l.as_bytes().to_vec(),
        })
        .collect()
}

fn classic(attributes: &[&str]) -> talon_mapper::Destination {
    let settings = json!({
        "apiKey": "segment-demo-integration-key",
        "applicationDomain": "https://demo.talon.one",
        "customAttributes": attributes,
    });
    let settings = talon_mapper::Settings::parse(&settings.to_string()).unwrap();
    talon_mapper::Destination::Classic(settings)
}

#[test]
fn the_engine_gives_the_same_report_whatever_the_round_size_and_pairs_each_event_with_its_own() {
    use talon_harness::diff::{DiffConfig, Side, compare};
    let side = |attributes: &[&str]| Side {
        destination: classic(attributes),
        state: talon_fake::StateFile::default_state(),
    };
    let many: String = (0..50)
        .map(|i| {
            format!(
                "{{\"type\": \"identify\", \"userId\": \"u{}\", \"traits\": {{\"email\": \"e{i}@example.com\", \"plan\": \"p{i}\"}}}}\n",
                i % 7
            )
        })
        .collect();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut reports = Vec::new();
    for chunk in [1, 3, 4096] {
        let mut config = DiffConfig::new(side(&["email"]), side(&["email", "plan"]));
        config.chunk = chunk;
        let mut seen = Vec::new();
        let report = runtime
            .block_on(compare(&config, lines(&many), |c| {
                seen.push((c.index, c.changes[0].after.clone()));
                Ok(())
            }))
            .unwrap();
        assert_eq!(seen.len(), 50);
        for (i, (index, plan)) in seen.iter().enumerate() {
            assert_eq!(*index, i as u64);
            assert_eq!(
                plan,
                &Some(Value::from(format!("p{i}"))),
                "event {i} paired with another's"
            );
        }
        assert_eq!(report.events, 50);
        assert_eq!(report.profiles, 7);
        reports.push(report);
    }
    assert_eq!(reports[0], reports[1]);
    assert_eq!(reports[1], reports[2]);
    // The final state: each profile holds its last event's plan.
    let gained = reports[0]
        .groups
        .iter()
        .find(|g| g.fingerprint.kind == talon_harness::diff::ChangeKind::StateAttributeGained)
        .unwrap();
    assert_eq!(gained.count, 7);
}

#[test]
fn a_request_compared_with_itself_has_no_change() {
    let destination = classic(&["email", "plan"]);
    let event = br#"{"type": "identify", "userId": "u1", "traits": {"email": "a@example.com", "plan": "gold"}}"#;
    let mapped = talon_mapper::map(&destination, event);
    assert!(talon_harness::diff::compare_mapped(&mapped, &mapped).is_empty());
    let other = talon_mapper::map(&classic(&["email"]), event);
    let changes = talon_harness::diff::compare_mapped(&mapped, &other);
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].fingerprint.attribute.as_deref(), Some("plan"));
}

// The bundled example changes: `fixtures/changes/<name>/`, each run as its `args` file says,
// from its own folder, so the report names its files as a user sees them.

fn example_changes() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(repo("fixtures/changes"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("args").is_file())
        .collect();
    dirs.sort();
    dirs
}

/// The snapshot files of the example changes (`diff_<name>_text.snap`, `…_markdown.snap`).
pub(crate) fn snapshot_names() -> Vec<String> {
    example_changes()
        .iter()
        .flat_map(|dir| {
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            ["text", "markdown"].map(|kind| format!("diff_{name}_{kind}.snap"))
        })
        .collect()
}

fn run_example(dir: &Path, report: &str) -> (String, i32) {
    let args = std::fs::read_to_string(dir.join("args")).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_talon-harness"))
        .args(args.split_whitespace())
        .args(["--report", report])
        .current_dir(dir)
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        output.status.code().unwrap_or(-1),
    )
}

#[test]
fn the_bundled_example_changes_report_as_their_snapshots_say() {
    let dirs = example_changes();
    assert!(dirs.len() >= 3, "{dirs:?}");
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        assert!(dir.join("README.md").is_file(), "{name} has no README.md");
        let (text, code) = run_example(&dir, "text");
        let (markdown, markdown_code) = run_example(&dir, "markdown");
        assert_eq!(code, markdown_code, "{name}");
        let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
        assert!(
            readme.contains(&format!("exit {code}")),
            "{name}: README.md does not say `exit {code}`"
        );
        crate::snapshot_settings().bind(|| {
            insta::assert_snapshot!(format!("diff_{name}_text"), text);
            insta::assert_snapshot!(format!("diff_{name}_markdown"), markdown);
        });
    }
}
