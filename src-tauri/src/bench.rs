//! `samla --bench-frames SECONDS`: how the frame path into the page holds up with one 720p
//! tile and eight 180p tiles at 30 fps.
//!
//! The pictures are made before the clock starts (a ring of test-pattern frames per tile),
//! so what is measured is the path itself: encoding the message, the loopback socket, and the
//! page uploading and drawing the planes with WebGL. The page counts frames and latency
//! (queued here to drawn there) and reports through a command; CPU comes from /proc for this
//! process and its WebKit children. The figures are printed as one JSON line and the app exits.

use std::time::{Duration, Instant, SystemTime};

use samla_media::{Pacing, TestPattern, VideoFrame, VideoSource};
use samla_protocol::{ParticipantId, TrackKind};
use serde::{Deserialize, Serialize};

use crate::frames::{encode_frame, now_us, FrameHub};

/// The tiles: participant number, width, height.
const TILES: [(u32, u32, u32); 9] = [
    (1, 1280, 720),
    (2, 320, 180),
    (3, 320, 180),
    (4, 320, 180),
    (5, 320, 180),
    (6, 320, 180),
    (7, 320, 180),
    (8, 320, 180),
    (9, 320, 180),
];
const FPS: f32 = 30.0;
/// Distinct pictures per tile, replayed in a loop.
const RING: usize = 30;

/// What the benchmark page measured for one tile.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TileFigures {
    pub participant: u32,
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    pub latency_ms_p50: f64,
    pub latency_ms_p95: f64,
}

/// What the page sends at the end.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PageReport {
    pub seconds: f64,
    pub tiles: Vec<TileFigures>,
}

/// Starts one thread per tile that publishes its ring at [`FPS`] until the process ends.
pub fn start_sources(hub: &FrameHub) -> std::io::Result<()> {
    for (participant, width, height) in TILES {
        let mut pattern = TestPattern::new(
            participant,
            width,
            height,
            FPS,
            SystemTime::UNIX_EPOCH,
            Pacing::Unpaced,
        )
        .map_err(std::io::Error::other)?;
        let mut ring = Vec::with_capacity(RING);
        for _ in 0..RING {
            let mut frame = VideoFrame::new(width, height);
            pattern
                .next_frame(&mut frame)
                .map_err(std::io::Error::other)?;
            ring.push(frame);
        }
        let hub = hub.clone();
        std::thread::Builder::new()
            .name(format!("samla-bench-{participant}"))
            .spawn(move || {
                let period = Duration::from_secs_f32(1.0 / FPS);
                let mut due = Instant::now();
                for frame in ring.iter().cycle() {
                    if hub.has_pages() {
                        hub.publish(encode_frame(
                            ParticipantId(participant),
                            TrackKind::Camera,
                            frame,
                            now_us(),
                        ));
                    }
                    due += period;
                    std::thread::sleep(due.saturating_duration_since(Instant::now()));
                }
            })?;
    }
    Ok(())
}

/// CPU time used so far by this process and its descendants (the WebKit web and network
/// processes), in seconds. `None` where /proc is not available.
pub fn cpu_seconds() -> Option<CpuTime> {
    #[cfg(target_os = "linux")]
    {
        proc_cpu::snapshot()
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// CPU seconds used up to `at`.
#[derive(Debug, Clone, Copy)]
pub struct CpuTime {
    pub app: f64,
    pub webview: f64,
    pub at: Instant,
}

/// The final figures: the page's plus CPU use between `start` and `end`, in percent of one
/// core.
pub fn summary(report: &PageReport, start: Option<CpuTime>, end: Option<CpuTime>) -> String {
    let cpu = start.zip(end).map(|(a, b)| {
        let wall = b.at.duration_since(a.at).as_secs_f64().max(1e-3);
        (
            100.0 * (b.app - a.app) / wall,
            100.0 * (b.webview - a.webview) / wall,
        )
    });
    serde_json::json!({
        "seconds": report.seconds,
        "tiles": report.tiles,
        "cpu_percent_app": cpu.map(|c| c.0),
        "cpu_percent_webview": cpu.map(|c| c.1),
    })
    .to_string()
}

#[cfg(target_os = "linux")]
mod proc_cpu {
    use std::time::Instant;

    use super::CpuTime;

    /// Clock ticks per second for /proc's times; 100 on every Linux platform we target.
    const TICKS: f64 = 100.0;

    pub fn snapshot() -> Option<CpuTime> {
        let me = std::process::id();
        let app = ticks(me)?;
        let mut webview = 0u64;
        let entries = std::fs::read_dir("/proc").ok()?;
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            if pid != me && descends_from(pid, me) {
                webview += ticks(pid).unwrap_or(0);
            }
        }
        Some(CpuTime {
            app: app as f64 / TICKS,
            webview: webview as f64 / TICKS,
            at: Instant::now(),
        })
    }

    /// Fields after the command name (which may hold spaces) of /proc/PID/stat.
    fn stat_fields(pid: u32) -> Option<Vec<String>> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let rest = &stat[stat.rfind(')')? + 2..];
        Some(rest.split(' ').map(str::to_owned).collect())
    }

    /// utime + stime (fields 14 and 15; 11 and 12 after the name).
    fn ticks(pid: u32) -> Option<u64> {
        let f = stat_fields(pid)?;
        Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
    }

    fn parent(pid: u32) -> Option<u32> {
        stat_fields(pid)?.get(1)?.parse().ok()
    }

    fn descends_from(mut pid: u32, ancestor: u32) -> bool {
        for _ in 0..8 {
            match parent(pid) {
                Some(p) if p == ancestor => return true,
                Some(p) if p > 1 => pid = p,
                _ => return false,
            }
        }
        false
    }
}
