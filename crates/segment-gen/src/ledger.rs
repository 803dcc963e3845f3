//! The ground truth: what a correct pipeline holds once every generated event is delivered.
//!
//! [`Book`] records each written event as it is taken: per user and slot
//! the last value code sent, who was identified, the last membership sent
//! per audience, and the event counts. It renders codes only when asked,
//! with the writer's renderer, so the ledger holds exactly what was written.
//!
//! The ledger has one JSON form, the serde form of [`Ledger`]. It is
//! reached two ways, and both are kept on purpose: [`Book::ledger`] builds
//! the typed [`Ledger`] (callers compare it with what the fake holds, and
//! read it back with `Deserialize`), and [`Book::write`] streams the same
//! JSON through serde one user at a time, for runs whose `Value`s would not
//! fit in memory. Both read the same per-user functions; the stream names
//! the fields `Ledger`'s derive writes, and the test
//! `the_streamed_ledger_json_equals_the_serialized_ledger` (with the golden
//! hashes) holds the two byte-identical.

use std::collections::BTreeMap;
use std::io::Write;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::commerce::{self, Amounts, Name, Step, Track};
use crate::generator::{Cast, EventKind};
use crate::population::User;
use crate::scenario::{ComputedKind, Profile};
use crate::simulation::{Engage, Spec};
use crate::values::{self, EMPTY_OBJECT, Render, UNSET};

/// The final state implied by the events a [`crate::Generator`] emitted.
///
/// Only Identify calls with a non-empty `userId` count for `users` and
/// `computed_traits`; audience membership counts Identify and Track
/// (`Audience Entered`/`Audience Exited`) calls. Anonymous-only events are in
/// the stream but not here. Maps are keyed by the exact `userId` string
/// (case-sensitive; numeric ids in decimal).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ledger {
    /// The seed of the run.
    pub seed: u64,
    /// The scenario's profile.
    pub profile: Profile,
    /// Events emitted.
    pub events: u64,
    /// Events by Spec `type` and by what the generator meant them as.
    pub counts: Counts,
    /// Per userId: the last value each trait path received.
    pub users: BTreeMap<String, UserLedger>,
    /// Per audience: the last membership value sent for each userId.
    pub audiences: Vec<AudienceLedger>,
    /// Per computed trait: the last value sent for each userId.
    pub computed_traits: Vec<ComputedTraitLedger>,

    /// Commerce on only (the Actions ground truth; absent otherwise): per
    /// userId, the Track calls sent with that userId by event name as sent
    /// (`"Order Completed"`, edge `"order completed"`; `""` for a Track
    /// without `event`), commerce and `Audience Entered`/`Exited` alike.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tracks: BTreeMap<String, BTreeMap<String, u64>>,
    /// Commerce on only: every `Order Completed` (as meant: edge names and
    /// a missing `event` included), in the order sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub orders: Vec<OrderLedger>,
    /// Commerce and audience Track calls on only: per audience, the
    /// `Audience Entered`/`Audience Exited` Track calls sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audience_tracks: Vec<AudienceTrackLedger>,
}

/// One `Order Completed` Track as sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderLedger {
    /// `properties.order_id`; absent in the edge shape without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// The `userId`, when a logged-in user ordered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The `anonymousId`, when one was sent (client-side or not logged in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymous_id: Option<String>,
    /// The `event` as sent; absent for the edge Track without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// `properties.products` as sent (edge: `null` entries, numeric `sku`, …).
    pub products: Vec<Value>,
    /// `properties.revenue` as written (`174`, `19.99`): Σ price × quantity
    /// − discount (crate docs); `as_f64` for arithmetic.
    pub revenue: serde_json::Number,
    /// `properties.coupon`, if the order had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coupon: Option<String>,
    /// `properties.currency`.
    pub currency: String,
}

/// One audience's `Audience Entered`/`Audience Exited` Track calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AudienceTrackLedger {
    /// The audience key (`properties.audience_key`).
    pub key: String,
    /// userId → `Audience Entered` tracks sent (one per email identifier,
    /// duplicates included).
    pub entered: BTreeMap<String, u64>,
    /// userId → `Audience Exited` tracks sent.
    pub exited: BTreeMap<String, u64>,
    /// userId → the membership the last Track sent (`true` for entered).
    pub members: BTreeMap<String, bool>,
}

/// Event counts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Counts {
    /// By Spec `type` (`identify`, `track`).
    pub by_type: BTreeMap<String, u64>,
    /// By [`crate::EventKind`] wire name (`login`, `audience_entered`, …).
    pub by_kind: BTreeMap<String, u64>,
}

/// One user's final traits.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct UserLedger {
    /// Leaf assignments sorted by path. Objects are never leaves (the
    /// generator descends into them, so `{}` assigns nothing); arrays and
    /// `null` are. Includes audience and computed-trait keys sent by
    /// Identify calls.
    pub traits: Vec<TraitValue>,
}

impl UserLedger {
    /// The value at `path`, if the path ever received one.
    pub fn get(&self, path: &[&str]) -> Option<&Value> {
        self.traits
            .iter()
            .find(|t| t.path.iter().map(String::as_str).eq(path.iter().copied()))
            .map(|t| &t.value)
    }
}

/// The last value a trait path received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraitValue {
    /// The path inside `traits`, unflattened: `["address", "city"]`.
    pub path: Vec<String>,
    /// The value as sent (`null` included).
    pub value: Value,
}

/// One audience's final memberships.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AudienceLedger {
    /// The trait key (`snake_case(name)`).
    pub key: String,
    /// The audience name.
    pub name: String,
    /// `context.personas.computation_id`.
    pub computation_id: String,
    /// userId → last value sent; users never sent an event are absent.
    pub members: BTreeMap<String, bool>,
}

/// One computed trait's final values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComputedTraitLedger {
    /// The trait key (`snake_case(name)`).
    pub key: String,
    /// The trait name.
    pub name: String,
    /// `context.personas.computation_id`.
    pub computation_id: String,
    /// What it computes.
    pub kind: ComputedKind,
    /// userId → last value sent; users never sent a value are absent.
    pub values: BTreeMap<String, Value>,
}

/// Last membership value sent, per user and audience.
const SENT_FALSE: u8 = 1;
const SENT_TRUE: u8 = 2;

/// Track names counted per user: four commerce steps and the two audience
/// events, each in the four [`Name`] shapes.
const TRACK_NAMES: usize = 6 * 4;

/// The `Audience Entered` (0) or `Audience Exited` (1) name slot.
fn audience_name(entered: bool) -> usize {
    (4 + usize::from(!entered)) * 4
}

fn commerce_name(track: Track) -> usize {
    let step = match track.step {
        Step::Viewed => 0,
        Step::Added => 1,
        Step::CheckoutStarted => 2,
        Step::OrderCompleted => 3,
    };
    step * 4 + Name::ALL.iter().position(|&n| n == track.name).unwrap_or(0)
}

/// The event name of slot `i` as sent (`""` when there was no `event`).
fn track_name(i: usize) -> String {
    let base = match i / 4 {
        0 => Step::Viewed.name(),
        1 => Step::Added.name(),
        2 => Step::CheckoutStarted.name(),
        3 => Step::OrderCompleted.name(),
        4 => "Audience Entered",
        _ => "Audience Exited",
    };
    Name::ALL[i % 4].apply(base).unwrap_or_default()
}

/// One `Order Completed`, as codes.
#[derive(Debug, Clone, Copy)]
struct OrderRecord {
    user: u32,
    logged_in: bool,
    device: Option<u8>,
    track: Track,
    /// Range into [`Book::order_items`].
    items: (u32, u32),
}

/// What was sent so far, as codes: the ledger before rendering.
#[derive(Debug)]
pub(crate) struct Book {
    slots: usize,
    audiences: usize,
    /// users × slots: the last code each path received, or [`UNSET`].
    codes: Vec<u32>,
    /// Users who received an Identify with their userId.
    identified: Vec<bool>,
    /// users × audiences: `SENT_*`, or 0 if nothing was sent.
    sent: Vec<u8>,
    events: u64,
    by_type: [u64; 2],
    by_kind: [u64; EventKind::ALL.len()],
    /// Commerce on: keep the Actions ground truth below (else all empty).
    actions: bool,
    /// users × [`TRACK_NAMES`]: Track calls sent with the userId.
    track_counts: Vec<u32>,
    /// users × audiences: (entered, exited) Track calls sent.
    audience_track_counts: Vec<(u32, u32)>,
    /// users × audiences: `SENT_*` of the last Track, or 0.
    audience_track_sent: Vec<u8>,
    /// Every `Order Completed`; grows with the orders (the one part of
    /// the state that does, and only with commerce on).
    orders: Vec<OrderRecord>,
    order_items: Vec<(u16, u32)>,
}

impl Book {
    pub(crate) fn new(cast: &Cast) -> Self {
        let users = cast.users.len();
        let slots = cast.schema.slots.len();
        let actions = cast.scenario.commerce();
        let audience_tracks = if actions && cast.scenario.audience_track_events {
            users * cast.audiences.len()
        } else {
            0
        };
        Self {
            slots,
            audiences: cast.audiences.len(),
            codes: vec![UNSET; users * slots],
            identified: vec![false; users],
            sent: vec![0; users * cast.audiences.len()],
            events: 0,
            by_type: [0; 2],
            by_kind: [0; EventKind::ALL.len()],
            actions,
            track_counts: vec![0; if actions { users * TRACK_NAMES } else { 0 }],
            audience_track_counts: vec![(0, 0); audience_tracks],
            audience_track_sent: vec![0; audience_tracks],
            orders: Vec::new(),
            order_items: Vec::new(),
        }
    }

    /// Whether the ledger lists audience Track calls.
    fn lists_audience_tracks(&self) -> bool {
        !self.audience_track_sent.is_empty()
    }

    /// Events recorded.
    pub(crate) fn events(&self) -> u64 {
        self.events
    }

    /// Bytes of the state, allocated up front.
    pub(crate) fn state_bytes(&self) -> usize {
        use std::mem::size_of;
        self.codes.capacity() * 4
            + self.identified.capacity()
            + self.sent.capacity()
            + self.track_counts.capacity() * 4
            + self.audience_track_counts.capacity() * 8
            + self.audience_track_sent.capacity()
            + self.orders.capacity() * size_of::<OrderRecord>()
            + self.order_items.capacity() * size_of::<(u16, u32)>()
    }

    /// Records an event as written, with its traits.
    pub(crate) fn record(&mut self, spec: &Spec, traits: &[(u16, u32)]) {
        self.events += 1;
        self.by_type[usize::from(spec.track)] += 1;
        self.by_kind[spec.kind as usize] += 1;
        if let (Some(track), true) = (spec.commerce, self.actions) {
            if track.step == Step::OrderCompleted {
                let start = self.order_items.len() as u32;
                self.order_items.extend_from_slice(traits);
                self.orders.push(OrderRecord {
                    user: spec.user,
                    logged_in: spec.with_user_id,
                    device: spec.device,
                    track,
                    items: (start, self.order_items.len() as u32),
                });
            }
            if spec.with_user_id {
                self.track_counts[spec.user as usize * TRACK_NAMES + commerce_name(track)] += 1;
            }
            return;
        }
        if !spec.with_user_id {
            return;
        }
        let u = spec.user as usize;
        if !spec.track {
            self.identified[u] = true;
            for &(slot, code) in traits {
                // `{}` is not a leaf: the path keeps its previous value.
                if code != EMPTY_OBJECT {
                    self.codes[u * self.slots + usize::from(slot)] = code;
                }
            }
        }
        if let Engage::Audience(a, value) = spec.engage {
            let i = u * self.audiences + usize::from(a);
            let sent = if value { SENT_TRUE } else { SENT_FALSE };
            self.sent[i] = sent;
            if spec.track && self.actions {
                self.track_counts[u * TRACK_NAMES + audience_name(value)] += 1;
                if self.lists_audience_tracks() {
                    let counts = &mut self.audience_track_counts[i];
                    if value {
                        counts.0 += 1;
                    } else {
                        counts.1 += 1;
                    }
                    self.audience_track_sent[i] = sent;
                }
            }
        }
    }

    /// The last code user `u` received for `slot`, without flags; 0 if none.
    pub(crate) fn last_code(&self, u: u32, slot: u16) -> u32 {
        let code = self.codes[u as usize * self.slots + usize::from(slot)];
        if code >= UNSET {
            0
        } else {
            code & values::CODE_MASK
        }
    }

    /// The typed ledger of everything recorded.
    pub(crate) fn ledger(&self, cast: &Cast) -> Ledger {
        let ids = || (0..cast.users.len()).map(|u| (u, &*cast.users[u].id));
        Ledger {
            seed: cast.seed,
            profile: cast.scenario.profile,
            events: self.events,
            counts: self.counts(),
            users: ids()
                .filter_map(|(u, id)| Some((id.to_owned(), self.user_ledger(cast, u)?)))
                .collect(),
            audiences: cast
                .audiences
                .iter()
                .enumerate()
                .map(|(a, (def, _))| AudienceLedger {
                    key: def.key.clone(),
                    name: def.name.clone(),
                    computation_id: def.computation_id.clone(),
                    members: ids()
                        .filter_map(|(u, id)| Some((id.to_owned(), self.member(u, a)?)))
                        .collect(),
                })
                .collect(),
            computed_traits: cast
                .computed
                .iter()
                .enumerate()
                .map(|(c, (def, _))| ComputedTraitLedger {
                    key: def.key.clone(),
                    name: def.name.clone(),
                    computation_id: def.computation_id.clone(),
                    kind: def.kind,
                    values: ids()
                        .filter_map(|(u, id)| {
                            Some((id.to_owned(), self.computed_value(cast, u, c)?))
                        })
                        .collect(),
                })
                .collect(),
            tracks: ids()
                .filter_map(|(u, id)| Some((id.to_owned(), self.user_tracks(u)?)))
                .collect(),
            orders: (0..self.orders.len())
                .map(|i| self.order(cast, i))
                .collect(),
            audience_tracks: if self.lists_audience_tracks() {
                (0..cast.audiences.len())
                    .map(|a| self.audience_tracks(cast, a, ids()))
                    .collect()
            } else {
                Vec::new()
            },
        }
    }

    /// The Track calls user `u` was sent with their userId, by name.
    fn user_tracks(&self, u: usize) -> Option<BTreeMap<String, u64>> {
        let counts = self
            .track_counts
            .get(u * TRACK_NAMES..(u + 1) * TRACK_NAMES)?;
        let mut tracks = BTreeMap::<String, u64>::new();
        for (i, &n) in counts.iter().enumerate().filter(|(_, n)| **n > 0) {
            // Tracks without `event` of every step share the name "".
            *tracks.entry(track_name(i)).or_default() += u64::from(n);
        }
        (!tracks.is_empty()).then_some(tracks)
    }

    /// Whether any user was sent a Track with their userId (commerce on).
    fn has_tracks(&self) -> bool {
        self.track_counts.iter().any(|&n| n > 0)
    }

    /// Order number `i` as sent, rendered by the writer's code.
    fn order(&self, cast: &Cast, i: usize) -> OrderLedger {
        let record = self.orders[i];
        let items = &self.order_items[record.items.0 as usize..record.items.1 as usize];
        let user = &cast.users[record.user as usize];
        let mut buf = Vec::new();
        let order_id = record.track.order_id.then(|| {
            commerce::push_order_id(&mut buf, cast.seed, record.track.session);
            parse(&mut buf)
        });
        let anonymous_id = record.device.map(|device| {
            crate::population::push_anonymous_id(
                &mut buf,
                cast.seed,
                record.user,
                u32::from(device),
            );
            parse(&mut buf)
        });
        commerce::write_products(&mut buf, items);
        let products = serde_json::from_slice(&buf).expect("products are valid JSON");
        buf.clear();
        commerce::push_cents(&mut buf, Amounts::of(items, record.track.coupon).subtotal);
        let revenue = serde_json::from_slice(&buf).expect("an amount is a number");
        OrderLedger {
            order_id,
            user_id: record.logged_in.then(|| user.id.to_string()),
            anonymous_id,
            event: record.track.name.apply(Step::OrderCompleted.name()),
            products,
            revenue,
            coupon: commerce::coupon(record.track.coupon).map(str::to_owned),
            currency: commerce::currency(record.user).to_owned(),
        }
    }

    /// Audience `a`'s Track calls, for the users `ids` lists.
    fn audience_tracks<'a>(
        &self,
        cast: &Cast,
        a: usize,
        ids: impl Iterator<Item = (usize, &'a str)> + Clone,
    ) -> AudienceTrackLedger {
        let at = |u: usize| u * self.audiences + a;
        let count = |pick: fn((u32, u32)) -> u32| {
            ids.clone()
                .filter_map(|(u, id)| {
                    let n = pick(self.audience_track_counts[at(u)]);
                    (n > 0).then(|| (id.to_owned(), u64::from(n)))
                })
                .collect()
        };
        AudienceTrackLedger {
            key: cast.audiences[a].0.key.clone(),
            entered: count(|c| c.0),
            exited: count(|c| c.1),
            members: ids
                .clone()
                .filter_map(|(u, id)| match self.audience_track_sent[at(u)] {
                    0 => None,
                    sent => Some((id.to_owned(), sent == SENT_TRUE)),
                })
                .collect(),
        }
    }

    /// Streams [`Book::ledger`]'s JSON to `writer`, one user at a time.
    pub(crate) fn write<W: Write>(&self, cast: &Cast, writer: W) -> serde_json::Result<()> {
        let mut order: Vec<u32> = (0..cast.users.len() as u32).collect();
        order.sort_by(|&a, &b| cast.users[a as usize].id.cmp(&cast.users[b as usize].id));
        serde_json::to_writer(
            writer,
            &stream::LedgerRef {
                book: self,
                cast,
                order,
            },
        )
    }

    fn counts(&self) -> Counts {
        Counts {
            by_type: [("identify", self.by_type[0]), ("track", self.by_type[1])]
                .into_iter()
                .filter(|(_, n)| *n > 0)
                .map(|(k, n)| (k.to_owned(), n))
                .collect(),
            by_kind: EventKind::ALL
                .iter()
                .zip(self.by_kind)
                .filter(|(_, n)| *n > 0)
                .map(|(k, n)| (k.as_str().to_owned(), n))
                .collect(),
        }
    }

    /// User `u`'s final traits, if an Identify ever carried their userId.
    fn user_ledger(&self, cast: &Cast, u: usize) -> Option<UserLedger> {
        if !self.identified[u] {
            return None;
        }
        let mut traits: Vec<TraitValue> = cast
            .schema
            .slots
            .iter()
            .enumerate()
            .filter_map(|(s, slot)| {
                let code = self.codes[u * self.slots + s];
                (code != UNSET).then(|| TraitValue {
                    path: slot.path.clone(),
                    value: value(slot.render, &cast.users[u], code),
                })
            })
            .collect();
        traits.sort_by(|a, b| a.path.cmp(&b.path));
        Some(UserLedger { traits })
    }

    /// The last membership value sent to user `u` for audience `a`.
    fn member(&self, u: usize, a: usize) -> Option<bool> {
        match self.sent[u * self.audiences + a] {
            0 => None,
            sent => Some(sent == SENT_TRUE),
        }
    }

    /// The last value of computed trait `c` sent to user `u`.
    fn computed_value(&self, cast: &Cast, u: usize, c: usize) -> Option<Value> {
        let slot = usize::from(cast.computed[c].1);
        let code = self.codes[u * self.slots + slot];
        (code != UNSET).then(|| value(cast.schema.slots[slot].render, &cast.users[u], code))
    }
}

/// The JSON string in `buf`, which is then cleared.
fn parse(buf: &mut Vec<u8>) -> String {
    let s = serde_json::from_slice(buf).expect("the writer writes JSON strings");
    buf.clear();
    s
}

/// The JSON value `code` renders to.
fn value(render: Render, user: &User, code: u32) -> Value {
    let mut buf = Vec::new();
    values::render(&mut buf, render, user, code);
    serde_json::from_slice(&buf).expect("rendered values are valid JSON")
}

/// Serializers that write the ledger without materialising it.
mod stream {
    use serde::Serialize;
    use serde::ser::{SerializeStruct, Serializer};

    use super::Book;
    use crate::generator::Cast;

    pub(super) struct LedgerRef<'a> {
        pub(super) book: &'a Book,
        pub(super) cast: &'a Cast,
        /// User numbers sorted by userId, the order of the ledger's maps.
        pub(super) order: Vec<u32>,
    }

    struct Users<'a>(&'a LedgerRef<'a>);
    struct Audiences<'a>(&'a LedgerRef<'a>);
    struct Audience<'a>(&'a LedgerRef<'a>, usize);
    struct Members<'a>(&'a LedgerRef<'a>, usize);
    struct ComputedAll<'a>(&'a LedgerRef<'a>);
    struct Computed<'a>(&'a LedgerRef<'a>, usize);
    struct Values<'a>(&'a LedgerRef<'a>, usize);
    struct Tracks<'a>(&'a LedgerRef<'a>);
    struct Orders<'a>(&'a LedgerRef<'a>);
    struct AudienceTracks<'a>(&'a LedgerRef<'a>);

    impl Serialize for Tracks<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let r = self.0;
            s.collect_map(
                r.ids()
                    .filter_map(|(u, id)| Some((id, r.book.user_tracks(u)?))),
            )
        }
    }

    impl Serialize for Orders<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let r = self.0;
            s.collect_seq((0..r.book.orders.len()).map(|i| r.book.order(r.cast, i)))
        }
    }

    impl Serialize for AudienceTracks<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let r = self.0;
            s.collect_seq(
                (0..r.cast.audiences.len()).map(|a| r.book.audience_tracks(r.cast, a, r.ids())),
            )
        }
    }

    impl LedgerRef<'_> {
        fn ids(&self) -> impl Iterator<Item = (usize, &str)> + Clone {
            self.order
                .iter()
                .map(|&u| (u as usize, &*self.cast.users[u as usize].id))
        }
    }

    impl Serialize for LedgerRef<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut st = s.serialize_struct("Ledger", 7)?;
            st.serialize_field("seed", &self.cast.seed)?;
            st.serialize_field("profile", &self.cast.scenario.profile)?;
            st.serialize_field("events", &self.book.events)?;
            st.serialize_field("counts", &self.book.counts())?;
            st.serialize_field("users", &Users(self))?;
            st.serialize_field("audiences", &Audiences(self))?;
            st.serialize_field("computed_traits", &ComputedAll(self))?;
            // The Actions fields, skipped when empty as `Ledger`'s derive skips them.
            if self.book.has_tracks() {
                st.serialize_field("tracks", &Tracks(self))?;
            }
            if !self.book.orders.is_empty() {
                st.serialize_field("orders", &Orders(self))?;
            }
            if self.book.lists_audience_tracks() && !self.cast.audiences.is_empty() {
                st.serialize_field("audience_tracks", &AudienceTracks(self))?;
            }
            st.end()
        }
    }

    impl Serialize for Users<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let r = self.0;
            s.collect_map(
                r.ids()
                    .filter_map(|(u, id)| Some((id, r.book.user_ledger(r.cast, u)?))),
            )
        }
    }

    impl Serialize for Audiences<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq((0..self.0.cast.audiences.len()).map(|a| Audience(self.0, a)))
        }
    }

    impl Serialize for Audience<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let def = &self.0.cast.audiences[self.1].0;
            let mut st = s.serialize_struct("AudienceLedger", 4)?;
            st.serialize_field("key", &def.key)?;
            st.serialize_field("name", &def.name)?;
            st.serialize_field("computation_id", &def.computation_id)?;
            st.serialize_field("members", &Members(self.0, self.1))?;
            st.end()
        }
    }

    impl Serialize for Members<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let (r, a) = (self.0, self.1);
            s.collect_map(
                r.ids()
                    .filter_map(|(u, id)| Some((id, r.book.member(u, a)?))),
            )
        }
    }

    impl Serialize for ComputedAll<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq((0..self.0.cast.computed.len()).map(|c| Computed(self.0, c)))
        }
    }

    impl Serialize for Computed<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let def = &self.0.cast.computed[self.1].0;
            let mut st = s.serialize_struct("ComputedTraitLedger", 5)?;
            st.serialize_field("key", &def.key)?;
            st.serialize_field("name", &def.name)?;
            st.serialize_field("computation_id", &def.computation_id)?;
            st.serialize_field("kind", &def.kind)?;
            st.serialize_field("values", &Values(self.0, self.1))?;
            st.end()
        }
    }

    impl Serialize for Values<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let (r, c) = (self.0, self.1);
            s.collect_map(
                r.ids()
                    .filter_map(|(u, id)| Some((id, r.book.computed_value(r.cast, u, c)?))),
            )
        }
    }
}
