//! The one model of the differences between two configurations: per event, per kind of change,
//! per profile's final state; every report (text, Markdown, JSON, JUnit) renders it.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::report::Summary;

/// What changed, one kind of difference. The snake_case names are the JSON names and the
/// `kind` of an accept file's entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// The event is now rejected by Talon.One (or rejected for another rule than before).
    NowRejected,
    /// The request now fails after its retries.
    NowFailed,
    /// The request can no longer be built (`request_not_buildable`).
    NowSkipped,
    /// A request that was sent before is not sent any more (a subscription no longer fires,
    /// the mapper now skips the event).
    RequestRemoved,
    /// An attribute that was sent before is not sent any more.
    AttributeRemoved,
    /// An attribute is sent with another value of the same JSON type.
    AttributeChanged,
    /// An attribute is sent with a value of another JSON type (`rule`: `string -> number`).
    AttributeRetyped,
    /// A body field other than `attributes` (e.g. `/eventType`) that was sent is not any more.
    FieldRemoved,
    /// A body field other than `attributes` is sent with another value.
    FieldChanged,
    /// Talon.One would no longer hold this attribute for a profile at the end.
    StateAttributeLost,
    /// Talon.One would hold another value of this attribute for a profile at the end.
    StateAttributeChanged,
    /// A request that was not sent before is now sent.
    RequestAdded,
    /// An attribute that was not sent before is now sent.
    AttributeAdded,
    /// A body field other than `attributes` is now sent.
    FieldAdded,
    /// The request goes to another URL (`rule` names the part: the query, or the path).
    UrlChanged,
    /// A header is added, removed, or has another value (`attribute`: its name).
    HeaderChanged,
    /// The event or request was rejected, failed or not buildable before and is delivered now.
    NowDelivered,
    /// The mapper skips the event for another reason (`rule`: `before -> after`).
    SkipChanged,
    /// The mapper now gives a warning it did not give before (`rule`: its code).
    WarningAdded,
    /// Talon.One would hold an attribute for a profile at the end that it did not hold before.
    StateAttributeGained,
}

impl ChangeKind {
    /// The JSON name (`attribute_removed`).
    pub fn name(self) -> &'static str {
        match self {
            Self::NowRejected => "now_rejected",
            Self::NowFailed => "now_failed",
            Self::NowSkipped => "now_skipped",
            Self::RequestRemoved => "request_removed",
            Self::AttributeRemoved => "attribute_removed",
            Self::AttributeChanged => "attribute_changed",
            Self::AttributeRetyped => "attribute_retyped",
            Self::FieldRemoved => "field_removed",
            Self::FieldChanged => "field_changed",
            Self::StateAttributeLost => "state_attribute_lost",
            Self::StateAttributeChanged => "state_attribute_changed",
            Self::RequestAdded => "request_added",
            Self::AttributeAdded => "attribute_added",
            Self::FieldAdded => "field_added",
            Self::UrlChanged => "url_changed",
            Self::HeaderChanged => "header_changed",
            Self::NowDelivered => "now_delivered",
            Self::SkipChanged => "skip_changed",
            Self::WarningAdded => "warning_added",
            Self::StateAttributeGained => "state_attribute_gained",
        }
    }

    /// Whether the change is about the profiles' final state (counted per profile) rather
    /// than about events.
    pub fn is_state(self) -> bool {
        matches!(
            self,
            Self::StateAttributeLost | Self::StateAttributeChanged | Self::StateAttributeGained
        )
    }
}

/// What identifies a kind of difference across runs and samples of events: its kind, the
/// subscription, the attribute (or body field, or header) and the rule. Never an event's
/// index, profile or value, so a new sample of the same traffic gives the same fingerprints.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Fingerprint {
    /// The kind of change.
    pub kind: ChangeKind,
    /// The Actions subscription (its name); absent for the classic destination and for
    /// final-state differences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription: Option<String>,
    /// The attribute, body field (a JSON pointer such as `/eventType`) or header concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    /// The rule: Talon.One's reason for a rejection (`HTTP 400 … at /attributes/Email`), the
    /// types of a retyped attribute, the part of a URL, the reason a request is not sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

/// One difference in one event (or, for the final state, one profile).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// What identifies it across runs.
    #[serde(flatten)]
    pub fingerprint: Fingerprint,
    /// The value before (an attribute's value, a URL, an outcome), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    /// The value after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
    /// Whether it makes the change a regression: a new rejection or loss, or delivered data
    /// removed or changed.
    pub regression: bool,
    /// Talon.One's answer or the mapper's reason in plain words, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    /// Set while comparing: a regression when the request was delivered before.
    #[serde(skip)]
    pub(crate) if_delivered_before: bool,
}

impl Change {
    /// A change of `kind` with nothing else set.
    pub fn new(kind: ChangeKind) -> Self {
        Self {
            fingerprint: Fingerprint {
                kind,
                subscription: None,
                attribute: None,
                rule: None,
            },
            before: None,
            after: None,
            regression: false,
            explanation: None,
            if_delivered_before: false,
        }
    }
}

/// One event under both configurations: exactly one per input event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventComparison {
    /// Position in the input, from 0.
    pub index: u64,
    /// `file:line`.
    pub source: String,
    /// The profile addressed, when a request was made (before's, else after's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// The event's outcome under the configuration before: `delivered`, `rejected`, `skipped`
    /// or `failed`.
    pub before: String,
    /// Its outcome under the configuration after.
    pub after: String,
    /// Every difference, in request order (empty: the event is unchanged).
    pub changes: Vec<Change>,
}

impl EventComparison {
    /// Whether anything differs.
    pub fn changed(&self) -> bool {
        !self.changes.is_empty()
    }
}

/// One profile's final state under both configurations, where it differs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileComparison {
    /// The integration id.
    pub profile: String,
    /// Each attribute Talon.One would hold differently (lost, gained, another value).
    pub changes: Vec<Change>,
}

/// One example of a kind of difference: where (an event's source, or a profile) and the values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    /// `file:line` for events, the integration id for the final state.
    #[serde(rename = "where")]
    pub at: String,
    /// The value before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    /// The value after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
}

/// One kind of difference over the whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    /// What identifies it.
    #[serde(flatten)]
    pub fingerprint: Fingerprint,
    /// Events (or, for the final state, profiles) that show it.
    pub count: u64,
    /// Of those, how many are regressions.
    pub regressions: u64,
    /// Whether the accept file lists it as reviewed.
    pub accepted: bool,
    /// The first explanation seen, in plain words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    /// The first few examples.
    pub examples: Vec<Example>,
}

impl Group {
    /// A regression that no accept file has reviewed: what makes the run fail.
    pub fn fails(&self) -> bool {
        self.regressions > 0 && !self.accepted
    }
}

/// The whole comparison: what every report renders.
#[derive(Debug, Clone, PartialEq)]
pub struct DiffReport {
    /// `classic` or `actions`.
    pub destination: &'static str,
    /// Input events.
    pub events: u64,
    /// Events with at least one difference.
    pub changed_events: u64,
    /// Profiles in either final state.
    pub profiles: u64,
    /// Every kind of difference, in [`Fingerprint`] order (regressions first).
    pub groups: Vec<Group>,
    /// The first changed events, in input order.
    pub examples: Vec<EventComparison>,
    /// Profiles whose final state differs.
    pub changed_profiles: u64,
    /// The first profiles whose final state differs, by integration id.
    pub profile_examples: Vec<ProfileComparison>,
    /// The outcomes under the configuration before.
    pub before: Summary,
    /// The outcomes under the configuration after.
    pub after: Summary,
    /// Accept-file entries that matched no difference (reviewed once, gone now).
    pub stale_accepted: Vec<Fingerprint>,
    /// Events (profiles, for the final state) with at least one change of each kind.
    pub by_kind: BTreeMap<ChangeKind, u64>,
    /// Events with at least one change to each attribute (or body field).
    pub by_attribute: BTreeMap<String, u64>,
}

impl DiffReport {
    /// Events without any difference.
    pub fn unchanged_events(&self) -> u64 {
        self.events - self.changed_events
    }

    /// Whether every event has exactly one comparison and one outcome on each side.
    pub fn adds_up(&self) -> bool {
        self.before.events == self.events
            && self.after.events == self.events
            && self.before.adds_up()
            && self.after.adds_up()
            && self.changed_events <= self.events
    }

    /// Whether Talon.One accepted nothing on either side although requests were sent (a key
    /// or deployment the state does not know): the comparison could not see what the change
    /// does to delivered data, so it must not pass.
    pub fn blind(&self) -> bool {
        let refused = |s: &Summary| s.rejected + s.failed;
        self.before.delivered == 0
            && self.after.delivered == 0
            && refused(&self.before) + refused(&self.after) > 0
    }

    /// The groups that make the run fail: regressions not accepted.
    pub fn failing(&self) -> impl Iterator<Item = &Group> {
        self.groups.iter().filter(|g| g.fails())
    }

    /// Whether the comparison passes as a gate: no unaccepted regression, every event
    /// compared, every line readable, none lost on either side.
    pub fn passed(&self) -> bool {
        self.failing().next().is_none()
            && self.adds_up()
            && !self.blind()
            && self.before.unreadable == 0
            && self.before.failed == 0
            && self.after.failed == 0
    }
}

/// How many examples each group keeps.
pub const GROUP_EXAMPLES: usize = 5;

/// How many changed events a report keeps in full.
pub const EVENT_EXAMPLES: usize = 20;

/// Sums the comparisons as they stream by: memory grows with the kinds of difference, never
/// with the number of events.
#[derive(Debug, Default)]
pub struct Tally {
    groups: BTreeMap<Fingerprint, Group>,
    events: u64,
    changed: u64,
    examples: Vec<EventComparison>,
    changed_profiles: u64,
    profile_examples: Vec<ProfileComparison>,
    by_kind: BTreeMap<ChangeKind, u64>,
    by_attribute: BTreeMap<String, u64>,
}

impl Tally {
    /// Counts one event's comparison: each kind of difference once per event.
    pub fn add(&mut self, comparison: &EventComparison) {
        self.events += 1;
        if !comparison.changed() {
            return;
        }
        self.changed += 1;
        if self.examples.len() < EVENT_EXAMPLES {
            self.examples.push(comparison.clone());
        }
        let mut seen = BTreeSet::new();
        for change in &comparison.changes {
            let first = seen.insert(&change.fingerprint);
            self.count(change, &comparison.source, first);
        }
        self.count_kinds(&comparison.changes);
    }

    /// Counts the final-state differences of one profile.
    pub fn add_state(&mut self, profile: &str, changes: &[Change]) {
        self.changed_profiles += 1;
        if self.profile_examples.len() < EVENT_EXAMPLES {
            self.profile_examples.push(ProfileComparison {
                profile: profile.to_owned(),
                changes: changes.to_vec(),
            });
        }
        for change in changes {
            self.count(change, profile, true);
        }
        self.count_kinds(changes);
    }

    /// Each kind and attribute once for one event's (or profile's) changes.
    fn count_kinds(&mut self, changes: &[Change]) {
        let kinds: BTreeSet<ChangeKind> = changes.iter().map(|c| c.fingerprint.kind).collect();
        for kind in kinds {
            *self.by_kind.entry(kind).or_default() += 1;
        }
        let attributes: BTreeSet<&String> = changes
            .iter()
            .filter(|c| {
                // Attributes and body fields of events; a header's or a warning's subject is
                // not one, and the final state is counted per profile in its groups.
                !c.fingerprint.kind.is_state()
                    && !matches!(
                        c.fingerprint.kind,
                        ChangeKind::HeaderChanged
                            | ChangeKind::UrlChanged
                            | ChangeKind::WarningAdded
                    )
            })
            .filter_map(|c| c.fingerprint.attribute.as_ref())
            .collect();
        for attribute in attributes {
            *self.by_attribute.entry(attribute.clone()).or_default() += 1;
        }
    }

    fn count(&mut self, change: &Change, at: &str, first_in_event: bool) {
        let group = self
            .groups
            .entry(change.fingerprint.clone())
            .or_insert_with(|| Group {
                fingerprint: change.fingerprint.clone(),
                count: 0,
                regressions: 0,
                accepted: false,
                explanation: None,
                examples: Vec::new(),
            });
        if first_in_event {
            group.count += 1;
            if change.regression {
                group.regressions += 1;
            }
        } else if change.regression && group.regressions < group.count {
            // A second occurrence in one event that is a regression where the first was not.
            group.regressions += 1;
        }
        if group.explanation.is_none() {
            group.explanation.clone_from(&change.explanation);
        }
        if first_in_event && group.examples.len() < GROUP_EXAMPLES {
            group.examples.push(Example {
                at: at.to_owned(),
                before: change.before.clone(),
                after: change.after.clone(),
            });
        }
    }

    /// The report: groups marked against `accepted`, regressions first.
    pub fn finish(
        self,
        destination: &'static str,
        profiles: u64,
        before: Summary,
        after: Summary,
        accepted: &Accepted,
    ) -> DiffReport {
        let mut groups: Vec<Group> = self
            .groups
            .into_values()
            .map(|mut g| {
                g.accepted = accepted.contains(&g.fingerprint);
                g
            })
            .collect();
        // Regressions first, then by fingerprint (the kinds are declared worst first).
        groups.sort_by(|a, b| {
            (b.regressions > 0)
                .cmp(&(a.regressions > 0))
                .then_with(|| a.fingerprint.cmp(&b.fingerprint))
        });
        let stale_accepted = accepted
            .entries
            .iter()
            .filter(|f| !groups.iter().any(|g| &g.fingerprint == *f))
            .cloned()
            .collect();
        DiffReport {
            destination,
            events: self.events,
            changed_events: self.changed,
            profiles,
            groups,
            examples: self.examples,
            changed_profiles: self.changed_profiles,
            profile_examples: self.profile_examples,
            before,
            after,
            stale_accepted,
            by_kind: self.by_kind,
            by_attribute: self.by_attribute,
        }
    }
}

/// The accept file: the kinds of difference a reviewer has accepted (`--accept`), written by
/// `--write-accept`. `{"accepted": [{"kind", "subscription"?, "attribute"?, "rule"?}, …]}`,
/// sorted, one entry per [`Fingerprint`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accepted {
    /// The accepted fingerprints.
    #[serde(rename = "accepted")]
    pub entries: BTreeSet<Fingerprint>,
}

impl Accepted {
    /// Whether `fingerprint` was accepted.
    pub fn contains(&self, fingerprint: &Fingerprint) -> bool {
        self.entries.contains(fingerprint)
    }

    /// Every kind of difference of `report`, as reviewed.
    pub fn of(report: &DiffReport) -> Self {
        Self {
            entries: report
                .groups
                .iter()
                .map(|g| g.fingerprint.clone())
                .collect(),
        }
    }

    /// Parses an accept file.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Pretty JSON with a trailing newline, sorted: stable for review in a pull request.
    pub fn to_json_pretty(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }
}
