//! `diff` on 100,000 events: its speed, and that its memory does not grow with the events.
//!
//! `cargo bench -p talon-harness --bench diff`. Generates 10,000 and 100,000 seeded events
//! (`gen --users 2000`, so both runs hold about the same profiles), then compares them under
//! the default classic settings and the same settings with `address_city` and `plan` removed
//! and `company_id` added (every event is mapped twice and delivered to two embedded fakes
//! over loopback), in this process: the smaller run first, so the peak resident memory
//! (`VmHWM`) after the larger one shows whether memory grew with the number of events.
//! `DESTINATION=actions` compares the shipped subscriptions with
//! `skipNonExistingAttributes` turned off on the profile subscription, against the simulated
//! Actions deployment. `ROUNDS` (default 1) repeats the timed 100,000-event run.

// A benchmark prints, reads the environment and runs processes.
#![allow(clippy::print_stdout, clippy::disallowed_methods)]

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use bench_support::{hwm_mib, median, rss_mib};

/// The binary's allocator, so the figures are the command's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use talon_harness::diff::{DiffConfig, Side, compare};
use talon_mapper::Destination;

fn generate(path: &Path, events: u64) -> bool {
    Command::new(env!("CARGO_BIN_EXE_talon-harness"))
        .args(["gen", "--seed", "7", "--users", "2000", "--days", "365"])
        .args(["--events", &events.to_string(), "--out"])
        .arg(path)
        .status()
        .is_ok_and(|s| s.success())
}

fn classic(attributes: &[String]) -> Destination {
    let settings = serde_json::json!({
        "apiKey": "segment-demo-integration-key",
        "applicationDomain": "https://demo.talon.one",
        "customAttributes": attributes,
    });
    Destination::Classic(talon_mapper::Settings::parse(&settings.to_string()).expect("settings"))
}

fn config(actions: bool) -> DiffConfig {
    if actions {
        let world = talon_harness::world::World::for_actions(&segment_gen::Scenario::default());
        let mut list: serde_json::Value =
            serde_json::from_str(talon_harness::world::DEFAULT_SUBSCRIPTIONS).expect("json");
        for s in list["subscriptions"].as_array_mut().expect("a list") {
            if s["id"] == "sub_identify_profile" {
                s["settings"]["skipNonExistingAttributes"] = false.into();
            }
        }
        let settings = world.settings_json.to_string();
        let after = talon_mapper::actions::ActionsConfig::from_json(&settings, &list.to_string())
            .expect("subscriptions");
        return DiffConfig::new(
            Side {
                destination: Destination::Actions(world.config.clone()),
                state: world.state.clone(),
            },
            Side {
                destination: Destination::Actions(after),
                state: world.state,
            },
        );
    }
    let (settings, _) = talon_harness::input::settings(None).expect("default settings");
    let before: Vec<String> = settings.custom_attributes().to_vec();
    let mut after: Vec<String> = before
        .iter()
        .filter(|a| *a != "address_city" && *a != "plan")
        .cloned()
        .collect();
    after.push("company_id".into());
    let state = talon_fake::StateFile::default_state();
    DiffConfig::new(
        Side {
            destination: classic(&before),
            state: state.clone(),
        },
        Side {
            destination: classic(&after),
            state,
        },
    )
}

/// One comparison of the file's events: seconds, events, changed events, profiles.
fn run(
    runtime: &tokio::runtime::Runtime,
    config: &DiffConfig,
    path: &Path,
) -> (f64, u64, u64, u64) {
    let mut events = talon_harness::input::EventReader::open(path).expect("events");
    let start = Instant::now();
    let report = runtime
        .block_on(compare(config, events.by_ref(), |_| Ok(())))
        .expect("a comparison");
    let seconds = start.elapsed().as_secs_f64();
    events.finish().expect("read to the end");
    assert!(report.adds_up(), "every event compared");
    (
        seconds,
        report.events,
        report.changed_events,
        report.profiles,
    )
}

fn main() {
    let actions = std::env::var("DESTINATION").is_ok_and(|d| d == "actions");
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1);
    let dir = std::env::temp_dir().join(format!("talon-harness-diff-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let small = dir.join("10k.ndjson");
    let large = dir.join("100k.ndjson");
    if !generate(&small, 10_000) || !generate(&large, 100_000) {
        println!("talon-harness gen failed");
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let config = config(actions);
    println!(
        "{} destination; rss before any run {:.1} MiB",
        if actions { "actions" } else { "classic" },
        rss_mib()
    );
    println!("events   seconds  events/s  changed  profiles  VmRSS MiB  VmHWM MiB");
    let (s, n, changed, profiles) = run(&runtime, &config, &small);
    let small_hwm = hwm_mib();
    println!(
        "{n:>7}  {s:>7.2}  {:>8.0}  {changed:>7}  {profiles:>8}  {:>9.1}  {small_hwm:>9.1}",
        n as f64 / s,
        rss_mib()
    );
    let mut rates = Vec::new();
    for _ in 0..rounds.max(1) {
        let (s, n, changed, profiles) = run(&runtime, &config, &large);
        rates.push(n as f64 / s);
        println!(
            "{n:>7}  {s:>7.2}  {:>8.0}  {changed:>7}  {profiles:>8}  {:>9.1}  {:>9.1}",
            n as f64 / s,
            rss_mib(),
            hwm_mib()
        );
    }
    println!(
        "median {:.0} events/s on 100,000; peak resident after 10,000 {small_hwm:.1} MiB, after 100,000 {:.1} MiB (ratio {:.2})",
        median(&mut rates),
        hwm_mib(),
        hwm_mib() / small_hwm
    );
    let _ = std::fs::remove_dir_all(&dir);
}
