//! `talon-harness simulate`: the main job — generate, map, deliver to an embedded fake, verify.

use std::path::PathBuf;

use talon_fake::FaultPlan;

use crate::DestinationKind;
use crate::cmd::generate::ScenarioArgs;
use crate::output::ReportArgs;
use crate::simulation::{self, Outcomes, Simulation};
use crate::{Error, Exit};

/// Arguments of `simulate`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The Segment destination: classic, or Talon.One (Actions) with the shipped default
    /// subscriptions through the fake's Segment relay (its scenario then sends what an
    /// Actions source sends: commerce tracks, and Engage audiences as tracks too).
    #[arg(long, value_enum, default_value_t = DestinationKind::Classic)]
    pub destination: DestinationKind,
    /// The scenario and seed (the seed also drives the fault plan and the retry jitter).
    #[command(flatten)]
    pub spec: ScenarioArgs,
    /// Concurrency, retries, `--outcomes`, `--dump-state`, `--fail-on-reject`.
    #[command(flatten)]
    pub delivery: crate::cmd::DeliveryArgs,
    /// Inject faults into this share of profile updates (0.1 = 10%, below 1): 503, 429, 500 and dropped connections.
    #[arg(long, value_name = "SHARE", conflicts_with = "faults", allow_hyphen_values = true, value_parser = crate::cmd::share_below_one)]
    pub fault_rate: Option<f64>,
    /// A fault plan file for the embedded fake (see talon-fake's FaultPlan).
    #[arg(long, value_name = "FILE")]
    pub faults: Option<PathBuf>,
    /// Serve the embedded fake on this loopback address (port 0: any free port) so its
    /// Campaign Manager view can be watched during the run; after the run it keeps serving
    /// until Ctrl-C or SIGTERM, and the exit code is the run's.
    #[arg(long, value_name = "ADDR")]
    pub serve: Option<std::net::SocketAddr>,
    /// Client-side pacing.
    #[command(flatten)]
    pub pace: PaceArgs,
    /// The embedded fake's Segment relay limit, requests per second per key (Talon.One's is
    /// 60; beyond it 429 `relay.rate_limit`), or `off`. Off by default: a simulation measures
    /// the pipeline; `--relay-rate-limit 60 --pace 60` runs it as Talon.One would limit it.
    #[arg(long, value_name = "N|off", default_value = "off", value_parser = crate::cmd::serve::relay_rate_limit)]
    pub relay_rate_limit: crate::cmd::serve::RelayRateLimit,
    /// `--report` and `--junit`.
    #[command(flatten)]
    pub output: ReportArgs,
}

/// `--pace`, for `simulate` and `replay`.
#[derive(Debug, Clone, clap::Args)]
pub struct PaceArgs {
    /// Send at most N requests (retries included) per second per API key, across every lane
    /// (strictly: no one-second interval holds more), as Segment's own delivery must to stay
    /// under the Segment relay's 60 per second [default: no pacing]
    #[arg(long, value_name = "N", value_parser = crate::cmd::at_least_one_u32)]
    pub pace: Option<u32>,
}

impl PaceArgs {
    /// Sets `config`'s pace.
    pub fn apply(&self, config: &mut crate::deliver::DeliveryConfig) {
        config.pace = self.pace;
    }
}

/// Runs the simulation; exit 0 when verification passes, 1 when it does
/// not (or on a rejection with `--fail-on-reject`).
pub fn run(args: &Args) -> Result<Exit, Error> {
    let scenario = crate::input::scenario(&args.spec)?;
    // What an Actions source sends: commerce tracks on, Engage audiences both as identifies
    // and as `Audience Entered`/`Exited` tracks (over whatever scenario the flags give).
    let scenario = match args.destination {
        DestinationKind::Classic => scenario,
        DestinationKind::Actions => scenario.with_actions(),
    };
    simulation::ensure_events(&scenario, args.spec.seed)?;
    args.delivery.check_streams(args.output.report)?;
    let faults = match (&args.faults, args.fault_rate) {
        (Some(path), _) => Some(
            FaultPlan::from_json(&crate::input::read_to_string(path)?)
                .map_err(|e| Error::Input(format!("{}: {e}", path.display())))?,
        ),
        (None, Some(rate)) => Some(simulation::fault_plan_for(
            rate,
            args.spec.seed,
            args.destination.fault_prefix(),
        )),
        (None, None) => None,
    };
    let outcomes = args.delivery.open_outcomes()?.map(|writer| Outcomes {
        writer,
        name: args.delivery.outcomes_name(),
    });
    let delivery = args.delivery.clone();
    let pace = args.pace.clone();
    let destination = args.destination;
    let simulation = Simulation {
        scenario,
        seed: args.spec.seed,
        faults,
        fail_on_reject: args.delivery.fail_on_reject,
        outcomes,
        dump_state: args.delivery.dump_state.clone(),
        serve: args.serve,
        relay_rate_limit: args.relay_rate_limit.0,
    };
    let stdout_busy = args.delivery.outcomes_on_stdout();
    if args.serve.is_none() {
        let report = simulation::run_for(simulation, destination, move |config| {
            delivery.apply(config);
            pace.apply(config);
        })?;
        return args.output.finish_beside(&report, stdout_busy);
    }
    let output = args.output.clone();
    simulation::run_and_serve_for(
        simulation,
        destination,
        move |config| {
            delivery.apply(config);
            pace.apply(config);
        },
        |base| {
            eprintln!("talon-fake listening on {base}");
            eprintln!(
                "  view  {base}{}/   (watch the run; it stays open after the run until Ctrl-C)",
                talon_fake::view::VIEW_PREFIX
            );
        },
        move |report| {
            let exit = output.finish_beside(report, stdout_busy);
            eprintln!("the run is over; the fake keeps serving its view until Ctrl-C or SIGTERM");
            exit
        },
        |line| eprintln!("{line}"),
    )
}
