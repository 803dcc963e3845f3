//! The HTTP request a mapped event becomes, for any destination, and how it
//! is rendered. The delivery client sends exactly this type.

use std::fmt::{self, Write as _};
use std::sync::Arc;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;
use serde::ser::SerializeMap;

use crate::flatten::Leaf;
use crate::settings::Settings;

/// Characters kept as they are in the integrationId path segment: RFC 3986's
/// unreserved set. Everything else (`/ # ? %`, spaces, unicode) is
/// percent-encoded, so the id reaches Talon.One as exactly one segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The path of the customer-profile endpoint, before the integrationId.
pub const PROFILE_PATH: &str = "/v2/customer_profiles/";

/// One HTTP request to Talon.One, for any destination: the method, URL,
/// headers and body to send, plus the key that orders delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The HTTP method: `PUT` for the classic destination.
    pub method: &'static str,
    /// The full URL: the destination's base, then the path (for the classic
    /// destination `{applicationDomain}/v2/customer_profiles/{percent-encoded integrationId}`).
    pub url: String,
    /// The headers, sent in this order (classic: `Authorization` then `Content-Type`).
    pub headers: Vec<(&'static str, Arc<str>)>,
    /// The body; empty means no body (classic: `{"attributes":{…}}`, keys sorted bytewise).
    pub body: String,
    /// What orders delivery: requests with the same key are delivered one at
    /// a time, in mapping order. For the classic destination the key is the
    /// integrationId, exactly as the `userId` gave it.
    pub key: String,
    /// The Actions subscription (its name) the request comes from; `None` for the classic
    /// destination.
    pub subscription: Option<String>,
    /// Where the path starts in `url`.
    path_start: usize,
}

impl Request {
    /// A request to `base` followed by `path` (which starts with `/`, and
    /// may carry a query).
    pub fn new(
        method: &'static str,
        base: &str,
        path: &str,
        headers: Vec<(&'static str, Arc<str>)>,
        body: String,
        key: String,
    ) -> Self {
        let mut url = String::with_capacity(base.len() + path.len());
        url.push_str(base);
        url.push_str(path);
        Self {
            method,
            url,
            headers,
            body,
            key,
            subscription: None,
            path_start: base.len(),
        }
    }

    pub(crate) fn profile_update(
        settings: &Settings,
        integration_id: String,
        attributes: &[&Leaf<'_>],
    ) -> Self {
        let mut url = String::with_capacity(
            settings.base_url().len() + PROFILE_PATH.len() + integration_id.len() * 3,
        );
        url.push_str(settings.base_url());
        let path_start = url.len();
        url.push_str(PROFILE_PATH);
        // Writing to a String cannot fail.
        let _ = write!(url, "{}", encode_segment(&integration_id));
        // Serializing strings, numbers and bools cannot fail.
        let body = serde_json::to_string(&Body { attributes }).unwrap_or_default();
        Self {
            method: "PUT",
            url,
            key: integration_id,
            headers: vec![
                ("Authorization", Arc::clone(settings.authorization())),
                ("Content-Type", Arc::clone(settings.content_type())),
            ],
            body,
            subscription: None,
            path_start,
        }
    }

    /// The path (and query) and nothing before it: `/v2/customer_profiles/…`.
    pub fn path(&self) -> &str {
        &self.url[self.path_start..]
    }

    /// The value of a header, by exact name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_ref())
    }

    /// The request for people and snapshots: the subscription in brackets (Actions), the
    /// request line, the headers
    /// with the API key redacted, a blank line, then the pretty body.
    pub fn render(&self) -> String {
        let mut out = match &self.subscription {
            Some(name) => format!("[{name}]\n"),
            None => String::new(),
        };
        let _ = writeln!(out, "{} {}", self.method, self.url);
        for (name, value) in &self.headers {
            let value = if name.eq_ignore_ascii_case("authorization") {
                redact(value)
            } else {
                value.to_string()
            };
            let _ = writeln!(out, "{name}: {value}");
        }
        out.push('\n');
        // An Actions body keeps its key order (it is part of what is sent); the classic
        // body's keys are sorted already.
        let pretty = if self.subscription.is_some() {
            segment_mapping::Value::parse(&self.body)
                .map_err(|_| ())
                .and_then(|v| serde_json::to_string_pretty(&v).map_err(|_| ()))
        } else {
            serde_json::from_str::<serde_json::Value>(&self.body)
                .and_then(|v| serde_json::to_string_pretty(&v))
                .map_err(|_| ())
        };
        match pretty {
            Ok(pretty) => out.push_str(&pretty),
            Err(_) => out.push_str(&self.body),
        }
        out.push('\n');
        out
    }

    /// The request as JSON for machines; the API key is redacted unless
    /// `reveal_key` is set.
    pub fn to_json(&self, reveal_key: bool) -> serde_json::Value {
        let headers: serde_json::Map<String, serde_json::Value> = self
            .headers
            .iter()
            .map(|(name, value)| {
                let value = if name.eq_ignore_ascii_case("authorization") && !reveal_key {
                    redact(value)
                } else {
                    value.to_string()
                };
                ((*name).to_owned(), value.into())
            })
            .collect();
        // The key is written under the classic destination's name for it,
        // as `map --format ndjson` always wrote it.
        let mut json = serde_json::json!({
            "method": self.method,
            "url": self.url,
            "integrationId": self.key,
            "headers": headers,
            "body": serde_json::from_str::<serde_json::Value>(&self.body)
                .unwrap_or_else(|_| self.body.clone().into()),
        });
        if let Some(subscription) = &self.subscription {
            json["subscription"] = subscription.as_str().into();
        }
        json
    }
}

/// Percent-encodes a string as one URL path segment.
///
/// ```
/// use talon_mapper::request::encode_segment;
/// assert_eq!(encode_segment("a/b c#d?e%f").to_string(), "a%2Fb%20c%23d%3Fe%25f");
/// assert_eq!(encode_segment("Jürgen").to_string(), "J%C3%BCrgen");
/// ```
pub fn encode_segment(s: &str) -> impl fmt::Display + '_ {
    utf8_percent_encode(s, SEGMENT)
}

fn redact(authorization: &str) -> String {
    match authorization.split_once(' ') {
        Some((scheme, _)) => format!("{scheme} [redacted]"),
        None => "[redacted]".to_owned(),
    }
}

struct Body<'l, 'a> {
    attributes: &'l [&'l Leaf<'a>],
}

impl Serialize for Body<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("attributes", &Attributes(self.attributes))?;
        map.end()
    }
}

struct Attributes<'l, 'a>(&'l [&'l Leaf<'a>]);

impl Serialize for Attributes<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for leaf in self.0 {
            map.serialize_entry(leaf.key.as_ref(), &leaf.value)?;
        }
        map.end()
    }
}
