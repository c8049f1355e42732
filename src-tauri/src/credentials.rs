//! The user's API tokens (`samla_...`), one per meeting server, kept in the operating system's
//! keyring: the Secret Service on Linux (GNOME Keyring, KWallet), the login keychain on macOS,
//! the Credential Manager on Windows.
//!
//! The keyring, not a file in the app's data folder, because a bearer token opens the user's
//! account on that server: the keyring encrypts it with the user's login and shows it in the
//! desktop's password manager, where the user can see and remove it. Each entry has the service
//! name [`SERVICE`] and the server's host name (`meet.uio.no`, `127.0.0.1:7700`) as its account.
//!
//! Every call opens the keyring anew rather than keeping a connection from app start: a keyring
//! that starts or is unlocked after the app (or restarts) is then found without restarting the
//! app, and the calls are rare (the Settings screen, sign-in), so the D-Bus handshake costs
//! nothing the user notices. The calls block (D-Bus round trips, or a keyring's unlock prompt),
//! so the commands run them on Tauri's blocking pool, never on the main thread or the async
//! runtime's workers.

use std::sync::Arc;

use keyring_core::api::CredentialStore;
use keyring_core::error::PlatformError;
use keyring_core::{Entry, Error as KeyringError};

/// The keyring entries' service name: the app's identifier, as in `tauri.conf.json`.
const SERVICE: &str = "no.samla.desktop";

/// The keyring's name as users know it on this system, for the error messages.
#[cfg(target_os = "linux")]
const KEYRING: &str = "Secret Service";
#[cfg(target_os = "macos")]
const KEYRING: &str = "Keychain";
#[cfg(target_os = "windows")]
const KEYRING: &str = "Credential Manager";

/// Why a token could not be loaded, saved or forgotten. The messages are English sentences for
/// the user (the page wraps them in its own translated text); none ever contains a token, which
/// is why the keyring's own errors that carry the stored bytes are not kept as sources.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The keyring could not be reached at all: on Linux no Secret Service on the session bus,
    /// or no session bus (a bare window manager, SSH, a container).
    #[error("no system keyring is running ({KEYRING}): {0}")]
    NoKeyring(#[source] PlatformError),
    /// The keyring is there but locked, and unlocking was refused or could not be asked for.
    #[error("the system keyring ({KEYRING}) is locked or refused access: {0}")]
    Locked(#[source] PlatformError),
    /// More than one entry matches (one left in another collection, say). Forgetting removes
    /// them all, so signing out and in again repairs it.
    #[error(
        "the system keyring ({KEYRING}) holds {count} tokens for {server}; \
         sign out to remove them, then sign in again"
    )]
    Ambiguous { server: String, count: usize },
    /// The stored secret is not a text token (written by something else than Samla).
    #[error("the token saved for {server} in the system keyring ({KEYRING}) cannot be read")]
    Unreadable { server: String },
    #[error("no meeting server was given for the token")]
    NoServer,
    #[error("an empty token cannot be saved; sign out instead")]
    EmptyToken,
    /// Anything else the keyring reported (none of these variants carries secret bytes).
    #[error("the system keyring ({KEYRING}) failed: {0}")]
    Keyring(#[source] KeyringError),
}

impl TokenError {
    /// Turns a keyring error about `server`'s entry into one the user can act on.
    fn about(server: &str, err: KeyringError) -> Self {
        match err {
            KeyringError::NoStorageAccess(source) => Self::Locked(source),
            KeyringError::Ambiguous(found) => Self::Ambiguous {
                server: server.to_owned(),
                count: found.len(),
            },
            KeyringError::BadEncoding(_) | KeyringError::BadDataFormat(..) => Self::Unreadable {
                server: server.to_owned(),
            },
            other => Self::Keyring(other),
        }
    }
}

/// The token saved for `server`, or `None` when there is none.
pub fn load(server: &str) -> Result<Option<String>, TokenError> {
    let entry = entry(server)?;
    match entry.get_password() {
        Ok(token) => Ok(Some(token)),
        Err(KeyringError::NoEntry) => Ok(None),
        Err(err) => Err(TokenError::about(server, err)),
    }
}

/// Saves `token` for `server`, replacing the one saved before.
pub fn save(server: &str, token: &str) -> Result<(), TokenError> {
    if token.is_empty() {
        return Err(TokenError::EmptyToken);
    }
    entry(server)?
        .set_password(token)
        .map_err(|err| TokenError::about(server, err))
}

/// Removes the token saved for `server`; none saved is not an error. Where more than one entry
/// matches, all are removed, so that signing out repairs a keyring left ambiguous.
pub fn forget(server: &str) -> Result<(), TokenError> {
    match entry(server)?.delete_credential() {
        Ok(()) | Err(KeyringError::NoEntry) => Ok(()),
        Err(KeyringError::Ambiguous(found)) => {
            found
                .iter()
                .try_for_each(|each| match each.delete_credential() {
                    Ok(()) | Err(KeyringError::NoEntry) => Ok(()),
                    Err(err) => Err(TokenError::about(server, err)),
                })
        }
        Err(err) => Err(TokenError::about(server, err)),
    }
}

/// The keyring entry for `server`'s token, in a newly opened keyring.
fn entry(server: &str) -> Result<Entry, TokenError> {
    if server.trim().is_empty() {
        return Err(TokenError::NoServer);
    }
    let store = open_store()?;
    // The Secret Service shows an item's label in the desktop's password manager (Seahorse,
    // KWalletManager); the other stores take no label.
    #[cfg(target_os = "linux")]
    let label = format!("Samla API token for {server}");
    #[cfg(target_os = "linux")]
    let modifiers = std::collections::HashMap::from([("label", label.as_str())]);
    #[cfg(target_os = "linux")]
    let built = store.build(SERVICE, server, Some(&modifiers));
    #[cfg(not(target_os = "linux"))]
    let built = store.build(SERVICE, server, None);
    built.map_err(|err| TokenError::about(server, err))
}

/// Opens this platform's keyring. On Linux this connects to the session bus and opens an
/// encrypted session with the Secret Service, so its failure means there is no keyring to use.
fn open_store() -> Result<Arc<CredentialStore>, TokenError> {
    #[cfg(target_os = "linux")]
    let opened = zbus_secret_service_keyring_store::Store::new();
    #[cfg(target_os = "macos")]
    let opened = apple_native_keyring_store::keychain::Store::new();
    #[cfg(target_os = "windows")]
    let opened = windows_native_keyring_store::Store::new();
    match opened {
        Ok(store) => Ok(store),
        Err(KeyringError::PlatformFailure(source) | KeyringError::NoStorageAccess(source)) => {
            Err(TokenError::NoKeyring(source))
        }
        Err(other) => Err(TokenError::Keyring(other)),
    }
}

/// Runs a keyring call on Tauri's blocking pool and gives the page its message on failure.
async fn off_the_main_thread<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, TokenError> + Send + 'static,
) -> Result<T, String> {
    match tauri::async_runtime::spawn_blocking(call).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => {
            tracing::warn!(%err, "system keyring");
            Err(err.to_string())
        }
        Err(err) => Err(format!("the system keyring call stopped: {err}")),
    }
}

/// The token saved for the meeting server `server` (host name, with a port if not the
/// default), or `null` when none is saved.
#[tauri::command]
pub async fn token_load(server: String) -> Result<Option<String>, String> {
    off_the_main_thread(move || load(&server)).await
}

/// Saves the user's token for `server` in the system keyring, replacing any saved before.
#[tauri::command]
pub async fn token_save(server: String, token: String) -> Result<(), String> {
    off_the_main_thread(move || save(&server, &token)).await
}

/// Removes the token saved for `server` (signing out); none saved is fine.
#[tauri::command]
pub async fn token_forget(server: String) -> Result<(), String> {
    off_the_main_thread(move || forget(&server)).await
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::collections::HashMap;
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Child, Command, Stdio};
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    use super::*;

    /// The tests point the process's `DBUS_SESSION_BUS_ADDRESS` at buses of their own (the
    /// Secret Service store reads it when it connects, and takes no address); this lock keeps
    /// them from doing so at the same time. No other test in this binary uses D-Bus.
    static SESSION_BUS_ENV: Mutex<()> = Mutex::new(());

    /// A private D-Bus session bus in a temporary folder, optionally with GNOME Keyring's
    /// Secret Service on it, unlocked. The bus's configuration lists no service folders, so
    /// nothing is started on demand: the keyring is there only when the test started it.
    struct SessionBus {
        dir: tempfile::TempDir,
        address: String,
        daemons: Vec<Child>,
    }

    impl SessionBus {
        fn start() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let config = dir.path().join("bus.conf");
            std::fs::write(
                &config,
                format!(
                    r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                    dir.path().join("bus").display()
                ),
            )
            .unwrap();
            let mut bus = Command::new("dbus-daemon")
                .arg(format!("--config-file={}", config.display()))
                .args(["--nofork", "--print-address"])
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("dbus-daemon (Debian's dbus-daemon package; scripts/setup-debian)");
            let mut address = String::new();
            BufReader::new(bus.stdout.take().unwrap())
                .read_line(&mut address)
                .unwrap();
            let address = address.trim().to_owned();
            assert!(address.starts_with("unix:"), "dbus-daemon said {address:?}");
            SessionBus {
                dir,
                address,
                daemons: vec![bus],
            }
        }

        /// Starts GNOME Keyring's Secret Service on the bus, with a fresh login keyring (in
        /// the temporary folder, not the user's) unlocked by the password on its input, as a
        /// desktop session's login does.
        fn with_keyring(mut self) -> Self {
            self.start_keyring(Some(b"login password"));
            self
        }

        /// Stops the keyring and starts it again without the password: the login keyring it
        /// saved is then locked, as after a login that did not unlock it, and with no prompter
        /// on this bus it cannot be unlocked.
        fn lock_keyring(&mut self) {
            let mut keyring = self.daemons.pop().expect("a keyring to lock");
            keyring.kill().unwrap();
            keyring.wait().unwrap();
            self.start_keyring(None);
        }

        fn start_keyring(&mut self, unlock_with: Option<&[u8]>) {
            let home = self.dir.path();
            let runtime = home.join("run");
            std::fs::create_dir_all(&runtime).unwrap();
            let mut keyring = Command::new("gnome-keyring-daemon")
                .arg("--foreground")
                .args(unlock_with.map(|_| "--unlock"))
                .arg("--components=secrets")
                .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
                .env("HOME", home)
                .env("XDG_DATA_HOME", home.join("data"))
                .env("XDG_RUNTIME_DIR", &runtime)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("gnome-keyring-daemon (Debian's gnome-keyring; scripts/setup-debian)");
            let mut input = keyring.stdin.take().unwrap();
            if let Some(password) = unlock_with {
                input.write_all(password).unwrap();
            }
            drop(input);
            self.daemons.push(keyring);
            self.wait_for_keyring();
        }

        /// Waits until the keyring answers on the bus (it registers a moment after start).
        fn wait_for_keyring(&self) {
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                match self.run(|| load("probe.example")) {
                    Ok(_) => return,
                    Err(TokenError::NoKeyring(_)) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(100))
                    }
                    Err(err) => panic!("GNOME Keyring did not come up on {}: {err}", self.address),
                }
            }
        }

        /// Runs `calls` with this bus as the session bus.
        fn run<T>(&self, calls: impl FnOnce() -> T) -> T {
            with_session_bus(&self.address, calls)
        }
    }

    impl Drop for SessionBus {
        fn drop(&mut self) {
            for daemon in self.daemons.iter_mut().rev() {
                let _ = daemon.kill();
                let _ = daemon.wait();
            }
        }
    }

    /// Runs `calls` with `DBUS_SESSION_BUS_ADDRESS` set to `address`, restoring it after.
    fn with_session_bus<T>(address: &str, calls: impl FnOnce() -> T) -> T {
        let _only_us = SESSION_BUS_ENV.lock().unwrap_or_else(|e| e.into_inner());
        let before = std::env::var_os("DBUS_SESSION_BUS_ADDRESS");
        std::env::set_var("DBUS_SESSION_BUS_ADDRESS", address);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(calls));
        match before {
            Some(value) => std::env::set_var("DBUS_SESSION_BUS_ADDRESS", value),
            None => std::env::remove_var("DBUS_SESSION_BUS_ADDRESS"),
        }
        result.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }

    #[test]
    fn tokens_are_kept_per_server_in_the_keyring() {
        let bus = SessionBus::start().with_keyring();
        bus.run(|| {
            assert_eq!(load("meet.uio.no").unwrap(), None, "nothing saved yet");

            save("meet.uio.no", "samla_first").unwrap();
            assert_eq!(load("meet.uio.no").unwrap().as_deref(), Some("samla_first"));

            save("127.0.0.1:7700", "samla_local").unwrap();
            assert_eq!(
                load("127.0.0.1:7700").unwrap().as_deref(),
                Some("samla_local")
            );
            assert_eq!(
                load("meet.uio.no").unwrap().as_deref(),
                Some("samla_first"),
                "another server's token leaves this one alone"
            );

            save("meet.uio.no", "samla_second").unwrap();
            assert_eq!(
                load("meet.uio.no").unwrap().as_deref(),
                Some("samla_second"),
                "saving again replaces the token"
            );

            forget("meet.uio.no").unwrap();
            assert_eq!(load("meet.uio.no").unwrap(), None, "forgotten");
            assert_eq!(
                load("127.0.0.1:7700").unwrap().as_deref(),
                Some("samla_local"),
                "signing out of one server keeps the other"
            );
            forget("meet.uio.no").expect("forgetting what is not saved is fine");
        });
    }

    #[test]
    fn signing_out_removes_every_copy_of_a_token() {
        let bus = SessionBus::start().with_keyring();
        bus.run(|| {
            save("meet.ntnu.no", "samla_one").unwrap();
            // A second item for the same server, as another program or an older copy of the app
            // could have left it: the same service and account, and one attribute more (the
            // store's `target`, naming the login collection by its label), so GNOME Keyring
            // keeps both rather than replacing the first.
            let store = open_store().unwrap();
            let target = HashMap::from([("target", "Login")]);
            store
                .build(SERVICE, "meet.ntnu.no", Some(&target))
                .unwrap()
                .set_password("samla_two")
                .unwrap();

            let err = load("meet.ntnu.no").unwrap_err();
            assert!(
                matches!(err, TokenError::Ambiguous { count: 2, .. }),
                "{err:?}"
            );
            let message = err.to_string();
            assert!(message.contains("sign out"), "{message}");
            assert!(!message.contains("samla_"), "a token in {message}");

            forget("meet.ntnu.no").unwrap();
            assert_eq!(load("meet.ntnu.no").unwrap(), None);
            save("meet.ntnu.no", "samla_three").unwrap();
            assert_eq!(
                load("meet.ntnu.no").unwrap().as_deref(),
                Some("samla_three")
            );
        });
    }

    #[test]
    fn a_locked_keyring_is_said() {
        let mut bus = SessionBus::start().with_keyring();
        bus.run(|| save("meet.uio.no", "samla_secret").unwrap());
        bus.lock_keyring();
        bus.run(|| {
            let err = load("meet.uio.no").expect_err("the keyring is locked");
            assert!(matches!(err, TokenError::Locked(_)), "{err:?}");
            let message = err.to_string();
            assert!(
                message.starts_with("the system keyring (Secret Service) is locked"),
                "{message}"
            );
            assert!(!message.contains("samla_secret"), "the token in {message}");
        });
    }

    /// What each call says without a keyring: the reason, not a panic, and never the token.
    fn assert_no_keyring_is_said(address: &str) {
        with_session_bus(address, || {
            let failures = [
                load("meet.uio.no").map(drop),
                save("meet.uio.no", "samla_secret"),
                forget("meet.uio.no"),
            ];
            for failure in failures {
                let err = failure.expect_err("there is no keyring");
                assert!(matches!(err, TokenError::NoKeyring(_)), "{err:?}");
                let message = err.to_string();
                assert!(
                    message.starts_with("no system keyring is running (Secret Service): "),
                    "{message}"
                );
                assert!(!message.contains("samla_secret"), "the token in {message}");
            }
        });
    }

    #[test]
    fn a_session_without_a_keyring_is_said() {
        let bus = SessionBus::start();
        assert_no_keyring_is_said(&bus.address);
    }

    #[test]
    fn no_session_bus_is_said() {
        let dir = tempfile::tempdir().unwrap();
        let gone = format!("unix:path={}", dir.path().join("no-bus").display());
        assert_no_keyring_is_said(&gone);
    }

    #[test]
    fn a_token_needs_a_server_and_some_text() {
        assert!(matches!(load(" "), Err(TokenError::NoServer)));
        assert!(matches!(
            save("meet.uio.no", ""),
            Err(TokenError::EmptyToken)
        ));
    }
}
