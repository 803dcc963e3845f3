//! Memory benchmark: resident memory of 1,000,000 customer profiles × 8 attributes.
//!
//! Run: `cargo bench -p talon-fake --bench memory` (set `PROFILES=n` to change the count).
//! Prints VmRSS (from /proc/self/status) before and after loading. Take figures on a quiet
//! machine (nothing else allocating heavily: the page cache and other processes do not count
//! in VmRSS, but a loaded machine makes the timings of the `MODE=state-*` runs meaningless).
//!
//! `MODE=journal cargo bench -p talon-fake --bench memory`: 1,500 requests over a socket,
//! each with a 300 KB header (the header cap raised to let them in), then VmRSS and what the
//! journal accounts.
//!
//! `MODE=state-dump|state-stream|state-http` (with `PROFILES=n`, default 1,000,000): loads the
//! profiles, then writes the whole state once, and prints the peak resident memory (VmHWM)
//! before and after: `state-dump` builds it (`state_dump().to_json_pretty()`, what
//! `/__admin/state` did before), `state-stream` streams it (`Fake::write_state` to a sink),
//! `state-http` reads `GET /__admin/state` over a socket (the server streams it).
#![allow(clippy::print_stdout)]

use bench_support::{hwm_mib, rss_mib};
use serde_json::{Map, Value, json};
use talon_fake::{Fake, FakeConfig, StateFile};

fn journal() {
    let fake = match Fake::new(
        StateFile::default_state(),
        FakeConfig {
            max_header_bytes: 1024 * 1024,
            ..FakeConfig::default()
        },
    ) {
        Ok(f) => f,
        Err(e) => {
            println!("cannot load the default state: {e}");
            return;
        }
    };
    let Ok(rt) = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    else {
        println!("no runtime");
        return;
    };
    let Ok(server) = rt.block_on(talon_fake::MockServer::start(fake)) else {
        println!("cannot start");
        return;
    };
    let before = rss_mib();
    let big = "u".repeat(300_000);
    let request = format!(
        "GET /v2/authping HTTP/1.1\r\nHost: x\r\nAuthorization: ApiKey-v1 segment-demo-integration-key\r\nUser-Agent: {big}\r\nConnection: close\r\n\r\n"
    );
    for _ in 0..1500 {
        use std::io::{Read, Write};
        let Ok(mut s) = std::net::TcpStream::connect(server.address()) else {
            println!("cannot connect");
            return;
        };
        let mut out = Vec::new();
        if s.write_all(request.as_bytes()).is_err() || s.read_to_end(&mut out).is_err() {
            println!("request failed");
            return;
        }
    }
    let after = rss_mib();
    println!("journal entries:     {}", server.fake().journal().len());
    println!("journal dropped:     {}", server.fake().journal_dropped());
    println!(
        "journal accounted:   {:.0} MiB",
        server.fake().journal_bytes() as f64 / 1_048_576.0
    );
    println!("VmRSS before:        {before:.0} MiB");
    println!("VmRSS after:         {after:.0} MiB");
}

fn state(mode: &str, n: usize) {
    let Ok(fake) = Fake::new(StateFile::default_state(), FakeConfig::default()) else {
        println!("cannot load the default state");
        return;
    };
    let mut attrs = Map::new();
    for i in 0..n {
        attrs.clear();
        attrs.insert("email".into(), json!(format!("user{i}@example.com")));
        attrs.insert("firstName".into(), json!("Peter"));
        attrs.insert("logins".into(), json!(i % 100));
        attrs.insert("company_name".into(), json!("Initech"));
        if let Err(e) = fake.upsert_profile(1, &format!("user-{i:07}"), &attrs) {
            println!("profile {i} rejected: {e}");
            return;
        }
    }
    let loaded = hwm_mib();
    let start = std::time::Instant::now();
    let bytes = match mode {
        "state-dump" => fake.state_dump().to_json_pretty().len(),
        "state-stream" => {
            let mut counter = Counter(0);
            if let Err(e) = fake.write_state(&mut counter, false) {
                println!("write failed: {e}");
            }
            counter.0
        }
        _ => {
            let Ok(rt) = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            let Ok(server) = rt.block_on(talon_fake::MockServer::start(fake)) else {
                return;
            };
            use std::io::{Read, Write};
            let Ok(mut s) = std::net::TcpStream::connect(server.address()) else {
                return;
            };
            let _ =
                s.write_all(b"GET /__admin/state HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            let mut buf = vec![0u8; 64 * 1024];
            let mut total = 0;
            while let Ok(k) = s.read(&mut buf) {
                if k == 0 {
                    break;
                }
                total += k;
            }
            total
        }
    };
    println!("mode:                {mode}");
    println!("profiles:            {n}");
    println!("bytes written:       {bytes}");
    println!(
        "time:                {:.2} s",
        start.elapsed().as_secs_f64()
    );
    println!("VmHWM after load:    {loaded:.0} MiB");
    println!("VmHWM after write:   {:.0} MiB", hwm_mib());
}

/// A sink that counts.
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn main() {
    let mode = std::env::var("MODE").unwrap_or_default();
    if mode == "journal" {
        journal();
        return;
    }
    if mode.starts_with("state") {
        let n = std::env::var("PROFILES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1_000_000);
        state(&mode, n);
        return;
    }
    let n: usize = std::env::var("PROFILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let fake = match Fake::new(StateFile::default_state(), FakeConfig::default()) {
        Ok(f) => f,
        Err(e) => {
            println!("cannot load the default state: {e}");
            return;
        }
    };
    let before = rss_mib();
    let start = std::time::Instant::now();
    let mut attrs = Map::new();
    for i in 0..n {
        attrs.clear();
        attrs.insert("email".into(), json!(format!("user{i}@example.com")));
        attrs.insert("firstName".into(), json!("Peter"));
        attrs.insert("lastName".into(), json!(format!("Gibbons{}", i % 977)));
        attrs.insert(
            "plan".into(),
            json!(if i % 3 == 0 { "premium" } else { "free" }),
        );
        attrs.insert("logins".into(), json!(i % 100));
        attrs.insert("company_name".into(), json!("Initech"));
        attrs.insert("address_city".into(), json!("San Francisco"));
        attrs.insert(
            "createdAt".into(),
            Value::String("2015-02-23T22:28:55.111Z".into()),
        );
        if let Err(e) = fake.upsert_profile(1, &format!("user-{i:07}"), &attrs) {
            println!("profile {i} rejected: {e}");
            return;
        }
    }
    let after = rss_mib();
    println!("profiles:            {}", fake.profile_count());
    println!("attributes each:     8");
    println!(
        "load time:           {:.1} s",
        start.elapsed().as_secs_f64()
    );
    println!("VmRSS before load:   {before:.0} MiB");
    println!("VmRSS after load:    {after:.0} MiB");
    println!("VmRSS growth:        {:.0} MiB", after - before);
    println!(
        "limit (issue 3):     600 MB resident -> {}",
        if after * 1.048_576 <= 600.0 {
            "PASS"
        } else {
            "FAIL"
        }
    );
}
