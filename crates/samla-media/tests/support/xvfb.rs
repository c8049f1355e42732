//! A private Xvfb display for screen-capture tests and benchmarks.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// An Xvfb server that is killed when dropped.
pub struct Xvfb {
    child: Child,
    /// The display name, such as `":107"`.
    pub display: String,
}

impl Xvfb {
    /// Starts `Xvfb :N -screen 0 WIDTHxHEIGHTx24 -noreset` (no reset when the
    /// probe connection closes, which would drop the next client) on the first free display
    /// number from 100 and waits until it accepts connections.
    ///
    /// # Panics
    ///
    /// Panics with the install hint when Xvfb is missing: these tests must
    /// not pass silently on a machine that cannot run them.
    pub fn start(width: u32, height: u32) -> Self {
        // Tests in one process run in parallel: each takes its own block of
        // display numbers so two never race for the same one.
        static NEXT_BLOCK: AtomicU32 = AtomicU32::new(0);
        let block = NEXT_BLOCK.fetch_add(1, Ordering::Relaxed);
        let base = 100 + (std::process::id() % 100) * 50 + block * 10;
        for n in base..base + 10 {
            if Path::new(&format!("/tmp/.X{n}-lock")).exists()
                || Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
            {
                continue;
            }
            let display = format!(":{n}");
            let child = Command::new("Xvfb")
                .args([
                    &display,
                    "-screen",
                    "0",
                    &format!("{width}x{height}x24"),
                    "-nolisten",
                    "tcp",
                    "-noreset",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("Xvfb is needed for the screen capture tests: apt-get install xvfb");
            let mut server = Self { child, display };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if x11rb::connect(Some(&server.display)).is_ok() {
                    return server;
                }
                if let Ok(Some(_)) = server.child.try_wait() {
                    break; // lost a race for this display number; try the next
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = server.child.kill();
        }
        panic!("could not start Xvfb on any display from :{base}");
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
