//! End-to-end throughput: `talon-harness simulate` on 100,000 events against the fake's raw request rate, same run.
//!
//! `cargo bench -p talon-harness --bench simulate` (needs `wrk` on PATH:
//! `apt-get install -y wrk`). Each round measures, one after the other:
//! 1. the fake's raw rate: `wrk -t1 -c32` sending `PUT /v2/customer_profiles/{id}`
//!    to an embedded fake (every rule, journal on), as talon-fake's own
//!    throughput benchmark does;
//! 2. `talon-harness simulate --users 10000 --events 100000` as a whole
//!    process: generation, mapping, delivery over loopback (hyper's HTTP/1
//!    client, one connection per lane), fake, and verification excluded from
//!    the timed part (the command times delivery).
//!
//! It prints both per round, the medians, and the ratio simulate/raw (the
//! target is at least 0.6). `ROUNDS` (default 3) and `DURATION` (wrk, default 5s).
//!
//! `DESTINATION=actions` measures the Talon.One (Actions) destination instead: the raw
//! rate is wrk sending the relay's `PUT /segment/v2/customer_profiles/{id}` with the
//! Actions destination's headers (the demo deployment's Segment key and host), and the
//! run is `simulate --destination actions` (its ratio's target is at least 0.5), whose
//! scenario sends commerce tracks too (more than one request per event). The relay's
//! 60-requests-per-second limit is off for the figure, in the fake here and in `simulate`
//! (its default).
//!
//! Take figures on a quiet machine: simulate runs the fake in its own process,
//! so it shares the cores with it, and other load slows the two sides unequally.

// A benchmark prints, reads the environment and runs processes.
#![allow(clippy::print_stdout, clippy::disallowed_methods)]

use std::process::Command;

use bench_support::median;
use talon_fake::{Fake, FakeConfig, MockServer, StateFile};

const BODY: &str = r#"{"attributes":{"email":"peter@example.com","firstName":"Peter","lastName":"Gibbons","plan":"premium","logins":5,"address_city":"San Francisco","company_name":"Initech","createdAt":"2015-02-23T22:28:55.111Z"}}"#;

fn wrk_rate(url: &str, script: &std::path::Path, duration: &str) -> Option<f64> {
    bench_support::run_wrk(url, script, duration, "32").map(|r| r.rps)
}

/// The wrk script of the relay's profile update, as the Actions destination sends it.
fn relay_script(body: &str) -> String {
    format!(
        "wrk.method = \"PUT\"\nwrk.body = '{body}'\nwrk.headers[\"content-type\"] = \"application/json\"\nwrk.headers[\"authorization\"] = \"ApiKey-v1 segment-demo-relay-key\"\nwrk.headers[\"destination-hostname\"] = \"https://mycompany.europe-west1.talon.one\"\nwrk.headers[\"user-agent\"] = \"Segment (Actions)\"\ncounter = 0\nrequest = function()\n  counter = counter + 1\n  return wrk.format(nil, \"/segment/v2/customer_profiles/user-\" .. (counter % 100000) .. \"?skipNonExistingAttributes=true\")\nend\n"
    )
}

fn simulate(actions: bool) -> Option<(f64, f64, bool)> {
    let mut args = vec![
        "simulate", "--users", "10000", "--events", "100000", "--report", "json",
    ];
    if actions {
        args.extend(["--destination", "actions"]);
    }
    let output = Command::new(env!("CARGO_BIN_EXE_talon-harness"))
        .args(args)
        .output()
        .ok()?;
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).ok()?;
    let seconds = report["seconds"].as_f64()?;
    let requests = report["summary"]["requests"].as_f64()?;
    Some((
        report["eventsPerSecond"].as_f64()?,
        requests / seconds,
        report["passed"] == true,
    ))
}

fn main() {
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let duration = std::env::var("DURATION").unwrap_or_else(|_| "5s".into());
    let actions = std::env::var("DESTINATION").is_ok_and(|d| d == "actions");
    let name = format!("talon-harness-bench-{}.lua", std::process::id());
    let written = if actions {
        let path = std::env::temp_dir().join(&name);
        let body = r#"{"audiencesChanges":{},"runRuleEngine":true,"attributes":{"email":"peter@example.com","firstName":"Peter","lastName":"Gibbons","plan":"premium","logins":5,"createdAt":"2015-02-23T22:28:55.111Z"}}"#;
        std::fs::write(&path, relay_script(body)).map(|()| path)
    } else {
        bench_support::write_wrk_script(&std::env::temp_dir(), &name, BODY)
    };
    let Ok(script) = written else {
        println!("cannot write the wrk script");
        return;
    };
    if actions {
        println!("the Talon.One (Actions) destination, through the relay");
    }
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let (mut raw, mut sim, mut sim_requests, mut ratios) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    println!(
        "round  fake raw req/s (wrk -t1 -c32)  simulate events/s  simulate requests/s  verified  ratio"
    );
    for round in 1..=rounds {
        // The relay's 60 requests per second off, as `simulate` has it by default: the figure
        // is the pipeline's, not Talon.One's limit.
        let config = FakeConfig {
            relay_rate_limit: None,
            ..FakeConfig::default()
        };
        let fake = Fake::new(StateFile::default_state(), config).expect("default state");
        let server = runtime.block_on(MockServer::start(fake)).expect("a server");
        let Some(r) = wrk_rate(&server.uri(), &script, &duration) else {
            println!("wrk failed (is it installed? apt-get install -y wrk)");
            return;
        };
        runtime.block_on(server.shutdown());
        let Some((s, requests, verified)) = simulate(actions) else {
            println!("talon-harness simulate failed");
            return;
        };
        println!(
            "{round:>5}  {r:>29.0}  {s:>17.0}  {requests:>19.0}  {verified:>8}  {:>5.2}",
            s / r
        );
        raw.push(r);
        sim.push(s);
        sim_requests.push(requests);
        ratios.push(s / r);
    }
    let _ = std::fs::remove_file(&script);
    println!(
        "median {:>29.0}  {:>17.0}  {:>19.0}            {:>5.2}",
        median(&mut raw),
        median(&mut sim),
        median(&mut sim_requests),
        median(&mut ratios)
    );
}
