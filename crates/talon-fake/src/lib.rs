//! An in-memory fake of the Talon.One APIs the two Segment destinations talk to: the Integration
//! and Management APIs (classic), and the Third-party API's Segment relay, `/segment/…`
//! (Talon.One (Actions)).
//!
//! It is strict: a request it accepts should be accepted by Talon.One, and a
//! request it rejects should be rejected, with Talon.One's status codes and
//! its `ErrorResponseWithStatus` envelope
//! (`{"message", "errors": [{"title", "details", "source": {"pointer"|"parameter"}}], "StatusCode"}`).
//! Every rule, its source and its test are listed in `CONTRACT.md`.
//!
//! # Quick start
//!
//! ```
//! use talon_fake::{Fake, FakeConfig, MockServer, StateFile};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A deployment from a state file (here the built-in default: application 1,
//! // key "segment-demo-integration-key", Segment-like CustomerProfile attributes).
//! let fake = Fake::new(StateFile::default_state(), FakeConfig::default())?;
//! let server = MockServer::start(fake).await?;
//! let base = server.uri(); // e.g. http://127.0.0.1:41234
//! # let _ = base;
//!
//! // … point the code under test at `base`, then inspect what happened:
//! let journal = server.fake().journal();
//! assert!(journal.is_empty());
//! let dump = server.fake().state_dump(); // same format as the state file, sorted
//! assert_eq!(dump.applications[0].name, "Segment demo");
//! server.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! Without a socket, drive [`router`] with `tower::ServiceExt::oneshot`.
//!
//! # What is enforced
//!
//! * Auth: `Authorization: ApiKey-v1 <key>` for `/v2/*`, `ManagementKey-v1 <key>` for `/v1/*`;
//!   missing, malformed, unknown or wrong-kind keys get 401.
//! * The Segment relay (`/segment/…`): the deployment named by `destination-hostname` (the
//!   state file may hold several), a third-party key made for Segment, the relay's envelope
//!   `{"StatusCode", "Error", "RequestUUID"}`, the deployment's own rules behind it, and
//!   `skipNonExistingAttributes`.
//! * Attributes: only names defined for entity `CustomerProfile`, exactly (case-sensitive);
//!   values of the attribute's type, never coerced; `time` is RFC 3339; `location` is the string
//!   `"<lat>,<lon>"` (chosen here). One bad attribute rejects the whole request and changes nothing.
//! * Limits: 1000 profiles per batch, 1000 audience actions, integration ids ≤ 1000 characters,
//!   bodies ≤ [`DEFAULT_BODY_LIMIT`] (413 beyond), JSON nesting ≤ 127 levels.
//! * Concurrency: one update of a profile is processed and two more wait; a fourth concurrent
//!   one gets 409 "Too many requests are updating this profile at the same time"
//!   ([`Fake::hold_profile`] makes this testable).
//!
//! * On a socket ([`MockServer`], [`serve_on`], [`serve`]): headers within
//!   [`FakeConfig::header_timeout`] of their first byte, idle connections closed after
//!   [`FakeConfig::idle_timeout`], bodies within
//!   [`FakeConfig::body_timeout`] (408 `body.timeout`, the profile's slot released), headers at
//!   most [`FakeConfig::max_header_bytes`] (431); a stop lets in-flight requests finish for
//!   [`DEFAULT_SHUTDOWN_TIMEOUT`], then closes the rest.
//!
//! # Observability and control
//!
//! * [`Fake::journal`] (and `GET /__admin/journal`): every request with its status, bodies and
//!   the rule that decided it; bounded by [`FakeConfig::journal_cap`], oldest dropped and counted.
//! * [`Fake::state_dump`], [`Fake::write_state`] (streamed; `GET /__admin/state`, API keys
//!   redacted unless `?reveal_keys=true`), [`Fake::reset`] (`POST /__admin/reset`).
//! * [`FakeConfig::admin_token`]: `/__admin/*` then needs `Authorization: Bearer <token>`.
//! * [`FaultPlan`] (`PUT /__admin/faults`, `--faults`): seeded, scripted 429/5xx, delays,
//!   dropped connections, late requests (applied after newer updates), late responses
//!   (applied, answered after the client gave up) and a rate limit. The seeded coin is drawn
//!   per request key ([`coin`]), so a plan gives the same faults whatever the concurrency.
//!
//! # Standalone server
//!
//! The `talon-harness serve` command runs it on a socket:
//! `cargo run -p talon-harness --release -- serve --addr 127.0.0.1:8080 --state fixtures/talon/default-state.json`
//!
//! # Benchmarks
//!
//! * `cargo bench -p talon-fake --bench throughput` — fake vs a bare axum JSON handler under the
//!   same `wrk -t1 -c32` load, in one run, as req/s and as requests per CPU second of the server
//!   (needs `wrk` on `PATH`; take the figures on a quiet machine).
//! * `cargo bench -p talon-fake --bench memory` — resident memory of 1,000,000 profiles × 8 attributes.

mod api;
mod body;
mod error;
mod extract;
mod faults;
pub mod fuzz;
mod journal;
mod pipeline;
mod rule;
pub mod rules;
mod server;
mod state;
mod state_file;
mod store;
pub mod view;

pub use api::segment::limit::DEFAULT_RELAY_RATE_LIMIT;
pub use api::segment::normalize_hostname;
pub use api::{ADMIN_PREFIX, FakeRouter, router};
pub use error::{ApiError, ErrorItem, ErrorSource};
pub use faults::{
    FaultPlan, FaultPlanError, FaultResponse, FaultRule, LateRequest, MAX_LATE_MS, RequestKey, coin,
};
pub use journal::{
    DEFAULT_JOURNAL_CAP, DEFAULT_JOURNAL_MAX_BYTES, Decided, JournalEntry, RelayEntry,
};
pub use rule::{Rule, UnknownRule};
pub use server::{
    DEFAULT_SHUTDOWN_TIMEOUT, MockServer, ServeConfig, ServeError, StopSignals, Stopped, banner,
    bind, fake_from_config, prepare, serve, serve_on, serve_on_signals, serve_on_with, serve_until,
};
pub use state::{
    Clock, DEFAULT_BODY_LIMIT, DEFAULT_BODY_TIMEOUT, DEFAULT_EPOCH, DEFAULT_HEADER_TIMEOUT,
    DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_HEADER_BYTES, DEFAULT_MAX_IN_FLIGHT_PER_PROFILE, Fake,
    FakeConfig, InFlight, ManualClock, RelayClock,
};
pub use state_file::{
    Application, Attribute, Audience, DEFAULT_HOSTNAME, DEFAULT_STATE_JSON, EventRecord,
    EventTypeRecord, IntegrationKey, ProfileRecord, REDACTED_KEY, SessionRecord, StateFile,
    StateFileError,
};
