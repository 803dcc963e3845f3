//! This crate's answer to one input line, in `actions.mjs`'s shape.
//!
//! The settings, subscriptions and event are handed over as the exact text they have in the
//! line (member spans, not re-serialised values), so key order, big numbers and duplicate keys
//! reach `talon_mapper::map` as they reach Segment's `JSON.parse`.

use serde_json::{Value, json};
use talon_mapper::actions::ActionsConfig;
use talon_mapper::{Destination, Kind, map};

/// The text of the top-level member `key` of the JSON object `line`, when it has one.
pub(crate) fn member<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let bytes = line.as_bytes();
    let mut i = bytes.iter().position(|&b| b == b'{')? + 1;
    loop {
        i = skip_space(bytes, i);
        match bytes.get(i)? {
            b'}' => return None,
            b',' => {
                i += 1;
                continue;
            }
            b'"' => {}
            _ => return None,
        }
        let name_end = skip_value(bytes, i)?;
        let name: String = serde_json::from_str(&line[i..name_end]).ok()?;
        i = skip_space(bytes, name_end);
        if bytes.get(i) != Some(&b':') {
            return None;
        }
        let start = skip_space(bytes, i + 1);
        let end = skip_value(bytes, start)?;
        if name == key {
            return Some(&line[start..end]);
        }
        i = end;
    }
}

fn skip_space(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

/// The end of the JSON value starting at `i`.
fn skip_value(bytes: &[u8], i: usize) -> Option<usize> {
    match bytes.get(i)? {
        b'"' => {
            let mut j = i + 1;
            loop {
                match bytes.get(j)? {
                    b'\\' => j += 2,
                    b'"' => return Some(j + 1),
                    _ => j += 1,
                }
            }
        }
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match bytes.get(j)? {
                    b'"' => {
                        j = skip_value(bytes, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let mut j = i;
            while bytes
                .get(j)
                .is_some_and(|b| !matches!(b, b',' | b'}' | b']') && !b.is_ascii_whitespace())
            {
                j += 1;
            }
            Some(j)
        }
    }
}

/// `talon_mapper::map`'s answer to `line`, as `{"requests", "errors"}`.
pub(crate) fn answer(line: &str) -> Value {
    let part = |key: &str| member(line, key).unwrap_or("null");
    let config = match ActionsConfig::from_json(part("settings"), part("subscriptions")) {
        Ok(config) => config,
        Err(e) => {
            return json!({
                "requests": [],
                "errors": [{ "subscription": null, "message": format!("config: {e}") }],
            });
        }
    };
    let mapped = map(&Destination::Actions(config), part("event").as_bytes());
    let requests: Vec<Value> = mapped
        .requests
        .iter()
        .map(|r| {
            let headers: Vec<Value> = r
                .headers
                .iter()
                .map(|(k, v)| json!([k.to_ascii_lowercase(), &**v]))
                .collect();
            json!({
                "subscription": r.subscription,
                "method": r.method,
                "url": r.url,
                "headers": headers,
                "body": if r.body.is_empty() { Value::Null } else { json!(r.body) },
            })
        })
        .collect();
    let errors: Vec<Value> = mapped
        .diagnostics
        .iter()
        .filter_map(|d| match &d.kind {
            Kind::Action {
                subscription,
                code: "rejected",
                message,
            } => Some(json!({ "subscription": subscription, "message": message })),
            _ => None,
        })
        .collect();
    json!({ "requests": requests, "errors": errors })
}
