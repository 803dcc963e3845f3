//! Seeded, streaming generator of Segment traffic for the Talon.One destination, with its ground-truth ledger.
//!
//! `segment-gen` simulates a population of users over days and yields the
//! Segment events a Talon.One destination would receive: anonymous
//! Identify calls before login, the Identify at login with full traits,
//! later trait updates, Engage's audience and computed-trait syncs, and,
//! for the Talon.One (Actions) destination, commerce Track calls. Next
//! to the events it keeps a [`Ledger`]: each user's final trait values and
//! audience memberships, derived from exactly what was emitted, so a round
//! trip can check what the fake Talon.One holds without trusting the mapper.
//!
//! # Quick start
//!
//! ```
//! use segment_gen::{Generator, Scenario};
//!
//! let scenario = Scenario { users: 50, days: 5, ..Scenario::default() };
//! let mut generator = Generator::new(scenario, 7)?;
//!
//! // The fast path: NDJSON into any `std::io::Write` (a file, stdout, a Vec).
//! let mut ndjson = Vec::new();
//! let written = generator.write_ndjson(&mut ndjson)?;
//! assert_eq!(written as usize, ndjson.iter().filter(|&&b| b == b'\n').count());
//!
//! // Every line is a Segment Spec payload.
//! let first = ndjson.split(|&b| b == b'\n').next().unwrap();
//! let event: segment_model::Event = serde_json::from_slice(first)?;
//! assert!(event.user_id.is_some() || event.anonymous_id.is_some());
//!
//! // The ground truth for everything written.
//! let ledger = generator.into_ledger();
//! assert_eq!(ledger.events, written);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`Generator`] is also an [`Iterator`] of [`GeneratedEvent`]s (one owned
//! line each, with its [`EventKind`] and simulated day), and
//! [`Generator::next_into`] appends one line to a reused buffer.
//!
//! # The simulation
//!
//! Each day has three phases. **Activity**: users who never log in send
//! anonymous identifies now and then; on a user's login day, client-side
//! users may first send one or two anonymous identifies, then the login
//! identify carries `userId`, `anonymousId` (client-side) and full traits;
//! on later days a share of users send updates (a counter, a flag, a new
//! address, a partial nested object, a different email). **Audiences**: on
//! its creation day an audience sends `{<key>: true}` for every current
//! member (the initial sync) and nothing for non-members; afterwards only
//! changes: `true` on enter, `false` on exit. **Computed traits**: a value
//! is sent when first computed and then only when it changes. Engage sends
//! one event per email identifier of a user, and may repeat an enter
//! (`duplicate_enter_share`). Audience keys and computed-trait keys are
//! [`segment_model::engage::snake_case`] of their names.
//!
//! Which realistic traits a login, an anonymous identify or an update
//! carries, and how each value is drawn and changes, comes from one table
//! with a row per trait (`schema.rs`; CONTRIBUTING.md's "Adding a trait to
//! the generator"). [`Scenario::trait_schema`] lists every trait path a
//! scenario can send with its type and class, for building a matching
//! attribute catalog.
//!
//! # Commerce tracks, for Talon.One (Actions)
//!
//! With [`Scenario::daily_commerce_share`] above 0 (0 by default, so every
//! run without it is byte for byte what it was), each user has that chance
//! per day of a shopping session, sent as Segment's E-commerce spec v2
//! names it: `Product Viewed` one to six times, `Product Added` for about
//! 40% of the viewed products (each product once, at most five), then for
//! 60% of the non-empty carts `Checkout Started`, and for 75% of those
//! `Order Completed` with the cart as `products` (one to five). A logged-in
//! user's tracks carry `userId` (and client-side their browser's
//! `anonymousId`); the others' carry `anonymousId` only; all carry
//! `messageId`, the three times and the source's `context` as the
//! identifies do. Products come from a computed catalog of 120
//! (`product_id`, `sku`, `category`, `name`, `brand`, `variant`, `price`
//! with two decimals, `quantity`, `position`, `url`, `image_url`); an order
//! carries `order_id`, `checkout_id`, `affiliation`, `total`, `subtotal`,
//! `revenue`, `shipping`, `tax`, `discount`, `coupon` (20% of sessions),
//! `currency` and `products`. The amounts, in integer cents:
//! `revenue` = `subtotal` = Σ `price` × `quantity` − `discount` (10% with a
//! coupon), `tax` 8% of it, `shipping` 4.99 below 50, `total` the sum
//! (`commerce.rs` has the details). In the edge profile some commerce
//! events take the odd shapes Segment's code coerces and Talon.One refuses
//! (`talon-actions-destination.md` §9): event names with a trailing space
//! or in lower case and tracks without `event` (2% each), a `null` product
//! (10% of checkouts and orders), no `order_id` (5%), and per product a
//! numeric `sku` (10%), `quantity` as a string (10%) or a float (5%), an
//! array `category` (5%). Commerce draws from its own ChaCha8 stream:
//! turning it on changes no identify's traits and no membership.
//!
//! [`Scenario::actions`] (`fixtures/gen/actions.json`, `talon-harness gen
//! --actions`) is what a source connected to the Actions destination
//! sends: commerce at 30%, audiences as identifies and as `Audience
//! Entered`/`Audience Exited` tracks, the first audience `VIP Customers`
//! (the key `fixtures/actions/subscriptions.json` triggers on). With
//! commerce on the ledger also holds the Actions ground truth:
//! [`Ledger::tracks`] (per userId, tracks by event name as sent),
//! [`Ledger::orders`] (every `Order Completed`: id, user, products as sent,
//! revenue, coupon) and [`Ledger::audience_tracks`]; without commerce these
//! are empty and absent from the JSON.
//!
//! ```
//! use segment_gen::{EventKind, Generator, Scenario};
//!
//! let scenario = Scenario { users: 100, days: 7, ..Scenario::actions() };
//! let mut generator = Generator::new(scenario, 3)?;
//! let orders = generator
//!     .by_ref()
//!     .filter(|e| e.meta.kind == EventKind::OrderCompleted)
//!     .count();
//! let ledger = generator.into_ledger();
//! assert_eq!(ledger.orders.len(), orders);
//! let order = &ledger.orders[0];
//! assert!(order.order_id.is_some() && (1..=5).contains(&order.products.len()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Determinism
//!
//! One `rand_chacha::ChaCha8Rng` seeded with the seed drives every choice,
//! mapped to ranges with fixed integer arithmetic; times are a fixed epoch
//! (2026-01-01T00:00:00Z) plus seeded offsets and never decrease along the
//! stream; `messageId`s and `anonymousId`s derive from `(seed, index)`. The
//! same scenario and seed give byte-identical NDJSON on every run and
//! platform (golden snapshots in `snapshots/segment-gen/` watch this).
//!
//! # Memory and speed
//!
//! The state is proportional to the scenario's sizes (users × trait paths,
//! users × audiences), never to the number of events; every internal buffer
//! is allocated up front ([`Generator::state_bytes`]). The one exception is
//! commerce's ledger of orders (about 28 bytes per order and 8 per
//! product), kept only with commerce on. Throughput:
//! `cargo bench -p segment-gen --bench gen` prints events per second.
//!
//! # Command line
//!
//! ```text
//! cargo run --release -p talon-harness -- gen --seed 7 --users 1000 --days 30 \
//!     --profile realistic --out events.ndjson --ledger ledger.json
//! cargo run --release -p talon-harness -- gen --seed 7 --actions \
//!     --out events.ndjson --ledger ledger.json
//! ```

mod commerce;
mod generator;
mod json;
mod ledger;
mod ndjson;
mod population;
mod rng;
mod scenario;
mod schema;
mod simulation;
mod values;

pub mod cli;

pub use generator::{EventKind, EventMeta, GeneratedEvent, Generator};
pub use ledger::{
    AudienceLedger, AudienceTrackLedger, ComputedTraitLedger, Counts, Ledger, OrderLedger,
    TraitValue, UserLedger,
};
pub use scenario::{
    ACTIONS_AUDIENCE, ACTIONS_COMMERCE_SHARE, AudienceDef, ComputedKind, ComputedTraitDef, Profile,
    Scenario, ScenarioError, TraitClass, TraitSpec, TraitType,
};
