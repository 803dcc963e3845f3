//! Golden hashes of whole runs: the NDJSON and the streamed ledger of a few seeds and
//! profiles, pinned before the generator was split into modules, so no refactor
//! changes a byte of what a seed generates.
//!
//! The snapshots in `snapshots.rs` show the first events readably; these cover
//! every byte of longer runs (login, updates, anonymous identifies, Engage
//! syncs, edge traits, nulls) where a snapshot would be too large to review.

use segment_gen::{Generator, Scenario};

use crate::support::{small, small_edge};

/// FNV-1a, 64 bits: fixed and portable, enough to notice any changed byte.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// (events, hash of the NDJSON, hash of the streamed ledger JSON).
fn fingerprint(scenario: Scenario, seed: u64) -> (u64, u64, u64) {
    let mut generator = Generator::new(scenario, seed).unwrap();
    let mut ndjson = Vec::new();
    let events = generator.write_ndjson(&mut ndjson).unwrap();
    let mut ledger = Vec::new();
    generator.write_ledger(&mut ledger).unwrap();
    (events, fnv1a(&ndjson), fnv1a(&ledger))
}

fn engage(users: u32, days: u32) -> Scenario {
    Scenario {
        audience_track_events: true,
        duplicate_enter_share: 0.2,
        ..small(users, days)
    }
}

#[test]
fn whole_runs_hash_as_they_did_before_the_split() {
    let runs = [
        ("realistic seed 1", small(300, 30), 1),
        ("realistic seed 7", small(500, 60), 7),
        ("realistic seed 42", small(200, 20), 42),
        ("edge seed 1", small_edge(150, 20), 1),
        ("edge seed 9", small_edge(80, 40), 9),
        ("engage seed 3", engage(250, 30), 3),
    ];
    let got: Vec<(&str, (u64, u64, u64))> = runs
        .into_iter()
        .map(|(name, scenario, seed)| (name, fingerprint(scenario, seed)))
        .collect();
    let pinned = vec![
        (
            "realistic seed 1",
            (3389, 2055984205965453775, 10536557326676310576),
        ),
        (
            "realistic seed 7",
            (10307, 13298892046985555255, 4792184928655683037),
        ),
        (
            "realistic seed 42",
            (1863, 2166380199504022532, 15847588978699748854),
        ),
        (
            "edge seed 1",
            (1856, 14895620626688544374, 7211891819424168477),
        ),
        (
            "edge seed 9",
            (1689, 5064371265346320419, 11996137031510858738),
        ),
        (
            "engage seed 3",
            (4190, 265275637845044289, 8413327906270384728),
        ),
    ];
    assert_eq!(got, pinned);
}

#[test]
fn whole_actions_runs_hash_as_pinned() {
    let runs = [
        (
            "actions seed 1",
            Scenario {
                users: 300,
                days: 30,
                ..Scenario::actions()
            },
            1,
        ),
        ("edge actions seed 9", small_edge(120, 30).with_actions(), 9),
    ];
    let got: Vec<(&str, (u64, u64, u64))> = runs
        .into_iter()
        .map(|(name, scenario, seed)| (name, fingerprint(scenario, seed)))
        .collect();
    let pinned = vec![
        (
            "actions seed 1",
            (19117, 15722707812843880790, 896177963709770563),
        ),
        (
            "edge actions seed 9",
            (8053, 15114865929903911254, 4455269066571286786),
        ),
    ];
    assert_eq!(got, pinned);
}
