//! Comparing two answers to one line, both in `actions.mjs`'s shape:
//! `{"requests": [{"subscription", "method", "url", "headers": [[k, v], …], "body"}],
//!   "errors": [{"subscription", "message"}]}`.
//!
//! Requests are compared per subscription, in order, field by field: method, URL, headers, body
//! bytes. Headers are compared by lower-case name and exact value, as a list sorted by name: the
//! order of fields with different names carries no meaning in HTTP (RFC 9110 §5.3), so an
//! order difference alone is not a difference (chosen here). Errors are compared per
//! subscription: the same messages, in order.

use std::collections::BTreeMap;

use serde_json::Value;

fn by_subscription(list: &Value) -> BTreeMap<String, Vec<&Value>> {
    let mut out: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for item in list.as_array().into_iter().flatten() {
        let name = match &item["subscription"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        out.entry(name).or_default().push(item);
    }
    out
}

fn headers(request: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = request["headers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|pair| {
            let text = |v: &Value| {
                v.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| v.to_string())
            };
            (text(&pair[0]).to_ascii_lowercase(), text(&pair[1]))
        })
        .collect();
    out.sort();
    out
}

/// The differences between Segment's answer and ours to one line, each in words; empty when
/// the two are equal.
pub(crate) fn differences(segment: &Value, ours: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let (theirs_req, ours_req) = (
        by_subscription(&segment["requests"]),
        by_subscription(&ours["requests"]),
    );
    let names: std::collections::BTreeSet<&String> =
        theirs_req.keys().chain(ours_req.keys()).collect();
    for name in names {
        let empty = Vec::new();
        let a = theirs_req.get(name).unwrap_or(&empty);
        let b = ours_req.get(name).unwrap_or(&empty);
        if a.len() != b.len() {
            out.push(format!(
                "subscription {name:?}: Segment sends {} request(s), we send {}",
                a.len(),
                b.len()
            ));
            continue;
        }
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            for field in ["method", "url", "body"] {
                if x[field] != y[field] {
                    out.push(format!(
                        "subscription {name:?} request {i}: {field}: Segment {} ≠ ours {}",
                        x[field], y[field]
                    ));
                }
            }
            let (hx, hy) = (headers(x), headers(y));
            if hx != hy {
                out.push(format!(
                    "subscription {name:?} request {i}: headers: Segment {hx:?} ≠ ours {hy:?}"
                ));
            }
        }
    }
    let (theirs_err, ours_err) = (
        by_subscription(&segment["errors"]),
        by_subscription(&ours["errors"]),
    );
    let names: std::collections::BTreeSet<&String> =
        theirs_err.keys().chain(ours_err.keys()).collect();
    for name in names {
        let messages = |m: Option<&Vec<&Value>>| -> Vec<Value> {
            m.into_iter()
                .flatten()
                .map(|e| e["message"].clone())
                .collect()
        };
        let (a, b) = (messages(theirs_err.get(name)), messages(ours_err.get(name)));
        if a != b {
            out.push(format!(
                "subscription {name:?}: errors: Segment {a:?} ≠ ours {b:?}"
            ));
        }
    }
    out
}
