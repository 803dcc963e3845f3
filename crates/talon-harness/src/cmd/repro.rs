//! `talon-harness repro`: run a customer's bug-report bundle, explain each event, compare with what is correct.
//!
//! Parsing and printing only: bundles themselves are [`crate::bundle`], the `--html` page
//! [`crate::bundle::html`].

use std::path::PathBuf;

use crate::bundle::html::{self, Mode};
use crate::bundle::{
    EXPECTED_FILES, INPUT_FILES, differences, explanation_differences, read_expected,
    require_files, run_bundle, unreadable_lines, write_expected,
};
use crate::output::{Check, ReportArgs, ReportFormat, RunReport};
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
    /// Also write the run as one self-contained HTML page to FILE, whatever the check's
    /// outcome: the README, each event explained with the requests sent and Talon.One's
    /// answers, the final profiles and the check (a file, not `-`).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// `--report` and `--junit`.
    #[command(flatten)]
    pub output: ReportArgs,
}

/// Runs the bundle and compares; exit 1 when it differs from `expected.json`.
pub fn run(args: &Args) -> Result<Exit, Error> {
    if args.html.as_deref() == Some(std::path::Path::new("-")) {
        return Err(Error::Input(
            "--html needs a file: `-` is refused because standard output already carries the explanation (or --report json); write the page to a file and attach it, e.g. --html report.html".into(),
        ));
    }
    require_files(&args.bundle, INPUT_FILES)?;
    if !args.update_expected {
        require_files(&args.bundle, EXPECTED_FILES)?;
    }
    let bundle = run_bundle(&args.bundle)?;
    let mut report = RunReport::new("repro");
    report.checks.push(Check::from_details(
        "every line of events.ndjson is a readable Segment event",
        unreadable_lines(&bundle),
    ));
    if args.update_expected {
        write_expected(&args.bundle, &bundle)?;
        for file in EXPECTED_FILES {
            report
                .notes
                .push(format!("wrote {}", args.bundle.join(file).display()));
        }
    } else {
        let (expected, explanation) = read_expected(&args.bundle)?;
        let mut details = differences(&bundle, &expected);
        details.extend(explanation_differences(&explanation, &bundle.explanation));
        report.checks.push(Check::from_details(
            format!(
                "bundle \"{}\" behaves as expected.json and explanation.txt say",
                bundle.title
            ),
            details,
        ));
    }
    if let Some(path) = &args.html {
        let mode = if args.update_expected {
            Mode::Recorded
        } else {
            Mode::Compared
        };
        input::write(path, html::render(&bundle, &report.checks, mode).as_bytes())?;
        report.notes.push(format!("wrote {}", path.display()));
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
                .zip(&bundle.events)
                .map(|(r, event)| {
                    let mut json = r.to_json();
                    // As explanation.txt says it: for Actions, the subscriptions and each
                    // request with Talon.One's answer; with two destinations, the source names
                    // the destination.
                    json["source"] = event.source.clone().into();
                    json["explanation"] = event.explanation.clone().into();
                    json
                })
                .collect::<Vec<_>>()
                .into(),
        );
        // The whole text (lost values and the Customers tab included), as explanation.txt holds it.
        report
            .extra
            .insert("explanation".into(), bundle.explanation.clone().into());
    }
    report.summary = Some(bundle.run.summary);
    args.output.finish(&report)
}
