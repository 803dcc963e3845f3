//! `talon-harness repro`: run a customer's bug-report bundle, explain each event, compare with what is correct.
//!
//! A bundle is a folder with `settings.json` (the destination settings),
//! `talon-state.json` (the Talon.One deployment, in talon-fake's state
//! format), `events.ndjson` (the customer's events), `README.md` (the
//! report, first line a title) and `expected.json` (the outcomes and final
//! profiles that count as correct).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use talon_fake::rules::{AttrType, Entity};

use super::replay::{Run, Target, run_events};
use crate::output::{Check, ReportArgs, ReportFormat, RunReport};
use crate::report::{EventReport, Outcome};
use crate::verify;
use crate::{Error, Exit, input};

/// Arguments of `repro`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The bundle folder.
    #[arg(value_name = "BUNDLE_DIR")]
    pub bundle: PathBuf,
    /// Write this run's outcomes and final profiles to `expected.json` instead of comparing.
    #[arg(long)]
    pub update_expected: bool,
    /// `--report` and `--junit`.
    #[command(flatten)]
    pub output: ReportArgs,
}

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

/// Runs the bundle in `dir` against an embedded fake, through a real socket.
pub fn run_bundle(dir: &Path) -> Result<BundleRun, Error> {
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
    let catalog: BTreeMap<String, AttrType> = state
        .attributes
        .iter()
        .filter(|a| a.entity == Entity::CustomerProfile)
        .map(|a| (a.name.clone(), a.ty))
        .collect();
    let events = input::events(&dir.join("events.ndjson"))?;
    let run = crate::runtime()?.block_on(run_events(
        &settings,
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
    for report in &run.reports {
        let lines = report.explain();
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
    Ok(BundleRun {
        title,
        explanation,
        actual,
        run,
        catalog,
    })
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

/// Runs the bundle and compares; exit 1 when it differs from `expected.json`.
pub fn run(args: &Args) -> Result<Exit, Error> {
    let bundle = run_bundle(&args.bundle)?;
    let expected_path = args.bundle.join("expected.json");
    let mut report = RunReport::new("repro");
    if args.update_expected {
        let mut text = serde_json::to_string_pretty(&bundle.actual).unwrap_or_default();
        text.push('\n');
        input::write(&expected_path, text.as_bytes())?;
        report
            .notes
            .push(format!("wrote {}", expected_path.display()));
    } else {
        let expected: Expected = serde_json::from_str(&input::read_to_string(&expected_path)?)
            .map_err(|e| Error::Input(format!("{}: {e}", expected_path.display())))?;
        report.checks.push(Check::from_details(
            format!("bundle \"{}\" behaves as expected.json says", bundle.title),
            differences(&bundle, &expected),
        ));
    }
    if args.output.report == ReportFormat::Text {
        print!("{}", bundle.explanation);
    } else {
        report.extra.insert(
            "events".into(),
            bundle
                .run
                .reports
                .iter()
                .map(|r| {
                    let mut json = r.to_json();
                    json["explanation"] = r.explain().into();
                    json
                })
                .collect::<Vec<_>>()
                .into(),
        );
    }
    report.summary = Some(bundle.run.summary);
    args.output.finish(&report)
}
