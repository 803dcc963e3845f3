//! Throughput benchmark: the fake's `PUT /v2/customer_profiles/{id}` (every rule, journal on)
//! and the Segment relay's `PUT /segment/v2/customer_profiles/{id}` (every rule, journal on,
//! the relay's rate limit off so the figure measures the relay, not the limit) against a bare
//! axum handler that only parses the JSON body, same load generator, same run (the bare
//! handler answers both requests, so the relay is also compared with it on the relay's own
//! request, its extra headers included). A further side,
//! the relay with its rate limit counting every request (a limit no run reaches), shows what
//! the limit's bookkeeping costs.
//!
//! Run: `cargo bench -p talon-fake --bench throughput` (needs `wrk` on PATH;
//! `DURATION=10s CONNECTIONS=32 ROUNDS=3` by default, as `wrk -t1 -c32`). Prints req/s, the
//! ratios, p99 latency and VmRSS samples of the process, and requests per CPU second of the
//! server process for each side (a ratio that holds better than req/s when the machine is
//! shared). Take the figures on a quiet machine.
#![allow(clippy::print_stdout)]

use axum::Router;
use axum::body::Bytes;
use axum::routing::put;
use bench_support::{WrkReport, median, rss_mib};
use talon_fake::{Fake, FakeConfig, MockServer, StateFile};

const BODY: &str = r#"{"attributes":{"email":"peter@example.com","firstName":"Peter","lastName":"Gibbons","plan":"premium","logins":5,"address_city":"San Francisco","company_name":"Initech","createdAt":"2015-02-23T22:28:55.111Z"},"audiencesChanges":{"adds":[],"deletes":[]}}"#;

/// What `updateCustomerProfileV3` sends: the same attributes, `runRuleEngine` and an empty
/// `audiencesChanges` (`talon-actions-destination.md` §2.6).
const RELAY_BODY: &str = r#"{"audiencesChanges":{},"runRuleEngine":true,"attributes":{"email":"peter@example.com","firstName":"Peter","lastName":"Gibbons","plan":"premium","logins":5,"address_city":"San Francisco","company_name":"Initech","createdAt":"2015-02-23T22:28:55.111Z"}}"#;

/// The wrk script of the relay: `PUT /segment/v2/customer_profiles/user-{counter % 100000}`
/// with the Actions destination's headers and the default state's Segment key and deployment.
fn relay_wrk_script(body: &str) -> String {
    format!(
        "wrk.method = \"PUT\"\nwrk.body = '{body}'\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.headers[\"Authorization\"] = \"ApiKey-v1 segment-demo-relay-key\"\nwrk.headers[\"destination-hostname\"] = \"https://mycompany.europe-west1.talon.one\"\nwrk.headers[\"User-Agent\"] = \"Segment (Actions)\"\ncounter = 0\nrequest = function()\n  counter = counter + 1\n  return wrk.format(nil, \"/segment/v2/customer_profiles/user-\" .. (counter % 100000))\nend\n"
    )
}

const EMPTY_STATE: &str = r#"{"effects":[],"createdCoupons":[],"createdReferrals":[]}"#;

async fn bare(body: Bytes) -> (axum::http::StatusCode, &'static str) {
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(_) => (axum::http::StatusCode::OK, EMPTY_STATE),
        Err(_) => (axum::http::StatusCode::BAD_REQUEST, "{}"),
    }
}

/// CPU seconds this process has used (user + system, from `/proc/self/stat`; `None` elsewhere).
///
/// Requests per CPU second compare the fake and the bare handler even on a shared machine,
/// where the rate of each depends on what else runs (the load generator runs apart).
fn cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    // USER_HZ is 100 on Linux.
    Some(ticks / 100.0)
}

/// Runs wrk in a blocking thread (the server keeps the runtime workers) and parses its report.
async fn run_wrk(
    url: &str,
    script: &std::path::Path,
    duration: &str,
    conns: &str,
) -> Option<WrkReport> {
    let (url, script) = (url.to_owned(), script.to_owned());
    let (duration, conns) = (duration.to_owned(), conns.to_owned());
    tokio::task::spawn_blocking(move || bench_support::run_wrk(&url, &script, &duration, &conns))
        .await
        .ok()?
}

/// One side of the comparison: its name, base URL and wrk script.
struct Side {
    name: &'static str,
    url: String,
    script: std::path::PathBuf,
}

/// A fake with the default state and the relay's rate limit at `relay_rate_limit`, served.
async fn start_fake(relay_rate_limit: Option<u32>) -> Option<MockServer> {
    let config = FakeConfig {
        relay_rate_limit,
        ..FakeConfig::default()
    };
    let fake = match Fake::new(StateFile::default_state(), config) {
        Ok(f) => f,
        Err(e) => {
            println!("state: {e}");
            return None;
        }
    };
    MockServer::start(fake).await.ok()
}

fn main() {
    let duration = std::env::var("DURATION").unwrap_or_else(|_| "10s".to_owned());
    let conns = std::env::var("CONNECTIONS").unwrap_or_else(|_| "32".to_owned());
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            println!("runtime: {e}");
            return;
        }
    };
    rt.block_on(async move {
        let dir = std::env::temp_dir().join(format!("talon-fake-bench-{}", std::process::id()));
        let Ok(script) = bench_support::write_wrk_script(&dir, "put.lua", BODY) else {
            println!("cannot write the wrk script");
            return;
        };
        let relay_script = dir.join("relay.lua");
        if std::fs::write(&relay_script, relay_wrk_script(RELAY_BODY)).is_err() {
            println!("cannot write the relay's wrk script");
            return;
        }
        // The bare handler: same route shapes, only parses the JSON body.
        let bare_app = Router::new()
            .route("/v2/customer_profiles/{id}", put(bare))
            .route("/segment/v2/customer_profiles/{id}", put(bare));
        let Ok(bare_listener) = tokio::net::TcpListener::bind("127.0.0.1:0").await else {
            println!("cannot bind");
            return;
        };
        let Ok(bare_addr) = bare_listener.local_addr() else { return };
        tokio::spawn(async move {
            let _ = axum::serve(bare_listener, bare_app).await;
        });
        // The fake with the relay's rate limit off (its /v2 path does not consult it), and one
        // whose relay counts every request against a limit no run reaches.
        let Some(server) = start_fake(None).await else {
            println!("cannot start the fake");
            return;
        };
        let Some(counting) = start_fake(Some(u32::MAX)).await else {
            println!("cannot start the fake");
            return;
        };
        let sides = [
            Side { name: "bare", url: format!("http://{bare_addr}"), script: script.clone() },
            Side { name: "fake /v2", url: server.uri(), script: script.clone() },
            Side { name: "bare relay-request", url: format!("http://{bare_addr}"), script: relay_script.clone() },
            Side { name: "relay", url: server.uri(), script: relay_script.clone() },
            Side { name: "relay+limit", url: counting.uri(), script: relay_script },
        ];

        let rounds: usize = std::env::var("ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(3);
        println!("load generator: wrk -t1 -c{conns} -d{duration} (the /v2 script for bare and fake, the relay's for the relay), {rounds} alternating rounds");
        let rss_start = rss_mib();
        let secs: f64 = duration.trim_end_matches('s').parse().unwrap_or(10.0);
        // Per side: req/s ratios to bare, p99s, per-CPU-second ratios to bare.
        let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); sides.len()];
        let mut p99s: Vec<Vec<f64>> = vec![Vec::new(); sides.len()];
        let mut cpu_ratios: Vec<Vec<f64>> = vec![Vec::new(); sides.len()];
        let mut rss = Vec::new();
        let mut same_request = Vec::new();
        for round in 1..=rounds {
            let mut line = format!("round {round}:");
            let mut bare_rps = 1.0;
            let mut bare_per_cpu = None;
            for (i, side) in sides.iter().enumerate() {
                let c0 = cpu_secs();
                let Some(r) = run_wrk(&side.url, &side.script, &duration, &conns).await else {
                    println!("wrk failed (is it installed? apt-get install -y wrk)");
                    return;
                };
                let c1 = cpu_secs();
                // Requests per CPU second of the server process.
                let per_cpu = match (c0, c1) {
                    (Some(c0), Some(c1)) if c1 > c0 => Some(r.rps * secs / (c1 - c0)),
                    _ => None,
                };
                if i == 0 {
                    bare_rps = r.rps.max(1.0);
                    bare_per_cpu = per_cpu;
                }
                ratios[i].push(r.rps / bare_rps);
                p99s[i].push(r.p99_ms);
                if let (Some(b), Some(f)) = (bare_per_cpu, per_cpu) {
                    cpu_ratios[i].push(f / b);
                }
                line.push_str(&format!(
                    " | {} {:.0} req/s p99 {:.2} ms non-2xx {} ratio {:.2} per-CPU-s {}",
                    side.name,
                    r.rps,
                    r.p99_ms,
                    r.non_2xx,
                    r.rps / bare_rps,
                    per_cpu.map_or_else(|| "-".to_owned(), |v| format!("{v:.0}")),
                ));
            }
            // The relay against the bare handler answering the relay's own request (same
            // headers, path and body).
            if let (Some(r), Some(b)) = (ratios[3].last(), ratios[2].last()) {
                same_request.push(r / b.max(f64::MIN_POSITIVE));
            }
            rss.push(rss_mib());
            println!("{line} | VmRSS {:.0} MiB", rss_mib());
        }
        for (i, side) in sides.iter().enumerate().skip(1) {
            let cpu = if cpu_ratios[i].is_empty() {
                String::new()
            } else {
                format!(", requests per CPU second {:.2}", median(&mut cpu_ratios[i]))
            };
            println!(
                "median {}/bare: req/s {:.2}{cpu}; p99 {:.2} ms",
                side.name,
                median(&mut ratios[i]),
                median(&mut p99s[i]),
            );
        }
        let fake_ratio = median(&mut ratios[1]);
        let relay_ratio = median(&mut ratios[3]);
        println!("median relay/bare on the relay's own request: req/s {:.2}", median(&mut same_request));
        let p99 = median(&mut p99s[1]);
        println!("median ratio fake/bare: {fake_ratio:.2} (target >= 0.85, on a quiet machine) -> {}", if fake_ratio >= 0.85 { "PASS" } else { "FAIL" });
        println!("median ratio relay/bare: {relay_ratio:.2} (target >= 0.8, on a quiet machine) -> {}", if relay_ratio >= 0.8 { "PASS" } else { "FAIL" });
        println!("median fake p99: {p99:.2} ms (target < 5 ms) -> {}", if p99 < 5.0 { "PASS" } else { "FAIL" });
        let rss_end = rss_mib();
        let j = server.fake().journal();
        println!(
            "journal: {} entries kept (cap {}), {} dropped; profiles stored: {}",
            j.len(),
            talon_fake::DEFAULT_JOURNAL_CAP,
            server.fake().journal_dropped(),
            server.fake().profile_count()
        );
        println!("VmRSS: {rss_start:.0} MiB before the first round, {rss_end:.0} MiB after the last (per round: {rss:.0?})");
        server.shutdown().await;
        counting.shutdown().await;
    });
}
