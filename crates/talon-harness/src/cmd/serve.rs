//! `talon-harness serve`: the fake Talon.One as a standalone server, until Ctrl-C or SIGTERM.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use talon_fake::{Clock, ServeConfig};

use crate::{Error, Exit};

/// Arguments of `serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on (port 0: any free port, printed at startup).
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
    /// Seconds in-flight requests get to finish after Ctrl-C or SIGTERM; then open connections are closed. A second Ctrl-C stops at once.
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = secs)]
    pub shutdown_timeout: Duration,
    /// Seconds a request's headers may take from their first byte (the connection is closed beyond).
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = secs)]
    pub header_timeout: Duration,
    /// Seconds a connection may wait, sending nothing, for its next request (after the accept or its last response).
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = secs)]
    pub idle_timeout: Duration,
    /// Seconds a request may take to send its body after its headers (408 beyond).
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = secs)]
    pub body_timeout: Duration,
    /// Token that /__admin/* requires, sent as `Authorization: Bearer <TOKEN>`. Required with a non-loopback --addr unless --insecure-admin.
    #[arg(long, value_name = "TOKEN")]
    pub admin_token: Option<String>,
    /// Serve /__admin/* (every API key, the whole state, reset) without a token on a non-loopback --addr.
    #[arg(long)]
    pub insecure_admin: bool,
    /// Requests per second one Segment key may send through the relay (/segment/…), across its endpoints: Talon.One's documented 60; beyond it 429 `relay.rate_limit`. `off` turns the limit off; 0 refuses every authenticated relay request.
    #[arg(long, value_name = "N|off", default_value = "60", value_parser = relay_rate_limit)]
    pub relay_rate_limit: RelayRateLimit,
}

/// `--relay-rate-limit`: a number of requests per second, or `None` for `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayRateLimit(pub Option<u32>);

pub(crate) fn relay_rate_limit(s: &str) -> Result<RelayRateLimit, String> {
    if s.eq_ignore_ascii_case("off") {
        return Ok(RelayRateLimit(None));
    }
    s.parse::<u32>()
        .map(|n| RelayRateLimit(Some(n)))
        .map_err(|_| format!("expected requests per second (e.g. 60) or off, got {s:?}"))
}

fn secs(s: &str) -> Result<Duration, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("expected seconds (e.g. 5 or 0.5), got {s:?}"))?;
    Duration::try_from_secs_f64(v).map_err(|_| format!("expected seconds >= 0, got {s:?}"))
}

/// Whether log lines may carry ANSI colour: stderr is a terminal and `NO_COLOR` is unset or empty.
fn colour() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Serves until Ctrl-C or SIGTERM. Logs go to stderr (`RUST_LOG` filters them; `debug` logs
/// every request).
pub fn run(args: &Args) -> Result<Exit, Error> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour())
        .with_writer(std::io::stderr)
        .try_init();
    let config = ServeConfig {
        addr: args.addr,
        state: args.state.clone(),
        faults: args.faults.clone(),
        journal_cap: args.journal_cap,
        clock: Clock::System,
        header_timeout: args.header_timeout,
        idle_timeout: args.idle_timeout,
        body_timeout: args.body_timeout,
        shutdown_timeout: args.shutdown_timeout,
        admin_token: args.admin_token.clone(),
        insecure_admin: args.insecure_admin,
        relay_rate_limit: args.relay_rate_limit.0,
    };
    crate::runtime()?.block_on(async {
        let (fake, listener) = talon_fake::prepare(&config)
            .await
            .map_err(|e| Error::Input(e.to_string()))?;
        let addr = listener.local_addr().map_err(|source| Error::Io {
            path: args.addr.to_string(),
            source,
        })?;
        // Before the address is printed: a signal sent the moment it appears must stop us gracefully.
        let signals = talon_fake::StopSignals::install();
        for line in talon_fake::banner(addr, config.admin_token.is_some()) {
            eprintln!("{line}");
        }
        let stopped =
            talon_fake::serve_on_signals(listener, fake, config.shutdown_timeout, signals)
                .await
                .map_err(|e| Error::Input(e.to_string()))?;
        eprintln!("{stopped}");
        Ok(Exit::Success)
    })
}
