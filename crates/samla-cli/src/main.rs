//! `samla-cli`: a headless Samla client for scripts, tests and benchmarks.
//!
//! - `meeting create|list|delete` manage meetings over the REST API.
//! - `join` sits in a meeting as one participant, acts as told, and records what it saw.
//! - `load` puts many participants into one meeting at once and reports join times.

mod frames;
mod join;
mod load;
mod meeting;
mod narrate;
mod organisation;
mod recorder;
mod wav;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "samla-cli", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create, list and delete meetings (needs an API token).
    #[command(subcommand)]
    Meeting(meeting::MeetingCommand),
    /// Show or change the organisation's settings (needs an admin's API token).
    #[command(subcommand)]
    Organisation(organisation::OrganisationCommand),
    /// Join a meeting as one participant.
    Join(join::JoinArgs),
    /// Join a meeting with many participants at once and report join times as JSON.
    Load(load::LoadArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let result = match Cli::parse().command {
        Command::Meeting(command) => meeting::run(command).await,
        Command::Organisation(command) => organisation::run(command).await,
        Command::Join(args) => join::run(args).await,
        Command::Load(args) => load::run(args).await,
    };
    result.unwrap_or_else(|err| {
        eprintln!("samla-cli: {err:#}");
        ExitCode::FAILURE
    })
}
