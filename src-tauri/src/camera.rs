//! The camera track as the app sends it: the camera (or, with `SAMLA_FAKE_MEDIA`, the
//! synthetic test picture) runs from the moment the page asks for media, before joining, so
//! that the self view shows it; the user can switch it off (the device is closed and its light
//! goes off) and on again.
//!
//! One thread pulls the frames. Each frame goes to the engine's encoder thread through a
//! one-frame slot (a slow encoder skips pictures rather than queueing them), and at most
//! [`SELF_VIEW_FPS`] times a second, scaled to at most [`SELF_VIEW_MAX_HEIGHT`] lines, to the
//! page's frame socket as the self view: drawing our own picture costs the page little.

use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use samla_engine::media::{OpenVideo, VideoFrame};
use samla_media::{CaptureError, DeviceKind, VideoFormat, VideoSource};

use crate::frames::{encode_self_view, FrameHub};

/// The self view's highest rate: enough to see oneself move, a fraction of the camera's cost.
pub const SELF_VIEW_FPS: f32 = 15.0;
/// The self view's largest height: its tile is small, and the page draws it in software
/// where WebGL has no GPU.
pub const SELF_VIEW_MAX_HEIGHT: u32 = 360;

/// Opens the picture: given the participant number it sends as (the synthetic picture
/// stamps it; a camera ignores it).
pub type OpenSource =
    Box<dyn Fn(u32) -> Result<Box<dyn VideoSource + Send>, CaptureError> + Send + Sync>;

/// Told when the camera stops delivering while on (unplugged, or taken by another program):
/// the feed is then off, and switching it on opens the camera again.
pub type OnLost = Box<dyn Fn(&CaptureError) + Send + Sync>;

/// Why the camera could not be switched on again.
#[derive(Debug, thiserror::Error)]
pub enum CameraError {
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// The track was negotiated for the size the camera first had; a camera that now opens
    /// in another mode cannot be sent on it.
    #[error("the camera now delivers {got:?} instead of {want:?}")]
    FormatChanged { got: (u32, u32), want: (u32, u32) },
    #[error("the camera has been closed")]
    Closed,
}

/// The running camera: cheap to clone, one per media session. [`CameraFeed::close`] ends it.
#[derive(Clone)]
pub struct CameraFeed {
    inner: Arc<Inner>,
}

struct Inner {
    /// How the camera is opened: replaced when another one is picked.
    open: Mutex<OpenSource>,
    on_lost: OnLost,
    /// Whether the picture depends on the sender (the synthetic one), so that it is opened
    /// anew when the sender becomes known.
    synthetic: bool,
    format: VideoFormat,
    commands: Mutex<std_mpsc::Sender<Command>>,
    slot: Mutex<Slot>,
    fresh: Condvar,
}

/// The newest frame and who may read it.
struct Slot {
    frame: VideoFrame,
    /// Counts published frames, so a reader knows whether it has seen this one.
    seq: u64,
    /// Counts the sources asked for, and which of them made `frame`: a reader for a new
    /// sender skips the pictures stamped for the one before.
    sources: u64,
    frame_source: u64,
    /// The reader that gets frames; older ones (from before a reconnect) are retired.
    reader: u64,
    /// The participant number the picture is stamped with.
    sender: u32,
    on: bool,
    closed: bool,
}

enum Command {
    /// Pull from this source (the `n`th asked for), or (with `None`) from nothing: the
    /// device is closed.
    Source(u64, Option<Box<dyn VideoSource + Send>>),
    Close,
}

impl CameraFeed {
    /// Opens the picture (so a missing, busy or refused camera is reported here) and starts
    /// pulling it; a camera lost later is reported to `on_lost`.
    pub fn start(
        open: OpenSource,
        synthetic: bool,
        hub: FrameHub,
        on_lost: OnLost,
    ) -> Result<Self, CaptureError> {
        let source = open(0)?;
        let format = source.format();
        let (tx, rx) = std_mpsc::channel();
        let inner = Arc::new(Inner {
            open: Mutex::new(open),
            on_lost,
            synthetic,
            format,
            commands: Mutex::new(tx),
            slot: Mutex::new(Slot {
                frame: VideoFrame::new(format.width, format.height),
                seq: 0,
                sources: 0,
                frame_source: 0,
                reader: 0,
                sender: 0,
                on: true,
                closed: false,
            }),
            fresh: Condvar::new(),
        });
        let pulling = inner.clone();
        thread::Builder::new()
            .name("samla-camera-feed".into())
            .spawn(move || pull(&pulling, source, &rx, SelfView::new(hub)))
            .map_err(|e| CaptureError::Backend {
                kind: DeviceKind::Camera,
                reason: format!("cannot start the camera thread: {e}"),
            })?;
        Ok(Self { inner })
    }

    /// Size and rate of the track.
    pub fn format(&self) -> VideoFormat {
        self.inner.format
    }

    /// Switches the camera off (closing the device) or on (opening it again).
    pub fn set_on(&self, on: bool) -> Result<(), CameraError> {
        let sender = {
            let slot = self.inner.lock();
            if slot.closed {
                return Err(CameraError::Closed);
            }
            if slot.on == on {
                return Ok(());
            }
            slot.sender
        };
        let source = if on {
            Some(self.inner.fitting(self.inner.open_source(sender)?)?)
        } else {
            None
        };
        self.inner.lock().on = on;
        self.inner.switch(source);
        Ok(())
    }

    /// Sends the camera that `open` opens from now on (another one picked in the meeting). It
    /// is opened here while the camera is on, so a missing, busy or refused one, or one that
    /// cannot deliver the track's size, is reported and the one before goes on; while off, it
    /// is the one switched on next.
    pub fn use_camera(&self, open: OpenSource) -> Result<(), CameraError> {
        let (sender, on) = {
            let slot = self.inner.lock();
            if slot.closed {
                return Err(CameraError::Closed);
            }
            (slot.sender, slot.on)
        };
        let source = if on {
            Some(self.inner.fitting(open(sender)?)?)
        } else {
            None
        };
        if let Ok(mut current) = self.inner.open.lock() {
            *current = open;
        }
        if source.is_some() {
            self.inner.switch(source);
        }
        Ok(())
    }

    /// Ends the pulling thread (closing the device) and every reader.
    pub fn close(&self) {
        self.inner.lock().closed = true;
        self.inner.fresh.notify_all();
        self.inner.send(Command::Close);
    }
}

impl Inner {
    /// Opens the camera as now picked. The opener's lock is held meanwhile (opening can take
    /// a second), so two openings never race for one device; the frame slot is not.
    fn open_source(&self, sender: u32) -> Result<Box<dyn VideoSource + Send>, CaptureError> {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open(sender)
    }

    /// `source`, if it delivers the size the track was negotiated for.
    fn fitting(
        &self,
        source: Box<dyn VideoSource + Send>,
    ) -> Result<Box<dyn VideoSource + Send>, CameraError> {
        let (got, want) = (source.format(), self.format);
        if (got.width, got.height) != (want.width, want.height) {
            return Err(CameraError::FormatChanged {
                got: (got.width, got.height),
                want: (want.width, want.height),
            });
        }
        Ok(source)
    }

    fn lock(&self) -> MutexGuard<'_, Slot> {
        // A panic elsewhere while holding the lock leaves a frame half copied at worst.
        self.slot.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hands the pulling thread a new source; returns its number.
    fn switch(&self, source: Option<Box<dyn VideoSource + Send>>) -> u64 {
        let n = {
            let mut slot = self.lock();
            slot.sources += 1;
            slot.sources
        };
        self.send(Command::Source(n, source));
        n
    }

    fn send(&self, command: Command) {
        if let Ok(tx) = self.commands.lock() {
            // The thread is gone only after `close`, when nothing is left to tell it.
            let _ = tx.send(command);
        }
    }
}

impl OpenVideo for CameraFeed {
    /// A reader for a new encoder thread; the previous one (before a reconnect) stops.
    fn open(&self, sender: u32) -> Result<Box<dyn VideoSource + Send>, CaptureError> {
        let (id, restamp) = {
            let mut slot = self.inner.lock();
            slot.reader += 1;
            let restamp = self.inner.synthetic && slot.on && slot.sender != sender;
            slot.sender = sender;
            (slot.reader, restamp)
        };
        self.inner.fresh.notify_all();
        let first_source = if restamp {
            self.inner.switch(Some(self.inner.open_source(sender)?))
        } else {
            0
        };
        let seen = self.inner.lock().seq;
        Ok(Box::new(Reader {
            inner: self.inner.clone(),
            id,
            seen,
            first_source,
        }))
    }
}

/// The engine's end: blocks until a frame newer than the last one it read arrives (while
/// the camera is off, until it is on again).
struct Reader {
    inner: Arc<Inner>,
    id: u64,
    seen: u64,
    /// Frames of earlier sources are not for this reader.
    first_source: u64,
}

impl VideoSource for Reader {
    fn format(&self) -> VideoFormat {
        self.inner.format
    }

    fn next_frame(&mut self, out: &mut VideoFrame) -> Result<(), CaptureError> {
        let mut slot = self.inner.lock();
        loop {
            if slot.closed || slot.reader != self.id {
                return Err(CaptureError::DeviceLost {
                    kind: DeviceKind::Camera,
                    name: "camera".into(),
                    reason: "the media session moved on".into(),
                });
            }
            if slot.seq != self.seen && slot.frame_source >= self.first_source {
                self.seen = slot.seq;
                copy_frame(&slot.frame, out);
                return Ok(());
            }
            slot = self
                .inner
                .fresh
                .wait(slot)
                .unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// The pulling thread: frames from the current source to the slot and the self view.
fn pull(
    inner: &Inner,
    first: Box<dyn VideoSource + Send>,
    commands: &std_mpsc::Receiver<Command>,
    mut self_view: SelfView,
) {
    let mut source = Some(first);
    let mut source_n = 0;
    let mut frame = VideoFrame::new(inner.format.width, inner.format.height);
    loop {
        // Without a source there is nothing to do but wait for the next command.
        let command = if source.is_some() {
            match commands.try_recv() {
                Ok(c) => Some(c),
                Err(std_mpsc::TryRecvError::Empty) => None,
                Err(std_mpsc::TryRecvError::Disconnected) => return,
            }
        } else {
            commands.recv().ok().or(Some(Command::Close))
        };
        match command {
            Some(Command::Close) => return,
            Some(Command::Source(n, next)) => {
                source = next;
                source_n = n;
                continue;
            }
            None => {}
        }
        let Some(src) = source.as_mut() else {
            continue;
        };
        if let Err(err) = src.next_frame(&mut frame) {
            // Unplugged or taken: the meeting goes on without our picture, the feed is off
            // (switching it on opens the camera again) and the page says why. Unless another
            // source has been asked for meanwhile, which then takes over.
            tracing::warn!(%err, "the camera stopped");
            source = None;
            let current = {
                let mut slot = inner.lock();
                let current = slot.sources == source_n;
                if current {
                    slot.on = false;
                }
                current
            };
            if current {
                (inner.on_lost)(&err);
            }
            continue;
        }
        self_view.offer(&frame);
        {
            let mut slot = inner.lock();
            copy_frame(&frame, &mut slot.frame);
            slot.seq += 1;
            slot.frame_source = source_n;
        }
        inner.fresh.notify_all();
    }
}

/// Our own picture for the page, thinned out and scaled down.
struct SelfView {
    hub: FrameHub,
    last: Option<Instant>,
    scaled: VideoFrame,
}

impl SelfView {
    fn new(hub: FrameHub) -> Self {
        Self {
            hub,
            last: None,
            scaled: VideoFrame::new(0, 0),
        }
    }

    fn offer(&mut self, frame: &VideoFrame) {
        if !self.hub.has_pages() {
            return;
        }
        let now = Instant::now();
        let every = Duration::from_secs_f32(1.0 / SELF_VIEW_FPS);
        if self
            .last
            .is_some_and(|last| now.duration_since(last) < every)
        {
            return;
        }
        self.last = Some(now);
        let factor = self_view_factor(frame.height());
        let shown = if factor > 1 {
            frame.scale_down_into(factor, &mut self.scaled);
            &self.scaled
        } else {
            frame
        };
        self.hub.publish(encode_self_view(shown));
    }
}

/// The integer scale-down that brings `height` to at most [`SELF_VIEW_MAX_HEIGHT`].
fn self_view_factor(height: u32) -> u32 {
    height.div_ceil(SELF_VIEW_MAX_HEIGHT).max(1)
}

fn copy_frame(src: &VideoFrame, dst: &mut VideoFrame) {
    dst.resize(src.width(), src.height());
    let (y, u, v) = dst.planes_mut();
    y.copy_from_slice(src.y());
    u.copy_from_slice(src.u());
    v.copy_from_slice(src.v());
    dst.timestamp_us = src.timestamp_us;
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::UNIX_EPOCH;

    use samla_media::{read_marker, Pacing, TestPattern};

    use super::*;

    /// A synthetic picture that counts how often it was opened and how many are open now
    /// (as a camera's light would show).
    fn counting_pattern(opened: Arc<AtomicUsize>, open_now: Arc<AtomicUsize>) -> OpenSource {
        let open = camera(0, 320, 180, open_now);
        Box::new(move |sender| {
            opened.fetch_add(1, Ordering::SeqCst);
            open(sender)
        })
    }

    fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
        for _ in 0..200 {
            if done() {
                return;
            }
            thread::sleep(Duration::from_millis(10));
        }
        panic!("{what} did not happen");
    }

    #[test]
    fn switching_off_closes_the_source_and_on_reopens_it() {
        let (opened, open_now) = (Arc::default(), Arc::new(AtomicUsize::new(0)));
        let feed = CameraFeed::start(
            counting_pattern(Arc::clone(&opened), open_now.clone()),
            true,
            FrameHub::default(),
            Box::new(|_| {}),
        )
        .unwrap();
        let mut reader = feed.open(7).unwrap();
        let mut frame = VideoFrame::new(0, 0);
        reader.next_frame(&mut frame).unwrap();
        assert_eq!((frame.width(), frame.height()), (320, 180));
        // The synthetic picture was opened anew for the sender, and carries its number.
        assert_eq!(read_marker(&frame).map(|m| m.sender), Some(7));

        feed.set_on(false).unwrap();
        wait_until("the source closing", || {
            open_now.load(Ordering::SeqCst) == 0
        });
        feed.set_on(true).unwrap();
        reader.next_frame(&mut frame).unwrap();
        assert_eq!(open_now.load(Ordering::SeqCst), 1);
        assert_eq!(opened.load(Ordering::SeqCst), 3);
        feed.close();
        wait_until("the source closing", || {
            open_now.load(Ordering::SeqCst) == 0
        });
        assert!(reader.next_frame(&mut frame).is_err());
    }

    /// A picture of `width` x `height` stamped `sender + offset` (so a test can tell which
    /// camera a frame came from); `open_now` counts how many are open.
    fn camera(offset: u32, width: u32, height: u32, open_now: Arc<AtomicUsize>) -> OpenSource {
        struct Open(TestPattern, Arc<AtomicUsize>);
        impl VideoSource for Open {
            fn format(&self) -> VideoFormat {
                self.0.format()
            }
            fn next_frame(&mut self, out: &mut VideoFrame) -> Result<(), CaptureError> {
                self.0.next_frame(out)
            }
        }
        impl Drop for Open {
            fn drop(&mut self) {
                self.1.fetch_sub(1, Ordering::SeqCst);
            }
        }
        Box::new(move |sender| {
            let pattern = TestPattern::new(
                sender + offset,
                width,
                height,
                30.0,
                UNIX_EPOCH,
                Pacing::RealTime,
            )?;
            open_now.fetch_add(1, Ordering::SeqCst);
            Ok(Box::new(Open(pattern, open_now.clone())))
        })
    }

    /// Reads frames until one stamped `sender` arrives.
    fn frame_from(reader: &mut Box<dyn VideoSource + Send>, sender: u32) {
        let mut frame = VideoFrame::new(0, 0);
        for _ in 0..100 {
            reader.next_frame(&mut frame).unwrap();
            if read_marker(&frame).map(|m| m.sender) == Some(sender) {
                return;
            }
        }
        panic!("no frame from the camera stamped {sender}");
    }

    #[test]
    fn another_camera_takes_over_in_place_unless_it_cannot_fill_the_track() {
        let (first, second, third) = (Arc::default(), Arc::default(), Arc::default());
        let feed = CameraFeed::start(
            camera(0, 320, 180, Arc::clone(&first)),
            true,
            FrameHub::default(),
            Box::new(|_| {}),
        )
        .unwrap();
        let mut reader = feed.open(7).unwrap();
        frame_from(&mut reader, 7);

        // Another camera of the track's size: its frames are sent, the first one closes.
        feed.use_camera(camera(100, 320, 180, Arc::clone(&second)))
            .unwrap();
        frame_from(&mut reader, 107);
        wait_until("the first camera closing", || {
            first.load(Ordering::SeqCst) == 0
        });

        // One that cannot deliver the track's size is refused; the one before goes on.
        let refused = feed.use_camera(camera(200, 640, 480, Arc::clone(&third)));
        assert!(matches!(
            refused,
            Err(CameraError::FormatChanged {
                got: (640, 480),
                ..
            })
        ));
        assert_eq!(
            third.load(Ordering::SeqCst),
            0,
            "the refused camera was left open"
        );
        frame_from(&mut reader, 107);

        // Picked while off: nothing opens until the camera is switched on.
        feed.set_on(false).unwrap();
        wait_until("the second camera closing", || {
            second.load(Ordering::SeqCst) == 0
        });
        feed.use_camera(camera(300, 320, 180, Arc::clone(&third)))
            .unwrap();
        assert_eq!(third.load(Ordering::SeqCst), 0);
        feed.set_on(true).unwrap();
        frame_from(&mut reader, 307);
        feed.close();
    }

    #[test]
    fn a_new_reader_retires_the_one_before_a_reconnect() {
        let (opened, open_now) = (Arc::default(), Arc::default());
        let feed = CameraFeed::start(
            counting_pattern(opened, open_now),
            true,
            FrameHub::default(),
            Box::new(|_| {}),
        )
        .unwrap();
        let mut old = feed.open(1).unwrap();
        let mut new = feed.open(1).unwrap();
        let mut frame = VideoFrame::new(0, 0);
        assert!(old.next_frame(&mut frame).is_err());
        new.next_frame(&mut frame).unwrap();
        feed.close();
    }

    /// An unplugged camera, as the machine has none: a stand-in whose first opening stops
    /// after a few frames with the error a real one gives (`DeviceLost`), and which delivers
    /// again when opened anew (plugged back in).
    #[test]
    fn an_unplugged_camera_is_reported_and_switching_on_opens_it_again() {
        struct Unplugged(TestPattern, u32);
        impl VideoSource for Unplugged {
            fn format(&self) -> VideoFormat {
                self.0.format()
            }
            fn next_frame(&mut self, out: &mut VideoFrame) -> Result<(), CaptureError> {
                if self.1 == 0 {
                    return Err(CaptureError::DeviceLost {
                        kind: DeviceKind::Camera,
                        name: "USB-kamera".into(),
                        reason: "unplugged".into(),
                    });
                }
                self.1 -= 1;
                self.0.next_frame(out)
            }
        }
        let openings = Arc::new(AtomicUsize::new(0));
        let counted = openings.clone();
        let open: OpenSource = Box::new(move |sender| {
            let first = counted.fetch_add(1, Ordering::SeqCst) == 0;
            let pattern = TestPattern::new(sender, 320, 180, 30.0, UNIX_EPOCH, Pacing::RealTime)?;
            Ok(Box::new(Unplugged(
                pattern,
                if first { 5 } else { u32::MAX },
            )))
        });
        let (lost_tx, lost_rx) = std_mpsc::channel();
        let lost_tx = Mutex::new(lost_tx);
        let feed = CameraFeed::start(
            open,
            false,
            FrameHub::default(),
            Box::new(move |err| {
                let _ = lost_tx.lock().unwrap().send(err.to_string());
            }),
        )
        .unwrap();
        let told = lost_rx
            .recv_timeout(Duration::from_secs(5))
            .expect("the page was not told the camera stopped");
        assert!(told.contains("unplugged"), "{told}");
        // Off now: switching it on opens the camera again, and pictures come.
        feed.set_on(true).unwrap();
        assert_eq!(openings.load(Ordering::SeqCst), 2);
        let mut reader = feed.open(3).unwrap();
        let mut frame = VideoFrame::new(0, 0);
        reader.next_frame(&mut frame).unwrap();
        assert_eq!((frame.width(), frame.height()), (320, 180));
        feed.close();
    }

    #[test]
    fn self_view_is_at_most_360_lines() {
        assert_eq!(self_view_factor(180), 1);
        assert_eq!(self_view_factor(360), 1);
        assert_eq!(self_view_factor(480), 2);
        assert_eq!(self_view_factor(720), 2);
        assert_eq!(self_view_factor(1080), 3);
        assert_eq!(self_view_factor(0), 1);
    }
}
