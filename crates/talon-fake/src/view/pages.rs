//! The pages, as pure functions from the snapshots of [`super::data`] to HTML. Links are built
//! here from [`VIEW_PREFIX`]; integration ids in links are percent-encoded, every shown value is
//! escaped by [`maud`].

use std::collections::{BTreeMap, BTreeSet};

use maud::{Markup, html};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::VIEW_PREFIX;
use super::data::{
    AppSummary, AudienceRow, Customer, CustomerRow, JournalFilter, reasons, would_change,
};
use super::html::{AttributeRow, attributes_table, page};
use crate::journal::JournalEntry;
use crate::rules::format_time;
use crate::state_file::{Application, Attribute};

/// Customers per page of the Customers tab.
pub(crate) const CUSTOMERS_PER_PAGE: usize = 50;
/// Entries per page of the journal.
pub(crate) const JOURNAL_PER_PAGE: usize = 100;

/// Everything but RFC 3986's unreserved characters is percent-encoded in the view's links, so
/// an id holding `/`, `#`, `?` or `%` stays one path segment or one query value.
const LINK: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn enc(s: &str) -> String {
    utf8_percent_encode(s, LINK).to_string()
}

/// The link to a customer's page (the id percent-encoded, so `/`, `#` and `?` survive).
pub(crate) fn customer_href(app_id: i64, integration_id: &str, tab: Option<&str>) -> String {
    let base = format!(
        "{VIEW_PREFIX}/applications/{app_id}/customers/{}",
        enc(integration_id)
    );
    match tab {
        Some(t) => format!("{base}?tab={t}"),
        None => base,
    }
}

fn customers_href(app_id: i64) -> String {
    format!("{VIEW_PREFIX}/applications/{app_id}/customers")
}

/// The top bar: the fake's name and the four pages.
fn top(current: &str) -> Markup {
    let links = [
        ("Applications", format!("{VIEW_PREFIX}/")),
        ("Attributes", format!("{VIEW_PREFIX}/attributes")),
        ("Audiences", format!("{VIEW_PREFIX}/audiences")),
        ("Journal", format!("{VIEW_PREFIX}/journal")),
    ];
    html! {
        header.top {
            a.brand href={ (VIEW_PREFIX) "/" } { "talon-fake · Campaign Manager view" }
            nav aria-label="Main" {
                @for (label, href) in &links {
                    @if *label == current {
                        a href=(href) aria-current="page" { (label) }
                    } @else {
                        a href=(href) { (label) }
                    }
                }
            }
        }
    }
}

fn shell(title: &str, current: &str, body: Markup) -> Markup {
    page(title, top(current), html! {}, body)
}

/// `P/`: the applications.
pub(crate) fn applications(apps: &[AppSummary]) -> Markup {
    shell(
        "Applications · talon-fake",
        "Applications",
        html! {
            h1 { "Applications" }
            @if apps.is_empty() {
                p.muted { "This deployment has no applications." }
            } @else {
                table #applications {
                    thead { tr { th scope="col" { "Name" } th scope="col" { "ID" } th scope="col" { "Customers" } } }
                    tbody {
                        @for a in apps {
                            tr {
                                th scope="row" { a href=(customers_href(a.app.id)) { (a.app.name) } }
                                td { (a.app.id) }
                                td { (a.customers) }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// What the Customers tab was asked.
#[derive(Debug, Clone, Default)]
pub(crate) struct CustomersQuery {
    /// The exact integration id searched, if any.
    pub(crate) integration_id: Option<String>,
    /// 1-based page.
    pub(crate) page: usize,
}

/// How many journal entries name a searched id that has no profile.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Named {
    pub(crate) total: usize,
    pub(crate) accepted: usize,
}

/// `1 request`, `3 requests`.
pub(crate) fn requests(n: usize) -> String {
    if n == 1 {
        "1 request".to_owned()
    } else {
        format!("{n} requests")
    }
}

/// `P/applications/{id}/customers`: exact, case-sensitive search, near-miss hint, paged list.
pub(crate) fn customers(
    app: &Application,
    rows: &[CustomerRow],
    query: &CustomersQuery,
    near: &[String],
    named: Named,
) -> Markup {
    let searched = query.integration_id.as_deref();
    let (shown, pages): (Vec<&CustomerRow>, usize) = match searched {
        Some(id) => (
            rows.iter().filter(|r| &*r.integration_id == id).collect(),
            1,
        ),
        None => {
            let pages = rows.len().div_ceil(CUSTOMERS_PER_PAGE).max(1);
            let start = (query.page.clamp(1, pages) - 1) * CUSTOMERS_PER_PAGE;
            (
                rows.iter().skip(start).take(CUSTOMERS_PER_PAGE).collect(),
                pages,
            )
        }
    };
    let page_no = query.page.clamp(1, pages);
    shell(
        &format!("Customers · {} · talon-fake", app.name),
        "Applications",
        html! {
            p.muted { "Application " a href={ (VIEW_PREFIX) "/" } { (app.name) } " (ID " (app.id) ")" }
            h1 { "Customers" }
            form.search #customer-search method="get" action=(customers_href(app.id)) role="search" {
                label for="integration-id" {
                    "Integration ID"
                    input #integration-id type="search" name="integration_id" value=[searched]
                        autocomplete="off" spellcheck="false";
                }
                button type="submit" { "Search" }
                @if searched.is_some() { a href=(customers_href(app.id)) { "Show all customers" } }
            }
            p.muted { "Search is exact and case-sensitive, as in Talon.One: " code { "User1" } " does not find " code { "user1" } "." }
            @if let (Some(id), true) = (searched, shown.is_empty()) {
                p.hint #search-hint role="status" {
                    "No customer " code { (id) }
                    @if near.is_empty() { "." } @else { "; " }
                    @for (i, other) in near.iter().enumerate() {
                        @if i > 0 { ", " }
                        a href=(customer_href(app.id, other, None)) { code { (other) } }
                    }
                    @if near.len() == 1 { " exists." } @else if near.len() > 1 { " exist." }
                    @if named.total > 0 {
                        " " a href={ (VIEW_PREFIX) "/journal?integration_id=" (enc(id)) } {
                            (requests(named.total)) " in the journal"
                        }
                        " name " code { (id) } " (" (named.accepted) " accepted): a customer whose every update was rejected has no profile."
                    }
                }
            }
            @if shown.is_empty() && searched.is_none() {
                p.muted { "No customers yet: nothing has updated a profile of this application." }
            }
            @if !shown.is_empty() {
                table #customers {
                    caption.muted {
                        @match searched {
                            Some(_) => "1 customer",
                            None => { (rows.len()) " customers, page " (page_no) " of " (pages) }
                        }
                    }
                    thead { tr {
                        th scope="col" { "Integration ID" } th scope="col" { "Created" }
                        th scope="col" { "Last activity" } th scope="col" { "Attributes" }
                    } }
                    tbody {
                        @for r in &shown {
                            tr {
                                th scope="row" { a href=(customer_href(app.id, &r.integration_id, None)) { code { (r.integration_id) } } }
                                td { (format_time(r.created)) } td { (format_time(r.last_activity)) } td { (r.attributes) }
                            }
                        }
                    }
                }
            }
            @if pages > 1 {
                nav.pages aria-label="Pages" {
                    @if page_no > 1 {
                        a rel="prev" href={ (customers_href(app.id)) "?page=" (page_no - 1) } { "Previous page" }
                    }
                    span { "Page " (page_no) " of " (pages) }
                    @if page_no < pages {
                        a rel="next" href={ (customers_href(app.id)) "?page=" (page_no + 1) } { "Next page" }
                    }
                }
            }
        },
    )
}

/// A customer page's tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tab {
    Attributes,
    Audiences,
    History,
}

impl Tab {
    pub(crate) fn parse(s: Option<&str>) -> Option<Self> {
        match s {
            None | Some("attributes") => Some(Self::Attributes),
            Some("audiences") => Some(Self::Audiences),
            Some("history") => Some(Self::History),
            Some(_) => None,
        }
    }
    fn slug(self) -> &'static str {
        match self {
            Self::Attributes => "attributes",
            Self::Audiences => "audiences",
            Self::History => "history",
        }
    }
    fn label(self) -> &'static str {
        match self {
            Self::Attributes => "Attributes",
            Self::Audiences => "Audiences",
            Self::History => "History",
        }
    }
}

/// `P/applications/{id}/customers/{integrationId}`: facts, then one tab.
pub(crate) fn customer(
    app: &Application,
    c: &Customer,
    tab: Tab,
    types: &BTreeMap<String, &'static str>,
    history: &[JournalEntry],
) -> Markup {
    let rows: Vec<AttributeRow<'_>> = c
        .attributes
        .iter()
        .map(|(name, value)| AttributeRow {
            name,
            value,
            ty: types.get(name).copied(),
        })
        .collect();
    shell(
        &format!("{} · {} · talon-fake", c.integration_id, tab.label()),
        "Applications",
        html! {
            p.muted {
                "Application " a href={ (VIEW_PREFIX) "/" } { (app.name) } " › "
                a href=(customers_href(app.id)) { "Customers" }
            }
            h1 { (c.integration_id) }
            dl.facts {
                dt { "Integration ID" } dd { code { (c.integration_id) } }
                dt { "Profile ID" } dd { (c.profile_id) }
                dt { "Created" } dd { (c.created) }
                dt { "Last activity" } dd { (c.last_activity) }
            }
            nav.tabs aria-label="Customer" {
                @for t in [Tab::Attributes, Tab::Audiences, Tab::History] {
                    @if t == tab {
                        a href=(customer_href(app.id, &c.integration_id, Some(t.slug()))) aria-current="page" { (t.label()) }
                    } @else {
                        a href=(customer_href(app.id, &c.integration_id, Some(t.slug()))) { (t.label()) }
                    }
                }
            }
            @match tab {
                Tab::Attributes => section #attributes-tab aria-labelledby="attributes-heading" {
                    h2 #attributes-heading { "Attributes" }
                    (attributes_table(&format!("Attributes of {}", c.integration_id), &rows))
                },
                Tab::Audiences => section #audiences-tab aria-labelledby="audiences-heading" {
                    h2 #audiences-heading { "Audiences" }
                    @if c.memberships.is_empty() {
                        p.muted { "Not in any audience." }
                    } @else {
                        table #memberships {
                            thead { tr { th scope="col" { "Audience" } th scope="col" { "ID" } } }
                            tbody { @for (id, name) in &c.memberships { tr { th scope="row" { (name) } td { (id) } } } }
                        }
                    }
                },
                Tab::History => section #history-tab aria-labelledby="history-heading" {
                    h2 #history-heading { "History" }
                    (history_table(&c.integration_id, &c.attributes, history))
                },
            }
        },
    )
}

fn history_table(
    integration_id: &str,
    current: &serde_json::Map<String, serde_json::Value>,
    history: &[JournalEntry],
) -> Markup {
    html! {
        @if history.is_empty() {
            p.muted { "No request in the journal names this customer (the journal keeps the most recent requests only)." }
        } @else {
            p.muted { "Every request in the journal that names this customer, oldest first. Talon.One accepts or rejects a request as a whole: a rejected one changed nothing." }
            table #history {
                thead { tr {
                    th scope="col" { "#" } th scope="col" { "Request" } th scope="col" { "Status" }
                    th scope="col" { "Rule" } th scope="col" { "What happened" }
                } }
                tbody {
                    @for e in history {
                        @let accepted = (200..300).contains(&e.status);
                        tr class=(if accepted { "accepted" } else { "rejected" }) {
                            td { (e.seq) }
                            td.mono { (e.method) " " (e.path) }
                            td { @if e.status == 0 { "dropped" } @else { (e.status) } }
                            td { code.rule { (e.rule) } }
                            td {
                                @if accepted {
                                    span.ok { "accepted" }
                                } @else {
                                    span.bad { "rejected" }
                                    @for r in reasons(&e.response_json()) {
                                        div {
                                            @if let Some(at) = &r.at { code.pointer { (at) } " " }
                                            span.reason { (r.text) }
                                        }
                                    }
                                    @let changes = would_change(e, integration_id, current);
                                    @if !changes.is_empty() {
                                        ul.changes { @for c in &changes { li { (c) } } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A name's key for sorting near misses side by side: lowercased.
fn fold(name: &str) -> String {
    name.to_lowercase()
}

/// `P/attributes`: the catalog, names equal but for case side by side and marked.
pub(crate) fn catalog(attributes: &[Attribute]) -> Markup {
    let mut sorted: Vec<&Attribute> = attributes.iter().collect();
    sorted.sort_by(|a, b| {
        (a.entity.as_str(), fold(&a.name), &a.name).cmp(&(
            b.entity.as_str(),
            fold(&b.name),
            &b.name,
        ))
    });
    let mut seen: BTreeMap<(&str, String), Vec<&str>> = BTreeMap::new();
    for a in &sorted {
        seen.entry((a.entity.as_str(), fold(&a.name)))
            .or_default()
            .push(&a.name);
    }
    shell(
        "Attribute catalog · talon-fake",
        "Attributes",
        html! {
            h1 { "Attribute catalog" }
            p.muted { "Names are case-sensitive: a request must use the name exactly as it is here. Names that differ only by case are marked and sit side by side." }
            table #catalog {
                thead { tr {
                    th scope="col" { "Entity" } th scope="col" { "Name" } th scope="col" { "Type" } th scope="col" { "Title" }
                } }
                tbody {
                    @for a in &sorted {
                        @let twins: Vec<&str> = seen.get(&(a.entity.as_str(), fold(&a.name)))
                            .into_iter().flatten().copied().filter(|n| *n != a.name).collect();
                        tr class=[(!twins.is_empty()).then_some("near-miss")] {
                            td { (a.entity.as_str()) }
                            th scope="row" {
                                code { (a.name) }
                                @if !twins.is_empty() {
                                    " " span.warn { "differs only by case from " @for (i, t) in twins.iter().enumerate() { @if i > 0 { ", " } code { (t) } } }
                                }
                            }
                            td { (a.ty.as_str()) }
                            td { (a.title) }
                        }
                    }
                }
            }
        },
    )
}

/// `P/audiences`.
pub(crate) fn audiences(rows: &[AudienceRow]) -> Markup {
    shell(
        "Audiences · talon-fake",
        "Audiences",
        html! {
            h1 { "Audiences" }
            @if rows.is_empty() {
                p.muted { "This deployment has no audiences." }
            } @else {
                table #audiences {
                    thead { tr {
                        th scope="col" { "ID" } th scope="col" { "Name" } th scope="col" { "Integration" } th scope="col" { "Members" }
                    } }
                    tbody {
                        @for r in rows {
                            tr {
                                td { (r.audience.id) }
                                th scope="row" { (r.audience.name) }
                                td { (r.audience.integration.as_deref().unwrap_or("—")) }
                                td { (r.members) }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// What the journal page was asked.
#[derive(Debug, Clone, Default)]
pub(crate) struct JournalQuery {
    pub(crate) filter: JournalFilter,
    pub(crate) live: bool,
    pub(crate) page: usize,
}

/// `P/journal`: newest first, filtered, paged; with `live`, the page reloads every 2 s.
pub(crate) fn journal(entries: &[JournalEntry], dropped: u64, query: &JournalQuery) -> Markup {
    let rules: BTreeSet<&str> = entries.iter().map(|e| e.rule.as_str()).collect();
    let kept: Vec<&JournalEntry> = entries
        .iter()
        .rev()
        .filter(|e| query.filter.keeps(e))
        .collect();
    let pages = kept.len().div_ceil(JOURNAL_PER_PAGE).max(1);
    let page_no = query.page.clamp(1, pages);
    let shown = kept
        .iter()
        .skip((page_no - 1) * JOURNAL_PER_PAGE)
        .take(JOURNAL_PER_PAGE);
    let f = &query.filter;
    let status = f.status.as_deref().unwrap_or("");
    let rule = f.rule.as_deref().unwrap_or("");
    let head = html! { @if query.live { meta http-equiv="refresh" content="2"; } };
    let self_href = |p: usize| {
        let mut q = vec![format!("page={p}")];
        for (k, v) in [
            ("status", &f.status),
            ("rule", &f.rule),
            ("integration_id", &f.integration_id),
            ("path", &f.path),
        ] {
            if let Some(v) = v {
                q.push(format!("{k}={}", enc(v)));
            }
        }
        if query.live {
            q.push("live=on".into());
        }
        format!("{VIEW_PREFIX}/journal?{}", q.join("&"))
    };
    let body = html! {
        h1 { "Journal" }
        form.filters #journal-filters method="get" action={ (VIEW_PREFIX) "/journal" } {
            label { "Status"
                select name="status" {
                    @for (value, label) in [("", "any"), ("2xx", "2xx accepted"), ("4xx", "4xx rejected"), ("5xx", "5xx server error"), ("dropped", "dropped connection")] {
                        option value=(value) selected[status == value] { (label) }
                    }
                    @if !["", "2xx", "4xx", "5xx", "dropped"].contains(&status) {
                        option value=(status) selected { (status) }
                    }
                }
            }
            label { "Rule"
                select name="rule" {
                    option value="" selected[rule.is_empty()] { "any" }
                    @for r in &rules { option value=(r) selected[rule == *r] { (r) } }
                    @if !rule.is_empty() && !rules.contains(rule) { option value=(rule) selected { (rule) } }
                }
            }
            label { "Integration ID" input type="text" name="integration_id" value=[f.integration_id.as_deref()] spellcheck="false"; }
            label { "Path contains" input type="text" name="path" value=[f.path.as_deref()] spellcheck="false"; }
            label.check { span { "Refresh every 2 s" } input type="checkbox" name="live" checked[query.live]; }
            button type="submit" { "Filter" }
        }
        p.muted #journal-count role="status" {
            (kept.len()) " of " (entries.len()) " requests"
            @if dropped > 0 { "; " (dropped) " older ones were dropped from the journal" }
            @if query.live { " · refreshing every 2 s" }
        }
        @if kept.is_empty() {
            p.muted { "No request matches." }
        } @else {
            table #journal {
                thead { tr {
                    th scope="col" { "Seq" } th scope="col" { "Method" } th scope="col" { "Path" }
                    th scope="col" { "Status" } th scope="col" { "Rule" } th scope="col" { "Customer" }
                } }
                tbody {
                    @for e in shown {
                        @let accepted = (200..300).contains(&e.status);
                        tr class=(if accepted { "accepted" } else { "rejected" }) {
                            td { (e.seq) }
                            td { (e.method) }
                            td.mono { (e.path) @if let Some(q) = &e.query { "?" (q) } }
                            td { @if e.status == 0 { "dropped" } @else { (e.status) } }
                            td { code.rule { (e.rule) } }
                            td { (customer_cell(&super::data::customers_named(e))) }
                        }
                    }
                }
            }
        }
        @if pages > 1 {
            nav.pages aria-label="Pages" {
                @if page_no > 1 { a rel="prev" href=(self_href(page_no - 1)) { "Previous page" } }
                span { "Page " (page_no) " of " (pages) }
                @if page_no < pages { a rel="next" href=(self_href(page_no + 1)) { "Next page" } }
            }
        }
    };
    page("Journal · talon-fake", top("Journal"), head, body)
}

/// The customers an entry names, each a link to the journal filtered by that customer.
fn customer_cell(ids: &[String]) -> Markup {
    const SHOWN: usize = 3;
    html! {
        @for (i, id) in ids.iter().take(SHOWN).enumerate() {
            @if i > 0 { ", " }
            a href={ (VIEW_PREFIX) "/journal?integration_id=" (enc(id)) } { code { (id) } }
        }
        @if ids.len() > SHOWN { " and " (ids.len() - SHOWN) " more" }
    }
}

/// The page for a path the view does not have, an unknown application or customer.
pub(crate) fn not_found(what: &str) -> Markup {
    shell(
        "Not found · talon-fake",
        "",
        html! {
            h1 { "Not found" }
            p { (what) }
            p { a href={ (VIEW_PREFIX) "/" } { "Back to the applications" } }
        },
    )
}
