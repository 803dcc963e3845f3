//! `talon-harness simulate`: the main job — generate, map, deliver to an embedded fake, verify.

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

use segment_gen::cli::ScenarioArgs;
use segment_gen::{Generator, Profile, Scenario};
use talon_fake::{Fake, FakeConfig, FaultPlan, FaultResponse, FaultRule, MockServer};

use crate::deliver::{self, DeliveryConfig};
use crate::output::{Check, ReportArgs, RunReport};
use crate::verify::{self, Reference};
use crate::world::World;
use crate::{Error, Exit};

/// Arguments of `simulate`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The scenario and seed (the seed also drives the fault plan and the retry jitter).
    #[command(flatten)]
    pub spec: ScenarioArgs,
    /// Profiles delivered to at once.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Attempts per request, the first included.
    #[arg(long, default_value_t = 8)]
    pub max_attempts: u32,
    /// Inject faults into this share of profile updates (0.1 = 10%): 503, 429, 500 and dropped connections.
    #[arg(long, value_name = "SHARE", conflicts_with = "faults")]
    pub fault_rate: Option<f64>,
    /// A fault plan file for the embedded fake (see talon-fake's FaultPlan).
    #[arg(long, value_name = "FILE")]
    pub faults: Option<PathBuf>,
    /// Write each event's outcome as NDJSON to this file.
    #[arg(long, value_name = "FILE")]
    pub outcomes: Option<PathBuf>,
    /// Write the fake's final state to this file.
    #[arg(long, value_name = "FILE")]
    pub dump_state: Option<PathBuf>,
    /// Exit 1 when Talon.One rejected any event.
    #[arg(long)]
    pub fail_on_reject: bool,
    /// `--report` and `--junit`.
    #[command(flatten)]
    pub output: ReportArgs,
}

/// A plan that faults `rate` of profile updates: 40% of them 503, 20% each
/// 429, 500 and a dropped connection. Rules are tried in order, so each
/// rule's probability is conditional on the earlier ones not firing.
pub fn fault_plan(rate: f64, seed: u64) -> FaultPlan {
    let parts = [
        (0.4, FaultResponse::Status(503)),
        (0.2, FaultResponse::Status(429)),
        (0.2, FaultResponse::Status(500)),
        (0.2, FaultResponse::DropConnection),
    ];
    let mut left = 1.0;
    let mut rules = Vec::new();
    for (share, respond) in parts {
        let p = (rate * share / left).clamp(0.0, 1.0);
        left -= rate * share;
        rules.push(FaultRule {
            method: Some("PUT".into()),
            path_prefix: Some("/v2/customer_profiles/".into()),
            integration_id: None,
            respond,
            times: None,
            probability: Some(p),
        });
    }
    FaultPlan {
        seed,
        rules,
        rate_limit_per_sec: None,
    }
}

/// Runs the simulation; exit 0 when verification passes, 1 when it does
/// not (or on a rejection with `--fail-on-reject`).
pub fn run(args: &Args) -> Result<Exit, Error> {
    let scenario = crate::input::scenario(&args.spec)?;
    scenario
        .validate()
        .map_err(|e| Error::Input(format!("invalid scenario: {e:?}")))?;
    if let Some(rate) = args.fault_rate
        && !(0.0..1.0).contains(&rate)
    {
        return Err(Error::Input(format!(
            "--fault-rate must be in [0, 1), not {rate}"
        )));
    }
    let plan = match (&args.faults, args.fault_rate) {
        (Some(path), _) => Some(
            FaultPlan::from_json(&crate::input::read_to_string(path)?)
                .map_err(|e| Error::Input(format!("{}: {e}", path.display())))?,
        ),
        (None, Some(rate)) => Some(fault_plan(rate, args.spec.seed)),
        (None, None) => None,
    };
    let runtime = crate::runtime()?;
    // On a worker thread, not the main one: the producer and collector then
    // share the runtime's threads with the lanes and the fake instead of
    // adding a third busy thread on a two-core machine.
    let args = args.clone();
    runtime
        .block_on(async move {
            tokio::spawn(async move { simulate(&args, scenario, plan).await }).await
        })
        .map_err(|e| Error::Input(format!("the simulation task failed: {e}")))?
}

async fn simulate(args: &Args, scenario: Scenario, plan: Option<FaultPlan>) -> Result<Exit, Error> {
    let world = World::for_scenario(&scenario);
    let fake = Fake::new(world.state.clone(), FakeConfig::default())
        .map_err(|e| Error::Input(format!("simulated state: {e}")))?;
    if let Some(plan) = &plan {
        fake.set_faults(plan.clone());
    }
    let server = MockServer::start(fake.clone())
        .await
        .map_err(|source| Error::Io {
            path: "127.0.0.1:0".into(),
            source,
        })?;
    let mut config = DeliveryConfig::new(server.uri());
    config.concurrency = args.concurrency.max(1);
    config.max_attempts = args.max_attempts.max(1);
    config.seed = args.spec.seed;
    let client = deliver::client(&config);

    let mut generator = Generator::new(scenario.clone(), args.spec.seed)
        .map_err(|e| Error::Input(format!("invalid scenario: {e:?}")))?;
    let mut outcomes = crate::input::create_optional(args.outcomes.as_deref())?;
    let progress = progress_bar();
    let mut write_error = None;
    let started = Instant::now();
    let events =
        (&mut generator).map(|e| (format!("gen:{}", e.meta.index + 1), e.json.into_bytes()));
    let (summary, watch) =
        deliver::run_watched(events, &world.settings, &client, &config, |report| {
            progress.inc(1);
            if let Some(out) = outcomes.as_mut()
                && let Err(e) = writeln!(out, "{}", report.to_json())
            {
                write_error.get_or_insert(e);
            }
        })
        .await;
    let elapsed = started.elapsed();
    progress.finish_and_clear();
    // Late requests still held by a fault land now, as they would in the end: the final
    // state then shows what they did to the profiles.
    let late_landed = fake.release_late_requests();
    server.shutdown().await;
    if let Some(source) = write_error {
        return Err(Error::Io {
            path: display(args.outcomes.as_deref()),
            source,
        });
    }
    if let Some(mut out) = outcomes {
        out.flush().map_err(|source| Error::Io {
            path: display(args.outcomes.as_deref()),
            source,
        })?;
    }

    // Verification: what the fake holds against what must be true.
    let state = fake.state_dump();
    if let Some(path) = &args.dump_state {
        crate::input::write(path, state.to_json_pretty().as_bytes())?;
    }
    let actual = verify::profiles_of(&state);
    let configured: BTreeSet<String> = world.settings.custom_attributes().iter().cloned().collect();
    let mut report = RunReport::new("simulate");
    report.checks.push(Check::from_details(
        "every event has exactly one outcome",
        if summary.adds_up() && summary.events == generator.emitted() {
            Vec::new()
        } else {
            vec![format!(
                "{} events generated, {} outcomes: {summary:?}",
                generator.emitted(),
                summary.events
            )]
        },
    ));
    report.checks.push(Check::from_details(
        "no event was lost (none failed after retries)",
        if summary.failed == 0 {
            Vec::new()
        } else {
            vec![format!("{} events failed", summary.failed)]
        },
    ));
    if plan.is_some() {
        // Read back the profiles whose events had an attempt of unknown fate, against what
        // the client itself last sent them: needs no reference model, works on any target.
        report.checks.push(Check::from_details(
            "profiles with an unconfirmed attempt hold what was last sent to them",
            watch
                .check(&actual, &world.catalog)
                .iter()
                .map(ToString::to_string)
                .collect(),
        ));
    }
    let mut reference = Reference::new(configured.clone(), world.catalog.clone());
    let mut replay = Generator::new(scenario.clone(), args.spec.seed)
        .map_err(|e| Error::Input(format!("invalid scenario: {e:?}")))?;
    let mut line = Vec::new();
    while replay.next_into(&mut line).is_some() {
        reference.apply(&line);
        line.clear();
    }
    report.checks.push(Check::from_details(
        "Talon.One holds what the reference model of the rules says",
        verify::compare(&reference.profiles, &actual, &world.catalog)
            .iter()
            .map(ToString::to_string)
            .collect(),
    ));
    if scenario.profile == Profile::Realistic {
        let engage: BTreeSet<String> = scenario
            .audience_defs()
            .into_iter()
            .map(|a| a.key)
            .chain(scenario.computed_trait_defs().into_iter().map(|c| c.key))
            .collect();
        let ledger = generator.ledger();
        let (expected, unknown) = verify::expected_from_ledger(&ledger, &configured, &engage);
        let mut details: Vec<String> = verify::compare(&expected, &actual, &world.catalog)
            .iter()
            .map(ToString::to_string)
            .collect();
        details.extend(
            unknown
                .into_iter()
                .map(|u| format!("ledger holds null for {u}")),
        );
        report.checks.push(Check::from_details(
            "Talon.One holds the generator's ledger under the mapping rules",
            details,
        ));
    }
    if args.fail_on_reject {
        report.checks.push(Check::from_details(
            "Talon.One rejected no event",
            if summary.rejected == 0 {
                Vec::new()
            } else {
                vec![format!("{} events rejected", summary.rejected)]
            },
        ));
    }
    let rate = summary.events as f64 / elapsed.as_secs_f64().max(1e-9);
    report.notes.push(format!(
        "throughput {rate:.0} events/s ({} events in {:.2} s, {} lanes{})",
        summary.events,
        elapsed.as_secs_f64(),
        config.concurrency,
        plan.as_ref()
            .map_or(String::new(), |_| ", faults injected".into())
    ));
    if late_landed > 0 {
        report.notes.push(format!(
            "{late_landed} late requests still held by the fault plan were applied after delivery, before verification"
        ));
    }
    report.notes.push(format!(
        "profiles   {:>10} in Talon.One; journal kept {} requests, dropped {}",
        actual.len(),
        fake.journal().len(),
        fake.journal_dropped()
    ));
    report
        .extra
        .insert("eventsPerSecond".into(), rate.round().into());
    report
        .extra
        .insert("seconds".into(), elapsed.as_secs_f64().into());
    report.extra.insert("profiles".into(), actual.len().into());
    report.extra.insert(
        "scenario".into(),
        serde_json::to_value(&scenario).unwrap_or_default(),
    );
    report.summary = Some(summary);
    args.output.finish(&report)
}

fn display(path: Option<&std::path::Path>) -> String {
    path.map_or_else(|| "-".into(), |p| p.display().to_string())
}

/// A spinner with a count on a terminal; hidden otherwise.
pub(crate) fn progress_bar() -> indicatif::ProgressBar {
    if std::io::stdout().is_terminal() {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {pos} events  {per_sec}  {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar
    } else {
        indicatif::ProgressBar::hidden()
    }
}
