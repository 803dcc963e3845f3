//! The fake's HTTP surface, one module per Talon.One resource, each with its routes next to
//! its handlers and its rules.
//!
//! [`router`] merges them: every Talon.One route (Integration API `/v2/…`, Management API
//! `/v1/…`), and every path the fake does not know, sits behind the one request
//! [`pipeline`](crate::pipeline), which wraps their router as a whole; `/__admin/*` sits behind
//! its own gate and is never journalled or faulted.
//!
//! A further API is a further module with its own `routes()` merged below: the Segment relay
//! is [`segment`] under `/segment/…`, behind the same pipeline, with its own envelope; the web
//! view of the journal and state is [`crate::view`] under `/__admin/view`, next to `admin`.

pub(crate) mod admin;
pub(crate) mod applications;
pub(crate) mod attributes;
pub(crate) mod audiences;
pub(crate) mod auth;
pub(crate) mod profiles;
pub(crate) mod segment;

use std::convert::Infallible;
use std::task::{Context, Poll};

use axum::Router;
use axum::extract::Request;
use axum::response::Response;
use tower::{Service, ServiceExt};

use crate::extract::{method_not_allowed, not_found};
use crate::pipeline::{Answering, Pipelined};
use crate::state::Fake;

/// Reserved prefix of the control endpoints; never journalled, never faulted.
pub const ADMIN_PREFIX: &str = "/__admin";

/// The fake's HTTP service: Talon.One's Integration and Management endpoints, the Segment
/// relay (`/segment/…`), plus `/__admin/*`.
///
/// Use it with `tower::ServiceExt::oneshot` for socket-free tests, or serve it
/// (see [`crate::MockServer`]).
pub fn router(fake: Fake) -> FakeRouter {
    let api = Router::new()
        .merge(auth::routes())
        .merge(profiles::routes())
        .merge(audiences::routes())
        .merge(attributes::routes())
        .merge(applications::routes())
        .merge(segment::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(fake.clone());
    let pipelined = Pipelined {
        fake: fake.clone(),
        api,
    };
    let admin = admin::routes(fake.clone())
        .with_state(fake)
        .fallback_service(pipelined.clone());
    FakeRouter { admin, pipelined }
}

/// What [`router`] returns: a path under [`ADMIN_PREFIX`] goes to the control endpoints
/// (whose unknown paths fall through to the pipeline, as every other path does); everything
/// else goes straight to the [`pipeline`](crate::pipeline). A prefix test rather than an
/// outer `Router` in front of the pipeline: the hot path pays for one router, not two.
#[derive(Clone)]
pub struct FakeRouter {
    admin: Router,
    pipelined: Pipelined,
}

impl std::fmt::Debug for FakeRouter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeRouter").finish_non_exhaustive()
    }
}

impl Service<Request> for FakeRouter {
    type Response = Response;
    type Error = Infallible;
    type Future = Answering;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let path = req.uri().path();
        let is_admin = path
            .strip_prefix(ADMIN_PREFIX)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
        if is_admin {
            Box::pin(self.admin.clone().oneshot(req))
        } else {
            self.pipelined.call(req)
        }
    }
}
