//! Cameras through nokhwa's native backends (V4L2, Media Foundation,
//! AVFoundation).
//!
//! nokhwa's camera handle is not `Send`, so each open camera lives on a
//! thread of its own that converts frames to I420 and hands the newest one
//! over through a [`FrameSlot`]; the [`Camera`] the engine holds is `Send`
//! like every other [`VideoSource`].
//!
//! We ask for uncompressed formats only (YUYV, NV12, RGB, grey) and convert
//! them ourselves: that keeps a JPEG decoder out of the build. The cost is
//! that cameras offering their highest resolutions only as MJPEG are opened
//! at the best uncompressed size instead.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, SystemTime};

use nokhwa::utils::{
    ApiBackend, CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType,
};
use nokhwa::NokhwaError;

use crate::frame::VideoFrame;

use super::convert::{gray_to_i420, nv12_to_i420, packed_rgb_to_i420, yuyv_to_i420, PackedRgb};
use super::slot::FrameSlot;
use super::{micros_since, CaptureError, DeviceInfo, DeviceKind, VideoFormat, VideoSource};

/// Formats we can convert, best first.
const FORMATS: &[FrameFormat] = &[
    FrameFormat::YUYV,
    FrameFormat::NV12,
    FrameFormat::RAWRGB,
    FrameFormat::RAWBGR,
    FrameFormat::GRAY,
];

/// How long `next_frame` waits before it calls the camera lost. Cameras
/// stall for a second or so when they re-adjust exposure; longer means gone.
const FRAME_TIMEOUT: Duration = Duration::from_secs(3);

/// What to open: which camera and the size and rate wanted. The camera picks
/// its closest supported mode.
#[derive(Clone, Debug, PartialEq)]
pub struct CameraRequest {
    /// A [`DeviceInfo::id`] from [`super::list_devices`]; `None` for the
    /// first camera.
    pub device: Option<String>,
    /// Wanted width in pixels.
    pub width: u32,
    /// Wanted height in pixels.
    pub height: u32,
    /// Wanted frames per second.
    pub fps: u32,
}

impl Default for CameraRequest {
    fn default() -> Self {
        Self {
            device: None,
            width: 1280,
            height: 720,
            fps: 30,
        }
    }
}

/// An open camera delivering I420 frames.
#[derive(Debug)]
pub struct Camera {
    slot: FrameSlot,
    format: VideoFormat,
    name: String,
}

/// Cameras the native backend sees.
pub(super) fn list() -> Result<Vec<DeviceInfo>, CaptureError> {
    let cameras = nokhwa::query(ApiBackend::Auto).map_err(|e| backend_error(&e))?;
    Ok(cameras
        .iter()
        .enumerate()
        .map(|(i, info)| DeviceInfo {
            kind: DeviceKind::Camera,
            id: info.index().to_string(),
            name: info.human_name(),
            is_default: i == 0,
        })
        .collect())
}

impl Camera {
    /// Opens the camera and starts streaming. Fails with
    /// [`CaptureError::DeviceNotFound`] when there is no such camera,
    /// [`CaptureError::DeviceBusy`] when another application has it and
    /// [`CaptureError::PermissionDenied`] when the OS refuses access.
    pub fn open(request: &CameraRequest, epoch: SystemTime) -> Result<Self, CaptureError> {
        let devices = list()?;
        let info = match &request.device {
            Some(id) => devices.iter().find(|d| &d.id == id || &d.name == id),
            None => devices.first(),
        }
        .ok_or_else(|| CaptureError::DeviceNotFound {
            kind: DeviceKind::Camera,
            requested: request.device.clone(),
        })?
        .clone();
        let index = info
            .id
            .parse::<u32>()
            .map_or_else(|_| CameraIndex::String(info.id.clone()), CameraIndex::Index);
        let wanted = CameraFormat::new_from(
            request.width,
            request.height,
            FrameFormat::YUYV,
            request.fps,
        );

        let slot = FrameSlot::new();
        let (opened_tx, opened_rx) = mpsc::sync_channel(1);
        let thread_slot = slot.clone();
        let name = info.name.clone();
        thread::Builder::new()
            .name("samla-camera".into())
            .spawn(move || run(index, wanted, &name, epoch, &thread_slot, &opened_tx))
            .map_err(|e| CaptureError::Backend {
                kind: DeviceKind::Camera,
                reason: format!("cannot start the camera thread: {e}"),
            })?;
        let format = opened_rx.recv().map_err(|_| CaptureError::DeviceLost {
            kind: DeviceKind::Camera,
            name: info.name.clone(),
            reason: "the camera thread ended while opening".into(),
        })??;
        Ok(Self {
            slot,
            format,
            name: info.name,
        })
    }
}

/// The camera thread: open, report, then convert frames until the reader
/// goes away or the device fails.
fn run(
    index: CameraIndex,
    wanted: CameraFormat,
    name: &str,
    epoch: SystemTime,
    slot: &FrameSlot,
    opened: &mpsc::SyncSender<Result<VideoFormat, CaptureError>>,
) {
    let request = RequestedFormat::with_formats(RequestedFormatType::Closest(wanted), FORMATS);
    let mut camera =
        match nokhwa::Camera::new(index, request).and_then(|mut c| c.open_stream().map(|()| c)) {
            Ok(camera) => camera,
            Err(e) => {
                let _ = opened.send(Err(open_error(name, &e)));
                return;
            }
        };
    let mode = camera.camera_format();
    let _ = opened.send(Ok(VideoFormat {
        width: mode.width(),
        height: mode.height(),
        fps: mode.frame_rate() as f32,
    }));
    let mut frame = VideoFrame::new(0, 0);
    while !slot.is_closed() {
        let buffer = match camera.frame() {
            Ok(buffer) => buffer,
            Err(e) => {
                slot.fail(CaptureError::DeviceLost {
                    kind: DeviceKind::Camera,
                    name: name.to_owned(),
                    reason: e.to_string(),
                });
                return;
            }
        };
        let res = buffer.resolution();
        let (w, h, data) = (res.width(), res.height(), buffer.buffer());
        let converted = match buffer.source_frame_format() {
            FrameFormat::YUYV => yuyv_to_i420(data, w, h, &mut frame),
            FrameFormat::NV12 => nv12_to_i420(data, w, h, &mut frame),
            FrameFormat::RAWRGB => {
                packed_rgb_to_i420(data, PackedRgb::RGB, w, h, w as usize * 3, &mut frame)
            }
            FrameFormat::RAWBGR => {
                packed_rgb_to_i420(data, PackedRgb::BGR, w, h, w as usize * 3, &mut frame)
            }
            FrameFormat::GRAY => gray_to_i420(data, w, h, &mut frame),
            FrameFormat::MJPEG => Err(CaptureError::UnsupportedFormat(
                "the camera sent MJPEG, which Samla does not decode".into(),
            )),
        };
        // A truncated frame (device hiccup) is skipped, not fatal.
        if converted.is_ok() {
            frame.timestamp_us = micros_since(epoch);
            if !slot.publish(&mut frame) {
                return;
            }
        }
    }
}

/// nokhwa reports open failures as strings from the OS; the errno text is
/// the only way to tell busy and denied apart from other failures.
fn open_error(name: &str, error: &NokhwaError) -> CaptureError {
    let text = error.to_string();
    let lower = text.to_ascii_lowercase();
    if lower.contains("busy") {
        CaptureError::DeviceBusy {
            kind: DeviceKind::Camera,
            name: name.to_owned(),
        }
    } else if lower.contains("permission denied") || lower.contains("access denied") {
        CaptureError::PermissionDenied {
            kind: DeviceKind::Camera,
            name: name.to_owned(),
        }
    } else if lower.contains("no such") || lower.contains("not found") {
        CaptureError::DeviceNotFound {
            kind: DeviceKind::Camera,
            requested: Some(name.to_owned()),
        }
    } else {
        CaptureError::Backend {
            kind: DeviceKind::Camera,
            reason: text,
        }
    }
}

fn backend_error(error: &NokhwaError) -> CaptureError {
    CaptureError::Backend {
        kind: DeviceKind::Camera,
        reason: error.to_string(),
    }
}

impl VideoSource for Camera {
    fn format(&self) -> VideoFormat {
        self.format
    }

    fn next_frame(&mut self, out: &mut VideoFrame) -> Result<(), CaptureError> {
        if self.slot.take(out, FRAME_TIMEOUT)? {
            Ok(())
        } else {
            Err(CaptureError::DeviceLost {
                kind: DeviceKind::Camera,
                name: self.name.clone(),
                reason: format!("no frame for {} s", FRAME_TIMEOUT.as_secs()),
            })
        }
    }
}

impl Drop for Camera {
    fn drop(&mut self) {
        // The thread notices at its next frame and closes the device.
        self.slot.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_errors_are_classified() {
        let busy =
            NokhwaError::OpenDeviceError("/dev/video0".into(), "Device or resource busy".into());
        assert!(matches!(
            open_error("Cam", &busy),
            CaptureError::DeviceBusy { .. }
        ));
        let denied = NokhwaError::OpenDeviceError(
            "/dev/video0".into(),
            "Permission denied (os error 13)".into(),
        );
        assert!(matches!(
            open_error("Cam", &denied),
            CaptureError::PermissionDenied { .. }
        ));
    }
}
