//! `talon-harness simulate`: the main job — generate, map, deliver to an embedded fake, verify.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

use segment_gen::{Generator, Profile, Scenario};
use talon_fake::{Fake, FakeConfig, FaultPlan, MockServer};

use crate::cmd::generate::ScenarioArgs;
use crate::deliver::{self, DeliveryConfig};
use crate::output::{Check, ReportArgs, RunReport};
use crate::verify;
use crate::world::World;
use crate::{Error, Exit};

/// Arguments of `simulate`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
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
    /// `--report` and `--junit`.
    #[command(flatten)]
    pub output: ReportArgs,
}

/// Runs the simulation; exit 0 when verification passes, 1 when it does
/// not (or on a rejection with `--fail-on-reject`).
pub fn run(args: &Args) -> Result<Exit, Error> {
    let scenario = crate::input::scenario(&args.spec)?;
    let mut probe = Generator::new(scenario.clone(), args.spec.seed)
        .map_err(|e| Error::Input(format!("invalid scenario: {e}")))?;
    if probe.next_into(&mut Vec::new()).is_none() {
        return Err(Error::Input(format!(
            "the scenario generates no events ({} users, {} days, at most {} events): there is nothing to simulate",
            scenario.users,
            scenario.days,
            scenario
                .max_events
                .map_or_else(|| "unlimited".to_owned(), |n| n.to_string())
        )));
    }
    args.delivery.check_streams(args.output.report)?;
    let plan = match (&args.faults, args.fault_rate) {
        (Some(path), _) => Some(
            FaultPlan::from_json(&crate::input::read_to_string(path)?)
                .map_err(|e| Error::Input(format!("{}: {e}", path.display())))?,
        ),
        (None, Some(rate)) => Some(crate::simulation::fault_plan(rate, args.spec.seed)),
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
    args.delivery.apply(&mut config);
    config.seed = args.spec.seed;
    let client = deliver::client(&config);

    let mut generator = Generator::new(scenario.clone(), args.spec.seed)
        .map_err(|e| Error::Input(format!("invalid scenario: {e}")))?;
    let outcomes_on_stdout = args.delivery.outcomes_on_stdout();
    let mut outcomes = args.delivery.open_outcomes()?;
    let progress = progress_bar(total_events(&scenario, args.spec.seed));
    let mut write_error = None;
    let destination = talon_mapper::Destination::Classic(world.settings.clone());
    let started = Instant::now();
    let events =
        (&mut generator).map(|e| (format!("gen:{}", e.meta.index + 1), e.json.into_bytes()));
    let (summary, watch) = deliver::run_watched(events, &destination, &client, &config, |report| {
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
            path: args.delivery.outcomes_name(),
            source,
        });
    }
    if let Some(mut out) = outcomes {
        out.flush().map_err(|source| Error::Io {
            path: args.delivery.outcomes_name(),
            source,
        })?;
    }

    // Verification: what the fake holds against what must be true.
    if let Some(path) = &args.delivery.dump_state {
        // Streamed: the whole state is never held as one string.
        let mut file = crate::input::create_optional(Some(path))?.expect("a path was given");
        fake.write_state(&mut file, false)
            .and_then(|()| file.flush())
            .map_err(|source| Error::Io {
                path: path.display().to_string(),
                source,
            })?;
    }
    let state = fake.state_dump();
    let actual = verify::profiles_of(&state);
    let mut report = RunReport::new("simulate");
    report.notes.push(format!(
        "ran        classic destination, seed {}, {} users, {} days, profile {}, {} events",
        args.spec.seed,
        scenario.users,
        scenario.days,
        match scenario.profile {
            Profile::Realistic => "realistic",
            Profile::Edge => "edge",
        },
        generator.emitted()
    ));
    let mut checks = crate::output::delivery_checks(&summary, args.delivery.fail_on_reject);
    if summary.events != generator.emitted() {
        checks[0] = Check::from_details(
            "every event has exactly one outcome",
            vec![format!(
                "{} events generated, {} outcomes: {summary:?}",
                generator.emitted(),
                summary.events
            )],
        );
    }
    // The rejection check (with --fail-on-reject) goes last, after verification.
    let reject_check = if args.delivery.fail_on_reject {
        checks.pop()
    } else {
        None
    };
    report.checks.extend(checks);
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
    report.checks.extend(crate::simulation::verification(
        &scenario,
        args.spec.seed,
        &generator,
        &world,
        &actual,
    )?);
    report.checks.extend(reject_check);
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
    report
        .notes
        .push(format!("profiles   {:>10} in Talon.One", actual.len()));
    report.notes.push(journal_note(
        fake.journal().len() as u64,
        fake.journal_dropped(),
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
    args.output.finish_beside(&report, outcomes_on_stdout)
}

/// The journal's cap in words: what it dropped is gone from the journal,
/// not from the run.
pub(crate) fn journal_note(kept: u64, dropped: u64) -> String {
    if dropped == 0 {
        format!("journal    kept all {kept} requests")
    } else {
        format!(
            "journal    kept the last {kept} of {} requests (the journal's cap; older entries leave the journal, not Talon.One)",
            kept + dropped
        )
    }
}

/// How many events the scenario generates, counted by a dry run of the
/// generator, when a progress bar will show it (on a terminal only).
fn total_events(scenario: &Scenario, seed: u64) -> Option<u64> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let mut generator = Generator::new(scenario.clone(), seed).ok()?;
    let mut line = Vec::new();
    let mut total = 0u64;
    while generator.next_into(&mut line).is_some() {
        line.clear();
        total += 1;
    }
    Some(total)
}

/// Progress on standard error when it is a terminal, hidden otherwise: a
/// bar with the total, the rate and the time left when the total is known,
/// a spinner with the count and the rate when it is not.
pub(crate) fn progress_bar(total: Option<u64>) -> indicatif::ProgressBar {
    if std::io::stderr().is_terminal() {
        styled_progress(total)
    } else {
        indicatif::ProgressBar::hidden()
    }
}

fn styled_progress(total: Option<u64>) -> indicatif::ProgressBar {
    use indicatif::{ProgressBar, ProgressState, ProgressStyle};
    let rate = |state: &ProgressState, w: &mut dyn std::fmt::Write| {
        let _ = write!(w, "{:.0} events/s", state.per_sec());
    };
    let (bar, template) = match total {
        Some(total) => (
            ProgressBar::new(total),
            "{bar:30} {human_pos}/{human_len} events  {rate}  {eta} left",
        ),
        None => (
            ProgressBar::new_spinner(),
            "{spinner} {human_pos} events  {rate}  {elapsed}",
        ),
    };
    bar.set_style(
        ProgressStyle::with_template(template)
            .map(|style| style.with_key("rate", rate))
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use indicatif::{ProgressDrawTarget, TermLike};

    use super::styled_progress;

    /// A terminal that keeps what is written to it.
    #[derive(Debug, Clone, Default)]
    struct Screen(Arc<Mutex<String>>);

    impl TermLike for Screen {
        fn width(&self) -> u16 {
            120
        }
        fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, line: &str) -> std::io::Result<()> {
            self.write_str(line)
        }
        fn write_str(&self, text: &str) -> std::io::Result<()> {
            self.0
                .lock()
                .map_err(|_| std::io::Error::other("poisoned"))?
                .push_str(text);
            Ok(())
        }
        fn clear_line(&self) -> std::io::Result<()> {
            Ok(())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn drawn(total: Option<u64>) -> String {
        let screen = Screen::default();
        let bar = styled_progress(total);
        bar.set_draw_target(ProgressDrawTarget::term_like(Box::new(screen.clone())));
        bar.inc(1_234);
        bar.abandon();
        screen.0.lock().map(|s| s.clone()).unwrap_or_default()
    }

    #[test]
    fn with_a_known_total_progress_shows_the_total_a_whole_rate_and_the_time_left() {
        let text = drawn(Some(10_000));
        assert!(text.contains("1,234/10,000 events"), "{text:?}");
        assert!(
            text.contains(" events/s") && text.contains(" left"),
            "{text:?}"
        );
        assert!(!text.contains('.'), "no fractional rate: {text:?}");
    }

    #[test]
    fn without_a_total_progress_shows_the_count_and_a_whole_rate() {
        let text = drawn(None);
        assert!(text.contains("1,234 events"), "{text:?}");
        assert!(
            text.contains(" events/s") && !text.contains('.'),
            "{text:?}"
        );
    }
}
