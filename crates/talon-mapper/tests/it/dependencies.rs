//! The pure crates must not depend on a runtime or an HTTP stack.
//!
//! The dependency graph is read from the workspace's own files, never from
//! what happens to be downloaded: `cargo metadata --no-deps --offline`
//! gives each workspace crate's declared dependencies with their kinds, and
//! `Cargo.lock` gives every locked package's dependencies. The lock lists a
//! package's dependencies whatever feature asked for them, so the closure
//! can only be larger than the real graph: a banned crate absent from it is
//! absent from the build.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

/// The workspace root (two levels above this crate).
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Each workspace crate's direct dependencies by kind (`normal`, `dev`, `build`).
fn workspace_dependencies() -> BTreeMap<String, Vec<(String, String)>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--no-deps",
            "--offline",
            "--format-version",
            "1",
        ])
        .current_dir(root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("metadata is JSON");
    let mut out = BTreeMap::new();
    for package in metadata["packages"].as_array().expect("packages") {
        let deps = package["dependencies"]
            .as_array()
            .expect("dependencies")
            .iter()
            .map(|d| {
                let kind = d["kind"].as_str().unwrap_or("normal").to_owned();
                (d["name"].as_str().expect("a name").to_owned(), kind)
            })
            .collect();
        out.insert(package["name"].as_str().expect("a name").to_owned(), deps);
    }
    out
}

/// Every locked package's dependency names, from `Cargo.lock`.
fn locked_dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).expect("Cargo.lock is read");
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut name = None;
    let mut in_deps = false;
    for line in lock.lines() {
        let line = line.trim();
        if line == "[[package]]" {
            name = None;
            in_deps = false;
        } else if let Some(value) = line.strip_prefix("name = ") {
            let value = value.trim_matches('"').to_owned();
            out.entry(value.clone()).or_default();
            name = Some(value);
        } else if line.starts_with("dependencies = [") {
            in_deps = !line.ends_with(']');
        } else if in_deps && line == "]" {
            in_deps = false;
        } else if in_deps && let Some(package) = &name {
            // ` "serde",` or ` "rand 0.8.5",`: the name is the first word.
            let dep = line.trim_matches([' ', '"', ',']);
            let dep = dep.split_whitespace().next().unwrap_or(dep).to_owned();
            out.entry(package.clone()).or_default().insert(dep);
        }
    }
    out
}

/// Everything `package` can pull in through dependencies of `kinds`
/// (workspace crates further down contribute their normal dependencies).
fn dependencies(package: &str, kinds: &[&str]) -> BTreeSet<String> {
    let workspace = workspace_dependencies();
    let locked = locked_dependencies();
    let mut seen = BTreeSet::new();
    let mut todo: Vec<String> = workspace[package]
        .iter()
        .filter(|(_, kind)| kinds.contains(&kind.as_str()))
        .map(|(name, _)| name.clone())
        .collect();
    while let Some(name) = todo.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let next: Vec<String> = match workspace.get(&name) {
            Some(deps) => deps
                .iter()
                .filter(|(_, kind)| kind == "normal" || kind == "build")
                .map(|(dep, _)| dep.clone())
                .collect(),
            None => locked
                .get(&name)
                .unwrap_or_else(|| panic!("{name} is not in Cargo.lock"))
                .iter()
                .cloned()
                .collect(),
        };
        todo.extend(next);
    }
    seen
}

#[test]
fn the_pure_crates_depend_on_no_runtime_or_http_stack() {
    let runtime = [
        "tokio",
        "reqwest",
        "axum",
        "hyper",
        "mio",
        "talon-fake",
        "clap",
    ];
    for (package, also_banned) in [
        ("talon-mapper", &["rand", "rand_chacha"][..]),
        ("talon-mapper-oracles", &["rand", "rand_chacha"]),
        ("segment-model", &["rand", "rand_chacha"]),
        // The reference model is the third, independent side: not the mapper's code.
        ("talon-reference", &["rand", "rand_chacha", "talon-mapper"]),
        // The generator is seeded: rand_chacha is its one source of randomness.
        ("segment-gen", &["talon-mapper"]),
        // Segment's mapping language: pure like the mapper, and no Node (Node is only the
        // differential test's oracle).
        ("segment-mapping", &["rand", "rand_chacha", "talon-mapper"]),
        // Segment's subscription triggers (FQL): pure, likewise.
        (
            "segment-subscriptions",
            &["rand", "rand_chacha", "talon-mapper"],
        ),
    ] {
        let deps = dependencies(package, &["normal", "build"]);
        assert!(deps.contains("serde_json"), "{package}: found {deps:?}");
        for banned in runtime.iter().chain(also_banned) {
            assert!(!deps.contains(*banned), "{package} depends on {banned}");
        }
    }
}

#[test]
fn the_fake_never_depends_on_the_mapper_not_even_for_tests() {
    let deps = dependencies("talon-fake", &["normal", "dev", "build"]);
    assert!(
        deps.contains("axum") && deps.contains("reqwest"),
        "found {deps:?}"
    );
    assert!(
        !deps.contains("talon-mapper"),
        "talon-fake depends on talon-mapper"
    );
}

#[test]
fn the_graph_reader_sees_a_dependency_of_a_dependency() {
    // reqwest is only a dev-dependency of the fake, and hyper comes through it:
    // the closure follows both kinds and lock entries.
    let normal = dependencies("talon-fake", &["normal"]);
    let with_dev = dependencies("talon-fake", &["normal", "dev"]);
    assert!(!normal.contains("reqwest") && with_dev.contains("reqwest"));
    assert!(with_dev.contains("hyper"));
}
