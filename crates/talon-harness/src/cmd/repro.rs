//! `talon-harness repro`: run a customer's bug-report bundle, explain each event, compare with what is correct.
//!
//! Parsing and printing only: bundles themselves are [`crate::bundle`].

use std::path::PathBuf;

use crate::bundle::{
    EXPECTED_FILES, INPUT_FILES, differences, explanation_differences, read_expected,
    require_files, run_bundle, unreadable_lines, write_expected,
};
use crate::output::{Check, ReportArgs, ReportFormat, RunReport};
use crate::{Error, Exit};

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

/// Runs the bundle and compares; exit 1 when it differs from `expected.json`.
pub fn run(args: &Args) -> Result<Exit, Error> {
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
        // The whole text (lost values and the Customers tab included), as explanation.txt holds it.
        report
            .extra
            .insert("explanation".into(), bundle.explanation.clone().into());
    }
    report.summary = Some(bundle.run.summary);
    args.output.finish(&report)
}
