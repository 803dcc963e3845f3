//! `talon-harness mapping eval|validate`: the line format through the binary.

use crate::{exits, harness};

#[test]
fn eval_answers_every_line_in_order_blank_and_crlf_lines_included() {
    let input = concat!(
        r#"{"mapping":{"id":{"@path":"$.userId"},"n":{"@template":"{{n}}"}},"payload":{"userId":"u1","n":1e21}}"#,
        "\r\n",
        "\n",
        r#"{"mapping":{"@path":"$.missing"},"payload":{}}"#,
        "\n",
        r#"{"mapping":{"@case":{"value":"x"}},"payload":{}}"#,
        "\n",
    );
    let printed = exits(&harness(&["mapping", "eval", "-"], input.as_bytes()), 1);
    let lines: Vec<&str> = printed.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            r#"{"output":{"id":"u1","n":"1e+21"}}"#,
            r#"{"error":"input: not JSON: invalid JSON: EOF while parsing a value at line 1 column 0"}"#,
            r#"{"absent":true}"#,
            r#"{"error":"@case requires a \"operator\" key"}"#,
        ]
    );
    assert!(printed.stderr.contains("-:2: "), "{}", printed.stderr);
    assert!(
        printed
            .stderr
            .contains("4 lines: 3 answered, 1 not input lines"),
        "{}",
        printed.stderr
    );
}

#[test]
fn eval_with_fields_runs_destination_kit_s_payload_pipeline() {
    let line = r#"{"mapping":{"customerProfileId":{"@path":"$.userId"},"attributes":{"@path":"$.traits"},"junk":1},"payload":{"userId":7,"traits":{"a":null}},"fields":{"customerProfileId":{"label":"Customer Profile ID","type":"string","required":true},"attributes":{"label":"Attributes","type":"object"}}}"#;
    let printed = exits(&harness(&["mapping", "eval"], line.as_bytes()), 0);
    assert_eq!(
        printed.stdout.trim_end(),
        r#"{"output":{"customerProfileId":"7","attributes":{"a":null}}}"#
    );
}

#[test]
fn validate_gives_segment_s_messages() {
    let input = concat!(
        r#"{"mapping":{"a":{"@path":"$.x"}}}"#,
        "\n",
        r#"{"mapping":{"a":{"@path":true},"b":{"@oops":1}}}"#,
        "\n",
    );
    let printed = exits(&harness(&["mapping", "validate", "-"], input.as_bytes()), 0);
    let lines: Vec<&str> = printed.stdout.lines().collect();
    assert_eq!(lines[0], r#"{"valid":true}"#);
    assert_eq!(
        lines[1],
        r#"{"error":"/a/@path should be a string or a mapping directive but it is a boolean. /b has an invalid directive: @oops."}"#
    );
}
