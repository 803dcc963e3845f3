//! The fake's HTTP surface, one module per Talon.One resource, each with its routes next to
//! its handlers and its rules.
//!
//! [`router`] merges them: every Talon.One route (Integration API `/v2/…`, Management API
//! `/v1/…`), and every path the fake does not know, sits behind the one request
//! [`pipeline`](crate::pipeline), which wraps their router as a whole; `/__admin/*` sits behind
//! its own gate and is never journalled or faulted.
//!
//! Room to grow: a further API is a further module with its own `routes()` merged below (the
//! Segment relay as `segment.rs` under `/segment/…`, behind the same pipeline); a web view of
//! the journal and state as `view.rs` under `/__admin/view`, next to `admin`.

pub(crate) mod admin;
pub(crate) mod applications;
pub(crate) mod attributes;
pub(crate) mod audiences;
pub(crate) mod auth;
pub(crate) mod profiles;

use axum::Router;

use crate::extract::{method_not_allowed, not_found};
use crate::pipeline::Pipelined;
use crate::state::Fake;

/// Reserved prefix of the control endpoints; never journalled, never faulted.
pub const ADMIN_PREFIX: &str = "/__admin";

/// The fake's router: Talon.One's Integration and Management endpoints plus `/__admin/*`.
///
/// Use it with `tower::ServiceExt::oneshot` for socket-free tests, or serve it
/// (see [`crate::MockServer`]).
pub fn router(fake: Fake) -> Router {
    let api = Router::new()
        .merge(auth::routes())
        .merge(profiles::routes())
        .merge(audiences::routes())
        .merge(attributes::routes())
        .merge(applications::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(fake.clone());
    admin::routes(fake.clone())
        .with_state(fake.clone())
        .fallback_service(Pipelined { fake, api })
}
