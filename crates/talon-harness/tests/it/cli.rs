//! The command line's surface: help texts and exit codes.

use crate::harness;

#[test]
fn help_texts_match_their_snapshots() {
    for command in [&["--help"][..], &["map", "--help"]] {
        let output = harness(command, b"");
        assert!(output.status.success());
        let name = command.join("_").replace("--", "");
        insta::with_settings!({
            snapshot_path => "../../../../snapshots/talon-harness",
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!(format!("help_{name}"), String::from_utf8_lossy(&output.stdout));
        });
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
