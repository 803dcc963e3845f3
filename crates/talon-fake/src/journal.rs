//! The bounded request journal: every request, what was answered, and the rule that decided it.
//!
//! The journal keeps at most `cap` entries and `max_bytes` of entry memory; when
//! either is exceeded the oldest entries are dropped and counted in
//! [`Journal::dropped`]. An entry's size ([`Record::size`]) counts everything it
//! holds: the fixed record, its path and query, its header values, both bodies.
//! Everything an entry holds is its own copy (owned strings, `Bytes` made with
//! `copy_from_slice` or built by the fake): never a slice of hyper's read buffer,
//! which would keep the whole buffer, with every header of the request, alive.

use std::collections::VecDeque;
use std::sync::Arc;

use axum::body::Bytes;
use serde::Serialize;

use crate::rule::Rule;

/// Default number of journal entries kept (oldest dropped beyond it).
pub const DEFAULT_JOURNAL_CAP: usize = 10_000;
/// Default total size of journal entries (each entry's record, path, query, header values and
/// bodies), in bytes (oldest dropped beyond it).
pub const DEFAULT_JOURNAL_MAX_BYTES: usize = 64 * 1024 * 1024;

/// Response extension naming the rule that decided a response (see `CONTRACT.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decided(pub Rule);

/// One journal entry, as read by tests and `GET /__admin/journal`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JournalEntry {
    /// 1-based sequence number, in arrival order; never reused.
    pub seq: u64,
    /// HTTP method.
    pub method: String,
    /// Path, still percent-encoded as sent.
    pub path: String,
    /// Raw query string, if any.
    pub query: Option<String>,
    /// Selected request headers, sorted by name; keys are redacted.
    pub headers: Vec<(String, String)>,
    /// Request body (lossy UTF-8).
    pub body: String,
    /// Response status (0 when the connection was dropped by a fault).
    pub status: u16,
    /// Response body (lossy UTF-8).
    pub response_body: String,
    /// The rule that decided the response, e.g. `attribute.unknown` or `ok.profile_updated`.
    pub rule: String,
    /// For a request to the Segment relay (`/segment/…`): where it was routed and what the
    /// relay left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relay: Option<RelayEntry>,
}

/// What the Segment relay adds to a journal entry: the deployment the request was routed to,
/// the attributes `skipNonExistingAttributes=true` skipped, what was not applied, and the
/// deployment's own answer where the relay rewrapped it in its envelope.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RelayEntry {
    /// The deployment's host (normalised), or `None` when the request named none the relay
    /// knows.
    pub deployment: Option<String>,
    /// JSON pointers of the unknown attributes that `skipNonExistingAttributes=true` skipped.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
    /// What the request asked for and was not done, in words (e.g. audience changes not
    /// applied because `runRuleEngine` is false).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The deployment's own error body (Talon.One's `ErrorResponseWithStatus`) when the relay
    /// answered it in its own envelope instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream: Option<String>,
}

/// [`RelayEntry`] as the journal keeps it: the deployment's host is the deployment's own
/// interned copy ([`Arc`]), shared by every entry routed there, not a string per request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RelayNote {
    pub(crate) deployment: Option<Arc<str>>,
    pub(crate) skipped: Vec<String>,
    pub(crate) notes: Vec<String>,
    pub(crate) upstream: Option<String>,
}

impl RelayNote {
    /// The memory this note holds: the host is counted once per entry although it is shared,
    /// so the byte budget never counts less than a copy per entry would hold.
    fn size(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.deployment.as_ref().map_or(0, |d| d.len())
            + self.skipped.iter().map(String::capacity).sum::<usize>()
            + self.notes.iter().map(String::capacity).sum::<usize>()
            + self.upstream.as_ref().map_or(0, String::capacity)
    }

    fn to_entry(&self) -> RelayEntry {
        RelayEntry {
            deployment: self.deployment.as_deref().map(str::to_owned),
            skipped: self.skipped.clone(),
            notes: self.notes.clone(),
            upstream: self.upstream.clone(),
        }
    }
}

impl JournalEntry {
    /// The request body parsed as JSON (`Null` if it is not JSON).
    pub fn body_json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// The response body parsed as JSON (`Null` if it is not JSON).
    pub fn response_json(&self) -> serde_json::Value {
        serde_json::from_str(&self.response_body).unwrap_or(serde_json::Value::Null)
    }
}

/// A recorded request in its cheap in-memory form.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub(crate) seq: u64,
    pub(crate) method: axum::http::Method,
    /// The path, still percent-encoded (an owned copy: a `Uri` would share hyper's read buffer).
    pub(crate) path: Box<str>,
    /// The raw query string, if any (an owned copy).
    pub(crate) query: Option<Box<str>>,
    pub(crate) headers: Vec<(&'static str, std::borrow::Cow<'static, str>)>,
    pub(crate) body: Bytes,
    pub(crate) status: u16,
    pub(crate) response_body: Bytes,
    pub(crate) rule: Rule,
    pub(crate) relay: Option<Box<RelayNote>>,
}

impl Record {
    /// The memory this entry holds, in bytes: the record itself plus every buffer it owns.
    pub(crate) fn size(&self) -> usize {
        let extension_method = match self.method.as_str() {
            "GET" | "PUT" | "POST" | "DELETE" | "PATCH" | "HEAD" | "OPTIONS" | "TRACE"
            | "CONNECT" => 0,
            m => m.len(),
        };
        let headers: usize = self
            .headers
            .iter()
            .map(|(_, v)| match v {
                std::borrow::Cow::Borrowed(_) => 0,
                std::borrow::Cow::Owned(s) => s.capacity(),
            })
            .sum();
        std::mem::size_of::<Self>()
            + extension_method
            + self.path.len()
            + self.query.as_ref().map_or(0, |q| q.len())
            + self.headers.capacity()
                * std::mem::size_of::<(&'static str, std::borrow::Cow<'static, str>)>()
            + headers
            + self.body.len()
            + self.response_body.len()
            + self.relay.as_ref().map_or(0, |r| r.size())
    }

    fn to_entry(&self) -> JournalEntry {
        JournalEntry {
            seq: self.seq,
            method: self.method.as_str().to_owned(),
            path: self.path.to_string(),
            query: self.query.as_deref().map(str::to_owned),
            headers: self
                .headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.to_string()))
                .collect(),
            body: String::from_utf8_lossy(&self.body).into_owned(),
            status: self.status,
            response_body: String::from_utf8_lossy(&self.response_body).into_owned(),
            rule: self.rule.as_str().to_owned(),
            relay: self.relay.as_deref().map(RelayNote::to_entry),
        }
    }
}

/// The journal itself.
#[derive(Debug)]
pub(crate) struct Journal {
    entries: VecDeque<Record>,
    bytes: usize,
    cap: usize,
    max_bytes: usize,
    dropped: u64,
}

impl Journal {
    pub(crate) fn new(cap: usize, max_bytes: usize) -> Self {
        Self {
            entries: VecDeque::with_capacity(cap.min(1024)),
            bytes: 0,
            cap,
            max_bytes,
            dropped: 0,
        }
    }

    /// Appends `rec`, dropping the oldest entries beyond the caps; returns the first one it
    /// dropped, so that the caller can free it after releasing the journal's lock (the usual
    /// case once the journal is full: one in, one out).
    pub(crate) fn push(&mut self, rec: Record) -> Option<Record> {
        self.bytes += rec.size();
        self.entries.push_back(rec);
        let mut evicted = None;
        while self.entries.len() > self.cap
            || (self.bytes > self.max_bytes && !self.entries.is_empty())
        {
            if let Some(old) = self.entries.pop_front() {
                self.bytes -= old.size();
                self.dropped += 1;
                if evicted.is_none() {
                    evicted = Some(old);
                }
            }
        }
        evicted
    }

    pub(crate) fn entries(&self) -> Vec<JournalEntry> {
        let mut v: Vec<JournalEntry> = self.entries.iter().map(Record::to_entry).collect();
        v.sort_by_key(|e| e.seq);
        v
    }

    pub(crate) fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The accounted size of the entries kept ([`Record::size`] summed).
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
        self.dropped = 0;
    }
}

/// Redacts a key in an `Authorization` value, keeping the scheme: `ApiKey-v1 <redacted>`.
pub(crate) fn redact_authorization(v: &str) -> std::borrow::Cow<'static, str> {
    match v.split_once(' ') {
        Some(("ApiKey-v1", _)) => "ApiKey-v1 <redacted>".into(),
        Some(("ManagementKey-v1", _)) => "ManagementKey-v1 <redacted>".into(),
        Some((scheme, _)) => format!("{scheme} <redacted>").into(),
        None => "<redacted>".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(j: &mut Journal, body: &'static [u8]) -> Record {
        Record {
            // Pushed one by one: everything pushed so far is kept or dropped.
            seq: j.dropped() + j.entries.len() as u64 + 1,
            method: axum::http::Method::GET,
            path: "/x".into(),
            query: None,
            headers: Vec::new(),
            body: Bytes::from_static(body),
            status: 200,
            response_body: Bytes::new(),
            rule: Rule::OkAuthping,
            relay: None,
        }
    }

    #[test]
    fn the_journal_drops_and_counts_the_oldest_entries_beyond_its_cap() {
        let mut j = Journal::new(3, usize::MAX);
        let mut evicted = Vec::new();
        for _ in 0..5 {
            let r = rec(&mut j, b"");
            evicted.push(j.push(r).map(|old| old.seq));
        }
        let seqs: Vec<u64> = j.entries().iter().map(|e| e.seq).collect();
        assert_eq!(seqs, vec![3, 4, 5]);
        assert_eq!(j.dropped(), 2);
        // What it dropped is handed back, to be freed outside the journal's lock.
        assert_eq!(evicted, vec![None, None, None, Some(1), Some(2)]);
    }

    #[test]
    fn the_journal_drops_old_entries_when_bodies_exceed_the_byte_budget() {
        let mut j = Journal::new(100, 400);
        for _ in 0..4 {
            let r = rec(&mut j, &[b'x'; 100]);
            j.push(r);
        }
        assert!(j.len() < 4);
        assert_eq!(j.dropped() as usize + j.len(), 4);
    }

    #[test]
    fn an_entry_is_accounted_with_its_path_query_headers_and_bodies() {
        let mut j = Journal::new(100, usize::MAX);
        let mut r = rec(&mut j, b"");
        let bare = r.size();
        assert!(bare >= std::mem::size_of::<Record>());
        r.path = "/".repeat(1000).into();
        r.query = Some("q".repeat(2000).into());
        r.headers = vec![("user-agent", "u".repeat(300_000).into())];
        r.body = Bytes::from(vec![b'b'; 4000]);
        r.response_body = Bytes::from(vec![b'r'; 5000]);
        assert!(
            r.size() >= bare + 1000 + 2000 + 300_000 + 4000 + 5000,
            "{}",
            r.size()
        );
        j.push(r);
        assert!(j.bytes() > 300_000);
    }

    #[test]
    fn authorization_values_keep_the_scheme_but_not_the_key() {
        assert_eq!(
            redact_authorization("ApiKey-v1 secret"),
            "ApiKey-v1 <redacted>"
        );
        assert_eq!(redact_authorization("secret"), "<redacted>");
    }
}
