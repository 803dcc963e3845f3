//! The streaming generator: a day-by-day simulation that yields one NDJSON line at a time.
//!
//! Each simulated day has three phases, in this order: user activity
//! (anonymous identifies, logins, trait updates, users in index order), then
//! each audience's sync, then each computed trait's sync. A phase step (one
//! user) queues at most a handful of event descriptions; an event is written
//! and applied to the ledger only when it is taken, so `max_events` cuts the
//! stream and the ledger at the same place.

use std::collections::VecDeque;
use std::io::{self, Write};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::json::{DAY_MS, EPOCH_UNIX_MS, mix, push_hex, push_time, push_u64, quoted};
use crate::ledger::{AudienceLedger, ComputedTraitLedger, Counts, Ledger, TraitValue, UserLedger};
use crate::population::{self, NEVER, User, push_anonymous_id};
use crate::rng::{below, chance, code};
use crate::scenario::{
    AudienceDef, ComputedKind, ComputedTraitDef, Profile, Scenario, ScenarioError,
};
use crate::schema::{EMPTY_OBJECT_PATHS, Schema};
use crate::values::{self, AS_STRING, CATEGORIES, CODE_MASK, EMPTY_OBJECT, NULL, Render, UNSET};

/// What the generator meant an event as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// An Identify with only an `anonymousId` (before login, or never logged in).
    Anonymous,
    /// The Identify at login: `userId`, full traits.
    Login,
    /// A later Identify with some traits changed.
    TraitUpdate,
    /// Engage's initial sync of a new audience: `true` for a current member.
    AudienceInitial,
    /// Engage: a user entered an audience (`true`).
    AudienceEntered,
    /// Engage: a user left an audience (`false`).
    AudienceExited,
    /// Engage: an enter sent again (`true` for a member already sent `true`).
    AudienceDuplicate,
    /// Engage's first computation of a computed trait.
    ComputedInitial,
    /// Engage: a computed trait's value changed.
    ComputedChanged,
}

impl EventKind {
    const ALL: [Self; 9] = [
        Self::Anonymous,
        Self::Login,
        Self::TraitUpdate,
        Self::AudienceInitial,
        Self::AudienceEntered,
        Self::AudienceExited,
        Self::AudienceDuplicate,
        Self::ComputedInitial,
        Self::ComputedChanged,
    ];

    /// The wire name, as in [`crate::Counts::by_kind`].
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Anonymous => "anonymous",
            Self::Login => "login",
            Self::TraitUpdate => "trait_update",
            Self::AudienceInitial => "audience_initial",
            Self::AudienceEntered => "audience_entered",
            Self::AudienceExited => "audience_exited",
            Self::AudienceDuplicate => "audience_duplicate",
            Self::ComputedInitial => "computed_initial",
            Self::ComputedChanged => "computed_changed",
        }
    }

    /// Whether Engage (not a source) sends this kind.
    pub fn is_engage(self) -> bool {
        !matches!(self, Self::Anonymous | Self::Login | Self::TraitUpdate)
    }
}

/// Facts about one emitted event, without its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventMeta {
    /// Position in the stream, from 0.
    pub index: u64,
    /// The simulated day, from 0.
    pub day: u32,
    /// What the event is.
    pub kind: EventKind,
    /// `true` for a Track call (`Audience Entered`/`Exited`), else Identify.
    pub track: bool,
    /// The user's position in the population.
    pub user: u32,
}

/// One event: its facts and its NDJSON line (without the newline).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedEvent {
    /// Facts about the event.
    pub meta: EventMeta,
    /// The Segment payload as one line of JSON.
    pub json: String,
}

impl GeneratedEvent {
    /// The payload as a [`segment_model::Event`].
    pub fn to_event(&self) -> segment_model::Event {
        serde_json::from_str(&self.json).expect("the generator writes valid Segment events")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Activity,
    Audiences,
    Computed,
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Server,
    Client,
    Engage,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Engage {
    None,
    Audience(u16, bool),
    Computed(u16),
}

/// An event waiting to be written.
#[derive(Debug, Clone, Copy)]
struct Spec {
    kind: EventKind,
    user: u32,
    with_user_id: bool,
    device: Option<u8>,
    source: Source,
    engage: Engage,
    track: bool,
    /// The email identifier, for Engage events.
    email: u32,
    /// Range into `Generator::pending_traits`.
    traits: (u32, u32),
}

/// Slot ids the generator writes by name.
#[derive(Debug)]
struct Ids {
    email: u16,
    name: u16,
    first: [u16; 2],
    last: [u16; 2],
    phone: u16,
    birthday: u16,
    created: [u16; 2],
    street: u16,
    city: u16,
    state: u16,
    postal: [u16; 2],
    country: u16,
    company: [u16; 4],
    company_plan: u16,
    plan: u16,
    logins: u16,
    newsletter: u16,
    lifetime_value: u16,
    interests: u16,
    language: u16,
    currency: u16,
    notify: [u16; 2],
    /// Edge profile: the extra slots.
    edge: Vec<u16>,
    /// Edge profile: slots that may carry `{}`.
    empty_object: Vec<u16>,
}

impl Ids {
    fn new(schema: &Schema) -> Self {
        let id = |p: &[&str]| schema.id(p);
        let edge = schema
            .slots
            .iter()
            .enumerate()
            .filter(|(_, slot)| slot.edge_extra)
            .map(|(i, _)| i as u16)
            .collect();
        Self {
            email: id(&["email"]),
            name: id(&["name"]),
            first: [id(&["firstName"]), id(&["first_name"])],
            last: [id(&["lastName"]), id(&["last_name"])],
            phone: id(&["phone"]),
            birthday: id(&["birthday"]),
            created: [id(&["createdAt"]), id(&["created_at"])],
            street: id(&["address", "street"]),
            city: id(&["address", "city"]),
            state: id(&["address", "state"]),
            postal: [
                id(&["address", "postalCode"]),
                id(&["address", "postal_code"]),
            ],
            country: id(&["address", "country"]),
            company: [
                id(&["company", "name"]),
                id(&["company", "id"]),
                id(&["company", "industry"]),
                id(&["company", "employee_count"]),
            ],
            company_plan: id(&["company", "plan"]),
            plan: id(&["plan"]),
            logins: id(&["logins"]),
            newsletter: id(&["newsletter"]),
            lifetime_value: id(&["lifetime_value"]),
            interests: id(&["interests"]),
            language: id(&["preferences", "language"]),
            currency: id(&["preferences", "currency"]),
            notify: [
                id(&["preferences", "notifications", "email"]),
                id(&["preferences", "notifications", "sms"]),
            ],
            edge,
            empty_object: EMPTY_OBJECT_PATHS
                .iter()
                .filter_map(|p| schema.find(p))
                .collect(),
        }
    }
}

/// An audience with its pre-written bytes.
#[derive(Debug)]
struct AudienceRt {
    def: AudienceDef,
    slot: u16,
    personas: Box<[u8]>,
    key_json: Box<[u8]>,
}

/// A computed trait with its pre-written bytes.
#[derive(Debug)]
struct ComputedRt {
    def: ComputedTraitDef,
    slot: u16,
    personas: Box<[u8]>,
}

/// Per-user Engage state sizes: membership byte per audience.
const MEMBER: u8 = 1;
const SENT_FALSE: u8 = 2;
const SENT_TRUE: u8 = 4;

/// Most events one phase step can queue: 3 emails × (enter + duplicate) ×
/// (Identify + Track); activity is at most 2 anonymous + 1 login.
const MAX_SPECS_PER_STEP: usize = 12;

/// The generator. See the crate docs for a guided example.
#[derive(Debug)]
pub struct Generator {
    scenario: Scenario,
    seed: u64,
    rng: ChaCha8Rng,
    schema: Schema,
    ids: Ids,
    users: Vec<User>,
    audiences: Vec<AudienceRt>,
    computed: Vec<ComputedRt>,
    /// users × audiences: [`MEMBER`] is the simulated truth, `SENT_*` the
    /// last value sent.
    membership: Vec<u8>,
    /// users × computed traits: the current value code, or [`UNSET`].
    computed_values: Vec<u32>,
    /// users × slots: the last code each path received, or [`UNSET`].
    ledger_codes: Vec<u32>,
    /// Users who received an Identify with their userId.
    identified: Vec<bool>,
    day: u32,
    phase: Phase,
    item: u32,
    cursor: u32,
    pending: VecDeque<Spec>,
    pending_traits: Vec<(u16, u32)>,
    /// Milliseconds since the epoch; never decreases.
    clock: i64,
    activity_step: u32,
    emitted: u64,
    by_type: [u64; 2],
    by_kind: [u64; 9],
}

impl Generator {
    /// Draws the population and prepares the run. Nothing is generated
    /// until events are taken.
    pub fn new(scenario: Scenario, seed: u64) -> Result<Self, ScenarioError> {
        scenario.validate()?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let schema = Schema::new(&scenario);
        let ids = Ids::new(&schema);
        let users = population::draw(&scenario, seed, &mut rng);
        let space = quoted(&scenario.space_id);
        let personas = |class: &str, id: &str, key: &str| -> Box<[u8]> {
            let mut out = Vec::new();
            out.extend_from_slice(b"\"personas\":{\"computation_class\":\"");
            out.extend_from_slice(class.as_bytes());
            out.extend_from_slice(b"\",\"computation_id\":");
            out.extend_from_slice(&quoted(id));
            out.extend_from_slice(b",\"computation_key\":");
            out.extend_from_slice(&quoted(key));
            out.extend_from_slice(b",\"namespace\":");
            out.extend_from_slice(&space);
            out.extend_from_slice(b",\"space_id\":");
            out.extend_from_slice(&space);
            out.push(b'}');
            out.into_boxed_slice()
        };
        let audiences: Vec<AudienceRt> = scenario
            .audience_defs()
            .into_iter()
            .map(|def| AudienceRt {
                slot: schema.id(&[&def.key]),
                personas: personas("audience", &def.computation_id, &def.key),
                key_json: quoted(&def.key),
                def,
            })
            .collect();
        let computed: Vec<ComputedRt> = scenario
            .computed_trait_defs()
            .into_iter()
            .map(|def| ComputedRt {
                slot: schema.id(&[&def.key]),
                personas: personas("trait", &def.computation_id, &def.key),
                def,
            })
            .collect();
        let n = users.len();
        // Spread a day's activity over ~18 hours.
        let per_day = (n as f64 * (scenario.daily_update_share + 0.05)).max(1.0);
        let activity_step = ((18.0 * 3_600_000.0 / per_day) as u32).clamp(2, 600_000);
        let slots = schema.slots.len();
        let max_traits = slots + scenario.edge_traits_per_event as usize + 4;
        Ok(Self {
            membership: vec![0; n * audiences.len()],
            computed_values: vec![UNSET; n * computed.len()],
            ledger_codes: vec![UNSET; n * slots],
            identified: vec![false; n],
            pending: VecDeque::with_capacity(MAX_SPECS_PER_STEP),
            pending_traits: Vec::with_capacity(MAX_SPECS_PER_STEP * max_traits),
            day: 0,
            phase: if scenario.days == 0 {
                Phase::Done
            } else {
                Phase::Activity
            },
            item: 0,
            cursor: 0,
            clock: 0,
            activity_step,
            emitted: 0,
            by_type: [0; 2],
            by_kind: [0; 9],
            audiences,
            computed,
            users,
            ids,
            schema,
            rng,
            seed,
            scenario,
        })
    }

    /// The scenario being run.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// Events emitted so far.
    pub fn emitted(&self) -> u64 {
        self.emitted
    }

    /// The userId of user number `user` (numeric ids in decimal).
    pub fn user_id(&self, user: u32) -> &str {
        &self.users[user as usize].id
    }

    /// Bytes held by the generator's state. It depends on the scenario's
    /// sizes (users, audiences, traits), never on how many events were
    /// taken: every buffer is allocated up front at its bound.
    pub fn state_bytes(&self) -> usize {
        use std::mem::size_of;
        let users: usize = self
            .users
            .iter()
            .map(|u| u.id.len() + u.id_json.len())
            .sum::<usize>()
            + self.users.capacity() * size_of::<User>();
        users
            + self.membership.capacity()
            + self.computed_values.capacity() * 4
            + self.ledger_codes.capacity() * 4
            + self.identified.capacity()
            + self.pending.capacity() * size_of::<Spec>()
            + self.pending_traits.capacity() * size_of::<(u16, u32)>()
    }

    /// Appends the next event as one NDJSON line (with `\n`) to `out` and
    /// returns its facts, or `None` when the run is over. The fast path.
    pub fn next_into(&mut self, out: &mut Vec<u8>) -> Option<EventMeta> {
        if self
            .scenario
            .max_events
            .is_some_and(|max| self.emitted >= max)
        {
            return None;
        }
        while self.pending.is_empty() {
            if self.phase == Phase::Done {
                return None;
            }
            self.pending_traits.clear();
            self.step();
        }
        let spec = self.pending.pop_front()?;
        Some(self.write(spec, out))
    }

    /// Writes every remaining event to `writer` as NDJSON, buffering
    /// internally; returns how many were written.
    pub fn write_ndjson<W: Write>(&mut self, writer: &mut W) -> io::Result<u64> {
        let mut buf = Vec::with_capacity(1 << 17);
        let mut written = 0;
        while self.next_into(&mut buf).is_some() {
            written += 1;
            if buf.len() >= 1 << 16 {
                writer.write_all(&buf)?;
                buf.clear();
            }
        }
        writer.write_all(&buf)?;
        writer.flush()?;
        Ok(written)
    }

    /// The ground truth for the events emitted so far; after the iterator
    /// is exhausted, the final truth. Holds every user's traits as
    /// `serde_json::Value`s: for very large runs prefer
    /// [`Generator::write_ledger`], which streams the same JSON.
    pub fn ledger(&self) -> Ledger {
        let users = (0..self.users.len())
            .filter_map(|u| Some((self.users[u].id.to_string(), self.user_ledger(u)?)))
            .collect();
        let audiences = self
            .audiences
            .iter()
            .enumerate()
            .map(|(a, aud)| AudienceLedger {
                key: aud.def.key.clone(),
                name: aud.def.name.clone(),
                computation_id: aud.def.computation_id.clone(),
                members: (0..self.users.len())
                    .filter_map(|u| Some((self.users[u].id.to_string(), self.member(u, a)?)))
                    .collect(),
            })
            .collect();
        let computed_traits = self
            .computed
            .iter()
            .enumerate()
            .map(|(c, ct)| ComputedTraitLedger {
                key: ct.def.key.clone(),
                name: ct.def.name.clone(),
                computation_id: ct.def.computation_id.clone(),
                kind: ct.def.kind,
                values: (0..self.users.len())
                    .filter_map(|u| {
                        Some((self.users[u].id.to_string(), self.computed_value(u, c)?))
                    })
                    .collect(),
            })
            .collect();
        Ledger {
            seed: self.seed,
            profile: self.scenario.profile,
            events: self.emitted,
            counts: self.counts(),
            users,
            audiences,
            computed_traits,
        }
    }

    /// The ledger, consuming the generator.
    pub fn into_ledger(self) -> Ledger {
        self.ledger()
    }

    /// Writes [`Generator::ledger`] as compact JSON, one user at a time, so
    /// memory stays near the generator's own state even for millions of
    /// users. The bytes equal `serde_json::to_writer(writer, &self.ledger())`.
    pub fn write_ledger<W: Write>(&self, writer: W) -> serde_json::Result<()> {
        let mut order: Vec<u32> = (0..self.users.len() as u32).collect();
        order.sort_by(|&a, &b| self.users[a as usize].id.cmp(&self.users[b as usize].id));
        serde_json::to_writer(writer, &stream::LedgerRef { g: self, order })
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
    fn user_ledger(&self, u: usize) -> Option<UserLedger> {
        if !self.identified[u] {
            return None;
        }
        let slots = self.schema.slots.len();
        let mut traits: Vec<TraitValue> = self
            .schema
            .slots
            .iter()
            .enumerate()
            .filter_map(|(s, slot)| {
                let code = self.ledger_codes[u * slots + s];
                (code != UNSET).then(|| TraitValue {
                    path: slot.path.clone(),
                    value: value(slot.render, &self.users[u], code),
                })
            })
            .collect();
        traits.sort_by(|a, b| a.path.cmp(&b.path));
        Some(UserLedger { traits })
    }

    /// The last membership value sent to user `u` for audience `a`.
    fn member(&self, u: usize, a: usize) -> Option<bool> {
        match self.membership[u * self.audiences.len() + a] & (SENT_TRUE | SENT_FALSE) {
            0 => None,
            sent => Some(sent == SENT_TRUE),
        }
    }

    /// The last value of computed trait `c` sent to user `u`.
    fn computed_value(&self, u: usize, c: usize) -> Option<Value> {
        let slot = usize::from(self.computed[c].slot);
        let code = self.ledger_codes[u * self.schema.slots.len() + slot];
        (code != UNSET).then(|| value(self.schema.slots[slot].render, &self.users[u], code))
    }

    // ---- simulation ----------------------------------------------------

    /// Runs one phase step, queueing zero or more events.
    fn step(&mut self) {
        let users = self.users.len() as u32;
        match self.phase {
            Phase::Activity => {
                if self.cursor < users {
                    self.activity(self.cursor);
                    self.cursor += 1;
                } else {
                    self.phase = Phase::Audiences;
                    self.item = 0;
                    self.cursor = 0;
                    // Engage syncs run in the evening.
                    self.clock = self
                        .clock
                        .max(i64::from(self.day) * DAY_MS + 20 * 3_600_000);
                }
            }
            Phase::Audiences => {
                let created = self
                    .audiences
                    .get(self.item as usize)
                    .map(|a| a.def.created_day);
                match created {
                    Some(created) if self.day >= created && self.cursor < users => {
                        self.audience(self.item as usize, self.cursor, self.day == created);
                        self.cursor += 1;
                    }
                    Some(_) => {
                        self.item += 1;
                        self.cursor = 0;
                    }
                    None => {
                        self.phase = Phase::Computed;
                        self.item = 0;
                        self.cursor = 0;
                    }
                }
            }
            Phase::Computed => {
                let created = self
                    .computed
                    .get(self.item as usize)
                    .map(|c| c.def.created_day);
                match created {
                    Some(created) if self.day >= created && self.cursor < users => {
                        self.computed_step(self.item as usize, self.cursor, self.day == created);
                        self.cursor += 1;
                    }
                    Some(_) => {
                        self.item += 1;
                        self.cursor = 0;
                    }
                    None => {
                        self.day += 1;
                        self.item = 0;
                        self.cursor = 0;
                        if self.day >= self.scenario.days {
                            self.phase = Phase::Done;
                        } else {
                            self.phase = Phase::Activity;
                            self.clock = self.clock.max(i64::from(self.day) * DAY_MS);
                        }
                    }
                }
            }
            Phase::Done => {}
        }
    }

    fn push(&mut self, kind: EventKind, user: u32, source: Source, start: usize) {
        self.pending.push_back(Spec {
            kind,
            user,
            with_user_id: kind != EventKind::Anonymous,
            device: None,
            source,
            engage: Engage::None,
            track: false,
            email: 0,
            traits: (start as u32, self.pending_traits.len() as u32),
        });
    }

    fn set(&mut self, slot: u16, code: u32) {
        self.pending_traits.push((slot, code));
    }

    fn activity(&mut self, u: u32) {
        let user = &self.users[u as usize];
        let (login_day, client, anonymous_first, devices) = (
            user.login_day,
            user.client_side,
            user.anonymous_first,
            user.devices,
        );
        let source = if client {
            Source::Client
        } else {
            Source::Server
        };
        let day = self.day;
        if login_day == NEVER {
            if chance(&mut self.rng, self.scenario.daily_update_share) {
                self.anonymous(u, source);
            }
        } else if day == login_day {
            if anonymous_first {
                for _ in 0..=below(&mut self.rng, 2) {
                    self.anonymous(u, source);
                }
            }
            let start = self.pending_traits.len();
            self.login_traits(u);
            self.edge_traits(start);
            self.finish_traits(start);
            self.push(EventKind::Login, u, source, start);
            if client {
                // The browser of the anonymous identifies, if any.
                self.set_device(0);
            }
        } else if day > login_day && chance(&mut self.rng, self.scenario.daily_update_share) {
            let start = self.pending_traits.len();
            self.update_traits(u);
            self.edge_traits(start);
            self.finish_traits(start);
            self.push(EventKind::TraitUpdate, u, source, start);
            if client {
                let device = below(&mut self.rng, u32::from(devices.max(1))) as u8;
                self.set_device(device);
            }
        }
    }

    fn set_device(&mut self, device: u8) {
        if let Some(last) = self.pending.back_mut() {
            last.device = Some(device);
        }
    }

    fn anonymous(&mut self, u: u32, source: Source) {
        let start = self.pending_traits.len();
        match below(&mut self.rng, 3) {
            0 => {}
            1 => {
                let c = code(&mut self.rng);
                self.set(self.ids.newsletter, c);
            }
            _ => {
                let c = code(&mut self.rng);
                self.set(self.ids.language, c);
            }
        }
        self.push(EventKind::Anonymous, u, source, start);
        self.set_device(0);
    }

    fn login_traits(&mut self, u: u32) {
        let snake = usize::from(self.users[u as usize].snake_case);
        let ids = &self.ids;
        let (email, name, first, last, phone, birthday, created) = (
            ids.email,
            ids.name,
            ids.first[snake],
            ids.last[snake],
            ids.phone,
            ids.birthday,
            ids.created[snake],
        );
        self.set(email, 0);
        self.set(name, 0);
        self.set(first, 0);
        self.set(last, 0);
        let c = code(&mut self.rng);
        self.set(phone, c);
        let c = code(&mut self.rng);
        self.set(birthday, c);
        let c = code(&mut self.rng);
        self.set(created, c);
        self.address(snake);
        if chance(&mut self.rng, 0.5) {
            self.company();
        }
        let c = code(&mut self.rng);
        self.set(self.ids.plan, c);
        self.set(self.ids.logins, 1);
        let c = code(&mut self.rng);
        self.set(self.ids.newsletter, c);
        if chance(&mut self.rng, 0.5) {
            let c = self.category_list();
            self.set(self.ids.interests, c);
        }
        if chance(&mut self.rng, 0.7) {
            let (l, c) = (code(&mut self.rng), code(&mut self.rng));
            self.set(self.ids.language, l);
            self.set(self.ids.currency, c);
        }
    }

    fn address(&mut self, snake: usize) {
        let city = code(&mut self.rng);
        let street = code(&mut self.rng);
        let ids = &self.ids;
        let slots = [ids.city, ids.state, ids.postal[snake], ids.country];
        let street_slot = ids.street;
        self.set(street_slot, street);
        for slot in slots {
            self.set(slot, city);
        }
    }

    fn company(&mut self) {
        let company = code(&mut self.rng);
        for slot in self.ids.company {
            self.set(slot, company);
        }
        let plan = code(&mut self.rng);
        self.set(self.ids.company_plan, plan);
    }

    fn category_list(&mut self) -> u32 {
        let mask = (1u32 << CATEGORIES.len()) - 1;
        (code(&mut self.rng) & mask).max(1)
    }

    /// The last code user `u` received for `slot`, without flags; 0 if none.
    fn last_code(&self, u: u32, slot: u16) -> u32 {
        let code = self.ledger_codes[u as usize * self.schema.slots.len() + usize::from(slot)];
        if code >= UNSET { 0 } else { code & CODE_MASK }
    }

    fn update_traits(&mut self, u: u32) {
        let groups = 1 + below(&mut self.rng, 3);
        for _ in 0..groups {
            match below(&mut self.rng, 11) {
                0 => {
                    let c = code(&mut self.rng);
                    self.set(self.ids.plan, c);
                }
                1 | 2 => {
                    let n = self.last_code(u, self.ids.logins) + 1 + below(&mut self.rng, 3);
                    self.set(self.ids.logins, n);
                }
                3 => {
                    let n = self.last_code(u, self.ids.newsletter) + 1;
                    self.set(self.ids.newsletter, n & 1);
                }
                4 => {
                    let cents = self.last_code(u, self.ids.lifetime_value)
                        + 500
                        + below(&mut self.rng, 20_000);
                    self.set(self.ids.lifetime_value, cents.min(CODE_MASK));
                }
                5 => {
                    let snake = usize::from(self.users[u as usize].snake_case);
                    self.address(snake);
                }
                6 => {
                    let c = code(&mut self.rng);
                    self.set(self.ids.company_plan, c);
                }
                7 => {
                    let c = self.category_list();
                    self.set(self.ids.interests, c);
                }
                8 => {
                    let c = code(&mut self.rng);
                    self.set(self.ids.language, c);
                }
                9 => {
                    let (e, s) = (code(&mut self.rng), code(&mut self.rng));
                    self.set(self.ids.notify[0], e);
                    self.set(self.ids.notify[1], s);
                }
                _ => {
                    let emails = u32::from(self.users[u as usize].emails);
                    let k = below(&mut self.rng, emails);
                    self.set(self.ids.email, k);
                }
            }
        }
    }

    /// Edge profile: odd traits, nulls and values sent as strings.
    fn edge_traits(&mut self, start: usize) {
        if self.scenario.profile != Profile::Edge {
            return;
        }
        let edge_slots = self.ids.edge.len() as u32;
        for _ in 0..self.scenario.edge_traits_per_event {
            let slot = self.ids.edge[below(&mut self.rng, edge_slots) as usize];
            let c = if self.ids.empty_object.contains(&slot) && chance(&mut self.rng, 0.3) {
                EMPTY_OBJECT
            } else {
                code(&mut self.rng)
            };
            self.set(slot, c);
        }
        for i in start..self.pending_traits.len() {
            let (slot, c) = self.pending_traits[i];
            if c == EMPTY_OBJECT {
                continue;
            }
            let render = self.schema.slots[usize::from(slot)].render;
            if chance(&mut self.rng, self.scenario.edge_null_share) {
                self.pending_traits[i].1 = NULL;
            } else if matches!(render, Render::Logins | Render::Flag | Render::Counter)
                && chance(&mut self.rng, 0.2)
            {
                self.pending_traits[i].1 = c | AS_STRING;
            }
        }
    }

    /// Sorts the event's traits into write order; the first of duplicates wins.
    fn finish_traits(&mut self, start: usize) {
        let tail = &mut self.pending_traits[start..];
        tail.sort_by_key(|&(slot, _)| slot);
        let mut keep = start;
        for i in start..self.pending_traits.len() {
            if i == start || self.pending_traits[i].0 != self.pending_traits[keep - 1].0 {
                self.pending_traits[keep] = self.pending_traits[i];
                keep += 1;
            }
        }
        self.pending_traits.truncate(keep);
    }

    fn audience(&mut self, a: usize, u: u32, initial: bool) {
        if self.users[u as usize].login_day > self.day {
            return;
        }
        let idx = u as usize * self.audiences.len() + a;
        let was = self.membership[idx] & MEMBER != 0;
        let now = if initial {
            chance(&mut self.rng, self.scenario.audience_initial_share)
        } else if was {
            !chance(&mut self.rng, self.scenario.audience_exit_share)
        } else {
            chance(&mut self.rng, self.scenario.audience_enter_share)
        };
        self.membership[idx] = (self.membership[idx] & !MEMBER) | u8::from(now);
        let kind = match (initial, was, now) {
            (true, _, true) => EventKind::AudienceInitial,
            (false, false, true) => EventKind::AudienceEntered,
            (false, true, false) => EventKind::AudienceExited,
            _ => return,
        };
        self.audience_events(a, u, kind, now);
        if now && chance(&mut self.rng, self.scenario.duplicate_enter_share) {
            self.audience_events(a, u, EventKind::AudienceDuplicate, true);
        }
    }

    /// One event per email identifier, as Identify and/or Track.
    fn audience_events(&mut self, a: usize, u: u32, kind: EventKind, value: bool) {
        let emails = u32::from(self.users[u as usize].emails);
        let slot = self.audiences[a].slot;
        for k in 0..emails {
            if self.scenario.audience_identify_events {
                let start = self.pending_traits.len();
                self.set(self.ids.email, k);
                self.set(slot, u32::from(value));
                self.finish_traits(start);
                self.push_engage(kind, u, Engage::Audience(a as u16, value), false, k, start);
            }
            if self.scenario.audience_track_events {
                let start = self.pending_traits.len();
                self.push_engage(kind, u, Engage::Audience(a as u16, value), true, k, start);
            }
        }
    }

    fn push_engage(
        &mut self,
        kind: EventKind,
        u: u32,
        engage: Engage,
        track: bool,
        k: u32,
        start: usize,
    ) {
        self.pending.push_back(Spec {
            kind,
            user: u,
            with_user_id: true,
            device: None,
            source: Source::Engage,
            engage,
            track,
            email: k,
            traits: (start as u32, self.pending_traits.len() as u32),
        });
    }

    fn computed_step(&mut self, c: usize, u: u32, initial: bool) {
        if self.users[u as usize].login_day > self.day {
            return;
        }
        let idx = u as usize * self.computed.len() + c;
        let old = self.computed_values[idx];
        let (kind, new) = if initial {
            if !chance(&mut self.rng, self.scenario.computed_initial_share) {
                return;
            }
            (EventKind::ComputedInitial, self.next_value(c, UNSET))
        } else {
            if !chance(&mut self.rng, self.scenario.computed_change_share) {
                return;
            }
            (EventKind::ComputedChanged, self.next_value(c, old))
        };
        if new == old {
            return;
        }
        self.computed_values[idx] = new;
        let slot = self.computed[c].slot;
        for k in 0..u32::from(self.users[u as usize].emails) {
            let start = self.pending_traits.len();
            self.set(self.ids.email, k);
            self.set(slot, new);
            self.finish_traits(start);
            self.push_engage(kind, u, Engage::Computed(c as u16), false, k, start);
        }
    }

    /// A new value for computed trait `c`, different from `old` when possible.
    fn next_value(&mut self, c: usize, old: u32) -> u32 {
        let n = CATEGORIES.len() as u32;
        match self.computed[c].def.kind {
            ComputedKind::Counter if old == UNSET => 1 + below(&mut self.rng, 5),
            ComputedKind::Counter => (old + 1 + below(&mut self.rng, 3)).min(CODE_MASK),
            ComputedKind::MostFrequent if old == UNSET => below(&mut self.rng, n),
            ComputedKind::MostFrequent => (old + 1 + below(&mut self.rng, n - 1)) % n,
            ComputedKind::UniqueList => {
                let have = if old == UNSET { 0 } else { old };
                let missing = !have & ((1 << n) - 1);
                if missing == 0 {
                    return old;
                }
                // The k-th missing category.
                let mut k = below(&mut self.rng, missing.count_ones());
                let mut bit = 0;
                for i in 0..n {
                    if missing & (1 << i) != 0 {
                        if k == 0 {
                            bit = 1 << i;
                            break;
                        }
                        k -= 1;
                    }
                }
                have | bit
            }
        }
    }

    // ---- writing -------------------------------------------------------

    fn write(&mut self, spec: Spec, out: &mut Vec<u8>) -> EventMeta {
        let index = self.emitted;
        self.emitted += 1;
        self.by_type[usize::from(spec.track)] += 1;
        self.by_kind[spec.kind as usize] += 1;
        let step = match spec.source {
            Source::Engage => 1 + below(&mut self.rng, 20),
            _ => 1 + below(&mut self.rng, 2 * self.activity_step),
        };
        self.clock += i64::from(step);
        let sent_delay = match spec.source {
            Source::Client => below(&mut self.rng, 3000),
            Source::Server => below(&mut self.rng, 300),
            Source::Engage => 0,
        };
        let receive_delay = 15 + below(&mut self.rng, 400);
        let timestamp = EPOCH_UNIX_MS + self.clock;
        let sent_at = timestamp + i64::from(sent_delay);
        let received_at = sent_at + i64::from(receive_delay);
        let user = &self.users[spec.user as usize];

        out.extend_from_slice(if spec.track {
            b"{\"type\":\"track\",\"messageId\":\""
        } else {
            b"{\"type\":\"identify\",\"messageId\":\""
        });
        let h = mix(self.seed ^ mix(index ^ 0x6d65_7373_6167_6500));
        if spec.source == Source::Engage {
            out.extend_from_slice(b"personas_");
            push_hex(out, h, 16);
            push_hex(out, index, 12);
        } else {
            push_hex(out, h >> 32, 8);
            out.push(b'-');
            push_hex(out, h >> 16, 4);
            out.extend_from_slice(b"-4");
            push_hex(out, h, 3);
            out.extend_from_slice(b"-8");
            push_hex(out, h >> 52, 3);
            out.push(b'-');
            push_hex(out, index, 12);
        }
        out.push(b'"');
        if spec.with_user_id {
            out.extend_from_slice(b",\"userId\":");
            if spec.source == Source::Engage && user.id_json[0] != b'"' {
                // Engage sends profile ids as strings.
                out.push(b'"');
                out.extend_from_slice(&user.id_json);
                out.push(b'"');
            } else {
                out.extend_from_slice(&user.id_json);
            }
        }
        if let Some(device) = spec.device {
            out.extend_from_slice(b",\"anonymousId\":");
            push_anonymous_id(out, self.seed, spec.user, u32::from(device));
        }
        out.extend_from_slice(b",\"timestamp\":");
        push_time(out, timestamp);
        out.extend_from_slice(b",\"sentAt\":");
        push_time(out, sent_at);
        out.extend_from_slice(b",\"receivedAt\":");
        push_time(out, received_at);
        match spec.source {
            Source::Client => {
                out.extend_from_slice(
                    b",\"channel\":\"browser\",\"context\":{\"library\":{\"name\":\"analytics.js\",\"version\":\"npm:next-1.76.0\"},\"ip\":\"203.0.113.",
                );
                push_u64(out, u64::from(spec.user % 254 + 1));
                out.extend_from_slice(b"\",\"userAgent\":\"");
                out.extend_from_slice(USER_AGENTS[spec.user as usize % USER_AGENTS.len()]);
                out.extend_from_slice(b"\",\"locale\":\"");
                out.extend_from_slice(LOCALES[spec.user as usize % LOCALES.len()]);
                out.extend_from_slice(b"\"},\"integrations\":{}");
            }
            Source::Server => out.extend_from_slice(
                b",\"channel\":\"server\",\"context\":{\"library\":{\"name\":\"analytics-node\",\"version\":\"2.1.0\"}},\"integrations\":{}",
            ),
            Source::Engage => {
                out.extend_from_slice(
                    b",\"channel\":\"server\",\"context\":{\"library\":{\"name\":\"unknown\",\"version\":\"unknown\"},",
                );
                let personas: &[u8] = match spec.engage {
                    Engage::Audience(a, _) => &self.audiences[usize::from(a)].personas,
                    Engage::Computed(c) => &self.computed[usize::from(c)].personas,
                    Engage::None => b"",
                };
                out.extend_from_slice(personas);
                if spec.track {
                    out.extend_from_slice(b",\"traits\":{\"email\":");
                    values::push_email(out, user, spec.email);
                    out.push(b'}');
                }
                out.extend_from_slice(b"},\"integrations\":{\"All\":false,\"Talon.One\":true}");
            }
        }
        if spec.track {
            if let Engage::Audience(a, value) = spec.engage {
                let aud = &self.audiences[usize::from(a)];
                out.extend_from_slice(if value {
                    b",\"event\":\"Audience Entered\",\"properties\":{\"audience_key\":"
                } else {
                    b",\"event\":\"Audience Exited\",\"properties\":{\"audience_key\":"
                });
                out.extend_from_slice(&aud.key_json);
                out.push(b',');
                out.extend_from_slice(&aud.key_json);
                out.extend_from_slice(if value { b":true}" } else { b":false}" });
            }
        } else {
            out.extend_from_slice(b",\"traits\":");
            self.write_traits(spec, out);
        }
        out.extend_from_slice(b"}\n");

        // The ledger sees exactly what was written.
        let u = spec.user as usize;
        if spec.with_user_id {
            if !spec.track {
                self.identified[u] = true;
                let slots = self.schema.slots.len();
                let (start, end) = spec.traits;
                for &(slot, code) in &self.pending_traits[start as usize..end as usize] {
                    if code != EMPTY_OBJECT {
                        self.ledger_codes[u * slots + usize::from(slot)] = code;
                    }
                }
            }
            if let Engage::Audience(a, value) = spec.engage {
                let idx = u * self.audiences.len() + usize::from(a);
                let sent = if value { SENT_TRUE } else { SENT_FALSE };
                self.membership[idx] = (self.membership[idx] & MEMBER) | sent;
            }
        }
        EventMeta {
            index,
            day: self.day,
            kind: spec.kind,
            track: spec.track,
            user: spec.user,
        }
    }

    /// Writes the traits object: slots are in depth-first order, so nested
    /// objects open and close as the path prefix changes.
    fn write_traits(&self, spec: Spec, out: &mut Vec<u8>) {
        let user = &self.users[spec.user as usize];
        let (start, end) = spec.traits;
        // The path of the currently open objects, as a slot whose prefix it is.
        let mut open: Option<&[String]> = None;
        let mut depth = 0usize;
        out.push(b'{');
        let mut first = true;
        for &(slot_id, code) in &self.pending_traits[start as usize..end as usize] {
            let slot = &self.schema.slots[usize::from(slot_id)];
            let parent = &slot.path[..slot.path.len() - 1];
            let common = match open {
                Some(prev) => prev
                    .iter()
                    .zip(parent)
                    .take(depth)
                    .take_while(|(a, b)| a == b)
                    .count(),
                None => 0,
            };
            for _ in common..depth {
                out.push(b'}');
            }
            if depth > common {
                first = false;
            }
            for key in &slot.keys[common..slot.keys.len() - 1] {
                if !first {
                    out.push(b',');
                }
                out.extend_from_slice(key);
                out.push(b'{');
                first = true;
            }
            if !first {
                out.push(b',');
            }
            out.extend_from_slice(&slot.keys[slot.keys.len() - 1]);
            values::render(out, slot.render, user, code);
            first = false;
            open = Some(parent);
            depth = parent.len();
        }
        for _ in 0..depth {
            out.push(b'}');
        }
        out.push(b'}');
    }
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

    use super::Generator;

    pub(super) struct LedgerRef<'a> {
        pub(super) g: &'a Generator,
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

    impl LedgerRef<'_> {
        fn ids(&self) -> impl Iterator<Item = (usize, &str)> {
            self.order
                .iter()
                .map(|&u| (u as usize, &*self.g.users[u as usize].id))
        }
    }

    impl Serialize for LedgerRef<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut st = s.serialize_struct("Ledger", 7)?;
            st.serialize_field("seed", &self.g.seed)?;
            st.serialize_field("profile", &self.g.scenario.profile)?;
            st.serialize_field("events", &self.g.emitted)?;
            st.serialize_field("counts", &self.g.counts())?;
            st.serialize_field("users", &Users(self))?;
            st.serialize_field("audiences", &Audiences(self))?;
            st.serialize_field("computed_traits", &ComputedAll(self))?;
            st.end()
        }
    }

    impl Serialize for Users<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let g = self.0.g;
            s.collect_map(
                self.0
                    .ids()
                    .filter_map(|(u, id)| Some((id, g.user_ledger(u)?))),
            )
        }
    }

    impl Serialize for Audiences<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq((0..self.0.g.audiences.len()).map(|a| Audience(self.0, a)))
        }
    }

    impl Serialize for Audience<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let def = &self.0.g.audiences[self.1].def;
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
            s.collect_map(r.ids().filter_map(|(u, id)| Some((id, r.g.member(u, a)?))))
        }
    }

    impl Serialize for ComputedAll<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq((0..self.0.g.computed.len()).map(|c| Computed(self.0, c)))
        }
    }

    impl Serialize for Computed<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let def = &self.0.g.computed[self.1].def;
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
                    .filter_map(|(u, id)| Some((id, r.g.computed_value(u, c)?))),
            )
        }
    }
}

const USER_AGENTS: &[&[u8]] = &[
    b"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    b"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    b"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    b"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
];

const LOCALES: &[&[u8]] = &[b"en-US", b"de-DE", b"pt-BR", b"ja-JP", b"fr-FR"];

impl Iterator for Generator {
    type Item = GeneratedEvent;

    /// The convenient path: one owned line per event.
    fn next(&mut self) -> Option<GeneratedEvent> {
        let mut buf = Vec::with_capacity(512);
        let meta = self.next_into(&mut buf)?;
        buf.pop();
        let json = String::from_utf8(buf).expect("the generator writes UTF-8");
        Some(GeneratedEvent { meta, json })
    }
}
