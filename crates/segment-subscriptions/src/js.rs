//! The few JavaScript primitives the package's comparisons lean on: strings as UTF-16 code
//! units, `Number(string)`, and `String(number)`.

use std::fmt;

/// A JavaScript string: UTF-16 code units, which may hold a lone surrogate (the package's
/// `match()` slices code units, so `match(name, "😀x")` leaves half of the emoji behind).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JsString {
    units: Vec<u16>,
    /// The same text as UTF-8, when it holds no lone surrogate (comparisons of valid text
    /// give the same answer in either encoding, and UTF-8 needs no conversion of the event).
    text: Option<String>,
}

impl JsString {
    /// The string's code units.
    pub fn units(&self) -> &[u16] {
        &self.units
    }

    /// From code units, as they are.
    pub fn from_units(units: Vec<u16>) -> Self {
        let text = String::from_utf16(&units).ok();
        Self { units, text }
    }

    /// The string as Rust text, when it holds no lone surrogate.
    pub fn as_str(&self) -> Option<&str> {
        self.text.as_deref()
    }

    /// JavaScript's `s.slice(1)`: without its first code unit.
    pub(crate) fn without_first_unit(&self) -> Self {
        Self::from_units(self.units.get(1..).unwrap_or_default().to_vec())
    }

    /// JavaScript's `s.slice(0, -1)`: without its last code unit.
    pub(crate) fn without_last_unit(&self) -> Self {
        let end = self.units.len().saturating_sub(1);
        Self::from_units(self.units[..end].to_vec())
    }
}

impl From<&str> for JsString {
    fn from(s: &str) -> Self {
        Self {
            units: s.encode_utf16().collect(),
            text: Some(s.to_owned()),
        }
    }
}

impl fmt::Display for JsString {
    /// The text, with a lone surrogate written `\u{d83d}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in char::decode_utf16(self.units.iter().copied()) {
            match c {
                Ok(c) => write!(f, "{c}")?,
                Err(e) => write!(f, "\\u{{{:x}}}", e.unpaired_surrogate())?,
            }
        }
        Ok(())
    }
}

impl fmt::Debug for JsString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.to_string())
    }
}

/// JavaScript's `String(n)` for a number.
pub(crate) fn number_to_string(n: f64) -> String {
    if n.is_nan() {
        "NaN".to_owned()
    } else if n == f64::INFINITY {
        "Infinity".to_owned()
    } else if n == f64::NEG_INFINITY {
        "-Infinity".to_owned()
    } else if n == 0.0 {
        // -0 prints as 0.
        "0".to_owned()
    } else {
        ryu_js::Buffer::new().format_finite(n).to_owned()
    }
}

/// Whether `c` is a `StrWhiteSpaceChar` of ECMAScript (what `Number(s)` trims).
fn is_js_space(c: char) -> bool {
    matches!(
        c,
        '\u{9}' | '\u{a}' | '\u{b}' | '\u{c}' | '\u{d}' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

/// JavaScript's `Number(s)` for a string (ECMAScript `StringToNumber`): trimmed, empty is 0,
/// `0x`/`0o`/`0b` integers, `Infinity`, decimal literals with an exponent; anything else NaN.
pub(crate) fn string_to_number(s: &str) -> f64 {
    let s = s.trim_matches(is_js_space);
    if s.is_empty() {
        return 0.0;
    }
    let radix = match s.get(..2) {
        Some("0x" | "0X") => Some(16),
        Some("0o" | "0O") => Some(8),
        Some("0b" | "0B") => Some(2),
        _ => None,
    };
    if let Some(radix) = radix {
        let digits = &s[2..];
        if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
            return f64::NAN;
        }
        // Exact up to 2^128; past that the digit-by-digit sum may differ from JavaScript's
        // correctly rounded value in the last place (no trigger in practice spells one).
        return match u128::from_str_radix(digits, radix) {
            Ok(n) => n as f64,
            Err(_) => digits
                .chars()
                .filter_map(|c| c.to_digit(radix))
                .fold(0.0, |acc, d| acc * f64::from(radix) + f64::from(d)),
        };
    }
    let (sign, body) = match s.as_bytes()[0] {
        b'+' => (1.0, &s[1..]),
        b'-' => (-1.0, &s[1..]),
        _ => (1.0, s),
    };
    if body == "Infinity" {
        return sign * f64::INFINITY;
    }
    if !is_decimal_literal(body) {
        return f64::NAN;
    }
    // Rust's parser accepts exactly these shapes too ("1.", ".5", "1e5"), correctly rounded.
    body.parse::<f64>().map_or(f64::NAN, |n| sign * n)
}

/// `StrUnsignedDecimalLiteral` without `Infinity`: `1`, `1.`, `1.5`, `.5`, each with an
/// optional `e`/`E` exponent.
fn is_decimal_literal(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let int_digits = count_digits(&b[i..]);
    i += int_digits;
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = count_digits(&b[i..]);
        i += frac_digits;
    }
    if int_digits == 0 && frac_digits == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_digits = count_digits(&b[i..]);
        if exp_digits == 0 {
            return false;
        }
        i += exp_digits;
    }
    i == b.len()
}

fn count_digits(b: &[u8]) -> usize {
    b.iter().take_while(|c| c.is_ascii_digit()).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_of_a_string_follows_javascript() {
        for (s, n) in [
            ("", 0.0),
            ("  12  ", 12.0),
            ("\u{a0}7\u{feff}", 7.0),
            ("1.", 1.0),
            (".5", 0.5),
            ("-.5", -0.5),
            ("+5", 5.0),
            ("1e3", 1000.0),
            ("0x1F", 31.0),
            ("0b101", 5.0),
            ("0o17", 15.0),
            ("-Infinity", f64::NEG_INFINITY),
        ] {
            assert_eq!(string_to_number(s), n, "Number({s:?})");
        }
        for s in [
            "-",
            "+",
            "abc",
            "1,5",
            "inf",
            "nan",
            "Infinityx",
            "-0x1",
            "1e",
            "1_000",
            "0x",
        ] {
            assert!(string_to_number(s).is_nan(), "Number({s:?}) is NaN");
        }
    }

    #[test]
    fn string_of_a_number_follows_javascript() {
        for (n, s) in [
            (1.0, "1"),
            (-0.0, "0"),
            (0.1, "0.1"),
            (1e21, "1e+21"),
            (1.5e-7, "1.5e-7"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
        ] {
            assert_eq!(number_to_string(n), s);
        }
    }

    #[test]
    fn slicing_code_units_can_leave_a_lone_surrogate() {
        let s = JsString::from("😀x");
        assert_eq!(s.without_first_unit().to_string(), "\\u{de00}x");
        assert_eq!(s.without_first_unit().as_str(), None);
        assert_eq!(s.without_last_unit().as_str(), Some("😀"));
    }
}
