//! `talon-harness mapping eval|validate`: Segment's mapping language over NDJSON lines, in the
//! line format other tools drive (`segment_mapping::line`): one JSON line out per line in.

use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::{Error, Exit};

/// Arguments of `mapping`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to do with each line.
    #[command(subcommand)]
    pub action: Action,
}

/// `mapping eval` or `mapping validate`.
#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Evaluate each `{"mapping", "payload"[, "fields"]}` line as Segment does: `{"output": …}`,
    /// `{"absent": true}` (JavaScript's undefined), or `{"error": "…"}` with Segment's message.
    /// With `fields` (the action's field definitions) destination-kit's payload pipeline runs on
    /// the result: empty-value removal, Ajv's coercion, removal of undeclared keys, validation.
    Eval(Lines),
    /// Validate each `{"mapping"}` line as Segment's mapping validator does: `{"valid": true}` or
    /// `{"error": "…"}` with Segment's message.
    Validate(Lines),
}

/// Where the lines come from.
#[derive(Debug, clap::Args)]
pub struct Lines {
    /// An NDJSON file, or `-` for standard input.
    #[arg(value_name = "FILE", default_value = "-")]
    pub input: PathBuf,
}

/// Writes one output line per input line (blank lines included: each gets an `input:` error,
/// so line N out always answers line N in). Exit 0 when every line was read, 1 when a line was
/// not an input line (not JSON, not an object, no `mapping`: `{"error": "input: …"}`), 2 when
/// the input cannot be read or holds no lines. A closed standard output ends quietly with 0.
pub fn run(args: &Args) -> Result<Exit, Error> {
    let (lines, each): (&Lines, fn(&str) -> String) = match &args.action {
        Action::Eval(lines) => (lines, segment_mapping::eval_line),
        Action::Validate(lines) => (lines, segment_mapping::validate_line),
    };
    let path = lines.input.as_path();
    let reader = open(path)?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let (mut total, mut unreadable) = (0u64, Vec::new());
    for (n, line) in reader.lines().enumerate() {
        let line = line.map_err(|source| Error::Io {
            path: name(path),
            source,
        })?;
        let answer = each(line.strip_suffix('\r').unwrap_or(&line));
        total += 1;
        if answer.starts_with(r#"{"error":"input: "#) {
            unreadable.push(format!("{}:{}: {answer}", name(path), n + 1));
        }
        if let Err(e) = writeln!(out, "{answer}") {
            return closed(e);
        }
    }
    if let Err(e) = out.flush() {
        return closed(e);
    }
    if total == 0 {
        return Err(Error::Input(format!(
            "{}: no lines: the input is empty",
            name(path)
        )));
    }
    for line in unreadable.iter().take(10) {
        eprintln!("unreadable: {line}");
    }
    eprintln!(
        "{total} lines: {} answered, {} not input lines",
        total - unreadable.len() as u64,
        unreadable.len()
    );
    Ok(if unreadable.is_empty() {
        Exit::Success
    } else {
        Exit::Findings
    })
}

fn open(path: &Path) -> Result<Box<dyn BufRead>, Error> {
    if path == Path::new("-") {
        return Ok(Box::new(std::io::stdin().lock()));
    }
    let file = std::fs::File::open(path).map_err(|source| Error::Io {
        path: name(path),
        source,
    })?;
    Ok(Box::new(std::io::BufReader::new(file)))
}

fn name(path: &Path) -> String {
    if path == Path::new("-") {
        "-".to_owned()
    } else {
        path.display().to_string()
    }
}

/// A closed standard output (`mapping eval | head`) ends the command quietly.
fn closed(e: std::io::Error) -> Result<Exit, Error> {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Ok(Exit::Success)
    } else {
        Err(Error::Io {
            path: "-".into(),
            source: e,
        })
    }
}
