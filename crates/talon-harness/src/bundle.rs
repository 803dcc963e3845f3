//! Bug-report bundles, behind `talon-harness repro`: run one, explain each event, compare with what is correct.
//!
//! A bundle is a folder with `settings.json` (the destination settings),
//! `talon-state.json` (the Talon.One deployment, in talon-fake's state
//! format), `events.ndjson` (the customer's events), `README.md` (the
//! report, first line a title), and the two files `--update-expected`
//! writes: `expected.json` (the outcomes and final profiles that count as
//! correct) and `explanation.txt` (the explanation `repro` prints). CI
//! holds a bundle to both ([`verify_bundle`]), so one command completes a
//! bundle.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use talon_fake::rules::AttrType;
use talon_mapper::Destination;

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
    /// Each event explained, and the settings' problems, in plain words.
    pub explanation: String,
    /// This run's outcomes and profiles.
    pub actual: Expected,
    /// The run itself.
    pub run: Run,
    /// `CustomerProfile` attribute types of the bundle's deployment.
    pub catalog: BTreeMap<String, AttrType>,
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
    let bodies = request_bodies(&events, &destination);
    let initial = verify::profiles_of(&state);
    let run = crate::runtime()?.block_on(run_events(
        &destination,
        events,
        Target::Embedded(state),
        |config| {
            // One lane: a bundle's events are delivered exactly in file order.
            config.concurrency = 1;
        },
    ))?;
    let mut explanation = format!("# {title}\n");
    for problem in &problems {
        explanation.push_str(&format!("settings: {problem}\n"));
    }
    let mut held = initial;
    for report in &run.reports {
        let mut lines = report.explain();
        let body = bodies.get(&report.source);
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
        explanation,
        actual,
        run,
        catalog,
    })
}

/// The `attributes` of each event's request, by source (the mapper is pure:
/// mapping again gives the body that was sent).
fn request_bodies(
    events: &[EventLine],
    destination: &Destination,
) -> BTreeMap<String, Map<String, Value>> {
    events
        .iter()
        .filter_map(|event| {
            let mapped = talon_mapper::map(destination, &event.bytes);
            let body: Value = serde_json::from_str(&mapped.request()?.body).ok()?;
            let attributes = body.get("attributes")?.as_object()?.clone();
            Some((event.source.clone(), attributes))
        })
        .collect()
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
