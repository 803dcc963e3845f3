//! The relay's rate limit (`relay.rate_limit`): 60 accepted requests per API key in any one
//! second across every `/segment/…` endpoint, then 429 in the relay's envelope. Deterministic:
//! a [`ManualClock`] the tests move, or tokio's paused clock.

use serde_json::{Value, json};
use talon_fake::{
    DEFAULT_RELAY_RATE_LIMIT, Fake, FakeConfig, IntegrationKey, ManualClock, RelayClock, StateFile,
};

use crate::relay::*;
use crate::support::*;

/// A fake with the default state, the default limit and a manual clock at 0 ms.
fn limited(state: StateFile) -> (Fake, ManualClock) {
    let clock = ManualClock::new();
    let config = FakeConfig {
        relay_clock: RelayClock::Manual(clock.clone()),
        ..FakeConfig::default()
    };
    (Fake::new(state, config).expect("state loads"), clock)
}

fn profile_body(email: &str) -> Value {
    json!({"attributes": {"email": email}})
}

/// A profile update through the relay with `auth` and `host`.
async fn update(fake: &Fake, auth: &str, host: &str, id: &str) -> Resp {
    send(
        fake,
        relay_request(
            "PUT",
            &format!("/segment/v2/customer_profiles/{id}"),
            Some(auth),
            Some(host),
            Some(profile_body("a@example.com")),
        ),
    )
    .await
}

/// Sends `n` profile updates of profiles `{prefix}0…` with the default key and deployment and
/// asserts each is accepted.
async fn accepted(fake: &Fake, n: u32, prefix: &str) {
    for i in 0..n {
        let r = update(fake, SKEY, HOST, &format!("{prefix}{i}")).await;
        assert_eq!(r.status, 200, "request {i} of {n}: {}", r.json);
    }
}

fn assert_rate_limited(r: &Resp) {
    let error = assert_relay_error(r, 429);
    assert!(error.starts_with("Too many requests"), "{error}");
}

#[tokio::test]
async fn sixty_requests_in_one_second_pass_the_sixty_first_gets_429_and_a_second_later_it_passes() {
    assert_eq!(DEFAULT_RELAY_RATE_LIMIT, 60);
    let (fake, clock) = limited(StateFile::default_state());
    // Spread over the second: the first at 0 ms, the last at 999 ms.
    for i in 0..60 {
        clock.set_ms(i * 999 / 59);
        let r = update(&fake, SKEY, HOST, &format!("u{i}")).await;
        assert_eq!(r.status, 200, "request {i}: {}", r.json);
    }
    let r = update(&fake, SKEY, HOST, "u60").await;
    assert_rate_limited(&r);
    assert_eq!(last_rule(&fake), "relay.rate_limit");
    // At 1000 ms the first request left the window: one more fits, not two.
    clock.set_ms(1000);
    assert_eq!(update(&fake, SKEY, HOST, "u60").await.status, 200);
    assert_rate_limited(&update(&fake, SKEY, HOST, "u61").await);
    // A whole second after the last: a fresh budget.
    clock.set_ms(2000);
    accepted(&fake, 60, "v").await;
}

#[tokio::test]
async fn a_refused_request_changes_nothing_and_is_journalled_with_its_rule_and_deployment() {
    let (fake, _clock) = limited(StateFile::default_state());
    accepted(&fake, 60, "u").await;
    let before = fake.profile_count();
    let r = send(
        &fake,
        relay_request(
            "PUT",
            "/segment/v2/customer_profiles/late",
            Some(SKEY),
            Some(HOST),
            Some(json!({"attributes": {"email": "late@example.com"}, "runRuleEngine": true, "audiencesChanges": {"adds": [1]}})),
        ),
    )
    .await;
    assert_rate_limited(&r);
    assert!(fake.profile("late").is_none(), "no profile created");
    assert_eq!(fake.profile_count(), before);
    let entry = fake.journal().pop().expect("journalled");
    assert_eq!(entry.rule, "relay.rate_limit");
    assert_eq!(entry.status, 429);
    assert_eq!(
        entry.relay.and_then(|r| r.deployment).as_deref(),
        Some("mycompany.europe-west1.talon.one")
    );
}

#[tokio::test]
async fn refused_requests_are_not_counted_so_a_client_retrying_at_a_steady_pace_gets_through() {
    let (fake, clock) = limited(StateFile::default_state());
    accepted(&fake, 60, "u").await;
    // Retries every 100 ms while the window is full: all refused, none counted.
    for t in 1..10 {
        clock.set_ms(t * 100);
        assert_rate_limited(&update(&fake, SKEY, HOST, "retry").await);
    }
    // Had the refusals counted, the window would still be full at 1000 ms.
    clock.set_ms(1000);
    accepted(&fake, 60, "w").await;
}

#[tokio::test]
async fn requests_the_deployment_refuses_count_like_accepted_ones() {
    let (fake, _clock) = limited(StateFile::default_state());
    for i in 0..30 {
        let r = update(&fake, SKEY, HOST, &format!("u{i}")).await;
        assert_eq!(r.status, 200, "{}", r.json);
        let r = send(
            &fake,
            relay_request(
                "PUT",
                &format!("/segment/v2/customer_profiles/u{i}"),
                Some(SKEY),
                Some(HOST),
                Some(json!({"attributes": {"NoSuchAttribute": 1}})),
            ),
        )
        .await;
        assert_eq!(r.status, 400, "{}", r.json);
    }
    assert_rate_limited(&update(&fake, SKEY, HOST, "u0").await);
}

/// Every endpoint of the relay the Actions destination calls, current and deprecated, with a
/// body it may carry (the limit is checked before the body is read).
const RELAY_ENDPOINTS: &[(&str, &str)] = &[
    ("PUT", "/segment/v2/customer_profiles/x"),
    ("PUT", "/segment/v2/events"),
    ("PUT", "/segment/v2/customer_sessions/x"),
    ("PUT", "/segment/customer_profiles/audiences"),
    ("POST", "/segment/audiences"),
    ("PUT", "/segment/audiences/x"),
    ("DELETE", "/segment/audiences/x"),
    ("PUT", "/segment/customer_profile/x"),
    ("PUT", "/segment/customer_profile_v2/x"),
    ("PUT", "/segment/event"),
    ("PUT", "/segment/customer_sessions/x"),
];

#[tokio::test]
async fn every_relay_endpoint_shares_the_one_budget_of_the_key() {
    let (fake, _clock) = limited(StateFile::default_state());
    // The budget spent on one endpoint…
    accepted(&fake, 60, "u").await;
    // …is spent for every other: each endpoint of the relay answers 429.
    for (method, path) in RELAY_ENDPOINTS {
        let r = send(
            &fake,
            relay_request(method, path, Some(SKEY), Some(HOST), Some(json!({}))),
        )
        .await;
        assert_eq!(
            last_rule(&fake),
            "relay.rate_limit",
            "{method} {path}: {}",
            r.json
        );
        assert_rate_limited(&r);
    }
}

#[tokio::test]
async fn two_segment_keys_of_a_deployment_have_separate_budgets() {
    let mut state = StateFile::default_state();
    state.integration_keys.push(IntegrationKey {
        key: "second-relay-key".to_owned(),
        application_id: 1,
        platform: Some("Segment".to_owned()),
    });
    let (fake, _clock) = limited(state);
    accepted(&fake, 60, "u").await;
    assert_rate_limited(&update(&fake, SKEY, HOST, "one-more").await);
    for i in 0..60 {
        let r = update(&fake, "ApiKey-v1 second-relay-key", HOST, &format!("k{i}")).await;
        assert_eq!(r.status, 200, "{}", r.json);
    }
    assert_rate_limited(&update(&fake, "ApiKey-v1 second-relay-key", HOST, "k60").await);
}

#[tokio::test]
async fn each_deployment_counts_its_own_keys_even_when_the_key_text_is_the_same() {
    let mut staging = StateFile::default_state();
    staging.hostname = Some("staging.europe-west1.talon.one".to_owned());
    let mut state = StateFile::default_state();
    state.deployments.push(staging);
    let (fake, _clock) = limited(state);
    accepted(&fake, 60, "u").await;
    assert_rate_limited(&update(&fake, SKEY, HOST, "one-more").await);
    let staging_host = "https://staging.europe-west1.talon.one";
    for i in 0..60 {
        let r = update(&fake, SKEY, staging_host, &format!("s{i}")).await;
        assert_eq!(r.status, 200, "{}", r.json);
    }
    let r = update(&fake, SKEY, staging_host, "s60").await;
    assert_rate_limited(&r);
    let entry = fake.journal().pop().expect("journalled");
    assert_eq!(
        entry.relay.and_then(|r| r.deployment).as_deref(),
        Some("staging.europe-west1.talon.one")
    );
}

#[tokio::test]
async fn with_the_limit_off_the_relay_never_answers_429() {
    let clock = ManualClock::new();
    let config = FakeConfig {
        relay_rate_limit: None,
        relay_clock: RelayClock::Manual(clock),
        ..FakeConfig::default()
    };
    let fake = Fake::new(StateFile::default_state(), config).expect("loads");
    accepted(&fake, 500, "u").await;
    assert!(fake.journal().iter().all(|e| e.rule != "relay.rate_limit"));
}

#[tokio::test]
async fn a_lower_limit_is_the_limit() {
    let config = FakeConfig {
        relay_rate_limit: Some(2),
        relay_clock: RelayClock::Manual(ManualClock::new()),
        ..FakeConfig::default()
    };
    let fake = Fake::new(StateFile::default_state(), config).expect("loads");
    accepted(&fake, 2, "u").await;
    let r = update(&fake, SKEY, HOST, "u2").await;
    assert_rate_limited(&r);
    assert!(
        assert_relay_error(&r, 429).contains("more than 2 requests in one second"),
        "{}",
        r.json
    );
}

#[tokio::test]
async fn integration_api_requests_are_neither_limited_nor_counted() {
    let (fake, _clock) = limited(StateFile::default_state());
    for i in 0..100 {
        let r = put(
            &fake,
            &format!("/v2/customer_profiles/i{i}"),
            Some(IKEY),
            profile_body("a@example.com"),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.json);
        let r = call(&fake, "GET", "/v2/authping", Some(SKEY), None).await;
        assert!(
            r.status.is_success(),
            "authping with the Segment key: {}",
            r.status
        );
    }
    accepted(&fake, 60, "u").await;
}

#[tokio::test]
async fn unauthenticated_relay_requests_are_not_counted() {
    let (fake, _clock) = limited(StateFile::default_state());
    for _ in 0..100 {
        let r = update(&fake, "ApiKey-v1 segment-demo-integration-key", HOST, "x").await;
        assert_relay_error(&r, 401);
        let r = send(
            &fake,
            relay_request(
                "PUT",
                "/segment/v2/customer_profiles/x",
                Some(SKEY),
                None,
                Some(json!({})),
            ),
        )
        .await;
        assert_relay_error(&r, 400);
    }
    accepted(&fake, 60, "u").await;
}

#[tokio::test]
async fn a_reset_gives_every_key_a_fresh_budget() {
    let (fake, _clock) = limited(StateFile::default_state());
    accepted(&fake, 60, "u").await;
    assert_rate_limited(&update(&fake, SKEY, HOST, "x").await);
    fake.reset(None).expect("reset");
    accepted(&fake, 60, "u").await;
}

#[tokio::test(start_paused = true)]
async fn the_default_clock_is_tokios_so_a_paused_test_can_advance_it() {
    let fake = talon_fake::Fake::new(
        StateFile::default_state(),
        talon_fake::FakeConfig::default(),
    )
    .expect("default state loads");
    accepted(&fake, 60, "u").await;
    assert_rate_limited(&update(&fake, SKEY, HOST, "u60").await);
    tokio::time::advance(std::time::Duration::from_millis(999)).await;
    assert_rate_limited(&update(&fake, SKEY, HOST, "u60").await);
    tokio::time::advance(std::time::Duration::from_millis(1)).await;
    accepted(&fake, 60, "v").await;
}

#[tokio::test]
async fn the_standalone_servers_config_carries_the_limit_and_its_off_switch() {
    assert_eq!(
        talon_fake::ServeConfig::default().relay_rate_limit,
        Some(DEFAULT_RELAY_RATE_LIMIT)
    );
    let refusing = talon_fake::fake_from_config(&talon_fake::ServeConfig {
        relay_rate_limit: Some(0),
        ..talon_fake::ServeConfig::default()
    })
    .expect("builds");
    assert_rate_limited(&update(&refusing, SKEY, HOST, "u0").await);
    let off = talon_fake::fake_from_config(&talon_fake::ServeConfig {
        relay_rate_limit: None,
        ..talon_fake::ServeConfig::default()
    })
    .expect("builds");
    accepted(&off, 200, "u").await;
}
