//! The commands the page calls (`invoke`). Each one only wires the page to samla-engine,
//! samla-server or the frame socket.

use std::sync::Mutex;

use samla_protocol::ServerMessage;
use serde::{Serialize, Serializer};
use tauri::{AppHandle, State};

use crate::bench::{self, CpuTime, PageReport};
use crate::host::{Host, HostError, HostedMeeting};
use crate::media::{LocalSources, Media, ShareError};
use crate::Launch;

/// Everything the commands share.
pub struct Shell {
    pub launch: Launch,
    pub frame_url: String,
    pub media: Media,
    pub host: Host,
    /// CPU use when the benchmark page started measuring.
    pub bench_start: Mutex<Option<CpuTime>>,
}

/// What the page needs to know at start.
#[derive(Debug, Serialize)]
pub struct DesktopConfig {
    /// The loopback frame socket, secret included.
    frame_url: String,
    /// `host[:port]` of the configured server; `None` means hosting uses the embedded one.
    server: Option<String>,
    /// A join link to open at start: its server and meeting id.
    join: Option<JoinTarget>,
    name: Option<String>,
    fake_media: bool,
    /// Seconds to measure the frame path for, in benchmark mode.
    bench_seconds: Option<u32>,
}

#[derive(Debug, Serialize)]
struct JoinTarget {
    server_host: String,
    meeting_id: String,
    secure: bool,
}

/// A failed command, as the page sees it: its message.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Host(#[from] HostError),
}

impl Serialize for CommandError {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

#[tauri::command]
pub fn desktop_config(shell: State<'_, Shell>) -> DesktopConfig {
    let launch = &shell.launch;
    let join = launch.link.as_deref().and_then(|link| {
        let with_server;
        let link = match &launch.server {
            // A bare meeting id is taken to be on the configured server.
            Some(server) if !link.contains('/') => {
                with_server = format!("https://{server}/j/{link}");
                with_server.as_str()
            }
            _ => link,
        };
        match samla_engine::parse_join_link(link) {
            Ok((url, id)) => Some(JoinTarget {
                server_host: host_port(&url)?,
                meeting_id: id.as_str().to_owned(),
                secure: url.scheme() == "https",
            }),
            Err(err) => {
                tracing::warn!(%err, "ignoring the link given at start");
                None
            }
        }
    });
    DesktopConfig {
        frame_url: shell.frame_url.clone(),
        server: launch.server.clone(),
        join,
        name: launch.name.clone(),
        fake_media: launch.fake_media,
        bench_seconds: launch.bench_frames,
    }
}

fn host_port(url: &url::Url) -> Option<String> {
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    })
}

/// Starts media for a meeting on `server_host` (the page calls it before joining).
#[tauri::command]
pub async fn media_start(
    app: AppHandle,
    shell: State<'_, Shell>,
    server_host: String,
    camera: bool,
    microphone: bool,
) -> Result<LocalSources, CommandError> {
    let host = server_host
        .rsplit_once(':')
        .map_or(server_host.as_str(), |(h, _)| h);
    Ok(shell.media.start(&app, host, camera, microphone))
}

/// One media-related message from the signalling socket.
#[tauri::command]
pub fn media_signal(shell: State<'_, Shell>, message: ServerMessage) {
    shell.media.on_server_message(message);
}

/// Shares the screen as our screen track.
#[tauri::command]
pub fn screen_share_start(shell: State<'_, Shell>) -> Result<(), ShareError> {
    shell.media.share_screen()
}

#[tauri::command]
pub fn screen_share_stop(shell: State<'_, Shell>) {
    shell.media.stop_screen_share();
}

#[tauri::command]
pub fn media_stop(shell: State<'_, Shell>) {
    shell.media.stop();
}

/// Creates a meeting on the embedded server (started on first use) and returns its link.
#[tauri::command]
pub async fn host_meeting(
    shell: State<'_, Shell>,
    topic: String,
    waiting_room: bool,
) -> Result<HostedMeeting, CommandError> {
    Ok(shell.host.host(&topic, waiting_room).await?)
}

/// The benchmark page starts measuring now.
#[tauri::command]
pub fn bench_begin(shell: State<'_, Shell>) {
    if let Ok(mut start) = shell.bench_start.lock() {
        *start = bench::cpu_seconds();
    }
}

/// The benchmark page's figures: printed with CPU use, then the app exits.
#[tauri::command]
pub fn bench_report(app: AppHandle, shell: State<'_, Shell>, report: PageReport) {
    let start = shell.bench_start.lock().ok().and_then(|s| *s);
    println!("{}", bench::summary(&report, start, bench::cpu_seconds()));
    app.exit(0);
}
