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

/// `"00" "01" … "99"`: two decimal digits per entry, so the writers below
/// divide by 100 instead of 10 and copy pairs.
const DIGITS2: [u8; 200] = {
    let mut table = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        table[2 * i] = b'0' + (i / 10) as u8;
        table[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    table
};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The two decimal digits of `n % 100`.
fn two(n: u64) -> [u8; 2] {
    let i = (n % 100) as usize * 2;
    [DIGITS2[i], DIGITS2[i + 1]]
}

/// Fills `buf` with the low decimal digits of `n`, zero-padded on the left.
fn fill_padded(buf: &mut [u8], mut n: u64) {
    let mut i = buf.len();
    while i >= 2 {
        buf[i - 2..i].copy_from_slice(&two(n));
        n /= 100;
        i -= 2;
    }
    if i == 1 {
        buf[0] = b'0' + (n % 10) as u8;
    }
}

/// Fills `buf` with the low `buf.len() * 4` bits of `n` as lowercase hex.
fn fill_hex(buf: &mut [u8], n: u64) {
    let digits = buf.len();
    for (i, b) in buf.iter_mut().enumerate() {
        *b = HEX[((n >> ((digits - 1 - i) * 4)) & 0xf) as usize];
    }
}

/// Appends the decimal form of `n`.
pub(crate) fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    while n >= 100 {
        buf[i - 2..i].copy_from_slice(&two(n));
        n /= 100;
        i -= 2;
    }
    if n >= 10 {
        buf[i - 2..i].copy_from_slice(&two(n));
        i -= 2;
    } else {
        i -= 1;
        buf[i] = b'0' + n as u8;
    }
    out.extend_from_slice(&buf[i..]);
}

/// Appends `n` as exactly `digits` decimal digits (zero-padded, truncated on the left).
pub(crate) fn push_padded(out: &mut Vec<u8>, n: u64, digits: usize) {
    let mut buf = [b'0'; 20];
    fill_padded(&mut buf[..digits], n);
    out.extend_from_slice(&buf[..digits]);
}

/// Appends the low `digits * 4` bits of `n` as lowercase hex, zero-padded.
pub(crate) fn push_hex(out: &mut Vec<u8>, n: u64, digits: usize) {
    let mut buf = [0u8; 16];
    fill_hex(&mut buf[..digits], n);
    out.extend_from_slice(&buf[..digits]);
}

/// Appends a UUID-shaped id (version 4 layout, no quotes) from the hash
/// `h`: `h`'s bits in the first groups, `variant` and `clock` (three hex
/// digits) in the fourth, `node` (twelve hex digits) in the last, which
/// callers fill with what makes the id unique.
pub(crate) fn push_uuid(out: &mut Vec<u8>, h: u64, variant: u8, clock: u64, node: u64) {
    let mut buf = *b"00000000-0000-4000-0000-000000000000";
    fill_hex(&mut buf[0..8], h >> 32);
    fill_hex(&mut buf[9..13], h >> 16);
    fill_hex(&mut buf[15..18], h);
    buf[19] = variant;
    fill_hex(&mut buf[20..23], clock);
    fill_hex(&mut buf[24..36], node);
    out.extend_from_slice(&buf);
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

/// A day's `YYYY-MM-DD`, kept while consecutive times fall on that day.
struct Date {
    days: i64,
    text: [u8; 10],
}

impl Date {
    /// No day yet: `ms.div_euclid(DAY_MS)` is never `i64::MIN`.
    const NONE: Self = Self {
        days: i64::MIN,
        text: [0; 10],
    };

    /// Fills `buf` (26 bytes) with `"YYYY-MM-DDTHH:MM:SS.mmmZ"` for Unix
    /// milliseconds `ms`, reformatting the date only when the day changes.
    fn fill(&mut self, buf: &mut [u8], ms: i64) {
        let days = ms.div_euclid(DAY_MS);
        if days != self.days {
            let (y, m, d) = civil_from_days(days);
            let mut text = *b"0000-00-00";
            fill_padded(&mut text[0..4], y as u64);
            text[5..7].copy_from_slice(&two(u64::from(m)));
            text[8..10].copy_from_slice(&two(u64::from(d)));
            *self = Self { days, text };
        }
        let rem = ms.rem_euclid(DAY_MS) as u64;
        buf[0] = b'"';
        buf[1..11].copy_from_slice(&self.text);
        buf[11..26].copy_from_slice(b"T00:00:00.000Z\"");
        buf[12..14].copy_from_slice(&two(rem / 3_600_000));
        buf[15..17].copy_from_slice(&two(rem / 60_000 % 60));
        buf[18..20].copy_from_slice(&two(rem / 1000 % 60));
        fill_padded(&mut buf[21..24], rem % 1000);
    }
}

/// Appends `"YYYY-MM-DDTHH:MM:SS.mmmZ"` (with quotes) for Unix milliseconds
/// `ms`. Years outside 0..=9999 are not produced by the generator (they
/// would print as the year's low four digits of its `u64` form).
pub(crate) fn push_time(out: &mut Vec<u8>, ms: i64) {
    let mut buf = [0u8; 26];
    let mut date = Date::NONE;
    date.fill(&mut buf, ms);
    out.extend_from_slice(&buf);
}

/// Appends `,"timestamp":…,"sentAt":…,"receivedAt":…` (each as
/// [`push_time`] writes it) in one copy, formatting a shared date once.
pub(crate) fn push_times(out: &mut Vec<u8>, timestamp: i64, sent_at: i64, received_at: i64) {
    let mut buf = *b",\"timestamp\":00000000000000000000000000,\"sentAt\":00000000000000000000000000,\"receivedAt\":00000000000000000000000000";
    let mut date = Date::NONE;
    date.fill(&mut buf[13..39], timestamp);
    date.fill(&mut buf[49..75], sent_at);
    date.fill(&mut buf[89..115], received_at);
    out.extend_from_slice(&buf);
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

    // The byte-at-a-time writers these replaced, kept as references: the
    // table-driven ones must print exactly the same bytes.
    fn reference_padded(out: &mut Vec<u8>, mut n: u64, digits: usize) {
        let mut buf = [b'0'; 20];
        for i in (0..digits).rev() {
            buf[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
        out.extend_from_slice(&buf[..digits]);
    }

    fn reference_hex(out: &mut Vec<u8>, n: u64, digits: usize) {
        for i in (0..digits).rev() {
            out.push(b"0123456789abcdef"[((n >> (i * 4)) & 0xf) as usize]);
        }
    }

    fn reference_time(ms: i64) -> Vec<u8> {
        let mut out = Vec::new();
        let days = ms.div_euclid(DAY_MS);
        let rem = ms.rem_euclid(DAY_MS) as u64;
        let (y, m, d) = civil_from_days(days);
        out.push(b'"');
        reference_padded(&mut out, y as u64, 4);
        out.push(b'-');
        reference_padded(&mut out, u64::from(m), 2);
        out.push(b'-');
        reference_padded(&mut out, u64::from(d), 2);
        out.push(b'T');
        reference_padded(&mut out, rem / 3_600_000, 2);
        out.push(b':');
        reference_padded(&mut out, rem / 60_000 % 60, 2);
        out.push(b':');
        reference_padded(&mut out, rem / 1000 % 60, 2);
        out.push(b'.');
        reference_padded(&mut out, rem % 1000, 3);
        out.extend_from_slice(b"Z\"");
        out
    }

    /// Numbers around every power of ten and a seeded spread of others.
    fn samples() -> Vec<u64> {
        let mut v = vec![0, 1, 9, 10, 11, 99, 100, 101, u64::MAX, u64::MAX - 1];
        let mut p = 1u64;
        while let Some(next) = p.checked_mul(10) {
            v.extend([p - 1, p, p + 1, next - 1]);
            p = next;
        }
        let mut z = 7u64;
        for _ in 0..2000 {
            z = mix(z);
            v.extend([z, z >> 20, z >> 40, z >> 56]);
        }
        v
    }

    #[test]
    fn the_table_writers_match_the_digit_by_digit_ones() {
        for n in samples() {
            let mut out = Vec::new();
            push_u64(&mut out, n);
            assert_eq!(out, n.to_string().into_bytes(), "{n}");
            for digits in 0..=20 {
                let (mut got, mut want) = (Vec::new(), Vec::new());
                push_padded(&mut got, n, digits);
                reference_padded(&mut want, n, digits);
                assert_eq!(got, want, "{n} in {digits} digits");
            }
            for digits in 0..=16 {
                let (mut got, mut want) = (Vec::new(), Vec::new());
                push_hex(&mut got, n, digits);
                reference_hex(&mut want, n, digits);
                assert_eq!(got, want, "{n:x} in {digits} hex digits");
            }
            let (mut got, mut want) = (Vec::new(), Vec::new());
            push_uuid(&mut got, n, b'8', n >> 52, n.rotate_left(7));
            reference_hex(&mut want, n >> 32, 8);
            want.push(b'-');
            reference_hex(&mut want, n >> 16, 4);
            want.extend_from_slice(b"-4");
            reference_hex(&mut want, n, 3);
            want.push(b'-');
            want.push(b'8');
            reference_hex(&mut want, n >> 52, 3);
            want.push(b'-');
            reference_hex(&mut want, n.rotate_left(7), 12);
            assert_eq!(got, want, "{n:x}");
        }
    }

    #[test]
    fn the_three_times_match_three_single_times() {
        // Same day, across midnight, across a year, and far apart.
        let mut z = 3u64;
        let mut cases = vec![
            (EPOCH_UNIX_MS - 1, EPOCH_UNIX_MS, EPOCH_UNIX_MS + 1),
            (EPOCH_UNIX_MS, EPOCH_UNIX_MS, EPOCH_UNIX_MS),
            (DAY_MS - 10, DAY_MS - 5, DAY_MS + 400),
            (-1, 0, 1),
            (0, 253_402_300_799_999, 1),
        ];
        for _ in 0..5000 {
            z = mix(z);
            let t = EPOCH_UNIX_MS + (z % (2 * 365 * DAY_MS as u64)) as i64;
            cases.push((t, t + (z >> 52) as i64, t + (z >> 50) as i64 + 15));
        }
        for (t, s, r) in cases {
            let mut got = Vec::new();
            push_times(&mut got, t, s, r);
            let mut want = b",\"timestamp\":".to_vec();
            want.extend(reference_time(t));
            want.extend_from_slice(b",\"sentAt\":");
            want.extend(reference_time(s));
            want.extend_from_slice(b",\"receivedAt\":");
            want.extend(reference_time(r));
            assert_eq!(got, want, "{t} {s} {r}");
        }
    }

    #[test]
    fn times_match_the_digit_by_digit_writer() {
        // Every millisecond field, minute and hour edge, and years from
        // 1970 to past the generator's range (and before the Unix epoch).
        let mut probes = vec![0i64, -1, 1, EPOCH_UNIX_MS, 253_402_300_799_999];
        for day in [-1000i64, -1, 0, 1, 11_016, 20_454, 20_819, 2_932_896] {
            for ms in [
                0,
                1,
                999,
                1000,
                59_999,
                60_000,
                3_599_999,
                3_600_000,
                DAY_MS - 1,
            ] {
                probes.push(day * DAY_MS + ms);
            }
        }
        let mut z = 1u64;
        for _ in 0..20_000 {
            z = mix(z);
            probes.push(EPOCH_UNIX_MS + (z % (3 * 366 * DAY_MS as u64)) as i64);
            probes.push((z % 253_402_300_800_000) as i64);
        }
        for ms in probes {
            let mut got = Vec::new();
            push_time(&mut got, ms);
            assert_eq!(got, reference_time(ms), "{ms}");
        }
    }
}
