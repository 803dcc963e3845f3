//! The pure crates must not depend on a runtime or an HTTP stack.

use std::process::Command;

fn dependencies(package: &str, kinds: &str) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "tree",
            "--offline",
            "-e",
            kinds,
            "--prefix",
            "none",
            "--format",
            "{p}",
            "-p",
            package,
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
        .collect()
}

#[test]
fn the_pure_crates_depend_on_no_runtime_or_http_stack() {
    let runtime = ["tokio", "reqwest", "axum", "hyper", "mio", "talon-fake"];
    for (package, also_banned) in [
        ("talon-mapper", &["rand", "rand_chacha"][..]),
        ("talon-mapper-oracles", &["rand", "rand_chacha"]),
        ("segment-model", &["rand", "rand_chacha"]),
        // The generator is seeded: rand_chacha is its one source of randomness.
        ("segment-gen", &["talon-mapper"]),
    ] {
        let deps = dependencies(package, "normal");
        assert!(
            deps.iter().any(|d| d == "serde_json"),
            "{package}: cargo tree listed {deps:?}"
        );
        for banned in runtime.iter().chain(also_banned) {
            assert!(
                !deps.iter().any(|d| d == banned),
                "{package} depends on {banned}"
            );
        }
    }
}

#[test]
fn the_fake_never_depends_on_the_mapper_not_even_for_tests() {
    let deps = dependencies("talon-fake", "normal,dev,build");
    assert!(
        deps.iter().any(|d| d == "axum") && deps.iter().any(|d| d == "reqwest"),
        "cargo tree listed {deps:?}"
    );
    assert!(
        !deps.iter().any(|d| d == "talon-mapper"),
        "talon-fake depends on talon-mapper"
    );
}
