//! A private Wayland desktop for the portal screen-capture test: sway on its headless backend
//! showing a picture as its background, a PipeWire daemon with its session manager, and a
//! D-Bus session bus that starts xdg-desktop-portal and its wlroots backend
//! (xdg-desktop-portal-wlr) when first asked. These are the parts a sway user's desktop runs.
//!
//! The sharing dialog is xdg-desktop-portal-wlr's "dmenu" chooser pointed at a command the
//! test steers: while `deny` is off it picks the one screen; while on it answers nothing, as
//! a user closing the dialog does.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The name wlroots gives the first headless output.
const OUTPUT: &str = "HEADLESS-1";
/// `nobody`, sway's user when the test runs as root.
const NOBODY: u32 = 65534;

/// The desktop's processes, stopped when dropped; their logs in `dir` stay when the test fails.
pub struct WaylandDesktop {
    children: Vec<(String, Child)>,
    /// Logs, configuration and the runtime folder.
    pub dir: PathBuf,
    /// `XDG_RUNTIME_DIR`: the Wayland, PipeWire and D-Bus sockets.
    pub runtime_dir: PathBuf,
    /// `WAYLAND_DISPLAY`.
    pub wayland_display: String,
    /// `DBUS_SESSION_BUS_ADDRESS`.
    pub bus_address: String,
    deny_flag: PathBuf,
}

impl WaylandDesktop {
    /// Starts the desktop with one `width`x`height` screen showing `background` (a PNG of
    /// that size, drawn 1:1).
    ///
    /// # Panics
    ///
    /// Panics with the install hint when a part is missing: the test must not pass silently
    /// on a machine that cannot run it.
    pub fn start(background: &Path, width: u32, height: u32) -> Self {
        let dir = std::env::temp_dir().join(format!("samla-wayland-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let runtime_dir = dir.join("runtime");
        let config_home = dir.join("config");
        fs::create_dir_all(config_home.join("xdg-desktop-portal-wlr")).unwrap();
        fs::create_dir_all(&runtime_dir).unwrap();
        fs::set_permissions(&runtime_dir, fs::Permissions::from_mode(0o700)).unwrap();
        // sway refuses to run as root: as root, the desktop's user is `nobody`.
        let as_root = fs::metadata(&runtime_dir).unwrap().uid() == 0;
        if as_root {
            std::os::unix::fs::chown(&runtime_dir, Some(NOBODY), Some(NOBODY)).unwrap();
        }

        // The background is read by swaybg, which runs as sway's user.
        let scene = dir.join("background.png");
        fs::copy(background, &scene).unwrap();
        fs::set_permissions(&scene, fs::Permissions::from_mode(0o644)).unwrap();
        fs::write(
            dir.join("sway.conf"),
            format!(
                "xwayland disable\n\
                 output {OUTPUT} resolution {width}x{height} position 0 0\n\
                 output * bg {} stretch\n",
                scene.display()
            ),
        )
        .unwrap();

        let deny_flag = dir.join("deny");
        let chooser = dir.join("chooser");
        fs::write(
            &chooser,
            format!(
                "#!/bin/sh\n# The sharing dialog: picks the screen, or is closed while {} exists.\n\
                 cat >/dev/null\n[ -e {} ] && exit 1\necho {OUTPUT}\n",
                deny_flag.display(),
                deny_flag.display()
            ),
        )
        .unwrap();
        fs::set_permissions(&chooser, fs::Permissions::from_mode(0o755)).unwrap();
        fs::write(
            config_home.join("xdg-desktop-portal-wlr/config"),
            format!(
                "[screencast]\nchooser_type=dmenu\nchooser_cmd={}\n",
                chooser.display()
            ),
        )
        .unwrap();

        // The bus starts the portal backend from this service file before the system's (it
        // reads XDG_DATA_HOME first), so that its log says what it did.
        let services = dir.join("data/dbus-1/services");
        fs::create_dir_all(&services).unwrap();
        fs::write(
            services.join("org.freedesktop.impl.portal.desktop.wlr.service"),
            "[D-BUS Service]\nName=org.freedesktop.impl.portal.desktop.wlr\n\
             Exec=/usr/libexec/xdg-desktop-portal-wlr --loglevel=DEBUG\n",
        )
        .unwrap();

        let mut desktop = Self {
            children: Vec::new(),
            dir: dir.clone(),
            runtime_dir: runtime_dir.clone(),
            wayland_display: String::new(),
            bus_address: format!("unix:path={}", runtime_dir.join("bus").display()),
            deny_flag,
        };

        let mut sway = if as_root {
            let mut c = Command::new("setpriv");
            c.args([
                &format!("--reuid={NOBODY}"),
                &format!("--regid={NOBODY}"),
                "--clear-groups",
                "sway",
            ]);
            c
        } else {
            Command::new("sway")
        };
        sway.arg("-c")
            .arg(dir.join("sway.conf"))
            .env("HOME", &dir)
            .env("XDG_RUNTIME_DIR", &runtime_dir)
            .env("WLR_BACKENDS", "headless")
            .env("WLR_HEADLESS_OUTPUTS", "1")
            .env("WLR_LIBINPUT_NO_DEVICES", "1")
            .env("WLR_RENDERER", "pixman")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY");
        desktop.spawn("sway", sway, "apt-get install sway swaybg");
        desktop.wayland_display = desktop.wait_for("sway's Wayland socket", || {
            fs::read_dir(&runtime_dir)
                .ok()?
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .find(|name| name.starts_with("wayland-") && !name.ends_with(".lock"))
        });

        // Everything below runs as the test's own user, with the desktop's environment.
        let (wayland_display, bus_address) =
            (desktop.wayland_display.clone(), desktop.bus_address.clone());
        let session = |program: &str| {
            let mut c = Command::new(program);
            c.env("XDG_RUNTIME_DIR", &runtime_dir)
                .env("WAYLAND_DISPLAY", &wayland_display)
                .env("XDG_CURRENT_DESKTOP", "sway")
                .env("XDG_CONFIG_HOME", &config_home)
                .env("XDG_DATA_HOME", dir.join("data"))
                .env("DBUS_SESSION_BUS_ADDRESS", &bus_address)
                .env_remove("DISPLAY");
            c
        };
        let mut bus = session("dbus-daemon");
        bus.args(["--session", "--nofork", "--nopidfile"])
            .arg(format!("--address={bus_address}"));
        desktop.spawn("dbus", bus, "apt-get install dbus-daemon");
        let bus_socket = runtime_dir.join("bus");
        desktop.wait_for("the D-Bus session bus", || {
            bus_socket.exists().then_some(())
        });

        desktop.spawn("pipewire", session("pipewire"), "apt-get install pipewire");
        let pipewire_socket = runtime_dir.join("pipewire-0");
        desktop.wait_for("PipeWire", || pipewire_socket.exists().then_some(()));
        desktop.spawn(
            "wireplumber",
            session("wireplumber"),
            "apt-get install wireplumber",
        );
        // xdg-desktop-portal and xdg-desktop-portal-wlr are started by the bus on first use,
        // with its environment; check they are there to be started.
        for (service, package) in [
            ("/usr/libexec/xdg-desktop-portal", "xdg-desktop-portal"),
            (
                "/usr/libexec/xdg-desktop-portal-wlr",
                "xdg-desktop-portal-wlr",
            ),
        ] {
            assert!(
                Path::new(service).exists(),
                "{service} is needed for the Wayland capture test: apt-get install {package}"
            );
        }
        desktop
    }

    /// Whether the sharing dialog is closed without a choice (`true`) or picks the screen.
    pub fn deny_sharing(&self, deny: bool) {
        if deny {
            fs::write(&self.deny_flag, b"").unwrap();
        } else {
            let _ = fs::remove_file(&self.deny_flag);
        }
    }

    /// Points this process at the desktop, as a program started in it would be.
    pub fn enter(&self) {
        std::env::set_var("XDG_SESSION_TYPE", "wayland");
        std::env::set_var("XDG_RUNTIME_DIR", &self.runtime_dir);
        std::env::set_var("WAYLAND_DISPLAY", &self.wayland_display);
        std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &self.bus_address);
        std::env::remove_var("DISPLAY");
    }

    fn spawn(&mut self, name: &str, mut command: Command, install: &str) {
        let log = fs::File::create(self.dir.join(format!("{name}.log"))).unwrap();
        let child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({e}): {install}"));
        self.children.push((name.to_owned(), child));
    }

    /// Polls `ready` for up to 10 s; panics with the logs' folder if it never is, or if a
    /// process of the desktop has ended meanwhile.
    fn wait_for<T>(&mut self, what: &str, mut ready: impl FnMut() -> Option<T>) -> T {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(value) = ready() {
                return value;
            }
            for (name, child) in &mut self.children {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!(
                        "{name} ended ({status}) before {what} was ready; see {}/{name}.log",
                        self.dir.display()
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
}

impl Drop for WaylandDesktop {
    fn drop(&mut self) {
        for (_, child) in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // A failed test's logs stay for reading.
        if !std::thread::panicking() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}
