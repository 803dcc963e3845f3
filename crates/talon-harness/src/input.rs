//! Reading destination settings and Segment events from files, folders or stdin.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use talon_mapper::{Settings, SettingsError};

use crate::Error;

/// The settings the harness uses when none are given: `fixtures/settings/default.json`.
pub const DEFAULT_SETTINGS: &str = include_str!("../../../fixtures/settings/default.json");

/// The fixture events `map` reads when none are given.
pub const DEFAULT_EVENTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/segment");

/// Reads settings leniently (as Segment stores them); returns the settings
/// and the non-fatal problems with them.
pub fn settings(path: Option<&Path>) -> Result<(Settings, Vec<SettingsError>), Error> {
    let (name, text) = match path {
        None => (
            "<embedded default settings>".to_owned(),
            DEFAULT_SETTINGS.to_owned(),
        ),
        Some(path) => (path.display().to_string(), read_to_string(path)?),
    };
    Settings::parse_lenient(&text).map_err(|source| Error::Settings { path: name, source })
}

/// Reads a whole file.
pub fn read_to_string(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })
}

/// One input event: where it came from and its bytes.
#[derive(Debug)]
pub struct EventLine {
    /// `file:line` (or `-:line` for stdin, `file` for a one-event `.json` file).
    pub source: String,
    /// The raw bytes of the event.
    pub bytes: Vec<u8>,
}

/// Reads events from `-` (NDJSON on stdin), an NDJSON file, a `.json` file
/// holding one event, or a folder of such files (in name order). Blank
/// lines are not events and are skipped; every other line is one event.
pub fn events(path: &Path) -> Result<Vec<EventLine>, Error> {
    let mut out = Vec::new();
    if path == Path::new("-") {
        let stdin = std::io::stdin();
        read_ndjson("-", stdin.lock(), &mut out)?;
    } else if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|source| Error::Io {
                path: path.display().to_string(),
                source,
            })?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json" || e == "ndjson"))
            .collect();
        files.sort();
        for file in files {
            read_file(&file, &mut out)?;
        }
    } else {
        read_file(path, &mut out)?;
    }
    Ok(out)
}

fn read_file(path: &Path, out: &mut Vec<EventLine>) -> Result<(), Error> {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let file = std::fs::File::open(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })?;
    if path.extension().is_some_and(|e| e == "json") {
        // One event per file, possibly pretty-printed.
        let mut bytes = Vec::new();
        BufReader::new(file)
            .read_to_end(&mut bytes)
            .map_err(|source| Error::Io {
                path: path.display().to_string(),
                source,
            })?;
        out.push(EventLine {
            source: name,
            bytes,
        });
        return Ok(());
    }
    read_ndjson(&name, BufReader::new(file), out)
}

fn read_ndjson(
    name: &str,
    mut reader: impl BufRead,
    out: &mut Vec<EventLine>,
) -> Result<(), Error> {
    let mut line = Vec::new();
    let mut number = 0usize;
    loop {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .map_err(|source| Error::Io {
                path: name.to_owned(),
                source,
            })?;
        if read == 0 {
            return Ok(());
        }
        number += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        out.push(EventLine {
            source: format!("{name}:{number}"),
            bytes: line.clone(),
        });
    }
}

/// Creates `path` for buffered writing, when given.
pub fn create_optional(
    path: Option<&Path>,
) -> Result<Option<std::io::BufWriter<std::fs::File>>, Error> {
    path.map(|path| {
        std::fs::File::create(path)
            .map(std::io::BufWriter::new)
            .map_err(|source| Error::Io {
                path: path.display().to_string(),
                source,
            })
    })
    .transpose()
}

/// Writes a whole file.
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    std::fs::write(path, bytes).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })
}

/// Reads a Talon.One state file (talon-fake's format).
pub fn state(path: &Path) -> Result<talon_fake::StateFile, Error> {
    talon_fake::StateFile::from_json(&read_to_string(path)?)
        .map_err(|e| Error::Input(format!("{}: {e}", path.display())))
}

/// The scenario the flags describe: the `--scenario` file (if any) with the
/// flags applied, validated.
pub fn scenario(args: &segment_gen::cli::ScenarioArgs) -> Result<segment_gen::Scenario, Error> {
    let base = match &args.scenario {
        Some(path) => Some(
            serde_json::from_str::<segment_gen::Scenario>(&read_to_string(path)?)
                .map_err(|e| Error::Input(format!("{}: {e}", path.display())))?,
        ),
        None => None,
    };
    let scenario = args.to_scenario(base);
    scenario
        .validate()
        .map_err(|e| Error::Input(format!("invalid scenario: {e:?}")))?;
    Ok(scenario)
}
