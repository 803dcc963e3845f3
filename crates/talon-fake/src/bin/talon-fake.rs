//! The standalone fake Talon.One server: `talon-fake --addr 127.0.0.1:8080 --state s.json --faults f.json`.
#![allow(clippy::print_stderr, clippy::exit)]

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

/// An in-memory fake of Talon.One's Integration and Management APIs.
#[derive(Debug, Parser)]
#[command(name = "talon-fake", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// JSON state file (default: the built-in default state).
    #[arg(long)]
    state: Option<PathBuf>,
    /// JSON fault plan.
    #[arg(long)]
    faults: Option<PathBuf>,
    /// Most journal entries kept (oldest dropped and counted).
    #[arg(long, default_value_t = talon_fake::DEFAULT_JOURNAL_CAP)]
    journal_cap: usize,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cfg = talon_fake::ServeConfig {
        addr: args.addr,
        state: args.state,
        faults: args.faults,
        journal_cap: args.journal_cap,
        clock: talon_fake::Clock::System,
    };
    if let Err(e) = talon_fake::serve(cfg).await {
        eprintln!("talon-fake: {e}");
        std::process::exit(1);
    }
}
