//! The user population: ids, names, sources and lifecycle, drawn once per run.
//!
//! Memory is proportional to users (a few dozen bytes each), never to events.

use rand_chacha::ChaCha8Rng;

use crate::json::{mix, push_uuid, quoted};
use crate::rng::{below, chance};
use crate::scenario::Scenario;
use crate::values::{FIRST_NAMES, LAST_NAMES};

/// What shape a user's `userId` has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdKind {
    /// A UUID-like lowercase id.
    Plain,
    /// Mixed case (`PeterGibbons42`).
    MixedCase,
    /// One of a pair differing only in case (`User7`, `user7`).
    LookAlike,
    /// Characters that need URL encoding.
    UrlSpecial,
    /// Non-ASCII characters.
    Unicode,
    /// Sent as a JSON number.
    Numeric,
}

/// The day value of users who never log in.
pub(crate) const NEVER: u32 = u32::MAX;

/// One simulated person.
#[derive(Debug)]
pub(crate) struct User {
    /// Position in the population.
    pub(crate) index: u32,
    /// The `userId` as a string (numeric ids in decimal).
    pub(crate) id: Box<str>,
    /// The `userId` as sources write it: a JSON string, or a number.
    pub(crate) id_json: Box<[u8]>,
    pub(crate) first: u16,
    pub(crate) last: u16,
    /// The day of the login identify, or [`NEVER`].
    pub(crate) login_day: u32,
    /// Email identifiers (1 or more).
    pub(crate) emails: u8,
    /// Browsers or devices (anonymousIds), client-side users only.
    pub(crate) devices: u8,
    pub(crate) client_side: bool,
    pub(crate) snake_case: bool,
    pub(crate) anonymous_first: bool,
}

/// Draws the population. Users are numbered `0..users`; look-alike pairs
/// take two consecutive numbers.
pub(crate) fn draw(scenario: &Scenario, seed: u64, rng: &mut ChaCha8Rng) -> Vec<User> {
    let n = scenario.users;
    let mut users = Vec::with_capacity(n as usize);
    let mut i = 0u32;
    while i < n {
        let pair = i + 1 < n && chance(rng, scenario.look_alike_share);
        let kinds: &[IdKind] = if pair {
            &[IdKind::LookAlike, IdKind::LookAlike]
        } else {
            &[IdKind::Plain]
        };
        for (k, &kind) in kinds.iter().enumerate() {
            let kind = if kind == IdKind::Plain {
                pick_kind(scenario, rng)
            } else {
                kind
            };
            users.push(draw_user(scenario, seed, rng, i, kind, k == 0));
            i += 1;
        }
    }
    users
}

fn pick_kind(s: &Scenario, rng: &mut ChaCha8Rng) -> IdKind {
    let x = crate::rng::unit(rng);
    let mut acc = 0.0;
    for (share, kind) in [
        (s.mixed_case_share, IdKind::MixedCase),
        (s.url_special_share, IdKind::UrlSpecial),
        (s.unicode_share, IdKind::Unicode),
        (s.numeric_share, IdKind::Numeric),
    ] {
        acc += share;
        if x < acc {
            return kind;
        }
    }
    IdKind::Plain
}

fn draw_user(
    s: &Scenario,
    seed: u64,
    rng: &mut ChaCha8Rng,
    index: u32,
    kind: IdKind,
    upper: bool,
) -> User {
    let first = below(rng, FIRST_NAMES.len() as u32) as u16;
    let last = below(rng, LAST_NAMES.len() as u32) as u16;
    let anonymous_only = chance(rng, s.anonymous_only_share);
    let login_day = if anonymous_only || s.days == 0 {
        NEVER
    } else if chance(rng, 0.4) {
        0
    } else {
        below(rng, s.days)
    };
    let client_side = chance(rng, s.client_side_share);
    let snake_case = chance(rng, s.snake_case_share);
    let anonymous_first = client_side && chance(rng, s.anonymous_first_share);
    let emails = if chance(rng, s.multi_email_share) {
        2 + below(rng, 2) as u8
    } else {
        1
    };
    let devices = if client_side {
        1 + below(rng, 2) as u8
    } else {
        0
    };
    let variant = below(rng, 4);
    let id = user_id(seed, index, kind, upper, variant, first, last);
    let id_json = if kind == IdKind::Numeric {
        id.as_bytes().into()
    } else {
        quoted(&id)
    };
    User {
        index,
        id: id.into_boxed_str(),
        id_json,
        first,
        last,
        login_day,
        emails,
        devices,
        client_side,
        snake_case,
        anonymous_first,
    }
}

/// A userId unique by construction: every shape embeds the user's index
/// (or, for look-alikes, the pair's index plus a case difference), and the
/// shapes cannot produce each other's strings. Never `.` or `..`.
fn user_id(
    seed: u64,
    index: u32,
    kind: IdKind,
    upper: bool,
    variant: u32,
    first: u16,
    last: u16,
) -> String {
    let h = mix(seed ^ mix(u64::from(index)));
    match kind {
        IdKind::Plain => {
            let mut out = Vec::with_capacity(36);
            push_uuid(&mut out, h, b'a', h >> 40, u64::from(index));
            String::from_utf8(out).expect("hex is ASCII")
        }
        IdKind::MixedCase => {
            let first = FIRST_NAMES[first as usize].1;
            let last = LAST_NAMES[last as usize].1;
            format!("{}{}{index}", capitalise(first), capitalise(last))
        }
        IdKind::LookAlike => {
            // The pair shares the lower number of the two.
            let pair = if upper { index } else { index - 1 };
            if upper {
                format!("User{pair}")
            } else {
                format!("user{pair}")
            }
        }
        IdKind::UrlSpecial => match variant {
            0 => format!("team/{index}"),
            1 => format!("u#{index}?ref=mail"),
            2 => format!("100% user {index}"),
            _ => format!("a b/c?d#{index}%2F"),
        },
        IdKind::Unicode => match variant {
            0 => format!("jürgen-{index}"),
            1 => format!("用户{index}"),
            2 => format!("😀user{index}"),
            _ => format!("Ωmega-{index}-ß"),
        },
        IdKind::Numeric => (1_000_000 + u64::from(index)).to_string(),
    }
}

fn capitalise(s: &str) -> String {
    let mut out = s.to_owned();
    out[..1].make_ascii_uppercase();
    out
}

/// The `anonymousId` of `user` on `device`: UUID-shaped, unique by
/// construction (the last group holds the user and device).
pub(crate) fn push_anonymous_id(out: &mut Vec<u8>, seed: u64, user: u32, device: u32) {
    let key = u64::from(user) << 4 | u64::from(device);
    let h = mix(seed.rotate_left(17) ^ mix(key ^ 0xa11_0000_0000));
    out.push(b'"');
    push_uuid(out, h, b'b', h >> 44, key);
    out.push(b'"');
}
