//! The simulation: who does what, and when, as a queue of event descriptions.
//!
//! Each simulated day has three phases, in this order: user activity
//! (anonymous identifies, logins, trait updates, users in index order), then
//! each audience's sync, then each computed trait's sync. A phase step (one
//! user) queues at most a handful of [`Spec`]s; an event's time is drawn
//! only when it is taken ([`Simulation::next`]), so `max_events` cuts the
//! stream, its times and the ledger at the same place. The simulation
//! writes no bytes: [`crate::ndjson`] renders a taken spec and
//! [`crate::ledger::Book`] records it. Trait values are drawn from the
//! table in [`crate::schema`], by the rules written there.

use std::collections::VecDeque;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::commerce::{
    self, ADD_SHARE, CATEGORY_LIST, CHECKOUT_SHARE, COUPON_SHARE, COUPONS,
    EDGE_CATEGORY_LIST_SHARE, EDGE_NAME_SHARE, EDGE_NO_ORDER_ID_SHARE, EDGE_NULL_PRODUCT_SHARE,
    EDGE_QTY_FLOAT_SHARE, EDGE_QTY_STRING_SHARE, EDGE_SKU_NUMBER_SHARE, MAX_CART,
    MAX_SESSION_EVENTS, MAX_SESSION_ITEMS, MAX_VIEWS, MEAN_SESSION_EVENTS, MULTIPLE_SHARE,
    NULL_PRODUCT, Name, ORDER_SHARE, PRODUCTS, QTY_FLOAT, QTY_STRING, SKU_NUMBER, Step, Track,
};
use crate::generator::{Cast, EventKind};
use crate::json::{DAY_MS, EPOCH_UNIX_MS, mix};
use crate::ledger::Book;
use crate::population::NEVER;
use crate::rng::{below, chance, code};
use crate::scenario::{ComputedKind, Profile};
use crate::schema::{Draw, Login, Row, UPDATE_PICKS};
use crate::values::{AS_STRING, CATEGORIES, CODE_MASK, EMPTY_OBJECT, NULL, UNSET};

/// Who sends an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    Server,
    Client,
    Engage,
}

/// What an Engage event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Engage {
    None,
    /// Audience number and the membership sent.
    Audience(u16, bool),
    /// Computed-trait number.
    Computed(u16),
}

/// An event waiting to be written.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spec {
    pub(crate) kind: EventKind,
    pub(crate) user: u32,
    pub(crate) with_user_id: bool,
    pub(crate) device: Option<u8>,
    pub(crate) source: Source,
    pub(crate) engage: Engage,
    pub(crate) track: bool,
    /// The email identifier, for Engage events.
    pub(crate) email: u32,
    /// A commerce Track; its products are in the traits buffer as
    /// (product, item code) pairs ([`crate::commerce`]).
    pub(crate) commerce: Option<Track>,
    /// Range into the simulation's traits buffer ([`Simulation::traits`]).
    traits: (u32, u32),
}

/// An event's three times, in Unix milliseconds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Times {
    pub(crate) timestamp: i64,
    pub(crate) sent_at: i64,
    pub(crate) received_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Activity,
    Audiences,
    Computed,
    Done,
}

/// Which picks of the trait table an event makes.
#[derive(Debug, Clone, Copy)]
enum Occasion {
    Login,
    Anonymous(u32),
    Update(u32),
}

impl Occasion {
    /// How `row` is drawn on this occasion, if it is sent.
    fn draw(self, row: &Row) -> Option<Draw> {
        match self {
            Self::Login => match row.login {
                Login::Never => None,
                Login::Always(draw) | Login::Sometimes(_, draw) => Some(draw),
            },
            Self::Anonymous(pick) => row.anonymous.0.contains(&pick).then_some(row.anonymous.1),
            Self::Update(pick) => row.update.0.contains(&pick).then_some(row.update.1),
        }
    }
}

/// What every event of one shopping session shares.
#[derive(Debug, Clone, Copy)]
struct Session {
    user: u32,
    source: Source,
    logged_in: bool,
    device: Option<u8>,
    session: u32,
    coupon: u8,
    edge: bool,
}

/// Most events one phase step can queue: 3 emails × (enter + duplicate) ×
/// (Identify + Track); activity is at most 2 anonymous + 1 login.
const MAX_SPECS_PER_STEP: usize = 12;

/// The simulation's changing state.
#[derive(Debug)]
pub(crate) struct Simulation {
    rng: ChaCha8Rng,
    /// Commerce's own stream, so that turning commerce on moves no other draw.
    crng: ChaCha8Rng,
    /// Shopping sessions so far.
    sessions: u32,
    /// users × audiences: the simulated truth (what Engage computed).
    member: Vec<bool>,
    /// users × computed traits: the current value code, or [`UNSET`].
    computed_values: Vec<u32>,
    /// Edge profile: the extra slots, in slot order.
    edge_slots: Vec<u16>,
    day: u32,
    phase: Phase,
    item: u32,
    cursor: u32,
    pending: VecDeque<Spec>,
    /// The queued events' traits: (slot, code), each event's sorted by slot.
    traits: Vec<(u16, u32)>,
    /// Milliseconds since the epoch; never decreases.
    clock: i64,
    activity_step: u32,
}

impl Simulation {
    /// A simulation at day 0 that continues `rng` (after the population draw).
    pub(crate) fn new(cast: &Cast, rng: ChaCha8Rng) -> Self {
        let scenario = &cast.scenario;
        let n = cast.users.len();
        // Spread a day's activity over ~18 hours.
        // Commerce adds its sessions' events (0.0 when off: the same step).
        let commerce_per_user = scenario.daily_commerce_share * MEAN_SESSION_EVENTS;
        let per_day =
            (n as f64 * (scenario.daily_update_share + 0.05 + commerce_per_user)).max(1.0);
        let activity_step = ((18.0 * 3_600_000.0 / per_day) as u32).clamp(2, 600_000);
        let slots = cast.schema.slots.len();
        let max_traits = slots + scenario.edge_traits_per_event as usize + 4;
        let (session_specs, session_items) = if scenario.commerce() {
            (MAX_SESSION_EVENTS, MAX_SESSION_ITEMS)
        } else {
            (0, 0)
        };
        Self {
            rng,
            crng: ChaCha8Rng::seed_from_u64(mix(cast.seed ^ 0x636f_6d6d_6572_6365)),
            sessions: 0,
            member: vec![false; n * cast.audiences.len()],
            computed_values: vec![UNSET; n * cast.computed.len()],
            edge_slots: (0..slots as u16)
                .filter(|&s| cast.schema.slots[usize::from(s)].edge_extra)
                .collect(),
            day: 0,
            phase: if scenario.days == 0 {
                Phase::Done
            } else {
                Phase::Activity
            },
            item: 0,
            cursor: 0,
            pending: VecDeque::with_capacity(MAX_SPECS_PER_STEP + session_specs),
            traits: Vec::with_capacity(MAX_SPECS_PER_STEP * max_traits + session_items),
            clock: 0,
            activity_step,
        }
    }

    /// The simulated day, from 0.
    pub(crate) fn day(&self) -> u32 {
        self.day
    }

    /// The traits of a queued or just taken event.
    pub(crate) fn traits(&self, spec: &Spec) -> &[(u16, u32)] {
        &self.traits[spec.traits.0 as usize..spec.traits.1 as usize]
    }

    /// Bytes of the state, allocated up front.
    pub(crate) fn state_bytes(&self) -> usize {
        use std::mem::size_of;
        self.member.capacity()
            + self.computed_values.capacity() * 4
            + self.pending.capacity() * size_of::<Spec>()
            + self.traits.capacity() * size_of::<(u16, u32)>()
    }

    /// The next event and its times, or `None` when the run is over. Its
    /// traits stay readable ([`Simulation::traits`]) until the next call.
    pub(crate) fn next(&mut self, cast: &Cast, book: &Book) -> Option<(Spec, Times)> {
        while self.pending.is_empty() {
            if self.phase == Phase::Done {
                return None;
            }
            self.traits.clear();
            self.step(cast, book);
        }
        let spec = self.pending.pop_front()?;
        // Commerce's times come from its own stream, like its other draws.
        let rng = if spec.commerce.is_some() {
            &mut self.crng
        } else {
            &mut self.rng
        };
        let step = match spec.source {
            Source::Engage => 1 + below(rng, 20),
            _ => 1 + below(rng, 2 * self.activity_step),
        };
        self.clock += i64::from(step);
        let sent_delay = match spec.source {
            Source::Client => below(rng, 3000),
            Source::Server => below(rng, 300),
            Source::Engage => 0,
        };
        let receive_delay = 15 + below(rng, 400);
        let timestamp = EPOCH_UNIX_MS + self.clock;
        let sent_at = timestamp + i64::from(sent_delay);
        let times = Times {
            timestamp,
            sent_at,
            received_at: sent_at + i64::from(receive_delay),
        };
        Some((spec, times))
    }

    /// Runs one phase step, queueing zero or more events.
    fn step(&mut self, cast: &Cast, book: &Book) {
        let users = cast.users.len() as u32;
        match self.phase {
            Phase::Activity => {
                // Most users do nothing on most days: walk on here rather
                // than back through `next` for each one (same draws, same order).
                while self.cursor < users && self.pending.is_empty() {
                    self.traits.clear();
                    self.activity(cast, book, self.cursor);
                    self.cursor += 1;
                }
                if self.pending.is_empty() {
                    self.phase = Phase::Audiences;
                    self.item = 0;
                    self.cursor = 0;
                    // Engage syncs run in the evening.
                    self.clock = self
                        .clock
                        .max(i64::from(self.day) * DAY_MS + 20 * 3_600_000);
                }
            }
            Phase::Audiences | Phase::Computed => {
                let audiences = self.phase == Phase::Audiences;
                let item = self.item as usize;
                let created = if audiences {
                    cast.audiences.get(item).map(|a| a.0.created_day)
                } else {
                    cast.computed.get(item).map(|c| c.0.created_day)
                };
                match created {
                    Some(created) if self.day >= created && self.cursor < users => {
                        let initial = self.day == created;
                        while self.cursor < users && self.pending.is_empty() {
                            self.traits.clear();
                            if audiences {
                                self.audience(cast, item, self.cursor, initial);
                            } else {
                                self.computed_step(cast, item, self.cursor, initial);
                            }
                            self.cursor += 1;
                        }
                    }
                    Some(_) => {
                        self.item += 1;
                        self.cursor = 0;
                    }
                    None => {
                        self.item = 0;
                        self.cursor = 0;
                        if audiences {
                            self.phase = Phase::Computed;
                        } else {
                            self.day += 1;
                            if self.day >= cast.scenario.days {
                                self.phase = Phase::Done;
                            } else {
                                self.phase = Phase::Activity;
                                self.clock = self.clock.max(i64::from(self.day) * DAY_MS);
                            }
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
            commerce: None,
            traits: (start as u32, self.traits.len() as u32),
        });
    }

    fn set(&mut self, slot: u16, code: u32) {
        self.traits.push((slot, code));
    }

    fn activity(&mut self, cast: &Cast, book: &Book, u: u32) {
        let user = &cast.users[u as usize];
        let source = if user.client_side {
            Source::Client
        } else {
            Source::Server
        };
        let day = self.day;
        let share = cast.scenario.daily_update_share;
        if user.login_day == NEVER {
            if chance(&mut self.rng, share) {
                self.anonymous(cast, book, u, source);
            }
        } else if day == user.login_day {
            if user.anonymous_first {
                for _ in 0..=below(&mut self.rng, 2) {
                    self.anonymous(cast, book, u, source);
                }
            }
            let start = self.traits.len();
            self.send(cast, book, u, Occasion::Login);
            self.edge_traits(cast, start);
            self.finish_traits(start);
            self.push(EventKind::Login, u, source, start);
            if user.client_side {
                // The browser of the anonymous identifies, if any.
                self.set_device(0);
            }
        } else if day > user.login_day && chance(&mut self.rng, share) {
            let start = self.traits.len();
            for _ in 0..1 + below(&mut self.rng, UPDATE_PICKS) {
                let pick = below(&mut self.rng, cast.schema.update.len() as u32);
                self.send(cast, book, u, Occasion::Update(pick));
            }
            self.edge_traits(cast, start);
            self.finish_traits(start);
            self.push(EventKind::TraitUpdate, u, source, start);
            if user.client_side {
                let device = below(&mut self.rng, u32::from(user.devices.max(1))) as u8;
                self.set_device(device);
            }
        }
        let commerce = cast.scenario.daily_commerce_share;
        if commerce > 0.0 && chance(&mut self.crng, commerce) {
            self.shop(cast, u, source, day >= user.login_day);
        }
    }

    /// One shopping session of user `u`, from commerce's own stream: views,
    /// adds, and perhaps a checkout and an order (the funnel in
    /// [`crate::commerce`]). Logged-in users send `userId` (and their
    /// browser's `anonymousId` client-side); the others `anonymousId` only.
    fn shop(&mut self, cast: &Cast, u: u32, source: Source, logged_in: bool) {
        let user = &cast.users[u as usize];
        let edge = cast.scenario.profile == Profile::Edge;
        let session = self.sessions;
        self.sessions = self.sessions.wrapping_add(1);
        let device = if !logged_in {
            Some(0)
        } else if user.client_side {
            Some(below(&mut self.crng, u32::from(user.devices.max(1))) as u8)
        } else {
            None
        };
        let coupon = if chance(&mut self.crng, COUPON_SHARE) {
            1 + below(&mut self.crng, COUPONS.len() as u32) as u8
        } else {
            0
        };
        let session = Session {
            user: u,
            source,
            logged_in,
            device,
            session,
            coupon,
            edge,
        };
        let mut cart = [(0u16, 0u32); MAX_CART];
        let mut carted = 0;
        for _ in 0..1 + below(&mut self.crng, MAX_VIEWS) {
            let product = below(&mut self.crng, PRODUCTS) as u16;
            let position = 1 + below(&mut self.crng, 24);
            let flags = self.product_flags(edge);
            let start = self.traits.len();
            self.traits
                .push((product, commerce::item(1, position, flags)));
            self.push_commerce(&session, Step::Viewed, start, true);
            if chance(&mut self.crng, ADD_SHARE)
                && carted < MAX_CART
                && !cart[..carted].iter().any(|c| c.0 == product)
            {
                let quantity = if chance(&mut self.crng, MULTIPLE_SHARE) {
                    2 + below(&mut self.crng, 2)
                } else {
                    1
                };
                let flags = self.product_flags(edge);
                let code = commerce::item(quantity, position, flags);
                cart[carted] = (product, code);
                carted += 1;
                let start = self.traits.len();
                self.traits.push((product, code));
                self.push_commerce(&session, Step::Added, start, true);
            }
        }
        if carted > 0 && chance(&mut self.crng, CHECKOUT_SHARE) {
            self.checkout(&session, Step::CheckoutStarted, &cart[..carted]);
            if chance(&mut self.crng, ORDER_SHARE) {
                self.checkout(&session, Step::OrderCompleted, &cart[..carted]);
            }
        }
    }

    /// Edge profile: the odd shapes of one product entry.
    fn product_flags(&mut self, edge: bool) -> u32 {
        if !edge {
            return 0;
        }
        let mut flags = 0;
        for (share, flag) in [
            (EDGE_SKU_NUMBER_SHARE, SKU_NUMBER),
            (EDGE_CATEGORY_LIST_SHARE, CATEGORY_LIST),
        ] {
            if chance(&mut self.crng, share) {
                flags |= flag;
            }
        }
        let x = crate::rng::unit(&mut self.crng);
        if x < EDGE_QTY_STRING_SHARE {
            flags |= QTY_STRING;
        } else if x < EDGE_QTY_STRING_SHARE + EDGE_QTY_FLOAT_SHARE {
            flags |= QTY_FLOAT;
        }
        flags
    }

    /// Queues a `Checkout Started` or `Order Completed` with the cart as `products`.
    fn checkout(&mut self, session: &Session, step: Step, cart: &[(u16, u32)]) {
        let start = self.traits.len();
        self.traits.extend_from_slice(cart);
        let mut order_id = true;
        if session.edge {
            if chance(&mut self.crng, EDGE_NULL_PRODUCT_SHARE) {
                let at = start + below(&mut self.crng, cart.len() as u32 + 1) as usize;
                self.traits.insert(at, (NULL_PRODUCT, 0));
            }
            order_id = !chance(&mut self.crng, EDGE_NO_ORDER_ID_SHARE);
        }
        self.push_commerce(session, step, start, order_id);
    }

    fn push_commerce(&mut self, session: &Session, step: Step, start: usize, order_id: bool) {
        let name = if session.edge && chance(&mut self.crng, EDGE_NAME_SHARE) {
            Name::ALL[1 + below(&mut self.crng, 3) as usize]
        } else {
            Name::Exact
        };
        let kind = match step {
            Step::Viewed => EventKind::ProductViewed,
            Step::Added => EventKind::ProductAdded,
            Step::CheckoutStarted => EventKind::CheckoutStarted,
            Step::OrderCompleted => EventKind::OrderCompleted,
        };
        self.pending.push_back(Spec {
            kind,
            user: session.user,
            with_user_id: session.logged_in,
            device: session.device,
            source: session.source,
            engage: Engage::None,
            track: true,
            email: 0,
            commerce: Some(Track {
                step,
                session: session.session,
                coupon: session.coupon,
                name,
                order_id,
            }),
            traits: (start as u32, self.traits.len() as u32),
        });
    }

    fn set_device(&mut self, device: u8) {
        if let Some(last) = self.pending.back_mut() {
            last.device = Some(device);
        }
    }

    fn anonymous(&mut self, cast: &Cast, book: &Book, u: u32, source: Source) {
        let start = self.traits.len();
        let pick = below(&mut self.rng, cast.schema.anonymous.len() as u32);
        self.send(cast, book, u, Occasion::Anonymous(pick));
        self.push(EventKind::Anonymous, u, source, start);
        self.set_device(0);
    }

    /// Draws and queues the table rows user `u` sends on `occasion`, batch
    /// by batch in table order (the rules are in [`crate::schema`]).
    fn send(&mut self, cast: &Cast, book: &Book, u: u32, occasion: Occasion) {
        let user = &cast.users[u as usize];
        let schema = &cast.schema;
        let list: &[u16] = match occasion {
            Occasion::Login => &schema.login,
            Occasion::Anonymous(pick) => schema.anonymous.get(pick as usize).map_or(&[], |l| l),
            Occasion::Update(pick) => schema.update.get(pick as usize).map_or(&[], |l| l),
        };
        let sent = |i: u16| {
            let placed = &schema.rows[usize::from(i)];
            let draw = occasion.draw(placed.row)?;
            placed
                .row
                .spelling
                .allows(user.snake_case)
                .then_some((placed, draw))
        };
        let mut batch = usize::MAX;
        let mut skip = false;
        let mut shared = 0;
        for (n, &i) in list.iter().enumerate() {
            let Some((placed, draw)) = sent(i) else {
                continue;
            };
            if placed.batch != batch {
                batch = placed.batch;
                skip = match (occasion, placed.row.login) {
                    (Occasion::Login, Login::Sometimes(p, _)) => !chance(&mut self.rng, p),
                    _ => false,
                };
                let shares = list[n..]
                    .iter()
                    .map_while(|&j| {
                        let p = &schema.rows[usize::from(j)];
                        (p.batch == batch).then(|| sent(j))
                    })
                    .any(|s| s.is_some_and(|(_, d)| d == Draw::Shared));
                if shares && !skip {
                    shared = code(&mut self.rng);
                }
            }
            if skip {
                continue;
            }
            let value = match draw {
                Draw::Fixed(value) => value,
                Draw::Code => code(&mut self.rng),
                Draw::Shared => shared,
                Draw::Categories => {
                    let mask = (1u32 << CATEGORIES.len()) - 1;
                    (code(&mut self.rng) & mask).max(1)
                }
                Draw::Add { at_least, spread } => {
                    (book.last_code(u, placed.slot) + at_least + below(&mut self.rng, spread))
                        .min(CODE_MASK)
                }
                Draw::Toggle => (book.last_code(u, placed.slot) + 1) & 1,
                Draw::AnyEmail => below(&mut self.rng, u32::from(user.emails)),
            };
            self.set(placed.slot, value);
        }
    }

    /// Edge profile: odd traits, nulls and values sent as strings.
    fn edge_traits(&mut self, cast: &Cast, start: usize) {
        let scenario = &cast.scenario;
        if scenario.profile != Profile::Edge {
            return;
        }
        let edge_slots = self.edge_slots.len() as u32;
        for _ in 0..scenario.edge_traits_per_event {
            let slot = self.edge_slots[below(&mut self.rng, edge_slots) as usize];
            let c = if cast.schema.slots[usize::from(slot)].may_be_empty_object
                && chance(&mut self.rng, 0.3)
            {
                EMPTY_OBJECT
            } else {
                code(&mut self.rng)
            };
            self.set(slot, c);
        }
        for i in start..self.traits.len() {
            let (slot, c) = self.traits[i];
            if c == EMPTY_OBJECT {
                continue;
            }
            let render = cast.schema.slots[usize::from(slot)].render;
            if chance(&mut self.rng, scenario.edge_null_share) {
                self.traits[i].1 = NULL;
            } else if render.may_be_string() && chance(&mut self.rng, 0.2) {
                self.traits[i].1 = c | AS_STRING;
            }
        }
    }

    /// Sorts the event's traits into write order; the first of duplicates wins.
    fn finish_traits(&mut self, start: usize) {
        let tail = &mut self.traits[start..];
        tail.sort_by_key(|&(slot, _)| slot);
        let mut keep = start;
        for i in start..self.traits.len() {
            if i == start || self.traits[i].0 != self.traits[keep - 1].0 {
                self.traits[keep] = self.traits[i];
                keep += 1;
            }
        }
        self.traits.truncate(keep);
    }

    fn audience(&mut self, cast: &Cast, a: usize, u: u32, initial: bool) {
        if cast.users[u as usize].login_day > self.day {
            return;
        }
        let scenario = &cast.scenario;
        let idx = u as usize * cast.audiences.len() + a;
        let was = self.member[idx];
        let now = if initial {
            chance(&mut self.rng, scenario.audience_initial_share)
        } else if was {
            !chance(&mut self.rng, scenario.audience_exit_share)
        } else {
            chance(&mut self.rng, scenario.audience_enter_share)
        };
        self.member[idx] = now;
        let kind = match (initial, was, now) {
            (true, _, true) => EventKind::AudienceInitial,
            (false, false, true) => EventKind::AudienceEntered,
            (false, true, false) => EventKind::AudienceExited,
            _ => return,
        };
        self.audience_events(cast, a, u, kind, now);
        if now && chance(&mut self.rng, scenario.duplicate_enter_share) {
            self.audience_events(cast, a, u, EventKind::AudienceDuplicate, true);
        }
    }

    /// One event per email identifier, as Identify and/or Track.
    fn audience_events(&mut self, cast: &Cast, a: usize, u: u32, kind: EventKind, value: bool) {
        let emails = u32::from(cast.users[u as usize].emails);
        let slot = cast.audiences[a].1;
        let engage = Engage::Audience(a as u16, value);
        for k in 0..emails {
            if cast.scenario.audience_identify_events {
                let start = self.traits.len();
                self.set(cast.schema.email, k);
                self.set(slot, u32::from(value));
                self.finish_traits(start);
                self.push_engage(kind, u, engage, false, k, start);
            }
            if cast.scenario.audience_track_events {
                let start = self.traits.len();
                self.push_engage(kind, u, engage, true, k, start);
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
            commerce: None,
            traits: (start as u32, self.traits.len() as u32),
        });
    }

    fn computed_step(&mut self, cast: &Cast, c: usize, u: u32, initial: bool) {
        if cast.users[u as usize].login_day > self.day {
            return;
        }
        let scenario = &cast.scenario;
        let idx = u as usize * cast.computed.len() + c;
        let old = self.computed_values[idx];
        let kind = cast.computed[c].0.kind;
        let (event, new) = if initial {
            if !chance(&mut self.rng, scenario.computed_initial_share) {
                return;
            }
            (EventKind::ComputedInitial, self.next_value(kind, UNSET))
        } else {
            if !chance(&mut self.rng, scenario.computed_change_share) {
                return;
            }
            (EventKind::ComputedChanged, self.next_value(kind, old))
        };
        if new == old {
            return;
        }
        self.computed_values[idx] = new;
        let slot = cast.computed[c].1;
        for k in 0..u32::from(cast.users[u as usize].emails) {
            let start = self.traits.len();
            self.set(cast.schema.email, k);
            self.set(slot, new);
            self.finish_traits(start);
            self.push_engage(event, u, Engage::Computed(c as u16), false, k, start);
        }
    }

    /// A new value for a computed trait of `kind`, different from `old` when possible.
    fn next_value(&mut self, kind: ComputedKind, old: u32) -> u32 {
        let n = CATEGORIES.len() as u32;
        match kind {
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
}
