//! The string formats Ajv checks for Segment (ajv-formats **2.1.1**, the version
//! `@segment/actions-core` resolves, "full" mode; plus Segment's own `text` and `date-like`),
//! written by hand from their definitions (`ajv-formats/dist/formats.js` 2.1.1,
//! `packages/core/src/schema-validation.ts`). 2.1.1 differs from 3.x: no `iso-time` or
//! `iso-date-time` (unknown formats), `ipv4` octets may have leading zeros, and `time` and
//! `date-time` accept a missing time zone and do no time-zone range or leap-second arithmetic.
//!
//! ajv-formats' regular expressions are ASCII and case-insensitive (`/i`); the checks below
//! compare ASCII only, so no Unicode case folding creeps in (JavaScript's non-Unicode `/i`
//! does not match `K` (U+212A) with `k`, and neither do these).

use super::number::{is_js_space, js_to_number};
use crate::value::number_to_string;

/// A format a field can name: the ones Ajv knows in Segment's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// Segment's `datetime` fields: what dayjs can read.
    DateLike,
    /// Segment's `text` fields: always valid.
    Text,
    /// ajv-formats' `password`: always valid.
    Password,
    /// ajv-formats' `binary`: always valid.
    Binary,
    /// RFC 3339 full-date with real month lengths.
    Date,
    /// `hh:mm:ss[.f][zone]` (the zone is optional in 2.1.1, see [`time`]).
    Time,
    /// A `date`, `T`/`t`/white space, a `time`.
    DateTime,
    /// ISO 8601 duration.
    Duration,
    /// ajv-formats' full email pattern.
    Email,
    /// RFC 1034 host name.
    Hostname,
    /// Dotted-quad IPv4 (leading zeros allowed in 2.1.1).
    Ipv4,
    /// IPv6 (RFC 4291 text forms, embedded IPv4 without leading zeros).
    Ipv6,
    /// Full URI (ajv-formats' RFC 3986 pattern, scheme required).
    Uri,
    /// URI reference (scheme optional; ajv-formats' pattern also admits `"`).
    UriReference,
    /// RFC 4122 UUID, optional `urn:uuid:`.
    Uuid,
    /// RFC 6901 JSON pointer.
    JsonPointer,
    /// Relative JSON pointer.
    RelativeJsonPointer,
    /// Base64.
    Byte,
    /// Number formats (they apply to numbers only).
    Int32,
    /// Any integer.
    Int64,
    /// Any number.
    Float,
    /// Any number.
    Double,
}

/// ajv-formats' formats this port does not check (a field naming one is refused, rather than
/// checked wrongly): `uri-template`, `url` (a regular expression with look-aheads and Unicode
/// ranges), `json-pointer-uri-fragment`, and `regex` (it needs JavaScript's own `RegExp`
/// parser). No Segment destination's field uses them.
pub(crate) const UNSUPPORTED: [&str; 4] =
    ["uri-template", "url", "regex", "json-pointer-uri-fragment"];

impl Format {
    /// The format named `name`, if Ajv knows it and this port checks it.
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "date-like" => Self::DateLike,
            "text" => Self::Text,
            "password" => Self::Password,
            "binary" => Self::Binary,
            "date" => Self::Date,
            "time" => Self::Time,
            "date-time" => Self::DateTime,
            "duration" => Self::Duration,
            "email" => Self::Email,
            "hostname" => Self::Hostname,
            "ipv4" => Self::Ipv4,
            "ipv6" => Self::Ipv6,
            "uri" => Self::Uri,
            "uri-reference" => Self::UriReference,
            "uuid" => Self::Uuid,
            "json-pointer" => Self::JsonPointer,
            "relative-json-pointer" => Self::RelativeJsonPointer,
            "byte" => Self::Byte,
            "int32" => Self::Int32,
            "int64" => Self::Int64,
            "float" => Self::Float,
            "double" => Self::Double,
            _ => return None,
        })
    }

    /// The name as written in the schema.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::DateLike => "date-like",
            Self::Text => "text",
            Self::Password => "password",
            Self::Binary => "binary",
            Self::Date => "date",
            Self::Time => "time",
            Self::DateTime => "date-time",
            Self::Duration => "duration",
            Self::Email => "email",
            Self::Hostname => "hostname",
            Self::Ipv4 => "ipv4",
            Self::Ipv6 => "ipv6",
            Self::Uri => "uri",
            Self::UriReference => "uri-reference",
            Self::Uuid => "uuid",
            Self::JsonPointer => "json-pointer",
            Self::RelativeJsonPointer => "relative-json-pointer",
            Self::Byte => "byte",
            Self::Int32 => "int32",
            Self::Int64 => "int64",
            Self::Float => "float",
            Self::Double => "double",
        }
    }

    /// ajv-human-errors' label for the format (`formatLabels`: `date-time`, `time`, `date`,
    /// `email`, `hostname`, `ipv4`, `ipv6`, `uri`, `uri-reference`, `uri-template`,
    /// `json-pointer`, `relative-json-pointer`, `regex`), else its name.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::DateTime => "date and time",
            Self::Email => "email address",
            Self::Ipv4 => "IPv4 address",
            Self::Ipv6 => "IPv6 address",
            Self::Uri => "URI",
            Self::UriReference => "URI Reference",
            Self::JsonPointer => "JSON Pointer",
            Self::RelativeJsonPointer => "relative JSON Pointer",
            other => other.name(),
        }
    }

    /// Whether the format applies to numbers (else to strings only).
    pub(crate) fn for_numbers(self) -> bool {
        matches!(self, Self::Int32 | Self::Int64 | Self::Float | Self::Double)
    }

    /// Whether the number `n` passes (number formats only).
    pub(crate) fn check_number(self, n: f64) -> bool {
        let integer = n.is_finite() && n.fract() == 0.0;
        match self {
            Self::Int32 => integer && (-2_147_483_648.0..=2_147_483_647.0).contains(&n),
            Self::Int64 => integer,
            _ => true,
        }
    }

    /// Whether the string `s` passes (string formats only).
    pub(crate) fn check_string(self, s: &str) -> bool {
        match self {
            Self::Text | Self::Password | Self::Binary => true,
            Self::Int32 | Self::Int64 | Self::Float | Self::Double => true,
            Self::DateLike => date_like(s),
            Self::Date => full_date(s),
            Self::Time => time(s),
            Self::DateTime => date_time(s),
            Self::Duration => duration(s),
            Self::Email => email(s),
            Self::Hostname => hostname(s),
            Self::Ipv4 => ipv4(s),
            Self::Ipv6 => ipv6(s, false),
            Self::Uri => uri(s),
            Self::UriReference => uri_reference(s),
            Self::Uuid => uuid(s),
            Self::JsonPointer => json_pointer(s),
            Self::RelativeJsonPointer => relative_json_pointer(s),
            Self::Byte => byte(s),
        }
    }
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn num(s: &str) -> u32 {
    s.bytes().fold(0u32, |n, b| {
        n.saturating_mul(10).saturating_add(u32::from(b - b'0'))
    })
}

/// `date`: `^(\d\d\d\d)-(\d\d)-(\d\d)$` and a real day of a real month (leap years counted).
fn full_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let (y, m, d) = (&s[0..4], &s[5..7], &s[8..10]);
    if !(digits(y) && digits(m) && digits(d)) {
        return false;
    }
    let (year, month, day) = (num(y), num(m), num(d));
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = [
        0,
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    (1..=12).contains(&month) && day >= 1 && day <= days[month as usize]
}

/// `time` (2.1.1): `^(\d\d):(\d\d):(\d\d)(\.\d+)?(z|[+-]\d\d(?::?\d\d)?)?$/i`, then hour ≤ 23,
/// minute ≤ 59 and second ≤ 59, or exactly `23:59:60`. Its `withTimeZone` check compares the
/// zone group with `""`, and a missing group is `undefined`, so a missing zone passes even in
/// `date-time`.
fn time(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 8 || b[2] != b':' || b[5] != b':' || !s.is_char_boundary(8) {
        return false;
    }
    let (h, m, sec) = (&s[0..2], &s[3..5], &s[6..8]);
    if !digits(h) || !digits(m) || !digits(sec) {
        return false;
    }
    let mut rest = &s[8..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    let zone_ok = match rest.as_bytes() {
        [] | [b'z' | b'Z'] => true,
        [b'+' | b'-', zone @ ..] => match zone {
            [h1, h2] => h1.is_ascii_digit() && h2.is_ascii_digit(),
            [h1, h2, m1, m2] | [h1, h2, b':', m1, m2] => {
                [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit())
            }
            _ => false,
        },
        _ => false,
    };
    let (hour, minute, second) = (num(h), num(m), num(sec));
    zone_ok
        && ((hour <= 23 && minute <= 59 && second <= 59) || (hour, minute, second) == (23, 59, 60))
}

/// `date-time`: split at `t`, `T` or a JavaScript white-space character into exactly two
/// parts, a `date` and a `time`.
fn date_time(s: &str) -> bool {
    let mut parts = s.split(|c: char| c == 't' || c == 'T' || is_js_space(c));
    match (parts.next(), parts.next(), parts.next()) {
        (Some(d), Some(t), None) => full_date(d) && time(t),
        _ => false,
    }
}

/// `duration`: `^P(?!$)((\d+Y)?(\d+M)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?|(\d+W)?)$`.
fn duration(s: &str) -> bool {
    let Some(body) = s.strip_prefix('P') else {
        return false;
    };
    if body.is_empty() {
        return false;
    }
    if let Some(weeks) = body.strip_suffix('W') {
        return digits(weeks);
    }
    let (date, time) = match body.find('T') {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    let units_in_order = |text: &str, units: &[u8]| -> bool {
        let mut next_unit = 0;
        let mut rest = text;
        while !rest.is_empty() {
            let end = rest.bytes().take_while(u8::is_ascii_digit).count();
            if end == 0 || end == rest.len() {
                return false;
            }
            let unit = rest.as_bytes()[end];
            match units[next_unit..].iter().position(|&u| u == unit) {
                Some(p) => next_unit += p + 1,
                None => return false,
            }
            rest = &rest[end + 1..];
        }
        true
    };
    if !units_in_order(date, b"YMD") {
        return false;
    }
    match time {
        None => true,
        Some(t) => t.starts_with(|c: char| c.is_ascii_digit()) && units_in_order(t, b"HMS"),
    }
}

fn is_email_local(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~-".contains(&b)
}

/// `email` (full): dot-separated atoms of letters, digits and ``!#$%&'*+/=?^_`{|}~-``, `@`,
/// then at least two labels of letters, digits and inner hyphens.
fn email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let local_ok = local
        .split('.')
        .all(|atom| !atom.is_empty() && atom.bytes().all(is_email_local));
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        let b = l.as_bytes();
        !b.is_empty()
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
    };
    local_ok && labels.len() >= 2 && labels.iter().all(label_ok)
}

/// `hostname`: at most 253 characters (plus an optional final dot), labels of 1 to 63 letters,
/// digits and inner hyphens.
fn hostname(s: &str) -> bool {
    let body = s.strip_suffix('.').unwrap_or(s);
    // `(?=.{1,253}\.?$)`: `.` does not match line terminators.
    let length_ok = (1..=253).contains(&body.chars().count())
        && !body.contains(['\n', '\r', '\u{2028}', '\u{2029}']);
    length_ok
        && body.split('.').all(|l| {
            let b = l.as_bytes();
            (1..=63).contains(&b.len())
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        })
}

/// `ipv4` (2.1.1): `^(?:(?:25[0-5]|2[0-4]\d|[01]?\d\d?)\.){3}(?:25[0-5]|2[0-4]\d|[01]?\d\d?)$`:
/// four octets of one to three digits up to 255, leading zeros allowed.
fn ipv4(s: &str) -> bool {
    octets(s, true)
}

/// Four dot-separated decimal octets up to 255; with `leading_zeros` false, written without
/// leading zeros (`25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d`).
fn octets(s: &str, leading_zeros: bool) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 4
        && parts.iter().all(|p| {
            digits(p)
                && p.len() <= 3
                && (leading_zeros || p.len() == 1 || !p.starts_with('0'))
                && num(p) <= 255
        })
}

/// An IPv6 address as both of ajv-formats' patterns accept it (RFC 4291's text forms): without
/// `::`, eight groups of 1–4 hex digits, or six and an IPv4 address; with one `::`, at most
/// seven groups in all (an IPv4 address counts two, and may only end the address). The IPv4
/// octets have no leading zeros in the `ipv6` format, and may have them inside a URI
/// (`[01]?\d\d?`).
fn ipv6(s: &str, leading_zero_octets: bool) -> bool {
    let h16 = |g: &str| (1..=4).contains(&g.len()) && g.bytes().all(|b| b.is_ascii_hexdigit());
    let v4 = |g: &str| octets(g, leading_zero_octets);
    let units = |part: &str, v4_last: bool| -> Option<usize> {
        if part.is_empty() {
            return Some(0);
        }
        let groups: Vec<&str> = part.split(':').collect();
        let mut n = 0;
        for (i, g) in groups.iter().enumerate() {
            if h16(g) {
                n += 1;
            } else if v4_last && i + 1 == groups.len() && v4(g) {
                n += 2;
            } else {
                return None;
            }
        }
        Some(n)
    };
    match s.find("::") {
        None => units(s, true) == Some(8),
        Some(at) => {
            let (left, right) = (&s[..at], &s[at + 2..]);
            if right.contains("::") {
                return false;
            }
            matches!((units(left, false), units(right, true)), (Some(l), Some(r)) if l + r <= 7)
        }
    }
}

/// The character classes of ajv-formats' URI patterns; `uri-reference`'s also admit `"`
/// (except in the user info).
#[derive(Clone, Copy)]
struct UriClasses {
    quote: bool,
}

impl UriClasses {
    /// unreserved and sub-delims: `[a-z0-9\-._~!$&'()*+,;=]`.
    fn base(self, b: u8) -> bool {
        b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=".contains(&b)
    }
    fn userinfo(self, b: u8) -> bool {
        self.base(b) || b == b':'
    }
    fn reg_name(self, b: u8) -> bool {
        self.base(b) || (self.quote && b == b'"')
    }
    fn pchar(self, b: u8) -> bool {
        self.reg_name(b) || b == b':' || b == b'@'
    }
    fn query(self, b: u8) -> bool {
        self.pchar(b) || b == b'/' || b == b'?'
    }
}

/// Whether every character of `s` is in `class` or a `%` and two hex digits.
fn uri_chars(s: &str, class: impl Fn(u8) -> bool) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
            {
                return false;
            }
            i += 3;
        } else if class(b[i]) {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

/// The authority: `(userinfo@)? (\[IP-literal\] | IPv4 | reg-name) (:port)?`.
fn authority(auth: &str, c: UriClasses) -> bool {
    let (userinfo, hostport) = match auth.find('@') {
        Some(at) => (Some(&auth[..at]), &auth[at + 1..]),
        None => (None, auth),
    };
    if userinfo.is_some_and(|u| !uri_chars(u, |b| c.userinfo(b))) {
        return false;
    }
    let port_ok = |p: &str| {
        p.is_empty()
            || p.strip_prefix(':')
                .is_some_and(|d| d.bytes().all(|b| b.is_ascii_digit()))
    };
    if let Some(literal) = hostport.strip_prefix('[') {
        let Some(end) = literal.find(']') else {
            return false;
        };
        let inner = &literal[..end];
        let future = |v: &str| {
            let Some(rest) = v.strip_prefix(['v', 'V']) else {
                return false;
            };
            let Some((hex, tail)) = rest.split_once('.') else {
                return false;
            };
            !hex.is_empty()
                && hex.bytes().all(|b| b.is_ascii_hexdigit())
                && !tail.is_empty()
                && tail.bytes().all(|b| c.base(b) || b == b':')
        };
        return (ipv6(inner, true) || future(inner)) && port_ok(&literal[end + 1..]);
    }
    let (host, port) = match hostport.find(':') {
        Some(at) => hostport.split_at(at),
        None => (hostport, ""),
    };
    uri_chars(host, |b| c.reg_name(b)) && port_ok(port)
}

/// The part before `?` and `#`: `//authority path-abempty`, `/path-abempty` (also read with an
/// empty authority), `path-absolute`, or `path-rootless`; empty only when `optional`.
fn hier(h: &str, c: UriClasses, optional: bool) -> bool {
    let path_chars = |p: &str| uri_chars(p, |b| c.pchar(b) || b == b'/');
    if h.is_empty() {
        return optional;
    }
    for prefix in ["//", "/"] {
        if let Some(rest) = h.strip_prefix(prefix) {
            let (auth, path) = match rest.find('/') {
                Some(at) => rest.split_at(at),
                None => (rest, ""),
            };
            if authority(auth, c) && path_chars(path) {
                return true;
            }
        }
    }
    match h.strip_prefix('/') {
        Some(rest) => rest.is_empty() || (!rest.starts_with('/') && path_chars(rest)),
        None => path_chars(h),
    }
}

/// Query and fragment: `(\?[pchar/?]*)?(#[pchar/?]*)?` after `hier`.
fn hier_query_fragment(rest: &str, c: UriClasses, optional: bool) -> bool {
    let (before, fragment) = match rest.find('#') {
        Some(at) => (&rest[..at], Some(&rest[at + 1..])),
        None => (rest, None),
    };
    let (h, query) = match before.find('?') {
        Some(at) => (&before[..at], Some(&before[at + 1..])),
        None => (before, None),
    };
    hier(h, c, optional)
        && query.is_none_or(|q| uri_chars(q, |b| c.query(b)))
        && fragment.is_none_or(|f| uri_chars(f, |b| c.query(b)))
}

/// `scheme:` (`[a-z][a-z0-9+\-.]*:`), split off.
fn scheme(s: &str) -> Option<&str> {
    let (name, rest) = s.split_once(':')?;
    let b = name.as_bytes();
    (!b.is_empty()
        && b[0].is_ascii_alphabetic()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"+-.".contains(c)))
    .then_some(rest)
}

/// `uri`: a `/` or `:` somewhere, a scheme, then the rest of ajv-formats' `URI` pattern.
fn uri(s: &str) -> bool {
    let c = UriClasses { quote: false };
    s.contains(['/', ':']) && scheme(s).is_some_and(|rest| hier_query_fragment(rest, c, false))
}

/// `uri-reference`: an optional scheme, then optional hier part, query and fragment.
fn uri_reference(s: &str) -> bool {
    let c = UriClasses { quote: true };
    scheme(s).is_some_and(|rest| hier_query_fragment(rest, c, true))
        || hier_query_fragment(s, c, true)
}

/// `uuid`: `^(?:urn:uuid:)?[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$/i`.
fn uuid(s: &str) -> bool {
    let body = match s.get(..9) {
        Some(p) if p.eq_ignore_ascii_case("urn:uuid:") => &s[9..],
        _ => s,
    };
    let groups: Vec<&str> = body.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The reference tokens of a JSON pointer: `~` only as `~0` or `~1`.
fn pointer_tokens(s: &str) -> bool {
    let b = s.as_bytes();
    b.iter()
        .enumerate()
        .all(|(i, &c)| c != b'~' || matches!(b.get(i + 1), Some(b'0' | b'1')))
}

/// `json-pointer`: empty, or `/`-prefixed tokens.
fn json_pointer(s: &str) -> bool {
    (s.is_empty() || s.starts_with('/')) && pointer_tokens(s)
}

/// `relative-json-pointer`: a non-negative integer without leading zeros, then `#` or a JSON
/// pointer.
fn relative_json_pointer(s: &str) -> bool {
    let end = s.bytes().take_while(u8::is_ascii_digit).count();
    let (n, rest) = s.split_at(end);
    !n.is_empty() && (n == "0" || !n.starts_with('0')) && (rest == "#" || json_pointer(rest))
}

/// `byte`: `^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/gm`. The `m`
/// flag makes `^` and `$` match at line breaks, so any one line (between line terminators,
/// the empty ones included) that is valid base64 makes the whole string pass.
fn byte(s: &str) -> bool {
    s.split(['\n', '\r', '\u{2028}', '\u{2029}']).any(|line| {
        let b = line.as_bytes();
        let alphabet = |c: &u8| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/';
        if b.len() % 4 != 0 {
            return false;
        }
        let pad = b.iter().rev().take_while(|c| **c == b'=').count();
        pad <= 2 && b[..b.len() - pad].iter().all(alphabet)
    })
}

/// Segment's `date-like`: a string that `String(Number(s)) === s` is read as Unix seconds
/// (`dayjs.unix`), valid when the milliseconds are a valid JavaScript time value; anything
/// else is valid when `dayjs(s)` is.
pub(crate) fn date_like(s: &str) -> bool {
    let n = js_to_number(s);
    if number_to_string(n) == s && !(n == 0.0 && s.starts_with('-')) {
        return time_value_valid(n * 1000.0);
    }
    dayjs_valid(s)
}

/// `new Date(ms)` is valid: finite and within ±8.64e15 ms.
fn time_value_valid(ms: f64) -> bool {
    ms.is_finite() && ms.abs() <= 8.64e15
}

/// `dayjs(s).isValid()` for a string: dayjs's own pattern (when the string does not end in
/// `Z`) gives a valid date, else `new Date(s)` decides.
fn dayjs_valid(s: &str) -> bool {
    if !s.ends_with(['z', 'Z']) && dayjs_pattern(s) {
        return true;
    }
    js_date_valid(s)
}

/// dayjs's `REGEX_PARSE`:
/// `^(\d{4})[-/]?(\d{1,2})?[-/]?(\d{0,2})[Tt\s]*(\d{1,2})?:?(\d{1,2})?:?(\d{1,2})?[.:]?(\d+)?$`.
/// Every piece is one character class repeated, so a set of reachable positions decides it.
fn dayjs_pattern(s: &str) -> bool {
    #[derive(Clone, Copy)]
    enum Class {
        Digit,
        DashSlash,
        Sep,
        Colon,
        DotColon,
    }
    let matches = |class: Class, c: char| match class {
        Class::Digit => c.is_ascii_digit(),
        Class::DashSlash => c == '-' || c == '/',
        Class::Sep => c == 'T' || c == 't' || is_js_space(c),
        Class::Colon => c == ':',
        Class::DotColon => c == '.' || c == ':',
    };
    let pieces: [(Class, usize, usize); 13] = [
        (Class::Digit, 4, 4),
        (Class::DashSlash, 0, 1),
        (Class::Digit, 0, 2),
        (Class::DashSlash, 0, 1),
        (Class::Digit, 0, 2),
        (Class::Sep, 0, usize::MAX),
        (Class::Digit, 0, 2),
        (Class::Colon, 0, 1),
        (Class::Digit, 0, 2),
        (Class::Colon, 0, 1),
        (Class::Digit, 0, 2),
        (Class::DotColon, 0, 1),
        (Class::Digit, 0, usize::MAX),
    ];
    let chars: Vec<char> = s.chars().collect();
    let mut reachable = vec![false; chars.len() + 1];
    reachable[0] = true;
    for (class, min, max) in pieces {
        let mut next = vec![false; chars.len() + 1];
        for (start, _) in reachable.iter().enumerate().filter(|(_, r)| **r) {
            let mut count = 0;
            let mut at = start;
            loop {
                if count >= min {
                    next[at] = true;
                }
                if count == max || at == chars.len() || !matches(class, chars[at]) {
                    break;
                }
                count += 1;
                at += 1;
            }
        }
        reachable = next;
    }
    reachable[chars.len()]
}

/// Whether `new Date(s)` is a valid date in V8 (`src/date/dateparser-inl.h`): the ES5 date-time
/// format first, and whatever it leaves to V8's legacy parser, then the date's time value within
/// ±8.64e15 ms. A date without a time zone is read as UTC (Node's zone where Segment runs is
/// not known; only dates at the very edge of the range could differ).
pub(crate) fn js_date_valid(s: &str) -> bool {
    v8_date::parse(s).is_some_and(|ms| ms.abs() <= 8.64e15)
}

/// V8's date parser, as the token machine it is.
mod v8_date {
    use super::is_js_space;

    const NONE: i64 = i64::MIN;

    #[derive(Clone, Copy, PartialEq, Debug)]
    enum Token {
        /// A run of digits: its value (the first nine significant digits) and its length.
        Number(i64, usize),
        /// `:`, `-`, `+`, `.` or `)`.
        Symbol(char),
        /// A word (letters and everything from `A` up): its keyword, and its length.
        Keyword(Keyword, usize),
        WhiteSpace,
        /// Anything else (a parenthesised comment included).
        Unknown,
        End,
    }

    #[derive(Clone, Copy, PartialEq, Debug)]
    enum Keyword {
        Month(i64),
        AmPm(i64),
        Zone(i64),
        TimeSeparator,
        Invalid,
    }

    struct Scanner {
        chars: Vec<char>,
        at: usize,
        next: Token,
    }

    impl Scanner {
        fn new(s: &str) -> Self {
            let mut scanner = Self {
                chars: s.chars().collect(),
                at: 0,
                next: Token::End,
            };
            scanner.next = scanner.scan();
            scanner
        }

        fn peek(&self) -> Token {
            self.next
        }

        fn advance(&mut self) -> Token {
            let t = self.next;
            self.next = self.scan();
            t
        }

        fn skip_symbol(&mut self, c: char) -> bool {
            if self.next == Token::Symbol(c) {
                self.advance();
                return true;
            }
            false
        }

        fn ch(&self) -> Option<char> {
            self.chars.get(self.at).copied()
        }

        fn scan(&mut self) -> Token {
            let Some(c) = self.ch() else {
                return Token::End;
            };
            if c.is_ascii_digit() {
                let start = self.at;
                while self.ch() == Some('0') {
                    self.at += 1;
                }
                let (mut n, mut i) = (0i64, 0);
                while let Some(d) = self.ch().and_then(|c| c.to_digit(10)) {
                    if i < 9 {
                        n = n * 10 + i64::from(d);
                    }
                    i += 1;
                    self.at += 1;
                }
                return Token::Number(n, self.at - start);
            }
            if matches!(c, ':' | '-' | '+' | '.' | ')') {
                self.at += 1;
                return Token::Symbol(c);
            }
            if c >= 'A' && !is_js_space(c) {
                let mut prefix = [0u32; 3];
                let mut len = 0;
                while let Some(c) = self.ch().filter(|c| *c >= 'A' && !is_js_space(*c)) {
                    if len < 3 {
                        prefix[len] = u32::from(c) | 0x20;
                    }
                    len += 1;
                    self.at += 1;
                }
                return Token::Keyword(keyword(prefix, len), len);
            }
            if is_js_space(c) {
                self.at += 1;
                return Token::WhiteSpace;
            }
            if c == '(' {
                let mut balance = 0;
                loop {
                    match self.ch() {
                        Some(')') => balance -= 1,
                        Some('(') => balance += 1,
                        _ => {}
                    }
                    self.at += 1;
                    if balance <= 0 || self.ch().is_none() {
                        break;
                    }
                }
                return Token::Unknown;
            }
            self.at += 1;
            Token::Unknown
        }
    }

    /// V8's `KeywordTable::Lookup`: the first three characters (lowercased by `| 0x20`); a
    /// longer word matches only a month name.
    fn keyword(prefix: [u32; 3], len: usize) -> Keyword {
        const TABLE: [(&str, Keyword); 29] = [
            ("jan", Keyword::Month(1)),
            ("feb", Keyword::Month(2)),
            ("mar", Keyword::Month(3)),
            ("apr", Keyword::Month(4)),
            ("may", Keyword::Month(5)),
            ("jun", Keyword::Month(6)),
            ("jul", Keyword::Month(7)),
            ("aug", Keyword::Month(8)),
            ("sep", Keyword::Month(9)),
            ("oct", Keyword::Month(10)),
            ("nov", Keyword::Month(11)),
            ("dec", Keyword::Month(12)),
            ("am", Keyword::AmPm(0)),
            ("pm", Keyword::AmPm(12)),
            ("ut", Keyword::Zone(0)),
            ("utc", Keyword::Zone(0)),
            ("z", Keyword::Zone(0)),
            ("gmt", Keyword::Zone(0)),
            ("cdt", Keyword::Zone(-5)),
            ("cst", Keyword::Zone(-6)),
            ("edt", Keyword::Zone(-4)),
            ("est", Keyword::Zone(-5)),
            ("mdt", Keyword::Zone(-6)),
            ("mst", Keyword::Zone(-7)),
            ("pdt", Keyword::Zone(-7)),
            ("pst", Keyword::Zone(-8)),
            ("t", Keyword::TimeSeparator),
            ("", Keyword::Invalid),
            ("", Keyword::Invalid),
        ];
        for (word, kw) in TABLE {
            if word.is_empty() {
                break;
            }
            let mut entry = [0u32; 3];
            for (slot, c) in entry.iter_mut().zip(word.chars()) {
                *slot = u32::from(c);
            }
            if entry == prefix && (len <= 3 || matches!(kw, Keyword::Month(_))) {
                return kw;
            }
        }
        Keyword::Invalid
    }

    fn between(x: i64, lo: i64, hi: i64) -> bool {
        (lo..=hi).contains(&x)
    }
    fn is_month(x: i64) -> bool {
        between(x, 1, 12)
    }
    fn is_day(x: i64) -> bool {
        between(x, 1, 31)
    }
    fn is_hour(x: i64) -> bool {
        between(x, 0, 23)
    }
    fn is_minute(x: i64) -> bool {
        between(x, 0, 59)
    }
    fn is_second(x: i64) -> bool {
        between(x, 0, 59)
    }
    fn is_millisecond(x: i64) -> bool {
        between(x, 0, 999)
    }

    #[derive(Default)]
    struct Day {
        comp: [i64; 3],
        index: usize,
        named_month: Option<i64>,
        iso: bool,
    }

    impl Day {
        fn add(&mut self, n: i64) -> bool {
            if self.index < 3 {
                self.comp[self.index] = n;
                self.index += 1;
                return true;
            }
            false
        }

        /// `DayComposer::Write`: (year, month 1–12, day).
        fn write(&mut self) -> Option<(i64, i64, i64)> {
            if self.index < 1 {
                return None;
            }
            while self.index < 3 {
                self.comp[self.index] = 1;
                self.index += 1;
            }
            let c = self.comp;
            let (mut year, month, day) = match self.named_month {
                None if self.iso || !is_day(c[0]) => (c[0], c[1], c[2]),
                None => (c[2], c[0], c[1]),
                Some(m) if !is_day(c[0]) => (c[0], m, c[1]),
                Some(m) => (c[1], m, c[0]),
            };
            if !self.iso {
                if between(year, 0, 49) {
                    year += 2000;
                } else if between(year, 50, 99) {
                    year += 1900;
                }
            }
            (is_month(month) && is_day(day)).then_some((year, month, day))
        }
    }

    struct Time {
        comp: [i64; 4],
        index: usize,
        hour_offset: Option<i64>,
    }

    impl Time {
        fn is_empty(&self) -> bool {
            self.index == 0
        }
        fn add(&mut self, n: i64) -> bool {
            if self.index < 4 {
                self.comp[self.index] = n;
                self.index += 1;
                return true;
            }
            false
        }
        fn add_final(&mut self, n: i64) -> bool {
            if !self.add(n) {
                return false;
            }
            self.index = 4;
            true
        }
        fn is_expecting(&self, n: i64) -> bool {
            (self.index == 1 && is_minute(n))
                || (self.index == 2 && is_second(n))
                || (self.index == 3 && is_millisecond(n))
        }
        /// `TimeComposer::Write`: milliseconds into the day.
        fn write(&mut self) -> Option<i64> {
            for slot in &mut self.comp[self.index..] {
                *slot = 0;
            }
            let [mut hour, minute, second, ms] = self.comp;
            if let Some(offset) = self.hour_offset {
                if !between(hour, 0, 12) {
                    return None;
                }
                hour = hour % 12 + offset;
            }
            let ok = is_hour(hour) && is_minute(minute) && is_second(second) && is_millisecond(ms);
            if !(ok || (hour == 24 && minute == 0 && second == 0 && ms == 0)) {
                return None;
            }
            Some(((hour * 60 + minute) * 60 + second) * 1000 + ms)
        }
    }

    struct Zone {
        sign: i64,
        hour: i64,
        minute: i64,
    }

    impl Zone {
        fn set(&mut self, offset_hours: i64) {
            self.sign = if offset_hours < 0 { -1 } else { 1 };
            self.hour = offset_hours * self.sign;
            self.minute = 0;
        }
        fn is_expecting(&self, n: i64) -> bool {
            self.hour != NONE && self.minute == NONE && is_minute(n)
        }
        fn is_utc(&self) -> bool {
            self.hour == 0 && self.minute == 0
        }
        fn is_empty(&self) -> bool {
            self.sign == NONE
        }
        /// The offset in ms (UTC when absent), or `None` when too large.
        fn write(&self) -> Option<i64> {
            if self.sign == NONE {
                return Some(0);
            }
            let hour = if self.hour == NONE { 0 } else { self.hour };
            let minute = if self.minute == NONE { 0 } else { self.minute };
            let seconds = hour
                .checked_mul(3600)?
                .checked_add(minute.checked_mul(60)?)?;
            if seconds > i64::from(i32::MAX >> 1) {
                return None;
            }
            Some(self.sign * seconds * 1000)
        }
    }

    /// `ParseES5DateTime`: `Err(())` for an invalid date, else the first token it leaves.
    fn es5(sc: &mut Scanner, day: &mut Day, time: &mut Time, tz: &mut Zone) -> Result<Token, ()> {
        match sc.peek() {
            Token::Symbol(sign @ ('+' | '-')) => {
                let sign_token = sc.advance();
                let Token::Number(year, 6) = sc.peek() else {
                    return Ok(sign_token);
                };
                // The year is consumed even when `-000000` then gives up.
                sc.advance();
                if sign == '-' && year == 0 {
                    return Ok(sign_token);
                }
                day.add(if sign == '-' { -year } else { year });
            }
            Token::Number(year, 4) => {
                sc.advance();
                day.add(year);
            }
            _ => return Ok(sc.advance()),
        }
        if sc.skip_symbol('-') {
            match sc.peek() {
                Token::Number(m, 2) if is_month(m) => {
                    sc.advance();
                    day.add(m);
                }
                _ => return Ok(sc.advance()),
            }
            if sc.skip_symbol('-') {
                match sc.peek() {
                    Token::Number(d, 2) if is_day(d) => {
                        sc.advance();
                        day.add(d);
                    }
                    _ => return Ok(sc.advance()),
                }
            }
        }
        if !matches!(sc.peek(), Token::Keyword(Keyword::TimeSeparator, _)) {
            if sc.peek() != Token::End {
                return Ok(sc.advance());
            }
        } else {
            sc.advance();
            let Token::Number(hour, 2) = sc.peek() else {
                return Err(());
            };
            if !between(hour, 0, 24) {
                return Err(());
            }
            let hour_is_24 = hour == 24;
            sc.advance();
            time.add(hour);
            if !sc.skip_symbol(':') {
                return Err(());
            }
            match sc.peek() {
                Token::Number(m, 2) if is_minute(m) && !(hour_is_24 && m > 0) => {
                    sc.advance();
                    time.add(m);
                }
                _ => return Err(()),
            }
            if sc.skip_symbol(':') {
                match sc.peek() {
                    Token::Number(s, 2) if is_second(s) && !(hour_is_24 && s > 0) => {
                        sc.advance();
                        time.add(s);
                    }
                    _ => return Err(()),
                }
                if sc.skip_symbol('.') {
                    match sc.peek() {
                        Token::Number(n, len) if !(hour_is_24 && n > 0) => {
                            sc.advance();
                            time.add(milliseconds(n, len));
                        }
                        _ => return Err(()),
                    }
                }
            }
            match sc.peek() {
                Token::Keyword(Keyword::Zone(0), 1) => {
                    sc.advance();
                    tz.set(0);
                }
                Token::Symbol(sign @ ('+' | '-')) => {
                    sc.advance();
                    tz.sign = if sign == '+' { 1 } else { -1 };
                    match sc.peek() {
                        Token::Number(hm, 4) => {
                            sc.advance();
                            if !is_hour(hm / 100) || !is_minute(hm % 100) {
                                return Err(());
                            }
                            tz.hour = hm / 100;
                            tz.minute = hm % 100;
                        }
                        Token::Number(h, 2) if is_hour(h) => {
                            sc.advance();
                            tz.hour = h;
                            if !sc.skip_symbol(':') {
                                return Err(());
                            }
                            match sc.peek() {
                                Token::Number(m, 2) if is_minute(m) => {
                                    sc.advance();
                                    tz.minute = m;
                                }
                                _ => return Err(()),
                            }
                        }
                        _ => return Err(()),
                    }
                }
                _ => {}
            }
            if sc.peek() != Token::End {
                return Err(());
            }
        }
        if tz.is_empty() && time.is_empty() {
            tz.set(0);
        }
        day.iso = true;
        Ok(Token::End)
    }

    /// `ReadMilliseconds`: the first three significant digits.
    fn milliseconds(n: i64, len: usize) -> i64 {
        match len {
            1 => n * 100,
            2 => n * 10,
            3 => n,
            _ => {
                let len = len.min(9);
                n / 10i64.pow(u32::try_from(len - 3).unwrap_or(0))
            }
        }
    }

    /// Days from 1970-01-01 to the given civil date (proleptic Gregorian).
    fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
        let y = if month <= 2 { year - 1 } else { year };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (month + 9) % 12;
        let doy = (153 * mp + 2) / 5 + day - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The time value in ms, or `None` when V8 finds no date.
    pub(super) fn parse(s: &str) -> Option<f64> {
        let mut sc = Scanner::new(s);
        let mut day = Day::default();
        let mut time = Time {
            comp: [0; 4],
            index: 0,
            hour_offset: None,
        };
        let mut tz = Zone {
            sign: NONE,
            hour: NONE,
            minute: NONE,
        };
        let mut token = es5(&mut sc, &mut day, &mut time, &mut tz).ok()?;
        let mut has_read_number = day.index > 0;
        while token != Token::End {
            match token {
                Token::Number(n, _) => {
                    has_read_number = true;
                    if sc.skip_symbol(':') {
                        if sc.skip_symbol(':') {
                            if !time.is_empty() {
                                return None;
                            }
                            time.add(n);
                            time.add(0);
                        } else {
                            if !time.add(n) {
                                return None;
                            }
                            if sc.peek() == Token::Symbol('.') {
                                sc.advance();
                            }
                        }
                    } else if sc.skip_symbol('.') && time.is_expecting(n) {
                        time.add(n);
                        let Token::Number(ms, len) = sc.peek() else {
                            return None;
                        };
                        sc.advance();
                        time.add_final(milliseconds(ms, len));
                    } else if tz.is_expecting(n) {
                        tz.minute = n;
                    } else if time.is_expecting(n) {
                        time.add_final(n);
                        match sc.peek() {
                            Token::End
                            | Token::WhiteSpace
                            | Token::Keyword(Keyword::Zone(0), 1)
                            | Token::Symbol('+' | '-') => {}
                            _ => return None,
                        }
                    } else {
                        if !day.add(n) {
                            return None;
                        }
                        sc.skip_symbol('-');
                    }
                }
                Token::Keyword(kw, _) => match kw {
                    Keyword::AmPm(offset) if !time.is_empty() => time.hour_offset = Some(offset),
                    Keyword::Month(m) => {
                        day.named_month = Some(m);
                        sc.skip_symbol('-');
                    }
                    Keyword::Zone(offset) if has_read_number => tz.set(offset),
                    _ => {
                        if has_read_number || matches!(sc.peek(), Token::Number(..)) {
                            return None;
                        }
                    }
                },
                Token::Symbol(sign @ ('+' | '-')) if tz.is_utc() || !time.is_empty() => {
                    tz.sign = if sign == '+' { 1 } else { -1 };
                    let (mut n, mut len) = (0, 0);
                    if let Token::Number(v, l) = sc.peek() {
                        sc.advance();
                        n = v;
                        len = l;
                    }
                    has_read_number = true;
                    if sc.peek() == Token::Symbol(':') {
                        tz.hour = n;
                        tz.minute = NONE;
                    } else if len == 1 || len == 2 {
                        tz.hour = n;
                        tz.minute = 0;
                    } else if len == 3 || len == 4 {
                        tz.hour = n / 100;
                        tz.minute = n % 100;
                    } else {
                        return None;
                    }
                }
                Token::Symbol('+' | '-' | ')') if has_read_number => return None,
                _ => {}
            }
            token = sc.advance();
        }
        let (year, month, date) = day.write()?;
        let ms_in_day = time.write()?;
        let offset = tz.write()?;
        // MakeDay / MakeDate; the month is in range, so no carry into the year.
        let days = days_from_civil(year, month, 1) + date - 1;
        #[allow(clippy::cast_precision_loss)]
        let ms = days as f64 * 86_400_000.0 + ms_in_day as f64 - offset as f64;
        Some(ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_like_reads_decimal_strings_as_unix_seconds_and_dates_as_dayjs_does() {
        for ok in [
            "2024-03-01",
            "2024-03-01T10:20:30Z",
            "2024-03-01T10:20:30.123+02:00",
            "20240301",
            "2024/3/1 10:20",
            "1700000000",
            "1700000000000",
            "-1",
            "1.5",
            "8640000000000",
            "Tue, 01 Dec 2026 13:33:51 GMT",
            "December 1, 2026",
            "12/01/2026",
        ] {
            assert!(date_like(ok), "{ok:?}");
        }
        for bad in [
            "not a date",
            "",
            "1e+21",
            "8640000000001",
            "Infinity",
            "NaN",
            "2024-13-01T00:00:00Z",
            "13/45/2026",
        ] {
            assert!(!date_like(bad), "{bad:?}");
        }
    }

    #[test]
    fn new_date_follows_v8s_parser_as_node_20_gives_it() {
        // Each as `String(new Date(s))` gave it under Node 20 (valid: not "Invalid Date").
        for (s, valid) in [
            ("Dec 25, 2024", true),
            ("a 1", true),
            ("foo 2020", true),
            ("x/1", true),
            ("::1", true),
            ("-0", true),
            ("/a~1", false),
            ("10:00:00Z", false),
            ("1.2.3.4", false),
            ("open", false),
            ("P1D", false),
            ("aGk=", false),
            ("a@b.co", false),
        ] {
            assert_eq!(js_date_valid(s), valid, "{s:?}");
        }
    }

    #[test]
    fn rfc3339_formats_check_ranges_as_ajv_formats_2_1_1_does() {
        assert!(Format::DateTime.check_string("2024-02-29T23:59:60Z"));
        assert!(Format::DateTime.check_string("2024-02-29t10:00:00.5+01:00"));
        assert!(Format::DateTime.check_string("2024-02-29 10:00:00z"));
        assert!(!Format::DateTime.check_string("2023-02-29T10:00:00Z"));
        // The zone is not required, and not range-checked, in 2.1.1.
        assert!(Format::DateTime.check_string("2024-02-01T10:00:00"));
        assert!(Format::Time.check_string("10:00:00+99:99"));
        assert!(!Format::DateTime.check_string("2024-02-01T24:00:00Z"));
        assert!(!Format::Time.check_string("22:59:60Z"));
        assert!(Format::Time.check_string("10:00:00+0130"));
        assert!(!Format::Time.check_string("10:00:00+1"));
        assert!(!Format::Time.check_string("10:00:00."));
        assert!(Format::Date.check_string("2000-02-29"));
        assert!(!Format::Date.check_string("1900-02-29"));
    }

    #[test]
    fn pattern_formats_follow_ajv_formats() {
        assert!(Format::Email.check_string("a.b+c@example.co"));
        assert!(!Format::Email.check_string("a..b@example.co"));
        assert!(!Format::Email.check_string("ab@localhost"));
        assert!(!Format::Email.check_string("ab@-x.com"));
        assert!(Format::Hostname.check_string("talon.one."));
        assert!(!Format::Hostname.check_string("-talon.one"));
        assert!(Format::Ipv4.check_string("192.168.0.1"));
        assert!(Format::Ipv4.check_string("192.168.0.01"));
        assert!(!Format::Ipv4.check_string("192.168.0.256"));
        assert!(Format::Uuid.check_string("URN:UUID:123e4567-e89b-12d3-a456-426614174000"));
        assert!(!Format::Uuid.check_string("123e4567e89b12d3a456426614174000"));
        assert!(Format::Duration.check_string("P1Y2M3DT4H5M6S"));
        assert!(Format::Duration.check_string("P2W"));
        assert!(!Format::Duration.check_string("P"));
        assert!(!Format::Duration.check_string("P1DT"));
        assert!(Format::JsonPointer.check_string("/a~1b/~0"));
        assert!(!Format::JsonPointer.check_string("/a~2"));
        assert!(Format::RelativeJsonPointer.check_string("0#"));
        assert!(!Format::RelativeJsonPointer.check_string("01/a"));
        assert!(Format::Byte.check_string("aGk="));
        assert!(!Format::Byte.check_string("aGk"));
        assert!(Format::Int32.check_number(2_147_483_647.0));
        for ok in [
            "https://talon.one/docs?x=1#top",
            "mailto:a@b.c",
            "urn:isbn:0451450523",
            "http://user:pw@[::1]:8080/a%20b",
            "http://[v1.fe]/",
            "http://1.2.3.4",
            "file:///etc/hosts",
            "a:b:c",
            "http:/x",
            // `\/?\/` may take one slash, leaving an empty authority and the path `/x:80a`.
            "http://x:80a",
        ] {
            assert!(Format::Uri.check_string(ok), "{ok:?}");
        }
        for bad in [
            "talon.one",
            "/relative",
            "http://a b",
            "http://x/%zz",
            "1http://x",
            "http:",
            "http://[::1/",
            "http://é.com",
        ] {
            assert!(!Format::Uri.check_string(bad), "{bad:?}");
        }
        for ok in [
            "",
            "/relative",
            "../a?b#c",
            "//host/x",
            "#frag",
            "a\"b",
            "http://x",
        ] {
            assert!(Format::UriReference.check_string(ok), "{ok:?}");
        }
        for bad in ["a b", "http://x y", "%g0", "[x]"] {
            assert!(!Format::UriReference.check_string(bad), "{bad:?}");
        }
        for ok in [
            "::",
            "::1",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7::",
            "::ffff:1.2.3.4",
            "fe80::1:2",
            "1:2:3:4:5:6:1.2.3.4",
        ] {
            assert!(Format::Ipv6.check_string(ok), "{ok:?}");
        }
        for bad in [
            ":::",
            "1::2::3",
            "1:2:3:4:5:6:7:8:9",
            "::ffff:1.2.3.04",
            "12345::",
            "1:2:3:4:5:6::1.2.3.4",
            "1.2.3.4::",
        ] {
            assert!(!Format::Ipv6.check_string(bad), "{bad:?}");
        }
        assert!(!Format::Int32.check_number(2_147_483_648.0));
    }
}
