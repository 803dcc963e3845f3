//! `talon-harness map`: events in, the requests the destination would send out.

use std::io::Write;
use std::path::PathBuf;

use talon_mapper::{Level, map_json};

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
    /// collision, an unsendable value…): a gate for CI.
    #[arg(long)]
    fail_on_warning: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    Text,
    Ndjson,
}

/// Maps every event and prints one result per event. Exit 0, or 1 with
/// `--fail-on-warning` when any event got a warning.
pub fn run(args: &Args) -> Result<Exit, Error> {
    let (settings, problems) = input::settings(args.settings.as_deref())?;
    for problem in &problems {
        eprintln!("warning: settings: {problem}");
    }
    let path = args
        .events
        .clone()
        .unwrap_or_else(|| PathBuf::from(input::DEFAULT_EVENTS));
    let events = input::events(&path)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let (mut sent, mut skipped, mut warned) = (0usize, 0usize, 0usize);
    for event in &events {
        let mapped = map_json(&event.bytes, &settings);
        if mapped.diagnostics.iter().any(|d| d.level == Level::Warning) {
            warned += 1;
        }
        if mapped.request().is_some() {
            sent += 1;
        } else {
            skipped += 1;
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
        written.map_err(|source| Error::Io {
            path: "-".into(),
            source,
        })?;
    }
    out.flush().map_err(|source| Error::Io {
        path: "-".into(),
        source,
    })?;
    eprintln!(
        "{} events: {sent} mapped to requests, {skipped} skipped, {warned} with warnings",
        events.len()
    );
    Ok(if args.fail_on_warning && warned > 0 {
        Exit::Findings
    } else {
        Exit::Success
    })
}
