//! `talon-harness gen`: the generator's output, byte for byte.

use crate::{harness, scratch};

#[test]
fn gen_writes_the_generators_ndjson_and_ledger() {
    let output = harness(&["gen", "--seed", "7", "--users", "20", "--days", "3"], b"");
    assert!(output.status.success());
    let mut expected = Vec::new();
    let scenario = segment_gen::Scenario {
        users: 20,
        days: 3,
        ..segment_gen::Scenario::default()
    };
    let mut generator = segment_gen::Generator::new(scenario, 7).unwrap();
    generator.write_ndjson(&mut expected).unwrap();
    assert_eq!(output.stdout, expected);

    let dir = scratch("gen");
    let ledger = dir.join("ledger.json");
    let out = dir.join("events.ndjson");
    let output = harness(
        &[
            "gen",
            "--seed",
            "7",
            "--users",
            "20",
            "--days",
            "3",
            "--out",
            out.to_str().unwrap(),
            "--ledger",
            ledger.to_str().unwrap(),
        ],
        b"",
    );
    assert!(output.status.success());
    assert_eq!(std::fs::read(&out).unwrap(), expected);
    let ledger: segment_gen::Ledger =
        serde_json::from_slice(&std::fs::read(&ledger).unwrap()).unwrap();
    assert_eq!(ledger, generator.ledger());
}
