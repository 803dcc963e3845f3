//! Fuzz target: mapping-kit's evaluator and validator (`segment_mapping::fuzz::check`) on
//! structure-aware mappings and payloads drawn from the input; an input that starts with `{` is
//! also taken as raw lines of `mapping eval|validate` (`check_line_bytes`).
#![no_main]

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use segment_mapping::fuzz::{Source, check, check_line_bytes, mapping, payload};

/// Choices drawn from libFuzzer's bytes (0 once they run out).
struct Bytes<'a, 'b>(&'b mut Unstructured<'a>);

impl Source for Bytes<'_, '_> {
    fn below(&mut self, n: usize) -> usize {
        self.0.choose_index(n).unwrap_or(0)
    }
}

fuzz_target!(|data: &[u8]| {
    if data.first() == Some(&b'{') {
        if let Err(violation) = check_line_bytes(data) {
            panic!("{violation}\ninput: {:?}", String::from_utf8_lossy(data));
        }
        return;
    }
    let mut u = Unstructured::new(data);
    let mut src = Bytes(&mut u);
    let m = mapping(&mut src, 0);
    let p = payload(&mut src, 0);
    if let Err(violation) = check(&m, &p) {
        panic!("{violation}\nmapping: {:?}\npayload: {:?}", m.to_json(), p.to_json());
    }
});
