//! A private Wayland desktop for the portal screen-capture test: sway on its headless backend
//! showing a picture as its background, with the session services (`session.rs`), whose bus
//! starts xdg-desktop-portal and its wlroots backend (xdg-desktop-portal-wlr) when first
//! asked. These are the parts a sway user's desktop runs.
//!
//! The sharing dialog is xdg-desktop-portal-wlr's "dmenu" chooser pointed at a command the
//! test steers: while `deny` is off it picks the one screen; while on it answers nothing, as
//! a user closing the dialog does.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::session::Processes;

/// The name wlroots gives the first headless output.
const OUTPUT: &str = "HEADLESS-1";
/// `nobody`, sway's user when the test runs as root.
const NOBODY: u32 = 65534;

/// The desktop's processes, stopped when dropped.
pub struct WaylandDesktop {
    /// The processes and their logs.
    pub processes: Processes,
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
        let mut processes = Processes::new("wayland");
        let dir = processes.dir.clone();
        let runtime_dir = processes.runtime_dir();
        let config_home = dir.join("config");
        fs::create_dir_all(config_home.join("xdg-desktop-portal-wlr")).unwrap();
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
        processes.spawn("sway", sway, "apt-get install sway swaybg");
        let wayland_display = processes.wait_for("sway's Wayland socket", || {
            fs::read_dir(&runtime_dir)
                .ok()?
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .find(|name| name.starts_with("wayland-") && !name.ends_with(".lock"))
        });

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
        let data_home = dir.join("data");
        let bus_address = processes.start_session(&[
            ("WAYLAND_DISPLAY", OsStr::new(&wayland_display)),
            ("XDG_CURRENT_DESKTOP", OsStr::new("sway")),
            ("XDG_CONFIG_HOME", config_home.as_os_str()),
            ("XDG_DATA_HOME", data_home.as_os_str()),
        ]);
        Self {
            processes,
            wayland_display,
            bus_address,
            deny_flag,
        }
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
        std::env::set_var("XDG_RUNTIME_DIR", self.processes.runtime_dir());
        std::env::set_var("WAYLAND_DISPLAY", &self.wayland_display);
        std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &self.bus_address);
        std::env::remove_var("DISPLAY");
    }
}
