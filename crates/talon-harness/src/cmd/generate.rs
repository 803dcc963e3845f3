//! `talon-harness gen`: seeded Segment traffic as NDJSON, and its ledger.
//!
//! Also the scenario flags `simulate` shares ([`ScenarioArgs`]): clap lives
//! here, not in `segment-gen`; the flags become a
//! [`segment_gen::cli::Overrides`], laid over the base scenario by
//! [`segment_gen::Scenario::with_overrides`].

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use clap::ValueEnum;
use segment_gen::cli::Overrides;
use segment_gen::{Generator, Profile, Scenario};

use crate::{Error, Exit, input};

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
#[derive(Debug, Clone, clap::Args)]
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
    /// Traffic for Talon.One (Actions): commerce tracks on and Engage
    /// audiences sent both as identifies and as `Audience Entered`/`Exited`
    /// tracks (the same as `--scenario fixtures/gen/actions.json`).
    #[arg(long)]
    pub actions: bool,
    /// Chance per user per day of a shopping session (commerce tracks) [default: 0, with --actions 0.3].
    #[arg(long, value_name = "P")]
    pub commerce_share: Option<f64>,
}

impl GenArgs {
    /// The scenario: `--scenario` and the shared flags, then `--actions`
    /// and `--commerce-share`.
    fn scenario(&self) -> Result<Scenario, Error> {
        let base = input::scenario(&self.spec)?;
        let overrides = Overrides {
            actions: self.actions,
            commerce_share: self.commerce_share,
            ..Overrides::default()
        };
        Ok(Scenario::with_overrides(Some(base), &overrides))
    }
}

/// A scenario and a seed, as flags: shared by `gen` and `simulate`.
#[derive(Debug, Clone, clap::Args)]
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

impl ScenarioArgs {
    /// The flags as the generator's overrides.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            profile: self.profile.map(Profile::from),
            users: self.users,
            days: self.days,
            audiences: self.audiences,
            computed_traits: self.computed_traits,
            events: self.events,
            audience_track_events: self.audience_track_events,
            ..Overrides::default()
        }
    }

    /// The scenario: `base` (the `--scenario` file's content, if any, or the
    /// profile's defaults) with the flags applied.
    pub fn to_scenario(&self, base: Option<Scenario>) -> Scenario {
        Scenario::with_overrides(base, &self.overrides())
    }
}

/// Writes the events (stdout or `--out`) and the ledger (`--ledger`). Exit 0.
pub fn run(args: &GenArgs) -> Result<Exit, Error> {
    let scenario = args.scenario()?;
    let mut generator = Generator::new(scenario, args.spec.seed)
        .map_err(|e| Error::Input(format!("invalid scenario: {e}")))?;
    let out_name = args
        .out
        .as_ref()
        .map_or_else(|| "-".to_owned(), |p| p.display().to_string());
    let io_error = |source| Error::Io {
        path: out_name.clone(),
        source,
    };
    match &args.out {
        Some(path) => {
            let mut file = input::create_optional(Some(path))?.expect("a path was given");
            generator.write_ndjson(&mut file).map_err(io_error)?;
            file.flush().map_err(io_error)?;
        }
        None => {
            let stdout = io::stdout();
            let mut lock = BufWriter::with_capacity(1 << 16, stdout.lock());
            match generator.write_ndjson(&mut lock).and_then(|_| lock.flush()) {
                // A closed pipe (`| head`) is a normal way to stop.
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(Exit::Success),
                other => other.map_err(io_error)?,
            }
        }
    }
    if let Some(path) = &args.ledger {
        let mut file = input::create_optional(Some(path))?.expect("a path was given");
        let ledger_error =
            |e: &dyn std::fmt::Display| Error::Input(format!("{}: {e}", path.display()));
        generator
            .write_ledger(&mut file)
            .map_err(|e| ledger_error(&e))?;
        file.write_all(b"\n")
            .and_then(|()| file.flush())
            .map_err(|e| ledger_error(&e))?;
    }
    Ok(Exit::Success)
}
