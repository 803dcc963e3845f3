//! Trait values: each trait slot turns a small integer "code" into its JSON value.
//!
//! The generator draws codes, the writer renders them and the ledger keeps
//! the last code per user and slot, rendering it only at the end. One
//! renderer serves both, so the ledger holds exactly what was written.

use crate::json::{DAY_MS, EPOCH_UNIX_MS, push_hex, push_padded, push_time, push_u64};
use crate::population::User;

/// The code that renders as JSON `null` (edge profile).
pub(crate) const NULL: u32 = u32::MAX;
/// The code that renders as `{}`: not a leaf, so the ledger keeps the
/// previous value of the path (edge profile).
pub(crate) const EMPTY_OBJECT: u32 = u32::MAX - 1;
/// Ledger only: the path never received a value.
pub(crate) const UNSET: u32 = u32::MAX - 2;
/// On number and boolean slots: send the value as a string (`"12"`, `"true"`).
pub(crate) const AS_STRING: u32 = 1 << 30;
/// Codes drawn for a slot stay below this, clear of the flags above.
pub(crate) const CODE_MASK: u32 = AS_STRING - 1;

/// How a slot renders a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Render {
    Email,
    Name,
    FirstName,
    LastName,
    Phone,
    Birthday,
    CreatedAt,
    Street,
    City,
    State,
    PostalCode,
    Country,
    CompanyName,
    CompanyId,
    Industry,
    EmployeeCount,
    /// A counter; may be sent as a string.
    Integer,
    /// A boolean from the code's low bit; may be sent as a string.
    Flag,
    LifetimeValue,
    Categories,
    /// One string of a table, by code (the table's strings need no escaping).
    OneOf(&'static [&'static str]),
    EdgeText,
    LongText,
    NumberString,
    BoolString,
    Orders,
    EmptyList,
    MixedList,
    BigNumber,
    Tags,
}

impl Render {
    /// Whether the edge profile may send this render's values as strings
    /// (`"12"`, `"true"`; see [`AS_STRING`]).
    pub(crate) fn may_be_string(self) -> bool {
        matches!(self, Self::Integer | Self::Flag)
    }
}

/// A (display, ASCII email part) name.
type Name = (&'static str, &'static str);

pub(crate) const FIRST_NAMES: &[Name] = &[
    ("Peter", "peter"),
    ("Anna", "anna"),
    ("Jürgen", "juergen"),
    ("Zoë", "zoe"),
    ("Chloé", "chloe"),
    ("Mateo", "mateo"),
    ("Aiko", "aiko"),
    ("Priya", "priya"),
    ("Noah", "noah"),
    ("Léa", "lea"),
    ("Søren", "soren"),
    ("Emma", "emma"),
    ("Liam", "liam"),
    ("Sofía", "sofia"),
    ("Mehmet", "mehmet"),
    ("Olu", "olu"),
];

pub(crate) const LAST_NAMES: &[Name] = &[
    ("Gibbons", "gibbons"),
    ("Müller", "mueller"),
    ("Nguyễn", "nguyen"),
    ("Smith", "smith"),
    ("García", "garcia"),
    ("Kowalski", "kowalski"),
    ("Tanaka", "tanaka"),
    ("O'Brien", "obrien"),
    ("Schmidt", "schmidt"),
    ("Rossi", "rossi"),
    ("Okafor", "okafor"),
    ("Johansson", "johansson"),
];

/// (city, state, postal code, country).
const CITIES: &[(&str, &str, &str, &str)] = &[
    ("Berlin", "BE", "10115", "DE"),
    ("San Francisco", "CA", "94103", "USA"),
    ("München", "BY", "80331", "DE"),
    ("São Paulo", "SP", "01000-000", "BR"),
    ("Tokyo", "13", "100-0001", "JP"),
    ("London", "ENG", "SW1A 1AA", "GB"),
    ("Zürich", "ZH", "8001", "CH"),
    ("New York", "NY", "10001", "USA"),
];

const STREETS: &[&str] = &[
    "6th St",
    "Hauptstraße",
    "Rua Augusta",
    "Baker Street",
    "Bahnhofstrasse",
    "Main St",
];

/// (name, industry, employee count).
const COMPANIES: &[(&str, &str, u32)] = &[
    ("Initech", "Software", 120),
    ("Globex", "Manufacturing", 5400),
    ("Umbrella GmbH", "Pharma", 860),
    ("Acme & Söhne", "Retail", 42),
    ("Hooli", "Internet", 32_000),
    ("Stark Industries", "Defense", 12_500),
];

pub(crate) const PLANS: &[&str] = &["free", "basic", "premium", "enterprise"];

pub(crate) const CATEGORIES: &[&str] = &[
    "shoes",
    "books",
    "electronics",
    "garden",
    "toys",
    "groceries",
    "sports",
    "beauty",
    "music",
    "travel",
];

pub(crate) const LANGUAGES: &[&str] = &["en", "de", "fr", "ja", "pt-BR"];
pub(crate) const CURRENCIES: &[&str] = &["EUR", "USD", "GBP", "JPY", "BRL"];

/// Odd strings for the edge profile (escaped by `serde_json` when written).
const EDGE_STRINGS: &[&str] = &[
    "",
    " ",
    "say \"hi\"",
    "back\\slash",
    "line\nbreak\ttab",
    "ünïcödé",
    "😀🎉",
    "日本語テキスト",
    "مرحبا",
    "<script>alert(1)</script>",
    "null",
    "true",
    "0",
    "a/b#c?d=%20 e",
    "\u{0}nul\u{1f}",
    "\u{feff}bom",
];

/// Edge strings, pre-escaped.
fn edge_string(out: &mut Vec<u8>, i: u32) {
    let s = EDGE_STRINGS[i as usize % EDGE_STRINGS.len()];
    serde_json::to_writer(&mut *out, s).expect("a string serializes into a Vec");
}

fn push_quoted_ascii(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
}

/// Table strings that may hold `'` or non-ASCII but never `"`, `\` or
/// control characters (checked by a test), so they need no escaping.
fn push_table(out: &mut Vec<u8>, table: &[&str], i: u32) {
    push_quoted_ascii(out, table[i as usize % table.len()]);
}

fn push_list(out: &mut Vec<u8>, mask: u32) {
    out.push(b'[');
    let mut first = true;
    for (i, c) in CATEGORIES.iter().enumerate() {
        if mask & (1 << i) != 0 {
            if !first {
                out.push(b',');
            }
            first = false;
            push_quoted_ascii(out, c);
        }
    }
    out.push(b']');
}

/// Writes the email identifier number `k` of `user`.
pub(crate) fn push_email(out: &mut Vec<u8>, user: &User, k: u32) {
    let first = FIRST_NAMES[user.first as usize].1;
    let last = LAST_NAMES[user.last as usize].1;
    out.push(b'"');
    match k {
        0 => {
            out.extend_from_slice(first.as_bytes());
            out.push(b'.');
            out.extend_from_slice(last.as_bytes());
            push_u64(out, u64::from(user.index));
            out.extend_from_slice(b"@example.com");
        }
        1 => {
            out.extend_from_slice(first.as_bytes());
            push_u64(out, u64::from(user.index));
            out.extend_from_slice(b"@work.example");
        }
        _ => {
            out.extend_from_slice(last.as_bytes());
            out.push(b'.');
            out.extend_from_slice(first.as_bytes());
            push_u64(out, u64::from(user.index));
            out.push(b'+');
            push_u64(out, u64::from(k));
            out.extend_from_slice(b"@mail.example");
        }
    }
    out.push(b'"');
}

/// 96 words of the long text's pattern: word `i` is `lorem ` when `i % 3
/// == 0`, else `ipsum `; 96 is a multiple of 3, so the chunk repeats.
const LOREM: [u8; 576] = {
    let mut chunk = [0u8; 576];
    let mut i = 0;
    while i < 96 {
        let word = if i % 3 == 0 { b"lorem " } else { b"ipsum " };
        let mut j = 0;
        while j < 6 {
            chunk[i * 6 + j] = word[j];
            j += 1;
        }
        i += 1;
    }
    chunk
};

/// Appends `words` words of the long text's pattern, a chunk at a time.
fn push_lorem(out: &mut Vec<u8>, words: u32) {
    let mut left = words as usize;
    while left >= 96 {
        out.extend_from_slice(&LOREM);
        left -= 96;
    }
    out.extend_from_slice(&LOREM[..left * 6]);
}

/// Writes the JSON value of `code` for a slot rendered by `render`.
pub(crate) fn render(out: &mut Vec<u8>, render: Render, user: &User, code: u32) {
    match code {
        NULL => return out.extend_from_slice(b"null"),
        EMPTY_OBJECT => return out.extend_from_slice(b"{}"),
        _ => {}
    }
    let as_string = code & AS_STRING != 0;
    let code = code & CODE_MASK;
    match render {
        Render::Email => push_email(out, user, code),
        Render::Name => {
            out.push(b'"');
            out.extend_from_slice(FIRST_NAMES[user.first as usize].0.as_bytes());
            out.push(b' ');
            out.extend_from_slice(LAST_NAMES[user.last as usize].0.as_bytes());
            out.push(b'"');
        }
        Render::FirstName => push_quoted_ascii(out, FIRST_NAMES[user.first as usize].0),
        Render::LastName => push_quoted_ascii(out, LAST_NAMES[user.last as usize].0),
        Render::Phone => {
            out.extend_from_slice(b"\"+49 30 ");
            push_padded(out, u64::from(code), 7);
            out.push(b'"');
        }
        Render::Birthday => {
            // 1950-01-01 plus up to ~55 years, at midnight UTC.
            let days = i64::from(code % 20_000) - 7305;
            push_time(out, days * DAY_MS);
        }
        Render::CreatedAt => {
            // Up to ~3 years before the epoch, whole seconds.
            push_time(out, EPOCH_UNIX_MS - i64::from(code % 94_608_000) * 1000);
        }
        Render::Street => {
            out.push(b'"');
            out.extend_from_slice(STREETS[code as usize % STREETS.len()].as_bytes());
            out.push(b' ');
            push_u64(out, u64::from(code / 8 % 200 + 1));
            out.push(b'"');
        }
        Render::City => push_quoted_ascii(out, CITIES[code as usize % CITIES.len()].0),
        Render::State => push_quoted_ascii(out, CITIES[code as usize % CITIES.len()].1),
        Render::PostalCode => push_quoted_ascii(out, CITIES[code as usize % CITIES.len()].2),
        Render::Country => push_quoted_ascii(out, CITIES[code as usize % CITIES.len()].3),
        Render::CompanyName => push_quoted_ascii(out, COMPANIES[code as usize % COMPANIES.len()].0),
        Render::CompanyId => {
            out.extend_from_slice(b"\"cmp_");
            push_hex(out, u64::from(code), 6);
            out.push(b'"');
        }
        Render::Industry => push_quoted_ascii(out, COMPANIES[code as usize % COMPANIES.len()].1),
        Render::EmployeeCount => {
            push_u64(out, u64::from(COMPANIES[code as usize % COMPANIES.len()].2));
        }
        Render::OneOf(table) => push_table(out, table, code),
        Render::Integer => {
            if as_string {
                out.push(b'"');
                push_u64(out, u64::from(code));
                out.push(b'"');
            } else {
                push_u64(out, u64::from(code));
            }
        }
        Render::Flag => {
            let value: &[u8] = match (code & 1 == 1, as_string) {
                (true, false) => b"true",
                (false, false) => b"false",
                (true, true) => b"\"true\"",
                (false, true) => b"\"false\"",
            };
            out.extend_from_slice(value);
        }
        Render::LifetimeValue => {
            // Cents with exactly two decimals; the last digit is never 0, so
            // the number reads back as the same f64 and writes the same.
            let cents = code / 10 * 10 + 1 + code % 9;
            push_u64(out, u64::from(cents / 100));
            out.push(b'.');
            push_padded(out, u64::from(cents % 100), 2);
        }
        Render::Categories => push_list(out, code),
        Render::EdgeText => edge_string(out, code),
        Render::LongText => {
            out.push(b'"');
            push_lorem(out, 1000 + code % 1500);
            out.push(b'"');
        }
        Render::NumberString => {
            out.push(b'"');
            push_u64(out, u64::from(code % 100_000));
            out.push(b'"');
        }
        Render::BoolString => out.extend_from_slice(if code & 1 == 1 {
            b"\"true\""
        } else {
            b"\"false\""
        }),
        Render::Orders => {
            out.push(b'[');
            for i in 0..=code % 3 {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(b"{\"sku\":\"SKU-");
                push_u64(out, u64::from((code >> 2) % 1000 + i));
                out.extend_from_slice(b"\",\"qty\":");
                push_u64(out, u64::from(i + 1));
                out.extend_from_slice(b",\"price\":9.99}");
            }
            out.push(b']');
        }
        Render::EmptyList => out.extend_from_slice(b"[]"),
        Render::MixedList => out.extend_from_slice(b"[1,\"a\",true,null,{\"k\":\"v\"},[]]"),
        Render::BigNumber => out.extend_from_slice(match code % 6 {
            0 => b"9007199254740993",
            1 => b"-1",
            2 => b"0",
            3 => b"1.5",
            4 => b"1e300",
            _ => b"-12345678901234567890",
        }),
        Render::Tags => {
            out.push(b'[');
            for i in 0..=code % 3 {
                if i > 0 {
                    out.push(b',');
                }
                edge_string(out, code / 4 + i * 5);
            }
            out.push(b']');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_long_text_matches_the_word_by_word_writer() {
        for words in (0..400).chain([995, 1000, 1055, 1056, 1057, 2303, 2304, 2499]) {
            let mut want = Vec::new();
            for i in 0..words {
                want.extend_from_slice(if i % 3 == 0 { b"lorem " } else { b"ipsum " });
            }
            let mut got = Vec::new();
            push_lorem(&mut got, words);
            assert_eq!(got, want, "{words} words");
        }
    }

    #[test]
    fn table_strings_need_no_json_escaping() {
        let tables: Vec<&str> = FIRST_NAMES
            .iter()
            .chain(LAST_NAMES)
            .flat_map(|(a, b)| [*a, *b])
            .chain(CITIES.iter().flat_map(|c| [c.0, c.1, c.2, c.3]))
            .chain(COMPANIES.iter().flat_map(|c| [c.0, c.1]))
            .chain(STREETS.iter().copied())
            .chain(PLANS.iter().copied())
            .chain(CATEGORIES.iter().copied())
            .chain(LANGUAGES.iter().copied())
            .chain(CURRENCIES.iter().copied())
            .collect();
        for s in tables {
            assert_eq!(
                &*crate::json::quoted(s),
                format!("\"{s}\"").as_bytes(),
                "{s}"
            );
        }
        for (_, ascii) in FIRST_NAMES.iter().chain(LAST_NAMES) {
            assert!(ascii.bytes().all(|b| b.is_ascii_lowercase()), "{ascii}");
        }
    }

    #[test]
    fn category_lists_fit_in_a_code() {
        assert!(CATEGORIES.len() < 30);
    }
}
