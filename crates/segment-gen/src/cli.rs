//! `GenArgs`: the `gen` command's arguments, shared by the `segment-gen` binary and `talon-harness gen`.
//!
//! Parsing only: turning arguments into a [`Scenario`] is pure; opening
//! files and writing is the binary's job.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::{Profile, Scenario};

/// The profile as a command-line value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProfileArg {
    /// Consistently typed traits as real sources send them.
    Realistic,
    /// Nulls, collisions, deep nesting, odd keys and ids, often.
    Edge,
}

impl From<ProfileArg> for Profile {
    fn from(p: ProfileArg) -> Self {
        match p {
            ProfileArg::Realistic => Self::Realistic,
            ProfileArg::Edge => Self::Edge,
        }
    }
}

/// Generate seeded Segment traffic as NDJSON, with its ground-truth ledger.
#[derive(Debug, Clone, Args)]
pub struct GenArgs {
    /// The scenario and seed.
    #[command(flatten)]
    pub spec: ScenarioArgs,
    /// Write NDJSON here instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Write the ledger (JSON) here.
    #[arg(long, value_name = "FILE")]
    pub ledger: Option<PathBuf>,
}

/// A scenario and a seed, as flags: shared by `gen` and `talon-harness simulate`.
#[derive(Debug, Clone, Args)]
pub struct ScenarioArgs {
    /// The seed: the same seed and sizes give byte-identical output.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// A JSON scenario file (see `fixtures/gen/`); flags below override it.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Users in the population [default: 1000].
    #[arg(long)]
    pub users: Option<u32>,
    /// Simulated days [default: 30].
    #[arg(long)]
    pub days: Option<u32>,
    /// Engage audiences [default: 4].
    #[arg(long)]
    pub audiences: Option<u32>,
    /// Engage computed traits [default: 3].
    #[arg(long)]
    pub computed_traits: Option<u32>,
    /// Realistic or edge traits and ids [default: realistic].
    #[arg(long, value_enum)]
    pub profile: Option<ProfileArg>,
    /// Stop after this many events.
    #[arg(long, value_name = "N")]
    pub events: Option<u64>,
    /// Also send audience changes as Track `Audience Entered`/`Exited`.
    #[arg(long)]
    pub audience_track_events: bool,
}

impl GenArgs {
    /// See [`ScenarioArgs::to_scenario`].
    pub fn to_scenario(&self, base: Option<Scenario>) -> Scenario {
        self.spec.to_scenario(base)
    }
}

impl ScenarioArgs {
    /// The scenario: `base` (the `--scenario` file's content, if any, or the
    /// profile's defaults) with the flags applied.
    pub fn to_scenario(&self, base: Option<Scenario>) -> Scenario {
        let mut scenario = base.unwrap_or_else(|| {
            Scenario::for_profile(self.profile.map_or(Profile::Realistic, Profile::from))
        });
        if let Some(profile) = self.profile {
            scenario.profile = profile.into();
        }
        if let Some(users) = self.users {
            scenario.users = users;
        }
        if let Some(days) = self.days {
            scenario.days = days;
        }
        if let Some(audiences) = self.audiences {
            scenario.audiences = audiences;
        }
        if let Some(computed) = self.computed_traits {
            scenario.computed_traits = computed;
        }
        if self.events.is_some() {
            scenario.max_events = self.events;
        }
        if self.audience_track_events {
            scenario.audience_track_events = true;
        }
        scenario
    }
}
