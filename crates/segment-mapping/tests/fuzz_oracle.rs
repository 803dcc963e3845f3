//! The `mapping_eval` fuzz target's oracle (`segment_mapping::fuzz::check`) on stable: a few
//! thousand seeded structure-aware inputs, and raw lines.

use segment_mapping::Value;
use segment_mapping::fuzz::{Source, check, check_line_bytes, mapping, payload};

/// SplitMix64: a fixed, portable sequence for a seed.
struct Seeded(u64);

impl Source for Seeded {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        usize::try_from(z % u64::try_from(n.max(1)).unwrap_or(1)).unwrap_or(0)
    }
}

#[test]
fn seeded_structure_aware_inputs_are_evaluated_without_a_panic() {
    let mut src = Seeded(14);
    for i in 0..3000 {
        let m = mapping(&mut src, 0);
        let p = if i % 5 == 0 {
            payload(&mut src, 0)
        } else {
            object_payload(&mut src)
        };
        if let Err(violation) = check(&m, &p) {
            panic!(
                "{violation}\nmapping: {:?}\npayload: {:?}",
                m.to_json(),
                p.to_json()
            );
        }
    }
}

fn object_payload(src: &mut Seeded) -> Value {
    loop {
        let p = payload(src, 0);
        if matches!(p, Value::Object(_)) {
            return p;
        }
    }
}

#[test]
fn raw_lines_are_answered_with_a_line_of_the_format() {
    for line in [
        &b"{\"mapping\":{\"a\":{\"@path\":\"$.x\"}},\"payload\":{\"x\":1}}"[..],
        b"{\"mapping\":",
        b"\xff\xfe",
        b"{\"mapping\":null,\"payload\":\"\\ud800\"}",
        b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
        // Found by the fuzz target: an integer literal past i64 made the liquid crate panic.
        include_bytes!("fuzz_oracle/liquid_long_integer.ndjson"),
    ] {
        if let Err(violation) = check_line_bytes(line) {
            panic!("{violation}");
        }
    }
}
