//! `arbitrary` implementations (feature `arbitrary`) that produce the event shapes that break mappers, often.
//!
//! A plain derive would spend its input on random byte strings and almost
//! never hit a configured trait name, a near-collision (`address_city` next
//! to `address.city`), a case variant (`Email`), a path past the
//! flattener's depth limit or a `userId` of `..`. These generators draw
//! from small pools of such values most of the time, and from raw input the
//! rest of the time, so a coverage-guided fuzzer and a seeded property test
//! both see the interesting shapes within a few hundred inputs.
//!
//! Traits (and properties) are drawn once, as a [`TraitsTree`], and become
//! a map where an event needs one: one generator of traits shapes, not two.
//! Built values nest at most [`MAX_BUILT_DEPTH`] objects deep (plus the
//! tree's few levels): `serde_json::Value` drops recursively, so deeper
//! values belong in JSON text, not in built values.
//!
//! ```
//! use arbitrary::{Arbitrary, Unstructured};
//! use segment_model::Event;
//!
//! let bytes = [7u8; 256];
//! let event = Event::arbitrary(&mut Unstructured::new(&bytes))?;
//! let json = serde_json::to_string(&event).expect("events serialize");
//! assert!(json.starts_with(r#"{"type":"#));
//! # Ok::<(), arbitrary::Error>(())
//! ```

use std::borrow::Cow;

use arbitrary::{Arbitrary, Result, Unstructured};
use serde_json::{Map, Number, Value};

use crate::tree::{EntryOutOfRange, Order, Span, TraitsTree, TreeValue};
use crate::{Context, Event, EventType, Personas, UserId};

/// The deepest a built value nests objects (the flattener keeps 32 levels).
pub const MAX_BUILT_DEPTH: usize = 40;

/// Trait names: configured-looking names, their case and dotted variants,
/// near-collisions, separators, unicode and the empty name.
pub const NAMES: &[&str] = &[
    "email",
    "Email",
    "EMAIL",
    "name",
    "firstName",
    "firstname",
    "first_name",
    "plan",
    "logins",
    "birthday",
    "interests",
    "address",
    "city",
    "address_city",
    "address.city",
    "Address",
    "postalCode",
    "address_postalCode",
    "company",
    "company_name",
    "a",
    "b",
    "c",
    "a_b",
    "b_c",
    "a_b_c",
    "_",
    "__",
    "a_",
    "_a",
    "deep",
    "1",
    "30_day_buyers",
    "vip_customers",
    "ltv",
    "Language",
    "",
    ".",
    "a.b",
    "[0]",
    "\"",
    "ñame",
    "straße",
    "STRASSE",
    "İstanbul",
    "ǅ",
    "名前",
    "emoji_😀",
    "tab\tkey",
    "nul\u{0}key",
];

/// Strings: empty, blank, times, numbers-as-strings, unicode, escapes.
const STRINGS: &[&str] = &[
    "",
    " ",
    "john.doe@example.com",
    "Berlin",
    "true",
    "false",
    "null",
    "0",
    "1e400",
    "2024-02-29T12:00:00Z",
    "2024-02-29T12:00:00.123456789+01:00",
    "2024-13-01T00:00:00Z",
    "52.52,13.405",
    "München",
    "\u{0}",
    "\u{7f}\u{80}",
    "\u{feff}bom",
    "line\nbreak",
    "quote\"backslash\\",
    "😀👍🏽",
    "\u{10ffff}",
    "a/b#c?d%e",
];

/// User ids: the ones URLs, percent-encoding and Talon.One's limits trip on.
const USER_IDS: &[&str] = &[
    "u1",
    "u2",
    "U1",
    "john.doe",
    "",
    " ",
    ".",
    "..",
    "...",
    "a/b",
    "a#b",
    "a?b",
    "a%b",
    "a%2Fb",
    "%",
    "a b ",
    "Jürgen",
    "😀",
    "\u{0}",
    "tab\there",
    "+1 (555) 010-0000",
];

/// Library names: client-side, server-side and made up.
const LIBRARIES: &[&str] = &[
    "analytics.js",
    "analytics-next",
    "analytics-ios",
    "analytics-node",
    "analytics-python",
    "made-up",
];

/// Picks from `pool` most of the time, else an arbitrary string.
fn pick_or_any(u: &mut Unstructured<'_>, pool: &[&str]) -> Result<String> {
    if u.ratio(7, 8)? {
        Ok((*u.choose(pool)?).to_owned())
    } else {
        String::arbitrary(u)
    }
}

/// A trait name: from [`NAMES`], a joined pair of them, or arbitrary text.
pub fn name(u: &mut Unstructured<'_>) -> Result<String> {
    name_in(u).map(Cow::into_owned)
}

/// [`name`], borrowed from the pool or the input where it can be.
fn name_in<'a>(u: &mut Unstructured<'a>) -> Result<Cow<'a, str>> {
    Ok(match u.int_in_range(0u8..=63)? {
        0..=3 => Cow::Borrowed(<&str>::arbitrary(u)?),
        4..=7 => Cow::Owned(format!("{}_{}", u.choose(NAMES)?, u.choose(NAMES)?)),
        8..=11 => Cow::Owned(u.choose(NAMES)?.to_uppercase()),
        12 => Cow::Owned("k".repeat(u.int_in_range(64..=300)?)),
        _ => Cow::Borrowed(u.choose(NAMES)?),
    })
}

/// A number: zero, extremes of every JSON number kind, fractions.
fn number(u: &mut Unstructured<'_>) -> Result<Number> {
    Ok(match number_in(u)? {
        TreeValue::Int(n) => Number::from(n),
        TreeValue::Float(n) => Number::from_f64(n).unwrap_or_else(|| Number::from(1u8)),
        TreeValue::UInt(n) => Number::from(n),
        _ => Number::from(0u8),
    })
}

/// [`number`] as a tree value: `UInt`, `Int` or a finite `Float`.
fn number_in(u: &mut Unstructured<'_>) -> Result<TreeValue<'static>> {
    let finite = |n: f64| {
        if n.is_finite() {
            TreeValue::Float(n)
        } else {
            TreeValue::UInt(1)
        }
    };
    Ok(match u.int_in_range(0u8..=9)? {
        0 => TreeValue::UInt(0),
        1 => TreeValue::UInt(u64::MAX),
        2 => TreeValue::Int(i64::MIN),
        3 => TreeValue::Int(i64::arbitrary(u)?),
        4 => TreeValue::UInt(u64::arbitrary(u)?),
        5 => finite(f64::arbitrary(u)?),
        6 => TreeValue::Float(f64::MAX),
        7 => TreeValue::Float(-0.5),
        8 => TreeValue::Float(1.0),
        _ => TreeValue::UInt(u.int_in_range(0u64..=100)?),
    })
}

/// A string value: from the pool, long, or arbitrary.
fn string(u: &mut Unstructured<'_>) -> Result<String> {
    match u.int_in_range(0u8..=63)? {
        0..=5 => String::arbitrary(u),
        6 => Ok("x".repeat(u.int_in_range(256..=4096)?)),
        _ => Ok((*u.choose(STRINGS)?).to_owned()),
    }
}

/// A JSON scalar, or `null`.
pub fn scalar(u: &mut Unstructured<'_>) -> Result<Value> {
    Ok(match u.int_in_range(0u8..=7)? {
        0 => Value::Null,
        1 => Value::Bool(bool::arbitrary(u)?),
        2 | 3 => Value::Number(number(u)?),
        _ => Value::String(string(u)?),
    })
}

/// A traits object: [`traits_tree`] as a map (of a repeated key, the last
/// value stays). One generator serves the flattener's tree target and the
/// events' `traits` and `properties`, so the shapes are written once.
pub fn traits(u: &mut Unstructured<'_>) -> Result<Map<String, Value>> {
    Ok(traits_tree(u)?.to_map())
}

/// The most entries [`traits_tree`] puts in a tree (one more at most),
/// besides one near-collision (three entries) and one chain around the
/// depth limit (at most [`MAX_BUILT_DEPTH`] + 1): room for every shape the flattener's rules
/// are about, which involve two or three paths at a time, and small
/// enough that one input costs the flattener about a microsecond.
pub const MAX_TREE_ENTRIES: usize = 16;

/// A traits object as a [`TraitsTree`]: nested, colliding, around
/// the depth limit, with repeated keys; keys and strings borrowed from the
/// pools and the input, so building one allocates little.
pub fn traits_tree<'a>(u: &mut Unstructured<'a>) -> Result<TraitsTree<'a>> {
    let mut tree = TraitsTree::new();
    for _ in 0..u.int_in_range(0usize..=6)? {
        if tree.entry_count() >= MAX_TREE_ENTRIES {
            break;
        }
        let value = tree_value(u, &mut tree, 4)?;
        tree.push_root(name_in(u)?, value);
    }
    // Near-collisions: a flat key next to the nested path it flattens to.
    // (Odds drawn so that an exhausted input, which reads as zeros, adds
    // neither this nor a chain: short inputs stay small.)
    if u.int_in_range(0u8..=3)? == 3 {
        let (outer, inner) = (name_in(u)?, name_in(u)?);
        let flat = tree_scalar(u)?;
        tree.push_root(format!("{outer}_{inner}"), flat);
        let nested = tree.object(1);
        let value = tree_scalar(u)?;
        tree.set(nested, 0, inner, value)?;
        tree.push_root(outer, TreeValue::Object(nested));
    }
    if u.int_in_range(0u8..=15)? == 15 {
        let key = name_in(u)?;
        let chain = tree_chain(u, &mut tree, MAX_BUILT_DEPTH)?;
        tree.push_root(key, chain);
    }
    Ok(tree)
}

/// What the `flatten` fuzz target reads from its input: the order in which
/// to visit each object's keys, then a [`traits_tree`].
pub fn ordered_traits_tree<'a>(u: &mut Unstructured<'a>) -> Result<(Order, TraitsTree<'a>)> {
    let order = if bool::arbitrary(u)? {
        Order::Reversed
    } else {
        Order::Given
    };
    Ok((order, traits_tree(u)?))
}

fn tree_value<'a>(
    u: &mut Unstructured<'a>,
    tree: &mut TraitsTree<'a>,
    budget: usize,
) -> Result<TreeValue<'a>> {
    let nest = budget > 0 && tree.entry_count() < MAX_TREE_ENTRIES;
    Ok(match u.int_in_range(0u8..=23)? {
        0..=5 if nest => TreeValue::Object(tree_object(u, tree, budget - 1)?),
        6 | 7 => {
            // Lists: scalars of one type, mixed, or holding what no list can.
            let mut items = [TreeValue::Null; 5];
            let len = u.int_in_range(0usize..=items.len())?;
            for item in &mut items[..len] {
                *item = match u.int_in_range(0u8..=9)? {
                    0 if nest => TreeValue::Object(tree_object(u, tree, 0)?),
                    1 => TreeValue::Array(tree.array([])),
                    _ => tree_scalar(u)?,
                };
            }
            TreeValue::Array(tree.array(items[..len].iter().copied()))
        }
        8 if nest => {
            let room = MAX_TREE_ENTRIES.saturating_sub(tree.entry_count());
            tree_chain(u, tree, budget.min(room))?
        }
        _ => tree_scalar(u)?,
    })
}

fn tree_object<'a>(
    u: &mut Unstructured<'a>,
    tree: &mut TraitsTree<'a>,
    budget: usize,
) -> Result<Span> {
    let room = MAX_TREE_ENTRIES.saturating_sub(tree.entry_count());
    let len = u.int_in_range(0usize..=6)?.min(room);
    let object = tree.object(len);
    for i in 0..len {
        let value = tree_value(u, tree, budget)?;
        tree.set(object, i, name_in(u)?, value)?;
    }
    Ok(object)
}

/// A chain of single-key objects around the flattener's depth limit.
fn tree_chain<'a>(
    u: &mut Unstructured<'a>,
    tree: &mut TraitsTree<'a>,
    budget: usize,
) -> Result<TreeValue<'a>> {
    let depth = u.int_in_range(28..=MAX_BUILT_DEPTH)?.min(budget);
    let mut inner = tree_scalar(u)?;
    for _ in 0..depth {
        let object = tree.object(1);
        tree.set(object, 0, name_in(u)?, inner)?;
        inner = TreeValue::Object(object);
    }
    Ok(inner)
}

/// A scalar or `null`; strings from the pool or the input.
fn tree_scalar<'a>(u: &mut Unstructured<'a>) -> Result<TreeValue<'a>> {
    Ok(match u.int_in_range(0u8..=7)? {
        0 => TreeValue::Null,
        1 => TreeValue::Bool(bool::arbitrary(u)?),
        2 | 3 => number_in(u)?,
        _ => TreeValue::Str(string_in(u)?),
    })
}

/// [`string`] borrowed from the pool or the input, without its long
/// strings: the flattener never looks at a value's length.
fn string_in<'a>(u: &mut Unstructured<'a>) -> Result<&'a str> {
    Ok(match u.int_in_range(0u8..=63)? {
        0..=5 => <&str>::arbitrary(u)?,
        _ => u.choose(STRINGS)?,
    })
}

/// A generator only sets entries of objects it has just reserved; were one
/// ever out of range, the input is refused rather than the fuzzer crashed.
impl From<EntryOutOfRange> for arbitrary::Error {
    fn from(_: EntryOutOfRange) -> Self {
        Self::IncorrectFormat
    }
}

/// Custom Attributes for a destination: each pool name with odds 1 in 3.
pub fn configured(u: &mut Unstructured<'_>) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for name in NAMES {
        if u.ratio(1, 3)? {
            names.push((*name).to_owned());
        }
    }
    Ok(names)
}

/// A `userId` or `anonymousId`: pooled strings, numbers, long strings.
fn user_id(u: &mut Unstructured<'_>) -> Result<Option<UserId>> {
    Ok(match u.int_in_range(0u8..=11)? {
        0 => None,
        1 => Some(UserId::Number(number(u)?)),
        2 => Some(UserId::String("u".repeat(u.int_in_range(999..=1001)?))),
        _ => Some(UserId::String(pick_or_any(u, USER_IDS)?)),
    })
}

impl<'a> Arbitrary<'a> for EventType {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(match u.int_in_range(0u8..=11)? {
            0 => Self::Track,
            1 => Self::Page,
            2 => Self::Group,
            3 => Self::Alias,
            4 => Self::Screen,
            5 => Self::parse(&String::arbitrary(u)?),
            _ => Self::Identify,
        })
    }
}

impl<'a> Arbitrary<'a> for UserId {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(user_id(u)?.unwrap_or_else(|| UserId::String(String::new())))
    }
}

impl<'a> Arbitrary<'a> for Personas {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let class = match u.int_in_range(0u8..=5)? {
            0 => None,
            1 => Some("journey".to_owned()),
            2 => Some(String::arbitrary(u)?),
            3 => Some("trait".to_owned()),
            _ => Some("audience".to_owned()),
        };
        let key = match u.int_in_range(0u8..=7)? {
            0 => None,
            1 => Some(String::new()),
            _ => Some(name(u)?),
        };
        Ok(Self {
            computation_class: class,
            computation_id: Some("aud_1".to_owned()),
            computation_key: key,
            namespace: None,
            ..Self::default()
        })
    }
}

impl<'a> Arbitrary<'a> for Context {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let personas = if u.ratio(1, 2)? {
            Some(Personas::arbitrary(u)?)
        } else {
            None
        };
        let library = match u.int_in_range(0u8..=5)? {
            0 => None,
            1 => Some(scalar(u)?),
            _ => Some(serde_json::json!({"name": pick_or_any(u, LIBRARIES)?})),
        };
        let mut other = Map::new();
        if u.ratio(1, 4)? {
            other.insert("ip".to_owned(), Value::String("203.0.113.1".to_owned()));
        }
        Ok(Self {
            personas,
            library,
            other,
        })
    }
}

impl<'a> Arbitrary<'a> for Event {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let mut event = Self::new(EventType::arbitrary(u)?);
        event.user_id = user_id(u)?;
        if u.ratio(1, 4)? {
            event.anonymous_id = user_id(u)?;
        }
        event.traits = match u.int_in_range(0u8..=9)? {
            0 => None,
            1 => Some(Map::new()),
            _ => Some(traits(u)?),
        };
        if u.ratio(1, 2)? {
            event.context = Some(Context::arbitrary(u)?);
        }
        match u.int_in_range(0u8..=7)? {
            0 => {
                event.other.insert("channel".to_owned(), "browser".into());
            }
            1 => {
                event.other.insert("channel".to_owned(), "server".into());
            }
            2 => {
                event.other.insert("channel".to_owned(), scalar(u)?);
            }
            _ => {}
        }
        if u.ratio(1, 8)? {
            event.properties = Some(traits(u)?);
        }
        Ok(event)
    }
}
