//! Compact profile storage: interned attribute ids and one byte blob per profile, in sharded maps.
//!
//! A profile's attributes are one `Box<[u8]>` of entries
//! `[attribute index: u16 LE][length: u32 LE][minified JSON value]`, sorted by
//! index. Attribute names are interned in the catalog (it is small), so a
//! million profiles with eight attributes fit in a few hundred megabytes
//! (see `benches/memory.rs`).

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Mutex;

/// Index of an attribute in the catalog (attributes are never removed, so it is stable).
pub(crate) type AttrIdx = u16;

/// Number of profile shards (each behind its own mutex).
pub(crate) const SHARDS: usize = 16;

/// One stored profile.
#[derive(Debug, Clone)]
pub(crate) struct Profile {
    /// Internal id (`id` in responses).
    pub(crate) id: u32,
    /// Bit `i` set: application number `i` (catalog order) updated the profile.
    pub(crate) apps: u64,
    /// Creation time, unix nanoseconds.
    pub(crate) created: i64,
    /// Last update time, unix nanoseconds.
    pub(crate) last_activity: i64,
    /// Attribute blob (see module docs).
    pub(crate) attrs: Box<[u8]>,
    /// Audience ids, sorted.
    pub(crate) audiences: Box<[u32]>,
}

impl Profile {
    pub(crate) fn new(id: u32, now: i64) -> Self {
        Self {
            id,
            apps: 0,
            created: now,
            last_activity: now,
            attrs: Box::new([]),
            audiences: Box::new([]),
        }
    }

    /// Adds or removes an audience id, keeping the list sorted and unique.
    pub(crate) fn set_audience(&mut self, audience: u32, member: bool) {
        let pos = self.audiences.binary_search(&audience);
        match (pos, member) {
            (Err(at), true) => {
                let mut v = self.audiences.to_vec();
                v.insert(at, audience);
                self.audiences = v.into_boxed_slice();
            }
            (Ok(at), false) => {
                let mut v = self.audiences.to_vec();
                v.remove(at);
                self.audiences = v.into_boxed_slice();
            }
            _ => {}
        }
    }

    /// Applies an accepted update: attributes merged over the stored ones, audiences added
    /// then removed, the application marked, the last activity set.
    pub(crate) fn apply(
        &mut self,
        app: usize,
        blob: &[u8],
        (adds, deletes): (&[u32], &[u32]),
        now: i64,
    ) {
        if !blob.is_empty() {
            self.attrs = merge_blobs(&self.attrs, blob);
        }
        for a in adds {
            self.set_audience(*a, true);
        }
        for a in deletes {
            self.set_audience(*a, false);
        }
        self.apps |= 1 << app;
        self.last_activity = now;
    }

    pub(crate) fn is_member(&self, audience: u32) -> bool {
        self.audiences.binary_search(&audience).is_ok()
    }
}

/// Iterates over the entries of an attribute blob.
pub(crate) fn blob_entries(blob: &[u8]) -> BlobIter<'_> {
    BlobIter { rest: blob }
}

/// Iterator over `(index, json bytes)` in a blob.
#[derive(Debug)]
pub(crate) struct BlobIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for BlobIter<'a> {
    type Item = (AttrIdx, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let (head, tail) = self.rest.split_at_checked(6)?;
        let idx = u16::from_le_bytes([head[0], head[1]]);
        let len = u32::from_le_bytes([head[2], head[3], head[4], head[5]]) as usize;
        let (value, rest) = tail.split_at_checked(len)?;
        self.rest = rest;
        Some((idx, value))
    }
}

/// Appends one entry to a blob under construction.
pub(crate) fn push_entry(out: &mut Vec<u8>, idx: AttrIdx, json: &[u8]) {
    out.extend_from_slice(&idx.to_le_bytes());
    let len = u32::try_from(json.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(json);
}

/// Encodes `(index, value)` pairs into a blob; later pairs win for the same index.
pub(crate) fn encode_values(pairs: &mut [(AttrIdx, &serde_json::Value)]) -> Vec<u8> {
    pairs.sort_by_key(|p| p.0);
    let mut out = Vec::with_capacity(pairs.len() * 24);
    let mut scratch = Vec::with_capacity(64);
    for (i, (idx, value)) in pairs.iter().enumerate() {
        if pairs.get(i + 1).is_some_and(|next| next.0 == *idx) {
            continue;
        }
        scratch.clear();
        // Writing a serde_json::Value into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut scratch, value);
        push_entry(&mut out, *idx, &scratch);
    }
    out
}

/// Merges two sorted blobs; entries of `new` replace those of `old` with the same index.
pub(crate) fn merge_blobs(old: &[u8], new: &[u8]) -> Box<[u8]> {
    if old.is_empty() {
        return new.into();
    }
    if new.is_empty() {
        return old.into();
    }
    let mut out = Vec::with_capacity(old.len() + new.len());
    let mut a = blob_entries(old).peekable();
    let mut b = blob_entries(new).peekable();
    loop {
        match (a.peek(), b.peek()) {
            (Some(&(ia, va)), Some(&(ib, vb))) => {
                if ia < ib {
                    push_entry(&mut out, ia, va);
                    a.next();
                } else {
                    push_entry(&mut out, ib, vb);
                    if ia == ib {
                        a.next();
                    }
                    b.next();
                }
            }
            (Some(&(ia, va)), None) => {
                push_entry(&mut out, ia, va);
                a.next();
            }
            (None, Some(&(ib, vb))) => {
                push_entry(&mut out, ib, vb);
                b.next();
            }
            (None, None) => break,
        }
    }
    out.into_boxed_slice()
}

/// A small, fast, non-cryptographic hasher (the FxHash mix) for the hot maps.
///
/// The fake is a test double, so hash flooding is not a concern; iteration
/// order never reaches output (dumps and listings sort).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(*b)).wrapping_mul(K);
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.write(&[i]);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// `BuildHasher` for [`FxHasher`].
pub(crate) type FxBuild = std::hash::BuildHasherDefault<FxHasher>;

/// A `HashMap` with [`FxHasher`].
pub(crate) type FxHashMap<K, V> = HashMap<K, V, FxBuild>;

/// One shard of the profile map.
pub(crate) type Shard = FxHashMap<Box<str>, Profile>;

/// The sharded profile map.
#[derive(Debug)]
pub(crate) struct Profiles {
    shards: Box<[Mutex<Shard>]>,
}

impl Profiles {
    pub(crate) fn new() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
        }
    }

    /// The shard that holds `integration_id`, locked.
    pub(crate) fn shard(&self, integration_id: &str) -> std::sync::MutexGuard<'_, Shard> {
        // The top bits: the low bits also pick the bucket inside the shard.
        let i = (FxBuild::default().hash_one(integration_id) >> 60) as usize % SHARDS;
        lock(&self.shards[i])
    }

    /// Every shard in turn, locked one at a time.
    pub(crate) fn for_each_shard(&self, mut f: impl FnMut(&mut Shard)) {
        for s in &self.shards {
            f(&mut lock(s));
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).len()).sum()
    }
}

/// Locks a mutex, recovering the data if a previous holder panicked (it cannot leave it half-written:
/// every mutation is a single assignment after validation).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merging_blobs_replaces_equal_indices_and_keeps_order() {
        let (a, b, c) = (json!("a"), json!(1), json!(true));
        let old = encode_values(&mut [(3, &a), (1, &b)]);
        let new = encode_values(&mut [(1, &c), (2, &a)]);
        let merged = merge_blobs(&old, &new);
        let got: Vec<(u16, String)> = blob_entries(&merged)
            .map(|(i, v)| (i, String::from_utf8_lossy(v).into_owned()))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, "true".to_owned()),
                (2, "\"a\"".to_owned()),
                (3, "\"a\"".to_owned())
            ]
        );
    }

    #[test]
    fn audience_membership_stays_sorted_and_unique() {
        let mut p = Profile::new(1, 0);
        p.set_audience(5, true);
        p.set_audience(2, true);
        p.set_audience(5, true);
        assert_eq!(&*p.audiences, &[2, 5]);
        p.set_audience(2, false);
        assert_eq!(&*p.audiences, &[5]);
        assert!(p.is_member(5));
    }
}
