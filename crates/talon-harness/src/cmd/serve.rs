//! `talon-harness serve`: the fake Talon.One as a standalone server, until Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;

use talon_fake::{Clock, ServeConfig};

use crate::{Error, Exit};

/// Arguments of `serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// State file to start from [default: the built-in demo deployment, fixtures/talon/default-state.json].
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Fault plan file.
    #[arg(long, value_name = "FILE")]
    pub faults: Option<PathBuf>,
    /// Most requests the journal keeps (older ones are dropped and counted).
    #[arg(long, default_value_t = talon_fake::DEFAULT_JOURNAL_CAP)]
    pub journal_cap: usize,
}

/// Serves until Ctrl-C. Logs go to stderr (`RUST_LOG` filters them).
pub fn run(args: &Args) -> Result<Exit, Error> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    let config = ServeConfig {
        addr: args.addr,
        state: args.state.clone(),
        faults: args.faults.clone(),
        journal_cap: args.journal_cap,
        clock: Clock::System,
    };
    crate::runtime()?
        .block_on(talon_fake::serve(config))
        .map_err(|e| Error::Input(e.to_string()))?;
    Ok(Exit::Success)
}
