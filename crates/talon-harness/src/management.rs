//! A small Talon.One Management API client: read a deployment's applications, attribute catalog and audiences into talon-fake's state-file format.
//!
//! Used by `pull` (write the state file) and `check --target` (pull, then
//! check). Lists are read page by page with `pageSize` and `skip`, as
//! Talon.One pages them (OAS `management-api/v1-applications.yaml`,
//! `v1-attributes.yaml`, `v1-audiences.yaml`: `pageSize` 1..=1000, default
//! 1000). Requests are sequential: the Management API allows 3 requests per
//! second per endpoint, and a pull is a handful of pages.
//!
//! What a pulled state leaves out, because the Management API does not give
//! it or the harness cannot know it: Integration API keys (secrets Talon.One
//! never lists), Management API keys (the pulled file holds none, so a fake
//! started from it answers 401 to every Management call until one is added),
//! customer profiles (not needed for a pre-flight, and personal data), and
//! every field of an application, attribute or audience that the state file
//! does not hold (named in [`Pulled::left_out`]).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Map, Value};
use talon_fake::{Application, Attribute, Audience, StateFile};

use crate::Error;

/// The state-file fields of an application.
const APPLICATION_FIELDS: &[&str] = &["id", "name"];
/// The state-file fields of an attribute (talon-fake's `Attribute`).
const ATTRIBUTE_FIELDS: &[&str] = &[
    "id",
    "created",
    "accountId",
    "entity",
    "eventType",
    "name",
    "title",
    "type",
    "description",
    "suggestions",
    "hasAllowedList",
    "restrictedBySuggestions",
    "editable",
    "subscribedApplicationsIds",
];
/// The state-file fields of an audience (talon-fake's `Audience`).
const AUDIENCE_FIELDS: &[&str] = &[
    "id",
    "created",
    "accountId",
    "name",
    "description",
    "sandbox",
    "integration",
    "integrationId",
    "createdIn3rdParty",
    "subscribedApplicationsIds",
];

/// A deployment read through the Management API.
#[derive(Debug, Clone)]
pub struct Pulled {
    /// Applications, attributes and audiences; no keys, no profiles.
    pub state: StateFile,
    /// What the state leaves out, one sentence each.
    pub left_out: Vec<String>,
}

/// Where to read from and with which key.
#[derive(Debug, Clone)]
pub struct Management {
    base: String,
    key: String,
    page_size: usize,
    client: reqwest::Client,
}

impl Management {
    /// A client for the deployment at `base` (e.g. `https://yours.talon.one`),
    /// authenticating with `ManagementKey-v1 <key>`, reading `page_size`
    /// items per request (1..=1000).
    pub fn new(base: &str, key: &str, page_size: usize) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .no_proxy()
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self {
            base: base.trim_end_matches('/').to_owned(),
            key: key.to_owned(),
            page_size: page_size.clamp(1, 1000),
            client,
        }
    }

    /// Reads applications, the attribute catalog and audiences.
    pub async fn pull(&self) -> Result<Pulled, Error> {
        let mut dropped: BTreeMap<String, u64> = BTreeMap::new();
        let mut skipped = Vec::new();
        let mut state = StateFile::empty();
        for item in self.list("/v1/applications").await? {
            match pick::<Application>(&item, APPLICATION_FIELDS, "application", &mut dropped) {
                Ok(app) => state.applications.push(app),
                Err(why) => skipped.push(why),
            }
        }
        for item in self.list("/v1/attributes").await? {
            match pick::<Attribute>(&item, ATTRIBUTE_FIELDS, "attribute", &mut dropped) {
                Ok(attribute) => state.attributes.push(attribute),
                Err(why) => skipped.push(why),
            }
        }
        for item in self.list("/v1/audiences").await? {
            match pick::<Audience>(&item, AUDIENCE_FIELDS, "audience", &mut dropped) {
                Ok(audience) => state.audiences.push(audience),
                Err(why) => skipped.push(why),
            }
        }
        if let Some(account) = state.attributes.first().map(|a| a.account_id) {
            state.account_id = account;
        }
        state.applications.sort_by_key(|a| a.id);
        state.attributes.sort_by_key(|a| a.id);
        state.audiences.sort_by_key(|a| a.id);
        let mut left_out = vec![
            "Integration API keys: the Management API never lists them; add `integrationKeys` by hand to replay against this state".to_owned(),
            "Management API keys: the key used to pull is not written".to_owned(),
            "customer profiles: a pre-flight needs the catalog, not the customers".to_owned(),
        ];
        left_out.extend(
            dropped.iter().map(|(field, n)| {
                format!("field {field} ({n}×): the state file has no place for it")
            }),
        );
        left_out.extend(skipped);
        Ok(Pulled { state, left_out })
    }

    /// Every item of a paged list: `pageSize` items per request, `skip`
    /// advanced by what came back, until a short or empty page, `hasMore:
    /// false`, or `totalResultSize` items.
    async fn list(&self, path: &str) -> Result<Vec<Value>, Error> {
        let mut items: Vec<Value> = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        loop {
            let url = format!(
                "{}{path}?pageSize={}&skip={}",
                self.base,
                self.page_size,
                items.len()
            );
            let page = self.get(&url).await?;
            let data = page
                .get("data")
                .and_then(Value::as_array)
                .ok_or_else(|| Error::Input(format!("{url}: the answer has no `data` list")))?;
            let got = data.len();
            let ids: Vec<i64> = data
                .iter()
                .filter_map(|item| item.get("id").and_then(Value::as_i64))
                .collect();
            if got > 0 && ids.len() == got && ids.iter().all(|id| seen.contains(id)) {
                return Err(Error::Input(format!(
                    "{url} answered the items of an earlier page again: the target does not page with `skip`"
                )));
            }
            seen.extend(ids);
            items.extend(data.iter().cloned());
            let total = page.get("totalResultSize").and_then(Value::as_u64);
            let has_more = page.get("hasMore").and_then(Value::as_bool);
            let done = got == 0
                || got < self.page_size
                || has_more == Some(false)
                || total.is_some_and(|t| items.len() as u64 >= t);
            if done {
                return Ok(items);
            }
        }
    }

    async fn get(&self, url: &str) -> Result<Value, Error> {
        let response = self
            .client
            .get(url)
            .header("Authorization", format!("ManagementKey-v1 {}", self.key))
            .send()
            .await
            .map_err(|e| Error::Input(format!("cannot reach {url}: {}", error_chain(&e))))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| Error::Input(format!("{url}: the answer could not be read: {e}")))?;
        if status.as_u16() == 401 {
            return Err(Error::Input(format!(
                "{url} answered 401 Unauthorized: the Management API key is not valid for this deployment"
            )));
        }
        if !status.is_success() {
            return Err(Error::Input(format!(
                "{url} answered {status}: {}",
                String::from_utf8_lossy(&body)
                    .chars()
                    .take(200)
                    .collect::<String>()
            )));
        }
        serde_json::from_slice(&body)
            .map_err(|e| Error::Input(format!("{url} answered {status} but not with JSON: {e}")))
    }
}

/// Refuses a `--target` that is not an `http://` or `https://` URL, before any request.
pub fn check_target(url: &str) -> Result<(), Error> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') => Ok(()),
        _ => Err(Error::Input(format!(
            "--target {url:?} is not an http:// or https:// URL (e.g. https://yours.talon.one)"
        ))),
    }
}

/// Asks the Integration API whether `api_key` is valid, as Segment does when
/// the settings are saved (`GET /v2/authping`, Facts §1.1): `Ok(status)`.
pub async fn authping(base: &str, api_key: &str) -> Result<u16, Error> {
    let url = format!("{}/v2/authping", base.trim_end_matches('/'));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .no_proxy()
        .build()
        .unwrap_or_else(|_| reqwest::Client::new());
    let response = client
        .get(&url)
        .header("Authorization", format!("ApiKey-v1 {api_key}"))
        .send()
        .await
        .map_err(|e| Error::Input(format!("cannot reach {url}: {}", error_chain(&e))))?;
    Ok(response.status().as_u16())
}

/// The item's state-file fields, parsed; the other fields are counted in `dropped`.
fn pick<T: serde::de::DeserializeOwned>(
    item: &Value,
    fields: &[&str],
    what: &str,
    dropped: &mut BTreeMap<String, u64>,
) -> Result<T, String> {
    let Some(object) = item.as_object() else {
        return Err(format!("an {what} that is not a JSON object: skipped"));
    };
    let mut kept = Map::new();
    for (key, value) in object {
        if fields.contains(&key.as_str()) {
            if !value.is_null() {
                kept.insert(key.clone(), value.clone());
            }
        } else {
            *dropped.entry(format!("{what}.{key}")).or_default() += 1;
        }
    }
    serde_json::from_value(Value::Object(kept)).map_err(|e| {
        let name = object
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("(no name)");
        format!("{what} `{name}` could not be read ({e}): skipped")
    })
}

/// A reqwest error with its causes ("error sending request: connection refused").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
