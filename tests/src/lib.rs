//! Harness for end-to-end tests: a real `samla-server` process per test, on a fresh SQLite
//! file or — when `SAMLA_TEST_POSTGRES_URL` names a PostgreSQL server — on a fresh database
//! created on that server, so the same suite runs on both.

pub mod netns;
pub mod participant;
pub mod udp_relay;

use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use samla_protocol::api::{Meeting, NewMeeting};
use url::Url;

/// Which database a test server runs on.
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    /// An admin URL of a PostgreSQL server on which a fresh database is made per test.
    Postgres {
        admin_url: String,
    },
}

impl Backend {
    /// PostgreSQL when `SAMLA_TEST_POSTGRES_URL` is set, else SQLite.
    pub fn from_env() -> Self {
        match std::env::var("SAMLA_TEST_POSTGRES_URL") {
            Ok(url) if !url.is_empty() => Backend::Postgres { admin_url: url },
            _ => Backend::Sqlite,
        }
    }
}

/// The path of one of the workspace's binaries, built by `cargo build --bins` next to the
/// test executable (target/<profile>/deps/… → target/<profile>/…).
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target profile folder");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: build the binaries first (cargo build --bins)",
        path.display()
    );
    path
}

/// A running `samla-server`, killed when dropped.
pub struct TestServer {
    child: Option<Child>,
    pub base: Url,
    pub data: tempfile::TempDir,
    database_url: String,
    listen: String,
    log_path: PathBuf,
    /// The PostgreSQL database to drop at the end, with the admin URL to drop it through.
    postgres_db: Option<(String, String)>,
    extra_args: Vec<String>,
}

impl TestServer {
    pub async fn start() -> Result<Self> {
        Self::start_with(&[]).await
    }

    /// Starts the server with `extra_args` after the usual `serve` arguments (e.g. media
    /// options); a restart keeps them.
    pub async fn start_with(extra_args: &[String]) -> Result<Self> {
        Self::start_on(IpAddr::V4(Ipv4Addr::LOCALHOST), extra_args).await
    }

    /// Like [`TestServer::start_with`], listening for HTTP on `ip` (e.g. an address clients
    /// in a network namespace reach, see [`netns::Lab`]); the join links name it.
    pub async fn start_on(ip: IpAddr, extra_args: &[String]) -> Result<Self> {
        let data = tempfile::Builder::new().prefix("samla-e2e-").tempdir()?;
        let (database_url, postgres_db) = match Backend::from_env() {
            Backend::Sqlite => (
                format!(
                    "sqlite://{}?mode=rwc",
                    data.path().join("samla.db").display()
                ),
                None,
            ),
            Backend::Postgres { admin_url } => {
                let name = format!("samla_e2e_{:016x}", rand::random::<u64>());
                create_postgres_database(&admin_url, &name).await?;
                let mut url = Url::parse(&admin_url)?;
                url.set_path(&name);
                (url.to_string(), Some((admin_url, name)))
            }
        };
        let port = free_port(ip)?;
        let listen = std::net::SocketAddr::new(ip, port).to_string();
        let base = Url::parse(&format!("http://{listen}"))?;
        let log_path = data.path().join("server.log");
        let mut server = Self {
            child: None,
            base,
            data,
            database_url,
            listen,
            log_path,
            postgres_db,
            extra_args: extra_args.to_vec(),
        };
        server.spawn().await?;
        Ok(server)
    }

    async fn spawn(&mut self) -> Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)?;
        let child = Command::new(binary("samla-server"))
            .args([
                "serve",
                "--listen",
                &self.listen,
                "--database",
                &self.database_url,
            ])
            .arg("--data")
            .arg(self.data.path())
            .args(["--public-url", self.base.as_str().trim_end_matches('/')])
            .args(&self.extra_args)
            .env(
                "SAMLA_LOG",
                std::env::var("SAMLA_E2E_SERVER_LOG")
                    .unwrap_or_else(|_| "info,samla_server=debug".into()),
            )
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("starting samla-server")?;
        self.child = Some(child);
        self.wait_healthy().await
    }

    async fn wait_healthy(&mut self) -> Result<()> {
        let url = self.base.join("/healthz")?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(resp) = reqwest::get(url.clone()).await {
                if resp.status().is_success() {
                    return Ok(());
                }
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                bail!("samla-server exited with {status}:\n{}", self.log());
            }
            if Instant::now() > deadline {
                bail!("samla-server did not become healthy:\n{}", self.log());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the server (SIGKILL: nothing may depend on a clean shutdown) and starts it again
    /// on the same data.
    pub async fn restart(&mut self) -> Result<()> {
        self.kill();
        self.spawn().await
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// What the server logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Runs `samla-server token create` as an admin would; returns the printed token.
    pub fn token(&self, email: &str) -> Result<String> {
        let out = Command::new(binary("samla-server"))
            .args([
                "token",
                "create",
                "--user",
                email,
                "--database",
                &self.database_url,
            ])
            .arg("--data")
            .arg(self.data.path())
            .output()?;
        if !out.status.success() {
            bail!(
                "token create failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let token = String::from_utf8(out.stdout)?.trim().to_owned();
        if token.is_empty() || token.contains(char::is_whitespace) {
            bail!("token create printed {token:?}, not a token");
        }
        Ok(token)
    }

    /// Creates a meeting through the REST API.
    pub async fn create_meeting(&self, token: &str, new: &NewMeeting) -> Result<Meeting> {
        let resp = reqwest::Client::new()
            .post(self.base.join("/api/v1/meetings")?)
            .bearer_auth(token)
            .json(new)
            .send()
            .await?;
        if resp.status() != reqwest::StatusCode::CREATED {
            bail!(
                "create meeting: {} {}",
                resp.status(),
                resp.text().await.unwrap_or_default()
            );
        }
        Ok(resp.json().await?)
    }

    /// The `/ws` address the server answers signalling on.
    pub fn http_base(&self) -> Url {
        self.base.clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill();
        if std::env::var_os("SAMLA_E2E_SHOW_LOG").is_some() {
            eprintln!("---- samla-server log ----\n{}", self.log());
        }
        if let Some((admin_url, name)) = self.postgres_db.take() {
            // Best effort; a leftover test database is harmless.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                rt.block_on(drop_postgres_database(&admin_url, &name)).ok()
            })
            .join();
        }
    }
}

fn free_port(ip: IpAddr) -> Result<u16> {
    Ok(TcpListener::bind((ip, 0))?.local_addr()?.port())
}

async fn create_postgres_database(admin_url: &str, name: &str) -> Result<()> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(admin_url)
        .await
        .context("connecting to PostgreSQL")?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await?;
    Ok(())
}

async fn drop_postgres_database(admin_url: &str, name: &str) -> Result<()> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(admin_url).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await?;
    Ok(())
}

/// Waits until `check` holds, polling; fails with `what` after `timeout`.
pub async fn eventually<F: FnMut() -> bool>(
    timeout: Duration,
    what: &str,
    mut check: F,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    while !check() {
        if Instant::now() > deadline {
            bail!("timed out waiting for: {what}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// A participant driven through the real client engine, recording every event it sees.
pub struct Participant {
    pub name: String,
    pub handle: samla_engine::SessionHandle,
    events: std::sync::Arc<std::sync::Mutex<Vec<samla_engine::Event>>>,
}

impl Participant {
    /// Joins as a guest (or with `token` as a member), with a client id of its own.
    pub async fn join(
        server: &TestServer,
        meeting: &Meeting,
        name: &str,
        token: Option<&str>,
    ) -> Result<Self> {
        Self::join_with(server.base.clone(), meeting, name, token, None).await
    }

    pub async fn join_with(
        server: Url,
        meeting: &Meeting,
        name: &str,
        token: Option<&str>,
        passcode: Option<&str>,
    ) -> Result<Self> {
        let mut opts = samla_engine::JoinOptions::new(server, meeting.id.parse()?, name);
        opts.token = token.map(str::to_owned);
        opts.passcode = passcode.map(str::to_owned);
        opts.client_id = Some(format!("e2e-{:016x}", rand::random::<u64>()));
        let (handle, mut rx) = samla_engine::Session::join(opts).await?;
        let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = events.clone();
        tokio::spawn(async move {
            while let Some(event) = rx.recv().await {
                sink.lock().unwrap().push(event);
            }
        });
        Ok(Self {
            name: name.to_owned(),
            handle,
            events,
        })
    }

    pub fn view(&self) -> samla_engine::MeetingView {
        self.handle.view()
    }

    pub fn me(&self) -> samla_protocol::ParticipantId {
        self.view().me.expect("seated")
    }

    /// Every server message seen so far.
    pub fn server_messages(&self) -> Vec<samla_protocol::ServerMessage> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter_map(|e| match e {
                samla_engine::Event::Server(msg) => Some(msg.clone()),
                _ => None,
            })
            .collect()
    }

    pub fn events(&self) -> Vec<samla_engine::Event> {
        self.events.lock().unwrap().clone()
    }

    /// Waits until an event matching `pred` has been seen.
    pub async fn wait_for(
        &self,
        what: &str,
        pred: impl Fn(&samla_engine::Event) -> bool,
    ) -> Result<()> {
        let events = self.events.clone();
        eventually(
            Duration::from_secs(10),
            &format!("{}: {what}", self.name),
            || events.lock().unwrap().iter().any(&pred),
        )
        .await
    }

    /// Waits until `check` holds; `check` may look at this participant freely.
    pub async fn wait_until(&self, what: &str, check: impl FnMut() -> bool) -> Result<()> {
        eventually(
            Duration::from_secs(10),
            &format!("{}: {what}", self.name),
            check,
        )
        .await
    }

    /// Waits until a server message matching `pred` has been seen.
    pub async fn wait_for_msg(
        &self,
        what: &str,
        pred: impl Fn(&samla_protocol::ServerMessage) -> bool,
    ) -> Result<()> {
        self.wait_for(
            what,
            |e| matches!(e, samla_engine::Event::Server(m) if pred(m)),
        )
        .await
    }

    /// Waits until the view satisfies `pred`.
    pub async fn wait_view(
        &self,
        what: &str,
        pred: impl Fn(&samla_engine::MeetingView) -> bool,
    ) -> Result<()> {
        let handle = self.handle.clone();
        eventually(
            Duration::from_secs(10),
            &format!("{}: {what}", self.name),
            || pred(&handle.view()),
        )
        .await
    }

    /// The error codes the server answered this participant with.
    pub fn errors(&self) -> Vec<samla_protocol::ErrorCode> {
        self.server_messages()
            .into_iter()
            .filter_map(|m| match m {
                samla_protocol::ServerMessage::Error { code, .. } => Some(code),
                _ => None,
            })
            .collect()
    }
}

/// A TCP relay between clients and the server that a test can cut, like a network that drops.
pub struct Relay {
    pub addr: std::net::SocketAddr,
    /// True while the network is down: live connections are cut, new ones are dropped.
    down: tokio::sync::watch::Sender<bool>,
}

impl Relay {
    pub async fn start(target: std::net::SocketAddr) -> Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (down, _) = tokio::sync::watch::channel(false);
        let watch = down.clone();
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mut is_down = watch.subscribe();
                if *is_down.borrow_and_update() {
                    continue; // dropped: the client sees the connection reset
                }
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = is_down.wait_for(|down| *down) => {}
                    }
                });
            }
        });
        Ok(Self { addr, down })
    }

    /// The relay's address as an http base URL for clients.
    pub fn url(&self) -> Url {
        Url::parse(&format!("http://{}", self.addr)).expect("relay url")
    }

    /// Cuts every connection and refuses new ones until [`Relay::restore`].
    pub fn cut(&self) {
        self.down.send_replace(true);
    }

    pub fn restore(&self) {
        self.down.send_replace(false);
    }
}

impl TestServer {
    pub fn addr(&self) -> std::net::SocketAddr {
        self.listen.parse().expect("listen address")
    }
}

/// A server with a meeting that its owner, Kari, has opened as host: where most tests start.
pub struct Hosted {
    pub server: TestServer,
    /// Kari's API token.
    pub token: String,
    pub meeting: Meeting,
    pub host: Participant,
}

impl Hosted {
    pub async fn start(new: NewMeeting) -> Result<Self> {
        let server = TestServer::start().await?;
        let token = server.token("kari@uio.no")?;
        let meeting = server.create_meeting(&token, &new).await?;
        let host = Participant::join(&server, &meeting, "Kari", Some(&token)).await?;
        Ok(Self {
            server,
            token,
            meeting,
            host,
        })
    }
}
