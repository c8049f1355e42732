//! `samla-cli join`: one scripted participant.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{anyhow, bail};
use clap::Args;
use samla_engine::{
    resolve_join_target, Event, JoinOptions, MeetingView, Session, SessionHandle, Status,
};
use samla_protocol::{ChatTarget, CloseReason, ServerMessage};
use tokio::time::{sleep_until, Instant};
use url::Url;

use crate::narrate::describe;
use crate::recorder::Recorder;

#[derive(Args)]
pub struct JoinArgs {
    /// A join link (http://host/j/123456789), or a meeting id together with --server.
    link: String,
    /// The server, when LINK is a bare meeting id.
    #[arg(long, env = "SAMLA_SERVER")]
    server: Option<Url>,
    #[arg(long)]
    name: String,
    #[arg(long)]
    passcode: Option<String>,
    /// An API token: join as a signed-in member (host of one's own meetings).
    #[arg(long)]
    token: Option<String>,
    /// Admit everyone waiting, now and whenever someone arrives (needs host or co-host).
    #[arg(long)]
    admit_all: bool,
    /// Send this text to everyone once in the meeting; repeat for several messages.
    #[arg(long = "chat", value_name = "TEXT")]
    chats: Vec<String>,
    /// Stay this long (e.g. 10s, 2m), then leave. Default: until Ctrl-C or the meeting ends.
    #[arg(long = "for", value_name = "DURATION", value_parser = humantime::parse_duration)]
    stay: Option<Duration>,
    /// Write every event, with `t_ms` since start, as a JSON array to this file on exit.
    #[arg(long, value_name = "FILE")]
    events_json: Option<PathBuf>,
}

pub async fn run(args: JoinArgs) -> anyhow::Result<ExitCode> {
    let mut recorder = Recorder::new(Instant::now());
    let outcome = participate(&args, &mut recorder).await;
    if let Some(path) = &args.events_json {
        if let Err(err) = recorder.write(path) {
            // Don't let a failed write hide why the session ended.
            eprintln!("samla-cli: {err:#}");
        }
    }
    outcome
}

async fn participate(args: &JoinArgs, recorder: &mut Recorder) -> anyhow::Result<ExitCode> {
    let (server, meeting_id) = resolve_join_target(&args.link, args.server.as_ref())?;
    let opts = JoinOptions {
        passcode: args.passcode.clone(),
        token: args.token.clone(),
        ..JoinOptions::new(server, meeting_id, &args.name)
    };
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);

    let joined = tokio::select! {
        joined = Session::join(opts) => joined,
        _ = &mut ctrl_c => {
            recorder.record(&Event::Failed { message: "interrupted while joining".into() });
            bail!("interrupted while joining");
        }
    };
    let (handle, mut events) = joined.map_err(|err| {
        // The recording ends with a terminal event even when the join was refused.
        recorder.record(&Event::Failed {
            message: err.to_string(),
        });
        anyhow!("could not join: {err}")
    })?;

    let deadline = args.stay.map(|stay| Instant::now() + stay);
    let mut script = Script::new(args);
    let mut view = MeetingView::default();
    let mut leaving = false;
    let mut last = None;
    loop {
        tokio::select! {
            event = events.recv() => {
                let Some(event) = event else { break };
                if let Some(line) = describe(&event, &view) {
                    eprintln!("{line}");
                }
                view.apply(&event);
                recorder.record(&event);
                if !leaving {
                    script.act(&handle, &view, &event);
                }
                if is_outcome(&event) {
                    last = Some(event);
                }
            }
            _ = sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() && !leaving => {
                eprintln!("time is up; leaving");
                leaving = true;
                let _ = handle.leave();
            }
            _ = &mut ctrl_c, if !leaving => {
                eprintln!("interrupted; leaving");
                leaving = true;
                let _ = handle.leave();
            }
        }
    }
    exit_code(last)
}

/// The events that decide how the session went: its `closed` or its failure.
fn is_outcome(event: &Event) -> bool {
    matches!(
        event,
        Event::Failed { .. } | Event::Server(ServerMessage::Closed { .. })
    )
}

/// Success when we left or the meeting ended; failure, with the reason, otherwise.
fn exit_code(outcome: Option<Event>) -> anyhow::Result<ExitCode> {
    match outcome {
        // Ended without a `closed`: we left while the server could not confirm it.
        None
        | Some(Event::Server(ServerMessage::Closed {
            reason: CloseReason::Left | CloseReason::MeetingEnded,
        })) => Ok(ExitCode::SUCCESS),
        Some(Event::Server(ServerMessage::Closed {
            reason: CloseReason::Denied,
        })) => {
            bail!("a host denied entry from the waiting room")
        }
        Some(Event::Server(ServerMessage::Closed {
            reason: CloseReason::Removed,
        })) => {
            bail!("removed from the meeting by a host")
        }
        Some(Event::Server(ServerMessage::Closed {
            reason: CloseReason::Replaced,
        })) => {
            bail!("the seat was taken over by another connection")
        }
        Some(Event::Failed { message }) => bail!("session failed: {message}"),
        Some(other) => unreachable!("not an outcome: {other:?}"),
    }
}

/// What `--chat` and `--admit-all` ask for, and how much of it is done.
struct Script {
    admit_all: bool,
    chats: Vec<String>,
    warned_not_moderator: bool,
}

impl Script {
    fn new(args: &JoinArgs) -> Self {
        Self {
            admit_all: args.admit_all,
            chats: args.chats.clone(),
            warned_not_moderator: false,
        }
    }

    /// Reacts to one event, with `view` already updated by it.
    fn act(&mut self, handle: &SessionHandle, view: &MeetingView, event: &Event) {
        if view.status != Status::Joined {
            return;
        }
        for text in self.chats.drain(..) {
            let _ = handle.chat(ChatTarget::Everyone, text);
        }
        // Only when the waiting room (or our role) may have changed: the server answers an
        // admission with a new waiting-room list, and re-admitting on that would loop.
        let relevant = matches!(
            event,
            Event::Server(
                ServerMessage::Joined { .. }
                    | ServerMessage::WaitingRoom { .. }
                    | ServerMessage::ParticipantUpdated { .. }
            )
        );
        if !self.admit_all || !relevant {
            return;
        }
        if view.is_moderator() {
            if !view.waiting.is_empty() {
                let _ = handle.admit_all();
            }
        } else if !self.warned_not_moderator {
            self.warned_not_moderator = true;
            eprintln!("--admit-all: not a host or co-host, so nobody can be admitted (yet)");
        }
    }
}
