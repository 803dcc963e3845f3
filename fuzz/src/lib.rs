//! Shared code of the fuzz targets: structure-aware inputs, and the oracles that need more than one crate.
//!
//! The oracles live in libraries (`talon_mapper_oracles`, `talon_fake::fuzz`,
//! `talon_round_trip`) so that stable `cargo test` runs them; what is left
//! here is the runtime and the in-process fake the targets share, and
//! [`check_map_event`], which sends the mapped request to the fake.

pub use talon_round_trip as round_trip;

use std::cell::RefCell;

use arbitrary::{Arbitrary, Result as ArbitraryResult, Unstructured};
use segment_model::{Event, shapes};
use talon_fake::fuzz::FuzzRequest;
use talon_fake::{Decided, Fake, FakeConfig, router};
use talon_mapper::Settings;
use tower::ServiceExt;

/// An event and the settings it is mapped with.
#[derive(Debug, Clone)]
pub struct MapInput {
    /// The event.
    pub event: Event,
    /// Custom Attributes, drawn from the trait-name pool.
    pub configured: Vec<String>,
}

impl<'a> Arbitrary<'a> for MapInput {
    fn arbitrary(u: &mut Unstructured<'a>) -> ArbitraryResult<Self> {
        let configured = shapes::configured(u)?;
        Ok(Self {
            event: Event::arbitrary(u)?,
            configured,
        })
    }
}

impl MapInput {
    /// The settings.
    pub fn settings(&self) -> Settings {
        let names: Vec<&str> = self.configured.iter().map(String::as_str).collect();
        talon_mapper_oracles::settings_with(&names)
    }
}

thread_local! {
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime builds");
    /// The fuzz oracle's fake (`talon_fake::fuzz::fuzz_state`: the default deployment and a
    /// staging copy the relay reaches), reset before each use.
    static FAKE: RefCell<Option<Fake>> = const { RefCell::new(None) };
}

/// Runs `f` with a fake in its initial state (the default one, plus the relay's staging
/// deployment, which only `/segment/…` requests reach) and a runtime.
fn with_fake<T>(f: impl AsyncFnOnce(&Fake) -> T) -> T {
    let fake = FAKE.with_borrow_mut(|slot| {
        let fake = slot.get_or_insert_with(|| {
            Fake::new(talon_fake::fuzz::fuzz_state(), FakeConfig::default())
                .expect("the fuzz state loads")
        });
        fake.reset(None).expect("the initial state reloads");
        fake.clone()
    });
    RUNTIME.with(|rt| rt.block_on(f(&fake)))
}

/// The mapper's oracle, then the request sent to a fake in its default
/// state: Talon.One's strict request types must find it well-formed (it may
/// still be rejected for the deployment's catalog: [`round_trip::CATALOG_RULES`]).
pub fn check_map_event(input: &MapInput) -> Result<(), String> {
    let settings = input.settings();
    let mapped = talon_mapper_oracles::check_map_event(&input.event, &settings)
        .map_err(|v| v.to_string())?;
    let Some(request) = mapped.requests.into_iter().next() else {
        return Ok(());
    };
    let http = FuzzRequest {
        method: request.method.to_owned(),
        uri: request.path().to_owned(),
        headers: vec![
            (
                "authorization".to_owned(),
                talon_fake::fuzz::INTEGRATION_AUTH.as_bytes().to_vec(),
            ),
            ("content-type".to_owned(), b"application/json".to_vec()),
        ],
        body: request.body.into_bytes(),
    }
    .to_http()
    .ok_or("the mapped request cannot be sent")?;
    let (status, rule) = with_fake(async |fake: &Fake| {
        let response = router(fake.clone())
            .oneshot(http)
            .await
            .unwrap_or_else(|never| match never {});
        let rule = response.extensions().get::<Decided>().map_or("", |d| d.0.as_str());
        (response.status(), rule)
    });
    if status.is_success() || round_trip::CATALOG_RULES.contains(&rule) {
        Ok(())
    } else {
        Err(format!(
            "the fake finds the mapped request malformed: {status} {rule}"
        ))
    }
}

/// The fake's oracle on a request built from `data`, through the router.
pub fn check_fake_request(data: &[u8]) -> Result<(), String> {
    let request = FuzzRequest::from_bytes(data);
    with_fake(async |fake: &Fake| {
        talon_fake::fuzz::check_request(fake, &request, async |http| {
            router(fake.clone())
                .oneshot(http)
                .await
                .unwrap_or_else(|never| match never {})
        })
        .await
    })
    .map_err(|v| v.to_string())
}

/// The round trip on one scenario (`talon_round_trip::check_round_trip`).
pub fn check_round_trip(scenario: &round_trip::Scenario) -> Result<(), String> {
    RUNTIME.with(|rt| rt.block_on(round_trip::check_round_trip(scenario)))
}
