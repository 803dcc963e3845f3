//! Fuzz target: the trait flattener on structure-aware traits trees, keys in either order (`talon_mapper::fuzz::check_flatten_tree`).
#![no_main]

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((order, tree)) =
        segment_model::shapes::ordered_traits_tree(&mut Unstructured::new(data))
        && let Err(violation) = talon_mapper::fuzz::check_flatten_tree(&tree, order)
    {
        panic!(
            "{violation}\nkeys visited in {order:?} order\ntraits: {}",
            serde_json::to_string(&tree).unwrap_or_default()
        );
    }
});
