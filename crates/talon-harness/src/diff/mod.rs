//! `diff`: what a change of configuration does to the traffic already sent, event by event.
//!
//! The same events are mapped under two configurations (classic settings, or Actions
//! settings and subscriptions) and delivered to two embedded fakes that start from the same
//! Talon.One state (or from `before` and `after` states, for a catalog migration), so the
//! comparison covers Talon.One's answers and not only the requests. Each event gives exactly
//! one [`EventComparison`]; they stream by in rounds ([`DiffConfig::chunk`]), so memory holds
//! one round of events, the kinds of difference and the fakes' profiles, never all events.
//!
//! # What is compared
//!
//! Requests are paired by slot: an Actions request by its subscription (one request per
//! subscription per event), the classic destination's one request with the other. A request
//! in one slot only is added or removed (with each of its attributes); a paired request is
//! compared by URL, headers (an `authorization` value is never shown), each top-level body
//! field, and each member of `attributes` (added, removed, changed in value, or in JSON type).
//! Then each request's outcome: delivered → rejected (with Talon.One's rule and pointer),
//! rejected → delivered, failed, not buildable. At the end both final states are compared
//! profile by profile, attribute by attribute. New mapper warnings are listed too.
//!
//! # Regressions (exit 1)
//!
//! A change is a regression when it introduces a rejection (or another rejection rule), a
//! loss (failed after retries), or removes or changes data that was **delivered** before: a
//! request, an attribute or a body field no longer sent, an attribute sent with another value
//! or type, an attribute Talon.One would no longer hold, or hold with another value, at the
//! end. An attribute the catalog before the change does not have is never stored (Talon.One
//! skipped it, or refused the request), so no longer sending it is no regression. Added
//! requests, attributes and fields that are delivered, a URL or header change on
//! its own (its effect shows in the outcomes and the final state), a new warning and a
//! rejection that is gone are not. Chosen here: the issue names rejections and lost delivered
//! attributes; a changed value is counted as well because Talon.One's rules act on it.
//!
//! # Accepting reviewed differences
//!
//! Each kind of difference has a [`Fingerprint`]: its kind, subscription, attribute (or body
//! field, or header) and rule, never an event's index, profile or value, so another sample of
//! the same traffic gives the same fingerprints. An accept file ([`Accepted`]) lists the
//! reviewed ones; a regression whose fingerprint it lists does not fail the run. Chosen here.

pub mod config;
mod engine;
mod model;
pub mod render;

pub use engine::{
    DEFAULT_CHUNK, DiffConfig, Side, adopt_credentials, compare, compare_mapped, compare_states,
    pair,
};
pub use model::{
    Accepted, Change, ChangeKind, DiffReport, EVENT_EXAMPLES, EventComparison, Example,
    Fingerprint, GROUP_EXAMPLES, Group, ProfileComparison, Tally,
};
