//! `samla`, the desktop app: a Tauri window around the web UI in `ui/`.
//!
//! A thin shell. The page runs the meeting (signalling, views) with the same code a browser
//! uses; this process adds what a webview cannot do: media in Rust (samla-engine, because
//! Debian's WebKitGTK has no WebRTC), a loopback socket that carries decoded video to the page,
//! and an embedded meeting server for hosting without a server of one's own.
//!
//! ```text
//! samla [JOIN_LINK] [--name NAME] [--server HOST] [--fake-media] [--bench-frames SECONDS]
//! ```

// No console window next to the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod bench;
mod camera;
mod commands;
mod credentials;
mod devices;
mod frames;
mod host;
mod media;
mod sound_check;

use std::process::ExitCode;

use clap::Parser;
use tauri::Manager;
use tracing_subscriber::EnvFilter;

/// What the app was started with.
#[derive(Parser, Debug, Clone)]
#[command(name = "samla", version, about = "Samla video meetings")]
pub struct Launch {
    /// A join link (or meeting id with --server) to open at start.
    pub link: Option<String>,
    /// The name to fill in before joining.
    #[arg(long)]
    pub name: Option<String>,
    /// The institution's meeting server, e.g. meet.uio.no; without it, hosting runs a server
    /// inside the app.
    #[arg(long, env = "SAMLA_SERVER")]
    pub server: Option<String>,
    /// Send a synthetic test picture and tone instead of the camera and microphone (tests,
    /// machines without devices).
    #[arg(long, env = "SAMLA_FAKE_MEDIA", value_parser = clap::builder::BoolishValueParser::new())]
    pub fake_media: bool,
    /// Measure the frame path (one 720p and eight 180p tiles) for SECONDS, print the figures
    /// as JSON and exit.
    #[arg(long, value_name = "SECONDS")]
    pub bench_frames: Option<u32>,
}

fn main() -> ExitCode {
    let launch = Launch::parse();
    let filter = std::env::var("SAMLA_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".to_owned());
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_new(&filter).unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .init();
    match run(launch) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("samla: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Why the app could not start.
#[derive(Debug, thiserror::Error)]
enum StartError {
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot open the frame socket: {0}")]
    FrameSocket(std::io::Error),
    #[error("cannot start the benchmark sources: {0}")]
    Bench(std::io::Error),
    #[error("window system: {0}")]
    Tauri(#[from] tauri::Error),
}

fn run(launch: Launch) -> Result<(), StartError> {
    // One runtime for Tauri's async commands, the media sessions and the embedded server.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("samla-rt")
        .build()
        .map_err(StartError::Runtime)?;
    tauri::async_runtime::set(runtime.handle().clone());
    let secret = hex_secret();
    let frames = runtime
        .block_on(frames::FrameServer::start(secret))
        .map_err(StartError::FrameSocket)?;
    if launch.bench_frames.is_some() {
        bench::start_sources(&frames.hub()).map_err(StartError::Bench)?;
    }
    let media = media::Media::new(launch.fake_media, frames.hub());
    tauri::Builder::default()
        .setup(move |app| {
            let data = app.path().app_data_dir()?;
            app.manage(commands::Shell {
                launch,
                frame_url: frames.url().to_owned(),
                media,
                host: host::Host::new(data),
                bench_start: std::sync::Mutex::new(None),
            });
            devices::watch(app.handle().clone());
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::desktop_config,
            commands::media_start,
            commands::media_signal,
            commands::microphone_level,
            commands::speaker_test,
            commands::speaker_list,
            commands::speaker_use,
            commands::microphone_use,
            commands::media_stop,
            commands::microphone_set,
            commands::microphone_list,
            commands::camera_list,
            commands::camera_set,
            commands::camera_use,
            commands::share_targets,
            commands::screen_share_start,
            commands::screen_share_stop,
            commands::host_meeting,
            commands::bench_begin,
            commands::bench_report,
            credentials::token_load,
            credentials::token_save,
            credentials::token_forget,
        ])
        .build(tauri::generate_context!())?
        .run(|app, event| {
            if let tauri::RunEvent::Exit = event {
                let shell = app.state::<commands::Shell>();
                tauri::async_runtime::block_on(async {
                    shell.media.stop().await;
                    shell.host.stop().await;
                });
            }
        });
    Ok(())
}

/// 32 random bytes in hex: the frame socket's per-launch secret.
fn hex_secret() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}
