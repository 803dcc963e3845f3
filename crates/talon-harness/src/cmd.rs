//! One module per subcommand, each with its `Args` and `run`.

// Commands report on the terminal: only the harness prints.
#![allow(clippy::print_stdout, clippy::print_stderr)]

pub mod check;
pub mod generate;
pub mod map;
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
