//! A Campaign Manager view of what the fake holds, served under [`VIEW_PREFIX`]: the
//! applications, each one's Customers tab (exact, case-sensitive search by integration ID, with
//! a hint for near misses, and a paged list), a customer's Attributes, Audiences and History
//! tabs, the attribute catalog, the audiences, and the journal with filters.
//!
//! Server-rendered HTML that works without JavaScript and loads nothing from elsewhere. The
//! modules split as the fake's resources do: [`data`] reads the state and holds the view's
//! rules as plain functions, `pages` renders, this module routes; [`html`] holds the shared
//! page shell, which `talon-harness repro --html` reuses for its bug-bundle report.
//!
//! The view sits under the control prefix, so it is never journalled or faulted, and with
//! [`crate::FakeConfig::admin_token`] set it needs the token like every `/__admin/*` path: a
//! browser opens `/__admin/view/?token=<token>` once, which sets a cookie (see
//! `api::admin`).

mod data;
mod html;
mod pages;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::Markup;

pub use html::{AttributeRow, STYLESHEET, attributes_table, page, value_text};

use crate::state::Fake;
use data::{JournalFilter, customers_named, near_misses};
use pages::{CustomersQuery, JournalQuery, Named, Tab};

/// Where the view is served: under the control prefix, so it is never journalled or faulted
/// and sits behind the admin token when one is set.
pub const VIEW_PREFIX: &str = "/__admin/view";

/// Most near misses the search hint names.
const NEAR_MISSES_SHOWN: usize = 5;

/// The view's routes, merged into the control endpoints' router (behind their gate).
pub(crate) fn routes() -> Router<Fake> {
    Router::new()
        .route(
            VIEW_PREFIX,
            get(|| async { Redirect::to("/__admin/view/") }),
        )
        .route("/__admin/view/", get(applications))
        .route("/__admin/view/applications/{app}/customers", get(customers))
        .route(
            "/__admin/view/applications/{app}/customers/{integration_id}",
            get(customer),
        )
        .route("/__admin/view/attributes", get(catalog))
        .route("/__admin/view/audiences", get(audiences))
        .route("/__admin/view/journal", get(journal))
        .route("/__admin/view/{*rest}", get(unknown))
}

/// The content security policy every page is sent with: nothing runs, nothing loads from
/// elsewhere (the pages need neither; chosen here as defence in depth on top of escaping).
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

fn html_response(status: StatusCode, markup: Markup) -> Response {
    let mut resp = (status, markup.into_string()).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}

fn ok(markup: Markup) -> Response {
    html_response(StatusCode::OK, markup)
}

fn not_found(what: &str) -> Response {
    html_response(StatusCode::NOT_FOUND, pages::not_found(what))
}

/// The query's pairs; a malformed query string reads as empty (a page, never an error).
type Pairs = Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>;

fn param<'a>(q: &'a Pairs, key: &str) -> Option<&'a str> {
    q.as_ref()
        .ok()?
        .0
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// A non-empty parameter, as given (integration ids are not trimmed: a stray space is a
/// different id in Talon.One).
fn non_empty<'a>(q: &'a Pairs, key: &str) -> Option<&'a str> {
    param(q, key).filter(|v| !v.is_empty())
}

fn page_param(q: &Pairs) -> usize {
    param(q, "page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1)
}

async fn applications(State(fake): State<Fake>) -> Response {
    ok(pages::applications(&fake.view_applications()))
}

async fn customers(State(fake): State<Fake>, Path(app): Path<String>, q: Pairs) -> Response {
    let Some((app, rows)) = app.parse().ok().and_then(|id| fake.view_customers(id)) else {
        return not_found(&format!("There is no application with ID {app}."));
    };
    let searched = non_empty(&q, "integration_id");
    let near = match searched {
        Some(id) if !rows.iter().any(|r| &*r.integration_id == id) => near_misses(
            id,
            rows.iter().map(|r| &*r.integration_id),
            NEAR_MISSES_SHOWN,
        ),
        _ => Vec::new(),
    };
    let named = match searched {
        Some(id) if !rows.iter().any(|r| &*r.integration_id == id) => requests_naming(&fake, id),
        _ => Named::default(),
    };
    let query = CustomersQuery {
        integration_id: searched.map(str::to_owned),
        page: page_param(&q),
    };
    ok(pages::customers(&app, &rows, &query, &near, named))
}

async fn customer(
    State(fake): State<Fake>,
    Path((app, integration_id)): Path<(String, String)>,
    q: Pairs,
) -> Response {
    let Some((app, _)) = app.parse().ok().and_then(|id| fake.view_app(id)) else {
        return not_found(&format!("There is no application with ID {app}."));
    };
    let Some(tab) = Tab::parse(param(&q, "tab")) else {
        return not_found("A customer's page has the tabs attributes, audiences and history.");
    };
    let Some(c) = fake.view_customer(app.id, &integration_id) else {
        let named = requests_naming(&fake, &integration_id);
        let mut what = format!(
            "Application {} has no customer with integration ID {integration_id:?} (the search is exact and case-sensitive).",
            app.id
        );
        if named.total > 0 {
            what.push_str(&format!(
                " {} in the journal name it ({} accepted): see the journal filtered by this integration ID.",
                pages::requests(named.total),
                named.accepted
            ));
        }
        return not_found(&what);
    };
    let history: Vec<_> = if tab == Tab::History {
        fake.journal()
            .into_iter()
            .filter(|e| customers_named(e).contains(&c.integration_id))
            .collect()
    } else {
        Vec::new()
    };
    ok(pages::customer(
        &app,
        &c,
        tab,
        &fake.view_profile_types(),
        &history,
    ))
}

/// How many journal entries name `integration_id`, and how many of those were accepted: a
/// customer that only ever got rejected updates has no profile, but its requests are there.
fn requests_naming(fake: &Fake, integration_id: &str) -> Named {
    let mut named = Named::default();
    for e in fake.journal() {
        if customers_named(&e).iter().any(|c| c == integration_id) {
            named.total += 1;
            named.accepted += usize::from((200..300).contains(&e.status));
        }
    }
    named
}

async fn catalog(State(fake): State<Fake>) -> Response {
    ok(pages::catalog(&fake.view_catalog()))
}

async fn audiences(State(fake): State<Fake>) -> Response {
    ok(pages::audiences(&fake.view_audiences()))
}

async fn journal(State(fake): State<Fake>, q: Pairs) -> Response {
    let owned = |k: &str| non_empty(&q, k).map(str::to_owned);
    let query = JournalQuery {
        filter: JournalFilter {
            status: owned("status"),
            rule: owned("rule"),
            integration_id: owned("integration_id"),
            path: owned("path"),
        },
        live: param(&q, "live").is_some_and(|v| v == "on" || v == "true"),
        page: page_param(&q),
    };
    ok(pages::journal(
        &fake.journal(),
        fake.journal_dropped(),
        &query,
    ))
}

async fn unknown() -> Response {
    not_found("The view has no such page.")
}
