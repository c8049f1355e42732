//! A `samla-cli join` participant run as a child process: it sends the synthetic picture and
//! tone, and writes what it receives to a stats file the tests read, as a user's view of the
//! others (see `samla-cli join --stats-json`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{bail, Context, Result};
use serde_json::Value;

/// A running `samla-cli join`, killed when dropped (its log is printed then with
/// `SAMLA_E2E_SHOW_LOG`).
pub struct CliParticipant {
    pub name: String,
    child: Child,
    stats: PathBuf,
    log: PathBuf,
}

impl CliParticipant {
    /// Joins `link` as `name` with `cmd` (a `samla-cli` command, e.g. one run inside a network
    /// namespace), sending `video` (e.g. `synthetic:640x360@30`) and the tone, logging at
    /// `log_filter` into `dir`.
    pub fn join(
        mut cmd: Command,
        link: &str,
        name: &str,
        token: Option<&str>,
        video: &str,
        log_filter: &str,
        dir: &Path,
    ) -> Result<Self> {
        let stats = dir.join(format!("{name}.stats.json"));
        let log = dir.join(format!("{name}.log"));
        cmd.args(["join", link, "--name", name])
            .args(["--video", video, "--audio", "synthetic"])
            .arg("--stats-json")
            .arg(&stats)
            .args(["--for", "120s"])
            .env("RUST_LOG", log_filter)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?);
        if let Some(token) = token {
            cmd.args(["--token", token]);
        }
        Ok(Self {
            name: name.to_owned(),
            child: cmd.spawn().context("starting samla-cli")?,
            stats,
            log,
        })
    }

    /// The latest stats: remote participant id → its figures.
    pub fn stats(&self) -> BTreeMap<u64, Value> {
        let Ok(text) = std::fs::read_to_string(&self.stats) else {
            return BTreeMap::new();
        };
        let Ok(Value::Object(map)) = serde_json::from_str::<Value>(&text) else {
            return BTreeMap::new();
        };
        map.into_iter()
            .filter_map(|(k, v)| Some((k.parse().ok()?, v)))
            .collect()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Fails with its log when the process has ended.
    pub fn still_running(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("{} exited with {status}:\n{}", self.name, self.log());
        }
        Ok(())
    }
}

impl Drop for CliParticipant {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::env::var_os("SAMLA_E2E_SHOW_LOG").is_some() {
            eprintln!("---- {} ----\n{}", self.name, self.log());
        }
    }
}

/// A number from a participant's stats (0 when missing).
pub fn num(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or(0.0)
}
