//! `talon-harness diff`: what a new configuration changes, event by event, before it ships.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;
use talon_fake::StateFile;
use talon_mapper::Destination;
use talon_mapper::actions::ActionsConfig;

use crate::DestinationKind;
use crate::diff::config::{Shape, merge_subscription, shape};
use crate::diff::{Accepted, DiffConfig, DiffReport, Side, render};
use crate::input;
use crate::{Error, Exit};

/// `--report` of `diff`: one model, three renderings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum DiffFormat {
    /// A summary for people.
    #[default]
    Text,
    /// One JSON object.
    Json,
    /// A pull-request comment: a short table, the details folded.
    Markdown,
}

/// Arguments of `diff`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The configuration in use: classic, a settings file; Actions, a subscriptions file
    /// (Segment's Public API shape or a bare array) [default: fixtures/settings/default.json,
    /// or fixtures/actions/subscriptions.json; embedded]
    #[arg(long, value_name = "FILE")]
    pub before: Option<PathBuf>,
    /// The configuration proposed, as --before; for Actions also one edited subscription (an
    /// object with an `id` or `name`), merged over --before's list [default: --before]
    #[arg(long, value_name = "FILE")]
    pub after: Option<PathBuf>,
    /// Actions settings `{"apiKey", "deployment"}` of both sides [default: the simulated
    /// deployment's, which the default Actions state answers]
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,
    /// Actions settings before the change (instead of --settings).
    #[arg(long, value_name = "FILE")]
    pub before_settings: Option<PathBuf>,
    /// Actions settings after the change (instead of --settings).
    #[arg(long, value_name = "FILE")]
    pub after_settings: Option<PathBuf>,
    /// Which destination: `classic` or `actions` [default: inferred from the files: `actions`
    /// when a settings file names a `deployment` or --before/--after hold subscriptions]
    #[arg(long, value_enum)]
    pub destination: Option<DestinationKind>,
    /// Events: an NDJSON file, a `.json` file with one event, a folder of those, or `-` for stdin.
    #[arg(long, value_name = "PATH")]
    pub events: PathBuf,
    /// The Talon.One state (catalog, keys, profiles) both fakes start from, e.g. `pull`'s output
    /// [default: the built-in demo state; for Actions the simulated deployment matching the
    /// shipped subscriptions]
    #[arg(long, value_name = "FILE")]
    pub talon_state: Option<PathBuf>,
    /// The state before a catalog change (instead of --talon-state).
    #[arg(long, value_name = "FILE")]
    pub before_state: Option<PathBuf>,
    /// The state after a catalog change (instead of --talon-state).
    #[arg(long, value_name = "FILE")]
    pub after_state: Option<PathBuf>,
    /// Differences already reviewed: a regression listed there does not fail the run.
    #[arg(long, value_name = "FILE")]
    pub accept: Option<PathBuf>,
    /// Write every kind of difference of this run to this accept file (with --accept's), as
    /// reviewed; the run then fails only when the comparison is incomplete.
    #[arg(long, value_name = "FILE")]
    pub write_accept: Option<PathBuf>,
    /// Write each event's comparison as NDJSON to this file (`-` for stdout), one line per
    /// input event, unchanged ones included.
    #[arg(long, value_name = "FILE")]
    pub changes: Option<PathBuf>,
    /// How to print the result.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub report: DiffFormat,
    /// Write a JUnit XML report to this file (one test case per kind of difference).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

/// Compares; exit 1 on a regression not accepted (or an unreadable or lost event), else 0.
pub fn run(args: &Args) -> Result<Exit, Error> {
    let changes_on_stdout = args.changes.as_deref() == Some(Path::new("-"));
    if changes_on_stdout && args.report != DiffFormat::Text {
        return Err(Error::Input(
            "--changes - and --report json or markdown would both write to standard output: send one of them to a file".into(),
        ));
    }
    if args.after.is_none()
        && args.after_settings.is_none()
        && args.after_state.is_none()
        && args.before_settings.is_none()
        && args.before_state.is_none()
    {
        return Err(Error::Input(
            "nothing to compare: give the configuration after the change (--after, --after-settings or --after-state)".into(),
        ));
    }
    let mut config = configure(args)?;
    if let Some(path) = &args.accept {
        config.accepted = Accepted::from_json(&input::read_to_string(path)?)
            .map_err(|e| Error::Input(format!("{}: not an accept file: {e}", path.display())))?;
    }
    let mut events = input::EventReader::open(&args.events)?;
    let mut changes: Option<Box<dyn Write>> = if changes_on_stdout {
        Some(Box::new(std::io::BufWriter::new(std::io::stdout())))
    } else {
        input::create_optional(args.changes.as_deref())?.map(|w| Box::new(w) as Box<dyn Write>)
    };
    let changes_name = args
        .changes
        .as_deref()
        .map_or_else(|| "-".to_owned(), |p| p.display().to_string());
    let runtime = crate::runtime()?;
    let mut report =
        runtime.block_on(crate::diff::compare(
            &config,
            events.by_ref(),
            |c| match changes.as_mut() {
                Some(out) => serde_json::to_writer(&mut *out, c)
                    .map_err(std::io::Error::from)
                    .and_then(|()| writeln!(out))
                    .map_err(|source| Error::Io {
                        path: changes_name.clone(),
                        source,
                    }),
                None => Ok(()),
            },
        ))?;
    events.finish()?;
    if let Some(mut out) = changes {
        out.flush().map_err(|source| Error::Io {
            path: changes_name.clone(),
            source,
        })?;
    }
    if let Some(path) = &args.write_accept {
        let mut accepted = config.accepted.clone();
        accepted.entries.extend(Accepted::of(&report).entries);
        input::write(path, accepted.to_json_pretty().as_bytes())?;
        mark_accepted(&mut report, &accepted);
    }
    print(&report, args.report, changes_on_stdout);
    if let Some(path) = &args.junit {
        input::write(path, render::junit(&report)?.as_bytes())?;
    }
    Ok(if report.passed() {
        Exit::Success
    } else {
        Exit::Findings
    })
}

fn mark_accepted(report: &mut DiffReport, accepted: &Accepted) {
    for group in &mut report.groups {
        group.accepted = accepted.contains(&group.fingerprint);
    }
    report.stale_accepted.retain(|f| accepted.contains(f));
}

/// Standard output carries one thing: the chosen report, or the changes with `--changes -`
/// (the text then goes to standard error). With JSON or Markdown the text goes to standard
/// error as well, for the CI log.
fn print(report: &DiffReport, format: DiffFormat, stdout_busy: bool) {
    let text = render::text(report);
    match format {
        DiffFormat::Text if !stdout_busy => print!("{text}"),
        DiffFormat::Text => eprint!("{text}"),
        DiffFormat::Json => {
            eprint!("{text}");
            println!("{}", render::to_json(report));
        }
        DiffFormat::Markdown => {
            eprint!("{text}");
            print!("{}", render::markdown(report));
        }
    }
}

/// A configuration file read as JSON, with its text.
fn read_json(path: &Path) -> Result<(String, Value), Error> {
    let text = input::read_to_string(path)?;
    let value = serde_json::from_str(&text)
        .map_err(|e| Error::Input(format!("{}: not JSON: {e}", path.display())))?;
    Ok((text, value))
}

/// The destination the flags name: `--destination`, else `actions` when a settings file
/// names a `deployment` or --before/--after hold subscriptions, else `classic`.
fn which(args: &Args, files: &[(&Path, &Value)]) -> DestinationKind {
    if let Some(d) = args.destination {
        return d;
    }
    let actions = files.iter().any(|(_, v)| {
        matches!(
            shape(v),
            Shape::ActionsSettings | Shape::Subscriptions | Shape::Subscription
        )
    });
    if actions
        || args.settings.is_some()
        || args.before_settings.is_some()
        || args.after_settings.is_some()
    {
        DestinationKind::Actions
    } else {
        DestinationKind::Classic
    }
}

/// Both sides, as the flags give them.
pub fn configure(args: &Args) -> Result<DiffConfig, Error> {
    let mut read = Vec::new();
    for path in [
        &args.before,
        &args.after,
        &args.settings,
        &args.before_settings,
        &args.after_settings,
    ]
    .into_iter()
    .flatten()
    {
        read.push((path.as_path(), read_json(path)?));
    }
    let files: Vec<(&Path, &Value)> = read.iter().map(|(p, (_, v))| (*p, v)).collect();
    let which = which(args, &files);
    let text_of = |path: &Option<PathBuf>| -> Option<(String, Value)> {
        let path = path.as_deref()?;
        read.iter()
            .find(|(p, _)| *p == path)
            .map(|(_, tv)| tv.clone())
    };
    let (before, after, default_state) = match which {
        DestinationKind::Classic => {
            if let Some(flag) = [
                ("--settings", &args.settings),
                ("--before-settings", &args.before_settings),
                ("--after-settings", &args.after_settings),
            ]
            .iter()
            .find_map(|(flag, v)| v.as_ref().map(|_| *flag))
            {
                return Err(Error::Input(format!(
                    "{flag} is the Actions destination's settings; for the classic destination --before and --after are the settings files"
                )));
            }
            let before = classic(args.before.as_deref())?;
            let after = match &args.after {
                Some(path) => classic(Some(path))?,
                None => before.clone(),
            };
            (before, after, StateFile::default_state())
        }
        DestinationKind::Actions => {
            let world = crate::world::World::for_actions(&segment_gen::Scenario::default());
            let default_settings = world.settings_json.to_string();
            let settings = |side: &Option<PathBuf>| -> (String, String) {
                match side.as_ref().or(args.settings.as_ref()) {
                    Some(path) => (
                        text_of(&Some(path.clone()))
                            .map(|(t, _)| t)
                            .unwrap_or_default(),
                        path.display().to_string(),
                    ),
                    None => (
                        default_settings.clone(),
                        "the simulated Actions settings".into(),
                    ),
                }
            };
            let (before_subs, before_name) = match text_of(&args.before) {
                Some((text, value)) => {
                    if shape(&value) == Shape::Subscription {
                        return Err(Error::Input(format!(
                            "{}: one subscription; --before is the whole list (only --after may be one edited subscription)",
                            args.before
                                .as_deref()
                                .map(Path::display)
                                .map(|d| d.to_string())
                                .unwrap_or_default()
                        )));
                    }
                    (
                        text,
                        args.before
                            .as_deref()
                            .map(|p| p.display().to_string())
                            .unwrap_or_default(),
                    )
                }
                None => (
                    crate::world::DEFAULT_SUBSCRIPTIONS.to_owned(),
                    "fixtures/actions/subscriptions.json".to_owned(),
                ),
            };
            let (after_subs, after_name) = match text_of(&args.after) {
                Some((text, value)) => {
                    let name = args
                        .after
                        .as_deref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default();
                    if shape(&value) == Shape::Subscription {
                        let list: Value = serde_json::from_str(&before_subs)
                            .map_err(|e| Error::Input(format!("{before_name}: not JSON: {e}")))?;
                        let merged = merge_subscription(&list, &value)
                            .map_err(|e| Error::Input(format!("{name}: {e}")))?;
                        (
                            merged.to_string(),
                            format!("{name} merged over {before_name}"),
                        )
                    } else {
                        (text, name)
                    }
                }
                None => (before_subs.clone(), before_name.clone()),
            };
            let (bs, bs_name) = settings(&args.before_settings);
            let (a_s, as_name) = settings(&args.after_settings);
            let before = actions(&bs, &bs_name, &before_subs, &before_name)?;
            let after = actions(&a_s, &as_name, &after_subs, &after_name)?;
            (before, after, world.state)
        }
    };
    // Each side's state: its own flag, else --talon-state, else the built-in one (without its
    // keys: the settings' key is taken).
    let state = |path: &Option<PathBuf>| match path.as_ref().or(args.talon_state.as_ref()) {
        Some(path) => input::state(path),
        None => Ok(without_keys(default_state.clone())),
    };
    let (before, after) = (
        Side {
            destination: before,
            state: state(&args.before_state)?,
        },
        Side {
            destination: after,
            state: state(&args.after_state)?,
        },
    );
    let (mut before, mut after) = (before, after);
    let mut notes = std::collections::BTreeSet::new();
    for side in [&mut before, &mut after] {
        notes.extend(crate::diff::adopt_credentials(
            &mut side.state,
            &side.destination,
        ));
    }
    let given =
        args.talon_state.is_some() || args.before_state.is_some() || args.after_state.is_some();
    for note in notes.into_iter().filter(|_| given) {
        eprintln!("note: {note}");
    }
    Ok(DiffConfig::new(before, after))
}

/// A built-in state stands in for the user's deployment: it takes the settings' key (and
/// deployment) whatever they are (`diff::adopt_credentials`), so it loses its own.
fn without_keys(mut state: StateFile) -> StateFile {
    state.integration_keys.clear();
    state.hostname = None;
    state
}

fn classic(path: Option<&Path>) -> Result<Destination, Error> {
    let (settings, problems) = input::settings(path)?;
    let name = path.map_or_else(
        || "the default settings".to_owned(),
        |p| p.display().to_string(),
    );
    for problem in &problems {
        eprintln!("warning: {name}: {problem}");
    }
    Ok(Destination::Classic(settings))
}

fn actions(
    settings: &str,
    settings_name: &str,
    subscriptions: &str,
    subscriptions_name: &str,
) -> Result<Destination, Error> {
    let config = ActionsConfig::from_json(settings, subscriptions)
        .map_err(|e| Error::Input(format!("{settings_name} / {subscriptions_name}: {e}")))?;
    for d in config.diagnostics() {
        let level = match d.level {
            talon_mapper::Level::Warning => "warning",
            talon_mapper::Level::Note => "note",
        };
        eprintln!("{level}: {subscriptions_name}: {}", d.kind);
    }
    Ok(Destination::Actions(config))
}
