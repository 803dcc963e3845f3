//! `talon-harness check` for the Talon.One (Actions) destination: each finding through the
//! library function (`preflight::actions::checks`), a clean case beside it, and a few runs of
//! the binary.

use serde_json::{Value, json};
use talon_fake::StateFile;
use talon_harness::input::EventLine;
use talon_harness::output::Check;
use talon_harness::preflight::KeyCheck;
use talon_harness::preflight::actions::{self, ActionsInputs};

use crate::{assert_says, exits, harness, repo};

const DIR: &str = "fixtures/check/actions";
const HOST: &str = "https://shop.europe-west1.talon.one/";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(repo(&format!("{DIR}/{name}"))).expect("the fixture")
}

fn state() -> StateFile {
    StateFile::from_json(&fixture("talon-state.json")).expect("the fixture state")
}

fn settings(key: &str, deployment: &str) -> String {
    json!({"apiKey": key, "deployment": deployment}).to_string()
}

fn good_settings() -> String {
    settings("shop-segment-key", HOST)
}

/// The fixture's subscriptions.
fn clean() -> Vec<Value> {
    let all: Value = serde_json::from_str(&fixture("subscriptions.json")).expect("JSON");
    all["subscriptions"].as_array().expect("a list").clone()
}

/// The fixture's subscriptions, changed.
fn changed(change: impl FnOnce(&mut Vec<Value>)) -> String {
    let mut subs = clean();
    change(&mut subs);
    json!({ "subscriptions": subs }).to_string()
}

/// One subscription.
fn sub(name: &str, action: &str, trigger: &str, mapping: Value) -> Value {
    json!({"name": name, "actionSlug": action, "enabled": true, "trigger": trigger, "settings": mapping})
}

fn lines(events: &[Value]) -> Vec<EventLine> {
    (1..)
        .zip(events)
        .map(|(i, e)| EventLine {
            source: format!("events.ndjson:{i}"),
            bytes: e.to_string().into_bytes(),
        })
        .collect()
}

fn fixture_events() -> Vec<EventLine> {
    fixture("events.ndjson")
        .lines()
        .zip(1..)
        .map(|(l, i)| EventLine {
            source: format!("events.ndjson:{i}"),
            bytes: l.as_bytes().to_vec(),
        })
        .collect()
}

/// The checks and notes for these inputs, against the fixture state.
fn run_with(
    settings: &str,
    subscriptions: &str,
    events: &[EventLine],
) -> (Vec<Check>, Vec<String>) {
    let state = state();
    actions::checks(&ActionsInputs {
        settings,
        subscriptions,
        state: &state,
        key: KeyCheck::FromState,
        events,
    })
    .expect("a usable configuration")
}

fn run(subscriptions: &str, events: &[EventLine]) -> Vec<Check> {
    run_with(&good_settings(), subscriptions, events).0
}

#[track_caller]
fn details(checks: &[Check], name: &str) -> Vec<String> {
    checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no check `{name}` in {checks:#?}"))
        .details
        .clone()
}

fn failing(checks: &[Check]) -> Vec<&str> {
    checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.name.as_str())
        .collect()
}

/// The one failing check is `name`, with one detail, which says each of `needles`.
#[track_caller]
fn only_finding(checks: &[Check], name: &str, needles: &[&str]) -> String {
    assert_eq!(failing(checks), [name], "{checks:#?}");
    let found = details(checks, name);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_says(&found[0], needles);
    found[0].clone()
}

fn identify(user: &str, traits: Value) -> Value {
    json!({"type": "identify", "userId": user, "traits": traits})
}

fn track(user: &str, event: &str, properties: Value) -> Value {
    json!({"type": "track", "userId": user, "event": event, "properties": properties})
}

// ------------------------------------------------------------------ the clean case

#[test]
fn the_clean_fixture_passes_every_check_with_and_without_events() {
    let subs = changed(|_| {});
    let (checks, notes) = run_with(&good_settings(), &subs, &[]);
    assert_eq!(failing(&checks), Vec::<&str>::new(), "{checks:#?}");
    assert!(checks.iter().all(|c| c.name != actions::VALUES_FIT));
    assert_says(
        &notes.join("\n"),
        &["third-party key for Segment and opens application 1 \"Shop\""],
    );
    let checks = run(&subs, &fixture_events());
    assert_eq!(failing(&checks), Vec::<&str>::new(), "{checks:#?}");
    for name in actions::EVENT_CHECKS {
        assert!(checks.iter().any(|c| c.name == *name), "{name}");
    }
}

// ------------------------------------------------------------------ settings, deployment, key

#[test]
fn a_deployment_without_https_is_a_settings_problem_but_still_routes() {
    let (checks, _) = run_with(
        &settings("shop-segment-key", "shop.europe-west1.talon.one"),
        &changed(|_| {}),
        &[],
    );
    only_finding(
        &checks,
        actions::SETTINGS_VALID,
        &["has no https:// scheme"],
    );
}

#[test]
fn every_form_of_the_deployment_host_finds_the_deployment() {
    for typed in [
        "https://shop.europe-west1.talon.one",
        "https://SHOP.europe-west1.talon.one/",
        " shop.europe-west1.talon.one",
    ] {
        let (checks, _) = run_with(&settings("shop-segment-key", typed), &changed(|_| {}), &[]);
        assert!(
            !failing(&checks).contains(&actions::DEPLOYMENT),
            "{typed}: {checks:#?}"
        );
    }
}

#[test]
fn an_unknown_deployment_names_the_deployments_that_exist() {
    let (checks, notes) = run_with(
        &settings("shop-segment-key", "https://shop.europe-west4.talon.one"),
        &changed(|_| {}),
        &[],
    );
    only_finding(
        &checks,
        actions::DEPLOYMENT,
        &[
            "the deployment `https://shop.europe-west4.talon.one` (host `shop.europe-west4.talon.one`) is none of this state's deployments",
            "`shop.europe-west1.talon.one`, `shop-staging.europe-west1.talon.one`",
            "answers 400 to every request",
        ],
    );
    assert!(checks.iter().all(|c| c.name != actions::KEY));
    assert_says(
        &notes.join("\n"),
        &["was not checked: no deployment of the state matches"],
    );
}

#[test]
fn a_further_deployment_is_found_by_its_hostname_with_its_own_key() {
    let (checks, _) = run_with(
        &settings(
            "staging-segment-key",
            "https://shop-staging.europe-west1.talon.one",
        ),
        &changed(|s| s.truncate(1)),
        &[],
    );
    // Staging has no attributes: the profile mapping's names are missing there, not the key.
    assert_eq!(failing(&checks), [actions::MAPPED_NAMES], "{checks:#?}");
}

#[test]
fn only_a_segment_third_party_key_of_that_deployment_opens_the_relay() {
    let cases = [
        (
            "shop-integration-key",
            "is an Integration API key of application 1 \"Shop\", not a third-party key",
        ),
        (
            "shop-mparticle-key",
            "is a third-party key made for `mParticle`, not Segment",
        ),
        (
            "shop-management-key",
            "is a Management API key of deployment",
        ),
        (
            "staging-segment-key",
            "belongs to deployment `shop-staging.europe-west1.talon.one`, not `shop.europe-west1.talon.one`",
        ),
        (
            "no-such-key",
            "is no key of deployment `shop.europe-west1.talon.one`",
        ),
    ];
    for (key, says) in cases {
        let (checks, _) = run_with(&settings(key, HOST), &changed(|_| {}), &[]);
        let found = only_finding(
            &checks,
            actions::KEY,
            &[says, "the relay answers 401 to every request"],
        );
        assert!(!found.contains(key), "the key is shown whole: {found}");
        if key != "staging-segment-key" {
            assert_says(&found, &["create a third-party API key for Segment"]);
        }
    }
}

#[test]
fn a_live_key_check_fails_on_401_and_passes_on_204() {
    let state = state();
    let subs = changed(|_| {});
    let settings = good_settings();
    let live = |status| {
        actions::checks(&ActionsInputs {
            settings: &settings,
            subscriptions: &subs,
            state: &state,
            key: KeyCheck::Live(status),
            events: &[],
        })
        .expect("usable")
        .0
    };
    only_finding(&live(401), actions::KEY, &["GET /v2/authping answered 401"]);
    assert_eq!(failing(&live(204)), Vec::<&str>::new());
}

// ------------------------------------------------------------------ actions and triggers

#[test]
fn an_unknown_action_is_named_with_the_actions_that_exist() {
    let subs = changed(|s| s[0]["actionSlug"] = json!("updateCustomerProfileV4"));
    only_finding(
        &run(&subs, &[]),
        actions::ACTIONS_EXIST,
        &[
            "subscription `Identify: profile`: `updateCustomerProfileV4` is not an action",
            "use one of `createAudience`",
            "`updateCustomerProfileV3`",
        ],
    );
    let subs = changed(|s| {
        s[0]["actionSlug"] = json!("updateCustomerProfileV4");
        s[0]["enabled"] = json!(false);
    });
    assert_eq!(failing(&run(&subs, &[])), Vec::<&str>::new());
}

#[test]
fn deprecated_actions_still_subscribed_are_named_with_their_replacement() {
    for (old, new) in [
        ("updateCustomerProfile", "updateCustomerProfileV3"),
        ("updateCustomerProfileV2", "updateCustomerProfileV3"),
        ("trackEvent", "trackEventV2"),
        ("updateCustomerSession", "updateCustomerSessionV2"),
    ] {
        let subs = changed(|s| {
            s.truncate(1);
            s.push(sub("Old", old, "type = \"page\"", json!({})));
        });
        only_finding(
            &run(&subs, &[]),
            actions::NOT_DEPRECATED,
            &[&format!(
                "subscription `Old` uses `{old}`, which Segment and Talon.One deprecated: switch it to `{new}`"
            )],
        );
    }
}

#[test]
fn a_trigger_that_does_not_parse_is_a_finding_and_the_rest_is_still_checked() {
    let subs = changed(|s| {
        s[0]["trigger"] = json!("type");
        s[1]["settings"]["attributes"] = json!({"Cart_value": {"@path": "$.properties.value"}});
    });
    let checks = run(&subs, &[]);
    assert_eq!(
        failing(&checks),
        [actions::TRIGGERS, actions::MAPPED_NAMES],
        "{checks:#?}"
    );
    let triggers = details(&checks, actions::TRIGGERS);
    assert_eq!(triggers.len(), 1);
    assert_says(
        &triggers[0],
        &[
            "subscription `Identify: profile`: trigger `type` does not parse",
            "Segment's own parser says \"Value token is missing\"",
            "the subscription never runs",
        ],
    );
    // Disabled subscriptions' triggers are never parsed, by Segment or here.
    let subs = changed(|s| {
        s[0]["trigger"] = json!("type");
        s[0]["enabled"] = json!(false);
    });
    assert_eq!(failing(&run(&subs, &[])), Vec::<&str>::new());
}

#[test]
fn triggers_that_can_never_fire_are_named_with_why() {
    let cases = [
        (
            r#"type = "screen""#,
            "can fire only on `screen` events, which Segment does not send to Talon.One (Actions)",
        ),
        (
            r#"type = "identify" and type = "track""#,
            "can never fire: its conditions on `type` exclude each other",
        ),
        (
            r#"type = "identify" and event = "Signed Up""#,
            "only a track carries `event`",
        ),
        (
            r#"type = "track" and event = "A" and event = "B""#,
            "two different event names at once",
        ),
        (
            r#"type = "Identify""#,
            "can never match: Segment's event types are identify",
        ),
    ];
    for (trigger, says) in cases {
        let subs = changed(|s| s[0]["trigger"] = json!(trigger));
        only_finding(
            &run(&subs, &[]),
            actions::TRIGGERS,
            &["subscription `Identify: profile`", says],
        );
    }
    let subs = changed(|s| s[0]["trigger"] = json!(r#"type = "identify" or type = "screen""#));
    assert_eq!(failing(&run(&subs, &[])), Vec::<&str>::new());
}

#[test]
fn event_names_with_white_space_or_another_case_than_the_events_never_match() {
    let subs =
        changed(|s| s[1]["trigger"] = json!("type = \"track\" and event = \"Product Added \""));
    only_finding(
        &run(&subs, &[]),
        actions::TRIGGERS,
        &[
            "`event = \"Product Added \"`, with white space at its ends",
            "so `Product Added` never matches",
        ],
    );
    let events = lines(&[
        track("u-1", "Product Added", json!({"value": 1})),
        track("u-1", "Product Added", json!({"value": 2})),
    ]);
    let subs = changed(|s| {
        s.truncate(2);
        s[1]["trigger"] = json!("type = \"track\" and event = \"product added\"");
        s.remove(0);
    });
    let checks = run(&subs, &events);
    // The trigger's name is also an event type the deployment lacks: one `product added`
    // event would be refused.
    assert_eq!(
        failing(&checks),
        [
            actions::TRIGGERS,
            actions::MAPPED_EVENT_TYPES,
            actions::SUBSCRIPTIONS_MATCH
        ],
        "{checks:#?}"
    );
    assert_says(
        &details(&checks, actions::TRIGGERS)[0],
        &[
            "compares `event = \"product added\"`, but the events carry `Product Added` (2 events)",
            "write `event = \"Product Added\"`",
        ],
    );
    // The same trigger with the events' own spelling is clean.
    let subs = changed(|s| {
        s.truncate(2);
        s.remove(0);
    });
    assert_eq!(failing(&run(&subs, &events)), Vec::<&str>::new());
}

// ------------------------------------------------------------------ audiences

#[test]
fn audience_ids_must_be_numeric_ids_of_audiences_the_deployment_has() {
    let subs = changed(|s| s[3]["settings"]["addAudienceIds"] = json!([7]));
    only_finding(
        &run(&subs, &[]),
        actions::AUDIENCE_IDS,
        &[
            "`addAudienceIds` holds 7, which is no audience of this deployment (its audiences: 1 \"VIP customers\")",
        ],
    );
    let subs = changed(|s| s[3]["settings"]["addAudienceIds"] = json!(["vip_customers"]));
    only_finding(
        &run(&subs, &[]),
        actions::AUDIENCE_IDS,
        &[
            "holds \"vip_customers\", which is not a Talon.One audience id",
            "e.g. [1]",
        ],
    );
    // Segment's validation turns "1" into 1: that is the existing audience.
    let subs = changed(|s| s[3]["settings"]["addAudienceIds"] = json!(["1"]));
    assert_eq!(failing(&run(&subs, &[])), Vec::<&str>::new());
}

#[test]
fn the_many_profiles_audience_action_is_checked_item_by_item() {
    let subs = changed(|s| {
        s.push(sub(
            "Batch",
            "updateCustomerProfilesAudiences",
            "type = \"track\" and event = \"Batch\"",
            json!({"data": [{"customerProfileId": "u-1", "adds": [1], "deletes": [3]}]}),
        ));
    });
    only_finding(
        &run(&subs, &[]),
        actions::AUDIENCE_IDS,
        &["`data[0].deletes` holds 3"],
    );
    // The same through `@arrayPath`: the item's literal ids are checked.
    let batch = |ids: Value| {
        changed(|s| {
            s.push(sub(
                "Batch",
                "updateCustomerProfilesAudiences",
                "type = \"track\" and event = \"Batch\"",
                json!({"data": {"@arrayPath": ["$.properties.users", {"customerProfileId": {"@path": "$.id"}, "adds": ids}]}}),
            ));
        })
    };
    only_finding(
        &run(&batch(json!([5])), &[]),
        actions::AUDIENCE_IDS,
        &["`data[0].adds` holds 5"],
    );
    assert_eq!(failing(&run(&batch(json!([1])), &[])), Vec::<&str>::new());
}

#[test]
fn audience_ids_mapped_from_the_event_are_a_note_and_checked_with_events() {
    let subs =
        changed(|s| s[3]["settings"]["addAudienceIds"] = json!({"@path": "$.properties.ids"}));
    let (checks, notes) = run_with(&good_settings(), &subs, &[]);
    assert_eq!(failing(&checks), Vec::<&str>::new(), "{checks:#?}");
    assert_says(
        &notes.join("\n"),
        &[
            "`addAudienceIds` is mapped from the event",
            "checked only with --events",
        ],
    );
    let events = lines(&[track(
        "u-1",
        "Audience Entered",
        json!({"audience_key": "vip_customers", "ids": [1, 9]}),
    )]);
    let checks = run(&subs, &events);
    assert_eq!(
        failing(&checks),
        [actions::IDS, actions::SUBSCRIPTIONS_MATCH],
        "{checks:#?}"
    );
    assert_says(
        &details(&checks, actions::IDS)[0],
        &[
            "events.ndjson:1: subscription `VIP entered`: audiencesChanges names audience 9, which is no Talon.One audience",
        ],
    );
}

#[test]
fn an_engage_audience_subscription_without_audience_ids_joins_no_audience() {
    let subs = changed(|s| {
        s[3]["settings"] =
            json!({"customerProfileId": {"@path": "$.userId"}, "runRuleEngine": true});
    });
    only_finding(
        &run(&subs, &[]),
        actions::AUDIENCE_IDS,
        &[
            "subscription `VIP entered` handles Engage audience events",
            "maps no audience ids",
            "\"addAudienceIds\": [1]",
        ],
    );
}

#[test]
fn engage_audience_identifies_sent_without_audience_ids_are_counted() {
    let engage = |user: &str, member: bool| {
        json!({"type": "identify", "userId": user, "traits": {"email": "a@example.com", "vip_customers": member},
               "context": {"personas": {"computation_class": "audience", "computation_key": "vip_customers"}}})
    };
    let subs =
        changed(|s| s[0]["settings"]["attributes"] = json!({"email": {"@path": "$.traits.email"}}));
    let events = lines(&[
        engage("u-1", true),
        engage("u-2", false),
        identify("u-3", json!({"email": "c@example.com"})),
    ]);
    let checks = run(&subs, &events);
    assert!(
        failing(&checks).contains(&actions::AUDIENCE_IDS),
        "{checks:#?}"
    );
    assert_eq!(
        details(&checks, actions::AUDIENCE_IDS),
        [
            "subscription `Identify: profile`: 2 Engage audience events of `vip_customers` (first events.ndjson:1) join no Talon.One audience: the subscription maps no audience ids, so `vip_customers` lands at most as an attribute; add a subscription for the audience with its Talon.One numeric id (`\"addAudienceIds\": [1]` on entering, `deleteAudienceIds` on exiting)"
        ]
    );
    // Plain identifies are no audience events.
    let checks = run(&subs, &events[2..]);
    assert!(details(&checks, actions::AUDIENCE_IDS).is_empty());
}

#[test]
fn audience_changes_need_run_rule_engine_true() {
    let subs = changed(|s| s[3]["settings"]["runRuleEngine"] = json!(false));
    only_finding(
        &run(&subs, &[]),
        actions::RULE_ENGINE,
        &[
            "subscription `VIP entered` sends audience changes with `runRuleEngine` false",
            "does not apply audience changes",
        ],
    );
    let subs = changed(|s| {
        s[3]["settings"]
            .as_object_mut()
            .map(|m| m.remove("runRuleEngine"));
    });
    only_finding(
        &run(&subs, &[]),
        actions::RULE_ENGINE,
        &["without `runRuleEngine`", "Talon.One takes it as false"],
    );
    // Mapped from the event: a note, then the events tell.
    let subs =
        changed(|s| s[3]["settings"]["runRuleEngine"] = json!({"@path": "$.properties.run"}));
    assert_eq!(failing(&run(&subs, &[])), Vec::<&str>::new());
    let events = lines(&[
        track(
            "u-1",
            "Audience Entered",
            json!({"audience_key": "vip_customers", "run": false}),
        ),
        track(
            "u-2",
            "Audience Entered",
            json!({"audience_key": "vip_customers", "run": true}),
        ),
    ]);
    let checks = run(&subs, &events);
    assert!(
        failing(&checks).contains(&actions::RULE_ENGINE),
        "{checks:#?}"
    );
    assert_says(
        &details(&checks, actions::RULE_ENGINE)[0],
        &[
            "subscription `VIP entered`: 1 event with audience changes and runRuleEngine not true (first events.ndjson:1)",
        ],
    );
}

// ------------------------------------------------------------------ mapped attribute names

#[test]
fn mapped_attribute_names_missing_from_the_catalog_get_exact_case_hints() {
    let subs =
        changed(|s| s[0]["settings"]["attributes"] = json!({"Email": {"@path": "$.traits.email"}}));
    only_finding(
        &run(&subs, &[]),
        actions::MAPPED_NAMES,
        &[
            "subscription `Identify: profile`: `attributes` writes `Email`, which is not a CustomerProfile attribute; `email` is (names are case-sensitive): use `email`",
            "Talon.One refuses every request that carries it (400, skipNonExistingAttributes is off)",
        ],
    );
}

#[test]
fn mapped_names_are_looked_up_for_the_actions_entity() {
    let cases = [
        (
            0,
            "attributes",
            json!({"channel": "web"}),
            "`channel` exists for CustomerSession, not CustomerProfile",
        ),
        (
            1,
            "attributes",
            json!({"plan": "pro"}),
            "`plan`, which is not an Event attribute; `plan` exists for CustomerProfile",
        ),
        (
            2,
            "attributes",
            json!({"email": "x"}),
            "`email`, which is not a CustomerSession attribute",
        ),
    ];
    for (index, key, value, says) in cases {
        let subs = changed(|s| s[index]["settings"][key] = value);
        only_finding(&run(&subs, &[]), actions::MAPPED_NAMES, &[says]);
    }
    let subs = changed(|s| {
        s[2]["settings"]["cartItems"]["@arrayPath"][1]["attributes"] =
            json!({"colour": {"@path": "$.color"}});
    });
    only_finding(
        &run(&subs, &[]),
        actions::MAPPED_NAMES,
        &["`cartItems[].attributes` writes `colour`, which is not a CartItem attribute"],
    );
}

#[test]
fn with_skip_non_existing_attributes_a_missing_name_is_dropped_silently() {
    let subs = changed(|s| {
        s[0]["settings"]["skipNonExistingAttributes"] = json!(true);
        s[0]["settings"]["attributes"]["Plan"] = json!({"@path": "$.traits.plan"});
    });
    only_finding(
        &run(&subs, &[]),
        actions::MAPPED_NAMES,
        &[
            "`Plan`",
            "`plan` is",
            "Talon.One drops it silently (skipNonExistingAttributes is on)",
        ],
    );
}

#[test]
fn attributes_mapped_whole_from_the_event_are_a_note_and_deprecated_actions_are_left_out() {
    let subs = changed(|s| s[0]["settings"]["attributes"] = json!({"@path": "$.traits"}));
    let (checks, notes) = run_with(&good_settings(), &subs, &[]);
    assert_eq!(failing(&checks), Vec::<&str>::new());
    assert_says(
        &notes.join("\n"),
        &["`attributes` is mapped from the event ({\"@path\":\"$.traits\"})"],
    );
    // The deprecated endpoints create the attributes they lack: only the deprecation is named.
    let subs = changed(|s| {
        s[0]["actionSlug"] = json!("updateCustomerProfile");
        s[0]["settings"]["attributes"] = json!({"Nickname": "x"});
    });
    assert_eq!(failing(&run(&subs, &[])), [actions::NOT_DEPRECATED]);
}

#[test]
fn a_literal_value_whose_type_cannot_match_is_found_before_any_event() {
    let subs = changed(|s| {
        s[0]["settings"]["attributes"]["logins"] = json!("12");
        s[0]["settings"]["attributes"]["plan"] = json!("pro");
    });
    only_finding(
        &run(&subs, &[]),
        actions::LITERALS_FIT,
        &[
            "subscription `Identify: profile`: `attributes` writes `logins` as the literal \"12\" (string), but Talon.One's CustomerProfile attribute `logins` is `number`",
        ],
    );
    let subs = changed(|s| s[0]["settings"]["attributes"]["logins"] = json!(12));
    assert_eq!(failing(&run(&subs, &[])), Vec::<&str>::new());
}

#[test]
fn event_types_fixed_by_a_literal_or_a_trigger_must_exist_without_events() {
    let event = |name: &str, trigger: &str, event_type: Value| {
        sub(
            name,
            "trackEventV2",
            trigger,
            json!({"customerProfileId": {"@path": "$.userId"}, "eventType": event_type}),
        )
    };
    let subs = changed(|s| {
        s.push(event(
            "Orders or adds",
            r#"type = "track" and (event = "Order Completed" or event = "Product Added")"#,
            json!({"@path": "$.event"}),
        ));
        s.push(event(
            "Wishlist",
            r#"type = "track""#,
            json!("product added"),
        ));
        s.push(event(
            "All but audiences",
            r#"type = "track" and event != "Audience Entered""#,
            json!({"@path": "$.event"}),
        ));
    });
    let (checks, _) = run_with(&good_settings(), &subs, &[]);
    assert_eq!(
        failing(&checks),
        [actions::MAPPED_EVENT_TYPES],
        "{checks:#?}"
    );
    let found = details(&checks, actions::MAPPED_EVENT_TYPES);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_says(
        &found[0],
        &[
            "subscription `Orders or adds`: its `eventType` is `$.event` and its trigger admits only `Order Completed`",
            "not an event type Talon.One has",
        ],
    );
    assert_says(
        &found[1],
        &[
            "subscription `Wishlist`: its `eventType` is the literal `product added`",
            "`Product Added` is (event types are exact: case and white space)",
        ],
    );
}

// ------------------------------------------------------------------ with events

fn profile_subs(skip: bool) -> String {
    changed(|s| {
        s[0]["settings"]["attributes"] = json!({"@path": "$.traits"});
        s[0]["settings"]["skipNonExistingAttributes"] = json!(skip);
    })
}

#[test]
fn an_unknown_attribute_refuses_the_update_when_skip_is_off() {
    let events = lines(&[
        identify("u-1", json!({"email": "a@example.com"})),
        identify("u-2", json!({"Email": "b@example.com"})),
    ]);
    let checks = run(&profile_subs(false), &events);
    assert_eq!(
        failing(&checks),
        [actions::ATTRIBUTES_EXIST, actions::SUBSCRIPTIONS_MATCH]
    );
    assert_eq!(
        details(&checks, actions::ATTRIBUTES_EXIST),
        [
            "events.ndjson:2: subscription `Identify: profile`: `Email` is not a CustomerProfile attribute in Talon.One; `email` is (names are case-sensitive): use `email`: the whole request for `u-2` is refused (400, skipNonExistingAttributes is off)"
        ]
    );
}

#[test]
fn with_skip_on_unknown_attributes_are_a_silent_loss_counted_per_subscription() {
    let events = lines(&[
        identify("u-1", json!({"email": "a@example.com", "nickname": "a"})),
        identify("u-2", json!({"nickname": "b"})),
        identify("u-3", json!({"email": "c@example.com"})),
    ]);
    let checks = run(&profile_subs(true), &events);
    assert!(
        !failing(&checks).contains(&actions::ATTRIBUTES_EXIST),
        "{checks:#?}"
    );
    assert_eq!(
        details(&checks, actions::NOT_DROPPED),
        [
            "subscription `Identify: profile`: `nickname` is not a CustomerProfile attribute; skipNonExistingAttributes is on, so Talon.One drops it silently from 2 events (first events.ndjson:1); create the attribute in Talon.One, or map the value to an attribute it has"
        ]
    );
    // Nothing dropped when every attribute exists.
    let clean = lines(&[identify("u-1", json!({"email": "a@example.com"}))]);
    assert!(details(&run(&profile_subs(true), &clean), actions::NOT_DROPPED).is_empty());
}

#[test]
fn a_nested_object_where_the_catalog_is_flat_is_named_as_unflattened() {
    let events = lines(&[identify(
        "u-1",
        json!({"address": {"city": "Berlin", "street": "Main 1"}}),
    )]);
    let checks = run(&profile_subs(false), &events);
    assert_says(
        &details(&checks, actions::ATTRIBUTES_EXIST)[0],
        &[
            "`address` is not a CustomerProfile attribute in Talon.One; `address` is an object, and Talon.One has `address_city`, `address_street`: the Actions destination does not flatten",
            "\"address_city\": {\"@path\": \"$.traits.address.city\"}",
        ],
    );
}

#[test]
fn values_whose_type_does_not_fit_are_refused_whatever_the_skip_flag() {
    let events = lines(&[
        identify("u-1", json!({"logins": "12"})),
        identify("u-2", json!({"plan": null})),
        identify("u-3", json!({"logins": 12, "plan": "pro"})),
    ]);
    for skip in [false, true] {
        let checks = run(&profile_subs(skip), &events);
        let wrong = details(&checks, actions::VALUES_FIT);
        assert_eq!(wrong.len(), 2, "{wrong:#?}");
        assert_says(
            &wrong[0],
            &[
                "events.ndjson:1: subscription `Identify: profile`: `logins` is a string \"12\" but Talon.One's CustomerProfile attribute `logins` is `number`",
                "refused (400)",
            ],
        );
        assert_says(&wrong[1], &["events.ndjson:2", "`plan` is null"]);
    }
}

#[test]
fn event_and_session_attributes_are_checked_against_their_own_entities() {
    let events = lines(&[
        track("u-1", "Product Added", json!({"value": "42"})),
        json!({"type": "track", "userId": "u-1", "event": "Order Completed", "context": {"channel": 7},
               "properties": {"order_id": "o-1", "products": [{"sku": "S", "quantity": 1, "color": ["red"]}]}}),
    ]);
    let subs = changed(|s| s.truncate(3));
    let checks = run(&subs, &events);
    let wrong = details(&checks, actions::VALUES_FIT);
    assert_eq!(wrong.len(), 3, "{wrong:#?}");
    assert_says(
        &wrong[0],
        &[
            "events.ndjson:1: subscription `Product Added: event`: `cart_value` is a string \"42\" but Talon.One's Event attribute",
        ],
    );
    assert_says(
        &wrong[1],
        &[
            "events.ndjson:2: subscription `Order Completed: session`: `channel` is a number 7 but Talon.One's CustomerSession attribute",
        ],
    );
    assert_says(
        &wrong[2],
        &["`color` is an array [\"red\"] but Talon.One's CartItem attribute `color` is `string`"],
    );
}

#[test]
fn cart_items_need_an_integer_quantity_and_numbers_as_numbers() {
    let order = |product: Value| {
        json!({"type": "track", "userId": "u-1", "event": "Order Completed",
               "properties": {"order_id": "o-1", "products": [product]}})
    };
    let subs = changed(|s| {
        s.truncate(3);
        s[2]["settings"]["cartItems"]["@arrayPath"][1]["weight"] = json!({"@path": "$.weight"});
    });
    let events = lines(&[
        order(json!({"sku": "S-1", "quantity": 1.5})),
        order(json!({"sku": "S-2", "quantity": 0})),
        order(json!({"sku": "S-3", "quantity": 1, "weight": 2.5})),
        order(json!({"sku": "S-4", "quantity": 3})),
    ]);
    let cart = details(&run(&subs, &events), actions::CART_ITEMS);
    assert_eq!(cart.len(), 3, "{cart:#?}");
    assert_says(
        &cart[0],
        &[
            "events.ndjson:1: subscription `Order Completed: session`: cartItems[0].quantity is 1.5: Talon.One takes an integer quantity of at least 1",
        ],
    );
    assert_says(&cart[1], &["events.ndjson:2", "quantity is 0"]);
    assert_says(
        &cart[2],
        &[
            "events.ndjson:3",
            "cartItems[0].weight arrives as the string \"2.5\"",
        ],
    );
}

#[test]
fn ids_talon_one_refuses_and_ids_that_change_the_path_are_named() {
    let long = "x".repeat(1001);
    let events = lines(&[
        identify(&long, json!({"email": "a@example.com"})),
        identify("team/ada", json!({"email": "a@example.com"})),
        identify("u-1", json!({"email": "a@example.com"})),
    ]);
    let checks = run(&changed(|_| {}), &events);
    assert_says(
        &details(&checks, actions::IDS)[0],
        &[
            "events.ndjson:1: subscription `Identify: profile`: customerProfileId: the integration id has 1001 characters",
        ],
    );
    let paths = details(&checks, actions::PATHS);
    assert_eq!(paths.len(), 1, "{paths:#?}");
    assert_says(
        &paths[0],
        &[
            "events.ndjson:2: subscription `Identify: profile`: customerProfileId `team/ada` is put into the URL unencoded",
            "/segment/v2/customer_profiles/team/ada",
        ],
    );
}

#[test]
fn payloads_segment_refuses_subscriptions_never_matched_and_unmatched_events_are_reported() {
    let events = lines(&[
        json!({"type": "identify", "anonymousId": "anon-1", "traits": {"email": "a@example.com"}}),
        json!({"type": "page", "userId": "u-1", "name": "Home"}),
        track("u-1", "Product Viewed", json!({})),
        track("u-1", "Product Viewed", json!({})),
    ]);
    let (checks, notes) = run_with(&good_settings(), &changed(|_| {}), &events);
    assert_eq!(
        details(&checks, actions::SEGMENT_VALID),
        [
            "events.ndjson:1: subscription `Identify: profile`: Segment's validation refuses the payload, nothing is sent: The root value is missing the required field 'customerProfileId'."
        ]
    );
    let never = details(&checks, actions::SUBSCRIPTIONS_MATCH);
    assert_eq!(never.len(), 3, "{never:#?}");
    assert_says(
        &never[0],
        &[
            "subscription `Product Added: event` (trigger `type = \"track\" and event = \"Product Added\"`) matched none of the 4 events",
        ],
    );
    assert_says(
        &notes.join("\n"),
        &[
            "3 events matched no enabled subscription and send nothing: 1 page, 2 track `Product Viewed`",
        ],
    );
}

#[test]
fn an_unreadable_line_is_a_finding() {
    let mut events = fixture_events();
    events.push(EventLine {
        source: "events.ndjson:5".into(),
        bytes: b"{not json".to_vec(),
    });
    let checks = run(&changed(|_| {}), &events);
    only_finding(
        &checks,
        actions::READABLE,
        &["events.ndjson:5: not a readable Segment event"],
    );
}

/// The checks for these inputs against `state`.
fn run_on(state: &StateFile, subscriptions: &str, events: &[EventLine]) -> Vec<Check> {
    actions::checks(&ActionsInputs {
        settings: &good_settings(),
        subscriptions,
        state,
        key: KeyCheck::FromState,
        events,
    })
    .expect("a usable configuration")
    .0
}

/// A `trackEventV2` subscription for every Track, with these attributes (`skip` off).
fn every_track(attributes: Value) -> Value {
    sub(
        "Every track",
        "trackEventV2",
        "type = \"track\"",
        json!({"customerProfileId": {"@path": "$.userId"}, "eventType": {"@path": "$.event"},
            "attributes": attributes}),
    )
}

#[test]
fn an_event_type_the_deployment_lacks_is_a_refusal_named_with_its_exact_spelling() {
    let subs = changed(|s| s.push(every_track(json!({}))));
    let events = lines(&[
        track("u-1", "product added", json!({})),
        track("u-1", "Wishlist Shared", json!({})),
        track("u-1", "Product Added", json!({})),
    ]);
    let found = details(&run(&subs, &events), actions::EVENT_TYPES);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_says(
        &found[0],
        &[
            "events.ndjson:1: subscription `Every track`: event type `product added` is not one Talon.One has",
            "`Product Added` is (event types are exact: case and white space)",
            "Talon.One refuses the event (400)",
        ],
    );
    assert_says(&found[1], &["events.ndjson:2", "`Wishlist Shared`"]);
    // A deployment without event types says so; the deprecated action creates the type.
    let mut bare = state();
    for attribute in &mut bare.attributes {
        attribute.event_type = None;
    }
    let found = details(&run_on(&bare, &subs, &events[2..]), actions::EVENT_TYPES);
    assert_says(&found[0], &["the deployment has no event types"]);
    let deprecated = changed(|s| {
        s.clear();
        s.push(sub(
            "Old track",
            "trackEvent",
            "type = \"track\"",
            json!({"customerProfileId": {"@path": "$.userId"}, "eventType": {"@path": "$.event"}}),
        ));
    });
    assert!(details(&run(&deprecated, &events), actions::EVENT_TYPES).is_empty());
}

#[test]
fn an_event_attribute_of_another_event_type_is_unknown_to_this_one() {
    let mut state = state();
    state.event_types.push(talon_fake::EventTypeRecord {
        name: "Order Completed".into(),
        ty: None,
    });
    let subs = changed(|s| {
        s.clear();
        s.push(every_track(
            json!({"cart_value": {"@path": "$.properties.value"}}),
        ));
    });
    let checks = run_on(
        &state,
        &subs,
        &lines(&[
            track("u-1", "Product Added", json!({"value": 1.5})),
            track("u-1", "Order Completed", json!({"value": 1.5})),
        ]),
    );
    let found = details(&checks, actions::ATTRIBUTES_EXIST);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_says(
        &found[0],
        &[
            "events.ndjson:2",
            "`cart_value` is an Event attribute of event type `Product Added`, not `Order Completed`",
        ],
    );
    assert!(details(&checks, actions::EVENT_TYPES).is_empty());
    // Without events, a literal event type scopes the mapping's literal names.
    let literal = changed(|s| {
        s.clear();
        s.push(sub(
            "Orders",
            "trackEventV2",
            "type = \"track\"",
            json!({"customerProfileId": {"@path": "$.userId"}, "eventType": "Order Completed",
                "attributes": {"cart_value": {"@path": "$.properties.value"}}}),
        ));
    });
    let found = details(&run_on(&state, &literal, &[]), actions::MAPPED_NAMES);
    assert_says(
        &found[0],
        &[
            "`cart_value` is an Event attribute of event type `Product Added`, not `Order Completed`",
        ],
    );
}

// ------------------------------------------------------------------ the binary

fn check(extra: &[&str]) -> std::process::Output {
    let dir = repo(DIR);
    let state = format!("{dir}/talon-state.json");
    let mut args = vec!["check", "--talon-state", &state];
    args.extend_from_slice(extra);
    harness(&args, b"")
}

#[test]
fn the_binary_infers_actions_from_the_settings_and_passes_the_clean_fixture() {
    let dir = repo(DIR);
    let output = check(&[
        "--settings",
        &format!("{dir}/settings.json"),
        "--subscriptions",
        &format!("{dir}/subscriptions.json"),
        "--events",
        &format!("{dir}/events.ndjson"),
    ]);
    let stdout = exits(&output, 0).stdout;
    assert_says(
        &stdout,
        &[
            "ok   the API key is a third-party key made for Segment in the deployment",
            "ok   every attribute the events send exists in Talon.One",
        ],
    );
    // Without --subscriptions the shipped defaults are checked, and said so.
    let output = check(&["--settings", &format!("{dir}/settings.json")]);
    let stdout = exits(&output, 0).stdout;
    assert_says(&stdout, &["subscriptions: the shipped defaults"]);
}

#[test]
fn the_binary_exits_1_naming_the_file_line_of_a_refused_event() {
    let dir = repo(DIR);
    let scratch = crate::scratch("check-actions-refused");
    let events = scratch.join("events.ndjson");
    std::fs::write(
        &events,
        "{\"type\": \"identify\", \"userId\": \"u-1\", \"traits\": {\"email\": 5}}\n",
    )
    .unwrap();
    let output = check(&[
        "--destination",
        "actions",
        "--settings",
        &format!("{dir}/settings.json"),
        "--subscriptions",
        &format!("{dir}/subscriptions.json"),
        "--events",
        events.to_str().unwrap(),
        "--report",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let values = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == actions::VALUES_FIT)
        .unwrap();
    assert_eq!(values["passed"], false);
    assert_says(
        &values["details"][0].to_string(),
        &["events.ndjson:1: subscription `Identify: profile`: `email` is a number 5"],
    );
    std::fs::remove_dir_all(&scratch).unwrap();
}

#[test]
fn unusable_actions_input_is_exit_2() {
    let dir = repo(DIR);
    let settings = format!("{dir}/settings.json");
    let subscriptions = format!("{dir}/subscriptions.json");
    let scratch = crate::scratch("check-actions-unusable");
    let bad = scratch.join("subscriptions.json");
    std::fs::write(&bad, r#"{"subscriptions": "none"}"#).unwrap();
    let classic = repo("fixtures/settings/default.json");
    let cases: [(Vec<&str>, &str); 4] = [
        (
            vec![
                "--settings",
                &settings,
                "--subscriptions",
                bad.to_str().unwrap(),
            ],
            "an object must hold a `subscriptions` array",
        ),
        (
            vec![
                "--settings",
                &settings,
                "--subscriptions",
                &subscriptions,
                "--destination",
                "classic",
            ],
            "--subscriptions is for the Actions destination",
        ),
        (
            vec!["--settings", &settings, "--audience-key", "vip"],
            "--audience-key is for the classic destination",
        ),
        (
            vec!["--settings", &classic, "--destination", "actions"],
            "`deployment` is required",
        ),
    ];
    for (args, says) in cases {
        let printed = exits(&check(&args), 2);
        assert_says(&printed.stderr, &[says]);
    }
    std::fs::remove_dir_all(&scratch).unwrap();
}

/// Runs `check` while a fake of the fixture state serves on 127.0.0.1:0; `{uri}` in the
/// settings' deployment and in the arguments is the fake's address.
fn check_live(api_key: &str, deployment: &str, extra: &[&str]) -> std::process::Output {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let fake = talon_fake::Fake::new(state(), talon_fake::FakeConfig::default()).unwrap();
    let server = runtime
        .block_on(talon_fake::MockServer::start(fake))
        .unwrap();
    let uri = server.uri();
    let scratch = crate::scratch(&format!("check-actions-live-{api_key}"));
    let settings_file = scratch.join("settings.json");
    std::fs::write(
        &settings_file,
        settings(api_key, &deployment.replace("{uri}", &uri)),
    )
    .unwrap();
    let subscriptions = repo(&format!("{DIR}/subscriptions.json"));
    let mut args = vec![
        "check".to_owned(),
        "--settings".to_owned(),
        settings_file.display().to_string(),
        "--subscriptions".to_owned(),
        subscriptions,
        "--target".to_owned(),
        uri.clone(),
        "--management-key".to_owned(),
        "shop-management-key".to_owned(),
    ];
    args.extend(extra.iter().map(|a| a.replace("{uri}", &uri)));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = harness(&args, b"");
    runtime.block_on(server.shutdown());
    std::fs::remove_dir_all(&scratch).unwrap();
    output
}

#[test]
fn with_target_the_catalog_is_pulled_the_key_pinged_and_the_deployment_is_the_target() {
    let events = repo(&format!("{DIR}/events.ndjson"));
    let output = check_live("shop-segment-key", "{uri}/", &["--events", &events]);
    // A loopback deployment is no Talon.One host, which the settings check says; nothing else fails.
    let stdout = exits(&output, 1).stdout;
    assert_says(
        &stdout,
        &[
            "is valid (GET /v2/authping, as Segment's authentication test)",
            "FAIL the settings are valid",
            "ok   the deployment is one Talon.One has",
            "ok   every attribute the events send exists in Talon.One",
        ],
    );
    assert_eq!(stdout.matches("FAIL").count(), 1, "{stdout}");
    let output = check_live("no-such-key", "{uri}", &[]);
    let stdout = exits(&output, 1).stdout;
    assert_says(
        &stdout,
        &[
            "FAIL the API key is a third-party key made for Segment in the deployment",
            "GET /v2/authping answered 401",
        ],
    );
    let output = check_live(
        "shop-segment-key",
        "https://shop.europe-west1.talon.one",
        &[],
    );
    let stdout = exits(&output, 1).stdout;
    assert_says(
        &stdout,
        &[
            "FAIL the deployment is one Talon.One has",
            "is none of this state's deployments (`127.0.0.1:",
        ],
    );
}
