//! Fuzz target: the Actions destination over (event, subscription) pairs drawn from the input
//! (`talon_mapper::actions::fuzz::case`), checked by `talon_mapper::actions::fuzz::check`.
#![no_main]

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use segment_mapping::fuzz::Source;
use talon_mapper::actions::fuzz::{case, check};

const SETTINGS: &str =
    r#"{"apiKey": "k", "deployment": "https://something.europe-west1.talon.one"}"#;

/// Choices drawn from libFuzzer's bytes (0 once they run out).
struct Bytes<'a, 'b>(&'b mut Unstructured<'a>);

impl Source for Bytes<'_, '_> {
    fn below(&mut self, n: usize) -> usize {
        self.0.choose_index(n).unwrap_or(0)
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let (subscriptions, event) = case(&mut Bytes(&mut u));
    if let Err(violation) = check(SETTINGS, &subscriptions, event.as_bytes()) {
        panic!("{violation}\nsubscriptions: {subscriptions}\nevent: {event}");
    }
});
