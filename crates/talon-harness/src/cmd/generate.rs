//! `talon-harness gen`: seeded Segment traffic as NDJSON, and its ledger.

use std::io::{self, BufWriter, Write};

use segment_gen::Generator;
use segment_gen::cli::GenArgs;

use crate::{Error, Exit, input};

/// Writes the events (stdout or `--out`) and the ledger (`--ledger`). Exit 0.
pub fn run(args: &GenArgs) -> Result<Exit, Error> {
    let scenario = input::scenario(&args.spec)?;
    let mut generator = Generator::new(scenario, args.spec.seed)
        .map_err(|e| Error::Input(format!("invalid scenario: {e}")))?;
    let out_name = args
        .out
        .as_ref()
        .map_or_else(|| "-".to_owned(), |p| p.display().to_string());
    let io_error = |source| Error::Io {
        path: out_name.clone(),
        source,
    };
    match &args.out {
        Some(path) => {
            let mut file = input::create_optional(Some(path))?.expect("a path was given");
            generator.write_ndjson(&mut file).map_err(io_error)?;
            file.flush().map_err(io_error)?;
        }
        None => {
            let stdout = io::stdout();
            let mut lock = BufWriter::with_capacity(1 << 16, stdout.lock());
            match generator.write_ndjson(&mut lock).and_then(|_| lock.flush()) {
                // A closed pipe (`| head`) is a normal way to stop.
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(Exit::Success),
                other => other.map_err(io_error)?,
            }
        }
    }
    if let Some(path) = &args.ledger {
        let mut file = input::create_optional(Some(path))?.expect("a path was given");
        let ledger_error =
            |e: &dyn std::fmt::Display| Error::Input(format!("{}: {e}", path.display()));
        generator
            .write_ledger(&mut file)
            .map_err(|e| ledger_error(&e))?;
        file.write_all(b"\n")
            .and_then(|()| file.flush())
            .map_err(|e| ledger_error(&e))?;
    }
    Ok(Exit::Success)
}
