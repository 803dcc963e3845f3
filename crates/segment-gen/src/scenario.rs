//! The scenario: what population, audiences and computed traits to simulate, and how often each kind of thing happens.

use std::fmt;

use segment_model::engage::snake_case;
use serde::{Deserialize, Serialize};

use crate::json::mix;

/// The chance per user per day of a shopping session in [`Scenario::actions`].
pub const ACTIONS_COMMERCE_SHARE: f64 = 0.3;

/// The first audience of [`Scenario::actions`]: its key, `vip_customers`,
/// is the one `fixtures/actions/subscriptions.json` triggers on.
pub const ACTIONS_AUDIENCE: &str = "VIP Customers";

/// Which traits and ids the generator draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// Traits as real sources send them, consistently typed so that one
    /// attribute catalog fits every event; no nulls, collisions or odd shapes.
    #[default]
    Realistic,
    /// Everything in [`Profile::Realistic`] plus, often: deep nesting,
    /// flattening collisions (`a_b` beside `a.b`), nulls, empty strings and
    /// objects, very long strings, unicode keys, case variants of trait
    /// names, numbers and booleans as strings, arrays of objects.
    Edge,
}

impl Profile {
    /// The wire name: `realistic` or `edge`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Realistic => "realistic",
            Self::Edge => "edge",
        }
    }
}

/// What one simulation run contains. Every field has a default
/// ([`Scenario::default`] is realistic, [`Scenario::edge`] the edge profile),
/// so a JSON scenario file only names what it changes.
///
/// Shares are probabilities in `0.0..=1.0`: of users (`*_share` about ids,
/// sources and spelling), of users per day (`daily_*`), or of events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scenario {
    /// Realistic or edge traits and ids.
    pub profile: Profile,
    /// Users in the population.
    pub users: u32,
    /// Simulated days; each day has an activity phase, then Engage syncs.
    pub days: u32,
    /// Engage audiences (names from `audience_names`, then a built-in list, then numbered).
    pub audiences: u32,
    /// Names of the first audiences, in creation order (the rest come from
    /// the built-in list); [`Scenario::actions`] starts with `VIP
    /// Customers`, whose key the shipped Actions subscriptions trigger on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub audience_names: Vec<String>,
    /// Engage computed traits (counter, most frequent, unique list, repeating).
    pub computed_traits: u32,
    /// Stop after this many events (the ledger then covers exactly those).
    pub max_events: Option<u64>,
    /// The Engage space, sent as `context.personas.namespace` and `space_id`.
    pub space_id: String,

    /// Users whose `userId` mixes upper and lower case (`PeterGibbons42`).
    pub mixed_case_share: f64,
    /// Pairs of users whose ids differ only in case (`User7` and `user7`).
    pub look_alike_share: f64,
    /// Users whose id holds characters that need URL encoding (`/ # ? % space`).
    pub url_special_share: f64,
    /// Users whose id holds non-ASCII characters.
    pub unicode_share: f64,
    /// Users whose `userId` is sent as a JSON number.
    pub numeric_share: f64,

    /// Users tracked by a client-side source (analytics.js) rather than a
    /// server-side one (analytics-node).
    pub client_side_share: f64,
    /// Client-side users who send anonymous identifies before they log in.
    pub anonymous_first_share: f64,
    /// Users who never log in: only anonymous identifies.
    pub anonymous_only_share: f64,
    /// Users whose source spells reserved traits in snake_case (`first_name`).
    pub snake_case_share: f64,
    /// Chance per logged-in user per day of an identify with trait updates.
    pub daily_update_share: f64,
    /// Users with several email identifiers (Engage sends one event per email).
    pub multi_email_share: f64,

    /// Logged-in users who are members when an audience is created.
    pub audience_initial_share: f64,
    /// Chance per non-member per day of entering an audience.
    pub audience_enter_share: f64,
    /// Chance per member per day of leaving an audience.
    pub audience_exit_share: f64,
    /// Chance that an enter (`true`) is sent twice.
    pub duplicate_enter_share: f64,
    /// Send audience changes as Identify calls (`traits.<key>`).
    pub audience_identify_events: bool,
    /// Send audience changes as Track calls (`Audience Entered`/`Audience Exited`).
    pub audience_track_events: bool,

    /// Logged-in users who have a value when a computed trait is created.
    pub computed_initial_share: f64,
    /// Chance per user per day that a computed trait's value changes.
    pub computed_change_share: f64,

    /// Chance per user per day of a shopping session: commerce Track calls
    /// (`Product Viewed`, `Product Added`, `Checkout Started`, `Order
    /// Completed`; Segment's E-commerce spec v2). Logged-in users send them
    /// with `userId`, the others with `anonymousId` only. 0 (the default)
    /// sends none and leaves every other event as it was; the funnel, the
    /// amounts and the edge shapes are in [`crate`]'s docs. Turning it on
    /// also keeps the Actions ground truth in the ledger
    /// ([`crate::Ledger::tracks`], `orders`, `audience_tracks`).
    #[serde(skip_serializing_if = "is_zero")]
    pub daily_commerce_share: f64,

    /// Edge profile: share of trait values sent as JSON `null`.
    pub edge_null_share: f64,
    /// Edge profile: odd traits added to each login and update identify.
    pub edge_traits_per_event: u32,
}

/// Whether a share is 0, so that a serialized scenario without commerce
/// reads as it did before the field existed.
fn is_zero(share: &f64) -> bool {
    *share == 0.0
}

impl Default for Scenario {
    fn default() -> Self {
        Self {
            profile: Profile::Realistic,
            users: 1000,
            days: 30,
            audiences: 4,
            audience_names: Vec::new(),
            computed_traits: 3,
            max_events: None,
            space_id: "spa_9mZ3pLw2bQx7HcV1nR4tYk".to_owned(),
            mixed_case_share: 0.10,
            look_alike_share: 0.04,
            url_special_share: 0.02,
            unicode_share: 0.02,
            numeric_share: 0.05,
            client_side_share: 0.6,
            anonymous_first_share: 0.5,
            anonymous_only_share: 0.05,
            snake_case_share: 0.25,
            daily_update_share: 0.10,
            multi_email_share: 0.05,
            audience_initial_share: 0.3,
            audience_enter_share: 0.02,
            audience_exit_share: 0.08,
            duplicate_enter_share: 0.02,
            audience_identify_events: true,
            audience_track_events: false,
            computed_initial_share: 0.6,
            computed_change_share: 0.08,
            daily_commerce_share: 0.0,
            edge_null_share: 0.0,
            edge_traits_per_event: 0,
        }
    }
}

impl Scenario {
    /// The edge profile with odd ids and traits turned up.
    pub fn edge() -> Self {
        Self {
            profile: Profile::Edge,
            mixed_case_share: 0.15,
            look_alike_share: 0.10,
            url_special_share: 0.15,
            unicode_share: 0.15,
            numeric_share: 0.15,
            multi_email_share: 0.2,
            duplicate_enter_share: 0.1,
            audience_track_events: true,
            edge_null_share: 0.05,
            edge_traits_per_event: 6,
            ..Self::default()
        }
    }

    /// What a Segment source connected to the Talon.One (Actions)
    /// destination sends: [`Scenario::default`] with commerce tracks on and
    /// Engage audiences sent both ways (Identify with the audience trait,
    /// and `Audience Entered`/`Audience Exited` Track calls).
    pub fn actions() -> Self {
        Self::default().with_actions()
    }

    /// This scenario with commerce tracks on (at [`ACTIONS_COMMERCE_SHARE`]
    /// unless already on), audiences sent both as Identify and as Track
    /// calls, and, unless it names its audiences, [`ACTIONS_AUDIENCE`]
    /// first; its profile and sizes stay.
    pub fn with_actions(self) -> Self {
        let audience_names = if self.audience_names.is_empty() {
            vec![ACTIONS_AUDIENCE.to_owned()]
        } else {
            self.audience_names
        };
        Self {
            audience_names,
            daily_commerce_share: if self.daily_commerce_share > 0.0 {
                self.daily_commerce_share
            } else {
                ACTIONS_COMMERCE_SHARE
            },
            audience_identify_events: true,
            audience_track_events: true,
            ..self
        }
    }

    /// Whether commerce tracks (and the Actions ground truth) are on.
    pub fn commerce(&self) -> bool {
        self.daily_commerce_share > 0.0
    }

    /// The default scenario for a profile: [`Scenario::default`] or [`Scenario::edge`].
    pub fn for_profile(profile: Profile) -> Self {
        match profile {
            Profile::Realistic => Self::default(),
            Profile::Edge => Self::edge(),
        }
    }

    /// Checks sizes and shares; [`crate::Generator::new`] calls it.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        let shares = [
            ("mixed_case_share", self.mixed_case_share),
            ("look_alike_share", self.look_alike_share),
            ("url_special_share", self.url_special_share),
            ("unicode_share", self.unicode_share),
            ("numeric_share", self.numeric_share),
            ("client_side_share", self.client_side_share),
            ("anonymous_first_share", self.anonymous_first_share),
            ("anonymous_only_share", self.anonymous_only_share),
            ("snake_case_share", self.snake_case_share),
            ("daily_update_share", self.daily_update_share),
            ("multi_email_share", self.multi_email_share),
            ("audience_initial_share", self.audience_initial_share),
            ("audience_enter_share", self.audience_enter_share),
            ("audience_exit_share", self.audience_exit_share),
            ("duplicate_enter_share", self.duplicate_enter_share),
            ("computed_initial_share", self.computed_initial_share),
            ("computed_change_share", self.computed_change_share),
            ("edge_null_share", self.edge_null_share),
            ("daily_commerce_share", self.daily_commerce_share),
        ];
        for (field, value) in shares {
            if !(0.0..=1.0).contains(&value) {
                return Err(ScenarioError::ShareOutOfRange { field, value });
            }
        }
        let id_total = self.mixed_case_share
            + self.url_special_share
            + self.unicode_share
            + self.numeric_share;
        if id_total > 1.0 {
            return Err(ScenarioError::IdSharesAboveOne(id_total));
        }
        let limits = [
            ("users", u64::from(self.users), 1 << 28),
            ("days", u64::from(self.days), 100_000),
            ("audiences", u64::from(self.audiences), 256),
            ("computed_traits", u64::from(self.computed_traits), 256),
            (
                "edge_traits_per_event",
                u64::from(self.edge_traits_per_event),
                64,
            ),
        ];
        for (field, value, max) in limits {
            if value > max {
                return Err(ScenarioError::TooLarge { field, max });
            }
        }
        let mut keys = std::collections::BTreeSet::new();
        for def in self.audience_defs() {
            if def.key.is_empty() {
                return Err(ScenarioError::EmptyAudienceKey(def.name));
            }
            if !keys.insert(def.key.clone()) {
                return Err(ScenarioError::DuplicateAudienceKey(def.key));
            }
        }
        Ok(())
    }

    /// The audiences this scenario creates, in creation order.
    pub fn audience_defs(&self) -> Vec<AudienceDef> {
        let names = match self.profile {
            Profile::Realistic => REALISTIC_AUDIENCES,
            Profile::Edge => EDGE_AUDIENCES,
        };
        let given = self.audience_names.len() as u32;
        (0..self.audiences)
            .map(|i| {
                let name = match self.audience_names.get(i as usize) {
                    Some(name) => name.clone(),
                    None => numbered(names, i - given),
                };
                AudienceDef {
                    key: snake_case(&name),
                    name,
                    computation_id: computation_id("aud", i),
                    created_day: spread(i, self.audiences, self.days, 2),
                }
            })
            .collect()
    }

    /// The computed traits this scenario creates, in creation order.
    pub fn computed_trait_defs(&self) -> Vec<ComputedTraitDef> {
        let names = match self.profile {
            Profile::Realistic => REALISTIC_COMPUTED,
            Profile::Edge => EDGE_COMPUTED,
        };
        (0..self.computed_traits)
            .map(|i| {
                let name = numbered(names, i);
                let kind = match i % 3 {
                    0 => ComputedKind::Counter,
                    1 => ComputedKind::MostFrequent,
                    _ => ComputedKind::UniqueList,
                };
                ComputedTraitDef {
                    key: snake_case(&name),
                    name,
                    computation_id: computation_id("tra", i),
                    kind,
                    created_day: spread(i, self.computed_traits, self.days, 3),
                }
            })
            .collect()
    }

    /// Every trait path this scenario can send in an Identify's `traits`,
    /// with its type and what it is (profile trait, audience key, computed
    /// trait key), in the order the generator writes them.
    ///
    /// Paths are unflattened (`["address", "city"]`); flattening is the
    /// consumer's rule. No path is a prefix of another.
    pub fn trait_schema(&self) -> Vec<TraitSpec> {
        crate::schema::Schema::new(self).trait_specs()
    }
}

/// A name from `names`, numbered once the list is used up (`… 2`, `… 3`).
fn numbered(names: &[&str], i: u32) -> String {
    let base = names[i as usize % names.len()];
    let round = i as usize / names.len();
    if round == 0 {
        base.to_owned()
    } else {
        format!("{base} {}", round + 1)
    }
}

/// A Segment-looking computation id, unique per `(prefix, index)`.
fn computation_id(prefix: &str, i: u32) -> String {
    let salt = prefix.bytes().fold(0u64, |acc, b| acc << 8 | u64::from(b));
    format!("{prefix}_{:016x}{i:011x}", mix(u64::from(i) ^ salt << 32))
}

/// Creation days spread evenly over the first `1/part` of the run.
fn spread(i: u32, count: u32, days: u32, part: u64) -> u32 {
    (u64::from(i) * u64::from(days) / (u64::from(count.max(1)) * part)) as u32
}

const REALISTIC_AUDIENCES: &[&str] = &[
    "Order Completed Last 30 Days",
    "First-Time Shopper",
    "High Value Customers",
    "Cart Abandoners (7d)",
    "Newsletter Subscribers",
    "Churn Risk",
];

const EDGE_AUDIENCES: &[&str] = &[
    "Order Completed Last 30 Days",
    "highValueUsers",
    "  VIP -- Kunden (München) ",
    "Straße Größe",
    "30_day_buyers",
    "Ünïcödé 😀 Fans",
];

const REALISTIC_COMPUTED: &[&str] = &[
    "Orders Last 90 Days",
    "Favorite Category",
    "Viewed Categories",
    "Lifetime Purchases",
    "Preferred Store",
    "Used Coupons",
];

const EDGE_COMPUTED: &[&str] = &[
    "ordersLast90Days",
    "Lieblings-Kategorie",
    "Viewed Categories (All Time)",
];

/// One Engage audience.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AudienceDef {
    /// The name as configured in Engage.
    pub name: String,
    /// The trait key: `snake_case(name)`.
    pub key: String,
    /// `context.personas.computation_id` (`aud_…`).
    pub computation_id: String,
    /// The simulated day of the initial sync.
    pub created_day: u32,
}

/// What a computed trait computes, and so its value type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComputedKind {
    /// A count (number).
    Counter,
    /// The most frequent value (string).
    MostFrequent,
    /// The unique values seen (list of strings).
    UniqueList,
}

/// One Engage computed trait.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComputedTraitDef {
    /// The name as configured in Engage.
    pub name: String,
    /// The trait key: `snake_case(name)`.
    pub key: String,
    /// `context.personas.computation_id` (`tra_…`).
    pub computation_id: String,
    /// Counter, most frequent or unique list.
    pub kind: ComputedKind,
    /// The simulated day of the first computation.
    pub created_day: u32,
}

/// The JSON type of a trait's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TraitType {
    /// A JSON string.
    String,
    /// A JSON number.
    Number,
    /// A JSON boolean.
    Boolean,
    /// An RFC 3339 timestamp string (`2026-01-01T00:00:00.000Z`).
    Time,
    /// An array of strings.
    StringList,
    /// Anything else (arrays of objects, mixed arrays); edge profile only.
    Json,
}

/// Where a trait comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TraitClass {
    /// Sent by a source in an ordinary Identify.
    Profile,
    /// An Engage audience key (boolean membership).
    Audience,
    /// An Engage computed-trait key.
    ComputedTrait,
}

/// One trait path a scenario can send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraitSpec {
    /// The path inside `traits`, one element per object level.
    pub path: Vec<String>,
    /// The intended type of its values.
    #[serde(rename = "type")]
    pub ty: TraitType,
    /// Profile trait, audience key or computed-trait key.
    pub class: TraitClass,
    /// Edge profile only: values may deviate from `type` (null, empty
    /// string, number or boolean sent as a string, empty object).
    pub irregular: bool,
}

/// Why a scenario was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum ScenarioError {
    /// A share is outside `0.0..=1.0` (or NaN).
    ShareOutOfRange {
        /// The field name.
        field: &'static str,
        /// Its value.
        value: f64,
    },
    /// The userId shares (mixed case, URL special, unicode, numeric) sum above 1.
    IdSharesAboveOne(f64),
    /// A size is above what the generator supports.
    TooLarge {
        /// The field name.
        field: &'static str,
        /// The largest accepted value.
        max: u64,
    },
    /// An audience name whose key (`snake_case(name)`) is empty.
    EmptyAudienceKey(String),
    /// Two audiences with the same key.
    DuplicateAudienceKey(String),
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ShareOutOfRange { field, value } => {
                write!(f, "{field} must be between 0 and 1, not {value}")
            }
            Self::IdSharesAboveOne(total) => {
                write!(f, "the userId shares sum to {total}, above 1")
            }
            Self::TooLarge { field, max } => write!(f, "{field} must be at most {max}"),
            Self::EmptyAudienceKey(name) => {
                write!(f, "the audience name {name:?} has an empty key")
            }
            Self::DuplicateAudienceKey(key) => {
                write!(f, "two audiences have the key {key:?}")
            }
        }
    }
}

impl std::error::Error for ScenarioError {}
