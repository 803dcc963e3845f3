//! The Actions destination's settings, `{"apiKey", "deployment"}`, as users type them, and
//! what Talon.One's relay can make of the deployment.

use std::sync::Arc;

use serde_json::Value;

use super::ConfigError;

/// The destination settings: both required strings; the deployment is kept verbatim (Segment
/// sends it as typed in `destination-hostname`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionsSettings {
    /// The API key, as typed.
    pub api_key: String,
    /// The deployment, as typed (`https://yours.europe-west1.talon.one/`, a bare host, …).
    pub deployment: String,
    authorization: Arc<str>,
    hostname: Arc<str>,
}

impl ActionsSettings {
    /// Settings from their two values.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Settings`] when the API key is empty. An empty deployment is not an
    /// error: Segment's code sends it, as an empty `destination-hostname` (observed with the
    /// differential test's oracle), so it is a warning ([`Self::deployment_warnings`]).
    pub fn new(api_key: &str, deployment: &str) -> Result<Self, ConfigError> {
        if api_key.is_empty() {
            return Err(ConfigError::Settings(
                "`apiKey` is required and empty".into(),
            ));
        }
        Ok(Self {
            api_key: api_key.to_owned(),
            deployment: deployment.to_owned(),
            authorization: format!("ApiKey-v1 {api_key}").into(),
            hostname: deployment.into(),
        })
    }

    /// Settings from JSON text, `{"apiKey": "…", "deployment": "…"}`; other keys are ignored.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Settings`] when the text is not a JSON object or a setting is missing,
    /// empty or not a string.
    pub fn parse(json: &str) -> Result<Self, ConfigError> {
        let value: Value = serde_json::from_str(json)
            .map_err(|e| ConfigError::Settings(format!("not JSON: {e}")))?;
        let Value::Object(object) = value else {
            return Err(ConfigError::Settings("not a JSON object".into()));
        };
        let get = |name: &str| match object.get(name) {
            Some(Value::String(s)) => Ok(s.as_str()),
            Some(_) => Err(ConfigError::Settings(format!("`{name}` must be a string"))),
            None => Err(ConfigError::Settings(format!("`{name}` is required"))),
        };
        Self::new(get("apiKey")?, get("deployment")?)
    }

    /// `ApiKey-v1 <apiKey>`.
    pub(crate) fn authorization(&self) -> &Arc<str> {
        &self.authorization
    }

    /// The deployment, verbatim.
    pub(crate) fn hostname(&self) -> &Arc<str> {
        &self.hostname
    }

    /// Why Talon.One's relay may not route the deployment, in plain words; empty when it looks
    /// like a Talon.One deployment (`[https://]<name>.<region>.talon.one[/]`). Chosen here:
    /// Talon.One documents the header as a host name; Segment sends what was typed.
    pub fn deployment_warnings(&self) -> Vec<String> {
        let typed = self.deployment.as_str();
        let mut out = Vec::new();
        if typed.is_empty() {
            out.push(
                "deployment is empty: Segment sends an empty `destination-hostname`, which Talon.One's relay cannot route".to_owned(),
            );
            return out;
        }
        if typed.trim() != typed {
            out.push(format!(
                "deployment `{typed}` has white space around it: Segment sends it as typed"
            ));
        }
        let trimmed = typed.trim();
        let rest = if let Some(rest) = strip_scheme(trimmed, "https://") {
            rest
        } else if let Some(rest) = strip_scheme(trimmed, "http://") {
            out.push(format!(
                "deployment `{typed}` uses http://: Talon.One deployments are served over https"
            ));
            rest
        } else {
            if trimmed.contains("://") {
                out.push(format!(
                    "deployment `{typed}` has a scheme other than https: Talon.One cannot route it"
                ));
                return out;
            }
            out.push(format!(
                "deployment `{typed}` has no https:// scheme: the relay gets it as typed, but the authentication test `GET {typed}/v2/authping` is not a URL"
            ));
            trimmed
        };
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        if !path.is_empty() {
            out.push(format!(
                "deployment `{typed}` has a path (`/{path}`): the deployment is a host name, Talon.One routes by the host only"
            ));
        }
        let host = host.to_ascii_lowercase();
        match host.strip_suffix(".talon.one") {
            None => out.push(format!(
                "deployment `{typed}`: `{host}` is not a Talon.One host (`<name>.<region>.talon.one`)"
            )),
            Some(prefix) => {
                let region = prefix.rsplit_once('.').map(|(_, r)| r);
                match region {
                    None => out.push(format!(
                        "deployment `{typed}` names no region (`<name>.<region>.talon.one`, e.g. `europe-west1`)"
                    )),
                    Some(region) if !KNOWN_REGIONS.contains(&region) => out.push(format!(
                        "deployment `{typed}`: region `{region}` is not one Talon.One is known to run in ({}): a typo?",
                        KNOWN_REGIONS.join(", ")
                    )),
                    Some(_) => {}
                }
            }
        }
        out
    }
}

/// `text` after `scheme`, matched in any case (a URL's scheme is case-insensitive, RFC 3986
/// §3.1: `HTTPS://` is https).
fn strip_scheme<'a>(text: &'a str, scheme: &str) -> Option<&'a str> {
    let head = text.get(..scheme.len())?;
    head.eq_ignore_ascii_case(scheme)
        .then(|| &text[scheme.len()..])
}

/// Regions seen in Talon.One deployment host names (chosen here, from the reference's
/// examples and Google Cloud's region names; a region not listed is a warning, not an error).
const KNOWN_REGIONS: [&str; 8] = [
    "europe-west1",
    "europe-west3",
    "europe-west4",
    "us-east1",
    "us-west1",
    "us-central1",
    "asia-southeast1",
    "asia-northeast1",
];
