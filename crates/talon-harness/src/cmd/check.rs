//! `talon-harness check`: what Talon.One would reject, found before any traffic, for either
//! destination: classic (settings) or Talon.One (Actions) (settings and subscriptions).
//!
//! Parsing and reading only: the checks themselves are [`crate::preflight`] and
//! [`crate::preflight::actions`]. Which destination is read as `map` reads it
//! (`DestinationKind::infer`, [`super::map::actions_files`]).

use std::path::PathBuf;

use talon_fake::StateFile;
use talon_mapper::actions::ActionsSettings;

use super::map;
use crate::DestinationKind;
use crate::management::{self, Management};
use crate::output::{ReportArgs, RunReport};
use crate::preflight::actions::ActionsInputs;
use crate::preflight::{self, Inputs, KeyCheck};
use crate::{Error, Exit, input};

/// Arguments of `check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Destination settings JSON: classic `{"apiKey", "applicationDomain", "customAttributes"}`,
    /// or Actions `{"apiKey", "deployment"}`.
    #[arg(long, value_name = "FILE")]
    pub settings: PathBuf,
    /// Which destination: `classic` or `actions` [default: inferred: `actions` when
    /// --subscriptions is given or the settings name a `deployment`, else `classic`]
    #[arg(long, value_enum)]
    pub destination: Option<DestinationKind>,
    /// The Actions destination's subscriptions, as Segment's Public API lists them
    /// (`{"subscriptions": [...]}` or a bare array) [default: fixtures/actions/subscriptions.json, embedded]
    #[arg(long, value_name = "FILE")]
    pub subscriptions: Option<PathBuf>,
    /// The Talon.One deployment (talon-fake's state format, e.g. from `talon-harness pull`;
    /// for Actions, the deployment whose `hostname` matches the settings' `deployment`, among
    /// the state and its `deployments`).
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
    /// An Engage audience key the classic destination receives (repeatable).
    #[arg(long = "audience-key", value_name = "KEY")]
    pub audience_keys: Vec<String>,
    /// `--report` and `--junit`.
    #[command(flatten)]
    pub output: ReportArgs,
}

/// Lints; exit 1 when Talon.One would reject something.
pub fn run(args: &Args) -> Result<Exit, Error> {
    let settings_text = input::read_to_string(&args.settings)?;
    let which = DestinationKind::infer(
        args.destination,
        Some(&settings_text),
        args.subscriptions.is_some(),
    );
    if which == DestinationKind::Actions {
        return run_actions(args, settings_text);
    }
    if args.subscriptions.is_some() {
        return Err(Error::Input(map::SUBSCRIPTIONS_NOT_CLASSIC.into()));
    }
    let (settings, problems) = input::settings(Some(&args.settings))?;
    let (state, key, pulled_notes) = deployment(args, settings.api_key())?;
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
    finish(args, checks, notes, pulled_notes)
}

/// The Actions pre-flight.
fn run_actions(args: &Args, settings_text: String) -> Result<Exit, Error> {
    if !args.audience_keys.is_empty() {
        return Err(Error::Input(
            "--audience-key is for the classic destination; for Talon.One (Actions), audience subscriptions are read from --subscriptions".into(),
        ));
    }
    let files = map::actions_files(
        Some(&args.settings),
        Some(settings_text),
        args.subscriptions.as_deref(),
    )?;
    let settings = ActionsSettings::parse(&files.settings)
        .map_err(|e| Error::Input(format!("{}: {e}", args.settings.display())))?;
    let (mut state, key, pulled_notes) = deployment(args, &settings.api_key)?;
    if let Some(url) = &args.target {
        // A pulled state names no host: the deployment checked is the target itself.
        let host = url.trim().trim_end_matches('/');
        let host = host
            .split_once("://")
            .map_or(host, |(_, rest)| rest)
            .to_owned();
        state.hostname = Some(host);
    }
    let events = match &args.events {
        Some(path) => input::events(path)?,
        None => Vec::new(),
    };
    let inputs = ActionsInputs {
        settings: &files.settings,
        subscriptions: &files.subscriptions,
        state: &state,
        key,
        events: &events,
    };
    let (checks, mut notes) = preflight::actions::checks(&inputs)
        .map_err(|e| Error::Input(format!("{}: {e}", files.names)))?;
    if files.default_subscriptions {
        notes.insert(
            0,
            "subscriptions: the shipped defaults (fixtures/actions/subscriptions.json); give --subscriptions FILE for yours".into(),
        );
    }
    finish(args, checks, notes, pulled_notes)
}

/// The deployment (a state file, or pulled from `--target` with the key pinged), how the key
/// is checked, and notes on what a pull left out.
fn deployment(args: &Args, api_key: &str) -> Result<(StateFile, KeyCheck, Vec<String>), Error> {
    match (&args.target, &args.management_key, &args.talon_state) {
        (Some(url), Some(management_key), _) => {
            management::check_target(url)?;
            let runtime = crate::runtime()?;
            let pulled = runtime.block_on(Management::new(url, management_key, 1000).pull())?;
            let status = runtime.block_on(management::authping(url, api_key))?;
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
            Ok((pulled.state, KeyCheck::Live(status), notes))
        }
        (_, _, Some(path)) => Ok((input::state(path)?, KeyCheck::FromState, Vec::new())),
        _ => Err(Error::Input(
            "give --talon-state FILE, or --target URL with --management-key KEY".into(),
        )),
    }
}

fn finish(
    args: &Args,
    checks: Vec<crate::output::Check>,
    notes: Vec<String>,
    pulled_notes: Vec<String>,
) -> Result<Exit, Error> {
    let mut report = RunReport::new("check");
    report.notes = notes;
    report.notes.extend(pulled_notes);
    report
        .extra
        .insert("notes".into(), report.notes.to_vec().into());
    report.checks = checks;
    args.output.finish(&report)
}
