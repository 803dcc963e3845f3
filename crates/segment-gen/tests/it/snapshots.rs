//! Golden snapshots of the first events for a few seeds: any drift in the output shows here.

use segment_gen::{Generator, Scenario};

/// The settings of every snapshot of this crate: stored in the workspace's
/// `snapshots/segment-gen/`, named without the module.
pub(crate) fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../../../../snapshots/segment-gen");
    settings.set_prepend_module_to_snapshot(false);
    settings
}

fn first(scenario: Scenario, seed: u64, n: usize) -> String {
    Generator::new(scenario, seed)
        .unwrap()
        .take(n)
        .map(|e| e.json + "\n")
        .collect()
}

#[test]
fn the_first_realistic_events_for_three_seeds_do_not_drift() {
    for seed in [1, 2, 3] {
        let ndjson = first(Scenario::default(), seed, 5);
        settings().bind(|| insta::assert_snapshot!(format!("realistic_seed_{seed}"), ndjson));
    }
}

#[test]
fn the_first_edge_events_do_not_drift() {
    let ndjson = first(Scenario::edge(), 1, 5);
    settings().bind(|| insta::assert_snapshot!("edge_seed_1", ndjson));
}

#[test]
fn the_first_engage_events_do_not_drift() {
    let scenario = Scenario {
        audience_track_events: true,
        ..Scenario::default()
    };
    let ndjson: String = Generator::new(scenario, 1)
        .unwrap()
        .filter(|e| e.meta.kind.is_engage())
        .take(4)
        .map(|e| e.json + "\n")
        .collect();
    settings().bind(|| insta::assert_snapshot!("engage_seed_1", ndjson));
}
