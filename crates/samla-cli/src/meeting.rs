//! `samla-cli meeting …`: the REST API from the command line.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use samla_engine::api::ApiClient;
use samla_protocol::api::NewMeeting;
use samla_protocol::{MeetingId, SharePolicy};
use url::Url;

/// Where the API is and who we are there.
#[derive(Args)]
pub struct ApiArgs {
    /// The server's public URL, e.g. http://localhost:7700.
    #[arg(long, env = "SAMLA_SERVER")]
    server: Url,
    /// An API token.
    #[arg(long, env = "SAMLA_TOKEN", hide_env_values = true)]
    token: String,
}

impl ApiArgs {
    pub fn client(&self) -> anyhow::Result<ApiClient> {
        Ok(ApiClient::new(&self.server, &self.token)?)
    }
}

#[derive(Subcommand)]
pub enum MeetingCommand {
    /// Schedule a meeting; prints its join link alone on the last line.
    Create {
        #[command(flatten)]
        api: ApiArgs,
        #[arg(long, default_value = "Samla meeting")]
        topic: String,
        #[arg(long)]
        passcode: Option<String>,
        /// Hold people in a waiting room until a host admits them.
        #[arg(long)]
        waiting_room: bool,
        /// Only signed-in members of the organisation may join.
        #[arg(long)]
        signed_in_only: bool,
        /// Start time, RFC 3339 (e.g. 2026-12-01T08:15:00Z); checked by the server.
        #[arg(long)]
        start: Option<String>,
        /// Planned length in minutes.
        #[arg(long)]
        duration: Option<u32>,
        /// Start with people muted as they join (hosts can change it in the meeting).
        #[arg(long)]
        mute_on_entry: bool,
        /// Start with only hosts allowed to share a screen (hosts can change it).
        #[arg(long)]
        hosts_only_share: bool,
    },
    /// List meetings: id, start, topic and link, tab-separated, one per line.
    List {
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Delete a meeting.
    Delete {
        id: MeetingId,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Who attended a meeting, as CSV on standard output (name, email, first_joined,
    /// last_left, minutes, times_joined): for a course's attendance list.
    Attendance {
        id: MeetingId,
        #[command(flatten)]
        api: ApiArgs,
    },
}

pub async fn run(command: MeetingCommand) -> anyhow::Result<ExitCode> {
    match command {
        MeetingCommand::Create {
            api,
            topic,
            passcode,
            waiting_room,
            signed_in_only,
            start,
            duration,
            mute_on_entry,
            hosts_only_share,
        } => {
            let new = NewMeeting {
                topic,
                passcode,
                waiting_room,
                signed_in_only,
                start_time: start,
                duration_minutes: duration,
                mute_on_entry,
                share_policy: if hosts_only_share {
                    SharePolicy::HostsOnly
                } else {
                    SharePolicy::Everyone
                },
            };
            let meeting = api
                .client()?
                .create_meeting(&new)
                .await
                .context("could not create the meeting")?;
            println!("meeting {} {:?}", meeting.id, meeting.topic);
            // Last line, alone: scripts take it with `tail -n1`.
            println!("{}", meeting.join_url);
        }
        MeetingCommand::List { api } => {
            let meetings = api
                .client()?
                .list_meetings()
                .await
                .context("could not list meetings")?;
            for m in meetings {
                let start = m.start_time.as_deref().unwrap_or("instant");
                println!("{}\t{}\t{}\t{}", m.id, start, m.topic, m.join_url);
            }
        }
        MeetingCommand::Attendance { id, api } => {
            let csv = api
                .client()?
                .attendance_csv(&id)
                .await
                .with_context(|| format!("could not get the attendance of meeting {id}"))?;
            print!("{csv}");
        }
        MeetingCommand::Delete { id, api } => {
            api.client()?
                .delete_meeting(&id)
                .await
                .with_context(|| format!("could not delete meeting {id}"))?;
            eprintln!("deleted meeting {id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
