//! `talon-harness check`: what Talon.One would reject, found before any traffic.

use std::collections::BTreeMap;
use std::path::PathBuf;

use talon_fake::rules::{AttrType, Entity};
use talon_mapper::{NearMiss, is_valid_attribute_name};

use crate::output::{Check, ReportArgs, RunReport};
use crate::{Error, Exit, input};

/// Arguments of `check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Destination settings JSON.
    #[arg(long, value_name = "FILE")]
    pub settings: PathBuf,
    /// The Talon.One deployment (talon-fake's state format, e.g. exported attributes).
    #[arg(long, value_name = "FILE")]
    pub talon_state: PathBuf,
    /// Events to read Engage audience and computed-trait keys from (optional).
    #[arg(long, value_name = "PATH")]
    pub events: Option<PathBuf>,
    /// An Engage audience key the destination receives (repeatable).
    #[arg(long = "audience-key", value_name = "KEY")]
    pub audience_keys: Vec<String>,
    /// `--report` and `--junit`.
    #[command(flatten)]
    pub output: ReportArgs,
}

/// Lints; exit 1 when Talon.One would reject something.
pub fn run(args: &Args) -> Result<Exit, Error> {
    let (settings, problems) = input::settings(Some(&args.settings))?;
    let state = input::state(&args.talon_state)?;
    let profile_attrs: BTreeMap<&str, AttrType> = state
        .attributes
        .iter()
        .filter(|a| a.entity == Entity::CustomerProfile)
        .map(|a| (a.name.as_str(), a.ty))
        .collect();
    let other_entity: BTreeMap<&str, Entity> = state
        .attributes
        .iter()
        .filter(|a| a.entity != Entity::CustomerProfile)
        .map(|a| (a.name.as_str(), a.entity))
        .collect();

    // Engage keys: given, and read from events.
    let mut engage: BTreeMap<String, &'static str> = args
        .audience_keys
        .iter()
        .map(|k| (k.clone(), "audience"))
        .collect();
    if let Some(path) = &args.events {
        for line in input::events(path)? {
            let Ok(event) = serde_json::from_slice::<serde_json::Value>(&line.bytes) else {
                continue;
            };
            let personas = &event["context"]["personas"];
            if let (Some(class @ ("audience" | "trait")), Some(key)) = (
                personas["computation_class"].as_str(),
                personas["computation_key"].as_str(),
            ) {
                let class = if class == "audience" {
                    "audience"
                } else {
                    "trait"
                };
                engage.entry(key.to_owned()).or_insert(class);
            }
        }
    }

    let mut report = RunReport::new("check");
    report.checks.push(Check::from_details(
        "the settings are valid",
        problems.iter().map(ToString::to_string).collect(),
    ));
    let mut missing = Vec::new();
    for name in settings.custom_attributes() {
        if profile_attrs.contains_key(name.as_str()) {
            continue;
        }
        let mut line = format!(
            "`{name}` is in Custom Attributes but Talon.One has no CustomerProfile attribute of that name: every identify carrying it is rejected"
        );
        if let Some(near) = profile_attrs.keys().find(|a| {
            a.eq_ignore_ascii_case(name) || a.replace('_', ".").eq_ignore_ascii_case(name)
        }) {
            line.push_str(&format!(
                "; Talon.One has `{near}` (names are case-sensitive and use `_`)"
            ));
        } else if let Some(entity) = other_entity.get(name.as_str()) {
            line.push_str(&format!(
                "; it exists for entity {entity:?}, not CustomerProfile"
            ));
        }
        missing.push(line);
    }
    report.checks.push(Check::from_details(
        "every configured Custom Attribute exists in Talon.One with the same name and case",
        missing,
    ));
    let mut near_misses = Vec::new();
    for name in profile_attrs.keys() {
        if settings.is_configured(name) {
            continue;
        }
        if let Some(NearMiss::Case(configured) | NearMiss::Dotted(configured)) =
            settings.near_miss(name)
        {
            near_misses.push(format!(
                "Talon.One has `{name}` but Custom Attributes lists `{configured}`: a trait `{name}` is never sent, a trait `{configured}` is rejected"
            ));
        }
    }
    report.checks.push(Check::from_details(
        "no Custom Attribute differs from a Talon.One attribute only by case or `.`",
        near_misses,
    ));
    let mut engage_problems = Vec::new();
    for (key, class) in &engage {
        if !is_valid_attribute_name(key) {
            engage_problems.push(format!("Engage {class} key `{key}` can never be a Talon.One attribute name (^[A-Za-z]\\w*$): rename the {class}"));
            continue;
        }
        match (profile_attrs.get(key.as_str()), *class) {
            (None, _) => engage_problems.push(format!("Engage {class} key `{key}` has no CustomerProfile attribute in Talon.One: its updates are rejected")),
            (Some(ty), "audience") if *ty != AttrType::Boolean => engage_problems.push(format!(
                "audience key `{key}` is typed `{}` in Talon.One; audiences send true/false, so it must be `boolean`", ty.as_str()
            )),
            _ => {}
        }
    }
    report.checks.push(Check::from_details(
        "every Engage key exists in Talon.One with a fitting type",
        engage_problems,
    ));
    args.output.finish(&report)
}
