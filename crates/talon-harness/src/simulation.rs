//! `simulate`'s run, apart from its flags and printing: generate a scenario's
//! events, map and deliver them to an embedded fake (under a fault plan, if
//! any), and verify the final profiles against the reference model and the
//! generator's ledger; plus the fault plan of `--fault-rate` and the
//! progress bar the runs share.

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

use segment_gen::{Generator, Profile, Scenario};
use talon_fake::{Fake, FakeConfig, FaultPlan, FaultResponse, FaultRule, MockServer};

use crate::deliver::{self, DeliveryConfig};
use crate::output::{Check, RunReport};
use crate::verify::{self, Profiles, Reference};
use crate::world::World;
use crate::{DestinationKind, Error};

impl DestinationKind {
    /// The path prefix of the requests it sends, which `--fault-rate`'s plan faults.
    pub fn fault_prefix(self) -> &'static str {
        match self {
            Self::Classic => "/v2/customer_profiles/",
            Self::Actions => "/segment/",
        }
    }
}

/// What one simulation runs, and where its outputs go.
pub struct Simulation {
    /// The scenario to generate.
    pub scenario: Scenario,
    /// Its seed: it also drives the fault plan and the retry jitter.
    pub seed: u64,
    /// The embedded fake's fault plan, if any.
    pub faults: Option<FaultPlan>,
    /// Whether a rejection fails the run (the check goes last, after verification).
    pub fail_on_reject: bool,
    /// Where each event's outcome is written (one JSON line each), if anywhere.
    pub outcomes: Option<Outcomes>,
    /// Where the fake's final state is written, if anywhere.
    pub dump_state: Option<PathBuf>,
    /// Serve the embedded fake on this (loopback) address instead of a private port, so its
    /// view can be watched during the run, and keep serving after it until Ctrl-C or SIGTERM
    /// ([`run_and_serve`]).
    pub serve: Option<SocketAddr>,
    /// The embedded fake's Segment relay limit, requests per second per key (`None`: off, the
    /// default of `simulate`: a run measures the pipeline, not Talon.One's 60 per second; with
    /// it on, `--pace` keeps a run under it).
    pub relay_rate_limit: Option<u32>,
}

impl std::fmt::Debug for Simulation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulation")
            .field("scenario", &self.scenario)
            .field("seed", &self.seed)
            .field("faults", &self.faults)
            .field("fail_on_reject", &self.fail_on_reject)
            .field("outcomes", &self.outcomes.as_ref().map(|o| &o.name))
            .field("dump_state", &self.dump_state)
            .field("serve", &self.serve)
            .field("relay_rate_limit", &self.relay_rate_limit)
            .finish()
    }
}

/// An open outcomes stream and its name, as errors name it.
pub struct Outcomes {
    /// The stream (buffered).
    pub writer: Box<dyn Write + Send>,
    /// Its path, or `-`.
    pub name: String,
}

impl std::fmt::Debug for Outcomes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outcomes")
            .field("name", &self.name)
            .finish()
    }
}

/// Refuses a scenario that generates no events: there is nothing to simulate.
pub fn ensure_events(scenario: &Scenario, seed: u64) -> Result<(), Error> {
    let mut probe = Generator::new(scenario.clone(), seed)
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
    Ok(())
}

/// Runs `simulation` on a new runtime (its delivery set up by `configure`, the target and
/// the seed then set) and returns its report: the delivery checks, the read-back of
/// unconfirmed attempts under faults, the verification, and the notes.
///
/// With [`Simulation::serve`] set, use [`run_and_serve`] instead (this refuses it).
pub fn run(
    simulation: Simulation,
    configure: impl FnOnce(&mut DeliveryConfig) + Send + 'static,
) -> Result<RunReport, Error> {
    run_for(simulation, DestinationKind::Classic, configure)
}

/// [`run`] through `destination`.
pub fn run_for(
    simulation: Simulation,
    destination: DestinationKind,
    configure: impl FnOnce(&mut DeliveryConfig) + Send + 'static,
) -> Result<RunReport, Error> {
    if let Some(addr) = simulation.serve {
        return Err(Error::Input(format!(
            "serving the simulation on {addr} needs simulation::run_and_serve"
        )));
    }
    let runtime = crate::runtime()?;
    // On a worker thread, not the main one: the producer and collector then
    // share the runtime's threads with the lanes and the fake instead of
    // adding a third busy thread on a two-core machine.
    runtime
        .block_on(async move { tokio::spawn(simulate(simulation, destination, configure)).await })
        .map_err(|e| Error::Input(format!("the simulation task failed: {e}")))?
        .map(|(report, _)| report)
}

/// [`run`], with the embedded fake served on `simulation.serve` (a loopback address: the
/// fake's control endpoints and view are open) from before the first event: `announce` gets
/// the fake's base URL once it listens (and the stop signals are installed), `finish` gets
/// the report and gives the exit code; then the fake keeps serving, for its view, until Ctrl-C
/// or SIGTERM, and `stopped` gets the stop line.
pub fn run_and_serve(
    simulation: Simulation,
    configure: impl FnOnce(&mut DeliveryConfig) + Send + 'static,
    announce: impl FnOnce(&str) + Send + 'static,
    finish: impl FnOnce(&RunReport) -> Result<crate::Exit, Error> + Send + 'static,
    stopped: impl FnOnce(&str) + Send + 'static,
) -> Result<crate::Exit, Error> {
    run_and_serve_for(
        simulation,
        DestinationKind::Classic,
        configure,
        announce,
        finish,
        stopped,
    )
}

/// [`run_and_serve`] through `destination`.
pub fn run_and_serve_for(
    simulation: Simulation,
    destination: DestinationKind,
    configure: impl FnOnce(&mut DeliveryConfig) + Send + 'static,
    announce: impl FnOnce(&str) + Send + 'static,
    finish: impl FnOnce(&RunReport) -> Result<crate::Exit, Error> + Send + 'static,
    stopped: impl FnOnce(&str) + Send + 'static,
) -> Result<crate::Exit, Error> {
    let Some(addr) = simulation.serve else {
        return Err(Error::Input(
            "run_and_serve needs an address to serve on".into(),
        ));
    };
    if !addr.ip().is_loopback() {
        return Err(Error::Input(format!(
            "--serve {addr}: the simulation's fake has no admin token, so it is served on a loopback address only (127.0.0.1:PORT); to share a fake, run `talon-harness serve --admin-token` and `replay --target`"
        )));
    }
    let runtime = crate::runtime()?;
    runtime
        .block_on(async move {
            tokio::spawn(async move {
                let listener = talon_fake::bind(addr)
                    .await
                    .map_err(|e| Error::Input(format!("--serve {addr}: {e}")))?;
                let (report, server) = simulate_on(
                    simulation,
                    destination,
                    configure,
                    Target::Serve(listener),
                    announce,
                )
                .await?;
                let exit = finish(&report)?;
                if let Some(server) = server {
                    let line = server
                        .await
                        .map_err(|e| Error::Input(format!("the fake's server failed: {e}")))?
                        .map_err(|e| Error::Input(e.to_string()))?;
                    stopped(&line.to_string());
                }
                Ok(exit)
            })
            .await
        })
        .map_err(|e| Error::Input(format!("the simulation task failed: {e}")))?
}

/// Where the embedded fake listens.
enum Target {
    /// A private port, shut down once delivery ends.
    Private,
    /// This listener, served until a stop signal (`simulate --serve`).
    Serve(tokio::net::TcpListener),
}

/// The fake's server task in `--serve` mode, ending with its stop line.
type Serving = tokio::task::JoinHandle<Result<talon_fake::Stopped, talon_fake::ServeError>>;

async fn simulate(
    simulation: Simulation,
    destination: DestinationKind,
    configure: impl FnOnce(&mut DeliveryConfig),
) -> Result<(RunReport, Option<Serving>), Error> {
    simulate_on(simulation, destination, configure, Target::Private, |_| {}).await
}

/// The world a simulation runs in, by destination.
enum Worlds {
    Classic(World),
    Actions(crate::world::ActionsWorld),
}

impl Worlds {
    fn state(&self) -> &talon_fake::StateFile {
        match self {
            Self::Classic(w) => &w.state,
            Self::Actions(w) => &w.state,
        }
    }

    fn catalog(&self) -> &std::collections::BTreeMap<String, talon_fake::rules::AttrType> {
        match self {
            Self::Classic(w) => &w.catalog,
            Self::Actions(w) => &w.catalog,
        }
    }

    fn destination(&self) -> talon_mapper::Destination {
        match self {
            Self::Classic(w) => talon_mapper::Destination::Classic(w.settings.clone()),
            Self::Actions(w) => talon_mapper::Destination::Actions(w.config.clone()),
        }
    }
}

async fn simulate_on(
    simulation: Simulation,
    kind: DestinationKind,
    configure: impl FnOnce(&mut DeliveryConfig),
    target: Target,
    announce: impl FnOnce(&str),
) -> Result<(RunReport, Option<Serving>), Error> {
    let Simulation {
        scenario,
        seed,
        faults: plan,
        fail_on_reject,
        outcomes,
        dump_state,
        serve: _,
        relay_rate_limit,
    } = simulation;
    let worlds = match kind {
        DestinationKind::Classic => Worlds::Classic(World::for_scenario(&scenario)),
        DestinationKind::Actions => Worlds::Actions(World::for_actions(&scenario)),
    };
    let fake = Fake::new(worlds.state().clone(), fake_config(relay_rate_limit))
        .map_err(|e| Error::Input(format!("simulated state: {e}")))?;
    if let Some(plan) = &plan {
        fake.set_faults(plan.clone());
    }
    let (uri, private, serving) = match target {
        Target::Private => {
            let server = MockServer::start(fake.clone())
                .await
                .map_err(|source| Error::Io {
                    path: "127.0.0.1:0".into(),
                    source,
                })?;
            (server.uri(), Some(server), None)
        }
        Target::Serve(listener) => {
            let addr = listener.local_addr().map_err(|source| Error::Io {
                path: "--serve".into(),
                source,
            })?;
            // Installed before the address is announced: a signal sent the moment it
            // appears stops the server gracefully.
            let signals = talon_fake::StopSignals::install();
            let uri = format!("http://{addr}");
            let task = tokio::spawn(talon_fake::serve_on_signals(
                listener,
                fake.clone(),
                talon_fake::DEFAULT_SHUTDOWN_TIMEOUT,
                signals,
            ));
            (uri, None, Some(task))
        }
    };
    announce(&uri);
    let mut config = DeliveryConfig::new(uri);
    configure(&mut config);
    config.seed = seed;
    let client = deliver::client(&config);

    let mut generator = Generator::new(scenario.clone(), seed)
        .map_err(|e| Error::Input(format!("invalid scenario: {e}")))?;
    let (mut outcomes, outcomes_name) = match outcomes {
        Some(Outcomes { writer, name }) => (Some(writer), name),
        None => (None, String::new()),
    };
    let progress = progress_bar(total_events(&scenario, seed));
    let mut write_error = None;
    let destination = worlds.destination();
    let started = Instant::now();
    let events =
        (&mut generator).map(|e| (format!("gen:{}", e.meta.index + 1), e.json.into_bytes()));
    let (summary, mut watch) =
        deliver::run_detailed(events, &destination, &client, &config, |delivery| {
            progress.inc(1);
            if let Some(out) = outcomes.as_mut()
                && let Err(e) = writeln!(out, "{}", delivery.to_json())
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
    if let Some(server) = private {
        server.shutdown().await;
    }
    if let Some(source) = write_error {
        return Err(Error::Io {
            path: outcomes_name,
            source,
        });
    }
    if let Some(mut out) = outcomes {
        out.flush().map_err(|source| Error::Io {
            path: outcomes_name.clone(),
            source,
        })?;
    }

    // Verification: what the fake holds against what must be true.
    if let Some(path) = &dump_state {
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
        "ran        {}, seed {}, {} users, {} days, profile {}, {} events",
        match kind {
            DestinationKind::Classic => "classic destination",
            DestinationKind::Actions =>
                "Talon.One (Actions) destination, the shipped default subscriptions",
        },
        seed,
        scenario.users,
        scenario.days,
        match scenario.profile {
            Profile::Realistic => "realistic",
            Profile::Edge => "edge",
        },
        generator.emitted()
    ));
    let mut checks = crate::output::delivery_checks(&summary, fail_on_reject);
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
    let reject_check = if fail_on_reject { checks.pop() } else { None };
    report.checks.extend(checks);
    if plan.is_some() {
        // Read back the profiles whose events had an attempt of unknown fate, against what
        // the client itself last sent them: needs no reference model, works on any target.
        if kind == DestinationKind::Actions {
            watch.retain_known(worlds.catalog());
            watch.retain_routable();
        }
        report.checks.push(Check::from_details(
            "profiles with an unconfirmed attempt hold what was last sent to them",
            watch
                .check(&actual, worlds.catalog())
                .iter()
                .map(ToString::to_string)
                .collect(),
        ));
    }
    match &worlds {
        Worlds::Classic(world) => report
            .checks
            .extend(verification(&scenario, seed, &generator, world, &actual)?),
        Worlds::Actions(world) => {
            let (checks, notes) = verification_actions(&scenario, seed, world, &state)?;
            report.checks.extend(checks);
            report.notes.extend(notes);
        }
    }
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
        "destination".into(),
        match kind {
            DestinationKind::Classic => "classic",
            DestinationKind::Actions => "actions",
        }
        .into(),
    );
    report.extra.insert(
        "scenario".into(),
        serde_json::to_value(&scenario).unwrap_or_default(),
    );
    report.summary = Some(summary);
    Ok((report, serving))
}

/// The embedded fake's configuration: the fake's defaults. A simulation measures the
/// pipeline, so Talon.One's own rate limit for the Segment relay (60 requests per second per
/// key) is meant to be off here, and `--pace` with a fault plan's `rate_limit_per_sec` shows a
/// paced run under a limit; this fake has no relay limit yet.
fn fake_config(relay_rate_limit: Option<u32>) -> FakeConfig {
    FakeConfig {
        relay_rate_limit,
        ..FakeConfig::default()
    }
}

/// The journal's cap in words: what it dropped is gone from the journal,
/// not from the run.
fn journal_note(kept: u64, dropped: u64) -> String {
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

/// A plan that faults `rate` of profile updates: 40% of them 503, 20% each
/// 429, 500 and a dropped connection. Rules are tried in order, so each
/// rule's probability is conditional on the earlier ones not firing.
pub fn fault_plan(rate: f64, seed: u64) -> FaultPlan {
    fault_plan_for(rate, seed, DestinationKind::Classic.fault_prefix())
}

/// [`fault_plan`] for the `PUT` requests under `path_prefix` (`/segment/` for the Actions
/// destination: profiles, events and sessions alike). None of these faults applies the
/// request, so a retry after one stores nothing twice.
pub fn fault_plan_for(rate: f64, seed: u64, path_prefix: &str) -> FaultPlan {
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
            path_prefix: Some(path_prefix.into()),
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

/// The checks of the final profiles `actual`: what the reference model of
/// the rules says after replaying the scenario's events and, for the
/// realistic profile, the ledger of `generator` (which generated them) under
/// the mapping rules.
pub fn verification(
    scenario: &Scenario,
    seed: u64,
    generator: &Generator,
    world: &World,
    actual: &Profiles,
) -> Result<Vec<Check>, Error> {
    let configured: BTreeSet<String> = world.settings.custom_attributes().iter().cloned().collect();
    let mut checks = Vec::new();
    let mut reference = Reference::new(configured.clone(), verify::catalog(&world.catalog));
    let mut replay = Generator::new(scenario.clone(), seed)
        .map_err(|e| Error::Input(format!("invalid scenario: {e}")))?;
    let mut line = Vec::new();
    while replay.next_into(&mut line).is_some() {
        reference.apply(&line);
        line.clear();
    }
    checks.push(Check::from_details(
        "Talon.One holds what the reference model of the rules says",
        verify::compare(&reference.profiles, actual, &world.catalog)
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
        let (expected, unknown) =
            verify::expected_from_ledger(&generator.ledger(), &configured, &engage);
        let mut details: Vec<String> = verify::compare(&expected, actual, &world.catalog)
            .iter()
            .map(ToString::to_string)
            .collect();
        details.extend(
            unknown
                .into_iter()
                .map(|u| format!("ledger holds null for {u}")),
        );
        checks.push(Check::from_details(
            "Talon.One holds the generator's ledger under the mapping rules",
            details,
        ));
    }
    Ok(checks)
}

/// What an Actions deployment holds, from its state dump, in the reference model's terms.
pub fn actions_state(state: &talon_fake::StateFile) -> talon_reference::actions::ActionsState {
    use talon_reference::actions::{ActionsState, StoredSession};
    let mut actual = ActionsState {
        profiles: verify::profiles_of(state),
        ..ActionsState::default()
    };
    for profile in &state.profiles {
        if !profile.audiences.is_empty() {
            actual.audiences.insert(
                profile.integration_id.clone(),
                profile.audiences.iter().copied().collect(),
            );
        }
    }
    for event in &state.events {
        *actual
            .events
            .entry((event.profile_id.clone(), event.event_type.clone()))
            .or_default() += 1;
    }
    for session in &state.sessions {
        actual.sessions.insert(
            session.integration_id.clone(),
            StoredSession {
                profile_id: session.profile_id.clone().unwrap_or_default(),
                state: session.state.clone(),
                cart_items: session.cart_items.len(),
            },
        );
    }
    actual
}

/// The checks of an Actions run's final state: against the reference model replaying the
/// scenario's events (profiles, audience memberships, stored events per profile and type,
/// sessions) and, for the realistic profile, against what the generator's ledger implies under
/// the Actions rules; and notes in words on what the model counted (traits skipped, events not
/// sent).
pub fn verification_actions(
    scenario: &Scenario,
    seed: u64,
    world: &crate::world::ActionsWorld,
    state: &talon_fake::StateFile,
) -> Result<(Vec<Check>, Vec<String>), Error> {
    let catalog = world.model_catalog();
    let mut model = talon_reference::actions::ActionsReference::new(catalog.clone());
    let mut replay = Generator::new(scenario.clone(), seed)
        .map_err(|e| Error::Input(format!("invalid scenario: {e}")))?;
    let mut line = Vec::new();
    while replay.next_into(&mut line).is_some() {
        model.apply(&line);
        line.clear();
    }
    let actual = actions_state(state);
    let mut checks = vec![Check::from_details(
        "Talon.One holds what the Actions reference model of the default subscriptions says",
        talon_reference::actions::compare_actions(&model.state, &actual, &catalog),
    )];
    if scenario.profile == Profile::Realistic {
        // The replayed generator has emitted exactly the run's events: its ledger is theirs.
        let (expected, problems) = actions_expected_from_ledger(&replay.into_ledger(), &catalog);
        let mut details = talon_reference::actions::compare_actions(&expected, &actual, &catalog);
        details.extend(problems);
        checks.push(Check::from_details(
            "Talon.One holds the generator's ledger under the Actions rules",
            details,
        ));
    }
    let mut notes = Vec::new();
    if !world.nested_traits.is_empty() {
        notes.push(format!(
            "nested    traits {} have no attribute: the Actions destination sends traits unflattened, and skipNonExistingAttributes drops them",
            world
                .nested_traits
                .iter()
                .map(|t| format!("`{t}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    for (reason, count) in &model.tally {
        notes.push(format!("model     {count:>8}  {reason}"));
    }
    notes.push(format!(
        "verified  {} profiles, {} audience memberships, {} stored events, {} sessions ({} profiles reached by misrouted userIds not compared)",
        model.state.profiles.len(),
        model.state.audiences.values().map(BTreeSet::len).sum::<usize>(),
        model.state.events.values().sum::<u64>(),
        model.state.sessions.len(),
        model.state.unpredictable.len()
    ));
    Ok((checks, notes))
}

/// What a generator's ledger implies an Actions deployment holds under the shipped default
/// subscriptions, with what it could not predict: the ledger's parts handed to
/// [`talon_reference::actions::ledger::LedgerExpectation`].
pub fn actions_expected_from_ledger(
    ledger: &segment_gen::Ledger,
    catalog: &talon_reference::actions::ActionsCatalog,
) -> (talon_reference::actions::ActionsState, Vec<String>) {
    use talon_reference::actions::VIP_AUDIENCE_KEY;
    use talon_reference::actions::ledger::{LedgerExpectation, LedgerOrder, by_name};
    let mut expected = LedgerExpectation::new(catalog.clone());
    for (user, traits) in &ledger.users {
        expected.identified(
            user,
            traits.traits.iter().map(|t| (t.path.as_slice(), &t.value)),
        );
    }
    for (user, tracks) in &ledger.tracks {
        expected.tracks(user, by_name(tracks));
    }
    for order in &ledger.orders {
        expected.order(LedgerOrder {
            order_id: order.order_id.as_deref(),
            user_id: order.user_id.as_deref(),
            event: order.event.as_deref(),
            products: &order.products,
        });
    }
    for audience in ledger
        .audience_tracks
        .iter()
        .filter(|a| a.key == VIP_AUDIENCE_KEY)
    {
        for (user, member) in &audience.members {
            expected.vip_membership(user, *member);
        }
    }
    expected.finish()
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
