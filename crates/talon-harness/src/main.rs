//! `talon-harness`: the command line of the Segment → Talon.One contract-test harness.
//!
//! Exit codes are part of the interface: 0 success, 1 findings (see each
//! command), 2 usage or input errors.

// This binary is the one place that prints, exits and touches files.
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::exit)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use talon_harness::{Exit, cmd};

/// Contract tests and simulations for the Segment → Talon.One destination.
#[derive(Debug, Parser)]
#[command(name = "talon-harness", version, about, long_about = None)]
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Map(args) => cmd::map::run(&args),
        Command::Simulate(args) => cmd::simulate::run(&args),
    };
    match result {
        Ok(exit) => ExitCode::from(exit as u8),
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(Exit::Usage as u8)
        }
    }
}
