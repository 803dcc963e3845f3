//! The comparison itself: every event mapped under both configurations, delivered to two
//! embedded fakes, and its two outcomes paired; then the two final states compared.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};
use talon_fake::rules::Entity;
use talon_fake::{Fake, FakeConfig, MockServer, StateFile};
use talon_mapper::{Destination, Level, Mapped, Request, map};

use super::model::{Accepted, Change, ChangeKind, DiffReport, EventComparison, Tally};
use crate::Error;
use crate::deliver::{self, DeliveryConfig};
use crate::input::EventLine;
use crate::report::{EventDelivery, Outcome, RequestReport, Summary, explain_rejection, reason};

/// One side of the comparison: a configuration and the Talon.One it is delivered to.
#[derive(Debug, Clone)]
pub struct Side {
    /// The destination and its configuration.
    pub destination: Destination,
    /// The state the side's embedded fake starts from.
    pub state: StateFile,
}

/// What to compare.
#[derive(Debug, Clone)]
pub struct DiffConfig {
    /// The configuration in use.
    pub before: Side,
    /// The configuration proposed.
    pub after: Side,
    /// The kinds of difference already reviewed.
    pub accepted: Accepted,
    /// Events mapped and delivered per round (at least 1): what bounds the memory held for
    /// events. Each round is delivered to both fakes before the next starts, so one profile's
    /// events still arrive in input order.
    pub chunk: usize,
}

/// The default [`DiffConfig::chunk`].
pub const DEFAULT_CHUNK: usize = 4096;

impl DiffConfig {
    /// A comparison of `before` and `after`, nothing accepted, rounds of [`DEFAULT_CHUNK`].
    pub fn new(before: Side, after: Side) -> Self {
        Self {
            before,
            after,
            accepted: Accepted::default(),
            chunk: DEFAULT_CHUNK,
        }
    }
}

/// A side's fake on a real loopback socket, and a client for it.
struct Running {
    server: MockServer,
    config: DeliveryConfig,
    client: deliver::Client,
}

impl Running {
    async fn start(state: StateFile) -> Result<Self, Error> {
        // The journal is for people looking at a fake; a comparison reads only the final
        // state, so it keeps none, and memory does not grow with the events. The relay's
        // 60 requests per second per key is off (as in `simulate`): a comparison is about
        // what Talon.One answers, not how fast Segment may send.
        let fake_config = FakeConfig {
            journal_cap: 0,
            relay_rate_limit: None,
            ..FakeConfig::default()
        };
        let fake = Fake::new(state, fake_config)
            .map_err(|e| Error::Input(format!("Talon.One state: {e}")))?;
        let server = MockServer::start(fake).await.map_err(|source| Error::Io {
            path: "127.0.0.1:0".into(),
            source,
        })?;
        let config = DeliveryConfig::new(server.uri());
        let client = deliver::client(&config);
        Ok(Self {
            server,
            config,
            client,
        })
    }
}

/// Compares `events` under both configurations of `config`, handing each event's comparison
/// to `sink` in input order (every input event gets exactly one), and returns the report. The
/// first error of `sink` is returned after the run.
pub async fn compare(
    config: &DiffConfig,
    events: impl IntoIterator<Item = EventLine>,
    mut sink: impl FnMut(&EventComparison) -> Result<(), Error>,
) -> Result<DiffReport, Error> {
    let before = Running::start(config.before.state.clone()).await?;
    let after = Running::start(config.after.state.clone()).await?;
    let known: BTreeSet<(Entity, String)> = config
        .before
        .state
        .attributes
        .iter()
        .map(|a| (a.entity, a.name.clone()))
        .collect();
    let mut tally = Tally::default();
    let mut before_summary = Summary::default();
    let mut after_summary = Summary::default();
    let mut sink_error = None;
    let mut events = events.into_iter();
    let mut offset = 0u64;
    loop {
        let chunk: Vec<EventLine> = events.by_ref().take(config.chunk.max(1)).collect();
        if chunk.is_empty() {
            break;
        }
        let n = chunk.len();
        let mut pending = Vec::with_capacity(n);
        let mut before_in = Vec::with_capacity(n);
        let mut after_in = Vec::with_capacity(n);
        for line in chunk {
            let b = map(&config.before.destination, &line.bytes);
            let a = map(&config.after.destination, &line.bytes);
            pending.push(compare_mapped_under(
                &b,
                &a,
                Some((&config.before.destination, &config.after.destination)),
            ));
            before_in.push((line.source.clone(), b));
            after_in.push((line.source, a));
        }
        let mut before_out = Vec::with_capacity(n);
        let mut after_out = Vec::with_capacity(n);
        tokio::join!(
            deliver::run_mapped(before_in, &before.client, &before.config, |d| before_out
                .push(d)),
            deliver::run_mapped(after_in, &after.client, &after.config, |d| after_out
                .push(d)),
        );
        if before_out.len() != n || after_out.len() != n {
            return Err(Error::Input(format!(
                "internal error: {n} events gave {} outcomes before and {} after",
                before_out.len(),
                after_out.len()
            )));
        }
        for ((changes, mut b), mut a) in pending.into_iter().zip(before_out).zip(after_out) {
            b.report.index += offset;
            a.report.index += offset;
            before_summary.add_delivery(&b);
            after_summary.add_delivery(&a);
            let comparison = pair(changes, &b, &a, &known);
            tally.add(&comparison);
            if sink_error.is_none()
                && let Err(e) = sink(&comparison)
            {
                sink_error = Some(e);
            }
        }
        offset += n as u64;
    }
    let before_state = before.server.fake().state_dump();
    let after_state = after.server.fake().state_dump();
    before.server.shutdown().await;
    after.server.shutdown().await;
    let profiles = compare_states(&before_state, &after_state, &mut tally);
    if let Some(e) = sink_error {
        return Err(e);
    }
    Ok(tally.finish(
        config.before.destination.name(),
        profiles,
        before_summary,
        after_summary,
        &config.accepted,
    ))
}

/// Lets a state that holds no integration key at all (`pull`'s output: it copies no keys)
/// accept `destination`'s key, and, for the Actions destination, a state without a `hostname`
/// answer to the settings' deployment: a comparison is about mappings and the catalog, and
/// would otherwise see every request refused on both sides and report no difference. A state
/// that has keys is left alone, so a wrong key still shows. Returns what it did, for a note.
/// Chosen here.
pub fn adopt_credentials(state: &mut StateFile, destination: &Destination) -> Option<String> {
    if !state.integration_keys.is_empty() {
        return None;
    }
    let application_id = state.applications.first().map_or(1, |a| a.id);
    let (key, platform) = match destination {
        Destination::Classic(settings) => (settings.api_key().to_owned(), None),
        Destination::Actions(config) => {
            (config.settings.api_key.clone(), Some("Segment".to_owned()))
        }
        _ => return None,
    };
    state.integration_keys.push(talon_fake::IntegrationKey {
        key,
        application_id,
        platform,
    });
    let mut note = format!(
        "the state holds no API key (as pull writes it): the settings' key is taken as application {application_id}'s"
    );
    if let Destination::Actions(config) = destination
        && state.hostname.is_none()
    {
        let host = config
            .settings
            .deployment
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        note.push_str(&format!(
            ", and its deployment `{host}` as the state's host"
        ));
        state.hostname = Some(host);
    }
    Some(note)
}

/// The request's slot in its event: its subscription (one request per subscription), `None`
/// for the classic destination's one request.
fn slot(request: &Request) -> Option<&str> {
    request.subscription.as_deref()
}

/// The differences between two mappings of one event (no delivery yet): requests, URLs,
/// headers, body fields and attributes, new warnings.
pub fn compare_mapped(before: &Mapped, after: &Mapped) -> Vec<Change> {
    compare_mapped_under(before, after, None)
}

/// [`compare_mapped`], with the two configurations when known (`before`, `after`): they say
/// why a subscription that fired no longer does (removed, disabled, its trigger changed).
fn compare_mapped_under(
    before: &Mapped,
    after: &Mapped,
    configs: Option<(&Destination, &Destination)>,
) -> Vec<Change> {
    let mut changes = Vec::new();
    for b in &before.requests {
        match after.requests.iter().find(|a| slot(a) == slot(b)) {
            Some(a) => compare_requests(b, a, &mut changes),
            None => {
                let mut removed = Change::new(ChangeKind::RequestRemoved);
                removed.fingerprint.subscription = b.subscription.clone();
                let (rule, explanation) = why_not_sent(after, b.subscription.as_deref(), configs);
                removed.fingerprint.rule = Some(rule);
                removed.explanation = Some(explanation);
                removed.before = Some(format!("{} {}", b.method, b.path()).into());
                removed.if_delivered_before = true;
                changes.push(removed);
                for (name, value) in attributes(&body(b)) {
                    let mut change = Change::new(ChangeKind::AttributeRemoved);
                    change.fingerprint.subscription = b.subscription.clone();
                    change.fingerprint.attribute = Some(name);
                    change.before = Some(value);
                    change.if_delivered_before = true;
                    changes.push(change);
                }
            }
        }
    }
    for a in &after.requests {
        if before.requests.iter().any(|b| slot(a) == slot(b)) {
            continue;
        }
        let mut added = Change::new(ChangeKind::RequestAdded);
        added.fingerprint.subscription = a.subscription.clone();
        added.after = Some(format!("{} {}", a.method, a.path()).into());
        changes.push(added);
        for (name, value) in attributes(&body(a)) {
            let mut change = Change::new(ChangeKind::AttributeAdded);
            change.fingerprint.subscription = a.subscription.clone();
            change.fingerprint.attribute = Some(name);
            change.after = Some(value);
            changes.push(change);
        }
    }
    if before.requests.is_empty()
        && after.requests.is_empty()
        && let (Some(b), Some(a)) = (&before.skip, &after.skip)
        && b.code() != a.code()
    {
        let mut change = Change::new(ChangeKind::SkipChanged);
        change.fingerprint.rule = Some(format!("{} -> {}", b.code(), a.code()));
        change.before = Some(b.to_string().into());
        change.after = Some(a.to_string().into());
        change.explanation = Some(format!("now not sent: {a}"));
        changes.push(change);
    }
    // A warning is new when the mapping before did not give it, or when it concerns an
    // attribute only the mapping after sends (a flatten collision on a key now configured).
    let sent = |m: &Mapped| -> std::collections::BTreeSet<String> {
        m.requests
            .iter()
            .flat_map(|r| attributes(&body(r)).into_keys())
            .collect()
    };
    let (sent_before, sent_after) = (sent(before), sent(after));
    for d in &after.diagnostics {
        if d.level != Level::Warning || d.kind.code() == "rejected" {
            continue;
        }
        let subject = d.kind.subject();
        let known = before
            .diagnostics
            .iter()
            .any(|o| o.kind.code() == d.kind.code() && o.kind.subject() == subject);
        let newly_sent = sent_after.contains(subject) && !sent_before.contains(subject);
        if !known || newly_sent {
            let mut change = Change::new(ChangeKind::WarningAdded);
            change.fingerprint.rule = Some(d.kind.code().to_owned());
            if let talon_mapper::Kind::Action { subscription, .. } = &d.kind {
                change.fingerprint.subscription = Some(subscription.clone());
            } else if !subject.is_empty() {
                change.fingerprint.attribute = Some(subject.to_owned());
            }
            change.explanation = Some(d.kind.to_string());
            changes.push(change);
        }
    }
    changes
}

/// Why `after` sends no request for `subscription`: a stable rule and the words for it.
fn why_not_sent(
    after: &Mapped,
    subscription: Option<&str>,
    configs: Option<(&Destination, &Destination)>,
) -> (String, String) {
    if let Some(name) = subscription
        && let Some(refused) = crate::report::not_sent(&after.diagnostics)
            .into_iter()
            .find(|n| n.subscription == name)
    {
        return (
            format!("not_sent: {}", refused.message),
            format!("Segment refuses it: {}", refused.message),
        );
    }
    if after.requests.is_empty()
        && let Some(skip) = &after.skip
        && (subscription.is_none() || skip.code() != "no_subscription")
    {
        return (skip.code().to_owned(), format!("not sent: {skip}"));
    }
    if let (Some(name), Some(configs)) = (subscription, configs)
        && let Some(why) = subscription_change(name, configs)
    {
        return why;
    }
    (
        "not_triggered".to_owned(),
        "its trigger no longer matches, or it is disabled or gone".to_owned(),
    )
}

/// How the Actions subscription `name` changed between the configurations, when that is why it
/// no longer fires: gone from the list, disabled, or its trigger changed (shown).
fn subscription_change(
    name: &str,
    (before, after): (&Destination, &Destination),
) -> Option<(String, String)> {
    let (Destination::Actions(before), Destination::Actions(after)) = (before, after) else {
        return None;
    };
    let then = before.subscriptions.iter().find(|s| s.name == name);
    let (rule, words) = match after.subscriptions.iter().find(|s| s.name == name) {
        None => (
            "removed",
            "the subscription is no longer in the configuration".to_owned(),
        ),
        Some(now) if !now.enabled => ("disabled", "the subscription is disabled".to_owned()),
        Some(now) if then.is_some_and(|t| t.trigger != now.trigger) => (
            "trigger_changed",
            format!("its trigger, now `{}`, no longer matches", now.trigger),
        ),
        Some(_) => return None,
    };
    Some((rule.to_owned(), words))
}

/// A request's body as JSON (`Null` for no body or one that is not JSON).
fn body(request: &Request) -> Value {
    serde_json::from_str(&request.body).unwrap_or(Value::Null)
}

/// The `attributes` object of a body, by name.
fn attributes(body: &Value) -> BTreeMap<String, Value> {
    body.get("attributes")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// A JSON value's type, in Talon.One's words where they exist.
fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

/// Whether a header's value is a secret, shown only as changed.
fn secret(header: &str) -> bool {
    header.eq_ignore_ascii_case("authorization")
}

fn compare_requests(b: &Request, a: &Request, changes: &mut Vec<Change>) {
    let subscription = b.subscription.clone();
    let new = |kind| {
        let mut change = Change::new(kind);
        change.fingerprint.subscription.clone_from(&subscription);
        change
    };
    if b.url != a.url || b.method != a.method {
        let (b_path, b_query) = split_query(b.path());
        let (a_path, a_query) = split_query(a.path());
        let mut change = new(ChangeKind::UrlChanged);
        change.fingerprint.rule = Some(if b.method != a.method {
            format!("method {} -> {}", b.method, a.method)
        } else if b_path == a_path && base(b) == base(a) {
            format!("query `{b_query}` -> `{a_query}`")
        } else {
            "path".to_owned()
        });
        let whole = base(b) != base(a);
        let url = |r: &Request| {
            if whole {
                format!("{} {}", r.method, r.url)
            } else {
                format!("{} {}", r.method, r.path())
            }
        };
        change.before = Some(url(b).into());
        change.after = Some(url(a).into());
        changes.push(change);
    }
    let headers = |r: &Request| -> BTreeMap<String, String> {
        r.headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
            .collect()
    };
    let (bh, ah) = (headers(b), headers(a));
    for name in bh.keys().chain(ah.keys().filter(|k| !bh.contains_key(*k))) {
        let (bv, av) = (bh.get(name), ah.get(name));
        if bv == av {
            continue;
        }
        let mut change = new(ChangeKind::HeaderChanged);
        change.fingerprint.attribute = Some(name.clone());
        let shown = |v: Option<&String>| {
            v.map(|v| {
                if secret(name) {
                    Value::from("(a secret)")
                } else {
                    Value::from(v.as_str())
                }
            })
        };
        change.before = shown(bv);
        change.after = shown(av);
        changes.push(change);
    }
    let (bb, ab) = (body(b), body(a));
    let empty = Map::new();
    let (bo, ao) = match (bb.as_object(), ab.as_object()) {
        (Some(bo), Some(ao)) => (bo, ao),
        _ => {
            if b.body != a.body {
                let mut change = new(ChangeKind::FieldChanged);
                change.fingerprint.attribute = Some(String::new());
                change.before = Some(b.body.clone().into());
                change.after = Some(a.body.clone().into());
                change.if_delivered_before = true;
                changes.push(change);
            }
            (&empty, &empty)
        }
    };
    for key in bo.keys().chain(ao.keys().filter(|k| !bo.contains_key(*k))) {
        let (bv, av) = (bo.get(key), ao.get(key));
        if key == "attributes" {
            continue;
        }
        if bv == av {
            continue;
        }
        let kind = match (bv, av) {
            (Some(_), None) => ChangeKind::FieldRemoved,
            (None, Some(_)) => ChangeKind::FieldAdded,
            _ => ChangeKind::FieldChanged,
        };
        let mut change = new(kind);
        change.fingerprint.attribute = Some(format!("/{key}"));
        change.before = bv.cloned();
        change.after = av.cloned();
        change.if_delivered_before = kind != ChangeKind::FieldAdded;
        changes.push(change);
    }
    let (battrs, aattrs) = (attributes(&bb), attributes(&ab));
    for name in battrs
        .keys()
        .chain(aattrs.keys().filter(|k| !battrs.contains_key(*k)))
    {
        let (bv, av) = (battrs.get(name), aattrs.get(name));
        let kind = match (bv, av) {
            (Some(_), None) => ChangeKind::AttributeRemoved,
            (None, Some(_)) => ChangeKind::AttributeAdded,
            (Some(x), Some(y)) if x == y => continue,
            (Some(x), Some(y)) if json_type(x) != json_type(y) => ChangeKind::AttributeRetyped,
            _ => ChangeKind::AttributeChanged,
        };
        let mut change = new(kind);
        change.fingerprint.attribute = Some(name.clone());
        if kind == ChangeKind::AttributeRetyped
            && let (Some(x), Some(y)) = (bv, av)
        {
            change.fingerprint.rule = Some(format!("{} -> {}", json_type(x), json_type(y)));
        }
        change.before = bv.cloned();
        change.after = av.cloned();
        change.if_delivered_before = kind != ChangeKind::AttributeAdded;
        changes.push(change);
    }
}

/// The URL before the path: scheme and host.
fn base(request: &Request) -> &str {
    &request.url[..request.url.len() - request.path().len()]
}

/// A path and its query (without the `?`).
fn split_query(path: &str) -> (&str, &str) {
    path.split_once('?').unwrap_or((path, ""))
}

/// The request of `delivery` in `slot`.
fn request<'a>(delivery: &'a EventDelivery, slot: Option<&str>) -> Option<&'a RequestReport> {
    delivery
        .requests
        .iter()
        .find(|r| r.subscription.as_deref() == slot)
}

/// One event's comparison: the mapping's `changes` made final by both deliveries (which
/// removals lose delivered data), and the outcomes that changed, request by request.
///
/// `known` is the attribute catalog before the change, by entity: an attribute its request's
/// entity does not have was never stored even when the request was delivered (Talon.One
/// skipped it, `skipNonExistingAttributes`), so no longer sending it loses nothing.
pub fn pair(
    mut changes: Vec<Change>,
    before: &EventDelivery,
    after: &EventDelivery,
    known: &BTreeSet<(Entity, String)>,
) -> EventComparison {
    for change in &mut changes {
        if change.if_delivered_before {
            let slot = change.fingerprint.subscription.as_deref();
            let sent = request(before, slot);
            let delivered = sent.is_some_and(|r| matches!(r.outcome, Outcome::Delivered { .. }));
            let stored = match change.fingerprint.kind {
                ChangeKind::AttributeRemoved
                | ChangeKind::AttributeChanged
                | ChangeKind::AttributeRetyped => {
                    let entity = sent.map_or(Entity::CustomerProfile, |r| entity_of(&r.path));
                    change
                        .fingerprint
                        .attribute
                        .as_ref()
                        .is_none_or(|a| known.contains(&(entity, a.clone())))
                }
                _ => true,
            };
            change.regression = delivered && stored;
        }
    }
    let mut outcome_changes = Vec::new();
    for a in &after.requests {
        let slot = a.subscription.as_deref();
        let b = request(before, slot);
        outcome_changes.extend(outcome_change(b.map(|r| &r.outcome), &a.outcome, slot));
    }
    // Outcome changes first: they are what a reviewer reads first.
    outcome_changes.extend(changes);
    EventComparison {
        index: before.report.index,
        source: before.report.source.clone(),
        profile: before
            .report
            .integration_id
            .clone()
            .or_else(|| after.report.integration_id.clone()),
        before: before.report.outcome.kind().to_owned(),
        after: after.report.outcome.kind().to_owned(),
        changes: outcome_changes,
    }
}

/// The entity whose attributes a request's `attributes` are, by its path: a session's, an
/// event's, else a profile's (the classic destination's and the Actions profile actions').
fn entity_of(path: &str) -> Entity {
    if path.contains("/customer_sessions/") {
        Entity::CustomerSession
    } else if path.contains("/segment/v2/events") || path.contains("/segment/event") {
        Entity::Event
    } else {
        Entity::CustomerProfile
    }
}

/// The change of one request's outcome (`before`: `None` when it was not sent before): a new
/// rejection gives one change per error Talon.One names (per attribute), the rest one change.
fn outcome_change(
    before: Option<&Outcome>,
    after: &Outcome,
    subscription: Option<&str>,
) -> Vec<Change> {
    let Some(change) = outcome_change_whole(before, after, subscription) else {
        return Vec::new();
    };
    let Outcome::Rejected { status, error, .. } = after else {
        return vec![change];
    };
    let items = rejection_items(*status, error);
    if items.is_empty() {
        return vec![change];
    }
    items
        .into_iter()
        .map(|(attribute, rule, explanation)| {
            let mut one = change.clone();
            one.fingerprint.attribute = attribute;
            one.fingerprint.rule = Some(rule);
            one.explanation = Some(explanation);
            one
        })
        .collect()
}

/// Each error of a rejection: the attribute it points at, a stable rule (`HTTP 400 <title>`,
/// or the relay's message for that attribute) and its words. Talon.One's envelope lists its
/// errors with pointers; the Segment relay's puts them in one `Error` string, `; `-separated,
/// each ending in `(at /attributes/<name>)`.
fn rejection_items(status: u16, error: &Value) -> Vec<(Option<String>, String, String)> {
    let attribute_of = |pointer: &str| {
        pointer
            .strip_prefix("/attributes/")
            .map(|name| name.replace("~1", "/").replace("~0", "~"))
    };
    if let Some(items) = error.get("errors").and_then(Value::as_array) {
        return items
            .iter()
            .map(|item| {
                let pointer = item
                    .pointer("/source/pointer")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let title = item.get("title").and_then(Value::as_str).unwrap_or("");
                let one = serde_json::json!({ "errors": [item] });
                let words = explain_rejection(&one).join("; ");
                let mut rule = format!("HTTP {status} {title}");
                if attribute_of(pointer).is_none() && !pointer.is_empty() {
                    rule = format!("{rule} at {pointer}");
                }
                (attribute_of(pointer), rule.trim_end().to_owned(), words)
            })
            .collect();
    }
    if let Some(text) = error.get("Error").and_then(Value::as_str) {
        return text
            .split("; ")
            .map(|part| {
                let attribute = part
                    .rsplit_once("(at ")
                    .and_then(|(_, p)| attribute_of(p.trim_end_matches(')')));
                (
                    attribute,
                    format!("HTTP {status} {part}"),
                    format!("Talon.One rejected the request: {part}"),
                )
            })
            .collect();
    }
    Vec::new()
}

fn outcome_change_whole(
    before: Option<&Outcome>,
    after: &Outcome,
    subscription: Option<&str>,
) -> Option<Change> {
    let same_kind = before.is_some_and(|b| b.kind() == after.kind());
    let kind = match after {
        Outcome::Rejected { .. } if same_kind && before.and_then(reason) == reason(after) => {
            return None;
        }
        Outcome::Rejected { .. } => ChangeKind::NowRejected,
        Outcome::Failed { .. } if same_kind => return None,
        Outcome::Failed { .. } => ChangeKind::NowFailed,
        Outcome::Skipped { .. } if same_kind || before.is_none() => return None,
        Outcome::Skipped { .. } => ChangeKind::NowSkipped,
        Outcome::Delivered { .. } if same_kind || before.is_none() => return None,
        Outcome::Delivered { .. } => ChangeKind::NowDelivered,
    };
    let mut change = Change::new(kind);
    change.fingerprint.subscription = subscription.map(str::to_owned);
    change.before = Some(before.map_or("not sent", Outcome::kind).into());
    change.after = Some(after.kind().into());
    match after {
        Outcome::Rejected { error, .. } => {
            change.fingerprint.rule = reason(after);
            change.explanation = explain_rejection(error).into_iter().next();
            change.regression = true;
        }
        Outcome::Failed { error, .. } => {
            change.fingerprint.rule = reason(after);
            change.explanation = Some(error.clone());
            change.regression = true;
        }
        Outcome::Skipped { reason, message } => {
            change.fingerprint.rule = Some((*reason).to_owned());
            change.explanation = Some(format!("not sent: {message}"));
            change.regression = before.is_some_and(|b| matches!(b, Outcome::Delivered { .. }));
        }
        Outcome::Delivered { .. } => {
            let before = before.expect("a delivered request that was sent before");
            change.fingerprint.rule = reason(before).or_else(|| match before {
                Outcome::Skipped { reason, .. } => Some((*reason).to_owned()),
                _ => None,
            });
            if let Outcome::Rejected { error, .. } = before {
                change.explanation = explain_rejection(error)
                    .into_iter()
                    .next()
                    .map(|e| format!("was: {e}"));
            }
        }
    }
    Some(change)
}

/// Compares the profiles of two final states, attribute by attribute, into `tally`; returns
/// the number of profiles in either.
pub fn compare_states(before: &StateFile, after: &StateFile, tally: &mut Tally) -> u64 {
    let index = |s: &StateFile| -> BTreeMap<String, Map<String, Value>> {
        s.profiles
            .iter()
            .map(|p| (p.integration_id.clone(), p.attributes.clone()))
            .collect()
    };
    let (b, a) = (index(before), index(after));
    let empty = Map::new();
    let mut ids: Vec<&String> = b.keys().chain(a.keys()).collect();
    ids.sort();
    ids.dedup();
    for id in &ids {
        let bp = b.get(*id).unwrap_or(&empty);
        let ap = a.get(*id).unwrap_or(&empty);
        let mut names: Vec<&String> = bp.keys().chain(ap.keys()).collect();
        names.sort();
        names.dedup();
        let mut changes = Vec::new();
        for name in names {
            let (bv, av) = (bp.get(name), ap.get(name));
            let kind = match (bv, av) {
                (Some(_), None) => ChangeKind::StateAttributeLost,
                (None, Some(_)) => ChangeKind::StateAttributeGained,
                (Some(x), Some(y)) if x == y => continue,
                _ => ChangeKind::StateAttributeChanged,
            };
            let mut change = Change::new(kind);
            change.fingerprint.attribute = Some(name.clone());
            change.before = bv.cloned();
            change.after = av.cloned();
            change.regression = kind != ChangeKind::StateAttributeGained;
            changes.push(change);
        }
        if !changes.is_empty() {
            tally.add_state(id, &changes);
        }
    }
    ids.len() as u64
}
