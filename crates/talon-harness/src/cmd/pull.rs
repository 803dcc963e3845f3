//! `talon-harness pull`: read a deployment's applications, attribute catalog and audiences into a state file.
//!
//! The file is talon-fake's state format, so `check --talon-state` (and a CI
//! job) can gate mapping changes against the real catalog. What it leaves
//! out is printed, and listed in [`crate::management`].

use std::path::PathBuf;

use crate::management::Management;
use crate::{Error, Exit, input};

/// Arguments of `pull`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The Talon.One deployment, e.g. https://yours.talon.one (or a `talon-harness serve`).
    #[arg(long, value_name = "URL")]
    pub target: String,
    /// A Management API key of that deployment (sent as `ManagementKey-v1 <key>`).
    #[arg(long, value_name = "KEY")]
    pub management_key: String,
    /// Write the state file here (`-` for stdout).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Items per Management API request (1..=1000).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub page_size: u16,
}

/// Pulls and writes; exit 0, or 2 when the deployment cannot be read.
pub fn run(args: &Args) -> Result<Exit, Error> {
    crate::management::check_target(&args.target)?;
    let management = Management::new(
        &args.target,
        &args.management_key,
        usize::from(args.page_size),
    );
    let pulled = crate::runtime()?.block_on(management.pull())?;
    let text = pulled.state.to_json_pretty();
    if args.out == std::path::Path::new("-") {
        print!("{text}");
    } else {
        input::write(&args.out, text.as_bytes())?;
    }
    let profile_attributes = pulled
        .state
        .attributes
        .iter()
        .filter(|a| a.entity == talon_fake::rules::Entity::CustomerProfile)
        .count();
    eprintln!(
        "pulled {} application(s), {} attribute(s) ({profile_attributes} CustomerProfile), {} audience(s) from {} into {}",
        pulled.state.applications.len(),
        pulled.state.attributes.len(),
        pulled.state.audiences.len(),
        args.target,
        args.out.display()
    );
    for line in &pulled.left_out {
        eprintln!("left out: {line}");
    }
    Ok(Exit::Success)
}
