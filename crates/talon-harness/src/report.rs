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
        match &self.outcome {
            Outcome::Delivered {
                status,
                attempts,
                unconfirmed,
            } => {
                map.insert("status".into(), (*status).into());
                map.insert("attempts".into(), (*attempts).into());
                if *unconfirmed > 0 {
                    map.insert("unconfirmedAttempts".into(), (*unconfirmed).into());
                    map.insert("possiblyAppliedOutOfOrder".into(), true.into());
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
                .or_else(|| error.get("message").and_then(Value::as_str));
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
}

fn keep_example(examples: &mut Vec<String>, report: &EventReport) {
    if examples.len() < EXAMPLES {
        examples.push(format!(
            "{}: {}",
            report.source,
            report.explain().join("; ")
        ));
    }
}

impl Summary {
    /// Counts one report.
    pub fn add(&mut self, report: &EventReport) {
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
                if let Some(reason) = reason(&report.outcome) {
                    *self.rejected_by_reason.entry(reason).or_default() += 1;
                }
                keep_example(&mut self.rejected_examples, report);
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
                if let Some(reason) = reason(&report.outcome) {
                    *self.failed_by_reason.entry(reason).or_default() += 1;
                }
                keep_example(&mut self.failed_examples, report);
            }
        }
        if report.outcome.possibly_out_of_order() {
            self.possibly_out_of_order += 1;
        }
        if report.diagnostics.iter().any(|d| d.level == Level::Warning) {
            self.warned += 1;
        }
    }

    /// Whether every event has exactly one outcome.
    pub fn adds_up(&self) -> bool {
        self.delivered + self.rejected + self.skipped + self.failed == self.events
    }

    /// Requests sent beyond the first attempt of each.
    pub fn retries(&self) -> u64 {
        self.attempts - (self.delivered + self.rejected + self.failed).min(self.attempts)
    }

    /// The totals as JSON.
    pub fn to_json(&self) -> Value {
        json!({
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
        })
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
        out
    }
}
