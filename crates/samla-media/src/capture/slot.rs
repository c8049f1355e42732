//! A one-frame mailbox between a device thread and the source it feeds.
//!
//! Some device handles (nokhwa's camera) cannot move between threads, so they
//! live on a thread of their own. The thread converts each picture into the
//! slot's spare frame and the reader swaps it out: two buffers ping-pong and
//! nothing is allocated per frame. Only the newest picture is kept, because a
//! video call wants the freshest frame, not a backlog.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use crate::frame::VideoFrame;

use super::CaptureError;

#[derive(Debug)]
struct State {
    frame: VideoFrame,
    fresh: bool,
    /// Set by the device thread when it stops; the reader returns it.
    failed: Option<CaptureError>,
    /// Set by the reader when it is dropped, so the thread can stop.
    closed: bool,
}

/// Shared between one writer thread and one reader.
#[derive(Debug, Clone)]
pub(crate) struct FrameSlot {
    inner: Arc<(Mutex<State>, Condvar)>,
}

impl FrameSlot {
    pub(crate) fn new() -> Self {
        Self {
            inner: Arc::new((
                Mutex::new(State {
                    frame: VideoFrame::new(0, 0),
                    fresh: false,
                    failed: None,
                    closed: false,
                }),
                Condvar::new(),
            )),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic on the other side leaves plain data behind; keep using it.
        self.inner.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writer: publishes `frame` as the newest picture, handing back the
    /// previous buffer in `frame` for the next conversion. Returns `false`
    /// once the reader is gone.
    pub(crate) fn publish(&self, frame: &mut VideoFrame) -> bool {
        let mut state = self.lock();
        std::mem::swap(&mut state.frame, frame);
        state.fresh = true;
        let open = !state.closed;
        drop(state);
        self.inner.1.notify_one();
        open
    }

    /// Writer: reports that no more frames will come.
    pub(crate) fn fail(&self, error: CaptureError) {
        self.lock().failed = Some(error);
        self.inner.1.notify_one();
    }

    /// Reader: waits up to `timeout` for a picture newer than the last one
    /// taken and swaps it into `out`.
    pub(crate) fn take(
        &self,
        out: &mut VideoFrame,
        timeout: Duration,
    ) -> Result<bool, CaptureError> {
        let guard = self.lock();
        let (mut state, _) = self
            .inner
            .1
            .wait_timeout_while(guard, timeout, |s| !s.fresh && s.failed.is_none())
            .unwrap_or_else(|e| e.into_inner());
        if state.fresh {
            std::mem::swap(&mut state.frame, out);
            state.fresh = false;
            return Ok(true);
        }
        match state.failed.take() {
            Some(error) => Err(error),
            None => Ok(false),
        }
    }

    /// Reader: tells the writer to stop.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
    }

    /// Writer: whether the reader has gone.
    pub(crate) fn is_closed(&self) -> bool {
        self.lock().closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::DeviceKind;

    #[test]
    fn newest_frame_wins_and_buffers_ping_pong() {
        let slot = FrameSlot::new();
        let mut a = VideoFrame::new(4, 4);
        a.timestamp_us = 1;
        assert!(slot.publish(&mut a));
        let mut b = VideoFrame::new(4, 4);
        b.timestamp_us = 2;
        slot.publish(&mut b);
        let mut out = VideoFrame::new(0, 0);
        assert!(slot.take(&mut out, Duration::ZERO).unwrap());
        assert_eq!(out.timestamp_us, 2);
        assert!(!slot.take(&mut out, Duration::from_millis(1)).unwrap());
        slot.close();
        assert!(!slot.publish(&mut b));
    }

    #[test]
    fn failure_reaches_the_reader() {
        let slot = FrameSlot::new();
        slot.fail(CaptureError::DeviceLost {
            kind: DeviceKind::Camera,
            name: "cam".into(),
            reason: "unplugged".into(),
        });
        let mut out = VideoFrame::new(0, 0);
        assert!(slot.take(&mut out, Duration::from_secs(1)).is_err());
    }
}
