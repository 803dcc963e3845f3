//! One module per subcommand, each with its `Args` and `run`.

// Commands report on the terminal: only the harness prints.
#![allow(clippy::print_stdout, clippy::print_stderr)]

pub mod check;
pub mod diff;
pub mod generate;
pub mod map;
pub mod mapping;
pub mod pull;
pub mod replay;
pub mod repro;
pub mod serve;
pub mod simulate;

use std::path::PathBuf;

/// `--concurrency`'s default, for `simulate` and `replay` alike (replay's was 8 before issue 12).
///
/// 32 because concurrency changes only speed, never outcomes: each profile's
/// updates go through one lane, in order, whatever the count (the invariant
/// `the_same_plan_and_seed_give_the_same_outcomes_whatever_the_concurrency`
/// pins), so Talon.One's 409 for concurrent updates of one profile cannot be
/// provoked by it. Talon.One publishes no numeric rate limit for the
/// Integration API (`talon-one-facts.md` §3.8), and a 429 is retried within
/// `--retry-budget`. And the benchmarks (`simulate`, the fake's `wrk -c32`)
/// measure at 32, so the default is the measured setting. Chosen here; lower
/// it for a deployment that answers 429 often.
pub const DEFAULT_CONCURRENCY: usize = 32;

/// How a command delivers and what it writes beside its report: declared once,
/// flattened into `simulate` and `replay` (`repro` delivers one event at a time
/// and writes `expected.json`, so it takes none of these).
#[derive(Debug, Clone, clap::Args)]
pub struct DeliveryArgs {
    /// Profiles delivered to at once (at least 1).
    #[arg(long, default_value_t = DEFAULT_CONCURRENCY, value_parser = at_least_one_usize)]
    pub concurrency: usize,
    /// Attempts and retry budget.
    #[command(flatten)]
    pub retry: RetryArgs,
    /// Write each event's outcome as NDJSON to this file (`-` for stdout).
    #[arg(long, value_name = "FILE")]
    pub outcomes: Option<PathBuf>,
    /// Write the final state to this file (the embedded fake's, or a replay target's `/__admin/state`).
    #[arg(long, value_name = "FILE")]
    pub dump_state: Option<PathBuf>,
    /// Exit 1 when Talon.One rejected any event.
    #[arg(long)]
    pub fail_on_reject: bool,
}

impl DeliveryArgs {
    /// Sets the concurrency, the attempt limit and the budget of `config`.
    pub fn apply(&self, config: &mut crate::deliver::DeliveryConfig) {
        config.concurrency = self.concurrency;
        self.retry.apply(config);
    }

    /// Whether `--outcomes -` sends the outcomes to standard output.
    pub fn outcomes_on_stdout(&self) -> bool {
        self.outcomes.as_deref() == Some(std::path::Path::new("-"))
    }

    /// Refuses `--outcomes -` with `--report json`: standard output carries one thing.
    pub fn check_streams(&self, report: crate::output::ReportFormat) -> Result<(), crate::Error> {
        if self.outcomes_on_stdout() && report == crate::output::ReportFormat::Json {
            return Err(crate::Error::Input(
                "--outcomes - and --report json would both write to standard output: send one of them to a file".into(),
            ));
        }
        Ok(())
    }

    /// Opens `--outcomes` for buffered writing: standard output for `-`, else the file.
    pub fn open_outcomes(&self) -> Result<Option<Box<dyn std::io::Write + Send>>, crate::Error> {
        if self.outcomes_on_stdout() {
            return Ok(Some(Box::new(std::io::BufWriter::new(std::io::stdout()))));
        }
        Ok(crate::input::create_optional(self.outcomes.as_deref())?
            .map(|w| Box::new(w) as Box<dyn std::io::Write + Send>))
    }

    /// `--outcomes`'s path as errors name it.
    pub fn outcomes_name(&self) -> String {
        self.outcomes
            .as_deref()
            .map_or_else(|| "-".into(), |p| p.display().to_string())
    }
}

/// A count flag that must be at least 1 (`--concurrency`).
pub(crate) fn at_least_one_usize(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// A count flag that must be at least 1 (`--max-attempts`).
pub(crate) fn at_least_one_u32(text: &str) -> Result<u32, String> {
    match text.parse::<u32>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// A share in `[0, 1)` (`--fault-rate`).
pub(crate) fn share_below_one(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if (0.0..1.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!(
            "must be at least 0 and below 1 (a share of requests), not {text}"
        ))
    }
}

/// How long and how often a request is retried: shared by every command that delivers.
#[derive(Debug, Clone, clap::Args)]
pub struct RetryArgs {
    /// Give up on an event after this many attempts, the first included (at least 1)
    /// [default: no limit: the retry budget decides]
    #[arg(long, value_name = "N", value_parser = at_least_one_u32)]
    pub max_attempts: Option<u32>,
    /// Give up on an event once its retries have taken this many seconds (backoff and
    /// `Retry-After` waits included): long enough to ride out a restart of the target.
    #[arg(long, value_name = "SECONDS", default_value_t = crate::deliver::DEFAULT_RETRY_BUDGET.as_secs_f64(), allow_hyphen_values = true, value_parser = positive_seconds)]
    pub retry_budget: f64,
}

impl RetryArgs {
    /// Sets the attempt limit and the budget of `config`.
    pub fn apply(&self, config: &mut crate::deliver::DeliveryConfig) {
        if let Some(max) = self.max_attempts {
            config.max_attempts = max;
        }
        config.retry_budget = std::time::Duration::from_secs_f64(self.retry_budget);
    }
}

/// A number of seconds from 0 to a day (`--retry-budget`; 0: one attempt, no retry).
pub(crate) fn positive_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if (0.0..=86_400.0).contains(&value) => Ok(value),
        Ok(_) => Err(format!("must be between 0 and 86400 seconds, not {text}")),
        Err(_) => Err(format!("`{text}` is not a number of seconds")),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    /// `simulate` or `replay`, parsed as the binary parses them.
    #[derive(Debug, Parser)]
    enum Cli {
        Simulate(super::simulate::Args),
        Replay(super::replay::Args),
    }

    fn delivery(args: &[&str]) -> super::DeliveryArgs {
        match Cli::try_parse_from(std::iter::once("talon-harness").chain(args.iter().copied())) {
            Ok(Cli::Simulate(a)) => a.delivery,
            Ok(Cli::Replay(a)) => a.delivery,
            Err(e) => panic!("{e}"),
        }
    }

    fn shown(d: &super::DeliveryArgs) -> String {
        format!(
            "{} {:?} {} {:?} {:?} {}",
            d.concurrency,
            d.retry.max_attempts,
            d.retry.retry_budget,
            d.outcomes,
            d.dump_state,
            d.fail_on_reject
        )
    }

    #[test]
    fn simulate_and_replay_share_one_set_of_delivery_defaults() {
        let simulate = delivery(&["simulate"]);
        let replay = delivery(&["replay", "--events", "e.ndjson"]);
        assert_eq!(shown(&simulate), shown(&replay));
        assert_eq!(simulate.concurrency, super::DEFAULT_CONCURRENCY);
        assert_eq!(replay.concurrency, 32);
    }

    #[test]
    fn simulate_and_replay_read_the_delivery_flags_alike() {
        let flags = [
            "--concurrency",
            "3",
            "--max-attempts",
            "2",
            "--retry-budget",
            "1.5",
            "--outcomes",
            "-",
            "--dump-state",
            "s.json",
            "--fail-on-reject",
        ];
        let simulate = delivery(&[&["simulate"][..], &flags].concat());
        let replay = delivery(&[&["replay", "--events", "e.ndjson"][..], &flags].concat());
        assert_eq!(shown(&simulate), shown(&replay));
        assert_eq!(
            shown(&simulate),
            "3 Some(2) 1.5 Some(\"-\") Some(\"s.json\") true"
        );
        assert!(simulate.outcomes_on_stdout());
    }
}
