//! `talon-harness`: the command line of the Segment → Talon.One contract-test harness.
//!
//! Exit codes are part of the interface: 0 success, 1 findings (see each
//! command), 2 usage or input errors.

// This binary is the one place that prints, exits and touches files.
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::exit)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc: JSON values are many small allocations (mapping-kit's values above all: the
/// `mapping eval` pipeline runs about 1.3x faster than on glibc's malloc, measured by
/// `cargo bench -p segment-mapping --bench pipeline`, which uses it too).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use talon_harness::{Exit, cmd};

/// Contract tests and simulations for the Segment → Talon.One destination.
#[derive(Debug, Parser)]
#[command(
    name = "talon-harness",
    version,
    about,
    long_about = None,
    after_help = "Exit codes: 0 success; 1 findings (a failed verification or check, a repro mismatch, a rejection with --fail-on-reject, a warning with map --fail-on-warning, a regression with diff); 2 usage or input errors."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Map Segment events to the Talon.One requests the destination sends (no network).
    Map(cmd::map::Args),
    /// Generate a seeded scenario, map it, deliver it to an embedded fake Talon.One, and verify the result.
    Simulate(cmd::simulate::Args),
    /// Replay a customer's events against the embedded fake or a Talon.One deployment.
    Replay(cmd::replay::Args),
    /// Run a bug-report bundle, explain each event, and compare with its expected.json.
    Repro(cmd::repro::Args),
    /// Find what Talon.One would reject before any traffic: settings against a deployment.
    Check(cmd::check::Args),
    /// Compare two configurations over the same events: what a change does, event by event, before it ships.
    Diff(cmd::diff::Args),
    /// Read a deployment's applications, attribute catalog and audiences into a state file.
    Pull(cmd::pull::Args),
    /// Serve the fake Talon.One on a socket until Ctrl-C.
    Serve(cmd::serve::Args),
    /// Generate seeded Segment traffic as NDJSON, with its ledger.
    Gen(cmd::generate::GenArgs),
    /// Evaluate or validate Segment mappings (mapping-kit) over NDJSON lines, as Segment does.
    Mapping(cmd::mapping::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Map(args) => cmd::map::run(&args),
        Command::Simulate(args) => cmd::simulate::run(&args),
        Command::Replay(args) => cmd::replay::run(&args),
        Command::Repro(args) => cmd::repro::run(&args),
        Command::Check(args) => cmd::check::run(&args),
        Command::Diff(args) => cmd::diff::run(&args),
        Command::Pull(args) => cmd::pull::run(&args),
        Command::Serve(args) => cmd::serve::run(&args),
        Command::Gen(args) => cmd::generate::run(&args),
        Command::Mapping(args) => cmd::mapping::run(&args),
    };
    match result {
        Ok(exit) => ExitCode::from(exit as u8),
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(Exit::Usage as u8)
        }
    }
}
