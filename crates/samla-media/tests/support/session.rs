//! The user-session services a Linux desktop runs, private to one test: a D-Bus session bus,
//! the PipeWire daemon and its session manager (WirePlumber), in a runtime folder of their
//! own. The Wayland test adds a compositor and the desktop portal to them; the audio test
//! adds virtual speakers and a virtual microphone.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Processes stopped when dropped, with a folder for their logs and sockets that is removed
/// then unless the test failed (its logs stay for reading).
pub struct Processes {
    children: Vec<(String, Child)>,
    /// Logs and configuration.
    pub dir: PathBuf,
}

impl Processes {
    /// An empty set, with its folder and a private `runtime` folder in it.
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("samla-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("runtime")).unwrap();
        fs::set_permissions(dir.join("runtime"), fs::Permissions::from_mode(0o700)).unwrap();
        Self {
            children: Vec::new(),
            dir,
        }
    }

    /// `XDG_RUNTIME_DIR`: the sockets.
    pub fn runtime_dir(&self) -> PathBuf {
        self.dir.join("runtime")
    }

    /// The session bus, PipeWire and WirePlumber, with `env` on top of the runtime folder
    /// (services the bus starts get it too). Returns the bus address.
    pub fn start_session(&mut self, env: &[(&str, &OsStr)]) -> String {
        let runtime_dir = self.runtime_dir();
        let bus_address = format!("unix:path={}", runtime_dir.join("bus").display());
        let session = |program: &str| {
            let mut c = Command::new(program);
            c.env("XDG_RUNTIME_DIR", &runtime_dir)
                .env("DBUS_SESSION_BUS_ADDRESS", &bus_address)
                .env_remove("DISPLAY")
                .envs(env.iter().copied());
            c
        };
        let mut bus = session("dbus-daemon");
        bus.args(["--session", "--nofork", "--nopidfile"])
            .arg(format!("--address={bus_address}"));
        self.spawn("dbus", bus, "apt-get install dbus-daemon");
        let bus_socket = runtime_dir.join("bus");
        self.wait_for("the D-Bus session bus", || {
            bus_socket.exists().then_some(())
        });
        self.spawn("pipewire", session("pipewire"), "apt-get install pipewire");
        let pipewire_socket = runtime_dir.join("pipewire-0");
        self.wait_for("PipeWire", || pipewire_socket.exists().then_some(()));
        self.spawn(
            "wireplumber",
            session("wireplumber"),
            "apt-get install wireplumber",
        );
        bus_address
    }

    /// Starts `command`, its output in `name.log`; panics with `install` if it is missing.
    pub fn spawn(&mut self, name: &str, mut command: Command, install: &str) {
        let log = fs::File::create(self.dir.join(format!("{name}.log"))).unwrap();
        let child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({e}): {install}"));
        self.children.push((name.to_owned(), child));
    }

    /// Polls `ready` for up to 10 s; panics with the logs' folder if it never is, or if one of
    /// the processes has ended meanwhile.
    pub fn wait_for<T>(&mut self, what: &str, mut ready: impl FnMut() -> Option<T>) -> T {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(value) = ready() {
                return value;
            }
            for (name, child) in &mut self.children {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!(
                        "{name} ended ({status}) before {what} was ready; see {}",
                        self.dir.join(format!("{name}.log")).display()
                    );
                }
            }
            assert!(
                Instant::now() < deadline,
                "{what} not ready in 10 s; logs in {}",
                self.dir.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Runs `program` with `args` in the session to its end; panics with its output if it fails.
    #[allow(dead_code)] // the audio test's; the Wayland test runs no commands of its own
    pub fn run(&self, program: &str, args: &[&str]) -> String {
        let out = Command::new(program)
            .args(args)
            .env("XDG_RUNTIME_DIR", self.runtime_dir())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
        assert!(
            out.status.success(),
            "{program} {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        for (_, child) in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if !std::thread::panicking() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}
