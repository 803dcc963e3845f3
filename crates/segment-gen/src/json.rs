//! Small, allocation-free writers for the NDJSON hot path: integers, hex, RFC 3339 times.
//!
//! Strings that may need escaping are escaped once, up front, with
//! `serde_json` ([`quoted`]); the hot path only copies bytes that are already
//! valid JSON.

/// Milliseconds from the Unix epoch to the generator's fixed epoch,
/// 2026-01-01T00:00:00Z. Simulated time is this plus seeded offsets.
pub(crate) const EPOCH_UNIX_MS: i64 = 1_767_225_600_000;

/// Milliseconds in a day.
pub(crate) const DAY_MS: i64 = 86_400_000;

/// `s` as a JSON string literal (with quotes), escaped by `serde_json`.
pub(crate) fn quoted(s: &str) -> Box<[u8]> {
    let mut out = Vec::with_capacity(s.len() + 2);
    // Writing into a Vec cannot fail and a &str always serializes.
    serde_json::to_writer(&mut out, s).expect("a string serializes into a Vec");
    out.into_boxed_slice()
}

/// Appends the decimal form of `n`.
pub(crate) fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Appends `n` as exactly `digits` decimal digits (zero-padded, truncated on the left).
pub(crate) fn push_padded(out: &mut Vec<u8>, mut n: u64, digits: usize) {
    let mut buf = [b'0'; 20];
    for i in (0..digits).rev() {
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    out.extend_from_slice(&buf[..digits]);
}

/// Appends the low `digits * 4` bits of `n` as lowercase hex, zero-padded.
pub(crate) fn push_hex(out: &mut Vec<u8>, n: u64, digits: usize) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for i in (0..digits).rev() {
        out.push(HEX[((n >> (i * 4)) & 0xf) as usize]);
    }
}

/// Appends a UUID-shaped id (version 4 layout, no quotes) from the hash
/// `h`: `h`'s bits in the first groups, `variant` and `clock` (three hex
/// digits) in the fourth, `node` (twelve hex digits) in the last, which
/// callers fill with what makes the id unique.
pub(crate) fn push_uuid(out: &mut Vec<u8>, h: u64, variant: u8, clock: u64, node: u64) {
    push_hex(out, h >> 32, 8);
    out.push(b'-');
    push_hex(out, h >> 16, 4);
    out.extend_from_slice(b"-4");
    push_hex(out, h, 3);
    out.push(b'-');
    out.push(variant);
    push_hex(out, clock, 3);
    out.push(b'-');
    push_hex(out, node, 12);
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day).
/// Howard Hinnant's `civil_from_days`, exact for every `i64` day we use.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Appends `"YYYY-MM-DDTHH:MM:SS.mmmZ"` (with quotes) for Unix milliseconds
/// `ms`. Years outside 0..=9999 are not produced by the generator.
pub(crate) fn push_time(out: &mut Vec<u8>, ms: i64) {
    let days = ms.div_euclid(DAY_MS);
    let rem = ms.rem_euclid(DAY_MS) as u64;
    let (y, m, d) = civil_from_days(days);
    out.push(b'"');
    push_padded(out, y as u64, 4);
    out.push(b'-');
    push_padded(out, u64::from(m), 2);
    out.push(b'-');
    push_padded(out, u64::from(d), 2);
    out.push(b'T');
    push_padded(out, rem / 3_600_000, 2);
    out.push(b':');
    push_padded(out, rem / 60_000 % 60, 2);
    out.push(b':');
    push_padded(out, rem / 1000 % 60, 2);
    out.push(b'.');
    push_padded(out, rem % 1000, 3);
    out.extend_from_slice(b"Z\"");
}

/// SplitMix64's finalizer: a fixed, portable 64-bit mixing function used to
/// derive ids from `(seed, index)`. It is a hash, not a random source.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(ms: i64) -> String {
        let mut out = Vec::new();
        push_time(&mut out, ms);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_epoch_formats_as_new_year_2026() {
        assert_eq!(time(EPOCH_UNIX_MS), "\"2026-01-01T00:00:00.000Z\"");
        assert_eq!(time(0), "\"1970-01-01T00:00:00.000Z\"");
        assert_eq!(time(951_782_400_000 + 1), "\"2000-02-29T00:00:00.001Z\"");
        assert_eq!(time(EPOCH_UNIX_MS - 1), "\"2025-12-31T23:59:59.999Z\"");
        assert_eq!(time(-86_400_000), "\"1969-12-31T00:00:00.000Z\"");
    }

    #[test]
    fn integers_and_hex_format_like_std() {
        for n in [0u64, 7, 10, 99, 1_000_001, u64::MAX] {
            let mut out = Vec::new();
            push_u64(&mut out, n);
            assert_eq!(out, n.to_string().into_bytes());
        }
        let mut out = Vec::new();
        push_hex(&mut out, 0xabc, 6);
        assert_eq!(out, b"000abc");
    }
}
