//! `CONTRACT.md` and [`Rule::ALL`] agree: every rule id has a row, every row names a rule id.
//!
//! The convention (written at the top of `CONTRACT.md`): in every Markdown table of the file,
//! the rule-id column is the first column whose header starts with `Rule`; every backticked
//! span in that column is a rule id, and nothing else there is backticked. Tables without such
//! a column document no ids. The rules whose rows were added with this test are also checked
//! here for the rule that decides them, read from the response's [`Decided`] extension.

use std::collections::{BTreeMap, BTreeSet};

use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use talon_fake::{Decided, Fake, Rule, router};
use tower::ServiceExt;

use crate::support::*;

const CONTRACT: &str = include_str!("../../../../CONTRACT.md");

/// The cells of a table line, split on `|` that are not escaped as `\|`.
fn cells(line: &str) -> Vec<&str> {
    let inner = line.trim().trim_start_matches('|');
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = inner.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'|' && (i == 0 || bytes[i - 1] != b'\\') {
            out.push(inner[start..i].trim());
            start = i + 1;
        }
    }
    out.push(inner[start..].trim());
    out
}

/// The backticked spans of a cell.
fn backticked(cell: &str) -> Vec<&str> {
    cell.split('`').skip(1).step_by(2).collect()
}

/// Every id the rule-id columns of `markdown`'s tables name, with the 1-based lines naming it;
/// an error for a row of such a table whose cell count differs from its header's.
fn documented_ids(markdown: &str) -> Result<BTreeMap<String, Vec<usize>>, String> {
    let mut ids: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    // (rule column, header cell count) of the table being read; `None` between tables.
    let mut table: Option<(Option<usize>, usize)> = None;
    let mut after_header = false;
    for (n, line) in markdown.lines().enumerate() {
        let n = n + 1;
        if !line.trim_start().starts_with('|') {
            table = None;
            continue;
        }
        let row = cells(line);
        let Some((column, width)) = table else {
            let column = row.iter().position(|h| h.starts_with("Rule"));
            table = Some((column, row.len()));
            after_header = true;
            continue;
        };
        if after_header {
            // The `| --- |` separator.
            after_header = false;
            continue;
        }
        let Some(column) = column else { continue };
        if row.len() != width {
            return Err(format!(
                "line {n}: {} cells in a table of {width} columns",
                row.len()
            ));
        }
        for id in backticked(row[column]) {
            ids.entry(id.to_owned()).or_default().push(n);
        }
    }
    Ok(ids)
}

fn contract_ids() -> BTreeMap<String, Vec<usize>> {
    documented_ids(CONTRACT).unwrap_or_else(|e| panic!("CONTRACT.md: {e}"))
}

#[test]
fn every_rule_id_has_a_row_in_contract_md() {
    let documented = contract_ids();
    let missing: Vec<&str> = Rule::ALL
        .iter()
        .map(|r| r.as_str())
        .filter(|id| !documented.contains_key(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "rule ids with no row in CONTRACT.md (put each, backticked, in the rule-id column of a row): {missing:?}"
    );
}

#[test]
fn every_rule_id_that_contract_md_names_is_a_rule_of_the_fake() {
    let known: BTreeSet<&str> = Rule::ALL.iter().map(|r| r.as_str()).collect();
    let unknown: Vec<String> = contract_ids()
        .into_iter()
        .filter(|(id, _)| !known.contains(id.as_str()))
        .map(|(id, lines)| format!("{id} (line {lines:?})"))
        .collect();
    assert!(
        unknown.is_empty(),
        "CONTRACT.md names rule ids the fake does not have (or backticks something else in a rule-id column): {unknown:?}"
    );
}

#[test]
fn the_contract_reader_takes_the_backticked_spans_of_the_rule_column_only() {
    let md = "\
Text with `not.a_row`.

| Endpoint `x.y` | Rule id(s) on success | Tests |
| --- | --- | --- |
| `PUT /a` (`silent=yes\\|no`) | `ok.a`, `ok.b` | `t::ok_c` |
| `GET /b` | — | `t::d` |

| Feature | Behaviour |
| --- | --- |
| `fault.status` | not a rule column |

| Rule (journal id) | Behaviour |
| --- | --- |
| `body.x` | `body.not_this` |
| Plain words | none |
";
    let ids = documented_ids(md).expect("well formed");
    assert_eq!(
        ids.keys().map(String::as_str).collect::<Vec<_>>(),
        vec!["body.x", "ok.a", "ok.b"]
    );
    assert_eq!(ids["ok.a"], vec![5]);
    let ragged = "| Rule | B |\n| --- | --- |\n| `a.b` | c | d |\n";
    assert_eq!(
        documented_ids(ragged),
        Err("line 3: 3 cells in a table of 2 columns".to_owned())
    );
}

/// The status and the deciding rule of one request through the router.
async fn decided(fake: &Fake, req: Request<Body>) -> (StatusCode, Option<Rule>) {
    let resp = router(fake.clone()).oneshot(req).await.expect("infallible");
    (
        resp.status(),
        resp.extensions().get::<Decided>().map(|d| d.0),
    )
}

fn new_attr(patch: Value) -> Value {
    let mut body = json!({"entity": "CustomerProfile", "name": "okName", "title": "okName", "type": "string", "description": "d", "suggestions": [], "editable": true});
    for (k, v) in patch.as_object().expect("object") {
        body[k] = v.clone();
    }
    body
}

#[rstest::rstest]
#[case::a_bad_fault_plan("PUT", "/__admin/faults", None, Some(json!({"rules": [{"respond": {"status": 404}}]})), 400, Rule::AdminInvalidFaults)]
#[case::a_bad_reset_state("POST", "/__admin/reset", None, Some(json!({"nope": 1})), 400, Rule::AdminInvalidState)]
#[case::an_unknown_application(
    "GET",
    "/v1/applications/2/customers",
    Some(MKEY),
    None,
    404,
    Rule::ApplicationNotFound
)]
#[case::an_unknown_customer(
    "GET",
    "/v1/applications/1/customers/999",
    Some(MKEY),
    None,
    404,
    Rule::CustomerNotFound
)]
#[case::an_unknown_attribute_id(
    "GET",
    "/v1/attributes/999",
    Some(MKEY),
    None,
    404,
    Rule::AttributeNotFound
)]
#[case::an_unknown_audience_id(
    "DELETE",
    "/v2/audiences/9",
    Some(IKEY),
    None,
    404,
    Rule::AudienceNotFound
)]
#[case::an_unknown_audience_id_for_memberships(
    "DELETE",
    "/v2/audiences/9/memberships",
    Some(IKEY),
    None,
    404,
    Rule::AudienceNotFound
)]
#[case::an_unknown_audience_in_an_audience_action("POST", "/v2/customer_audiences", Some(IKEY), Some(json!({"data": [{"action": "add", "profileIntegrationId": "a", "audienceId": 9}]})), 404, Rule::AudienceUnknown)]
#[case::a_bad_entity("POST", "/v1/attributes", Some(MKEY), Some(new_attr(json!({"entity": "Customer"}))), 400, Rule::AttributeInvalidEntity)]
#[case::a_bad_name("POST", "/v1/attributes", Some(MKEY), Some(new_attr(json!({"name": "first-name"}))), 400, Rule::AttributeInvalidName)]
#[case::a_bad_title("POST", "/v1/attributes", Some(MKEY), Some(new_attr(json!({"title": "#x"}))), 400, Rule::AttributeInvalidTitle)]
#[case::a_bad_type("POST", "/v1/attributes", Some(MKEY), Some(new_attr(json!({"type": "integer"}))), 400, Rule::AttributeInvalidType)]
#[case::too_many_suggestions("POST", "/v1/attributes", Some(MKEY), Some(new_attr(json!({"suggestions": (0..51).map(|i| format!("s{i}")).collect::<Vec<_>>()}))), 400, Rule::AttributeInvalidSuggestions)]
#[case::an_empty_suggestion("POST", "/v1/attributes", Some(MKEY), Some(new_attr(json!({"suggestions": [""]}))), 400, Rule::BodyInvalidField)]
#[case::an_empty_audience_name("POST", "/v2/audiences", Some(IKEY), Some(json!({"name": ""})), 400, Rule::BodyInvalidField)]
#[case::a_field_of_the_wrong_json_type("POST", "/v2/audiences", Some(IKEY), Some(json!({"name": 7})), 400, Rule::BodyInvalidField)]
#[case::an_unknown_audience_action("POST", "/v2/customer_audiences", Some(IKEY), Some(json!({"data": [{"action": "remove", "profileIntegrationId": "a", "audienceId": 1}]})), 400, Rule::BodyInvalidField)]
#[tokio::test]
async fn the_rules_documented_with_this_test_decide_the_cases_their_rows_describe(
    #[case] method: &str,
    #[case] uri: &str,
    #[case] auth: Option<&str>,
    #[case] body: Option<Value>,
    #[case] status: u16,
    #[case] rule: Rule,
) {
    let fake = fake();
    let got = decided(&fake, request(method, uri, auth, body)).await;
    assert_eq!(
        got,
        (StatusCode::from_u16(status).expect("status"), Some(rule))
    );
}

/// A request body whose stream fails after its headers, as a reset connection does.
struct BrokenBody;

impl http_body::Body for BrokenBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        std::task::Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "reset by peer",
        ))))
    }
}

#[tokio::test]
async fn a_body_that_cannot_be_read_gets_400_body_unreadable_and_is_journalled() {
    let fake = fake();
    for uri in ["/v2/audiences", "/v2/customer_profiles/u1"] {
        let method = if uri == "/v2/audiences" {
            "POST"
        } else {
            "PUT"
        };
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", IKEY)
            .header("content-type", "application/json")
            .body(Body::new(BrokenBody))
            .expect("request");
        let got = decided(&fake, req).await;
        assert_eq!(
            got,
            (StatusCode::BAD_REQUEST, Some(Rule::BodyUnreadable)),
            "{uri}"
        );
        assert_eq!(last_rule(&fake), "body.unreadable", "{uri}");
    }
    assert_eq!(fake.profile_count(), 0);
}

#[tokio::test]
async fn every_journalled_rule_string_is_the_id_of_a_rule() {
    let fake = fake();
    put_profile(&fake, "u1", "", json!({"attributes": {"nope": 1}})).await;
    put_profile(&fake, "u1", "", json!({})).await;
    call(&fake, "GET", "/v2/authping", Some("ApiKey-v1 wrong"), None).await;
    call(&fake, "GET", "/nowhere", None, None).await;
    let journal = fake.journal();
    let rules: Vec<Result<Rule, _>> = journal.iter().map(|e| e.rule.parse()).collect();
    assert_eq!(
        rules,
        vec![
            Ok(Rule::AttributeUnknown),
            Ok(Rule::OkProfileUpdated),
            Ok(Rule::AuthUnknownKey),
            Ok(Rule::RouteNotFound),
        ]
    );
}
