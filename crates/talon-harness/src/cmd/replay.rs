//! `talon-harness replay`: a customer's events, against the embedded fake or a real deployment.

use std::io::Write;
use std::path::{Path, PathBuf};

use talon_fake::{Fake, FakeConfig, MockServer, StateFile};

use crate::deliver::{self, DeliveryConfig};
use crate::input::{self, EventLine};
use crate::output::{Check, ReportArgs, RunReport};
use crate::report::{EventReport, Summary};
use crate::{Error, Exit};

/// Arguments of `replay`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Destination settings JSON ({"apiKey", "applicationDomain", "customAttributes"}) [default: fixtures/settings/default.json, embedded].
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,
    /// Events: an NDJSON file, a `.json` file with one event, a folder of those, or `-` for stdin.
    #[arg(long, value_name = "PATH")]
    pub events: PathBuf,
    /// Start the embedded fake from this state file [default: the built-in demo deployment].
    #[arg(long, value_name = "FILE", conflicts_with = "target")]
    pub talon_state: Option<PathBuf>,
    /// Send to this Talon.One deployment (or a `talon-harness serve`) instead of the embedded fake.
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
    /// Write each event's outcome as NDJSON to this file (`-` for stdout).
    #[arg(long, value_name = "FILE")]
    pub outcomes: Option<PathBuf>,
    /// Write the final state to this file (from the embedded fake, or a target's `/__admin/state`).
    #[arg(long, value_name = "FILE")]
    pub dump_state: Option<PathBuf>,
    /// Profiles delivered to at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Attempts per request, the first included.
    #[arg(long, default_value_t = 6)]
    pub max_attempts: u32,
    /// Exit 1 when Talon.One rejected any event.
    #[arg(long)]
    pub fail_on_reject: bool,
    /// `--report` and `--junit`.
    #[command(flatten)]
    pub output: ReportArgs,
}

/// The result of running events against a target.
#[derive(Debug)]
pub struct Run {
    /// One report per event, in input order.
    pub reports: Vec<EventReport>,
    /// The totals.
    pub summary: Summary,
    /// The final state, when the target can give it.
    pub state: Option<StateFile>,
}

/// Where events go.
#[derive(Debug, Clone)]
pub enum Target {
    /// A fake started in this process from this state, on a real socket.
    Embedded(StateFile),
    /// A URL.
    Remote(String),
}

/// Maps and delivers `events` to `target`, through a real socket.
pub async fn run_events(
    settings: &talon_mapper::Settings,
    events: Vec<EventLine>,
    target: Target,
    configure: impl FnOnce(&mut DeliveryConfig),
) -> Result<Run, Error> {
    let (uri, server) = match target {
        Target::Embedded(state) => {
            let fake = Fake::new(state, FakeConfig::default())
                .map_err(|e| Error::Input(format!("Talon.One state: {e}")))?;
            let server = MockServer::start(fake).await.map_err(|source| Error::Io {
                path: "127.0.0.1:0".into(),
                source,
            })?;
            (server.uri(), Some(server))
        }
        Target::Remote(url) => (url, None),
    };
    let mut config = DeliveryConfig::new(uri.clone());
    configure(&mut config);
    let client = deliver::client(&config);
    let mut reports = Vec::with_capacity(events.len());
    let progress = super::simulate::progress_bar();
    let lines = events.into_iter().map(|e| (e.source, e.bytes));
    let summary = deliver::run(lines, settings, &client, &config, |r| {
        progress.inc(1);
        reports.push(r);
    })
    .await;
    progress.finish_and_clear();
    let state = match server {
        Some(server) => {
            let state = server.fake().state_dump();
            server.shutdown().await;
            Some(state)
        }
        None => None,
    };
    Ok(Run {
        reports,
        summary,
        state,
    })
}

/// Replays the events; exit 0, or 1 on a rejection with `--fail-on-reject`.
pub fn run(args: &Args) -> Result<Exit, Error> {
    let (settings, problems) = input::settings(args.settings.as_deref())?;
    for problem in &problems {
        eprintln!("warning: settings: {problem}");
    }
    let events = input::events(&args.events)?;
    let target = match (&args.target, &args.talon_state) {
        (Some(url), _) => Target::Remote(url.trim_end_matches('/').to_owned()),
        (None, Some(path)) => Target::Embedded(input::state(path)?),
        (None, None) => Target::Embedded(StateFile::default_state()),
    };
    let runtime = crate::runtime()?;
    let remote = args.target.clone();
    let run = runtime.block_on(run_events(&settings, events, target, |config| {
        config.concurrency = args.concurrency.max(1);
        config.max_attempts = args.max_attempts.max(1);
    }))?;
    if let Some(path) = &args.outcomes {
        write_outcomes(path, &run.reports)?;
    }
    if let Some(path) = &args.dump_state {
        let state = match (&run.state, &remote) {
            (Some(state), _) => state.to_json_pretty(),
            (None, Some(url)) => runtime.block_on(fetch_state(url))?,
            (None, None) => unreachable!("an embedded run always has a state"),
        };
        input::write(path, state.as_bytes())?;
    }
    let mut report = RunReport::new("replay");
    report.checks.push(Check::from_details(
        "every event has exactly one outcome",
        if run.summary.adds_up() {
            Vec::new()
        } else {
            vec![format!("{:?}", run.summary)]
        },
    ));
    if args.fail_on_reject {
        report.checks.push(Check::from_details(
            "Talon.One rejected no event",
            run.reports
                .iter()
                .filter(|r| r.outcome.kind() == "rejected")
                .map(|r| format!("{}: {}", r.source, r.explain().join("; ")))
                .collect(),
        ));
    }
    report.summary = Some(run.summary);
    args.output.finish(&report)
}

/// Writes one NDJSON line per report to `path` (`-`: stdout).
pub fn write_outcomes(path: &Path, reports: &[EventReport]) -> Result<(), Error> {
    let mut text = String::new();
    for report in reports {
        text.push_str(&report.to_json().to_string());
        text.push('\n');
    }
    if path == Path::new("-") {
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush())
            .map_err(|source| Error::Io {
                path: "-".into(),
                source,
            })
    } else {
        input::write(path, text.as_bytes())
    }
}

async fn fetch_state(url: &str) -> Result<String, Error> {
    let address = format!("{url}{}/state", talon_fake::ADMIN_PREFIX);
    let fail = |e: &dyn std::fmt::Display| {
        Error::Input(format!(
            "cannot read the state from {address} (only a talon-harness serve has it): {e}"
        ))
    };
    let response = reqwest::get(&address).await.map_err(|e| fail(&e))?;
    if !response.status().is_success() {
        return Err(fail(&response.status()));
    }
    response.text().await.map_err(|e| fail(&e))
}
