//! The command line's surface: help texts and exit codes.

use crate::harness;

/// The subcommands whose `--help` is snapshotted, and the snapshot names.
pub(crate) const HELP_SNAPSHOTS: &[&str] = &[
    "help_help",
    "help_map_help",
    "help_simulate_help",
    "help_replay_help",
    "help_repro_help",
    "help_check_help",
    "help_diff_help",
    "help_pull_help",
    "help_serve_help",
    "help_gen_help",
];

#[test]
fn help_texts_match_their_snapshots() {
    for name in HELP_SNAPSHOTS {
        let command: Vec<String> = name
            .strip_prefix("help_")
            .unwrap()
            .split('_')
            .map(|part| {
                if part == "help" {
                    "--help".to_owned()
                } else {
                    part.to_owned()
                }
            })
            .collect();
        let command: Vec<&str> = command.iter().map(String::as_str).collect();
        let output = harness(&command, b"");
        assert!(output.status.success(), "{command:?}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        crate::snapshot_settings().bind(|| insta::assert_snapshot!(*name, stdout));
    }
}

#[test]
fn usage_errors_exit_with_code_2() {
    let output = harness(&["map", "--no-such-flag"], b"");
    assert_eq!(output.status.code(), Some(2));
    let output = harness(&["map", "--events", "/no/such/file.ndjson"], b"");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("/no/such/file.ndjson"));
}
