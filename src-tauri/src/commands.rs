//! The commands the page calls (`invoke`). Each one only wires the page to samla-engine,
//! samla-server or the frame socket.

use std::sync::Mutex;

use samla_media::DeviceKind;
use samla_protocol::ServerMessage;
use serde::{Serialize, Serializer};
use tauri::{AppHandle, State};

use crate::bench::{self, CpuTime, PageReport};
use crate::camera::CameraError;
use crate::host::{Host, HostError, HostedMeeting};
use crate::media::{AudioDevices, DeviceProblem, LocalSources, Media, ShareError, ShareTarget};
use crate::sound_check;
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

/// Starts media for a meeting on `server_host` (the page calls it before joining, and again
/// when another camera is picked) with the camera `camera_device` (`None`: the first) and
/// the microphone and speaker in `audio_devices` (`None`, or a `None` in it: the defaults).
#[tauri::command]
pub async fn media_start(
    app: AppHandle,
    shell: State<'_, Shell>,
    server_host: String,
    camera: bool,
    camera_device: Option<String>,
    microphone: bool,
    audio_devices: Option<AudioDevices>,
) -> Result<LocalSources, CommandError> {
    let audio = audio_devices.unwrap_or_default();
    let host = server_host
        .rsplit_once(':')
        .map_or(server_host.as_str(), |(h, _)| h);
    Ok(shell
        .media
        .start(&app, host, camera, camera_device, microphone, audio)
        .await)
}

/// One device for the page's pickers: `id` goes back in `media_start` (`camera_device`,
/// `audio_devices`), `speaker_use`, `microphone_use` or `speaker_test`.
#[derive(Debug, Serialize)]
pub struct DeviceOption {
    id: String,
    name: String,
}

/// The devices of `kind` the system has; none when it cannot list them (the picker is then
/// empty, and opening the default says why it is missing).
async fn device_options(kind: DeviceKind) -> Vec<DeviceOption> {
    let listed =
        tauri::async_runtime::spawn_blocking(move || samla_media::list_devices(kind)).await;
    match listed {
        Ok(Ok(devices)) => devices
            .into_iter()
            .map(|d| DeviceOption {
                id: d.id,
                name: d.name,
            })
            .collect(),
        Ok(Err(err)) => {
            tracing::info!(%err, "cannot list {kind}s");
            Vec::new()
        }
        Err(_) => Vec::new(),
    }
}

/// The cameras, for the page's picker.
#[tauri::command]
pub async fn camera_list() -> Vec<DeviceOption> {
    device_options(DeviceKind::Camera).await
}

/// The microphones, for the page's picker.
#[tauri::command]
pub async fn microphone_list() -> Vec<DeviceOption> {
    device_options(DeviceKind::Microphone).await
}

/// The speakers, for the page's picker.
#[tauri::command]
pub async fn speaker_list() -> Vec<DeviceOption> {
    device_options(DeviceKind::Speaker).await
}

/// Plays the others on the speaker `device` (`None`: the system's default) from now on,
/// before joining or in the meeting; or why it did not open (the old one goes on then).
#[tauri::command]
pub async fn speaker_use(
    shell: State<'_, Shell>,
    device: Option<String>,
) -> Result<(), DeviceProblem> {
    shell.media.set_speaker(device.as_deref()).map_err(|err| {
        tracing::warn!(%err, "the speaker picked did not open");
        DeviceProblem::from(&err)
    })
}

/// Sends the microphone `device` (`None`: the system's default) from now on, in the meeting;
/// or why it did not open (the old one goes on then).
#[tauri::command]
pub async fn microphone_use(
    shell: State<'_, Shell>,
    device: Option<String>,
) -> Result<(), DeviceProblem> {
    shell
        .media
        .set_microphone_device(device.as_deref())
        .map_err(|err| {
            tracing::warn!(%err, "the microphone picked did not open");
            DeviceProblem::from(&err)
        })
}

/// How loud the microphone is right now (RMS, 0 to 1 of full scale), for the pre-join meter;
/// 0 without a microphone.
#[tauri::command]
pub fn microphone_level(shell: State<'_, Shell>) -> f32 {
    shell.media.mic_level.get()
}

/// Plays the test tone on `device` (`None`: the system's default speaker) and returns when it
/// has played, or why it could not.
#[tauri::command]
pub async fn speaker_test(device: Option<String>) -> Result<(), DeviceProblem> {
    let played = tauri::async_runtime::spawn_blocking(move || {
        sound_check::play_test_tone(device.as_deref()).map_err(|err| DeviceProblem::from(&err))
    })
    .await;
    played.unwrap_or_else(|_| {
        Err(DeviceProblem {
            reason: "failed",
            detail: "the test tone's thread ended early".into(),
        })
    })
}

/// Mutes (`on: false`) or unmutes the microphone; the track stays, sending silence.
#[tauri::command]
pub fn microphone_set(shell: State<'_, Shell>, on: bool) {
    if let Err(err) = shell.media.set_microphone(on) {
        tracing::debug!(%err, "no media session to mute");
    }
}

/// Switches the camera off (the device closes) or on again. Opening a camera can take a
/// second, so it runs off the async runtime.
#[tauri::command]
pub async fn camera_set(shell: State<'_, Shell>, on: bool) -> Result<(), CameraError> {
    let camera = shell.media.camera()?;
    tauri::async_runtime::spawn_blocking(move || camera.set_on(on))
        .await
        .map_err(|_| CameraError::Closed)?
}

/// Sends the camera `device` (`None`: the system's first) from now on, in the meeting; or
/// why it cannot be (missing, busy, refused, or not the track's size), the one before going
/// on. Off the async runtime, as opening a camera can take a second.
#[tauri::command]
pub async fn camera_use(
    shell: State<'_, Shell>,
    device: Option<String>,
) -> Result<(), CameraError> {
    let camera = shell.media.camera()?;
    let open = shell.media.camera_opener(device);
    tauri::async_runtime::spawn_blocking(move || camera.use_camera(open))
        .await
        .map_err(|_| CameraError::Closed)?
        .inspect_err(|err| tracing::warn!(%err, "the camera picked is not used"))
}

/// One media-related message from the signalling socket.
#[tauri::command]
pub fn media_signal(shell: State<'_, Shell>, message: ServerMessage) {
    shell.media.on_server_message(message);
}

/// The screens and windows the user can share.
#[tauri::command]
pub async fn share_targets(shell: State<'_, Shell>) -> Result<Vec<ShareTarget>, ShareError> {
    shell.media.share_targets()
}

/// Shares a screen or a window (`kind` and `id` from `share_targets`; no `id`: the whole
/// display) as our screen track.
#[tauri::command]
pub async fn screen_share_start(
    shell: State<'_, Shell>,
    kind: Option<String>,
    id: Option<String>,
) -> Result<(), ShareError> {
    shell
        .media
        .share_screen(kind.as_deref().unwrap_or("screen"), id)
}

#[tauri::command]
pub fn screen_share_stop(shell: State<'_, Shell>) {
    shell.media.stop_screen_share();
}

#[tauri::command]
pub async fn media_stop(shell: State<'_, Shell>) -> Result<(), CommandError> {
    shell.media.stop().await;
    Ok(())
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
