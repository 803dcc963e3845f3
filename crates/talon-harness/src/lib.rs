//! The harness behind the `talon-harness` binary: delivery, reports, verification and the commands.
//!
//! The binary (`src/main.rs`) only parses arguments and calls [`cmd`]; the
//! rest is a library so that tests drive it directly.

pub mod bundle;
pub mod cmd;
pub mod deliver;
pub mod diff;
pub mod input;
pub mod management;
pub mod output;
pub mod preflight;
pub mod report;
pub mod run;
pub mod simulation;
pub mod verify;
pub mod world;

/// Which Segment destination a command runs: `--destination` of every command that takes
/// one (simulate, replay, repro's bundles, check, map, diff), or what the files imply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum DestinationKind {
    /// The classic Talon.One destination.
    #[default]
    Classic,
    /// Talon.One (Actions): subscriptions, through Talon.One's Segment relay.
    Actions,
}

impl DestinationKind {
    /// The destination `--destination` names, or else the one the files show: `actions`
    /// when subscriptions are given or the settings name a `deployment`, else `classic`.
    pub(crate) fn infer(
        explicit: Option<Self>,
        settings_text: Option<&str>,
        subscriptions_given: bool,
    ) -> Self {
        let names_deployment = settings_text.is_some_and(|text| {
            serde_json::from_str::<serde_json::Value>(text)
                .ok()
                .is_some_and(|v| v.get("deployment").is_some())
        });
        explicit.unwrap_or(if subscriptions_given || names_deployment {
            Self::Actions
        } else {
            Self::Classic
        })
    }
}

/// How a command ended, as the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: the command did its job and found nothing to report.
    Success = 0,
    /// 1: the command ran and found something (a rejection with
    /// `--fail-on-reject`, a repro mismatch, a failed verification).
    Findings = 1,
    /// 2: the command could not run (bad usage, unreadable input).
    Usage = 2,
}

/// An error that stops a command before it can report results (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or stream could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path involved (`-` for standard input or output).
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The destination settings are invalid.
    #[error("{path}: {source}")]
    Settings {
        /// The settings file.
        path: String,
        /// Every problem found.
        source: talon_mapper::SettingsErrors,
    },
    /// Any other input that cannot be used.
    #[error("{0}")]
    Input(String),
}

/// The runtime the commands run on: multi-threaded, one worker per core.
pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| Error::Io {
            path: "tokio runtime".into(),
            source,
        })
}
