//! Running Segment's own code: `oracles/segment/eval.mjs` under Node, over a file of lines.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `oracles/segment/` at the workspace root.
pub(crate) fn oracle_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../oracles/segment")
}

/// Why the oracle cannot run, in words that say how to fix it; `None` when it can.
pub(crate) fn not_installed() -> Option<String> {
    not_installed_in(&oracle_dir())
}

/// [`not_installed`] for an oracle folder `dir`.
pub(crate) fn not_installed_in(dir: &Path) -> Option<String> {
    if !dir.join("node_modules/@segment/actions-core").is_dir() {
        return Some(format!(
            "Segment's code is not installed in {}: run `npm ci --prefix oracles/segment` \
             (`.ci/test` does it) and run the test again",
            dir.display()
        ));
    }
    None
}

/// The output lines of `node eval.mjs <mode> <input>`, or why there are none.
pub(crate) fn run(mode: &str, input: &Path) -> Result<Vec<String>, String> {
    if let Some(why) = not_installed() {
        return Err(why);
    }
    let script = oracle_dir().join("eval.mjs");
    let output = Command::new("node")
        .arg(&script)
        .arg(mode)
        .arg(input)
        .output()
        .map_err(|e| {
            format!(
                "cannot run `node` ({e}): Node.js 20 or later must be on PATH to run Segment's code"
            )
        })?;
    if !output.status.success() {
        return Err(format!(
            "`node {} {mode} {}` failed ({}): {}",
            script.display(),
            input.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let stdout = String::from_utf8(output.stdout)
        .map_err(|e| format!("the oracle wrote non-UTF-8 output: {e}"))?;
    Ok(stdout.lines().map(str::to_owned).collect())
}

/// Writes `lines` to a file of its own under Cargo's temp dir for integration tests.
pub(crate) fn write_lines(name: &str, lines: &[String]) -> PathBuf {
    let file = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("segment-mapping-differential-{name}.ndjson"));
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(&file, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", file.display()));
    file
}
