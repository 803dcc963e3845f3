//! Fuzz target: the trait flattener on structure-aware traits trees, keys in either order, checked by `talon_mapper_oracles::check_flattened`.
#![no_main]

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use talon_mapper::flatten::FlatTraits;

fuzz_target!(|data: &[u8]| {
    let Ok((order, tree)) =
        segment_model::shapes::ordered_traits_tree(&mut Unstructured::new(data))
    else {
        return;
    };
    // `check_flatten_tree`, with the flattener called here rather than in
    // the oracle crate: its generic walk is compiled where it is used, and
    // this crate has coverage counters, the oracle crate none.
    let flat = match FlatTraits::deserialize(tree.deserializer(order)) {
        Ok(FlatTraits(flat)) => flat,
        Err(error) => panic!("the deserializing flattener reads any traits object: {error}"),
    };
    if let Err(violation) = talon_mapper_oracles::check_flattened(&tree, &flat) {
        panic!(
            "{violation}\nkeys visited in {order:?} order\ntraits: {}",
            serde_json::to_string(&tree).unwrap_or_default()
        );
    }
});
