//! Running Segment's own destination code: `oracles/segment/actions.mjs` under Node.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The versions the Actions destination reproduces: a different install is a different oracle.
pub(crate) const PINNED: [(&str, &str); 2] = [
    ("@segment/action-destinations", "3.497.0"),
    ("@segment/actions-core", "3.170.0"),
];

/// `oracles/segment/` at the workspace root.
pub(crate) fn oracle_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../oracles/segment")
}

/// Why the oracle cannot run, in words that say how to fix it; `None` when it can.
pub(crate) fn not_installed_in(dir: &Path) -> Option<String> {
    for (package, version) in PINNED {
        let manifest = dir.join("node_modules").join(package).join("package.json");
        let installed = std::fs::read_to_string(&manifest)
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok());
        let Some(installed) = installed else {
            return Some(format!(
                "Segment's destination code ({package}) is not installed in {}: run \
                 `npm ci --prefix oracles/segment` (`.ci/test` does it) and run the test again",
                dir.display()
            ));
        };
        if installed["version"].as_str() != Some(version) {
            return Some(format!(
                "{package} {} is installed in {}, the test reproduces {version}: run \
                 `npm ci --prefix oracles/segment` (`.ci/test` does it)",
                installed["version"],
                dir.display()
            ));
        }
    }
    None
}

/// The output lines of `node actions.mjs <args>`, parsed, or why there are none.
pub(crate) fn run(args: &[&Path]) -> Result<Vec<Value>, String> {
    let dir = oracle_dir();
    if let Some(why) = not_installed_in(&dir) {
        return Err(why);
    }
    let script = dir.join("actions.mjs");
    let output = Command::new("node")
        .arg(&script)
        .args(args)
        .output()
        .map_err(|e| {
            format!(
                "cannot run `node` ({e}): Node.js 20 or later must be on PATH to run Segment's code"
            )
        })?;
    if !output.status.success() {
        return Err(format!(
            "`node {} {args:?}` failed ({}): {}",
            script.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let stdout = String::from_utf8(output.stdout)
        .map_err(|e| format!("the oracle wrote non-UTF-8 output: {e}"))?;
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).map_err(|e| format!("oracle line {l:?}: {e}")))
        .collect()
}

/// Segment's answers to `lines`, one per line, in order; panics with the reason otherwise.
pub(crate) fn answers(name: &str, lines: &[String]) -> Vec<Value> {
    let file = write_lines(name, lines);
    let answers = run(&[&file]).unwrap_or_else(|why| panic!("{why}"));
    assert_eq!(
        answers.len(),
        lines.len(),
        "one oracle answer per input line"
    );
    answers
}

/// Writes `lines` to a file of its own under Cargo's temp dir for integration tests.
pub(crate) fn write_lines(name: &str, lines: &[String]) -> PathBuf {
    let file = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("talon-mapper-actions-differential-{name}.ndjson"));
    std::fs::write(&file, lines.join("\n") + "\n")
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", file.display()));
    file
}
