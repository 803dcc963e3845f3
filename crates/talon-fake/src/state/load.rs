//! Loading a state file into a [`Fake`] and writing the state back out, in the same format.

use std::collections::HashSet;
use std::sync::atomic::Ordering;

use super::{Catalog, Fake, STATE_BATCH, read, write};
use crate::rules;
use crate::state_file::{IntegrationKey, ProfileRecord, StateFile, StateFileError};
use crate::store::{self, Profile, lock};

impl Fake {
    // ---------------------------------------------------------------- state file

    pub(super) fn load(&self, state: StateFile) -> Result<(), StateFileError> {
        let bad = |m: String| StateFileError::Inconsistent(m);
        let hostname: std::sync::Arc<str> =
            crate::api::segment::normalize_hostname(state.effective_hostname())
                .map_err(|why| bad(format!("hostname {:?}: {why}", state.effective_hostname())))?
                .into();
        // The further deployments, each a fake of its own, loaded (and so checked) first.
        let mut deployments = Vec::with_capacity(state.deployments.len());
        let mut hosts = vec![std::sync::Arc::clone(&hostname)];
        for d in &state.deployments {
            if !d.deployments.is_empty() {
                return Err(bad(format!(
                    "deployment {:?} holds deployments of its own; list every deployment at the top level",
                    d.effective_hostname()
                )));
            }
            if d.hostname.is_none() {
                return Err(bad(
                    "every further deployment needs its own hostname".to_owned()
                ));
            }
            let fake = Fake::new(d.clone(), self.inner.config.clone())
                .map_err(|e| bad(format!("deployment {:?}: {e}", d.effective_hostname())))?;
            let host = read(&fake.inner.catalog).hostname.clone();
            if hosts.contains(&host) {
                return Err(bad(format!("two deployments answer to hostname {host:?}")));
            }
            hosts.push(host);
            deployments.push(fake);
        }
        let mut cat = Catalog {
            account_id: state.account_id,
            hostname,
            hostname_given: state.hostname.clone(),
            next_attribute_id: 1,
            next_audience_id: 1,
            ..Catalog::default()
        };
        let mut apps = state.applications.clone();
        apps.sort_by_key(|a| a.id);
        if apps.windows(2).any(|w| w[0].id == w[1].id) {
            return Err(bad("duplicate application id".into()));
        }
        if apps.len() > 64 {
            return Err(bad("at most 64 applications are supported".into()));
        }
        cat.applications = apps;
        for k in &state.integration_keys {
            let pos = cat.app_pos(k.application_id).ok_or_else(|| {
                bad(format!(
                    "integration key for unknown application {}",
                    k.application_id
                ))
            })?;
            let dup = match &k.platform {
                Some(platform) => {
                    if platform.is_empty() {
                        return Err(bad("a third-party key's platform is empty".into()));
                    }
                    cat.integration_keys.contains_key(&k.key)
                        || cat
                            .third_party_keys
                            .insert(k.key.clone(), (pos, platform.clone()))
                            .is_some()
                }
                None => {
                    cat.third_party_keys.contains_key(&k.key)
                        || cat.integration_keys.insert(k.key.clone(), pos).is_some()
                }
            };
            if dup {
                return Err(bad("duplicate integration key".into()));
            }
        }
        for k in &state.management_keys {
            if cat.integration_keys.contains_key(k)
                || cat.third_party_keys.contains_key(k)
                || !cat.management_keys.insert(k.clone())
            {
                return Err(bad("duplicate management key".into()));
            }
        }
        for a in &state.attributes {
            let mut a = a.clone();
            a.account_id = state.account_id;
            if a.title.is_empty() {
                a.title.clone_from(&a.name);
            }
            cat.add_attribute(a).map_err(|e| bad(e.message))?;
        }
        for a in &state.audiences {
            let id = u32::try_from(a.id)
                .ok()
                .filter(|i| *i > 0)
                .ok_or_else(|| bad(format!("audience id {} out of range", a.id)))?;
            let mut a = a.clone();
            a.account_id = state.account_id;
            if cat.audiences.insert(id, a).is_some() {
                return Err(bad(format!("duplicate audience id {id}")));
            }
            cat.next_audience_id = cat.next_audience_id.max(id.saturating_add(1));
        }
        let activity = super::activity::Activity::load(&state, &mut cat)?;
        // Profiles: validate everything before anything is replaced.
        let mut seen = HashSet::new();
        let mut loaded = Vec::with_capacity(state.profiles.len());
        let mut max_id = 0u32;
        for p in &state.profiles {
            rules::check_integration_id(&p.integration_id).map_err(bad)?;
            if !seen.insert(p.integration_id.as_str()) {
                return Err(bad(format!("duplicate profile {:?}", p.integration_id)));
            }
            let mut pairs = cat
                .validate_attributes(&p.attributes, "/attributes")
                .map_err(|e| bad(format!("profile {:?}: {}", p.integration_id, e.message)))?;
            let created = rules::parse_time(&p.created)
                .ok_or_else(|| bad(format!("profile {:?}: bad created", p.integration_id)))?;
            let last = match &p.last_activity {
                Some(t) => rules::parse_time(t).ok_or_else(|| {
                    bad(format!("profile {:?}: bad lastActivity", p.integration_id))
                })?,
                None => created,
            };
            let id = u32::try_from(p.id)
                .map_err(|_| bad(format!("profile id {} out of range", p.id)))?;
            max_id = max_id.max(id);
            let mut prof = Profile::new(id, created);
            prof.last_activity = last;
            prof.attrs = store::encode_values(&mut pairs).into_boxed_slice();
            for a in &p.audiences {
                let aid = u32::try_from(*a)
                    .ok()
                    .filter(|i| cat.audiences.contains_key(i))
                    .ok_or_else(|| {
                        bad(format!(
                            "profile {:?}: unknown audience {a}",
                            p.integration_id
                        ))
                    })?;
                prof.set_audience(aid, true);
            }
            for app in &p.applications {
                let pos = cat.app_pos(*app).ok_or_else(|| {
                    bad(format!(
                        "profile {:?}: unknown application {app}",
                        p.integration_id
                    ))
                })?;
                prof.apps |= 1 << pos;
            }
            loaded.push((p.integration_id.as_str(), prof));
        }
        // Commit.
        let mut guard = write(&self.inner.catalog);
        self.inner.profiles.for_each_shard(|s| s.clear());
        let mut next = max_id.saturating_add(1);
        for (iid, mut prof) in loaded {
            if prof.id == 0 {
                prof.id = next;
                next = next.saturating_add(1);
            }
            self.inner.profiles.shard(iid).insert(iid.into(), prof);
        }
        self.inner.next_profile_id.store(next, Ordering::Relaxed);
        *guard = cat;
        *lock(&self.inner.activity) = activity;
        *self
            .inner
            .deployments
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = deployments;
        *lock(&self.inner.initial) = state;
        Ok(())
    }

    /// The current state in the state-file format, every list sorted: deterministic.
    ///
    /// This builds the whole state in memory; [`Fake::write_state`] writes the same bytes as
    /// its [`StateFile::to_json_pretty`] without doing so.
    pub fn state_dump(&self) -> StateFile {
        let cat = read(&self.inner.catalog);
        let mut profiles = Vec::new();
        self.inner.profiles.for_each_shard(|s| {
            // Order does not reach output: the list is sorted below.
            #[allow(clippy::iter_over_hash_type)]
            for (iid, p) in s.iter() {
                profiles.push(cat.profile_record(iid, p));
            }
        });
        profiles.sort_by(|a, b| a.integration_id.cmp(&b.integration_id));
        let mut state = cat.dump_without_profiles();
        lock(&self.inner.activity).dump(&cat, &mut state);
        state.profiles = profiles;
        drop(cat);
        state.deployments = self
            .further_deployments()
            .iter()
            .map(Fake::state_dump)
            .collect();
        state
    }

    fn further_deployments(&self) -> Vec<Fake> {
        self.inner
            .deployments
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Writes the current state to `w` as [`StateFile::to_json_pretty`] of
    /// [`Fake::state_dump`] would, byte for byte, without building it: the catalog (small),
    /// then the profiles in integration-id order, a batch at a time. Only the sorted list of
    /// integration ids is held in full; no lock is held while writing to `w`.
    ///
    /// With `redact_keys`, API keys are written as [`crate::REDACTED_KEY`]. Profiles are
    /// read batch by batch, so updates made while it writes may or may not be included (each
    /// profile is written as it was at one instant); one that is deleted meanwhile is left out.
    pub fn write_state(
        &self,
        mut w: impl std::io::Write,
        redact_keys: bool,
    ) -> std::io::Result<()> {
        if !self.further_deployments().is_empty() {
            // Several deployments: written whole (a rare, small state; the streaming below is
            // for one deployment's many profiles).
            let mut state = self.state_dump();
            if redact_keys {
                state.redact_keys();
            }
            return w.write_all(state.to_json_pretty().as_bytes());
        }
        let mut head = {
            let cat = read(&self.inner.catalog);
            let mut head = cat.dump_without_profiles();
            lock(&self.inner.activity).dump(&cat, &mut head);
            head
        };
        if redact_keys {
            head.redact_keys();
        }
        let head = head.to_json_pretty();
        let mut ids: Vec<Box<str>> = Vec::with_capacity(self.profile_count());
        self.inner.profiles.for_each_shard(|s| {
            // Order does not reach output: the list is sorted below.
            #[allow(clippy::iter_over_hash_type)]
            ids.extend(s.keys().cloned());
        });
        ids.sort_unstable();
        // Without profiles the field is skipped (`skip_serializing_if`): the head is all.
        let Some(open) = head.strip_suffix("\n}\n") else {
            return w.write_all(head.as_bytes());
        };
        let mut started = false;
        let mut buf = Vec::with_capacity(64 * 1024);
        let mut records = Vec::with_capacity(STATE_BATCH);
        for batch in ids.chunks(STATE_BATCH) {
            {
                let cat = read(&self.inner.catalog);
                for iid in batch {
                    let shard = self.inner.profiles.shard(iid);
                    if let Some(p) = shard.get(iid) {
                        records.push(cat.profile_record(iid, p));
                    }
                }
            }
            for r in records.drain(..) {
                if started {
                    buf.extend_from_slice(b",\n");
                } else {
                    buf.extend_from_slice(open.as_bytes());
                    buf.extend_from_slice(b",\n  \"profiles\": [\n");
                    started = true;
                }
                let one = serde_json::to_vec_pretty(&r).map_err(std::io::Error::other)?;
                // Nested two levels deep: four more spaces on every line (a JSON string never
                // holds a raw newline, so lines are the formatter's own).
                for (i, line) in one.split(|b| *b == b'\n').enumerate() {
                    if i > 0 {
                        buf.push(b'\n');
                    }
                    buf.extend_from_slice(b"    ");
                    buf.extend_from_slice(line);
                }
            }
            w.write_all(&buf)?;
            buf.clear();
        }
        if started {
            w.write_all(b"\n  ]\n}\n")
        } else {
            w.write_all(head.as_bytes())
        }
    }
}

impl Catalog {
    /// One stored profile in the state-file format.
    fn profile_record(&self, iid: &str, p: &Profile) -> ProfileRecord {
        ProfileRecord {
            integration_id: iid.to_owned(),
            id: i64::from(p.id),
            created: rules::format_time(p.created),
            last_activity: Some(rules::format_time(p.last_activity)),
            attributes: self.attrs_map(&p.attrs),
            audiences: p.audiences.iter().map(|a| i64::from(*a)).collect(),
            applications: self
                .applications
                .iter()
                .enumerate()
                .filter(|(i, _)| p.apps & (1 << i) != 0)
                .map(|(_, a)| a.id)
                .collect(),
        }
    }

    /// Everything but the profiles in the state-file format, every list sorted.
    fn dump_without_profiles(&self) -> StateFile {
        let mut integration_keys: Vec<IntegrationKey> = self
            .integration_keys
            .iter()
            .map(|(k, pos)| IntegrationKey {
                key: k.clone(),
                application_id: self.applications[*pos].id,
                platform: None,
            })
            .chain(
                self.third_party_keys
                    .iter()
                    .map(|(k, (pos, platform))| IntegrationKey {
                        key: k.clone(),
                        application_id: self.applications[*pos].id,
                        platform: Some(platform.clone()),
                    }),
            )
            .collect();
        integration_keys.sort_by(|a, b| a.key.cmp(&b.key));
        let mut management_keys: Vec<String> = self.management_keys.iter().cloned().collect();
        management_keys.sort();
        let mut attributes = self.attributes.clone();
        attributes.sort_by_key(|a| a.id);
        StateFile {
            account_id: self.account_id,
            hostname: self.hostname_given.clone(),
            applications: self.applications.clone(),
            integration_keys,
            management_keys,
            attributes,
            event_types: Vec::new(),
            audiences: self.audiences.values().cloned().collect(),
            events: Vec::new(),
            sessions: Vec::new(),
            profiles: Vec::new(),
            deployments: Vec::new(),
        }
    }
}
