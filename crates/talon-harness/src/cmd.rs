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
