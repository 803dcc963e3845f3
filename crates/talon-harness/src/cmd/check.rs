//! `talon-harness check`: what Talon.One would reject, found before any traffic.
//!
//! Parsing and reading only: the checks themselves are [`crate::preflight`].

use std::path::PathBuf;

use crate::management::{self, Management};
use crate::output::{ReportArgs, RunReport};
use crate::preflight::{self, Inputs, KeyCheck};
use crate::{Error, Exit, input};

/// Arguments of `check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Destination settings JSON.
    #[arg(long, value_name = "FILE")]
    pub settings: PathBuf,
    /// The Talon.One deployment (talon-fake's state format, e.g. from `talon-harness pull`).
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "target",
        conflicts_with = "target"
    )]
    pub talon_state: Option<PathBuf>,
    /// Check against this deployment live: pull its catalog through the Management API, ping the API key.
    #[arg(long, value_name = "URL", requires = "management_key")]
    pub target: Option<String>,
    /// A Management API key of the `--target` deployment.
    #[arg(long, value_name = "KEY", requires = "target")]
    pub management_key: Option<String>,
    /// Events to check: Engage keys, and every value against the catalog's types (optional).
    #[arg(long, value_name = "PATH")]
    pub events: Option<PathBuf>,
    /// An Engage audience key the destination receives (repeatable).
    #[arg(long = "audience-key", value_name = "KEY")]
    pub audience_keys: Vec<String>,
    /// `--report` and `--junit`.
    #[command(flatten)]
    pub output: ReportArgs,
}

/// Lints; exit 1 when Talon.One would reject something.
pub fn run(args: &Args) -> Result<Exit, Error> {
    let (settings, problems) = input::settings(Some(&args.settings))?;
    let (state, key, pulled_notes) = match (&args.target, &args.management_key, &args.talon_state) {
        (Some(url), Some(management_key), _) => {
            management::check_target(url)?;
            let runtime = crate::runtime()?;
            let pulled = runtime.block_on(Management::new(url, management_key, 1000).pull())?;
            let status = runtime.block_on(management::authping(url, settings.api_key()))?;
            if !matches!(status, 200..=299 | 401 | 403) {
                return Err(Error::Input(format!(
                    "{url}/v2/authping answered {status}: cannot tell whether the API key is valid"
                )));
            }
            let notes = pulled
                .left_out
                .iter()
                .map(|l| format!("pulled from {url}; left out: {l}"))
                .collect();
            (pulled.state, KeyCheck::Live(status), notes)
        }
        (_, _, Some(path)) => (input::state(path)?, KeyCheck::FromState, Vec::new()),
        _ => {
            return Err(Error::Input(
                "give --talon-state FILE, or --target URL with --management-key KEY".into(),
            ));
        }
    };
    let events = match &args.events {
        Some(path) => input::events(path)?,
        None => Vec::new(),
    };
    let inputs = Inputs {
        settings: &settings,
        problems: &problems,
        state: &state,
        key,
        events: &events,
        audience_keys: &args.audience_keys,
    };
    let (checks, notes) = preflight::checks(&inputs);
    let mut report = RunReport::new("check");
    report.notes = notes;
    report.notes.extend(pulled_notes);
    report
        .extra
        .insert("notes".into(), report.notes.to_vec().into());
    report.checks = checks;
    args.output.finish(&report)
}
