//! JavaScript's `Number(string)` (the `StringToNumber` of ECMA-262), which Ajv's coercion and
//! the `date-like` format use: JavaScript whitespace trimmed, `""` is `0`, decimal literals
//! with optional sign, fraction and exponent, `Infinity` with optional sign, and unsigned
//! `0x`/`0o`/`0b` integers; anything else is `NaN`.

pub(crate) use crate::js::is_js_whitespace as is_js_space;

/// `Number(s)` for a string `s`.
pub(crate) fn js_to_number(s: &str) -> f64 {
    let t = s.trim_matches(is_js_space);
    if t.is_empty() {
        return 0.0;
    }
    let bytes = t.as_bytes();
    if bytes.len() > 2 && bytes[0] == b'0' {
        let radix = match bytes[1] {
            b'x' | b'X' => 16,
            b'o' | b'O' => 8,
            b'b' | b'B' => 2,
            _ => 0,
        };
        if radix != 0 {
            return radix_integer(&t[2..], radix).unwrap_or(f64::NAN);
        }
    }
    let (negative, unsigned) = match bytes[0] {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let magnitude = if unsigned == "Infinity" {
        f64::INFINITY
    } else {
        match decimal(unsigned) {
            Some(n) => n,
            None => return f64::NAN,
        }
    };
    if negative { -magnitude } else { magnitude }
}

/// An unsigned decimal literal (`1`, `1.`, `.5`, `1.5e-3`), correctly rounded.
fn decimal(s: &str) -> Option<f64> {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(at) => (&s[..at], Some(&s[at + 1..])),
        None => (s, None),
    };
    let (int, frac) = match mantissa.find('.') {
        Some(at) => (&mantissa[..at], &mantissa[at + 1..]),
        None => (mantissa, ""),
    };
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !all_digits(int) || !all_digits(frac) {
        return None;
    }
    let exp = match exponent {
        None => "0",
        Some(e) => {
            let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
            if digits.is_empty() || !all_digits(digits) {
                return None;
            }
            e
        }
    };
    let int = if int.is_empty() { "0" } else { int };
    let frac = if frac.is_empty() { "0" } else { frac };
    format!("{int}.{frac}e{exp}").parse().ok()
}

/// An unsigned integer in `radix` (2, 8 or 16), correctly rounded to a double.
fn radix_integer(digits: &str, radix: u32) -> Option<f64> {
    if digits.is_empty() {
        return None;
    }
    let bits_per_digit = radix.trailing_zeros();
    // Accumulate the top 64 significant bits, with a sticky bit for any non-zero bit below
    // them, then scale: rounding the 64-bit value to 53 bits is then correct.
    let mut top: u64 = 0;
    let mut used_bits: u32 = 0;
    let mut dropped_bits: i32 = 0;
    let mut sticky = false;
    for c in digits.chars() {
        let d = u64::from(c.to_digit(radix)?);
        if used_bits + bits_per_digit <= 64 {
            top = (top << bits_per_digit) | d;
            if top != 0 {
                used_bits = 64 - top.leading_zeros();
            }
        } else {
            sticky |= d != 0;
            dropped_bits += i32::try_from(bits_per_digit).unwrap_or(4);
        }
    }
    if sticky {
        top |= 1;
    }
    #[allow(clippy::cast_precision_loss)]
    let value = top as f64;
    Some(value * 2f64.powi(dropped_bits))
}

#[cfg(test)]
mod tests {
    use super::js_to_number;

    #[test]
    fn strings_convert_as_javascript_number_does() {
        for (s, n) in [
            ("", 0.0),
            ("  \u{a0}\u{feff}", 0.0),
            (" 12 ", 12.0),
            ("1e3", 1000.0),
            ("1.", 1.0),
            (".5", 0.5),
            ("-.5e1", -5.0),
            ("+7", 7.0),
            ("0x10", 16.0),
            ("0b101", 5.0),
            ("0o17", 15.0),
            ("0xFFFFFFFFFFFFFFFFF", 295_147_905_179_352_830_000.0),
            ("Infinity", f64::INFINITY),
            ("-Infinity", f64::NEG_INFINITY),
            ("1e400", f64::INFINITY),
            ("0.1", 0.1),
        ] {
            assert_eq!(js_to_number(s), n, "{s:?}");
        }
        for s in [
            "abc", "1_000", "-0x10", "0x", "1e", "e5", ".", "infinity", "inf", "NaN", "1 2",
            "\u{85}1", "٣",
        ] {
            assert!(js_to_number(s).is_nan(), "{s:?}");
        }
    }
}
