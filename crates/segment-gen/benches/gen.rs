//! Throughput benchmark: events per second serialized to NDJSON on one core.
//!
//! Run: `cargo bench -p segment-gen --bench gen`. Prints one line per
//! profile with events, bytes and events/s (best of three runs). An absolute
//! figure: take it on a quiet machine, and compare two versions of the code
//! side by side in one session (the host's speed varies from day to day).
// A benchmark measures wall time and prints its result; the purity bans of
// the library do not apply here.
#![allow(clippy::disallowed_methods, clippy::print_stdout)]

use std::hint::black_box;
use std::time::Instant;

use segment_gen::{Generator, Scenario};

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: then
    // run a token amount so the target is still exercised.
    let quick = !std::env::args().any(|a| a == "--bench");
    let events: u64 = if quick { 10_000 } else { 3_000_000 };
    for (name, base) in [
        ("realistic", Scenario::default()),
        ("edge", Scenario::edge()),
        ("actions", Scenario::actions()),
    ] {
        let scenario = Scenario {
            users: 50_000,
            days: 365,
            max_events: Some(events),
            ..base
        };
        let mut best = f64::MAX;
        let mut bytes = 0usize;
        let mut emitted = 0;
        for _ in 0..if quick { 1 } else { 3 } {
            let mut generator = Generator::new(scenario.clone(), 7).expect("valid scenario");
            let mut buf = Vec::with_capacity(1 << 17);
            bytes = 0;
            let start = Instant::now();
            while generator.next_into(&mut buf).is_some() {
                if buf.len() >= 1 << 16 {
                    bytes += buf.len();
                    black_box(&buf);
                    buf.clear();
                }
            }
            bytes += buf.len();
            black_box(&buf);
            best = best.min(start.elapsed().as_secs_f64());
            emitted = generator.emitted();
        }
        println!(
            "gen/{name}: {emitted} events, {:.1} MB, {:.0} events/s, {:.0} MB/s",
            bytes as f64 / 1e6,
            emitted as f64 / best,
            bytes as f64 / 1e6 / best
        );
    }
}
