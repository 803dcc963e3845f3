//! A fake filled as a simulation fills it: the default deployment, a seeded batch of generated
//! events delivered through the harness's own delivery, and two crafted requests for `user1`.

use segment_gen::{Generator, Scenario};
use serde_json::{Value, json};
use talon_fake::{Fake, FakeConfig, MockServer, StateFile};
use talon_harness::deliver::{self, DeliveryConfig};
use talon_harness::report::Outcome;
use talon_mapper::{Destination, Settings};

/// The default state's Integration API key (`fixtures/talon/default-state.json`).
const KEY: &str = "segment-demo-integration-key";
/// The default state's Management API key.
const MANAGEMENT_KEY: &str = "segment-demo-management-key";
/// The generator's seed.
const SEED: u64 = 13;

/// The crafted customer: a profile with `name` set, then a rejected update naming `Email`.
pub(crate) const USER: &str = "user1";
/// What the crafted customer's `name` holds.
pub(crate) const NAME: &str = "Ada Lovelace";

/// A fake on a real socket and what was sent to it.
#[derive(Debug)]
pub(crate) struct Filled {
    /// The fake, serving on 127.0.0.1.
    pub(crate) server: MockServer,
    /// Integration ids of the generated traffic whose every request was accepted, in input order.
    pub(crate) delivered: Vec<String>,
    /// How many generated events were rejected (4xx).
    pub(crate) rejected: usize,
}

impl Filled {
    /// The view's start page.
    pub(crate) fn start_page(&self) -> String {
        format!("{}{}/", self.server.uri(), talon_fake::view::VIEW_PREFIX)
    }
}

/// Starts the fake with the default state and fills it.
pub(crate) async fn filled() -> Filled {
    filled_with(FakeConfig::default()).await
}

/// [`filled`], with `config` (an admin token, say).
pub(crate) async fn filled_with(config: FakeConfig) -> Filled {
    let fake = Fake::new(StateFile::default_state(), config).expect("default state");
    let server = MockServer::start(fake).await.expect("the fake starts");

    // A small seeded run with no look-alike ids, so `User1`/`user1` come only from below; more
    // customers than a page of the Customers tab holds.
    let scenario = Scenario {
        users: 70,
        days: 3,
        look_alike_share: 0.0,
        ..Scenario::default()
    };
    let events: Vec<(String, Vec<u8>)> = Generator::new(scenario, SEED)
        .expect("a valid scenario")
        .enumerate()
        .map(|(i, e)| (format!("generated:{}", i + 1), e.json.into_bytes()))
        .collect();
    // The default settings plus `newsletter`, a trait the generator sends that has no attribute
    // in the default catalog: configured in Segment but never created in Talon.One, the
    // commonest rejection, so the generated traffic has rejected requests too.
    let mut settings: Value =
        serde_json::from_str(talon_harness::input::DEFAULT_SETTINGS).expect("default settings");
    settings["customAttributes"]
        .as_array_mut()
        .expect("a list")
        .push("newsletter".into());
    let (settings, errors) =
        Settings::parse_lenient(&settings.to_string()).expect("valid settings");
    assert!(errors.is_empty(), "settings: {errors:?}");
    let mut config = DeliveryConfig::new(server.uri());
    config.concurrency = 4;
    let client = deliver::client(&config);
    let mut reports = Vec::new();
    let summary = deliver::run(
        events,
        &Destination::Classic(settings),
        &client,
        &config,
        |r| reports.push(r),
    )
    .await;
    reports.sort_by_key(|r| r.index);
    let delivered = reports
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Delivered { .. }))
        .filter_map(|r| r.integration_id.clone())
        .collect::<Vec<_>>();
    let rejected = reports
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Rejected { .. }))
        .count();
    assert!(
        delivered.len() > 20 && rejected > 0,
        "the generated traffic was delivered, some of it refused: {summary:?}"
    );

    // The crafted requests, as Talon.One's API has them.
    let created = put_profile(&server, USER, json!({ "name": NAME })).await;
    assert_eq!(created, 200, "user1 is created");
    let refused = put_profile(&server, USER, json!({ "Email": "ada@example.com" })).await;
    assert_eq!(
        refused, 400,
        "an update naming the unknown `Email` is refused"
    );

    Filled {
        server,
        delivered,
        rejected,
    }
}

/// `PUT /v2/customer_profiles/{id}` with `attributes`, as Talon.One's API has it; the status.
pub(crate) async fn put_profile(server: &MockServer, id: &str, attributes: Value) -> u16 {
    put_profile_body(server, id, "", json!({ "attributes": attributes })).await
}

/// `PUT /v2/customer_profiles/{id}{query}` with a whole request `body`; the status.
pub(crate) async fn put_profile_body(
    server: &MockServer,
    id: &str,
    query: &str,
    body: Value,
) -> u16 {
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("an HTTP client");
    http.put(format!("{}/v2/customer_profiles/{id}{query}", server.uri()))
        .header("Authorization", format!("ApiKey-v1 {KEY}"))
        .json(&body)
        .send()
        .await
        .expect("the fake answers")
        .status()
        .as_u16()
}

/// `POST /v1/attributes`: a `CustomerProfile` string attribute `name`, as the Management API has
/// it; the status.
pub(crate) async fn create_attribute(server: &MockServer, name: &str, title: &str) -> u16 {
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("an HTTP client");
    let body = json!({
        "entity": "CustomerProfile", "name": name, "title": title, "type": "string",
        "description": "", "suggestions": [], "editable": true,
    });
    http.post(format!("{}/v1/attributes", server.uri()))
        .header(
            "Authorization",
            format!("ManagementKey-v1 {MANAGEMENT_KEY}"),
        )
        .json(&body)
        .send()
        .await
        .expect("the fake answers")
        .status()
        .as_u16()
}
