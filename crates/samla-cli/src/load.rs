//! `samla-cli load`: many participants in one meeting, from one process, to measure how
//! long joining takes under load.
//!
//! Participants start spread evenly over `--ramp`. Join time runs from starting to connect
//! until `joined` (so it includes the waiting room, where the first participant, if it is a
//! host, admits everyone). Once all have joined or failed, everyone stays `--for`, then leaves.

use std::process::ExitCode;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use samla_engine::media::{AudioSpec, MediaOptions, MediaSession, ParticipantStats, VideoSpec};
use samla_engine::{resolve_join_target, Event, JoinOptions, Session, SessionHandle, Status};
use std::collections::BTreeMap;

use samla_protocol::{MeetingId, ParticipantId, ServerMessage};
use serde::Serialize;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use url::Url;

/// How long a participant may wait to be admitted before counting as failed.
const ADMISSION_LIMIT: Duration = Duration::from_secs(60);

#[derive(Args)]
pub struct LoadArgs {
    /// A join link, or a meeting id together with --server.
    link: String,
    #[arg(long, env = "SAMLA_SERVER")]
    server: Option<Url>,
    /// How many participants join.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    participants: u32,
    /// Spread the joins over this long (e.g. 5s). Default: all at once.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "0s")]
    ramp: Duration,
    /// Once everyone has joined, stay this long before leaving.
    #[arg(long = "for", value_name = "DURATION", value_parser = humantime::parse_duration, default_value = "0s")]
    stay: Duration,
    /// An API token for the first participant, who then joins as host and admits the rest.
    #[arg(long)]
    token: Option<String>,
    #[arg(long)]
    passcode: Option<String>,
    /// Every participant publishes this video (`synthetic:WxH@FPS`).
    #[arg(long, value_name = "SOURCE")]
    video: Option<VideoSpec>,
    /// Every participant publishes this audio (`synthetic`).
    #[arg(long, value_name = "SOURCE")]
    audio: Option<AudioSpec>,
    /// Count received media without decoding it (keeps the load client's CPU out of the figures).
    #[arg(long)]
    no_decode: bool,
}

/// Media settings shared by every load participant.
#[derive(Clone)]
struct MediaArgs {
    server_host: String,
    video: Option<VideoSpec>,
    audio: Option<AudioSpec>,
    no_decode: bool,
}

/// The report printed on stdout.
#[derive(Debug, Serialize)]
struct Report {
    participants: u32,
    joined: usize,
    failed: usize,
    join_ms: Option<Percentiles>,
    /// Sessions that ended or failed on their own while staying.
    dropped: u32,
    failures: Vec<Failure>,
    total_ms: u64,
    /// Totals over every (receiver, sender) pair, when media was on.
    #[serde(skip_serializing_if = "Option::is_none")]
    media: Option<MediaTotals>,
}

/// What all load participants received, summed over every (receiver, sender) pair at leave
/// time.
#[derive(Debug, Default, Serialize, PartialEq)]
struct MediaTotals {
    /// (receiver, sender) pairs that got any video or audio.
    pairs_with_media: usize,
    video_frames_received: u64,
    frames_decoded: u64,
    frames_verified: u64,
    frames_corrupt: u64,
    audio_frames_decoded: u64,
    bytes_received: u64,
    packets_lost: u64,
    /// Worst capture-to-decode p95 over all pairs.
    latency_ms_p95_max: Option<f64>,
}

fn media_totals(all: &[BTreeMap<ParticipantId, ParticipantStats>]) -> MediaTotals {
    let mut t = MediaTotals::default();
    for s in all.iter().flat_map(|m| m.values()) {
        if s.frames_received > 0 || s.audio_frames_decoded > 0 || s.bytes_received > 0 {
            t.pairs_with_media += 1;
        }
        t.video_frames_received += s.frames_received;
        t.frames_decoded += s.frames_decoded;
        t.frames_verified += s.frames_verified;
        t.frames_corrupt += s.frames_corrupt;
        t.audio_frames_decoded += s.audio_frames_decoded;
        t.bytes_received += s.bytes_received;
        t.packets_lost += s.packets_lost;
        if let Some(p95) = s.latency_ms_p95 {
            t.latency_ms_p95_max = Some(t.latency_ms_p95_max.map_or(p95, |m: f64| m.max(p95)));
        }
    }
    t
}

#[derive(Debug, Serialize, PartialEq)]
struct Percentiles {
    p50: u64,
    p95: u64,
    max: u64,
}

#[derive(Debug, Serialize)]
struct Failure {
    participant: u32,
    error: String,
}

/// What each participant reports back once it is in (or not).
struct Outcome {
    participant: u32,
    join_time: Result<Duration, String>,
}

pub async fn run(args: LoadArgs) -> anyhow::Result<ExitCode> {
    let (server, meeting_id) = resolve_join_target(&args.link, args.server.as_ref())?;
    let started = Instant::now();
    let (outcomes_tx, mut outcomes_rx) = mpsc::unbounded_channel();
    let (leave_tx, leave_rx) = watch::channel(false);
    let dropped = Arc::new(AtomicU32::new(0));
    let run_id = std::process::id();
    let media = (args.video.is_some() || args.audio.is_some()).then(|| MediaArgs {
        server_host: server.host_str().unwrap_or("127.0.0.1").to_owned(),
        video: args.video,
        audio: args.audio,
        no_decode: args.no_decode,
    });
    let media_stats = Arc::new(Mutex::new(Vec::new()));

    let mut tasks = JoinSet::new();
    for i in 0..args.participants {
        let participant = Participant {
            index: i,
            opts: JoinOptions {
                passcode: args.passcode.clone(),
                token: if i == 0 { args.token.clone() } else { None },
                // Distinct per participant: the server may treat one client id as one person.
                client_id: Some(format!("load-{run_id}-{i}")),
                ..JoinOptions::new(server.clone(), meeting_id.clone(), format!("load {i}"))
            },
            start_at: started
                + args
                    .ramp
                    .mul_f64(f64::from(i) / f64::from(args.participants)),
            outcomes: outcomes_tx.clone(),
            leave: leave_rx.clone(),
            dropped: dropped.clone(),
            media: media.clone(),
            media_stats: media_stats.clone(),
        };
        tasks.spawn(participant.run());
    }
    drop(outcomes_tx);

    // Every participant reports once, then stays until told to leave: count the reports
    // rather than wait for the channel to close.
    let mut outcomes = Vec::new();
    while outcomes.len() < args.participants as usize {
        match outcomes_rx.recv().await {
            Some(outcome) => outcomes.push(outcome),
            None => break,
        }
    }
    tokio::time::sleep(args.stay).await;
    let _ = leave_tx.send(true);
    while tasks.join_next().await.is_some() {}

    let mut report = report(
        &meeting_id,
        args.participants,
        outcomes,
        dropped.load(Ordering::Relaxed),
        started.elapsed(),
    );
    if media.is_some() {
        let all = media_stats
            .lock()
            .map(|v| media_totals(&v))
            .unwrap_or_default();
        report.media = Some(all);
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&report).context("report")?
    );
    Ok(if report.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

struct Participant {
    index: u32,
    opts: JoinOptions,
    start_at: Instant,
    outcomes: mpsc::UnboundedSender<Outcome>,
    leave: watch::Receiver<bool>,
    dropped: Arc<AtomicU32>,
    media: Option<MediaArgs>,
    media_stats: Arc<Mutex<Vec<BTreeMap<ParticipantId, ParticipantStats>>>>,
}

impl Participant {
    async fn run(self) {
        tokio::time::sleep_until(self.start_at).await;
        let began = Instant::now();
        let (handle, mut events) = match Session::join(self.opts.clone()).await {
            Ok(session) => session,
            Err(err) => return self.report(Err(err.to_string())),
        };
        let media = self.media.clone().map(|m| {
            MediaSession::start(
                handle.clone(),
                MediaOptions {
                    video: m.video,
                    audio: m.audio.map(Into::into),
                    no_decode: m.no_decode,
                    started_at: began.into_std(),
                    ..MediaOptions::new(m.server_host)
                },
            )
        });
        let on_event = |event: &Event| {
            if let Some(media) = &media {
                media.on_event(event);
            }
        };
        let admitted = tokio::time::timeout(ADMISSION_LIMIT, async {
            while handle.view().status != Status::Joined {
                match events.recv().await {
                    Some(event) => {
                        on_event(&event);
                        admit_if_host(&handle, &event);
                    }
                    None => return Err("the session ended before being admitted".to_owned()),
                }
            }
            Ok(())
        })
        .await
        .unwrap_or_else(|_| {
            Err(format!(
                "not admitted within {} s",
                ADMISSION_LIMIT.as_secs()
            ))
        });
        let joined = admitted.map(|()| began.elapsed());
        let in_meeting = joined.is_ok();
        self.report(joined);
        if !in_meeting {
            return;
        }
        // Stay, keep admitting late arrivals if host, until told to leave.
        let mut leave = self.leave.clone();
        let told_to_leave = async move {
            let _ = leave.wait_for(|leave| *leave).await;
        };
        tokio::pin!(told_to_leave);
        loop {
            tokio::select! {
                event = events.recv() => match event {
                    Some(event) if !event.is_terminal() => {
                        on_event(&event);
                        admit_if_host(&handle, &event);
                    }
                    // Out before being told to leave: removed, meeting ended, or resume failed.
                    _ => {
                        self.dropped.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                },
                _ = &mut told_to_leave => {
                    if let (Some(media), Ok(mut all)) = (&media, self.media_stats.lock()) {
                        all.push(media.stats());
                    }
                    let _ = handle.leave();
                    while events.recv().await.is_some() {}
                    return;
                }
            }
        }
    }

    fn report(&self, join_time: Result<Duration, String>) {
        let _ = self.outcomes.send(Outcome {
            participant: self.index,
            join_time,
        });
    }
}

/// The host among the load participants lets the others in from the waiting room.
fn admit_if_host(handle: &SessionHandle, event: &Event) {
    if let Event::Server(ServerMessage::Joined { .. } | ServerMessage::WaitingRoom { .. }) = event {
        let view = handle.view();
        if view.is_moderator() && !view.waiting.is_empty() {
            let _ = handle.admit_all();
        }
    }
}

fn report(
    meeting_id: &MeetingId,
    participants: u32,
    outcomes: Vec<Outcome>,
    dropped: u32,
    total: Duration,
) -> Report {
    let mut join_ms = Vec::new();
    let mut failures = Vec::new();
    for outcome in outcomes {
        match outcome.join_time {
            Ok(time) => join_ms.push(millis(time)),
            Err(error) => failures.push(Failure {
                participant: outcome.participant,
                error,
            }),
        }
    }
    failures.sort_by_key(|f| f.participant);
    if !failures.is_empty() {
        eprintln!(
            "{} of {participants} could not join meeting {meeting_id}",
            failures.len()
        );
    }
    Report {
        participants,
        joined: join_ms.len(),
        failed: failures.len(),
        join_ms: percentiles(join_ms),
        dropped,
        failures,
        total_ms: millis(total),
        media: None,
    }
}

fn millis(d: Duration) -> u64 {
    d.as_millis().try_into().unwrap_or(u64::MAX)
}

/// Nearest-rank percentiles: every reported value is one that was actually measured.
fn percentiles(mut values: Vec<u64>) -> Option<Percentiles> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let rank = |p: f64| {
        let n = values.len() as f64;
        let index = ((p / 100.0 * n).ceil() as usize).clamp(1, values.len()) - 1;
        values[index]
    };
    Some(Percentiles {
        p50: rank(50.0),
        p95: rank(95.0),
        max: *values.last()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_totals_sum_pairs_and_keep_the_worst_latency() {
        let pair = |frames: u64, p95: Option<f64>| ParticipantStats {
            frames_received: frames,
            frames_verified: frames,
            bytes_received: frames * 1000,
            latency_ms_p95: p95,
            ..ParticipantStats::default()
        };
        let a = BTreeMap::from([(ParticipantId(2), pair(10, Some(40.0)))]);
        let b = BTreeMap::from([
            (ParticipantId(1), pair(20, Some(90.0))),
            (ParticipantId(3), pair(0, None)),
        ]);
        let t = media_totals(&[a, b]);
        assert_eq!(t.pairs_with_media, 2);
        assert_eq!(t.video_frames_received, 30);
        assert_eq!(t.frames_verified, 30);
        assert_eq!(t.bytes_received, 30_000);
        assert_eq!(t.latency_ms_p95_max, Some(90.0));
    }

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(percentiles(vec![]), None);
        assert_eq!(
            percentiles(vec![7]),
            Some(Percentiles {
                p50: 7,
                p95: 7,
                max: 7
            })
        );
        let hundred: Vec<u64> = (1..=100).rev().collect();
        assert_eq!(
            percentiles(hundred),
            Some(Percentiles {
                p50: 50,
                p95: 95,
                max: 100
            })
        );
        assert_eq!(
            percentiles(vec![10, 30, 20]),
            Some(Percentiles {
                p50: 20,
                p95: 30,
                max: 30
            })
        );
    }
}
