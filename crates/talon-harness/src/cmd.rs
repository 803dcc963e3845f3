//! One module per subcommand, each with its `Args` and `run`.

// Commands report on the terminal: only the harness prints.
#![allow(clippy::print_stdout, clippy::print_stderr)]

pub mod check;
pub mod generate;
pub mod map;
pub mod pull;
pub mod replay;
pub mod repro;
pub mod serve;
pub mod simulate;

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
