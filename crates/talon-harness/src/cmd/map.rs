//! `talon-harness map`: events in, the requests the destination would send out, for either
//! destination: classic (settings) or Talon.One (Actions) (settings and subscriptions).

use std::io::Write;
use std::path::{Path, PathBuf};

use talon_mapper::actions::ActionsConfig;
use talon_mapper::{Destination, Kind, Level, Mapped, map};

use crate::report::UNREADABLE;

use crate::{DestinationKind, Error, Exit, input};

/// Arguments of `map`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Events: an NDJSON file, a `.json` file with one event, a folder of
    /// those, or `-` for NDJSON on standard input [default: the fixtures in
    /// fixtures/segment]
    #[arg(long, value_name = "PATH")]
    events: Option<PathBuf>,
    /// Destination settings JSON: classic `{"apiKey", "applicationDomain", "customAttributes"}`,
    /// or Actions `{"apiKey", "deployment"}` [default: fixtures/settings/default.json, or
    /// fixtures/actions/settings.json for Actions; embedded]
    #[arg(long, value_name = "FILE")]
    settings: Option<PathBuf>,
    /// Which destination: `classic` or `actions` [default: inferred: `actions` when
    /// --subscriptions is given or the settings name a `deployment`, else `classic`]
    #[arg(long, value_enum)]
    destination: Option<DestinationKind>,
    /// The Actions destination's subscriptions, as Segment's Public API lists them
    /// (`{"subscriptions": [...]}` or a bare array) [default: fixtures/actions/subscriptions.json, embedded]
    #[arg(long, value_name = "FILE")]
    subscriptions: Option<PathBuf>,
    /// Output format: `text` for people, `ndjson` for machines (one object per event).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Show the API key in output instead of redacting it.
    #[arg(long)]
    reveal_key: bool,
    /// Exit with code 1 when any event gets a warning (a case mismatch, a
    /// collision, an unsendable value…) or is not a readable Segment event: a gate for CI.
    #[arg(long)]
    fail_on_warning: bool,
}

/// The embedded default Actions settings and subscriptions.
pub(crate) const DEFAULT_ACTIONS_SETTINGS: &str =
    include_str!("../../../../fixtures/actions/settings.json");
pub(crate) use crate::world::DEFAULT_SUBSCRIPTIONS;

/// The Actions destination's two inputs as text, each with the name errors give it.
#[derive(Debug)]
pub(crate) struct ActionsFiles {
    /// The settings JSON.
    pub(crate) settings: String,
    /// The subscriptions JSON.
    pub(crate) subscriptions: String,
    /// `settings / subscriptions`, as errors name the pair.
    pub(crate) names: String,
    /// Whether the subscriptions are the embedded defaults.
    pub(crate) default_subscriptions: bool,
}

/// Reads the Actions settings (already read: `settings_text`) and subscriptions, the embedded
/// defaults for those not given.
pub(crate) fn actions_files(
    settings: Option<&Path>,
    settings_text: Option<String>,
    subscriptions: Option<&Path>,
) -> Result<ActionsFiles, Error> {
    let name = |path: Option<&Path>, default: &str| {
        path.map_or_else(|| default.to_owned(), |p| p.display().to_string())
    };
    Ok(ActionsFiles {
        settings: settings_text.unwrap_or_else(|| DEFAULT_ACTIONS_SETTINGS.to_owned()),
        subscriptions: match subscriptions {
            Some(path) => input::read_to_string(path)?,
            None => DEFAULT_SUBSCRIPTIONS.to_owned(),
        },
        names: format!(
            "{} / {}",
            name(settings, "fixtures/actions/settings.json"),
            name(subscriptions, "fixtures/actions/subscriptions.json")
        ),
        default_subscriptions: subscriptions.is_none(),
    })
}

/// The refusal of `--subscriptions` with the classic destination.
pub(crate) const SUBSCRIPTIONS_NOT_CLASSIC: &str = "--subscriptions is for the Actions destination; the classic destination has none (drop --destination classic or --subscriptions)";

/// The destination the flags name (see [`Args::destination`]).
fn destination(args: &Args) -> Result<Destination, Error> {
    let settings_text = match &args.settings {
        Some(path) => Some(input::read_to_string(path)?),
        None => None,
    };
    let which = DestinationKind::infer(
        args.destination,
        settings_text.as_deref(),
        args.subscriptions.is_some(),
    );
    if which == DestinationKind::Classic {
        if args.subscriptions.is_some() {
            return Err(Error::Input(SUBSCRIPTIONS_NOT_CLASSIC.into()));
        }
        let (settings, problems) = input::settings(args.settings.as_deref())?;
        for problem in &problems {
            eprintln!("warning: settings: {problem}");
        }
        return Ok(Destination::Classic(settings));
    }
    let files = actions_files(
        args.settings.as_deref(),
        settings_text,
        args.subscriptions.as_deref(),
    )?;
    let config = ActionsConfig::from_json(&files.settings, &files.subscriptions)
        .map_err(|e| Error::Input(format!("{}: {e}", files.names)))?;
    for d in config.diagnostics() {
        let level = match d.level {
            Level::Warning => "warning",
            Level::Note => "note",
        };
        eprintln!("{level}: {}", d.kind);
    }
    Ok(Destination::Actions(config))
}

/// The NDJSON lines of one Actions event: one per request (`"outcome": "request"`), one per
/// subscription that matched but was rejected by Segment's validation (`"rejected"`), and for
/// an event that sends nothing, one `"skip"` line with its reason and message.
fn actions_lines(source: &str, mapped: &Mapped, reveal_key: bool) -> Vec<serde_json::Value> {
    let mut lines = Vec::new();
    for request in &mapped.requests {
        let mut json = request.to_json(reveal_key);
        if let Some(object) = json.as_object_mut() {
            object.remove("integrationId");
            object.insert("outcome".into(), "request".into());
            object.insert("source".into(), source.into());
        }
        lines.push(json);
    }
    for d in &mapped.diagnostics {
        if let Kind::Action {
            subscription,
            code: "rejected",
            message,
        } = &d.kind
        {
            lines.push(serde_json::json!({
                "outcome": "rejected", "source": source, "subscription": subscription, "message": message,
            }));
        }
    }
    if mapped.requests.is_empty()
        && let Some(skip) = &mapped.skip
        && !matches!(skip, talon_mapper::Skip::Rejected { .. })
    {
        lines.push(serde_json::json!({
            "outcome": "skip", "source": source, "reason": skip.code(), "message": skip.to_string(),
        }));
    }
    lines
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    Text,
    Ndjson,
}

/// Maps every event and prints one result per event. Exit 0, or 1 with
/// `--fail-on-warning` when any event got a warning or could not be read.
/// A closed standard output (`map | head`) ends the command quietly with 0.
pub fn run(args: &Args) -> Result<Exit, Error> {
    let destination = destination(args)?;
    let actions = matches!(destination, Destination::Actions(_));
    let path = args
        .events
        .clone()
        .unwrap_or_else(|| PathBuf::from(input::DEFAULT_EVENTS));
    let mut events = input::EventReader::open(&path)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let (mut sent, mut skipped, mut warned) = (0usize, 0usize, 0usize);
    let mut unreadable = Vec::new();
    for event in events.by_ref() {
        let mapped = map(&destination, &event.bytes);
        if mapped.diagnostics.iter().any(|d| d.level == Level::Warning) {
            warned += 1;
        }
        if !mapped.requests.is_empty() {
            sent += 1;
        }
        if let Some(skip) = &mapped.skip {
            skipped += 1;
            if skip.code() == UNREADABLE {
                unreadable.push(format!("{}: {skip}", event.source));
            }
        }
        let written = match args.format {
            Format::Text => writeln!(out, "### {}\n{}", event.source, mapped.render()),
            Format::Ndjson if actions => actions_lines(&event.source, &mapped, args.reveal_key)
                .iter()
                .try_for_each(|line| writeln!(out, "{line}")),
            Format::Ndjson => {
                let mut json = mapped.to_json(args.reveal_key);
                if let Some(object) = json.as_object_mut() {
                    object.insert("source".into(), event.source.clone().into());
                }
                writeln!(out, "{json}")
            }
        };
        match written {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(Exit::Success),
            other => other.map_err(|source| Error::Io {
                path: "-".into(),
                source,
            })?,
        }
    }
    match out.flush() {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(Exit::Success),
        other => other.map_err(|source| Error::Io {
            path: "-".into(),
            source,
        })?,
    }
    let total = events.finish()?;
    for line in &unreadable {
        eprintln!("unreadable: {line}");
    }
    eprintln!(
        "{total} events: {sent} mapped to requests, {skipped} skipped ({} unreadable), {warned} with warnings",
        unreadable.len()
    );
    Ok(
        if args.fail_on_warning && (warned > 0 || !unreadable.is_empty()) {
            Exit::Findings
        } else {
            Exit::Success
        },
    )
}
