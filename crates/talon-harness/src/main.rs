//! `talon-harness`: the command line of the Segment → Talon.One contract-test harness.
//!
//! Exit codes are part of the interface: 0 success, 1 findings (see each
//! command), 2 usage or input errors.

// This binary is the one place that prints, exits and touches files.
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::exit)]

mod input;
mod map;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
    Map(map::Args),
}

/// How a command ended, as the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// 0: the command did its job and found nothing to report.
    Success = 0,
    /// 1: the command ran and found something (a rejection, a mismatch).
    Findings = 1,
    /// 2: the command could not run (bad usage, unreadable input).
    Usage = 2,
}

/// An error that stops a command before it can report results.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// A file or stream could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path involved (`-` for standard input or output).
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The destination settings are invalid.
    #[error("{path}: {source}")]
    Settings {
        /// The settings file.
        path: String,
        /// Every problem found.
        source: talon_mapper::SettingsErrors,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Map(args) => map::run(&args),
    };
    match result {
        Ok(exit) => ExitCode::from(exit as u8),
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(Exit::Usage as u8)
        }
    }
}
