//! `samla-cli organisation …`: an organisation's settings, for its admins.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use samla_protocol::api::OrganisationSettings;

use crate::meeting::ApiArgs;

#[derive(Subcommand)]
pub enum OrganisationCommand {
    /// Print the organisation's settings as JSON.
    Show {
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Change the organisation's settings; running meetings follow at once.
    Set(SetArgs),
}

#[derive(Args)]
pub struct SetArgs {
    #[command(flatten)]
    api: ApiArgs,
    /// Cap on video height in lines for all its meetings (e.g. 360 on thin links), 90 to
    /// 2160; `none` lifts the cap.
    #[arg(long, value_parser = parse_cap)]
    max_video_height: Cap,
}

/// A cap on video height, or none.
#[derive(Debug, Clone, Copy)]
struct Cap(Option<u32>);

fn parse_cap(s: &str) -> Result<Cap, String> {
    if s == "none" {
        return Ok(Cap(None));
    }
    s.parse()
        .map(|h| Cap(Some(h)))
        .map_err(|_| format!("{s:?} is not a number of lines or `none`"))
}

pub async fn run(command: OrganisationCommand) -> anyhow::Result<ExitCode> {
    let settings = match command {
        OrganisationCommand::Show { api } => api.client()?.organisation_settings().await?,
        OrganisationCommand::Set(args) => {
            let new = OrganisationSettings {
                max_video_height: args.max_video_height.0,
            };
            args.api.client()?.set_organisation_settings(&new).await?
        }
    };
    println!("{}", serde_json::to_string(&settings)?);
    Ok(ExitCode::SUCCESS)
}
