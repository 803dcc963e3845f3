//! The generator: the public face that takes events one at a time.
//!
//! [`Generator`] ties the three parts together: the [`Simulation`] decides
//! the next event and its time, [`ndjson::write_event`] writes its line, and
//! the [`Book`] records it for the ledger, so `max_events` cuts the stream
//! and the ledger at the same place.

use std::io::{self, Write};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::ledger::{Book, Ledger};
use crate::ndjson::{self, Wire};
use crate::population::{self, User};
use crate::scenario::{AudienceDef, ComputedTraitDef, Scenario, ScenarioError};
#[cfg(test)]
use crate::schema::Row;
use crate::schema::Schema;
use crate::simulation::Simulation;

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
    /// A source's `Product Viewed` Track (commerce on).
    ProductViewed,
    /// A source's `Product Added` Track (commerce on).
    ProductAdded,
    /// A source's `Checkout Started` Track (commerce on).
    CheckoutStarted,
    /// A source's `Order Completed` Track (commerce on).
    OrderCompleted,
}

impl EventKind {
    pub(crate) const ALL: [Self; 13] = [
        Self::Anonymous,
        Self::Login,
        Self::TraitUpdate,
        Self::AudienceInitial,
        Self::AudienceEntered,
        Self::AudienceExited,
        Self::AudienceDuplicate,
        Self::ComputedInitial,
        Self::ComputedChanged,
        Self::ProductViewed,
        Self::ProductAdded,
        Self::CheckoutStarted,
        Self::OrderCompleted,
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
            Self::ProductViewed => "product_viewed",
            Self::ProductAdded => "product_added",
            Self::CheckoutStarted => "checkout_started",
            Self::OrderCompleted => "order_completed",
        }
    }

    /// Whether Engage (not a source) sends this kind.
    pub fn is_engage(self) -> bool {
        !matches!(self, Self::Anonymous | Self::Login | Self::TraitUpdate) && !self.is_commerce()
    }

    /// Whether this kind is a commerce Track a source sends.
    pub fn is_commerce(self) -> bool {
        matches!(
            self,
            Self::ProductViewed | Self::ProductAdded | Self::CheckoutStarted | Self::OrderCompleted
        )
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
    /// `true` for a Track call (`Audience Entered`/`Exited`, commerce), else Identify.
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

/// What every part of a run reads and none changes: the scenario, the
/// population, the slots and Engage's definitions.
#[derive(Debug)]
pub(crate) struct Cast {
    pub(crate) scenario: Scenario,
    pub(crate) seed: u64,
    pub(crate) schema: Schema,
    pub(crate) users: Vec<User>,
    /// Each audience with its slot.
    pub(crate) audiences: Vec<(AudienceDef, u16)>,
    /// Each computed trait with its slot.
    pub(crate) computed: Vec<(ComputedTraitDef, u16)>,
}

impl Cast {
    pub(crate) fn new(scenario: Scenario, seed: u64, schema: Schema, users: Vec<User>) -> Self {
        let audiences = scenario
            .audience_defs()
            .into_iter()
            .map(|def| {
                let slot = schema.id(&[&def.key]);
                (def, slot)
            })
            .collect();
        let computed = scenario
            .computed_trait_defs()
            .into_iter()
            .map(|def| {
                let slot = schema.id(&[&def.key]);
                (def, slot)
            })
            .collect();
        Self {
            scenario,
            seed,
            schema,
            users,
            audiences,
            computed,
        }
    }
}

/// The generator. See the crate docs for a guided example.
#[derive(Debug)]
pub struct Generator {
    cast: Cast,
    wire: Wire,
    simulation: Simulation,
    book: Book,
}

impl Generator {
    /// Draws the population and prepares the run. Nothing is generated
    /// until events are taken.
    pub fn new(scenario: Scenario, seed: u64) -> Result<Self, ScenarioError> {
        let schema = Schema::new(&scenario);
        Self::with_schema(scenario, seed, schema)
    }

    /// A generator whose realistic traits are `table` instead of
    /// [`crate::schema::REALISTIC`] (for tests of the table's wiring).
    #[cfg(test)]
    pub(crate) fn with_table(
        scenario: Scenario,
        seed: u64,
        table: &'static [Row],
    ) -> Result<Self, ScenarioError> {
        let schema = Schema::with_table(&scenario, table);
        Self::with_schema(scenario, seed, schema)
    }

    fn with_schema(scenario: Scenario, seed: u64, schema: Schema) -> Result<Self, ScenarioError> {
        scenario.validate()?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let users = population::draw(&scenario, seed, &mut rng);
        let cast = Cast::new(scenario, seed, schema, users);
        Ok(Self {
            wire: Wire::new(&cast),
            simulation: Simulation::new(&cast, rng),
            book: Book::new(&cast),
            cast,
        })
    }

    /// The scenario being run.
    pub fn scenario(&self) -> &Scenario {
        &self.cast.scenario
    }

    /// Events emitted so far.
    pub fn emitted(&self) -> u64 {
        self.book.events()
    }

    /// The userId of user number `user` (numeric ids in decimal).
    pub fn user_id(&self, user: u32) -> &str {
        &self.cast.users[user as usize].id
    }

    /// Bytes held by the generator's state. It depends on the scenario's
    /// sizes (users, audiences, traits), never on how many events were
    /// taken: every buffer is allocated up front at its bound. With
    /// commerce on, the ledger's orders are the exception: they grow with
    /// the orders sent.
    pub fn state_bytes(&self) -> usize {
        use std::mem::size_of;
        let users = &self.cast.users;
        let users: usize = users
            .iter()
            .map(|u| u.id.len() + u.id_json.len())
            .sum::<usize>()
            + users.capacity() * size_of::<User>();
        users + self.simulation.state_bytes() + self.book.state_bytes()
    }

    /// Appends the next event as one NDJSON line (with `\n`) to `out` and
    /// returns its facts, or `None` when the run is over. The fast path.
    pub fn next_into(&mut self, out: &mut Vec<u8>) -> Option<EventMeta> {
        let index = self.book.events();
        if self
            .cast
            .scenario
            .max_events
            .is_some_and(|max| index >= max)
        {
            return None;
        }
        let (spec, times) = self.simulation.next(&self.cast, &self.book)?;
        let traits = self.simulation.traits(&spec);
        ndjson::write_event(out, &self.cast, &self.wire, &spec, index, times, traits);
        self.book.record(&spec, traits);
        Some(EventMeta {
            index,
            day: self.simulation.day(),
            kind: spec.kind,
            track: spec.track,
            user: spec.user,
        })
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
        self.book.ledger(&self.cast)
    }

    /// The ledger, consuming the generator.
    pub fn into_ledger(self) -> Ledger {
        self.ledger()
    }

    /// Writes [`Generator::ledger`] as compact JSON, one user at a time, so
    /// memory stays near the generator's own state even for millions of
    /// users. The bytes equal `serde_json::to_writer(writer, &self.ledger())`.
    pub fn write_ledger<W: Write>(&self, writer: W) -> serde_json::Result<()> {
        self.book.write(&self.cast, writer)
    }
}

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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::Value;

    use super::Generator;
    use crate::scenario::{Scenario, TraitClass, TraitType};
    use crate::schema::{Draw, REALISTIC, Row, Schema, row};
    use crate::values::Render;

    const TIERS: &[&str] = &["bronze", "silver", "gold"];

    /// The realistic table plus two rows, each written once, nowhere else.
    fn table() -> &'static [Row] {
        let mut rows = REALISTIC.to_vec();
        rows.push(
            row(
                &["loyalty", "tier"],
                TraitType::String,
                Render::OneOf(TIERS),
            )
            .login_sometimes(0.5, Draw::Code)
            .update(11..13, Draw::Code),
        );
        rows.push(
            row(&["visits"], TraitType::Number, Render::Integer)
                .anonymous(3..4, Draw::Fixed(1))
                .update(
                    13..14,
                    Draw::Add {
                        at_least: 1,
                        spread: 2,
                    },
                ),
        );
        Box::leak(rows.into_boxed_slice())
    }

    fn at<'a>(event: &'a Value, path: &[&str]) -> Option<&'a Value> {
        path.iter()
            .try_fold(&event["traits"], |v, key| v.as_object()?.get(*key))
    }

    fn user_key(event: &Value) -> Option<String> {
        match event.get("userId")? {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    #[test]
    fn a_row_added_to_the_table_is_sent_listed_and_ledgered_with_its_type() {
        let scenario = Scenario {
            users: 300,
            days: 30,
            ..Scenario::default()
        };
        let specs = Schema::with_table(&scenario, table()).trait_specs();
        for (path, ty) in [
            (vec!["loyalty", "tier"], TraitType::String),
            (vec!["visits"], TraitType::Number),
        ] {
            let spec = specs
                .iter()
                .find(|s| s.path == path)
                .unwrap_or_else(|| panic!("{path:?} is not in trait_schema"));
            assert_eq!((spec.ty, spec.class), (ty, TraitClass::Profile));
        }

        let mut generator = Generator::with_table(scenario, 5, table()).unwrap();
        let mut sent = BTreeMap::<(&str, String), u64>::new();
        let mut last = BTreeMap::<(String, &str), Value>::new();
        for event in generator.by_ref() {
            let kind = event.meta.kind.as_str();
            let value: Value = serde_json::from_str(&event.json).unwrap();
            for (name, path) in [("tier", &["loyalty", "tier"][..]), ("visits", &["visits"])] {
                let Some(v) = at(&value, path) else {
                    continue;
                };
                match name {
                    "tier" => assert!(TIERS.contains(&v.as_str().unwrap()), "{v}"),
                    _ => assert!(v.is_u64(), "{v}"),
                }
                *sent.entry((name, kind.to_owned())).or_default() += 1;
                if let (Some(user), "identify") =
                    (user_key(&value), value["type"].as_str().unwrap())
                {
                    last.insert((user, name), v.clone());
                }
            }
        }
        // Sent at login (about half the time), in updates and anonymously,
        // as the row says.
        let count = |name, kind: &str| sent.get(&(name, kind.to_owned())).copied().unwrap_or(0);
        let logins = generator.ledger().counts.by_kind["login"];
        let tier_logins = count("tier", "login");
        assert!(
            tier_logins * 5 > logins && tier_logins * 5 < logins * 4,
            "{tier_logins} of {logins}"
        );
        assert!(sent[&("tier", "trait_update".to_owned())] > 20, "{sent:?}");
        assert!(sent[&("visits", "anonymous".to_owned())] > 20, "{sent:?}");
        assert!(
            sent[&("visits", "trait_update".to_owned())] > 20,
            "{sent:?}"
        );
        assert!(!sent.contains_key(&("visits", "login".to_owned())));

        // The ledger holds the last value each identified user was sent.
        let ledger = generator.into_ledger();
        let mut ledgered = 0;
        for ((user, name), value) in &last {
            let path: &[&str] = if *name == "tier" {
                &["loyalty", "tier"]
            } else {
                &["visits"]
            };
            assert_eq!(ledger.users[user].get(path), Some(value), "{user} {path:?}");
            ledgered += 1;
        }
        assert!(ledgered > 50, "{ledgered}");
    }

    /// Whether `value` is of type `ty` (times as RFC 3339 strings).
    fn is(ty: TraitType, value: &Value) -> bool {
        match ty {
            TraitType::String => value.is_string(),
            TraitType::Number => value.is_number(),
            TraitType::Boolean => value.is_boolean(),
            TraitType::Time => value
                .as_str()
                .is_some_and(|s| s.len() == 24 && s.ends_with('Z')),
            TraitType::StringList => value
                .as_array()
                .is_some_and(|a| a.iter().all(Value::is_string)),
            TraitType::Json => true,
        }
    }

    #[test]
    fn every_realistic_row_is_listed_sent_and_ledgered_with_its_type() {
        let scenario = Scenario {
            users: 400,
            days: 40,
            ..Scenario::default()
        };
        let specs = scenario.trait_schema();
        let mut generator = Generator::new(scenario, 11).unwrap();
        let events: Vec<Value> = generator
            .by_ref()
            .map(|e| serde_json::from_str(&e.json).unwrap())
            .collect();
        let ledger = generator.into_ledger();
        for row in REALISTIC {
            let path: Vec<String> = row.path.iter().map(|s| (*s).to_owned()).collect();
            let spec = specs.iter().find(|s| s.path == path);
            assert_eq!(
                spec.map(|s| (s.ty, s.class)),
                Some((row.ty, TraitClass::Profile)),
                "{path:?} in trait_schema"
            );
            let sent: Vec<&Value> = events.iter().filter_map(|e| at(e, row.path)).collect();
            assert!(!sent.is_empty(), "{path:?} is never sent");
            assert!(sent.iter().all(|v| is(row.ty, v)), "{path:?} sent off type");
            let ledgered: Vec<&Value> = ledger
                .users
                .values()
                .filter_map(|u| u.get(row.path))
                .collect();
            assert!(!ledgered.is_empty(), "{path:?} is in no user's ledger");
            assert!(
                ledgered.iter().all(|v| is(row.ty, v)),
                "{path:?} ledgered off type"
            );
        }
    }
}
