//! What happened to each event, in plain words and as JSON, and the totals.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Value, json};
use talon_mapper::{Diagnostic, Level};

/// One input event's single outcome.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Talon.One answered 2xx.
    Delivered {
        /// The status.
        status: u16,
        /// Attempts made.
        attempts: u32,
        /// Earlier attempts that may have been applied too: they timed out or lost their
        /// connection after the request was sent. Above 0, Talon.One may have applied this
        /// update twice, or late, over newer updates of the profile (see `crate::deliver`).
        unconfirmed: u32,
    },
    /// Talon.One answered a 4xx that is not retried.
    Rejected {
        /// The status.
        status: u16,
        /// Talon.One's error body.
        error: Value,
        /// Attempts made.
        attempts: u32,
    },
    /// Nothing is sent for this event: the mapper skips it, or its request cannot be built
    /// (`crate::deliver::REQUEST_NOT_BUILDABLE`: no attempt could succeed, so none is made).
    Skipped {
        /// The mapper's reason code, or `request_not_buildable`.
        reason: &'static str,
        /// The explanation.
        message: String,
    },
    /// Every attempt failed retryably, until the attempts or the retry budget ran out.
    Failed {
        /// Attempts made.
        attempts: u32,
        /// The last HTTP status an attempt got, if any got one.
        status: Option<u16>,
        /// The last failure.
        error: String,
        /// Attempts that may have been applied anyway (timed out or lost their connection
        /// after the request was sent): above 0, the update may be in Talon.One after all.
        unconfirmed: u32,
    },
}

impl Outcome {
    /// Attempts whose fate is unknown (see [`Outcome::Delivered::unconfirmed`]); 0 for
    /// rejected and skipped events.
    pub fn unconfirmed(&self) -> u32 {
        match self {
            Self::Delivered { unconfirmed, .. } | Self::Failed { unconfirmed, .. } => *unconfirmed,
            Self::Rejected { .. } | Self::Skipped { .. } => 0,
        }
    }

    /// Whether the event was delivered although an earlier attempt may have been applied
    /// too: possibly applied twice, or out of order.
    pub fn possibly_out_of_order(&self) -> bool {
        matches!(self, Self::Delivered { unconfirmed, .. } if *unconfirmed > 0)
    }

    /// `delivered`, `rejected`, `skipped` or `failed`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Delivered { .. } => "delivered",
            Self::Rejected { .. } => "rejected",
            Self::Skipped { .. } => "skipped",
            Self::Failed { .. } => "failed",
        }
    }
}

/// One input event: where it came from, what became of it, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct EventReport {
    /// Position in the input, from 0.
    pub index: u64,
    /// `file:line` or similar.
    pub source: String,
    /// The profile addressed, when a request was made.
    pub integration_id: Option<String>,
    /// The single outcome.
    pub outcome: Outcome,
    /// The mapper's diagnostics.
    pub diagnostics: Vec<Diagnostic>,
}

impl Outcome {
    /// Writes the outcome's own fields (status, attempts, error, reason…) into an outcome
    /// line's object; `flag_out_of_order` adds `possiblyAppliedOutOfOrder` where an attempt's
    /// fate is unknown (the event's line says it, not each of its requests).
    fn write_fields(&self, map: &mut serde_json::Map<String, Value>, flag_out_of_order: bool) {
        match self {
            Outcome::Delivered {
                status,
                attempts,
                unconfirmed,
            } => {
                map.insert("status".into(), (*status).into());
                map.insert("attempts".into(), (*attempts).into());
                if *unconfirmed > 0 {
                    map.insert("unconfirmedAttempts".into(), (*unconfirmed).into());
                    if flag_out_of_order {
                        map.insert("possiblyAppliedOutOfOrder".into(), true.into());
                    }
                }
            }
            Outcome::Rejected {
                status,
                error,
                attempts,
            } => {
                map.insert("status".into(), (*status).into());
                map.insert("attempts".into(), (*attempts).into());
                map.insert("error".into(), error.clone());
            }
            Outcome::Skipped { reason, message } => {
                map.insert("reason".into(), (*reason).into());
                map.insert("message".into(), message.clone().into());
            }
            Outcome::Failed {
                attempts,
                status,
                error,
                unconfirmed,
            } => {
                map.insert("status".into(), (*status).into());
                map.insert("attempts".into(), (*attempts).into());
                map.insert("error".into(), error.clone().into());
                if *unconfirmed > 0 {
                    map.insert("unconfirmedAttempts".into(), (*unconfirmed).into());
                }
            }
        }
    }
}

impl EventReport {
    /// The report as one JSON object (one NDJSON line).
    pub fn to_json(&self) -> Value {
        let mut object = json!({
            "index": self.index,
            "source": self.source,
            "outcome": self.outcome.kind(),
        });
        let map = object.as_object_mut().expect("an object");
        if let Some(id) = &self.integration_id {
            map.insert("integrationId".into(), id.clone().into());
        }
        self.outcome.write_fields(map, true);
        map.insert(
            "diagnostics".into(),
            serde_json::to_value(&self.diagnostics).unwrap_or_default(),
        );
        object
    }

    /// The event explained in plain words, one line per fact.
    pub fn explain(&self) -> Vec<String> {
        let who = self
            .integration_id
            .as_deref()
            .map(|id| format!("profile `{id}`"))
            .unwrap_or_default();
        let mut lines = vec![match &self.outcome {
            Outcome::Delivered {
                status, attempts, ..
            } => {
                format!(
                    "delivered to {who} ({status}, {})",
                    attempts_text(*attempts)
                )
            }
            Outcome::Rejected {
                status, attempts, ..
            } => {
                format!(
                    "rejected by Talon.One for {who} ({status}, {})",
                    attempts_text(*attempts)
                )
            }
            Outcome::Skipped { message, .. } => format!("not sent: {message}"),
            Outcome::Failed {
                attempts,
                status,
                error,
                ..
            } => {
                let last = status.map_or(String::new(), |s| format!(", last status {s}"));
                format!(
                    "failed for {who} after {}{last}: {error}",
                    attempts_text(*attempts)
                )
            }
        }];
        match &self.outcome {
            Outcome::Delivered { unconfirmed, .. } if *unconfirmed > 0 => lines.push(format!(
                "possibly applied out of order or twice: {} timed out or lost its connection after the request was sent, so Talon.One may have applied it as well, late (over newer updates of {who}) or again; read {who} back to be sure",
                earlier_text(*unconfirmed)
            )),
            Outcome::Failed { unconfirmed, .. } if *unconfirmed > 0 => lines.push(format!(
                "possibly applied anyway: {} timed out or lost its connection after the request was sent; read {who} back to be sure",
                if *unconfirmed == 1 { "an attempt".to_owned() } else { format!("{unconfirmed} attempts") }
            )),
            _ => {}
        }
        if let Outcome::Rejected { error, .. } = &self.outcome {
            lines.extend(explain_rejection(error));
            lines.push("nothing in this update was applied: Talon.One accepts or rejects a request as a whole".into());
        }
        lines.extend(self.diagnostics.iter().map(|d| d.kind.to_string()));
        lines
    }
}

/// One request of an event and what became of it: for the Actions destination one per
/// matching subscription, sent and retried on its own (see `crate::deliver`).
#[derive(Debug, Clone, PartialEq)]
pub struct RequestReport {
    /// The Actions subscription (its name) the request comes from; `None` for the classic
    /// destination.
    pub subscription: Option<String>,
    /// The HTTP method.
    pub method: &'static str,
    /// The path (and query) as sent.
    pub path: String,
    /// The request's own outcome.
    pub outcome: Outcome,
}

impl RequestReport {
    /// The request as one JSON object of an outcome line's `requests`.
    pub fn to_json(&self) -> Value {
        let mut object = json!({
            "method": self.method,
            "path": self.path,
            "outcome": self.outcome.kind(),
        });
        let map = object.as_object_mut().expect("an object");
        if let Some(name) = &self.subscription {
            map.insert("subscription".into(), name.clone().into());
        }
        self.outcome.write_fields(map, false);
        object
    }

    /// The request in plain words, one line: `` `Track: event` PUT /segment/v2/events: delivered (200, 1 attempt) ``.
    pub fn explain(&self) -> String {
        let what = match &self.outcome {
            Outcome::Delivered {
                status, attempts, ..
            } => format!("delivered ({status}, {})", attempts_text(*attempts)),
            Outcome::Rejected {
                status,
                error,
                attempts,
            } => format!(
                "rejected by Talon.One ({status}, {}): {}",
                attempts_text(*attempts),
                explain_rejection(error).join("; ")
            ),
            Outcome::Skipped { message, .. } => format!("not sent: {message}"),
            Outcome::Failed {
                attempts,
                status,
                error,
                ..
            } => {
                let last = status.map_or(String::new(), |s| format!(", last status {s}"));
                format!("failed after {}{last}: {error}", attempts_text(*attempts))
            }
        };
        let name = self
            .subscription
            .as_deref()
            .map_or_else(String::new, |n| format!("`{n}` "));
        format!("{name}{} {}: {what}", self.method, self.path)
    }
}

/// A subscription the mapper refused for an event (Segment's own validation), so never sent.
#[derive(Debug, Clone, PartialEq)]
pub struct NotSent {
    /// The subscription's name.
    pub subscription: String,
    /// Segment's message.
    pub message: String,
}

/// The subscriptions the mapper refused for an event: its `rejected` Actions diagnostics.
pub fn not_sent(diagnostics: &[Diagnostic]) -> Vec<NotSent> {
    diagnostics
        .iter()
        .filter_map(|d| match &d.kind {
            talon_mapper::Kind::Action {
                subscription,
                code: "rejected",
                message,
            } => Some(NotSent {
                subscription: subscription.clone(),
                message: message.clone(),
            }),
            _ => None,
        })
        .collect()
}

/// One event's report and the report of each of its requests, in the mapper's order.
#[derive(Debug, Clone, PartialEq)]
pub struct EventDelivery {
    /// The event's one outcome (for several requests, their aggregate: [`aggregate`]).
    pub report: EventReport,
    /// Each request sent (or that could not be built), in the mapper's order; empty when
    /// nothing was to be sent.
    pub requests: Vec<RequestReport>,
}

impl EventDelivery {
    /// Whether the event went through the Actions destination (its requests name
    /// subscriptions, or the mapper refused some): only then does its line carry `requests`.
    pub fn is_actions(&self) -> bool {
        self.requests.iter().any(|r| r.subscription.is_some())
            || !not_sent(&self.report.diagnostics).is_empty()
    }

    /// The outcome line: [`EventReport::to_json`], and for Actions events `requests`, each
    /// request sent and each subscription the mapper refused (`"outcome": "not_sent"` with
    /// Segment's message), and, when the event is rejected or failed, the `subscription`
    /// that decided it. A classic event's line is exactly [`EventReport::to_json`].
    pub fn to_json(&self) -> Value {
        let mut line = self.report.to_json();
        if !self.is_actions() {
            return line;
        }
        let mut requests: Vec<Value> = self.requests.iter().map(RequestReport::to_json).collect();
        requests.extend(not_sent(&self.report.diagnostics).into_iter().map(|n| {
            json!({
                "subscription": n.subscription,
                "outcome": "not_sent",
                "message": n.message,
            })
        }));
        if let Some(map) = line.as_object_mut() {
            if let Some(name) = self.deciding().and_then(|r| r.subscription.clone()) {
                map.insert("subscription".into(), name.into());
            }
            map.insert("requests".into(), Value::Array(requests));
        }
        line
    }

    /// The request whose outcome the event's outcome is, when it is rejected or failed.
    pub fn deciding(&self) -> Option<&RequestReport> {
        let kind = self.report.outcome.kind();
        if !matches!(kind, "rejected" | "failed") {
            return None;
        }
        self.requests.iter().find(|r| r.outcome.kind() == kind)
    }

    /// The event in plain words: [`EventReport::explain`], then, for Actions events, one line
    /// per request and per subscription not sent.
    pub fn explain(&self) -> Vec<String> {
        let all = self.report.explain();
        if !self.is_actions() {
            return all;
        }
        // The head line (and the unconfirmed-attempt line), then each request in its own
        // words: a rejection concerns its request, not the whole event.
        let mut lines: Vec<String> = all
            .into_iter()
            .enumerate()
            .take_while(|(i, line)| *i == 0 || line.starts_with("possibly applied"))
            .map(|(_, line)| line)
            .collect();
        lines.extend(self.requests.iter().map(RequestReport::explain));
        lines.extend(
            not_sent(&self.report.diagnostics)
                .into_iter()
                .map(|n| format!("`{}` not sent: {}", n.subscription, n.message)),
        );
        lines.extend(
            self.report
                .diagnostics
                .iter()
                .filter(|d| d.kind.code() != "rejected")
                .map(|d| d.kind.to_string()),
        );
        lines
    }
}

/// The one outcome of an event from the outcomes of its requests (at least one), in order.
///
/// One request: its outcome, unchanged. Several (an Actions event matching several
/// subscriptions): **failed** when any failed (retryably, until its attempts or budget ran out:
/// the event is lost in part), the first such request's status and error; else **rejected** when
/// any got a non-retryable 4xx, the first such request's status and Talon.One's body; else
/// **delivered** (the first request's status); a request that could not be built is left out
/// of that choice, and only when none could be built is the event **skipped** (the first
/// one's reason). Attempts and unconfirmed attempts are the sums over every request.
pub fn aggregate(requests: &[RequestReport]) -> Option<Outcome> {
    let first = requests.first()?;
    if requests.len() == 1 {
        return Some(first.outcome.clone());
    }
    let attempts: u32 = requests
        .iter()
        .map(|r| match r.outcome {
            Outcome::Delivered { attempts, .. }
            | Outcome::Rejected { attempts, .. }
            | Outcome::Failed { attempts, .. } => attempts,
            Outcome::Skipped { .. } => 0,
        })
        .sum();
    let unconfirmed: u32 = requests.iter().map(|r| r.outcome.unconfirmed()).sum();
    let named = |r: &RequestReport, error: &str| match &r.subscription {
        Some(name) => format!("subscription `{name}`: {error}"),
        None => error.to_owned(),
    };
    if let Some(r) = requests
        .iter()
        .find(|r| matches!(r.outcome, Outcome::Failed { .. }))
        && let Outcome::Failed { status, error, .. } = &r.outcome
    {
        return Some(Outcome::Failed {
            attempts,
            status: *status,
            error: named(r, error),
            unconfirmed,
        });
    }
    if let Some(Outcome::Rejected { status, error, .. }) = requests
        .iter()
        .map(|r| &r.outcome)
        .find(|o| matches!(o, Outcome::Rejected { .. }))
    {
        return Some(Outcome::Rejected {
            status: *status,
            error: error.clone(),
            attempts,
        });
    }
    match requests
        .iter()
        .map(|r| &r.outcome)
        .find(|o| matches!(o, Outcome::Delivered { .. }))
    {
        Some(Outcome::Delivered { status, .. }) => Some(Outcome::Delivered {
            status: *status,
            attempts,
            unconfirmed,
        }),
        _ => Some(first.outcome.clone()),
    }
}

/// What became of one subscription's requests over a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscriptionCounts {
    /// Requests delivered.
    pub delivered: u64,
    /// Requests Talon.One rejected.
    pub rejected: u64,
    /// Requests failed after retries.
    pub failed: u64,
    /// Requests that could not be built.
    pub unbuildable: u64,
    /// Events the mapper refused for it (Segment's validation): nothing sent.
    pub not_sent: u64,
}

fn earlier_text(unconfirmed: u32) -> String {
    if unconfirmed == 1 {
        "an earlier attempt".into()
    } else {
        format!("{unconfirmed} attempts")
    }
}

fn attempts_text(attempts: u32) -> String {
    if attempts == 1 {
        "1 attempt".into()
    } else {
        format!("{attempts} attempts")
    }
}

/// Talon.One's `ErrorResponseWithStatus` in words: one line per error,
/// naming the attribute when the pointer points at one.
pub fn explain_rejection(error: &Value) -> Vec<String> {
    let errors = error.get("errors").and_then(Value::as_array);
    let mut lines = Vec::new();
    for item in errors.into_iter().flatten() {
        let title = item.get("title").and_then(Value::as_str).unwrap_or("");
        let details = item.get("details").and_then(Value::as_str).unwrap_or("");
        let pointer = item
            .pointer("/source/pointer")
            .and_then(Value::as_str)
            .unwrap_or("");
        let what = match pointer.strip_prefix("/attributes/") {
            Some(name) => format!("Talon.One rejected `{}`", unescape_pointer(name)),
            None if !pointer.is_empty() => format!("Talon.One rejected `{pointer}`"),
            None => "Talon.One rejected the request".to_owned(),
        };
        let mut line = what;
        if !title.is_empty() {
            let _ = write!(line, ": {title}");
        }
        if !details.is_empty() {
            let _ = write!(line, " ({details})");
        }
        lines.push(line);
    }
    if lines.is_empty()
        && let Some(text) = error.get("Error").and_then(Value::as_str)
    {
        // The Segment relay's envelope `{"StatusCode", "Error", "RequestUUID"}`.
        lines.push(format!("Talon.One rejected the request: {text}"));
    }
    if lines.is_empty() {
        let message = error.get("message").and_then(Value::as_str);
        lines.push(format!(
            "Talon.One said: {}",
            message.map_or_else(|| error.to_string(), str::to_owned)
        ));
    }
    lines
}

/// RFC 6901: `~1` is `/`, `~0` is `~`.
fn unescape_pointer(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// Why an event was rejected or failed, as one line for grouping: the
/// status, and Talon.One's first error title and pointer (or the client's
/// error kind when there was no answer).
pub fn reason(outcome: &Outcome) -> Option<String> {
    match outcome {
        Outcome::Rejected { status, error, .. } => {
            let first = error
                .get("errors")
                .and_then(Value::as_array)
                .and_then(|items| items.first());
            let title = first
                .and_then(|item| item.get("title"))
                .and_then(Value::as_str)
                .or_else(|| error.get("message").and_then(Value::as_str))
                .or_else(|| error.get("Error").and_then(Value::as_str));
            let pointer = first.and_then(|item| {
                item.pointer("/source/pointer")
                    .or_else(|| item.pointer("/source/parameter"))
                    .and_then(Value::as_str)
            });
            let mut line = format!("HTTP {status}");
            if let Some(title) = title.filter(|t| !t.is_empty()) {
                let _ = write!(line, " {title}");
            }
            if let Some(pointer) = pointer.filter(|p| !p.is_empty()) {
                let _ = write!(line, " at {pointer}");
            }
            Some(line)
        }
        Outcome::Failed {
            status: Some(status),
            ..
        } => Some(format!("HTTP {status}")),
        Outcome::Failed { error, .. } => Some(failure_kind(error)),
        Outcome::Delivered { .. } | Outcome::Skipped { .. } => None,
    }
}

/// The first clause of a delivery error (`HTTP 503`, `could not connect`,
/// `timed out`): what failures have in common, without their details.
fn failure_kind(error: &str) -> String {
    error.split(':').next().unwrap_or(error).trim().to_owned()
}

/// The skip reason of an input line that is not a readable Segment event.
pub const UNREADABLE: &str = "invalid_event";

/// How many examples a [`Summary`] keeps of each kind of finding.
pub const EXAMPLES: usize = 20;

/// Totals over a run. `delivered + rejected + skipped + failed == events`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// Input events.
    pub events: u64,
    /// Outcomes by kind.
    pub delivered: u64,
    /// See [`Outcome::Rejected`].
    pub rejected: u64,
    /// See [`Outcome::Skipped`].
    pub skipped: u64,
    /// See [`Outcome::Failed`].
    pub failed: u64,
    /// Skipped input lines that are not readable Segment events
    /// (malformed JSON, invalid UTF-8, not an object, no `type`): also
    /// counted in `skipped`.
    pub unreadable: u64,
    /// Skips by reason.
    pub skipped_by_reason: BTreeMap<&'static str, u64>,
    /// Rejections by status.
    pub rejected_by_status: BTreeMap<u16, u64>,
    /// Rejections by [`reason`].
    pub rejected_by_reason: BTreeMap<String, u64>,
    /// Failures by [`reason`].
    pub failed_by_reason: BTreeMap<String, u64>,
    /// The first [`EXAMPLES`] failed events, `source: what happened`.
    pub failed_examples: Vec<String>,
    /// The first [`EXAMPLES`] rejected events, `source: what happened`.
    pub rejected_examples: Vec<String>,
    /// The first [`EXAMPLES`] unreadable lines, `source: why`.
    pub unreadable_examples: Vec<String>,
    /// Requests sent, retries included.
    pub attempts: u64,
    /// Delivered events with an earlier attempt of unknown fate (timed out or
    /// cut off after it was sent): possibly applied twice or out of order.
    pub possibly_out_of_order: u64,
    /// Events with at least one warning.
    pub warned: u64,
    /// Actions: per subscription, what became of its requests (empty for the classic
    /// destination).
    pub by_subscription: BTreeMap<String, SubscriptionCounts>,
    /// Requests sent beyond the first of each event (an Actions event matching several
    /// subscriptions sends one request each): their first attempts are not retries.
    pub extra_requests: u64,
}

fn keep_example(examples: &mut Vec<String>, example: impl FnOnce() -> String) {
    if examples.len() < EXAMPLES {
        examples.push(example());
    }
}

impl Summary {
    /// Counts one report.
    pub fn add(&mut self, report: &EventReport) {
        self.count(report, reason(&report.outcome), || {
            format!("{}: {}", report.source, report.explain().join("; "))
        });
    }

    /// Counts one report, a rejection or failure grouped under `reason`, `example` its
    /// example in words.
    fn count(
        &mut self,
        report: &EventReport,
        reason: Option<String>,
        example: impl FnOnce() -> String,
    ) {
        self.events += 1;
        match &report.outcome {
            Outcome::Delivered { attempts, .. } => {
                self.delivered += 1;
                self.attempts += u64::from(*attempts);
            }
            Outcome::Rejected {
                status, attempts, ..
            } => {
                self.rejected += 1;
                self.attempts += u64::from(*attempts);
                *self.rejected_by_status.entry(*status).or_default() += 1;
                if let Some(reason) = reason {
                    *self.rejected_by_reason.entry(reason).or_default() += 1;
                }
                keep_example(&mut self.rejected_examples, example);
            }
            Outcome::Skipped { reason, message } => {
                self.skipped += 1;
                *self.skipped_by_reason.entry(reason).or_default() += 1;
                if *reason == UNREADABLE {
                    self.unreadable += 1;
                    if self.unreadable_examples.len() < EXAMPLES {
                        self.unreadable_examples
                            .push(format!("{}: {message}", report.source));
                    }
                }
            }
            Outcome::Failed { attempts, .. } => {
                self.failed += 1;
                self.attempts += u64::from(*attempts);
                if let Some(reason) = reason {
                    *self.failed_by_reason.entry(reason).or_default() += 1;
                }
                keep_example(&mut self.failed_examples, example);
            }
        }
        if report.outcome.possibly_out_of_order() {
            self.possibly_out_of_order += 1;
        }
        if report.diagnostics.iter().any(|d| d.level == Level::Warning) {
            self.warned += 1;
        }
    }

    /// Counts one event with its requests: [`Summary::add`], and for an Actions event the
    /// per-subscription counts, its rejection or failure grouped under the subscription that
    /// decided it, and its example in words naming each request.
    pub fn add_delivery(&mut self, delivery: &EventDelivery) {
        if !delivery.is_actions() {
            self.add(&delivery.report);
            return;
        }
        let decided = reason(&delivery.report.outcome).map(|reason| {
            match delivery.deciding().and_then(|r| r.subscription.as_deref()) {
                Some(name) => format!("`{name}`: {reason}"),
                None => reason,
            }
        });
        let example = || {
            format!(
                "{}: {}",
                delivery.report.source,
                delivery.explain().join("; ")
            )
        };
        self.count(&delivery.report, decided, example);
        let sent = delivery
            .requests
            .iter()
            .filter(|r| !matches!(r.outcome, Outcome::Skipped { .. }))
            .count() as u64;
        self.extra_requests += sent.saturating_sub(1);
        for request in &delivery.requests {
            let Some(name) = &request.subscription else {
                continue;
            };
            let counts = self.by_subscription.entry(name.clone()).or_default();
            match request.outcome {
                Outcome::Delivered { .. } => counts.delivered += 1,
                Outcome::Rejected { .. } => counts.rejected += 1,
                Outcome::Failed { .. } => counts.failed += 1,
                Outcome::Skipped { .. } => counts.unbuildable += 1,
            }
        }
        for refused in not_sent(&delivery.report.diagnostics) {
            self.by_subscription
                .entry(refused.subscription)
                .or_default()
                .not_sent += 1;
        }
    }

    /// Whether every event has exactly one outcome.
    pub fn adds_up(&self) -> bool {
        self.delivered + self.rejected + self.skipped + self.failed == self.events
    }

    /// Requests sent beyond the first attempt of each.
    pub fn retries(&self) -> u64 {
        let first_attempts = self.delivered + self.rejected + self.failed + self.extra_requests;
        self.attempts - first_attempts.min(self.attempts)
    }

    /// The totals as JSON.
    pub fn to_json(&self) -> Value {
        let mut json = json!({
            "events": self.events,
            "delivered": self.delivered,
            "rejected": self.rejected,
            "skipped": self.skipped,
            "failed": self.failed,
            "unreadable": self.unreadable,
            "skippedByReason": self.skipped_by_reason,
            "rejectedByStatus": self.rejected_by_status.iter().map(|(k, v)| (k.to_string(), *v)).collect::<BTreeMap<_, _>>(),
            "rejectedByReason": self.rejected_by_reason,
            "failedByReason": self.failed_by_reason,
            "requests": self.attempts,
            "retries": self.retries(),
            "possiblyAppliedOutOfOrder": self.possibly_out_of_order,
            "eventsWithWarnings": self.warned,
        });
        if !self.by_subscription.is_empty()
            && let Some(map) = json.as_object_mut()
        {
            let by: serde_json::Map<String, Value> = self
                .by_subscription
                .iter()
                .map(|(name, c)| {
                    (
                        name.clone(),
                        json!({
                            "delivered": c.delivered,
                            "rejected": c.rejected,
                            "failed": c.failed,
                            "unbuildable": c.unbuildable,
                            "notSent": c.not_sent,
                        }),
                    )
                })
                .collect();
            map.insert("bySubscription".into(), Value::Object(by));
        }
        json
    }

    /// The totals for people, a few lines.
    pub fn render(&self) -> String {
        let mut out = format!(
            "events     {:>10}\ndelivered  {:>10}\nrejected   {:>10}\n",
            self.events, self.delivered, self.rejected
        );
        for (reason, count) in &self.rejected_by_reason {
            let _ = writeln!(out, "  {count:>8}  {reason}");
        }
        let _ = writeln!(out, "skipped    {:>10}", self.skipped);
        for (reason, count) in &self.skipped_by_reason {
            let _ = writeln!(out, "  {count:>8}  {reason}");
        }
        let _ = writeln!(out, "failed     {:>10}", self.failed);
        for (reason, count) in &self.failed_by_reason {
            let _ = writeln!(out, "  {count:>8}  {reason}");
        }
        let _ = writeln!(
            out,
            "requests   {:>10} ({} retries)",
            self.attempts,
            self.retries()
        );
        if self.possibly_out_of_order > 0 {
            let _ = writeln!(
                out,
                "  {:>8}  delivered after an attempt of unknown fate (possibly applied twice or out of order)",
                self.possibly_out_of_order
            );
        }
        let _ = writeln!(out, "warnings   {:>10} events", self.warned);
        if !self.by_subscription.is_empty() {
            let _ = writeln!(out, "by subscription (requests)");
            for (name, c) in &self.by_subscription {
                let mut line = format!("  {name}: {} delivered", c.delivered);
                for (count, what) in [
                    (c.rejected, "rejected"),
                    (c.failed, "failed"),
                    (c.unbuildable, "not buildable"),
                    (c.not_sent, "not sent (Segment's validation)"),
                ] {
                    if count > 0 {
                        let _ = write!(line, ", {count} {what}");
                    }
                }
                let _ = writeln!(out, "{line}");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(subscription: &str, outcome: Outcome) -> RequestReport {
        RequestReport {
            subscription: Some(subscription.into()),
            method: "PUT",
            path: format!("/segment/{subscription}"),
            outcome,
        }
    }

    fn delivered(attempts: u32, unconfirmed: u32) -> Outcome {
        Outcome::Delivered {
            status: 200,
            attempts,
            unconfirmed,
        }
    }

    fn rejected(status: u16) -> Outcome {
        Outcome::Rejected {
            status,
            error: json!({"StatusCode": status, "Error": "no"}),
            attempts: 1,
        }
    }

    fn failed() -> Outcome {
        Outcome::Failed {
            attempts: 4,
            status: Some(503),
            error: "HTTP 503: busy".into(),
            unconfirmed: 1,
        }
    }

    fn unbuildable() -> Outcome {
        Outcome::Skipped {
            reason: crate::deliver::REQUEST_NOT_BUILDABLE,
            message: "too long".into(),
        }
    }

    #[test]
    fn one_request_is_the_events_outcome_unchanged() {
        for outcome in [delivered(3, 1), rejected(400), failed(), unbuildable()] {
            assert_eq!(
                aggregate(&[request("a", outcome.clone())]),
                Some(outcome.clone())
            );
        }
        assert_eq!(aggregate(&[]), None);
    }

    #[test]
    fn several_requests_fail_before_they_reject_before_they_deliver_with_summed_attempts() {
        assert_eq!(
            aggregate(&[request("a", delivered(2, 1)), request("b", delivered(1, 0))]),
            Some(delivered(3, 1))
        );
        assert_eq!(
            aggregate(&[request("a", delivered(2, 0)), request("b", rejected(404))]),
            Some(Outcome::Rejected {
                status: 404,
                error: json!({"StatusCode": 404, "Error": "no"}),
                attempts: 3,
            })
        );
        assert_eq!(
            aggregate(&[
                request("a", rejected(400)),
                request("b", failed()),
                request("c", delivered(1, 0))
            ]),
            Some(Outcome::Failed {
                attempts: 6,
                status: Some(503),
                error: "subscription `b`: HTTP 503: busy".into(),
                unconfirmed: 1,
            })
        );
        assert_eq!(
            aggregate(&[request("a", unbuildable()), request("b", delivered(1, 0))]),
            Some(delivered(1, 0)),
            "an unbuildable request leaves the choice to the requests sent"
        );
        assert_eq!(
            aggregate(&[request("a", unbuildable()), request("b", unbuildable())]),
            Some(unbuildable())
        );
    }

    #[test]
    fn a_relay_rejection_is_explained_and_grouped_by_its_error_text() {
        let outcome = rejected(400);
        assert_eq!(
            explain_rejection(
                &json!({"StatusCode": 400, "Error": "the event type \"x\" does not exist"})
            ),
            ["Talon.One rejected the request: the event type \"x\" does not exist"]
        );
        assert_eq!(reason(&outcome).as_deref(), Some("HTTP 400 no"));
    }
}
