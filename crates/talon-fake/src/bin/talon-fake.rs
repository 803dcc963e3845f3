//! The standalone fake Talon.One server: `talon-fake --addr 127.0.0.1:8080 --state s.json --faults f.json`.
#![allow(clippy::print_stderr, clippy::exit)]

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

/// An in-memory fake of Talon.One's Integration and Management APIs.
#[derive(Debug, Parser)]
#[command(name = "talon-fake", version)]
struct Args {
    /// Address to listen on (port 0: any free port, printed at startup).
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
    /// Seconds in-flight requests get to finish after Ctrl-C or SIGTERM; a second Ctrl-C stops at once.
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = secs)]
    shutdown_timeout: Duration,
    /// Seconds a request's headers may take from their first byte (the connection is closed beyond).
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = secs)]
    header_timeout: Duration,
    /// Seconds a connection may wait, sending nothing, for its next request (after the accept or its last response).
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = secs)]
    idle_timeout: Duration,
    /// Seconds a request may take to send its body after its headers (408 beyond).
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = secs)]
    body_timeout: Duration,
    /// Token /__admin/* requires, sent as `Authorization: Bearer <token>`.
    #[arg(long, value_name = "TOKEN")]
    admin_token: Option<String>,
    /// Serve /__admin/* without a token on a non-loopback --addr.
    #[arg(long)]
    insecure_admin: bool,
}

fn secs(s: &str) -> Result<Duration, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("expected seconds (e.g. 5 or 0.5), got {s:?}"))?;
    Duration::try_from_secs_f64(v).map_err(|_| format!("expected seconds >= 0, got {s:?}"))
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let color = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_ansi(color)
        .with_writer(std::io::stderr)
        .init();
    let cfg = talon_fake::ServeConfig {
        addr: args.addr,
        state: args.state,
        faults: args.faults,
        journal_cap: args.journal_cap,
        clock: talon_fake::Clock::System,
        header_timeout: args.header_timeout,
        idle_timeout: args.idle_timeout,
        body_timeout: args.body_timeout,
        shutdown_timeout: args.shutdown_timeout,
        admin_token: args.admin_token,
        insecure_admin: args.insecure_admin,
    };
    let (fake, listener) = match talon_fake::prepare(&cfg).await {
        Ok(x) => x,
        Err(e) => {
            eprintln!("talon-fake: {e}");
            std::process::exit(2);
        }
    };
    let addr = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("talon-fake: {e}");
            std::process::exit(1);
        }
    };
    // Before the address is printed: a signal sent the moment it appears must stop us gracefully.
    let signals = talon_fake::StopSignals::install();
    for line in talon_fake::banner(addr, cfg.admin_token.is_some()) {
        eprintln!("{line}");
    }
    match talon_fake::serve_on_signals(listener, fake, cfg.shutdown_timeout, signals).await {
        Ok(stopped) => eprintln!("{stopped}"),
        Err(e) => {
            eprintln!("talon-fake: {e}");
            std::process::exit(1);
        }
    }
}
