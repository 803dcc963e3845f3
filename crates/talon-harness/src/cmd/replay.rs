//! `talon-harness replay`: a customer's events, against the embedded fake or a real deployment.

use std::io::Write;
use std::path::PathBuf;

use talon_fake::StateFile;

use talon_mapper::Destination;
use talon_mapper::actions::ActionsConfig;

use crate::DestinationKind;
use crate::input;
use crate::output::{Check, ReportArgs, RunReport, delivery_checks};
use crate::run::{Catalog, Target, catalog_of, download_state, probe_admin, stream_events};
use crate::{Error, Exit};

/// Arguments of `replay`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Destination settings JSON: classic `{"apiKey", "applicationDomain", "customAttributes"}`,
    /// or Actions `{"apiKey", "deployment"}` [default: fixtures/settings/default.json; for
    /// Actions the built-in demo deployment's Segment key and host; embedded]
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,
    /// Which destination: `classic` or `actions` [default: inferred: `actions` when
    /// --subscriptions is given or the settings name a `deployment`, else `classic`]
    #[arg(long, value_enum)]
    pub destination: Option<DestinationKind>,
    /// The Actions destination's subscriptions, as Segment's Public API lists them
    /// (`{"subscriptions": [...]}` or a bare array) [default: fixtures/actions/subscriptions.json, embedded]
    #[arg(long, value_name = "FILE")]
    pub subscriptions: Option<PathBuf>,
    /// Events: an NDJSON file, a `.json` file with one event, a folder of those, or `-` for stdin.
    #[arg(long, value_name = "PATH")]
    pub events: PathBuf,
    /// Start the embedded fake from this state file [default: the built-in demo deployment].
    #[arg(long, value_name = "FILE", conflicts_with = "target")]
    pub talon_state: Option<PathBuf>,
    /// Send to this Talon.One deployment (or a `talon-harness serve`) instead of the embedded fake.
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
    /// The target's admin token, when it is a `talon-harness serve --admin-token` (sent as
    /// `Authorization: Bearer`, to read its state).
    #[arg(long, value_name = "TOKEN", requires = "target")]
    pub admin_token: Option<String>,
    /// Concurrency, retries, `--outcomes`, `--dump-state`, `--fail-on-reject`.
    #[command(flatten)]
    pub delivery: crate::cmd::DeliveryArgs,
    /// Client-side pacing.
    #[command(flatten)]
    pub pace: crate::cmd::simulate::PaceArgs,
    /// `--report` and `--junit`.
    #[command(flatten)]
    pub output: ReportArgs,
}

/// Replays the events; exit 0, or 1 when an event was lost or unreadable,
/// or rejected with `--fail-on-reject`.
pub fn run(args: &Args) -> Result<Exit, Error> {
    let outcomes_on_stdout = args.delivery.outcomes_on_stdout();
    args.delivery.check_streams(args.output.report)?;
    let destination = destination(args)?;
    let which = if matches!(destination, Destination::Actions(_)) {
        "Talon.One (Actions) destination"
    } else {
        "classic destination"
    };
    let target = match (&args.target, &args.talon_state) {
        (Some(url), _) => Target::Remote(url.trim_end_matches('/').to_owned()),
        (None, Some(path)) => Target::Embedded(Box::new(input::state(path)?)),
        (None, None) => Target::Embedded(Box::new(StateFile::default_state())),
    };
    let embedded_catalog = match &target {
        Target::Embedded(state) => Some(catalog_of(state)),
        Target::Remote(_) => None,
    };
    let runtime = crate::runtime()?;
    let remote = args.target.as_deref().map(|u| u.trim_end_matches('/'));
    if let (Some(url), Some(_)) = (remote, &args.delivery.dump_state) {
        // Refuse before any traffic, not after it.
        runtime.block_on(probe_admin(url, args.admin_token.as_deref()))?;
    }
    let mut events = input::EventReader::open(&args.events)?;
    let mut outcomes = args.delivery.open_outcomes()?;
    let outcomes_name = args.delivery.outcomes_name();
    let (summary, fake, watch) = runtime.block_on(stream_events(
        &destination,
        &mut events,
        target,
        |config| {
            args.delivery.apply(config);
            args.pace.apply(config);
        },
        None,
        |report| match outcomes.as_mut() {
            Some(out) => writeln!(out, "{}", report.to_json()).map_err(|source| Error::Io {
                path: outcomes_name.clone(),
                source,
            }),
            None => Ok(()),
        },
    ))?;
    let read = events.finish()?;
    if let Some(mut out) = outcomes {
        out.flush().map_err(|source| Error::Io {
            path: outcomes_name.clone(),
            source,
        })?;
    }
    // The final state: streamed to --dump-state, and read for the profiles
    // with an unconfirmed attempt (only those, from the embedded fake).
    let unconfirmed = !watch.profiles.is_empty();
    let admin = args.admin_token.as_deref();
    if let Some(path) = &args.delivery.dump_state {
        let mut file = input::create_optional(Some(path))?.expect("a path was given");
        let io = |source| Error::Io {
            path: path.display().to_string(),
            source,
        };
        match (&fake, remote) {
            (Some(fake), _) => fake.write_state(&mut file, false).map_err(io)?,
            (None, Some(url)) => runtime.block_on(download_state(url, admin, &mut file))?,
            (None, None) => unreachable!("a run has a target"),
        }
        file.flush().map_err(io)?;
    }
    let read_back: Option<(crate::verify::Profiles, Catalog)> = if !unconfirmed {
        None
    } else if let Some(fake) = &fake {
        let catalog = embedded_catalog.clone().unwrap_or_default();
        let profiles = watch
            .profiles
            .keys()
            .filter_map(|id| {
                let profile = fake.profile(id)?;
                let attributes = profile.get("attributes")?.as_object()?.clone();
                Some((id.clone(), attributes))
            })
            .collect();
        Some((profiles, catalog))
    } else {
        let url = remote.expect("a run without an embedded fake has a target");
        let mut text = Vec::new();
        match runtime.block_on(download_state(url, admin, &mut text)) {
            Ok(()) => {
                let state = StateFile::from_json(&String::from_utf8_lossy(&text))
                    .map_err(|e| Error::Input(format!("the state of {url}: {e}")))?;
                Some((crate::verify::profiles_of(&state), catalog_of(&state)))
            }
            Err(_) => None,
        }
    };
    let mut report = RunReport::new("replay");
    report.notes.push(format!(
        "ran        {which}, {read} events from {}, to {}",
        args.events.display(),
        remote.map_or_else(
            || match &args.talon_state {
                Some(path) => format!("the embedded fake Talon.One ({})", path.display()),
                None => "the embedded fake Talon.One (built-in demo state)".to_owned(),
            },
            |url| url.to_owned()
        )
    ));
    report
        .checks
        .extend(delivery_checks(&summary, args.delivery.fail_on_reject));
    if unconfirmed {
        report.checks.push(Check::from_details(
            "profiles with an unconfirmed attempt hold what was last sent to them",
            match &read_back {
                Some((profiles, catalog)) => {
                    let mut watch = watch.clone();
                    if matches!(destination, Destination::Actions(_)) {
                        // Skipped by the relay (`skipNonExistingAttributes`), never stored.
                        watch.retain_known(catalog);
                        watch.retain_routable();
                    }
                    watch
                }
                .check(profiles, catalog)
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
                None => vec![format!(
                    "{} profiles had an attempt of unknown fate, and the target cannot be read back: check them by hand",
                    watch.profiles.len()
                )],
            },
        ));
    }
    report.summary = Some(summary);
    args.output.finish_beside(&report, outcomes_on_stdout)
}

/// The Actions settings matching the built-in demo deployment: its Segment key, its host.
const DEMO_ACTIONS_SETTINGS: &str = r#"{"apiKey": "segment-demo-relay-key", "deployment": "https://mycompany.europe-west1.talon.one"}"#;

/// The destination the flags name: `--destination`, else `actions` when `--subscriptions` is
/// given or the settings name a `deployment` (the rule `map` follows), else `classic`.
fn destination(args: &Args) -> Result<Destination, Error> {
    let settings_text = match &args.settings {
        Some(path) => Some(input::read_to_string(path)?),
        None => None,
    };
    // The inference `map` and `check` make.
    let which = DestinationKind::infer(
        args.destination,
        settings_text.as_deref(),
        args.subscriptions.is_some(),
    );
    if which == DestinationKind::Classic {
        if args.subscriptions.is_some() {
            return Err(Error::Input(
                crate::cmd::map::SUBSCRIPTIONS_NOT_CLASSIC.into(),
            ));
        }
        let (settings, problems) = input::settings(args.settings.as_deref())?;
        for problem in &problems {
            eprintln!("warning: settings: {problem}");
        }
        return Ok(Destination::Classic(settings));
    }
    let settings = settings_text.unwrap_or_else(|| DEMO_ACTIONS_SETTINGS.to_owned());
    let subscriptions = match &args.subscriptions {
        Some(path) => input::read_to_string(path)?,
        None => crate::world::DEFAULT_SUBSCRIPTIONS.to_owned(),
    };
    let config = ActionsConfig::from_json(&settings, &subscriptions).map_err(|e| {
        Error::Input(format!(
            "{} / {}: {e}",
            args.settings.as_deref().map_or_else(
                || "the demo Actions settings".to_owned(),
                |p| p.display().to_string()
            ),
            args.subscriptions.as_deref().map_or_else(
                || "fixtures/actions/subscriptions.json".to_owned(),
                |p| p.display().to_string()
            )
        ))
    })?;
    for d in config.diagnostics() {
        let level = match d.level {
            talon_mapper::Level::Warning => "warning",
            talon_mapper::Level::Note => "note",
        };
        eprintln!("{level}: {}", d.kind);
    }
    Ok(Destination::Actions(config))
}
