//! `repro --html`: a bundle's run as one self-contained HTML page, to attach to a ticket.
//!
//! A pure function of the [`BundleRun`] and the checks `repro` made ([`render`]); `repro`
//! writes the string. The page holds the customer's report (the README, Markdown rendered),
//! the check's result, the settings' problems, each event in input order (its line, the event
//! itself folded, its outcome and the lines `repro` prints for it, the requests the embedded
//! fake received for it and its answers, from the fake's journal), and the final profiles as
//! the fake's Customers tab shows them (its [`attributes_table`] in its [`page`] shell).
//!
//! Nothing on the page loads from elsewhere: the stylesheet is the fake's embedded one, and
//! there is no script. Every value is escaped by [`maud`]. The README is the customer's text,
//! so it is untrusted: raw HTML in it is shown as text, an image is named with its address but
//! not loaded, and only `http:`, `https:`, `mailto:` and in-page (`#…`) links stay links;
//! any other link (`javascript:`, a relative path that would not resolve next to an attached
//! file) is shown as its text followed by its address.

use maud::{Markup, PreEscaped, html};
use pulldown_cmark::{CodeBlockKind, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use talon_fake::view::{AttributeRow, attributes_table, page};

use super::{BundleEvent, BundleRun, Exchange};
use crate::output::Check;
use crate::report::{EventReport, Outcome};

/// What the run was for: `repro` compared it with `expected.json`, or `--update-expected`
/// recorded it there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Compared with `expected.json` and `explanation.txt`.
    Compared,
    /// Written to `expected.json` and `explanation.txt` (`--update-expected`).
    Recorded,
}

/// The whole report page. `checks` are the checks `repro` made of the run, as its summary
/// lists them.
pub fn render(bundle: &BundleRun, checks: &[Check], mode: Mode) -> String {
    let summary = &bundle.run.summary;
    let nav = html! {
        header.top {
            span.brand { "talon-harness repro" }
            nav {
                a href="#check" { "Check" }
                a href="#report" { "Report" }
                @if !bundle.problems.is_empty() { a href="#settings" { "Settings" } }
                a href="#events" { "Events" }
                a href="#profiles" { "Final profiles" }
                @if bundle.actions {
                    a href="#audiences" { "Audiences" }
                    a href="#stored-events" { "Stored events" }
                }
            }
        }
    };
    let body = html! {
        h1 { (bundle.title) }
        p.muted {
            (summary.events) " events: " (summary.delivered) " delivered, "
            (summary.rejected) " rejected, " (summary.skipped) " skipped, "
            (summary.failed) " failed; delivered to an embedded fake Talon.One holding the bundle's talon-state.json."
        }
        section #check {
            h2 { "Check" }
            (checks_section(checks, mode))
        }
        section #report {
            h2 { "The customer's report (README.md)" }
            div.readme { (PreEscaped(markdown(&bundle.readme))) }
        }
        @if !bundle.problems.is_empty() {
            section #settings {
                h2 { "Problems in settings.json" }
                ul { @for problem in &bundle.problems { li { "settings: " (problem) } } }
            }
        }
        section #events {
            h2 { "Events, in input order" }
            @if bundle.events.is_empty() { p.muted { "No events." } }
            @for (event, report) in bundle.events.iter().zip(&bundle.run.reports) {
                (event_section(event, report))
            }
        }
        section #profiles {
            h2 { "Final profiles, as Talon.One's Customers tab shows them" }
            (profiles_section(bundle))
        }
        @if bundle.actions {
            (actions_sections(bundle))
        }
        details {
            summary { "The explanation as " code { "repro" } " prints it (explanation.txt)" }
            pre { (bundle.explanation) }
        }
    };
    page(&format!("repro: {}", bundle.title), nav, html! {}, body).into_string()
}

fn checks_section(checks: &[Check], mode: Mode) -> Markup {
    html! {
        @if mode == Mode::Recorded {
            p.notice {
                "This run was just written to " code { "expected.json" } " and "
                code { "explanation.txt" } " (" code { "--update-expected" } "): there was nothing to compare it with."
            }
        }
        @for check in checks {
            div.check {
                p {
                    @if check.passed { span.ok { "ok" } } @else { span.bad { "FAIL" } }
                    " " (check.name)
                }
                @if !check.details.is_empty() {
                    ul.changes { @for detail in &check.details { li { (detail) } } }
                }
            }
        }
    }
}

fn event_section(event: &BundleEvent, report: &EventReport) -> Markup {
    let class = outcome_class(&report.outcome);
    let (first, rest) = match event.explanation.split_first() {
        Some((first, rest)) => (first.as_str(), rest),
        None => ("", &[][..]),
    };
    html! {
        article.event id=(anchor(&event.source)) {
            h3 { code { (event.source) } " " span class=(class) { (report.outcome.kind()) } }
            p.outcome { (first) }
            @if !rest.is_empty() {
                ul.explanation { @for line in rest { li { (line) } } }
            }
            details.event-json {
                summary { "The event, " code { (event.source) } }
                pre { (pretty_json(&event.text).unwrap_or_else(|| event.text.clone())) }
            }
            @if event.exchanges.is_empty() && event.unrecorded == 0 {
                p.muted { "No request was sent for this event." }
            }
            @for (i, exchange) in event.exchanges.iter().enumerate() {
                (exchange_section(exchange, i + 1, event.exchanges.len()))
            }
            @if event.unrecorded > 0 {
                p.warn {
                    (event.unrecorded) " of the attempts the outcome counts are not in the embedded fake's journal."
                }
            }
        }
    }
}

fn exchange_section(exchange: &Exchange, attempt: usize, attempts: usize) -> Markup {
    let entry = &exchange.entry;
    let status_class = match entry.status {
        200..=299 => "ok",
        _ => "bad",
    };
    let status = if entry.status == 0 {
        "no answer (the connection was dropped)".to_owned()
    } else {
        entry.status.to_string()
    };
    // A refused request is what the report is about: open; an accepted one folded.
    let open = !(200..=299).contains(&entry.status);
    html! {
        details.exchange open[open] {
            summary {
                @if attempts > 1 { "attempt " (attempt) " of " (attempts) ": " }
                code { (entry.method) " " (exchange.url) } " → "
                span class=(status_class) { (status) }
                " " span.muted { "(rule " code { (entry.rule) } ")" }
            }
            h4 { "Request" }
            pre {
                (entry.method) " " (exchange.url) "\n"
                @for (name, value) in &entry.headers { (name) ": " (value) "\n" }
                "\n" (body_text(&entry.body))
            }
            h4 { "Talon.One's answer" }
            pre { (status) "\n\n" (body_text(&entry.response_body)) }
        }
    }
}

fn profiles_section(bundle: &BundleRun) -> Markup {
    html! {
        @if bundle.actual.profiles.is_empty() { p.muted { "No profiles." } }
        @for (id, attributes) in &bundle.actual.profiles {
            div.customer {
                h3 { "Customer " code { (id) } }
                @let rows = attribute_rows(attributes, &bundle.catalog);
                (attributes_table(&format!("Attributes of customer {id}"), &rows))
            }
        }
    }
}

/// What a Talon.One (Actions) bundle leaves besides profile attributes: audience memberships
/// and the custom events Talon.One stored (as `explanation.txt` lists them).
fn actions_sections(bundle: &BundleRun) -> Markup {
    html! {
        section #audiences {
            h2 { "Audience memberships" }
            @if bundle.actual.memberships.is_empty() {
                p.muted { "No profile is in a Talon.One audience." }
            }
            ul {
                @for (id, audiences) in &bundle.actual.memberships {
                    li { (id) ": " (audiences.join(", ")) }
                }
            }
        }
        section #stored-events {
            h2 { "Events Talon.One stored" }
            @if bundle.actual.events.is_empty() { p.muted { "No events." } }
            ul {
                @for event in &bundle.actual.events {
                    li {
                        (event.profile) ": " (event.event_type) " "
                        code { (serde_json::Value::Object(event.attributes.clone())) }
                    }
                }
            }
        }
    }
}

/// A profile's attributes as the Attributes tab lists them: by name, with the catalog's type.
fn attribute_rows<'a>(
    attributes: &'a serde_json::Map<String, serde_json::Value>,
    catalog: &'a crate::run::Catalog,
) -> Vec<AttributeRow<'a>> {
    let mut rows: Vec<AttributeRow<'a>> = attributes
        .iter()
        .map(|(name, value)| AttributeRow {
            name,
            value,
            ty: catalog.get(name).map(|t| t.as_str()),
        })
        .collect();
    rows.sort_by(|a, b| a.name.cmp(b.name));
    rows
}

/// `ok`, `bad` or `warn`: the stylesheet's words for an outcome.
fn outcome_class(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Delivered { .. } => "ok",
        Outcome::Rejected { .. } | Outcome::Failed { .. } => "bad",
        Outcome::Skipped { .. } => "warn",
    }
}

/// An element id for an event: `events.ndjson:3` becomes `event-events-ndjson-3`.
fn anchor(source: &str) -> String {
    let mut out = String::from("event-");
    out.extend(
        source
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }),
    );
    out
}

/// A body for people: pretty JSON when it is JSON, `(no body)` when empty, else as it is.
fn body_text(body: &str) -> String {
    if body.is_empty() {
        "(no body)".to_owned()
    } else {
        pretty_json(body).unwrap_or_else(|| body.to_owned())
    }
}

/// JSON text indented, two spaces a level, keeping its keys in their order and any repeated
/// key (a `serde_json::Value` would sort them and keep one: the order of a customer's traits
/// decides a flattening collision, so it is shown as sent). `None` when `text` is not JSON.
pub fn pretty_json(text: &str) -> Option<String> {
    serde_json::from_str::<serde::de::IgnoredAny>(text).ok()?;
    let mut out = String::with_capacity(text.len() * 2);
    let mut depth = 0usize;
    let (mut in_string, mut escaped) = (false, false);
    let mut chars = text.trim().chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.extend(std::iter::repeat_n("  ", depth));
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                while chars.next_if(char::is_ascii_whitespace).is_some() {}
                out.push(c);
                if let Some(close) = chars.next_if(|n| matches!(n, '}' | ']')) {
                    out.push(close);
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_ascii_whitespace() => {}
            c => out.push(c),
        }
    }
    Some(out)
}

/// The README as HTML: CommonMark with tables and strikethrough, raw HTML shown as text,
/// images named but not loaded, and only safe links kept as links (see the module doc).
pub fn markdown(text: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    // For each open link: `None` when it stays a link, else the address shown after its text.
    let mut links: Vec<Option<CowStr<'_>>> = Vec::new();
    let mut images: Vec<CowStr<'_>> = Vec::new();
    let events = Parser::new_ext(text, options).filter_map(|event| match event {
        // The README sits under the page's own `h2`: its headings go two levels down.
        Event::Start(Tag::Heading {
            level,
            id,
            classes,
            attrs,
        }) => Some(Event::Start(Tag::Heading {
            level: demoted(level),
            id,
            classes,
            attrs,
        })),
        Event::End(TagEnd::Heading(level)) => Some(Event::End(TagEnd::Heading(demoted(level)))),
        // A block of raw HTML is shown as a code block of its text; inline HTML as text.
        Event::Start(Tag::HtmlBlock) => Some(Event::Start(Tag::CodeBlock(CodeBlockKind::Indented))),
        Event::End(TagEnd::HtmlBlock) => Some(Event::End(TagEnd::CodeBlock)),
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        Event::Start(Tag::Link { dest_url, .. }) if !safe_link(&dest_url) => {
            links.push(Some(dest_url));
            None
        }
        Event::Start(link @ Tag::Link { .. }) => {
            links.push(None);
            Some(Event::Start(link))
        }
        Event::End(TagEnd::Link) => match links.pop().flatten() {
            Some(dest) => Some(Event::Text(format!(" ({dest})").into())),
            None => Some(Event::End(TagEnd::Link)),
        },
        Event::Start(Tag::Image { dest_url, .. }) => {
            images.push(dest_url);
            Some(Event::Text("[image: ".into()))
        }
        Event::End(TagEnd::Image) => {
            let dest = images.pop().unwrap_or(CowStr::Borrowed(""));
            Some(Event::Text(format!("] ({dest}, not loaded)").into()))
        }
        other => Some(other),
    });
    let mut out = String::with_capacity(text.len() * 2);
    pulldown_cmark::html::push_html(&mut out, events);
    out
}

/// A README heading's level on the page: two below, `h6` at most.
fn demoted(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 => HeadingLevel::H3,
        HeadingLevel::H2 => HeadingLevel::H4,
        HeadingLevel::H3 => HeadingLevel::H5,
        _ => HeadingLevel::H6,
    }
}

/// Whether a README link may stay a link: the web, mail, or a place on this page.
fn safe_link(dest: &str) -> bool {
    let lower = dest.trim_start().to_ascii_lowercase();
    ["http://", "https://", "mailto:", "#"]
        .iter()
        .any(|scheme| lower.starts_with(scheme))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::{Map, Value, json};
    use talon_fake::JournalEntry;
    use talon_fake::rules::AttrType;

    use super::*;
    use crate::bundle::{Expected, ExpectedOutcome};
    use crate::report::Summary;
    use crate::run::Run;

    const HOSTILE: &str = "<script>alert(\"x\")</script> 'q' & ünïcødé ✓";

    fn rejected(source: &str, id: &str) -> EventReport {
        EventReport {
            index: 0,
            source: source.into(),
            integration_id: Some(id.into()),
            outcome: Outcome::Rejected {
                status: 400,
                error: json!({"errors": [{"title": "Invalid attribute value", "source": {"pointer": "/attributes/x"}}]}),
                attempts: 1,
            },
            diagnostics: Vec::new(),
        }
    }

    fn entry(body: &str, status: u16, response: &str) -> JournalEntry {
        JournalEntry {
            seq: 1,
            method: "PUT".into(),
            path: "/v2/customer_profiles/u%3Cscript%3E".into(),
            query: None,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.into(),
            status,
            response_body: response.into(),
            rule: "attribute.type_mismatch".into(),
            relay: None,
        }
    }

    /// A run of one rejected event whose every part holds `HOSTILE`.
    fn hostile_bundle() -> BundleRun {
        let id = format!("u-{HOSTILE}");
        let report = rejected("events.ndjson:1", &id);
        let mut summary = Summary::default();
        summary.add(&report);
        let text =
            json!({"type": "identify", "userId": id, "traits": {HOSTILE: HOSTILE}}).to_string();
        let body = json!({"attributes": {HOSTILE: HOSTILE}}).to_string();
        let response = json!({"message": HOSTILE}).to_string();
        let exchange = Exchange {
            url: "https://shop.example/v2/customer_profiles/u%3Cscript%3E".into(),
            entry: entry(&body, 400, &response),
        };
        let mut attributes = Map::new();
        attributes.insert(HOSTILE.into(), Value::from(HOSTILE));
        let mut profiles = BTreeMap::new();
        profiles.insert(id.clone(), attributes);
        let explanation = report.explain();
        BundleRun {
            title: format!("Title {HOSTILE}"),
            readme: format!(
                "# Title {HOSTILE}\n\nThe customer says {HOSTILE}\n\n<div onclick=\"x()\">raw</div>\n"
            ),
            problems: vec![format!("problem {HOSTILE}")],
            events: vec![BundleEvent {
                source: "events.ndjson:1".into(),
                text,
                explanation,
                exchanges: vec![exchange],
                unrecorded: 0,
            }],
            explanation: format!("# Title {HOSTILE}\n"),
            actual: Expected {
                outcomes: vec![ExpectedOutcome::of(&report)],
                profiles,
                memberships: BTreeMap::new(),
                events: Vec::new(),
            },
            run: Run {
                reports: vec![report],
                summary,
                state: None,
                journal: Vec::new(),
            },
            catalog: BTreeMap::from([(HOSTILE.to_owned(), AttrType::String)]),
            actions: false,
        }
    }

    #[test]
    fn an_actions_bundle_shows_its_memberships_and_stored_events_escaped_and_a_classic_one_neither()
    {
        let classic = render(&hostile_bundle(), &[], Mode::Compared);
        assert!(!classic.contains("Audience memberships"), "{classic}");
        assert!(!classic.contains("Events Talon.One stored"), "{classic}");

        let mut bundle = hostile_bundle();
        bundle.actions = true;
        let page = render(&bundle, &[], Mode::Compared);
        assert!(
            page.contains("No profile is in a Talon.One audience."),
            "{page}"
        );
        assert!(page.contains("No events."), "{page}");

        bundle.actual.memberships =
            BTreeMap::from([(HOSTILE.to_owned(), vec![format!("1 {HOSTILE}")])]);
        bundle.actual.events = vec![crate::bundle::ExpectedEvent {
            profile: HOSTILE.to_owned(),
            event_type: HOSTILE.to_owned(),
            attributes: serde_json::Map::from_iter([(HOSTILE.to_owned(), 1.into())]),
        }];
        let page = render(&bundle, &[], Mode::Compared);
        assert!(!page.contains("<script"), "{page}");
        let escaped = HOSTILE
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;");
        assert!(
            page.contains(&format!("1 {escaped}")),
            "the membership is shown, escaped: {page}"
        );
        assert!(
            page.contains(&format!("{escaped}: {escaped} <code>")),
            "the event type is shown, escaped: {page}"
        );
        assert!(!page.contains("No profile is in a Talon.One audience."));
    }

    fn passed(name: &str) -> Check {
        Check::from_details(name, Vec::new())
    }

    #[test]
    fn every_hostile_value_renders_as_text_and_the_page_has_no_markup_of_its_own_making() {
        let out = render(&hostile_bundle(), &[passed(HOSTILE)], Mode::Compared);
        assert!(!out.contains("<script"), "{out}");
        assert!(!out.contains("<div onclick"), "{out}");
        assert!(out.contains("&lt;script&gt;"), "{out}");
        assert!(out.contains("&lt;div onclick="), "{out}");
        assert!(out.contains("ünïcødé ✓"), "{out}");
        // In the title, the README, the settings' problems, the check, the explanation, the
        // event, the request, the answer and the profile: nine places at least.
        assert!(out.matches("&lt;script&gt;").count() >= 9, "{out}");
    }

    #[test]
    fn the_page_shows_the_event_its_explanation_its_request_and_the_answer() {
        let bundle = hostile_bundle();
        let out = render(&bundle, &[], Mode::Compared);
        for line in &bundle.events[0].explanation {
            let escaped = maud::html! { (line) }.into_string();
            assert!(out.contains(&escaped), "{escaped} not in {out}");
        }
        assert!(
            out.contains("PUT https://shop.example/v2/customer_profiles/u%3Cscript%3E"),
            "{out}"
        );
        assert!(out.contains("attribute.type_mismatch"), "{out}");
        assert!(out.contains("<span class=\"bad\">400</span>"), "{out}");
        assert!(out.contains("<details class=\"event-json\">"), "{out}");
        assert!(out.contains("<table class=\"attributes\">"), "{out}");
        // A refused request is shown open, an accepted one folded.
        assert!(out.contains("<details class=\"exchange\" open>"), "{out}");
        let mut accepted = bundle;
        accepted.events[0].exchanges[0].entry.status = 200;
        let out = render(&accepted, &[], Mode::Compared);
        assert!(
            out.contains("<details class=\"exchange\"><summary>"),
            "{out}"
        );
        assert!(out.contains("<span class=\"ok\">200</span>"), "{out}");
    }

    #[test]
    fn a_failed_check_lists_its_differences_and_a_recorded_run_says_it_compared_nothing() {
        let failing = Check::from_details(
            "bundle behaves",
            vec!["events.ndjson:1: expected delivered (200), got rejected (400)".into()],
        );
        let out = render(&hostile_bundle(), &[failing], Mode::Compared);
        assert!(
            out.contains("<span class=\"bad\">FAIL</span> bundle behaves"),
            "{out}"
        );
        assert!(
            out.contains("<li>events.ndjson:1: expected delivered (200), got rejected (400)</li>"),
            "{out}"
        );
        assert!(!out.contains("nothing to compare"), "{out}");
        let out = render(&hostile_bundle(), &[passed("lines")], Mode::Recorded);
        assert!(out.contains("<span class=\"ok\">ok</span> lines"), "{out}");
        assert!(
            out.contains("there was nothing to compare it with"),
            "{out}"
        );
    }

    #[test]
    fn an_event_without_a_request_says_so_and_missing_journal_entries_are_counted() {
        let mut bundle = hostile_bundle();
        bundle.events[0].exchanges.clear();
        let out = render(&bundle, &[], Mode::Compared);
        assert!(out.contains("No request was sent for this event."), "{out}");
        bundle.events[0].unrecorded = 1;
        let out = render(&bundle, &[], Mode::Compared);
        assert!(!out.contains("No request was sent"), "{out}");
        assert!(
            out.contains(
                "1 of the attempts the outcome counts are not in the embedded fake's journal"
            ),
            "{out}"
        );
    }

    #[test]
    fn readme_raw_html_is_text_images_are_not_loaded_and_only_safe_links_stay_links() {
        let out = markdown(concat!(
            "# Report\n\n## Steps\n\n#### Deep\n\n",
            "<script>alert(1)</script>\n\n",
            "Inline <b onmouseover=\"x()\">bold</b> and `code <i>`.\n\n",
            "![logo](https://cdn.example/logo.png) [docs](https://docs.talon.one/x) ",
            "[bad](javascript:alert(1)) [file](other.md) [here](#events) <https://auto.example>\n",
        ));
        // Under the page's own `h2`, two levels down.
        assert!(
            out.contains("<h3>Report</h3>\n<h4>Steps</h4>\n<h6>Deep</h6>"),
            "{out}"
        );
        assert!(
            out.contains("<pre><code>&lt;script&gt;alert(1)&lt;/script&gt;\n</code></pre>"),
            "{out}"
        );
        assert!(
            out.contains("&lt;b onmouseover=\"x()\"&gt;bold&lt;/b&gt;"),
            "{out}"
        );
        assert!(out.contains("<code>code &lt;i&gt;</code>"), "{out}");
        assert!(!out.contains("<img"), "{out}");
        assert!(
            out.contains("[image: logo] (https://cdn.example/logo.png, not loaded)"),
            "{out}"
        );
        assert!(
            out.contains("<a href=\"https://docs.talon.one/x\">docs</a>"),
            "{out}"
        );
        assert!(!out.contains("href=\"javascript"), "{out}");
        assert!(out.contains("bad (javascript:alert(1))"), "{out}");
        assert!(out.contains("file (other.md)"), "{out}");
        assert!(out.contains("<a href=\"#events\">here</a>"), "{out}");
        assert!(out.contains("<a href=\"https://auto.example\">"), "{out}");
        for tag in ["<script", "<b ", "<i>", "<img"] {
            assert!(!out.contains(tag), "{tag} in {out}");
        }
    }

    #[test]
    fn pretty_json_keeps_key_order_and_repeated_keys_and_refuses_what_is_not_json() {
        let text = r#"{"b": 1, "a": {"z": [1, {}], "y": []}, "b": "x,\"}:" }"#;
        assert_eq!(
            pretty_json(text).as_deref(),
            Some(
                "{\n  \"b\": 1,\n  \"a\": {\n    \"z\": [\n      1,\n      {}\n    ],\n    \"y\": []\n  },\n  \"b\": \"x,\\\"}:\"\n}"
            )
        );
        assert_eq!(pretty_json("{\"type\": "), None);
        assert_eq!(pretty_json(""), None);
        assert_eq!(pretty_json("3").as_deref(), Some("3"));
    }

    #[test]
    fn an_event_that_is_not_json_is_shown_as_it_was_read() {
        let mut bundle = hostile_bundle();
        bundle.events[0].text = "{\"type\": \"identify\", \"userId\": <".into();
        let out = render(&bundle, &[], Mode::Compared);
        assert!(
            out.contains("{&quot;type&quot;: &quot;identify&quot;, &quot;userId&quot;: &lt;"),
            "{out}"
        );
    }
}
