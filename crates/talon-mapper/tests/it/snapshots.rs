//! One snapshot per fixture in `fixtures/segment/`, stored under `snapshots/talon-mapper/`.

use talon_mapper::{map_event, map_json};

use crate::default_settings;

/// The settings of every snapshot of this crate: stored in the workspace's
/// `snapshots/talon-mapper/`, named without the module, without the expression.
pub(crate) fn snapshot_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../../../../snapshots/talon-mapper");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings
}

#[test]
fn every_fixture_maps_as_its_snapshot_says() {
    let settings = default_settings();
    insta::glob!("../../../../fixtures/segment", "*.json", |path| {
        let bytes = std::fs::read(path).expect("fixture is readable");
        let mapped = map_json(&bytes, &settings);
        // The typed path must agree with the fast path wherever the event
        // is a valid `segment_model::Event`.
        if let Ok(event) = serde_json::from_slice::<segment_model::Event>(&bytes) {
            assert_eq!(map_event(&event, &settings), mapped, "{}", path.display());
        }
        snapshot_settings().bind(|| insta::assert_snapshot!(mapped.render()));
    });
}

#[test]
fn every_snapshot_belongs_to_a_fixture() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let fixtures: Vec<String> = std::fs::read_dir(format!("{root}/fixtures/segment"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for entry in std::fs::read_dir(format!("{root}/snapshots/talon-mapper")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name == "audience_names.snap" {
            continue;
        }
        let fixture = name
            .strip_prefix("every_fixture_maps_as_its_snapshot_says@")
            .and_then(|rest| rest.strip_suffix(".snap"));
        assert!(
            fixture.is_some_and(|f| fixtures.iter().any(|x| x == f)),
            "snapshots/talon-mapper/{name} belongs to no fixture: delete it"
        );
    }
}

#[test]
fn audience_names_become_the_keys_in_their_snapshot() {
    let names = include_str!("../../../../fixtures/engage/audience_names.txt");
    let table: String = names
        .lines()
        .map(|name| {
            let key = talon_mapper::snake_case(name);
            let valid = if talon_mapper::is_valid_attribute_name(&key) {
                "valid Talon.One name"
            } else {
                "NOT a valid Talon.One name"
            };
            format!("{name:?} -> {key:?} ({valid})\n")
        })
        .collect();
    snapshot_settings().bind(|| insta::assert_snapshot!("audience_names", table));
}
