//! A command's result for people (text), machines (`--report json`) and CI systems (`--junit`).

use std::path::Path;

use serde_json::{Value, json};

use crate::Error;
use crate::report::Summary;

/// `--report`: how the result is printed on standard output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ReportFormat {
    /// A summary for people.
    #[default]
    Text,
    /// One JSON object.
    Json,
}

/// `--report` and `--junit`, shared by every command that runs checks.
#[derive(Debug, Clone, clap::Args)]
pub struct ReportArgs {
    /// How to print the result.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub report: ReportFormat,
    /// Write a JUnit XML report to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<std::path::PathBuf>,
}

impl ReportArgs {
    /// Prints `report`, writes its JUnit file, and turns its checks into an
    /// exit code: 0 when all passed, 1 otherwise. Standard output carries
    /// nothing else (see [`ReportArgs::finish_beside`]).
    pub fn finish(&self, report: &RunReport) -> Result<crate::Exit, Error> {
        self.finish_beside(report, false)
    }

    /// [`ReportArgs::finish`] for a command whose standard output may carry
    /// its own data.
    ///
    /// Standard output carries one thing: the JSON report with `--report
    /// json`, the caller's data when `stdout_busy` (e.g. `--outcomes -`), or
    /// else the text summary. The text summary goes to standard error
    /// whenever standard output carries something else.
    pub fn finish_beside(
        &self,
        report: &RunReport,
        stdout_busy: bool,
    ) -> Result<crate::Exit, Error> {
        report.print(self.report, stdout_busy);
        if let Some(path) = &self.junit {
            report.write_junit(path)?;
        }
        Ok(if report.passed() {
            crate::Exit::Success
        } else {
            crate::Exit::Findings
        })
    }
}

/// One pass/fail check of a run (a JUnit test case).
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// What is checked, as a sentence.
    pub name: String,
    /// Whether it held.
    pub passed: bool,
    /// Why not, one line each (the first few for long lists).
    pub details: Vec<String>,
}

impl Check {
    /// A check that passes when `details` is empty.
    pub fn from_details(name: impl Into<String>, details: Vec<String>) -> Self {
        Self {
            name: name.into(),
            passed: details.is_empty(),
            details,
        }
    }
}

/// Everything a command reports at its end.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// `simulate`, `replay`, `repro`, `check`.
    pub command: &'static str,
    /// Outcome totals, when events were run.
    pub summary: Option<Summary>,
    /// The checks.
    pub checks: Vec<Check>,
    /// Further lines for people (throughput, where files went).
    pub notes: Vec<String>,
    /// Further fields for machines.
    pub extra: serde_json::Map<String, Value>,
}

/// The checks every command that delivers events makes of its outcomes:
/// each event has one outcome, every input line was readable, none was lost
/// (failed after retries), and, with `fail_on_reject`, none was rejected.
pub fn delivery_checks(summary: &Summary, fail_on_reject: bool) -> Vec<Check> {
    let mut checks = vec![Check::from_details(
        "every event has exactly one outcome",
        if summary.adds_up() {
            Vec::new()
        } else {
            vec![format!("{summary:?}")]
        },
    )];
    checks.push(Check::from_details(
        "every input line is a readable Segment event",
        with_total(
            &summary.unreadable_examples,
            summary.unreadable,
            "unreadable lines",
        ),
    ));
    let mut lost = with_total(&summary.failed_examples, summary.failed, "events failed");
    if !lost.is_empty() {
        lost.extend(
            summary
                .failed_by_reason
                .iter()
                .map(|(reason, count)| format!("{count} failed: {reason}")),
        );
    }
    checks.push(Check::from_details(
        "no event was lost (none failed after retries)",
        lost,
    ));
    if fail_on_reject {
        let mut rejected = with_total(
            &summary.rejected_examples,
            summary.rejected,
            "events rejected",
        );
        if !rejected.is_empty() {
            rejected.extend(
                summary
                    .rejected_by_reason
                    .iter()
                    .map(|(reason, count)| format!("{count} rejected: {reason}")),
            );
        }
        checks.push(Check::from_details("Talon.One rejected no event", rejected));
    }
    checks
}

/// The examples, then the total when it is more than the examples shown.
fn with_total(examples: &[String], total: u64, what: &str) -> Vec<String> {
    let mut lines = examples.to_vec();
    if total > examples.len() as u64 {
        lines.push(format!("{total} {what} in all"));
    }
    lines
}

/// How many detail lines a text report shows per check.
const SHOWN: usize = 20;

impl RunReport {
    /// A report with nothing in it yet.
    pub fn new(command: &'static str) -> Self {
        Self {
            command,
            summary: None,
            checks: Vec::new(),
            notes: Vec::new(),
            extra: serde_json::Map::new(),
        }
    }

    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }

    /// The report for people.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        if let Some(summary) = &self.summary {
            out.push_str(&summary.render());
        }
        for note in &self.notes {
            out.push_str(note);
            out.push('\n');
        }
        for check in &self.checks {
            let mark = if check.passed { "ok  " } else { "FAIL" };
            out.push_str(&format!("{mark} {}\n", check.name));
            for line in check.details.iter().take(SHOWN) {
                out.push_str(&format!("       {line}\n"));
            }
            if check.details.len() > SHOWN {
                out.push_str(&format!(
                    "       … and {} more\n",
                    check.details.len() - SHOWN
                ));
            }
        }
        out
    }

    /// The report for machines.
    pub fn to_json(&self) -> Value {
        let mut object = json!({
            "command": self.command,
            "passed": self.passed(),
            "checks": self.checks.iter().map(|c| json!({
                "name": c.name, "passed": c.passed, "details": c.details,
            })).collect::<Vec<_>>(),
        });
        let map = object.as_object_mut().expect("an object");
        if let Some(summary) = &self.summary {
            map.insert("summary".into(), summary.to_json());
        }
        map.extend(self.extra.clone());
        object
    }

    /// Prints the report: see [`ReportArgs::finish`] for which stream gets what.
    #[allow(clippy::print_stdout, clippy::print_stderr)]
    pub fn print(&self, format: ReportFormat, stdout_busy: bool) {
        match format {
            ReportFormat::Text if !stdout_busy => print!("{}", self.render_text()),
            ReportFormat::Text => eprint!("{}", self.render_text()),
            ReportFormat::Json => {
                eprint!("{}", self.render_text());
                println!("{}", self.to_json());
            }
        }
    }

    /// The report as JUnit XML: one test suite, one test case per check.
    pub fn to_junit(&self) -> Result<String, Error> {
        use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
        let mut suite = TestSuite::new(format!("talon-harness {}", self.command));
        for check in &self.checks {
            let status = if check.passed {
                TestCaseStatus::success()
            } else {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status.set_message(check.details.first().cloned().unwrap_or_default());
                status.set_description(check.details.join("\n"));
                status
            };
            suite.add_test_case(TestCase::new(check.name.clone(), status));
        }
        let mut report = Report::new("talon-harness");
        report.add_test_suite(suite);
        report
            .to_string()
            .map_err(|e| Error::Input(format!("cannot write JUnit XML: {e}")))
    }

    /// Writes the JUnit XML to `path`.
    pub fn write_junit(&self, path: &Path) -> Result<(), Error> {
        std::fs::write(path, self.to_junit()?).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })
    }
}
