//! Throughput benchmark: the fake's `PUT /v2/customer_profiles/{id}` (every rule, journal on)
//! against a bare axum handler that only parses the JSON body, same load generator, same run.
//!
//! Run: `cargo bench -p talon-fake --bench throughput` (needs `wrk` on PATH;
//! `DURATION=10s CONNECTIONS=32` by default, as `wrk -t1 -c32`). Prints req/s, the
//! ratio, p99 latency and VmRSS samples of the process during the fake's run, and requests per
//! CPU second of the server process for each side (a ratio that holds better than req/s when
//! the machine is shared). Take the figures on a quiet machine.
#![allow(clippy::print_stdout)]

use axum::Router;
use axum::body::Bytes;
use axum::routing::put;
use bench_support::{WrkReport, median, rss_mib};
use talon_fake::{Fake, FakeConfig, MockServer, StateFile};

const BODY: &str = r#"{"attributes":{"email":"peter@example.com","firstName":"Peter","lastName":"Gibbons","plan":"premium","logins":5,"address_city":"San Francisco","company_name":"Initech","createdAt":"2015-02-23T22:28:55.111Z"},"audiencesChanges":{"adds":[],"deletes":[]}}"#;

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
        // The bare handler: same route shape, only parses the JSON body.
        let bare_app = Router::new().route("/v2/customer_profiles/{id}", put(bare));
        let Ok(bare_listener) = tokio::net::TcpListener::bind("127.0.0.1:0").await else {
            println!("cannot bind");
            return;
        };
        let Ok(bare_addr) = bare_listener.local_addr() else { return };
        tokio::spawn(async move {
            let _ = axum::serve(bare_listener, bare_app).await;
        });
        let fake = match Fake::new(StateFile::default_state(), FakeConfig::default()) {
            Ok(f) => f,
            Err(e) => {
                println!("state: {e}");
                return;
            }
        };
        let Ok(server) = MockServer::start(fake).await else {
            println!("cannot start the fake");
            return;
        };

        let rounds: usize = std::env::var("ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(3);
        println!("load generator: wrk -t1 -c{conns} -d{duration} (same script for both), {rounds} alternating rounds");
        let rss_start = rss_mib();
        let mut ratios = Vec::new();
        let mut p99s = Vec::new();
        let mut rss = Vec::new();
        let mut cpu_ratios = Vec::new();
        let secs: f64 = duration.trim_end_matches('s').parse().unwrap_or(10.0);
        for round in 1..=rounds {
            let c0 = cpu_secs();
            let Some(b) = run_wrk(&format!("http://{bare_addr}"), &script, &duration, &conns).await else {
                println!("wrk failed (is it installed? apt-get install -y wrk)");
                return;
            };
            let c1 = cpu_secs();
            let Some(f) = run_wrk(&server.uri(), &script, &duration, &conns).await else {
                println!("wrk failed");
                return;
            };
            let c2 = cpu_secs();
            let ratio = f.rps / b.rps.max(1.0);
            rss.push(rss_mib());
            // Requests per CPU second of the server process, each side.
            let per_cpu = match (c0, c1, c2) {
                (Some(c0), Some(c1), Some(c2)) if c1 > c0 && c2 > c1 => {
                    Some((b.rps * secs / (c1 - c0), f.rps * secs / (c2 - c1)))
                }
                _ => None,
            };
            let cpu_note = per_cpu.map_or_else(String::new, |(b, f)| {
                cpu_ratios.push(f / b);
                format!(" | req per CPU-s bare {b:.0} fake {f:.0} ratio {:.2}", f / b)
            });
            println!(
                "round {round}: bare {:>7.0} req/s p99 {:>5.2} ms | fake {:>7.0} req/s p99 {:>5.2} ms non-2xx {} | ratio {ratio:.2} | VmRSS {:.0} MiB{cpu_note}",
                b.rps, b.p99_ms, f.rps, f.p99_ms, f.non_2xx, rss_mib()
            );
            ratios.push(ratio);
            p99s.push(f.p99_ms);
        }
        if !cpu_ratios.is_empty() {
            println!("median CPU-efficiency ratio fake/bare (requests per CPU second of the server): {:.2}", median(&mut cpu_ratios));
        }
        let ratio = median(&mut ratios);
        let p99 = median(&mut p99s);
        println!("median ratio fake/bare: {ratio:.2} (target >= 0.85, on a quiet machine) -> {}", if ratio >= 0.85 { "PASS" } else { "FAIL" });
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
    });
}
