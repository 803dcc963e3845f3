//! Memory benchmark: resident memory of 1,000,000 customer profiles × 8 attributes.
//!
//! Run: `cargo bench -p talon-fake --bench memory` (set `PROFILES=n` to change the count).
//! Prints VmRSS (from /proc/self/status) before and after loading.
#![allow(clippy::print_stdout)]

use serde_json::{Map, Value, json};
use talon_fake::{Fake, FakeConfig, StateFile};

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
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
