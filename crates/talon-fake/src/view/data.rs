//! What the view reads from the fake: plain snapshots of the state and the journal, taken
//! under the usual locks (catalog, then one profile shard at a time) and released before any
//! HTML is built. The rules the pages show (exact search, near misses, which journal entries
//! name a customer, what a rejected request would have changed) are plain functions here, with
//! their unit tests.

use std::collections::BTreeMap;

use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

use crate::journal::JournalEntry;
use crate::rules;
use crate::state::{Fake, read};
use crate::state_file::{Application, Attribute, Audience};

/// An application and how many customers it has updated.
#[derive(Debug, Clone)]
pub(crate) struct AppSummary {
    pub(crate) app: Application,
    pub(crate) customers: usize,
}

/// One row of the Customers tab. Times stay unix nanoseconds until a row is shown: a list of
/// a million customers formats only its page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CustomerRow {
    pub(crate) integration_id: Box<str>,
    pub(crate) created: i64,
    pub(crate) last_activity: i64,
    pub(crate) attributes: usize,
}

/// A customer's page.
#[derive(Debug, Clone)]
pub(crate) struct Customer {
    pub(crate) integration_id: String,
    pub(crate) profile_id: u32,
    pub(crate) created: String,
    pub(crate) last_activity: String,
    /// Sorted by name.
    pub(crate) attributes: Map<String, Value>,
    /// `(id, name)`, by id.
    pub(crate) memberships: Vec<(i64, String)>,
}

/// An audience and its member count.
#[derive(Debug, Clone)]
pub(crate) struct AudienceRow {
    pub(crate) audience: Audience,
    pub(crate) members: usize,
}

impl Fake {
    /// The applications, by id, with their customer counts.
    pub(crate) fn view_applications(&self) -> Vec<AppSummary> {
        let apps = read(&self.inner.catalog).applications.clone();
        let mut counts = vec![0usize; apps.len()];
        self.inner.profiles.for_each_shard(|shard| {
            // Order-free: counts only.
            #[allow(clippy::iter_over_hash_type)]
            for p in shard.values() {
                for (i, n) in counts.iter_mut().enumerate() {
                    if p.apps & (1 << i) != 0 {
                        *n += 1;
                    }
                }
            }
        });
        let mut out: Vec<AppSummary> = apps
            .into_iter()
            .zip(counts)
            .map(|(app, customers)| AppSummary { app, customers })
            .collect();
        out.sort_by_key(|a| a.app.id);
        out
    }

    /// The application with this id and its bit in `Profile::apps`.
    pub(crate) fn view_app(&self, id: i64) -> Option<(Application, u64)> {
        let cat = read(&self.inner.catalog);
        let pos = cat.app_pos(id)?;
        Some((cat.applications[pos].clone(), 1 << pos))
    }

    /// The application's customers sorted by integration id (bytewise, as ids are
    /// case-sensitive), or `None` for an unknown application.
    pub(crate) fn view_customers(&self, app_id: i64) -> Option<(Application, Vec<CustomerRow>)> {
        let (app, bit) = self.view_app(app_id)?;
        let mut rows = Vec::new();
        self.inner.profiles.for_each_shard(|shard| {
            // Sorted below.
            #[allow(clippy::iter_over_hash_type)]
            for (id, p) in shard.iter() {
                if p.apps & bit != 0 {
                    rows.push(CustomerRow {
                        integration_id: id.clone(),
                        created: p.created,
                        last_activity: p.last_activity,
                        attributes: crate::store::blob_entries(&p.attrs).count(),
                    });
                }
            }
        });
        rows.sort_by(|a, b| a.integration_id.cmp(&b.integration_id));
        Some((app, rows))
    }

    /// One customer of the application, exactly by integration id (case-sensitive).
    pub(crate) fn view_customer(&self, app_id: i64, integration_id: &str) -> Option<Customer> {
        let (_, bit) = self.view_app(app_id)?;
        let cat = read(&self.inner.catalog);
        let shard = self.inner.profiles.shard(integration_id);
        let p = shard.get(integration_id).filter(|p| p.apps & bit != 0)?;
        let memberships = p
            .audiences
            .iter()
            .map(|a| {
                let name = cat
                    .audiences
                    .get(a)
                    .map_or_else(String::new, |au| au.name.clone());
                (i64::from(*a), name)
            })
            .collect();
        Some(Customer {
            integration_id: integration_id.to_owned(),
            profile_id: p.id,
            created: rules::format_time(p.created),
            last_activity: rules::format_time(p.last_activity),
            attributes: cat.attrs_map(&p.attrs),
            memberships,
        })
    }

    /// The whole attribute catalog, every entity, in catalog order.
    pub(crate) fn view_catalog(&self) -> Vec<Attribute> {
        read(&self.inner.catalog).attributes.clone()
    }

    /// `CustomerProfile` attribute types by name, for the Attributes tab.
    pub(crate) fn view_profile_types(&self) -> BTreeMap<String, &'static str> {
        read(&self.inner.catalog)
            .profile_attrs
            .iter()
            .map(|(name, (_, ty))| (name.to_string(), ty.as_str()))
            .collect()
    }

    /// The audiences, by id, with their member counts.
    pub(crate) fn view_audiences(&self) -> Vec<AudienceRow> {
        let audiences: Vec<Audience> = read(&self.inner.catalog)
            .audiences
            .values()
            .cloned()
            .collect();
        let mut members: BTreeMap<u32, usize> = BTreeMap::new();
        self.inner.profiles.for_each_shard(|shard| {
            // Order-free: counts only.
            #[allow(clippy::iter_over_hash_type)]
            for p in shard.values() {
                for a in &p.audiences {
                    *members.entry(*a).or_default() += 1;
                }
            }
        });
        audiences
            .into_iter()
            .map(|audience| {
                let members = u32::try_from(audience.id)
                    .ok()
                    .and_then(|id| members.get(&id).copied())
                    .unwrap_or(0);
                AudienceRow { audience, members }
            })
            .collect()
    }
}

/// The application's customers whose id is a near miss of `wanted`, which has no exact match:
/// the same id ignoring case, or ignoring surrounding whitespace (chosen here: the mistakes the
/// destination's docs warn of, a trait's case and a stray space). At most `limit`, sorted.
pub(crate) fn near_misses<'a>(
    wanted: &str,
    ids: impl IntoIterator<Item = &'a str>,
    limit: usize,
) -> Vec<String> {
    let folded = wanted.trim().to_lowercase();
    let mut out: Vec<String> = ids
        .into_iter()
        .filter(|id| *id != wanted && id.trim().to_lowercase() == folded)
        .map(str::to_owned)
        .collect();
    out.sort();
    out.truncate(limit);
    out
}

/// The integration ids a journal entry names: the path's id of `PUT
/// /v2/customer_profiles/{id}` (percent-decoded, as Talon.One reads it), each batch item's
/// `integrationId` of `PUT /v2/customer_profiles`, each `profileIntegrationId` of `POST
/// /v2/customer_audiences`. Unique, in the order they appear.
pub(crate) fn customers_named(entry: &JournalEntry) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |id: String| {
        if !out.contains(&id) {
            out.push(id);
        }
    };
    let path = entry.path.as_str();
    if let Some(raw) = path.strip_prefix("/v2/customer_profiles/") {
        if let Some(id) = (!raw.is_empty() && !raw.contains('/'))
            .then(|| percent_decode_str(raw).decode_utf8().ok())
            .flatten()
        {
            push(id.into_owned());
        }
        return out;
    }
    let (list, key) = match path {
        "/v2/customer_profiles" => ("customerProfiles", "integrationId"),
        "/v2/customer_audiences" => ("data", "profileIntegrationId"),
        _ => return out,
    };
    if let Some(items) = entry.body_json().get(list).and_then(Value::as_array) {
        for item in items {
            if let Some(id) = item.get(key).and_then(Value::as_str) {
                push(id.to_owned());
            }
        }
    }
    out
}

/// One error of a rejected request, as the History tab shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reason {
    /// `source.pointer` or `source.parameter`, if any.
    pub(crate) at: Option<String>,
    /// Title and details in one sentence.
    pub(crate) text: String,
}

/// The errors of Talon.One's answer (`ErrorResponseWithStatus`), in plain words; the
/// `message` alone when there are no items; nothing for a body that is not the envelope.
pub(crate) fn reasons(response: &Value) -> Vec<Reason> {
    let items = response.get("errors").and_then(Value::as_array);
    let mut out: Vec<Reason> = items
        .into_iter()
        .flatten()
        .map(|e| {
            let title = e.get("title").and_then(Value::as_str).unwrap_or("");
            let details = e.get("details").and_then(Value::as_str).unwrap_or("");
            let text = match (title.is_empty(), details.is_empty()) {
                (false, false) => format!("{title}: {details}"),
                (false, true) => title.to_owned(),
                (true, _) => details.to_owned(),
            };
            let source = e.get("source");
            let at = source
                .and_then(|s| s.get("pointer").or_else(|| s.get("parameter")))
                .and_then(Value::as_str)
                .map(str::to_owned);
            Reason { at, text }
        })
        .collect();
    if let (true, Some(message)) = (
        out.is_empty(),
        response.get("message").and_then(Value::as_str),
    ) {
        out.push(Reason {
            at: None,
            text: message.to_owned(),
        });
    }
    out
}

/// What the request would have changed for `integration_id`, had it been accepted, against the
/// profile as it is now (chosen here: the journal keeps requests, not the state before each):
/// each attribute it sets to a value other than the current one, and each audience action.
pub(crate) fn would_change(
    entry: &JournalEntry,
    integration_id: &str,
    current: &Map<String, Value>,
) -> Vec<String> {
    let body = entry.body_json();
    let mut out = Vec::new();
    let attributes = if entry.path == "/v2/customer_profiles" {
        body.get("customerProfiles")
            .and_then(Value::as_array)
            .and_then(|items| {
                items.iter().find(|i| {
                    i.get("integrationId").and_then(Value::as_str) == Some(integration_id)
                })
            })
            .and_then(|i| i.get("attributes"))
            .cloned()
    } else if entry.path.starts_with("/v2/customer_profiles/") {
        body.get("attributes").cloned()
    } else {
        None
    };
    if let Some(Value::Object(attrs)) = attributes {
        for (name, value) in &attrs {
            match current.get(name) {
                Some(now) if now == value => {}
                Some(now) => out.push(format!("would have set `{name}` to {value} (now {now})")),
                None => out.push(format!("would have set `{name}` to {value} (not set now)")),
            }
        }
    }
    if entry.path == "/v2/customer_audiences" {
        for item in body
            .get("data")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if item.get("profileIntegrationId").and_then(Value::as_str) != Some(integration_id) {
                continue;
            }
            let audience = item.get("audienceId").map_or(Value::Null, Clone::clone);
            let verb = match item.get("action").and_then(Value::as_str) {
                Some("add") => "would have added the customer to",
                Some("remove") => "would have removed the customer from",
                _ => "would have changed the customer's membership of",
            };
            out.push(format!("{verb} audience {audience}"));
        }
    }
    out
}

/// Journal filters, as the journal page's form sends them (every one optional).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct JournalFilter {
    /// `2xx`, `4xx`, `5xx`, `dropped` (status 0), or one status such as `409`.
    pub(crate) status: Option<String>,
    /// A rule, exactly (`attribute.unknown`).
    pub(crate) rule: Option<String>,
    /// An integration id the entry names, exactly.
    pub(crate) integration_id: Option<String>,
    /// A substring of the path.
    pub(crate) path: Option<String>,
}

impl JournalFilter {
    /// Whether `entry` passes every filter that is set.
    pub(crate) fn keeps(&self, entry: &JournalEntry) -> bool {
        let status_ok = self.status.as_deref().is_none_or(|s| match s {
            "dropped" => entry.status == 0,
            class if class.len() == 3 && class.ends_with("xx") => {
                entry.status / 100 == u16::from(class.as_bytes()[0].wrapping_sub(b'0'))
                    && entry.status != 0
            }
            exact => exact.parse::<u16>().is_ok_and(|n| n == entry.status),
        });
        status_ok
            && self.rule.as_deref().is_none_or(|r| entry.rule == r)
            && self.path.as_deref().is_none_or(|p| entry.path.contains(p))
            && self
                .integration_id
                .as_deref()
                .is_none_or(|id| customers_named(entry).iter().any(|c| c == id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(method: &str, path: &str, body: Value, status: u16, rule: &str) -> JournalEntry {
        JournalEntry {
            seq: 1,
            method: method.to_owned(),
            path: path.to_owned(),
            query: None,
            headers: Vec::new(),
            body: body.to_string(),
            status,
            response_body: String::new(),
            rule: rule.to_owned(),
            relay: None,
        }
    }

    #[test]
    fn a_near_miss_differs_only_by_case_or_surrounding_whitespace() {
        let ids = ["user1", "USER1 ", "user10", "User1", "other"];
        assert_eq!(near_misses("User1", ids, 5), ["USER1 ", "user1"]);
        assert!(near_misses("nobody", ids, 5).is_empty());
        assert_eq!(near_misses("User1", ids, 1), ["USER1 "]);
    }

    #[test]
    fn the_path_id_is_read_percent_decoded_as_talon_one_reads_it() {
        let e = entry(
            "PUT",
            "/v2/customer_profiles/a%2Fb%23c",
            json!({}),
            200,
            "ok",
        );
        assert_eq!(customers_named(&e), ["a/b#c"]);
    }

    #[test]
    fn batch_items_and_audience_actions_name_their_customers_once_each() {
        let batch = entry(
            "PUT",
            "/v2/customer_profiles",
            json!({"customerProfiles": [{"integrationId": "a"}, {"integrationId": "b"}, {"integrationId": "a"}]}),
            200,
            "ok",
        );
        assert_eq!(customers_named(&batch), ["a", "b"]);
        let audiences = entry(
            "POST",
            "/v2/customer_audiences",
            json!({"data": [{"action": "add", "profileIntegrationId": "c", "audienceId": 1}]}),
            204,
            "ok",
        );
        assert_eq!(customers_named(&audiences), ["c"]);
        let other = entry("GET", "/v1/applications", json!({}), 200, "ok");
        assert!(customers_named(&other).is_empty());
    }

    #[test]
    fn reasons_come_from_the_error_items_with_their_pointer_or_parameter() {
        let body = json!({"message": "Bad request", "errors": [
            {"title": "Unknown attribute", "details": "attribute \"Email\" is not defined", "source": {"pointer": "/attributes/Email"}},
            {"title": "Invalid key", "source": {"parameter": "Authorization"}}
        ]});
        assert_eq!(
            reasons(&body),
            [
                Reason {
                    at: Some("/attributes/Email".into()),
                    text: "Unknown attribute: attribute \"Email\" is not defined".into()
                },
                Reason {
                    at: Some("Authorization".into()),
                    text: "Invalid key".into()
                },
            ]
        );
        assert_eq!(
            reasons(&json!({"message": "Too many requests"})),
            [Reason {
                at: None,
                text: "Too many requests".into()
            }]
        );
        assert!(reasons(&Value::Null).is_empty());
    }

    #[test]
    fn a_rejected_update_lists_only_the_values_it_would_have_changed() {
        let e = entry(
            "PUT",
            "/v2/customer_profiles/u1",
            json!({"attributes": {"Email": "a@b.c", "plan": "pro", "name": "Ada"}}),
            400,
            "attribute.unknown",
        );
        let mut now = Map::new();
        now.insert("plan".into(), json!("team"));
        now.insert("name".into(), json!("Ada"));
        assert_eq!(
            would_change(&e, "u1", &now),
            [
                "would have set `Email` to \"a@b.c\" (not set now)",
                "would have set `plan` to \"pro\" (now \"team\")",
            ]
        );
    }

    #[test]
    fn a_batch_item_or_audience_action_changes_only_its_own_customer() {
        let batch = entry(
            "PUT",
            "/v2/customer_profiles",
            json!({"customerProfiles": [{"integrationId": "a", "attributes": {"x": 1}}, {"integrationId": "b", "attributes": {"x": 2}}]}),
            400,
            "attribute.type",
        );
        assert_eq!(
            would_change(&batch, "b", &Map::new()),
            ["would have set `x` to 2 (not set now)"]
        );
        let audiences = entry(
            "POST",
            "/v2/customer_audiences",
            json!({"data": [{"action": "add", "profileIntegrationId": "a", "audienceId": 7}, {"action": "remove", "profileIntegrationId": "b", "audienceId": 8}]}),
            400,
            "audience.unknown",
        );
        assert_eq!(
            would_change(&audiences, "b", &Map::new()),
            ["would have removed the customer from audience 8"]
        );
    }

    #[test]
    fn journal_filters_by_status_class_rule_customer_and_path() {
        let ok = entry(
            "PUT",
            "/v2/customer_profiles/u1",
            json!({}),
            200,
            "ok.profile_updated",
        );
        let bad = entry(
            "PUT",
            "/v2/customer_profiles/u2",
            json!({}),
            400,
            "attribute.unknown",
        );
        let dropped = entry(
            "PUT",
            "/v2/customer_profiles/u3",
            json!({}),
            0,
            "fault.drop",
        );
        let f = |status: Option<&str>, rule: Option<&str>, id: Option<&str>, path: Option<&str>| {
            JournalFilter {
                status: status.map(str::to_owned),
                rule: rule.map(str::to_owned),
                integration_id: id.map(str::to_owned),
                path: path.map(str::to_owned),
            }
        };
        let kept = |filter: &JournalFilter| {
            [&ok, &bad, &dropped]
                .iter()
                .filter(|e| filter.keeps(e))
                .map(|e| e.status)
                .collect::<Vec<_>>()
        };
        assert_eq!(kept(&JournalFilter::default()), [200, 400, 0]);
        assert_eq!(kept(&f(Some("4xx"), None, None, None)), [400]);
        assert_eq!(kept(&f(Some("2xx"), None, None, None)), [200]);
        assert_eq!(kept(&f(Some("dropped"), None, None, None)), [0]);
        assert_eq!(kept(&f(Some("400"), None, None, None)), [400]);
        assert_eq!(kept(&f(None, Some("attribute.unknown"), None, None)), [400]);
        assert_eq!(kept(&f(None, None, Some("u1"), None)), [200]);
        assert_eq!(kept(&f(None, None, Some("U1"), None)), Vec::<u16>::new());
        assert_eq!(kept(&f(None, None, None, Some("/u3"))), [0]);
    }
}
