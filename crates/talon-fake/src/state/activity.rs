//! What a deployment stores of the activity the Segment relay brings it: the events it accepted
//! and its customer sessions, in the state file's own records so the dump is a copy.
//!
//! Lock order: catalog → activity → one profile shard (an event takes and releases its
//! profile's shard before it takes the activity). Nothing here knows about HTTP.

use std::collections::BTreeMap;

use super::{Catalog, Scope};
use crate::rules;
use crate::state_file::{EventRecord, EventTypeRecord, SessionRecord, StateFile, StateFileError};

/// The events and sessions of one deployment.
#[derive(Debug, Default)]
pub(crate) struct Activity {
    /// Accepted events, in the order they were accepted (ids ascending).
    pub(crate) events: Vec<EventRecord>,
    /// Sessions by integration id (sorted, so the dump is deterministic).
    pub(crate) sessions: BTreeMap<String, SessionRecord>,
    /// The id the next session gets.
    pub(crate) next_session_id: i64,
}

impl Activity {
    /// The id the next event gets.
    pub(crate) fn next_event_id(&self) -> i64 {
        self.events.last().map_or(1, |e| e.id.saturating_add(1))
    }

    /// Checks the state file's event types, events and sessions against the loaded catalog
    /// `cat` (which gets the event types), and returns what the deployment then holds.
    pub(crate) fn load(state: &StateFile, cat: &mut Catalog) -> Result<Self, StateFileError> {
        let bad = |m: String| StateFileError::Inconsistent(m);
        for t in &state.event_types {
            if t.name.is_empty() {
                return Err(bad("an event type's name is empty".into()));
            }
            if cat.event_types.insert(t.name.clone(), t.ty).is_some() {
                return Err(bad(format!("duplicate event type {:?}", t.name)));
            }
        }
        let mut events = state.events.clone();
        events.sort_by_key(|e| e.id);
        if events.windows(2).any(|w| w[0].id == w[1].id) || events.first().is_some_and(|e| e.id < 1)
        {
            return Err(bad("event ids must be unique and at least 1".into()));
        }
        for e in &events {
            let what = |m: String| bad(format!("event {}: {m}", e.id));
            if !cat.has_event_type(&e.event_type) {
                return Err(what(format!("unknown event type {:?}", e.event_type)));
            }
            cat.app_pos(e.application_id)
                .ok_or_else(|| what(format!("unknown application {}", e.application_id)))?;
            rules::check_integration_id(&e.profile_id).map_err(what)?;
            rules::parse_time(&e.created).ok_or_else(|| what("bad created".into()))?;
            cat.validate_entity_attributes(
                Scope::Event(&e.event_type),
                &e.attributes,
                "/attributes",
                false,
            )
            .map_err(|err| what(err.message))?;
        }
        let mut sessions = BTreeMap::new();
        let mut max_id = 0;
        for s in &state.sessions {
            let what = |m: String| bad(format!("session {:?}: {m}", s.integration_id));
            rules::check_integration_id(&s.integration_id).map_err(what)?;
            if !SESSION_STATES.contains(&s.state.as_str()) {
                return Err(what(format!("unknown state {:?}", s.state)));
            }
            cat.app_pos(s.application_id)
                .ok_or_else(|| what(format!("unknown application {}", s.application_id)))?;
            if let Some(p) = s.profile_id.as_deref() {
                rules::check_integration_id(p).map_err(|m| what(format!("profileId: {m}")))?;
            }
            for t in [&s.created, &s.updated] {
                rules::parse_time(t).ok_or_else(|| what(format!("bad time {t:?}")))?;
            }
            cat.validate_entity_attributes(Scope::Session, &s.attributes, "/attributes", false)
                .map_err(|err| what(err.message))?;
            if s.id < 1 {
                return Err(what("the id must be at least 1".into()));
            }
            max_id = max_id.max(s.id);
            if sessions
                .insert(s.integration_id.clone(), s.clone())
                .is_some()
            {
                return Err(what("listed twice".into()));
            }
        }
        Ok(Self {
            events,
            sessions,
            next_session_id: max_id.saturating_add(1),
        })
    }

    /// Writes the event types, events and sessions into `state` (every list sorted).
    pub(crate) fn dump(&self, cat: &Catalog, state: &mut StateFile) {
        state.event_types = cat
            .event_types
            .iter()
            .map(|(name, ty)| EventTypeRecord {
                name: name.clone(),
                ty: *ty,
            })
            .collect();
        state.events = self.events.clone();
        state.sessions = self.sessions.values().cloned().collect();
    }
}

/// The states of a customer session (`newCustomerSessionV2.state`).
pub(crate) const SESSION_STATES: [&str; 4] = ["open", "closed", "partially_returned", "cancelled"];
