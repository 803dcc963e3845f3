//! Helpers the workspace's benchmarks share, so each bench keeps only what it measures.
//!
//! - [`median`] of a round's figures;
//! - [`rss_mib`] and [`hwm_mib`]: resident and peak resident memory from `/proc/self/status`;
//! - [`wrk_put_script`] and [`write_wrk_script`]: the wrk Lua script that sends
//!   `PUT /v2/customer_profiles/user-{n}` with a body, over 100,000 ids;
//! - [`run_wrk`]: runs `wrk -t1` and reads its report ([`WrkReport`]).
//!
//! ```
//! assert_eq!(bench_support::median(&mut [3.0, 1.0, 2.0]), 2.0);
//! assert!(bench_support::wrk_put_script("{}").contains("wrk.body = '{}'"));
//! ```

// A benchmark reads /proc and runs wrk: this crate is only ever a dev-dependency.
#![allow(clippy::disallowed_methods)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The middle value once sorted (the upper one of an even count); NaN when empty.
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// This process's resident memory (`VmRSS`) in MiB; 0 where `/proc` has none.
pub fn rss_mib() -> f64 {
    status_mib(&proc_status(), "VmRSS:")
}

/// This process's peak resident memory (`VmHWM`) in MiB; 0 where `/proc` has none.
pub fn hwm_mib() -> f64 {
    status_mib(&proc_status(), "VmHWM:")
}

fn proc_status() -> String {
    std::fs::read_to_string("/proc/self/status").unwrap_or_default()
}

/// The `field` line of a `/proc/<pid>/status` text (in kB) as MiB; 0 when absent.
pub fn status_mib(status: &str, field: &str) -> f64 {
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The wrk Lua script: `PUT /v2/customer_profiles/user-{counter % 100000}` with
/// `body` (JSON without a `'`), the integration key of the default state.
pub fn wrk_put_script(body: &str) -> String {
    format!(
        "wrk.method = \"PUT\"\nwrk.body = '{body}'\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.headers[\"Authorization\"] = \"ApiKey-v1 segment-demo-integration-key\"\ncounter = 0\nrequest = function()\n  counter = counter + 1\n  return wrk.format(nil, \"/v2/customer_profiles/user-\" .. (counter % 100000))\nend\n"
    )
}

/// Writes [`wrk_put_script`] of `body` to `dir/name` (creating `dir`) and returns its path.
pub fn write_wrk_script(dir: &Path, name: &str, body: &str) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(name);
    std::fs::write(&path, wrk_put_script(body))?;
    Ok(path)
}

/// What a wrk run reported.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WrkReport {
    /// `Requests/sec`.
    pub rps: f64,
    /// The 99th percentile latency in ms (NaN when not reported).
    pub p99_ms: f64,
    /// `Non-2xx or 3xx responses` (0 when not reported).
    pub non_2xx: u64,
}

/// Runs `wrk -t1 -c{conns} -d{duration} --latency -s script url` (blocking) and
/// reads its report; `None` when wrk cannot run or reports no rate.
pub fn run_wrk(url: &str, script: &Path, duration: &str, conns: &str) -> Option<WrkReport> {
    let out = Command::new("wrk")
        .args([
            "-t1",
            &format!("-c{conns}"),
            &format!("-d{duration}"),
            "--latency",
            "-s",
        ])
        .arg(script)
        .arg(url)
        .output()
        .ok()?;
    parse_wrk(&String::from_utf8_lossy(&out.stdout))
}

/// Reads wrk's text report; `None` when it has no positive `Requests/sec`.
pub fn parse_wrk(report: &str) -> Option<WrkReport> {
    let mut r = WrkReport {
        rps: 0.0,
        p99_ms: f64::NAN,
        non_2xx: 0,
    };
    for line in report.lines() {
        let t = line.trim();
        if let Some(v) = t.strip_prefix("Requests/sec:") {
            r.rps = v.trim().parse().unwrap_or(0.0);
        } else if let Some(v) = t.strip_prefix("99%") {
            r.p99_ms = parse_ms(v);
        } else if let Some(v) = t.strip_prefix("Non-2xx or 3xx responses:") {
            r.non_2xx = v.trim().parse().unwrap_or(0);
        }
    }
    (r.rps > 0.0).then_some(r)
}

/// A wrk latency (`812.00us`, `1.20ms`, `2.00s`) in ms; NaN when unreadable.
fn parse_ms(s: &str) -> f64 {
    let s = s.trim();
    if let Some(v) = s.strip_suffix("us") {
        v.parse::<f64>().unwrap_or(f64::NAN) / 1000.0
    } else if let Some(v) = s.strip_suffix("ms") {
        v.parse::<f64>().unwrap_or(f64::NAN)
    } else if let Some(v) = s.strip_suffix('s') {
        v.parse::<f64>().unwrap_or(f64::NAN) * 1000.0
    } else {
        f64::NAN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_is_the_middle_once_sorted_and_nan_when_empty() {
        assert_eq!(median(&mut [5.0, 1.0, 3.0]), 3.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 3.0);
        assert!(median(&mut []).is_nan());
    }

    #[test]
    fn a_status_field_in_kb_reads_as_mib() {
        let status = "Name:\tbench\nVmHWM:\t  4096 kB\nVmRSS:\t  2048 kB\n";
        assert_eq!(status_mib(status, "VmRSS:"), 2.0);
        assert_eq!(status_mib(status, "VmHWM:"), 4.0);
        assert_eq!(status_mib(status, "VmSwap:"), 0.0);
    }

    #[test]
    fn a_wrk_report_gives_its_rate_p99_and_errors() {
        let report = "  Latency Distribution\n     50%  300.00us\n     99%    1.50ms\n  Non-2xx or 3xx responses: 7\nRequests/sec:  81234.56\n";
        assert_eq!(
            parse_wrk(report),
            Some(WrkReport {
                rps: 81234.56,
                p99_ms: 1.5,
                non_2xx: 7
            })
        );
        assert_eq!(parse_ms("812.00us"), 0.812);
        assert_eq!(parse_ms("2.00s"), 2000.0);
        assert_eq!(parse_wrk("unable to connect"), None);
    }

    #[test]
    fn the_script_sends_the_body_to_a_hundred_thousand_profiles() {
        let lua = wrk_put_script(r#"{"attributes":{}}"#);
        assert!(lua.contains(r#"wrk.body = '{"attributes":{}}'"#), "{lua}");
        assert!(lua.contains("(counter % 100000)"), "{lua}");
        assert!(
            lua.contains("ApiKey-v1 segment-demo-integration-key"),
            "{lua}"
        );
    }
}
