//! Integration tests of the `talon-harness` binary, run as a user runs it.

// Tests run the binary and read fixtures; the IO ban is for library code.
#![allow(clippy::disallowed_methods)]

mod bundles;
mod check;
mod check_actions;
mod cli;
mod deliver;
mod deliver_actions;
mod diff;
mod exit_codes;
mod faults;
mod gates;
mod generate;
mod map;
mod mapping;
mod pull;
mod replay;
mod repro_html;
mod round_trip;
mod serve;
mod simulate;
mod simulate_actions;

use std::process::{Command, Output};

/// The settings of every snapshot of this crate: stored in the workspace's
/// `snapshots/talon-harness/`, named without the module, without the expression.
pub(crate) fn snapshot_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../../../../snapshots/talon-harness");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings
}

/// Runs `talon-harness` with `args`, feeding `stdin`.
pub(crate) fn harness(args: &[&str], stdin: &[u8]) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_talon-harness"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary starts");
    // A command that stops before reading all of its input (a usage error)
    // closes the pipe: that is its answer, not a test failure.
    match child.stdin.take().expect("stdin").write_all(stdin) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other.expect("stdin is written"),
    }
    child.wait_with_output().expect("the binary ends")
}

/// A path under the repository root.
pub(crate) fn repo(path: &str) -> String {
    format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"))
}

/// A fresh, empty scratch folder for one test.
pub(crate) fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("talon-harness-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// What a finished run printed, as text.
pub(crate) struct Printed {
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// Asserts that the run exited with `code`, showing both streams when it did
/// not, and returns what it printed.
#[track_caller]
pub(crate) fn exits(output: &Output, code: i32) -> Printed {
    let printed = Printed {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        printed.stdout,
        printed.stderr
    );
    printed
}

/// Asserts that `text` contains each of `needles`, showing `text` when not.
#[track_caller]
pub(crate) fn assert_says(text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(text.contains(needle), "`{needle}` missing from:\n{text}");
    }
}
