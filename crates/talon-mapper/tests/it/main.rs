//! Integration tests of the mapper: fixtures and snapshots, rule tables, invariants.

// Tests read fixtures and run `cargo tree`; the IO ban is for library code.
#![allow(clippy::disallowed_methods)]

mod actions;
mod dependencies;
mod flatten;
mod rules;
mod seam;
mod settings;
mod snapshots;

use talon_mapper::Settings;

/// The settings every fixture is mapped with: `fixtures/settings/default.json`.
pub(crate) fn default_settings() -> Settings {
    Settings::parse(include_str!("../../../../fixtures/settings/default.json"))
        .expect("the default settings are valid")
}

/// Settings with the given Custom Attributes.
pub(crate) fn settings_with(attributes: &[&str]) -> Settings {
    Settings::new("key", "https://demo.talon.one", attributes).expect("valid settings")
}
