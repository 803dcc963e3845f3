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
/// lines are not events and are skipped; every other line is one event,
/// readable or not (the mapper reports an unreadable one).
///
/// A source with no events at all is an input error: a gate that was
/// given nothing to check must not pass.
pub fn events(path: &Path) -> Result<Vec<EventLine>, Error> {
    let mut reader = EventReader::open(path)?;
    let events: Vec<EventLine> = reader.by_ref().collect();
    reader.finish()?;
    Ok(events)
}

/// Events read lazily, one line at a time, so a large file is never held
/// in memory: an iterator of [`EventLine`]s. A read error ends the
/// iteration; [`EventReader::finish`] returns it.
pub struct EventReader {
    /// The files still to read, in order (empty for stdin).
    files: std::vec::IntoIter<PathBuf>,
    /// The stream being read, and its display name.
    current: Option<(String, Lines)>,
    /// A `.json` file read whole, waiting to be handed out.
    pending: Option<EventLine>,
    /// The first read error.
    error: Option<Error>,
    /// Events handed out so far.
    count: u64,
}

impl std::fmt::Debug for EventReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventReader")
            .field("count", &self.count)
            .finish_non_exhaustive()
    }
}

/// An NDJSON stream and the number of the last line read.
struct Lines {
    reader: Box<dyn BufRead>,
    number: usize,
}

impl EventReader {
    /// Opens `path` (see [`events`]) and reads ahead to its first event:
    /// a missing path, an unreadable file, or a source with no events is
    /// an error here, before anything is sent.
    pub fn open(path: &Path) -> Result<Self, Error> {
        let (files, current) = if path == Path::new("-") {
            let stdin: Box<dyn BufRead> = Box::new(std::io::stdin().lock());
            (
                Vec::new(),
                Some((
                    "-".to_owned(),
                    Lines {
                        reader: stdin,
                        number: 0,
                    },
                )),
            )
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
            if files.is_empty() {
                return Err(Error::Input(format!(
                    "{}: no events: the folder holds no .json or .ndjson files",
                    path.display()
                )));
            }
            (files, None)
        } else {
            (vec![path.to_owned()], None)
        };
        let mut reader = Self {
            files: files.into_iter(),
            current,
            pending: None,
            error: None,
            count: 0,
        };
        match reader.read_next() {
            Some(first) => {
                reader.pending = Some(first);
                Ok(reader)
            }
            None => Err(reader.error.take().unwrap_or_else(|| {
                Error::Input(format!(
                    "{}: no events: the input is empty or holds only blank lines",
                    display(path)
                ))
            })),
        }
    }

    /// Events handed out so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Ends the reading: the read error that stopped it, if any.
    pub fn finish(self) -> Result<u64, Error> {
        match self.error {
            Some(error) => Err(error),
            None => Ok(self.count),
        }
    }

    fn read_next(&mut self) -> Option<EventLine> {
        loop {
            if self.error.is_some() {
                return None;
            }
            if let Some((name, lines)) = &mut self.current {
                match next_line(name, lines) {
                    Ok(Some(line)) => return Some(line),
                    Ok(None) => self.current = None,
                    Err(error) => {
                        self.error = Some(error);
                        return None;
                    }
                }
            }
            let file = self.files.next()?;
            match open_file(&file) {
                Ok(Opened::Whole(line)) => return Some(line),
                Ok(Opened::Stream(name, lines)) => self.current = Some((name, lines)),
                Err(error) => self.error = Some(error),
            }
        }
    }
}

impl Iterator for EventReader {
    type Item = EventLine;

    fn next(&mut self) -> Option<EventLine> {
        let line = self.pending.take().or_else(|| self.read_next())?;
        self.count += 1;
        Some(line)
    }
}

fn display(path: &Path) -> String {
    if path == Path::new("-") {
        "standard input".to_owned()
    } else {
        path.display().to_string()
    }
}

enum Opened {
    /// A `.json` file: one event, possibly pretty-printed.
    Whole(EventLine),
    /// An NDJSON file.
    Stream(String, Lines),
}

fn open_file(path: &Path) -> Result<Opened, Error> {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let io = |source| Error::Io {
        path: path.display().to_string(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    if path.extension().is_some_and(|e| e == "json") {
        let mut bytes = Vec::new();
        BufReader::new(file).read_to_end(&mut bytes).map_err(io)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(Error::Input(format!(
                "{}: the file is empty: a .json file holds one event",
                path.display()
            )));
        }
        return Ok(Opened::Whole(EventLine {
            source: name,
            bytes,
        }));
    }
    Ok(Opened::Stream(
        name,
        Lines {
            reader: Box::new(BufReader::with_capacity(1 << 16, file)),
            number: 0,
        },
    ))
}

fn next_line(name: &str, lines: &mut Lines) -> Result<Option<EventLine>, Error> {
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = lines
            .reader
            .read_until(b'\n', &mut line)
            .map_err(|source| Error::Io {
                path: format!("{name}:{}", lines.number + 1),
                source,
            })?;
        if read == 0 {
            return Ok(None);
        }
        lines.number += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        return Ok(Some(EventLine {
            source: format!("{name}:{}", lines.number),
            bytes: line,
        }));
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
pub fn scenario(args: &crate::cmd::generate::ScenarioArgs) -> Result<segment_gen::Scenario, Error> {
    let base = match &args.scenario {
        Some(path) => Some(
            serde_json::from_str::<segment_gen::Scenario>(&read_to_string(path)?)
                .map_err(|e| Error::Input(format!("{}: {e}", path.display())))?,
        ),
        None => None,
    };
    let scenario = args.to_scenario(base);
    scenario.validate().map_err(|e| {
        Error::Input(match &args.scenario {
            Some(path) => format!("{}: invalid scenario: {e}", path.display()),
            None => format!("invalid scenario: {e}"),
        })
    })?;
    Ok(scenario)
}
