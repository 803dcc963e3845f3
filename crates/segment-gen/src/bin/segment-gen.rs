//! The `segment-gen` binary: seeded Segment traffic as NDJSON on stdout or in a file, plus the ledger.
//!
//! Exit codes: 0 success, 1 an IO or scenario error, 2 a usage error (clap).
// This binary is the crate's one place that touches the outside world: it
// opens the output and ledger files, reads a scenario file, writes to
// stdout and reports errors on stderr. The library stays pure.
#![allow(clippy::disallowed_methods, clippy::print_stderr)]

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use clap::Parser;
use segment_gen::cli::GenArgs;
use segment_gen::{Generator, Scenario};

/// Generate seeded Segment traffic for the Talon.One destination.
#[derive(Debug, Parser)]
#[command(name = "segment-gen", version)]
struct Cli {
    #[command(flatten)]
    args: GenArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli.args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("segment-gen: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &GenArgs) -> Result<(), Box<dyn std::error::Error>> {
    let base = match &args.spec.scenario {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("reading {}: {e}", path.display()))?;
            Some(
                serde_json::from_str::<Scenario>(&text)
                    .map_err(|e| format!("parsing {}: {e}", path.display()))?,
            )
        }
        None => None,
    };
    let mut generator = Generator::new(args.to_scenario(base), args.spec.seed)?;
    match &args.out {
        Some(path) => {
            let file =
                File::create(path).map_err(|e| format!("creating {}: {e}", path.display()))?;
            generator.write_ndjson(&mut BufWriter::with_capacity(1 << 16, file))?;
        }
        None => {
            let stdout = io::stdout();
            let mut lock = stdout.lock();
            match generator.write_ndjson(&mut lock) {
                // A closed pipe (`| head`) is a normal way to stop.
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
                other => other?,
            };
        }
    }
    if let Some(path) = &args.ledger {
        let file = File::create(path).map_err(|e| format!("creating {}: {e}", path.display()))?;
        let mut writer = BufWriter::new(file);
        generator.write_ledger(&mut writer)?;
        writer.write_all(b"\n")?;
        writer.flush()?;
    }
    Ok(())
}
