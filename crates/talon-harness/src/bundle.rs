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

pub mod html;

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use talon_fake::JournalEntry;
use talon_fake::rules::AttrType;
use talon_mapper::{Destination, Request};

use crate::input::EventLine;
use crate::report::{EventReport, Outcome};
use crate::run::{Run, Target, run_events};
use crate::verify;
use crate::{Error, input};

/// What counts as correct for a bundle: `expected.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    /// One per event, in order.
    pub outcomes: Vec<ExpectedOutcome>,
    /// Every profile of the final state, with its attributes.
    pub profiles: BTreeMap<String, Map<String, Value>>,
}

/// One event's expected outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedOutcome {
    /// `events.ndjson:N`.
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
const BUNDLE_HOLDS: &str = "a bundle is a folder holding settings.json, talon-state.json, events.ndjson and README.md (the customer's report), plus expected.json and explanation.txt, which `talon-harness repro DIR --update-expected` writes";

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

/// Runs the bundle in `dir` against an embedded fake, through a real socket.
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
    let (settings, problems) = input::settings(Some(&dir.join("settings.json")))?;
    let state = input::state(&dir.join("talon-state.json"))?;
    let catalog = crate::run::catalog_of(&state);
    let events = input::events(&dir.join("events.ndjson"))?;
    let destination = Destination::Classic(settings);
    let requests = mapped_requests(&events, &destination);
    let bodies: BTreeMap<&str, Map<String, Value>> = requests
        .iter()
        .filter_map(|(source, request)| Some((source.as_str(), attributes_of(request)?)))
        .collect();
    let texts: BTreeMap<String, String> = events
        .iter()
        .map(|e| {
            (
                e.source.clone(),
                String::from_utf8_lossy(&e.bytes).into_owned(),
            )
        })
        .collect();
    let initial = verify::profiles_of(&state);
    let run = crate::runtime()?.block_on(run_events(
        &destination,
        events,
        Target::Embedded(Box::new(state)),
        |config| {
            // One lane: a bundle's events are delivered exactly in file order.
            config.concurrency = 1;
        },
    ))?;
    let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
    let mut explanation = format!("# {title}\n");
    for problem in &problems {
        explanation.push_str(&format!("settings: {problem}\n"));
    }
    let mut held = initial;
    let mut journal = run.journal.iter();
    let mut bundle_events = Vec::with_capacity(run.reports.len());
    for report in &run.reports {
        let mut lines = report.explain();
        let body = bodies.get(report.source.as_str());
        match (&report.outcome, &report.integration_id, body) {
            (Outcome::Rejected { .. }, Some(id), Some(body)) => {
                lines.extend(lost_values(body, held.get(id), &catalog));
            }
            (Outcome::Delivered { .. }, Some(id), Some(body)) => {
                let profile = held.entry(id.clone()).or_default();
                for (name, value) in body {
                    profile.insert(name.clone(), value.clone());
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
        explanation.push_str(&format!("{}: {}\n", report.source, lines[0]));
        for line in &lines[1..] {
            explanation.push_str(&format!("    {line}\n"));
        }
        let (exchanges, unrecorded) =
            exchanges_of(report, requests.get(&report.source), &mut journal);
        bundle_events.push(BundleEvent {
            source: report.source.clone(),
            text: texts.get(&report.source).cloned().unwrap_or_default(),
            explanation: lines,
            exchanges,
            unrecorded,
        });
    }
    let actual = Expected {
        outcomes: run.reports.iter().map(ExpectedOutcome::of).collect(),
        profiles: run
            .state
            .as_ref()
            .map(verify::profiles_of)
            .unwrap_or_default(),
    };
    explanation.push_str(&customers_tab(&actual.profiles, &catalog));
    Ok(BundleRun {
        title,
        readme,
        problems,
        events: bundle_events,
        explanation,
        actual,
        run,
        catalog,
    })
}

/// Each event's request, by source (the mapper is pure: mapping again gives
/// the request that was sent).
fn mapped_requests(events: &[EventLine], destination: &Destination) -> BTreeMap<String, Request> {
    events
        .iter()
        .filter_map(|event| {
            let mapped = talon_mapper::map(destination, &event.bytes);
            Some((event.source.clone(), mapped.request()?.clone()))
        })
        .collect()
}

/// The `attributes` of a request's body.
fn attributes_of(request: &Request) -> Option<Map<String, Value>> {
    let body: Value = serde_json::from_str(&request.body).ok()?;
    body.get("attributes")?.as_object().cloned()
}

/// The journal entries of one event's attempts: the next entries that carry its request
/// (method, path and query, body), as many as the outcome counts attempts, and how many of
/// those attempts the journal does not hold. `journal` moves past what is taken; entries
/// that carry another request are passed over (a bundle's run sends nothing else, in file
/// order, one lane).
fn exchanges_of<'j>(
    report: &EventReport,
    request: Option<&Request>,
    journal: &mut std::slice::Iter<'j, JournalEntry>,
) -> (Vec<Exchange>, u32) {
    let attempts = match &report.outcome {
        Outcome::Delivered { attempts, .. }
        | Outcome::Rejected { attempts, .. }
        | Outcome::Failed { attempts, .. } => *attempts,
        Outcome::Skipped { .. } => 0,
    };
    let Some(request) = request else {
        return (Vec::new(), attempts);
    };
    let path = request.path();
    let base = &request.url[..request.url.len() - path.len()];
    let mut exchanges = Vec::new();
    while exchanges.len() < attempts as usize {
        let mut ahead = journal.clone();
        let Some(entry) = ahead.find(|e| carries(e, request)) else {
            break;
        };
        *journal = ahead;
        let query = entry
            .query
            .as_deref()
            .map_or(String::new(), |q| format!("?{q}"));
        exchanges.push(Exchange {
            url: format!("{base}{}{query}", entry.path),
            entry: entry.clone(),
        });
    }
    let unrecorded = attempts - u32::try_from(exchanges.len()).unwrap_or(attempts);
    (exchanges, unrecorded)
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
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(id: &str, body: &str) -> Request {
        Request::new(
            "PUT",
            "https://shop.example",
            &format!("/v2/customer_profiles/{id}"),
            Vec::new(),
            body.into(),
            id.into(),
        )
    }

    fn entry(seq: u64, id: &str, body: &str, status: u16) -> JournalEntry {
        JournalEntry {
            seq,
            method: "PUT".into(),
            path: format!("/v2/customer_profiles/{id}"),
            query: None,
            headers: Vec::new(),
            body: body.into(),
            status,
            response_body: String::new(),
            rule: "ok.profile_updated".into(),
            relay: None,
        }
    }

    fn delivered(attempts: u32) -> EventReport {
        EventReport {
            index: 0,
            source: "events.ndjson:1".into(),
            integration_id: Some("u1".into()),
            outcome: Outcome::Delivered {
                status: 200,
                attempts,
                unconfirmed: 0,
            },
            diagnostics: Vec::new(),
        }
    }

    #[test]
    fn an_event_takes_as_many_journal_entries_as_attempts_carrying_its_request_in_order() {
        let journal = [
            entry(1, "u0", "{}", 200),
            entry(2, "u1", "{\"a\":1}", 503),
            entry(3, "u1", "{\"a\":2}", 200),
            entry(4, "u1", "{\"a\":1}", 200),
            entry(5, "u2", "{}", 200),
        ];
        let mut cursor = journal.iter();
        let (exchanges, unrecorded) = exchanges_of(
            &delivered(2),
            Some(&request("u1", "{\"a\":1}")),
            &mut cursor,
        );
        assert_eq!(unrecorded, 0);
        let seqs: Vec<u64> = exchanges.iter().map(|e| e.entry.seq).collect();
        assert_eq!(seqs, [2, 4], "another request's entries are passed over");
        assert_eq!(
            exchanges[0].url,
            "https://shop.example/v2/customer_profiles/u1"
        );
        assert_eq!(
            cursor.next().map(|e| e.seq),
            Some(5),
            "the cursor moved past"
        );
    }

    #[test]
    fn attempts_the_journal_does_not_hold_are_counted_and_the_cursor_stays() {
        let journal = [entry(1, "u1", "{}", 200), entry(2, "u2", "{}", 200)];
        let mut cursor = journal.iter();
        let (exchanges, unrecorded) =
            exchanges_of(&delivered(3), Some(&request("u1", "{}")), &mut cursor);
        assert_eq!((exchanges.len(), unrecorded), (1, 2));
        assert_eq!(cursor.next().map(|e| e.seq), Some(2));
        // An event with no request (not buildable again) holds none of the journal.
        let mut cursor = journal.iter();
        assert_eq!(
            exchanges_of(&delivered(1), None, &mut cursor),
            (Vec::new(), 1)
        );
        assert_eq!(cursor.next().map(|e| e.seq), Some(1));
    }

    #[test]
    fn a_skipped_event_takes_no_journal_entry() {
        let journal = [entry(1, "u1", "{}", 200)];
        let mut cursor = journal.iter();
        let mut report = delivered(1);
        report.outcome = Outcome::Skipped {
            reason: "no_user_id",
            message: "no userId".into(),
        };
        assert_eq!(
            exchanges_of(&report, Some(&request("u1", "{}")), &mut cursor),
            (Vec::new(), 0)
        );
        assert_eq!(cursor.next().map(|e| e.seq), Some(1));
    }

    #[test]
    fn a_query_is_matched_and_kept_in_the_url() {
        let mut with_query = entry(1, "u1", "{}", 200);
        with_query.query = Some("runRuleEngine=false".into());
        let journal = [entry(0, "u1", "{}", 200), with_query];
        let mut cursor = journal.iter();
        let (exchanges, _) = exchanges_of(
            &delivered(1),
            Some(&request("u1?runRuleEngine=false", "{}")),
            &mut cursor,
        );
        assert_eq!(exchanges.len(), 1);
        assert_eq!(
            exchanges[0].entry.seq, 1,
            "the entry without the query is not it"
        );
        assert_eq!(
            exchanges[0].url,
            "https://shop.example/v2/customer_profiles/u1?runRuleEngine=false"
        );
    }
}
