//! Fuzz target: the trait flattener on structure-aware traits objects (`talon_mapper::fuzz::check_flatten`).
#![no_main]

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    if let Ok(traits) = segment_model::shapes::traits(&mut u)
        && let Err(violation) = talon_mapper::fuzz::check_flatten(&traits)
    {
        panic!("{violation}\ntraits: {}", serde_json::Value::Object(traits));
    }
});
