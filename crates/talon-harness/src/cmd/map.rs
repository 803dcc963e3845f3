//! `talon-harness map`: events in, the requests the destination would send out.

use std::io::Write;
use std::path::PathBuf;

use talon_mapper::{Destination, Level, map};

use crate::report::UNREADABLE;

use crate::{Error, Exit, input};

/// Arguments of `map`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Events: an NDJSON file, a `.json` file with one event, a folder of
    /// those, or `-` for NDJSON on standard input [default: the fixtures in
    /// fixtures/segment]
    #[arg(long, value_name = "PATH")]
    events: Option<PathBuf>,
    /// Destination settings JSON ({"apiKey", "applicationDomain",
    /// "customAttributes"}) [default: fixtures/settings/default.json, embedded]
    #[arg(long, value_name = "FILE")]
    settings: Option<PathBuf>,
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

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    Text,
    Ndjson,
}

/// Maps every event and prints one result per event. Exit 0, or 1 with
/// `--fail-on-warning` when any event got a warning or could not be read.
/// A closed standard output (`map | head`) ends the command quietly with 0.
pub fn run(args: &Args) -> Result<Exit, Error> {
    let (settings, problems) = input::settings(args.settings.as_deref())?;
    for problem in &problems {
        eprintln!("warning: settings: {problem}");
    }
    let destination = Destination::Classic(settings);
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
