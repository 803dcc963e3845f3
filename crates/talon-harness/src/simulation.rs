//! What `simulate` checks and injects, apart from its flags and printing:
//! the fault plan of `--fault-rate`, and the verification of the final
//! profiles against the reference model and the generator's ledger.

use std::collections::BTreeSet;

use segment_gen::{Generator, Profile, Scenario};
use talon_fake::{FaultPlan, FaultResponse, FaultRule};

use crate::Error;
use crate::output::Check;
use crate::verify::{self, Profiles, Reference};
use crate::world::World;

/// A plan that faults `rate` of profile updates: 40% of them 503, 20% each
/// 429, 500 and a dropped connection. Rules are tried in order, so each
/// rule's probability is conditional on the earlier ones not firing.
pub fn fault_plan(rate: f64, seed: u64) -> FaultPlan {
    let parts = [
        (0.4, FaultResponse::Status(503)),
        (0.2, FaultResponse::Status(429)),
        (0.2, FaultResponse::Status(500)),
        (0.2, FaultResponse::DropConnection),
    ];
    let mut left = 1.0;
    let mut rules = Vec::new();
    for (share, respond) in parts {
        let p = (rate * share / left).clamp(0.0, 1.0);
        left -= rate * share;
        rules.push(FaultRule {
            method: Some("PUT".into()),
            path_prefix: Some("/v2/customer_profiles/".into()),
            integration_id: None,
            respond,
            times: None,
            probability: Some(p),
        });
    }
    FaultPlan {
        seed,
        rules,
        rate_limit_per_sec: None,
    }
}

/// The checks of the final profiles `actual`: what the reference model of
/// the rules says after replaying the scenario's events and, for the
/// realistic profile, the ledger of `generator` (which generated them) under
/// the mapping rules.
pub fn verification(
    scenario: &Scenario,
    seed: u64,
    generator: &Generator,
    world: &World,
    actual: &Profiles,
) -> Result<Vec<Check>, Error> {
    let configured: BTreeSet<String> = world.settings.custom_attributes().iter().cloned().collect();
    let mut checks = Vec::new();
    let mut reference = Reference::new(configured.clone(), verify::catalog(&world.catalog));
    let mut replay = Generator::new(scenario.clone(), seed)
        .map_err(|e| Error::Input(format!("invalid scenario: {e}")))?;
    let mut line = Vec::new();
    while replay.next_into(&mut line).is_some() {
        reference.apply(&line);
        line.clear();
    }
    checks.push(Check::from_details(
        "Talon.One holds what the reference model of the rules says",
        verify::compare(&reference.profiles, actual, &world.catalog)
            .iter()
            .map(ToString::to_string)
            .collect(),
    ));
    if scenario.profile == Profile::Realistic {
        let engage: BTreeSet<String> = scenario
            .audience_defs()
            .into_iter()
            .map(|a| a.key)
            .chain(scenario.computed_trait_defs().into_iter().map(|c| c.key))
            .collect();
        let (expected, unknown) =
            verify::expected_from_ledger(&generator.ledger(), &configured, &engage);
        let mut details: Vec<String> = verify::compare(&expected, actual, &world.catalog)
            .iter()
            .map(ToString::to_string)
            .collect();
        details.extend(
            unknown
                .into_iter()
                .map(|u| format!("ledger holds null for {u}")),
        );
        checks.push(Check::from_details(
            "Talon.One holds the generator's ledger under the mapping rules",
            details,
        ));
    }
    Ok(checks)
}
