//! Bug-report bundles, behind `talon-harness repro`: run one, explain each event, compare with what is correct.
//!
//! A bundle is a folder with `settings.json` (the destination settings),
//! `talon-state.json` (the Talon.One deployment, in talon-fake's state
//! format), `events.ndjson` (the customer's events), `README.md` (the
//! report, first line a title), and the two files `--update-expected`
//! writes: `expected.json` (the outcomes and final profiles that count as
//! correct) and `explanation.txt` (the explanation `repro` prints). CI
//! holds a bundle to both ([`verify_bundle`]), so one command completes a
//! bundle. [`html`] renders a run as one self-contained page (`repro --html`).
//!
//! A Talon.One (Actions) bundle: `settings.json` is `{"apiKey", "deployment"}` (inferred as
//! `map` infers it, `DestinationKind::infer`) and [`SUBSCRIPTIONS`] holds the subscriptions as
//! Segment's Public API lists them; `talon-state.json` must have the settings' deployment as
//! its `hostname` and the key as a `platform: "Segment"` key. Its `expected.json` also holds
//! the audience memberships and the custom events Talon.One stored, and each event is
//! explained from the fake's journal: the subscriptions that fired (and those whose trigger
//! named the event but for case or white space), the mapper's findings, each request with
//! what it carried, and Talon.One's answer, rule, skipped attributes, notes and the
//! deployment's own error. An Actions bundle that also holds [`CLASSIC_SETTINGS`] is a source
//! with both destinations enabled: each event goes through the classic destination, then the
//! Actions one (chosen here; Segment's two deliveries have no set order), and its outcomes
//! are named `events.ndjson:N (classic)` and `events.ndjson:N (Actions)`.
//!
//! Every bundle runs on one lane, one event at a time, so an event's exchanges are exactly the
//! journal entries its delivery added. The relay's clock stands still during a run (chosen
//! here): a bundle is one burst, so its 61st relay request and every retry of it get the
//! relay's 429 whatever the machine's speed, and an Actions request is attempted at most
//! [`ACTIONS_ATTEMPTS`] times.

pub mod html;

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use talon_fake::rules::AttrType;
use talon_fake::{Fake, FakeConfig, JournalEntry, ManualClock, MockServer, RelayClock, StateFile};
use talon_mapper::actions::ActionsConfig;
use talon_mapper::{Destination, Request};

use crate::DestinationKind;
use crate::input::EventLine;
use crate::report::{EventReport, Outcome, Summary};
use crate::run::{Run, Target, run_events};
use crate::verify;
use crate::{Error, cmd, input};

/// What counts as correct for a bundle: `expected.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    /// One per event, in order.
    pub outcomes: Vec<ExpectedOutcome>,
    /// Every profile of the final state, with its attributes.
    pub profiles: BTreeMap<String, Map<String, Value>>,
    /// Talon.One (Actions) bundles: each profile in a Talon.One audience, with its audiences
    /// (`<id> <name>`, sorted).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub memberships: BTreeMap<String, Vec<String>>,
    /// Talon.One (Actions) bundles: the custom events Talon.One stored, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<ExpectedEvent>,
}

/// A custom event Talon.One stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExpectedEvent {
    /// The profile's integration id.
    pub profile: String,
    /// The event type.
    pub event_type: String,
    /// The attributes Talon.One kept.
    pub attributes: Map<String, Value>,
}

/// One event's expected outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedOutcome {
    /// `events.ndjson:N`; in a bundle with two destinations, followed by ` (classic)` or
    /// ` (Actions)`.
    pub source: String,
    /// `delivered`, `rejected`, `skipped` or `failed`.
    pub outcome: String,
    /// The HTTP status, for delivered and rejected events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The skip reason, for skipped events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl ExpectedOutcome {
    fn of(report: &EventReport) -> Self {
        let (status, reason) = match &report.outcome {
            Outcome::Delivered { status, .. } | Outcome::Rejected { status, .. } => {
                (Some(*status), None)
            }
            Outcome::Skipped { reason, .. } => (None, Some((*reason).to_owned())),
            Outcome::Failed { .. } => (None, None),
        };
        Self {
            source: report.source.clone(),
            outcome: report.outcome.kind().to_owned(),
            status,
            reason,
        }
    }

    fn describe(&self) -> String {
        match (&self.status, &self.reason) {
            (Some(status), _) => format!("{} ({status})", self.outcome),
            (None, Some(reason)) => format!("{} ({reason})", self.outcome),
            (None, None) => self.outcome.clone(),
        }
    }
}

/// A bundle, run.
#[derive(Debug)]
pub struct BundleRun {
    /// The README's first line.
    pub title: String,
    /// The whole README (the customer's report), as read.
    pub readme: String,
    /// The settings' problems, in plain words (each printed as `settings: …`).
    pub problems: Vec<String>,
    /// Each event as explained and as sent: one per report of `run.reports`, in the same
    /// (input) order.
    pub events: Vec<BundleEvent>,
    /// Each event explained, and the settings' problems, in plain words: what `repro`
    /// prints, made from `problems`, `events` and the final profiles.
    pub explanation: String,
    /// This run's outcomes and profiles.
    pub actual: Expected,
    /// The run itself.
    pub run: Run,
    /// `CustomerProfile` attribute types of the bundle's deployment.
    pub catalog: BTreeMap<String, AttrType>,
    /// Whether the bundle runs through Talon.One (Actions) (its final state then also lists
    /// audience memberships and stored events).
    pub actions: bool,
}

/// One event of a bundle: the line read, how `repro` explains it, and what went over the wire.
#[derive(Debug, Clone, PartialEq)]
pub struct BundleEvent {
    /// `events.ndjson:N`.
    pub source: String,
    /// The line as read (lossy UTF-8).
    pub text: String,
    /// The lines `repro` prints for it: first the outcome, then one fact a line
    /// ([`EventReport::explain`], what a rejected update would have changed, the fixes).
    pub explanation: Vec<String>,
    /// The requests the embedded fake received for it and its answers, retries included,
    /// in order, as its journal recorded them.
    pub exchanges: Vec<Exchange>,
    /// Attempts the outcome counts that the journal does not hold (0 unless the journal
    /// dropped entries or a request never reached the fake).
    pub unrecorded: u32,
}

/// One request and its answer, as the embedded fake's journal recorded them.
#[derive(Debug, Clone, PartialEq)]
pub struct Exchange {
    /// The URL the destination addresses: the customer's `applicationDomain`, then the path
    /// and query the fake received (the run sends them to the embedded fake instead).
    pub url: String,
    /// The journal entry: method, path, headers (keys redacted), both bodies, the status
    /// and the rule that decided it.
    pub entry: JournalEntry,
}

/// The Talon.One (Actions) subscriptions of a bundle whose settings name a `deployment`.
pub const SUBSCRIPTIONS: &str = "subscriptions.json";
/// An Actions bundle's classic settings when the source has both destinations enabled.
pub const CLASSIC_SETTINGS: &str = "classic-settings.json";

/// The files a bundle is made of (the customer's three and the README).
pub const INPUT_FILES: &[&str] = &[
    "settings.json",
    "talon-state.json",
    "events.ndjson",
    "README.md",
];
/// The files `repro --update-expected` writes and CI compares.
pub const EXPECTED_FILES: &[&str] = &["expected.json", "explanation.txt"];

/// What a bundle holds, in words, for error messages.
const BUNDLE_HOLDS: &str = "a bundle is a folder holding settings.json, talon-state.json, events.ndjson and README.md (the customer's report), plus expected.json and explanation.txt, which `talon-harness repro DIR --update-expected` writes; a Talon.One (Actions) bundle's settings.json is {\"apiKey\", \"deployment\"} and it holds subscriptions.json too (and classic-settings.json when the classic destination is enabled on the same source)";

/// Exit-2 errors for a folder that is not a bundle, or lacks a file.
pub(crate) fn require_files(dir: &Path, files: &[&str]) -> Result<(), Error> {
    if !dir.is_dir() {
        return Err(Error::Input(format!(
            "the bundle folder {} does not exist; {BUNDLE_HOLDS}",
            dir.display()
        )));
    }
    for file in files {
        if !dir.join(file).is_file() {
            let hint = if EXPECTED_FILES.contains(file) {
                format!(
                    "run `talon-harness repro {} --update-expected` to write it",
                    dir.display()
                )
            } else {
                BUNDLE_HOLDS.to_owned()
            };
            return Err(Error::Input(format!(
                "the bundle {} has no {file}; {hint}",
                dir.display()
            )));
        }
    }
    Ok(())
}

/// A destination a bundle runs through, with how `repro` names it.
struct BundleDestination {
    /// `None` when the bundle has one destination; `classic` or `Actions` when it has two.
    label: Option<&'static str>,
    destination: Destination,
}

/// The destinations of the bundle in `dir`, and the problems of their settings in words.
///
/// `settings.json` with a `deployment` (or a `subscriptions.json` next to it) is Talon.One
/// (Actions), read with `map`'s own helpers; else it is the classic destination. An Actions
/// bundle that also holds [`CLASSIC_SETTINGS`] runs every event through both destinations
/// (classic first), as a source with both destinations enabled does.
fn destinations(dir: &Path) -> Result<(Vec<BundleDestination>, Vec<String>), Error> {
    let settings_path = dir.join("settings.json");
    let settings_text = input::read_to_string(&settings_path)?;
    let subscriptions = dir.join(SUBSCRIPTIONS);
    let which = DestinationKind::infer(None, Some(&settings_text), subscriptions.is_file());
    if which == DestinationKind::Classic {
        let (settings, problems) = input::settings(Some(&settings_path))?;
        return Ok((
            vec![BundleDestination {
                label: None,
                destination: Destination::Classic(settings),
            }],
            problems.iter().map(ToString::to_string).collect(),
        ));
    }
    if !subscriptions.is_file() {
        return Err(Error::Input(format!(
            "the bundle {} is for Talon.One (Actions) (its settings.json names a `deployment`) but has no {SUBSCRIPTIONS}; {BUNDLE_HOLDS}",
            dir.display()
        )));
    }
    let files = cmd::map::actions_files(
        Some(&settings_path),
        Some(settings_text),
        Some(&subscriptions),
    )?;
    let config = ActionsConfig::from_json(&files.settings, &files.subscriptions)
        .map_err(|e| Error::Input(format!("{}: {e}", files.names)))?;
    let mut problems: Vec<String> = config
        .diagnostics()
        .iter()
        .map(|d| d.kind.to_string())
        .collect();
    let mut out = Vec::new();
    let classic = dir.join(CLASSIC_SETTINGS);
    let both = classic.is_file();
    if both {
        let (settings, classic_problems) = input::settings(Some(&classic))?;
        problems.extend(
            classic_problems
                .iter()
                .map(|p| format!("{CLASSIC_SETTINGS}: {p}")),
        );
        out.push(BundleDestination {
            label: Some("classic"),
            destination: Destination::Classic(settings),
        });
    }
    out.push(BundleDestination {
        label: both.then_some("Actions"),
        destination: Destination::Actions(config),
    });
    Ok((out, problems))
}

/// How many attempts an Actions bundle makes of a request: the relay's clock stands still
/// during a bundle (see [`run_bundle`]), so a request the rate limit refused is refused again
/// however often it is retried; three attempts show that it was retried, and keep the run short.
pub const ACTIONS_ATTEMPTS: u32 = 3;

/// Runs the bundle in `dir` against an embedded fake, through a real socket.
///
/// One lane, one event at a time, each event through each of the bundle's destinations in
/// turn, so the fake's journal holds each event's requests (and their retries) in send
/// order: an event's exchanges are exactly the entries its run added. The relay's clock is a
/// [`ManualClock`] that stands still (chosen here): a bundle is one burst, so the relay's
/// 60-requests-per-second limit refuses its 61st relay request and every later one, whatever
/// the machine's speed.
pub fn run_bundle(dir: &Path) -> Result<BundleRun, Error> {
    require_files(dir, INPUT_FILES)?;
    let readme = input::read_to_string(&dir.join("README.md"))?;
    let title = readme
        .lines()
        .next()
        .unwrap_or("")
        .trim_start_matches('#')
        .trim()
        .to_owned();
    let (destinations, problems) = destinations(dir)?;
    let actions = destinations
        .iter()
        .any(|d| matches!(d.destination, Destination::Actions(_)));
    let state = input::state(&dir.join("talon-state.json"))?;
    let catalog = crate::run::catalog_of(&state);
    let events = input::events(&dir.join("events.ndjson"))?;
    let initial = verify::profiles_of(&state);
    let fake = Fake::new(
        state,
        FakeConfig {
            relay_clock: RelayClock::Manual(ManualClock::new()),
            ..FakeConfig::default()
        },
    )
    .map_err(|e| Error::Input(format!("Talon.One state: {e}")))?;

    let runtime = crate::runtime()?;
    let (reports, journal, entries_of, final_state) = runtime.block_on(async {
        let server = MockServer::start(fake).await.map_err(|source| Error::Io {
            path: "127.0.0.1:0".into(),
            source,
        })?;
        let mut reports = Vec::new();
        let mut entries_of = Vec::new();
        let mut seen = 0usize;
        for (index, event) in events.iter().enumerate() {
            for (which, d) in destinations.iter().enumerate() {
                let line = EventLine {
                    source: event.source.clone(),
                    bytes: event.bytes.clone(),
                };
                let is_actions = matches!(d.destination, Destination::Actions(_));
                let run = run_events(
                    &d.destination,
                    [line],
                    Target::Remote(server.uri()),
                    |config| {
                        // One lane: a bundle's events are delivered exactly in file order.
                        config.concurrency = 1;
                        if is_actions {
                            config.max_attempts = ACTIONS_ATTEMPTS;
                        }
                    },
                )
                .await?;
                let now = server.fake().journal().len();
                for mut report in run.reports {
                    report.index = index as u64;
                    reports.push((which, report));
                }
                entries_of.push(seen..now);
                seen = now;
            }
        }
        let fake = server.fake().clone();
        server.shutdown().await;
        Ok::<_, Error>((reports, fake.journal(), entries_of, fake.state_dump()))
    })?;

    let texts: BTreeMap<String, String> = events
        .iter()
        .map(|e| {
            (
                e.source.clone(),
                String::from_utf8_lossy(&e.bytes).into_owned(),
            )
        })
        .collect();
    let mut explanation = format!("# {title}\n");
    for problem in &problems {
        explanation.push_str(&format!("settings: {problem}\n"));
    }
    let mut held = initial;
    let mut bundle_events = Vec::with_capacity(reports.len());
    for ((which, report), range) in reports.iter().zip(entries_of) {
        let label = destinations[*which].label;
        let destination = &destinations[*which].destination;
        let text = texts.get(&report.source).cloned().unwrap_or_default();
        let mapped = talon_mapper::map(destination, text.as_bytes());
        let entries = journal.get(range).unwrap_or_default();
        let mut lines = report.explain();
        match destination {
            Destination::Actions(config) => {
                lines = actions_explanation(config, report, &text, &mapped, entries, &catalog);
            }
            _ => {
                let body = mapped.request().and_then(attributes_of);
                match (&report.outcome, &report.integration_id, body) {
                    (Outcome::Rejected { .. }, Some(id), Some(body)) => {
                        lines.extend(lost_values(&body, held.get(id), &catalog));
                    }
                    (Outcome::Delivered { .. }, Some(id), Some(body)) => {
                        let profile = held.entry(id.clone()).or_default();
                        for (name, value) in body {
                            profile.insert(name, value);
                        }
                    }
                    _ => {}
                }
                lines.extend(
                    report
                        .diagnostics
                        .iter()
                        .filter_map(|d| fix_for(&d.kind, &catalog)),
                );
            }
        }
        let source = match label {
            Some(label) => format!("{} ({label})", report.source),
            None => report.source.clone(),
        };
        explanation.push_str(&format!("{source}: {}\n", lines[0]));
        for line in &lines[1..] {
            explanation.push_str(&format!("    {line}\n"));
        }
        // The URL the destination addresses: the mapped request's base, then what the fake received.
        let base = mapped
            .requests
            .first()
            .map_or("", |r| &r.url[..r.url.len() - r.path().len()]);
        let exchanges: Vec<Exchange> = entries
            .iter()
            .map(|entry| {
                let query = entry
                    .query
                    .as_deref()
                    .map_or(String::new(), |q| format!("?{q}"));
                Exchange {
                    url: format!("{}{}{query}", base.trim_end_matches('/'), entry.path),
                    entry: entry.clone(),
                }
            })
            .collect();
        let unrecorded = attempts_of(&report.outcome)
            .saturating_sub(u32::try_from(exchanges.len()).unwrap_or(u32::MAX));
        bundle_events.push(BundleEvent {
            source,
            text,
            explanation: lines,
            exchanges,
            unrecorded,
        });
    }
    let reports: Vec<EventReport> = reports.into_iter().map(|(_, r)| r).collect();
    let mut summary = Summary::default();
    for report in &reports {
        summary.add(report);
    }
    let two = destinations.len() > 1;
    let actual = Expected {
        outcomes: reports
            .iter()
            .zip(&bundle_events)
            .map(|(report, event)| {
                let mut outcome = ExpectedOutcome::of(report);
                if two {
                    outcome.source.clone_from(&event.source);
                }
                outcome
            })
            .collect(),
        profiles: verify::profiles_of(&final_state),
        memberships: if actions {
            memberships_of(&final_state)
        } else {
            BTreeMap::new()
        },
        events: if actions {
            events_of(&final_state)
        } else {
            Vec::new()
        },
    };
    explanation.push_str(&customers_tab(&actual.profiles, &catalog));
    if actions {
        explanation.push_str(&actions_tabs(&actual));
    }
    Ok(BundleRun {
        title,
        readme,
        problems,
        events: bundle_events,
        explanation,
        actual,
        run: Run {
            reports,
            summary,
            state: Some(final_state),
            journal,
        },
        catalog,
        actions,
    })
}

/// Attempts an outcome counts.
fn attempts_of(outcome: &Outcome) -> u32 {
    match outcome {
        Outcome::Delivered { attempts, .. }
        | Outcome::Rejected { attempts, .. }
        | Outcome::Failed { attempts, .. } => *attempts,
        Outcome::Skipped { .. } => 0,
    }
}

/// Each profile's Talon.One audiences, by name and id, sorted.
fn memberships_of(state: &StateFile) -> BTreeMap<String, Vec<String>> {
    let names: BTreeMap<i64, &str> = state
        .audiences
        .iter()
        .map(|a| (a.id, a.name.as_str()))
        .collect();
    state
        .profiles
        .iter()
        .filter(|p| !p.audiences.is_empty())
        .map(|p| {
            let mut audiences: Vec<String> = p
                .audiences
                .iter()
                .map(|id| match names.get(id) {
                    Some(name) => format!("{id} {name}"),
                    None => id.to_string(),
                })
                .collect();
            audiences.sort();
            (p.integration_id.clone(), audiences)
        })
        .collect()
}

/// The custom events Talon.One stored, in the order it stored them.
fn events_of(state: &StateFile) -> Vec<ExpectedEvent> {
    let mut events: Vec<&talon_fake::EventRecord> = state.events.iter().collect();
    events.sort_by_key(|e| e.id);
    events
        .into_iter()
        .map(|e| ExpectedEvent {
            profile: e.profile_id.clone(),
            event_type: e.event_type.clone(),
            attributes: e.attributes.clone(),
        })
        .collect()
}

/// The Actions-only parts of the final state, after the Customers tab: audience memberships
/// and stored events.
fn actions_tabs(actual: &Expected) -> String {
    let mut out = String::from("\n## audience memberships\n");
    if actual.memberships.is_empty() {
        out.push_str("(no profile is in a Talon.One audience)\n");
    }
    for (id, audiences) in &actual.memberships {
        out.push_str(&format!("{id}: {}\n", audiences.join(", ")));
    }
    out.push_str("\n## events Talon.One stored\n");
    if actual.events.is_empty() {
        out.push_str("(no events)\n");
    }
    for event in &actual.events {
        out.push_str(&format!(
            "{}: {} {}\n",
            event.profile,
            event.event_type,
            Value::Object(event.attributes.clone())
        ));
    }
    out
}

/// What an Actions event did, in plain words: the outcome, the subscriptions that fired and
/// those whose trigger nearly matched, the mapper's findings, and for each request Talon.One
/// received (the journal's entries of this event) what it carried and what Talon.One did with
/// it and why (the rule, the attributes it skipped, its notes, the deployment's own error).
fn actions_explanation(
    config: &ActionsConfig,
    report: &EventReport,
    text: &str,
    mapped: &talon_mapper::Mapped,
    entries: &[JournalEntry],
    catalog: &BTreeMap<String, AttrType>,
) -> Vec<String> {
    let mut first = report.explain().into_iter().next().unwrap_or_default();
    // A failure's last error is the relay's whole answer; the requests below show it once.
    if let Outcome::Failed {
        status: Some(status),
        ..
    } = &report.outcome
        && let Some(at) = first.find(&format!(": HTTP {status}:"))
    {
        first.truncate(at);
    }
    let mut lines = vec![first.clone()];
    let event: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let fired: Vec<&str> = mapped
        .requests
        .iter()
        .filter_map(|r| r.subscription.as_deref())
        .collect();
    let rejected: Vec<&str> = mapped
        .diagnostics
        .iter()
        .filter_map(|d| match &d.kind {
            talon_mapper::Kind::Action {
                subscription,
                code: "rejected",
                ..
            } => Some(subscription.as_str()),
            _ => None,
        })
        .collect();
    if !fired.is_empty() {
        lines.push(format!("fired: {}", names(&fired)));
    }
    if !rejected.is_empty() {
        lines.push(format!(
            "fired but refused by Segment's own validation, so never sent: {}",
            names(&rejected)
        ));
    }
    // An event no subscription matched: the first line says so (`not sent: …`).
    lines.extend(near_misses(config, &event, &fired, &rejected));
    // The mapper's findings, but for a refusal the first line already quotes.
    lines.extend(
        report
            .diagnostics
            .iter()
            .map(|d| d.kind.to_string())
            .filter(|line| !first.ends_with(line.as_str())),
    );
    let mut previous: Option<(usize, u16, &str)> = None;
    let mut repeats = 0u32;
    let flush = |lines: &mut Vec<String>, repeats: &mut u32| {
        if *repeats > 0 {
            lines.push(format!(
                "retried {}: the same answer each time",
                if *repeats == 1 {
                    "once".to_owned()
                } else {
                    format!("{repeats} times")
                }
            ));
            *repeats = 0;
        }
    };
    for entry in entries {
        let index = mapped.requests.iter().position(|r| carries(entry, r));
        let key = index.map(|i| (i, entry.status, entry.rule.as_str()));
        if key.is_some() && key == previous {
            repeats += 1;
            continue;
        }
        flush(&mut lines, &mut repeats);
        previous = key;
        let subscription = index
            .and_then(|i| mapped.requests[i].subscription.as_deref())
            .map_or(String::new(), |s| format!(" (subscription `{s}`)"));
        let query = entry
            .query
            .as_deref()
            .map_or(String::new(), |q| format!("?{q}"));
        let body = entry.body_json();
        let mut sent = format!("sent {} {}{query}{subscription}", entry.method, entry.path);
        if let Some(carried) = carried(&body) {
            sent.push_str(&format!(": {carried}"));
        }
        lines.push(sent);
        lines.push(answer(entry));
        if let Some(relay) = &entry.relay {
            for pointer in &relay.skipped {
                let name = pointer.rsplit('/').next().unwrap_or(pointer);
                lines.push(format!(
                    "Talon.One skipped `{name}` (skipNonExistingAttributes=true: it has no such attribute); the value is lost, and nothing tells Segment"
                ));
            }
            for note in &relay.notes {
                lines.push(format!("Talon.One noted: {note}"));
            }
            if let Some(upstream) = &relay.upstream
                && let Ok(upstream) = serde_json::from_str::<Value>(upstream)
            {
                lines.extend(crate::report::explain_rejection(&upstream));
            }
        }
        if entry.rule == "relay.rate_limit" {
            lines.push("Talon.One accepts at most 60 requests in any one second per API key, across every /segment endpoint; a bundle is one burst, so its retries fall within the same second".to_owned());
        }
        if (400..500).contains(&entry.status) && entry.rule != "relay.rate_limit" {
            lines.push("nothing in this request was applied: Talon.One accepts or rejects a request as a whole".to_owned());
        }
        if let (Some(id), Some(sent_to)) = (
            report.integration_id.as_deref(),
            entry.path.strip_prefix("/segment/v2/customer_profiles/"),
        ) && (200..300).contains(&entry.status)
            && sent_to != id
        {
            lines.push(format!(
                "Talon.One updated profile `{sent_to}`, not `{id}`: the update went to another customer's profile, or made a new one"
            ));
        }
        lines.extend(unflattened(&body, catalog));
    }
    flush(&mut lines, &mut repeats);
    lines
}

/// Subscription names, each in backticks.
fn names(subscriptions: &[&str]) -> String {
    subscriptions
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a relay request carried that matters to Talon.One: the attributes (of a profile, an
/// event or a session), the event type, the audience changes, `runRuleEngine`.
fn carried(body: &Value) -> Option<String> {
    let object = body.as_object()?;
    let mut parts = Vec::new();
    for key in ["eventType", "type"] {
        if let Some(value) = object.get(key) {
            parts.push(format!("{key} {value}"));
        }
    }
    for key in ["attributes", "eventAttributes"] {
        if let Some(value) = object.get(key) {
            parts.push(format!("{key} {value}"));
        }
    }
    if let Some(changes) = object.get("audiencesChanges") {
        parts.push(format!("audiencesChanges {changes}"));
    }
    if let Some(engine) = object.get("runRuleEngine") {
        parts.push(format!("runRuleEngine {engine}"));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// Talon.One's answer to one request, in words: the status, the rule, the deployment, and
/// the relay's own `Error` when the deployment gave no answer of its own.
fn answer(entry: &JournalEntry) -> String {
    let deployment = entry
        .relay
        .as_ref()
        .and_then(|r| r.deployment.as_deref())
        .map_or(String::new(), |d| format!(" in deployment `{d}`"));
    if (200..300).contains(&entry.status) {
        return format!(
            "Talon.One answered {} (rule `{}`){deployment}",
            entry.status, entry.rule
        );
    }
    let upstream = entry.relay.as_ref().is_some_and(|r| r.upstream.is_some());
    let said = serde_json::from_str::<Value>(&entry.response_body)
        .ok()
        .and_then(|v| v.get("Error").and_then(Value::as_str).map(str::to_owned))
        .filter(|_| !upstream)
        .map_or(String::new(), |e| format!(": {e:?}"));
    format!(
        "Talon.One refused it with {} (rule `{}`){deployment}{said}",
        entry.status, entry.rule
    )
}

/// For each object attribute a request sends where the catalog has flattened names
/// (`address` next to `address_city`): the Actions destination does not flatten.
fn unflattened(body: &Value, catalog: &BTreeMap<String, AttrType>) -> Vec<String> {
    let mut lines = Vec::new();
    for key in ["attributes", "eventAttributes"] {
        let Some(attributes) = body.get(key).and_then(Value::as_object) else {
            continue;
        };
        for (name, value) in attributes {
            if !value.is_object() || catalog.contains_key(name) {
                continue;
            }
            let prefix = format!("{name}_");
            let flat: Vec<String> = catalog
                .keys()
                .filter(|k| k.starts_with(&prefix))
                .map(|k| format!("`{k}`"))
                .collect();
            if !flat.is_empty() {
                lines.push(format!(
                    "attribute `{name}` is an object; Talon.One has {}: the Actions destination does not flatten (map each member to its attribute instead)",
                    flat.join(", ")
                ));
            }
        }
    }
    lines
}

/// Enabled subscriptions that did not fire although their trigger names the event's name
/// but for case or white space (Segment compares event names exactly).
fn near_misses(
    config: &ActionsConfig,
    event: &Value,
    fired: &[&str],
    rejected: &[&str],
) -> Vec<String> {
    let Some(name) = event.get("event").and_then(Value::as_str) else {
        return Vec::new();
    };
    let loose = |s: &str| s.trim().to_lowercase();
    let mut lines = Vec::new();
    for sub in &config.subscriptions {
        if !sub.enabled
            || fired.contains(&sub.name.as_str())
            || rejected.contains(&sub.name.as_str())
        {
            continue;
        }
        for wanted in quoted_event_names(&sub.trigger) {
            if wanted != name && loose(&wanted) == loose(name) {
                lines.push(format!(
                    "`{}` did not fire: its trigger wants event {wanted:?}, the event is {name:?} (Segment compares event names exactly, case and white space included)",
                    sub.name
                ));
            }
        }
    }
    lines
}

/// The string literals compared with `event` in a trigger (`event = "Order Completed"`).
fn quoted_event_names(trigger: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = trigger;
    while let Some(at) = rest.find("event") {
        let after = rest[at + "event".len()..].trim_start();
        rest = &rest[at + "event".len()..];
        let Some(after) = after.strip_prefix('=') else {
            continue;
        };
        let after = after.trim_start();
        let Some(quoted) = after.strip_prefix('"') else {
            continue;
        };
        if let Some(end) = quoted.find('"') {
            names.push(quoted[..end].to_owned());
        }
    }
    names
}

/// The `attributes` of a request's body.
fn attributes_of(request: &Request) -> Option<Map<String, Value>> {
    let body: Value = serde_json::from_str(&request.body).ok()?;
    body.get("attributes")?.as_object().cloned()
}

/// Whether a journal entry is `request` as the fake received it.
fn carries(entry: &JournalEntry, request: &Request) -> bool {
    let (path, query) = match request.path().split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (request.path(), None),
    };
    entry.method == request.method
        && entry.path == path
        && entry.query.as_deref() == query
        && entry.body == request.body
}

/// For a near-miss diagnostic, the fix the bundle's catalog decides: which
/// spelling Talon.One has, and so which side to change.
fn fix_for(kind: &talon_mapper::Kind, catalog: &BTreeMap<String, AttrType>) -> Option<String> {
    use talon_mapper::Kind;
    match kind {
        Kind::CaseMismatch { key, configured } if catalog.contains_key(key) => Some(format!(
            "fix: Talon.One has `{key}`: rename Custom Attribute `{configured}` to `{key}`, the name Talon.One has"
        )),
        Kind::CaseMismatch { key, configured } if catalog.contains_key(configured) => {
            Some(format!(
                "fix: Talon.One has `{configured}`: the trait is `{key}`, so send it as `{configured}` (the setting is right)"
            ))
        }
        Kind::DottedConfigured { key, configured } if catalog.contains_key(key) => Some(format!(
            "fix: Talon.One has `{key}`: rename Custom Attribute `{configured}` to `{key}` (Segment flattens nested traits with `_`, not `.`)"
        )),
        _ => None,
    }
}

/// What a rejected update would have changed: each attribute of its body,
/// the value it would have set, and what Talon.One holds instead.
fn lost_values(
    body: &Map<String, Value>,
    held: Option<&Map<String, Value>>,
    catalog: &BTreeMap<String, AttrType>,
) -> Vec<String> {
    body.iter()
        .map(|(name, value)| {
            let instead = if !catalog.contains_key(name) {
                format!("Talon.One has no attribute `{name}` to hold it")
            } else {
                match held.and_then(|p| p.get(name)) {
                    Some(old) if old == value => format!("Talon.One already holds {old}"),
                    Some(old) => format!("Talon.One still holds {old}"),
                    None => "Talon.One still holds nothing".to_owned(),
                }
            };
            format!("lost: `{name}` would have been {value}; {instead}")
        })
        .collect()
}

/// The final profiles as Talon.One's Customers tab shows them: by
/// integration ID, each attribute with its value and catalog type, sorted.
pub fn customers_tab(
    profiles: &BTreeMap<String, Map<String, Value>>,
    catalog: &BTreeMap<String, AttrType>,
) -> String {
    let mut out = String::from("\n## final profiles, as Talon.One's Customers tab shows them\n");
    if profiles.is_empty() {
        out.push_str("(no profiles)\n");
    }
    for (id, attributes) in profiles {
        out.push_str(&format!("{id}\n"));
        if attributes.is_empty() {
            out.push_str("    (no attributes)\n");
        }
        let mut sorted: Vec<(&String, &Value)> = attributes.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        for (name, value) in sorted {
            let ty = catalog.get(name).map_or("unknown type", |t| t.as_str());
            out.push_str(&format!("    {name} = {value} ({ty})\n"));
        }
    }
    out
}

/// Every difference between this run and the bundle's `expected.json` and
/// `explanation.txt`, in words: what `repro` reports and CI checks.
pub fn verify_bundle(dir: &Path) -> Result<Vec<String>, Error> {
    require_files(dir, INPUT_FILES)?;
    require_files(dir, EXPECTED_FILES)?;
    let run = run_bundle(dir)?;
    let (expected, explanation) = read_expected(dir)?;
    let mut out = unreadable_lines(&run);
    out.extend(differences(&run, &expected));
    out.extend(explanation_differences(&explanation, &run.explanation));
    Ok(out)
}

/// The lines of `events.ndjson` that are not readable Segment events: a
/// bundle is the customer's events, so a line that is not one is a finding
/// even when `expected.json` expects its skip.
pub fn unreadable_lines(run: &BundleRun) -> Vec<String> {
    run.run
        .reports
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Skipped {
                reason: "invalid_event",
                message,
            } => Some(format!("{}: {message}", r.source)),
            _ => None,
        })
        .collect()
}

/// The bundle's `expected.json` and `explanation.txt`.
pub fn read_expected(dir: &Path) -> Result<(Expected, String), Error> {
    let path = dir.join("expected.json");
    let expected = serde_json::from_str(&input::read_to_string(&path)?)
        .map_err(|e| Error::Input(format!("{}: {e}", path.display())))?;
    let explanation = input::read_to_string(&dir.join("explanation.txt"))?;
    Ok((expected, explanation))
}

/// Writes the run's `expected.json` and `explanation.txt` into `dir`.
pub fn write_expected(dir: &Path, run: &BundleRun) -> Result<(), Error> {
    let mut text = serde_json::to_string_pretty(&run.actual).unwrap_or_default();
    text.push('\n');
    input::write(&dir.join("expected.json"), text.as_bytes())?;
    input::write(&dir.join("explanation.txt"), run.explanation.as_bytes())
}

/// The lines where the explanation differs from `explanation.txt` (the first few).
pub fn explanation_differences(expected: &str, actual: &str) -> Vec<String> {
    if expected == actual {
        return Vec::new();
    }
    let (want, have): (Vec<&str>, Vec<&str>) =
        (expected.lines().collect(), actual.lines().collect());
    let mut out = Vec::new();
    for i in 0..want.len().max(have.len()) {
        let (w, h) = (want.get(i), have.get(i));
        if w == h {
            continue;
        }
        if out.len() == 5 {
            out.push("explanation.txt: … and more lines differ".to_owned());
            break;
        }
        out.push(format!(
            "explanation.txt:{}: expected {}, got {}",
            i + 1,
            w.map_or_else(|| "no line".to_owned(), |l| format!("{l:?}")),
            h.map_or_else(|| "no line".to_owned(), |l| format!("{l:?}"))
        ));
    }
    if out.is_empty() {
        // Only line endings differ.
        out.push("explanation.txt: differs in line endings".to_owned());
    }
    out
}

/// Every difference between a run and `expected`, in words.
pub fn differences(run: &BundleRun, expected: &Expected) -> Vec<String> {
    let mut out = Vec::new();
    let (want, have) = (&expected.outcomes, &run.actual.outcomes);
    for i in 0..want.len().max(have.len()) {
        match (want.get(i), have.get(i)) {
            (Some(w), Some(h)) if w == h => {}
            (Some(w), Some(h)) => out.push(format!(
                "{}: expected {}, got {}",
                h.source,
                w.describe(),
                h.describe()
            )),
            (Some(w), None) => out.push(format!(
                "{}: expected {}, but there is no such event",
                w.source,
                w.describe()
            )),
            (None, Some(h)) => out.push(format!(
                "{}: got {}, but expected.json lists no such event",
                h.source,
                h.describe()
            )),
            (None, None) => {}
        }
    }
    out.extend(
        verify::compare(&expected.profiles, &run.actual.profiles, &run.catalog)
            .iter()
            .map(ToString::to_string),
    );
    let ids: std::collections::BTreeSet<&String> = expected
        .memberships
        .keys()
        .chain(run.actual.memberships.keys())
        .collect();
    for id in ids {
        let (want, have) = (
            expected.memberships.get(id).cloned().unwrap_or_default(),
            run.actual.memberships.get(id).cloned().unwrap_or_default(),
        );
        if want != have {
            let list = |a: &[String]| {
                if a.is_empty() {
                    "no audience".to_owned()
                } else {
                    a.join(", ")
                }
            };
            out.push(format!(
                "profile `{id}`: should be in {} but is in {}",
                list(&want),
                list(&have)
            ));
        }
    }
    if expected.events != run.actual.events {
        let show = |events: &[ExpectedEvent]| serde_json::to_string(events).unwrap_or_default();
        out.push(format!(
            "stored events: expected {}, got {}",
            show(&expected.events),
            show(&run.actual.events)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_event_names_a_trigger_compares_with_are_its_quoted_equalities() {
        assert_eq!(
            quoted_event_names(
                r#"type = "track" and (event = "Order Completed" or event="Refund ") and event != "X" and properties.event_name = "Y""#
            ),
            ["Order Completed", "Refund "]
        );
        assert!(quoted_event_names(r#"type = "identify""#).is_empty());
    }

    fn config(trigger: &str) -> ActionsConfig {
        let subscriptions = serde_json::json!([{
            "name": "Orders", "actionSlug": "trackEventV2", "enabled": true, "trigger": trigger,
            "settings": {"customerProfileId": {"@path": "$.userId"}, "eventType": {"@path": "$.event"}},
        }]);
        ActionsConfig::from_json(
            r#"{"apiKey": "k", "deployment": "https://shop.talon.one"}"#,
            &subscriptions.to_string(),
        )
        .unwrap()
    }

    #[test]
    fn a_trigger_that_differs_from_the_event_name_only_by_case_or_spaces_is_a_near_miss() {
        let config = config(r#"type = "track" and event = "Order Completed""#);
        let event = serde_json::json!({"type": "track", "event": "order completed "});
        let lines = near_misses(&config, &event, &[], &[]);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].starts_with("`Orders` did not fire: its trigger wants event \"Order Completed\", the event is \"order completed \""),
            "{lines:?}"
        );
        // Another name is no near miss, and a subscription that fired is none either.
        let other = serde_json::json!({"type": "track", "event": "Order Refunded"});
        assert!(near_misses(&config, &other, &[], &[]).is_empty());
        assert!(near_misses(&config, &event, &["Orders"], &[]).is_empty());
    }

    #[test]
    fn an_object_attribute_next_to_flattened_names_in_the_catalog_says_the_destination_does_not_flatten()
     {
        let catalog = BTreeMap::from([
            ("address_city".to_owned(), AttrType::String),
            ("address_zip".to_owned(), AttrType::String),
        ]);
        let body =
            serde_json::json!({"attributes": {"address": {"city": "Berlin"}, "plan": "pro"}});
        assert_eq!(
            unflattened(&body, &catalog),
            [
                "attribute `address` is an object; Talon.One has `address_city`, `address_zip`: the Actions destination does not flatten (map each member to its attribute instead)"
            ]
        );
        // An object attribute Talon.One has by that name (a JSON-like one) is no such case.
        let mut with_address = catalog.clone();
        with_address.insert("address".into(), AttrType::String);
        assert!(unflattened(&body, &with_address).is_empty());
        let event = serde_json::json!({"eventAttributes": {"address": {"city": "Berlin"}}});
        assert_eq!(unflattened(&event, &catalog).len(), 1);
    }

    #[test]
    fn a_refusal_quotes_the_relays_error_unless_the_deployment_gave_its_own() {
        let mut entry = JournalEntry {
            seq: 1,
            method: "PUT".into(),
            path: "/segment/v2/customer_profiles/u1".into(),
            query: None,
            headers: Vec::new(),
            body: "{}".into(),
            status: 429,
            response_body: r#"{"StatusCode":429,"Error":"Too many requests","RequestUUID":"x"}"#
                .into(),
            rule: "relay.rate_limit".into(),
            relay: Some(talon_fake::RelayEntry {
                deployment: Some("shop.talon.one".into()),
                ..Default::default()
            }),
        };
        assert_eq!(
            answer(&entry),
            "Talon.One refused it with 429 (rule `relay.rate_limit`) in deployment `shop.talon.one`: \"Too many requests\""
        );
        entry.relay.as_mut().unwrap().upstream = Some("{}".into());
        assert_eq!(
            answer(&entry),
            "Talon.One refused it with 429 (rule `relay.rate_limit`) in deployment `shop.talon.one`"
        );
        entry.status = 200;
        entry.rule = "ok.relay_profile_updated".into();
        assert_eq!(
            answer(&entry),
            "Talon.One answered 200 (rule `ok.relay_profile_updated`) in deployment `shop.talon.one`"
        );
    }
}
