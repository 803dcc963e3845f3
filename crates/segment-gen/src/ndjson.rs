//! The NDJSON writer: one Segment Spec payload per line, written byte by byte.
//!
//! It turns a taken [`Spec`] (with its times and traits) into one line and
//! draws nothing: every choice was made by [`crate::simulation`]. Strings
//! that may need escaping were escaped once, up front ([`Wire`], the slot
//! keys, [`crate::json::quoted`]); the hot path only copies bytes that are
//! already valid JSON and renders values with [`crate::values::render`],
//! the same renderer the ledger uses.

use crate::commerce;
use crate::generator::Cast;
use crate::json::{mix, push_hex, push_times, push_u64, push_uuid, quoted};
use crate::population::push_anonymous_id;
use crate::simulation::{Engage, Source, Spec, Times};
use crate::values;

/// Bytes written up front: each audience's and computed trait's
/// `context.personas` object and each audience key as a JSON string.
#[derive(Debug)]
pub(crate) struct Wire {
    audience_personas: Vec<Box<[u8]>>,
    audience_keys: Vec<Box<[u8]>>,
    computed_personas: Vec<Box<[u8]>>,
}

impl Wire {
    pub(crate) fn new(cast: &Cast) -> Self {
        let space = quoted(&cast.scenario.space_id);
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
        Self {
            audience_personas: cast
                .audiences
                .iter()
                .map(|(def, _)| personas("audience", &def.computation_id, &def.key))
                .collect(),
            audience_keys: cast
                .audiences
                .iter()
                .map(|(def, _)| quoted(&def.key))
                .collect(),
            computed_personas: cast
                .computed
                .iter()
                .map(|(def, _)| personas("trait", &def.computation_id, &def.key))
                .collect(),
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

/// Appends event number `index` as one line (with `\n`) to `out`.
pub(crate) fn write_event(
    out: &mut Vec<u8>,
    cast: &Cast,
    wire: &Wire,
    spec: &Spec,
    index: u64,
    times: Times,
    traits: &[(u16, u32)],
) {
    let user = &cast.users[spec.user as usize];
    out.extend_from_slice(if spec.track {
        b"{\"type\":\"track\",\"messageId\":\""
    } else {
        b"{\"type\":\"identify\",\"messageId\":\""
    });
    let h = mix(cast.seed ^ mix(index ^ 0x6d65_7373_6167_6500));
    if spec.source == Source::Engage {
        out.extend_from_slice(b"personas_");
        push_hex(out, h, 16);
        push_hex(out, index, 12);
    } else {
        push_uuid(out, h, b'8', h >> 52, index);
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
        push_anonymous_id(out, cast.seed, spec.user, u32::from(device));
    }
    push_times(out, times.timestamp, times.sent_at, times.received_at);
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
                Engage::Audience(a, _) => &wire.audience_personas[usize::from(a)],
                Engage::Computed(c) => &wire.computed_personas[usize::from(c)],
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
    if let Some(track) = spec.commerce {
        commerce::write_track(out, cast.seed, spec.user, track, traits);
    } else if spec.track {
        if let Engage::Audience(a, value) = spec.engage {
            let key = &wire.audience_keys[usize::from(a)];
            out.extend_from_slice(if value {
                b",\"event\":\"Audience Entered\",\"properties\":{\"audience_key\":"
            } else {
                b",\"event\":\"Audience Exited\",\"properties\":{\"audience_key\":"
            });
            out.extend_from_slice(key);
            out.push(b',');
            out.extend_from_slice(key);
            out.extend_from_slice(if value { b":true}" } else { b":false}" });
        }
    } else {
        out.extend_from_slice(b",\"traits\":");
        write_traits(out, cast, spec, traits);
    }
    out.extend_from_slice(b"}\n");
}

/// Writes the traits object: slots are in depth-first order, so nested
/// objects open and close as the path prefix changes.
fn write_traits(out: &mut Vec<u8>, cast: &Cast, spec: &Spec, traits: &[(u16, u32)]) {
    let user = &cast.users[spec.user as usize];
    // The path of the currently open objects, as a slot whose prefix it is.
    let mut open: Option<&[String]> = None;
    let mut depth = 0usize;
    out.push(b'{');
    let mut first = true;
    for &(slot_id, code) in traits {
        let slot = &cast.schema.slots[usize::from(slot_id)];
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
