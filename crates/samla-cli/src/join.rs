//! `samla-cli join`: one scripted participant.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{anyhow, bail};
use clap::Args;
use samla_engine::media::{AudioSink, AudioSpec, FrameSink, MediaOptions, MediaSession, VideoSpec};
use samla_engine::{
    resolve_join_target, Event, JoinOptions, MeetingView, Session, SessionHandle, Status,
};
use samla_protocol::{ChatTarget, ClientMessage, CloseReason, ServerMessage};
use tokio::time::{sleep_until, Instant};
use url::Url;

use crate::frames::SaveFrames;
use crate::narrate::describe;
use crate::recorder::Recorder;
use crate::wav::{AudioOut, WavSink};

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
    /// Answer every poll the meeting runs with this answer (1 is the first); repeat to pick
    /// several where a poll allows it. An answer the poll does not have is left out.
    #[arg(long = "answer-poll", value_name = "N", value_parser = clap::value_parser!(u8).range(1..))]
    poll_answers: Vec<u8>,
    /// Stay this long (e.g. 10s, 2m), then leave. Default: until Ctrl-C or the meeting ends.
    #[arg(long = "for", value_name = "DURATION", value_parser = humantime::parse_duration)]
    stay: Option<Duration>,
    /// Write every event, with `t_ms` since start, as a JSON array to this file on exit.
    #[arg(long, value_name = "FILE")]
    events_json: Option<PathBuf>,
    /// Publish video: `synthetic:WxH@FPS` (a test pattern carrying our id and capture time).
    #[arg(long, value_name = "SOURCE")]
    video: Option<VideoSpec>,
    /// Publish audio: `synthetic` (a tone whose pitch says who we are).
    #[arg(long, value_name = "SOURCE")]
    audio: Option<AudioSpec>,
    /// Play what we hear (everyone else's audio, mixed) into `wav:FILE`, a 48 kHz mono WAV
    /// file.
    #[arg(long, value_name = "OUTPUT")]
    audio_out: Option<AudioOut>,
    /// Receive media and write per-participant stats as JSON to this file every second and on
    /// exit.
    #[arg(long, value_name = "FILE")]
    stats_json: Option<PathBuf>,
    /// Receive media and keep the latest decoded picture of each remote participant's camera
    /// and screen share as DIR/{participant}-{camera|screen}.ppm, rewritten at most once a
    /// second (DIR is created).
    #[arg(long, value_name = "DIR")]
    save_frames: Option<PathBuf>,
    /// Count received media without decoding it (for load tests).
    #[arg(long)]
    no_decode: bool,
    /// Send low-quality video: only the lowest simulcast layer (for a thin or metered link).
    #[arg(long)]
    low_quality: bool,
}

impl JoinArgs {
    /// Whether any media flag asks for a WebRTC connection.
    fn wants_media(&self) -> bool {
        self.video.is_some()
            || self.audio.is_some()
            || self.stats_json.is_some()
            || self.save_frames.is_some()
            || self.audio_out.is_some()
    }
}

/// Writes the stats atomically (temp file + rename) so a reader never sees half a file.
pub fn write_stats(path: &std::path::Path, stats: &serde_json::Value) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(stats)?)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
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
    let server_host = server.host_str().unwrap_or("127.0.0.1").to_owned();
    let opts = JoinOptions {
        passcode: args.passcode.clone(),
        token: args.token.clone(),
        ..JoinOptions::new(server, meeting_id, &args.name)
    };
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);

    let join_started = std::time::Instant::now();
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

    if let Some(dir) = &args.save_frames {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow!("cannot create {}: {e}", dir.display()))?;
    }
    let sinks: Vec<Box<dyn FrameSink>> = match &args.save_frames {
        Some(dir) => vec![Box::new(SaveFrames::new(dir.clone())?)],
        None => Vec::new(),
    };
    let audio_output: Option<Box<dyn AudioSink>> = match &args.audio_out {
        Some(AudioOut::Wav(path)) => {
            Some(Box::new(WavSink::create(path).map_err(|e| {
                anyhow!("cannot create {}: {e}", path.display())
            })?))
        }
        None => None,
    };
    let media = args.wants_media().then(|| {
        MediaSession::start(
            handle.clone(),
            MediaOptions {
                video: args.video,
                audio: args.audio.map(Into::into),
                audio_output,
                no_decode: args.no_decode,
                low_quality: args.low_quality,
                started_at: join_started,
                sinks,
                ..MediaOptions::new(server_host)
            },
        )
    });
    let mut stats_tick = tokio::time::interval(Duration::from_secs(1));
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
                if let Some(media) = &media {
                    media.on_event(&event);
                }
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
            _ = stats_tick.tick(), if media.is_some() => {
                save_stats(args, media.as_ref());
            }
        }
    }
    save_stats(args, media.as_ref());
    exit_code(last)
}

fn save_stats(args: &JoinArgs, media: Option<&MediaSession>) {
    if let (Some(path), Some(media)) = (&args.stats_json, media) {
        if let Err(err) = write_stats(path, &media.stats_json()) {
            eprintln!("samla-cli: writing {}: {err:#}", path.display());
        }
    }
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

/// What `--chat`, `--admit-all` and `--answer-poll` ask for, and how much of it is done.
struct Script {
    admit_all: bool,
    chats: Vec<String>,
    /// Option indexes (from 0) to answer polls with.
    poll_answers: Vec<u8>,
    warned_not_moderator: bool,
    /// Our microphone and camera state, told to the meeting once we are in, so that others'
    /// rosters show that we send sound and picture.
    media_state: Option<ClientMessage>,
}

impl Script {
    fn new(args: &JoinArgs) -> Self {
        Self {
            admit_all: args.admit_all,
            chats: args.chats.clone(),
            poll_answers: args.poll_answers.iter().map(|n| n - 1).collect(),
            warned_not_moderator: false,
            media_state: args.wants_media().then(|| ClientMessage::SetMedia {
                audio_muted: args.audio.is_none(),
                video_on: args.video.is_some(),
            }),
        }
    }

    /// Reacts to one event, with `view` already updated by it.
    fn act(&mut self, handle: &SessionHandle, view: &MeetingView, event: &Event) {
        if view.status != Status::Joined {
            return;
        }
        if let Some(state) = self.media_state.take() {
            let _ = handle.send(state);
        }
        for text in self.chats.drain(..) {
            let _ = handle.chat(ChatTarget::Everyone, text);
        }
        if let (Event::Server(ServerMessage::Poll { poll }), false) =
            (event, self.poll_answers.is_empty())
        {
            if poll.open && poll.mine.is_empty() {
                let choices: Vec<u8> = self
                    .poll_answers
                    .iter()
                    .copied()
                    .filter(|&c| usize::from(c) < poll.options.len())
                    .take(if poll.multiple { usize::MAX } else { 1 })
                    .collect();
                if !choices.is_empty() {
                    let _ = handle.send(ClientMessage::Vote {
                        poll: poll.id,
                        choices,
                    });
                }
            }
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
