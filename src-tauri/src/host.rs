//! "Host a meeting" without a server of one's own: the app runs samla-server inside itself on
//! the local network, and others join by the link it shows, from the app or a browser.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::path::PathBuf;

use samla_engine::api::ApiClient;
use samla_protocol::api::NewMeeting;
use samla_server::config::{Config, Overrides};
use samla_server::Server;
use serde::Serialize;
use tokio::sync::Mutex;
use url::Url;

/// Port the embedded server tries first, so links stay the same from one launch to the next.
const PREFERRED_PORT: u16 = 7700;
/// The local user who hosts meetings on the embedded server.
const OWNER_EMAIL: &str = "owner@samla.local";

/// Why hosting did not work.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("configuration: {0}")]
    Config(#[from] samla_server::config::ConfigError),
    #[error("cannot start the meeting server: {0}")]
    Serve(#[from] samla_server::ServeError),
    #[error("cannot make a host token: {0}")]
    Token(#[from] samla_server::store::StoreError),
    #[error("cannot create the meeting: {0}")]
    Api(#[from] samla_engine::EngineError),
    #[error("the server URL {0:?} is not valid")]
    Url(String),
}

/// A meeting the app created, and how to get in.
#[derive(Debug, Clone, Serialize)]
pub struct HostedMeeting {
    pub meeting_id: String,
    /// `host:port` of the server, for the page's signalling.
    pub server_host: String,
    /// The link others open in the app or a browser.
    pub join_url: String,
    /// Joins as the meeting's host.
    pub token: String,
}

/// The embedded server, started the first time someone hosts.
struct Embedded {
    server: Server,
    token: String,
}

pub struct Host {
    data_dir: PathBuf,
    embedded: Mutex<Option<Embedded>>,
}

impl Host {
    /// `data_dir` holds the embedded server's SQLite database.
    pub fn new(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            embedded: Mutex::new(None),
        }
    }

    /// Creates a meeting on the embedded server, starting it if needed.
    pub async fn host(&self, topic: &str, waiting_room: bool) -> Result<HostedMeeting, HostError> {
        let mut slot = self.embedded.lock().await;
        let Embedded { server, token } = match &mut *slot {
            Some(embedded) => embedded,
            empty @ None => empty.insert(self.start().await?),
        };
        let base = Url::parse(server.public_url())
            .map_err(|_| HostError::Url(server.public_url().to_owned()))?;
        let server_host = match (base.host_str(), base.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            _ => return Err(HostError::Url(server.public_url().to_owned())),
        };
        let meeting = ApiClient::new(&base, token.clone())?
            .create_meeting(&NewMeeting {
                topic: topic.to_owned(),
                passcode: None,
                waiting_room,
                signed_in_only: false,
                start_time: None,
                duration_minutes: None,
                ..NewMeeting::default()
            })
            .await?;
        Ok(HostedMeeting {
            meeting_id: meeting.id,
            server_host,
            join_url: meeting.join_url,
            token: token.clone(),
        })
    }

    /// Starts the server on all addresses, announcing this machine's LAN address, on
    /// [`PREFERRED_PORT`] or else one the system picks (TCP and UDP share the number).
    async fn start(&self) -> Result<Embedded, HostError> {
        let lan = lan_address();
        match self.start_on(lan, PREFERRED_PORT).await {
            Ok(embedded) => Ok(embedded),
            Err(err) => {
                tracing::info!(%err, "port {PREFERRED_PORT} is taken; using another");
                self.start_on(lan, free_port()).await
            }
        }
    }

    async fn start_on(&self, lan: IpAddr, port: u16) -> Result<Embedded, HostError> {
        let overrides = Overrides {
            listen: Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port)),
            data: Some(self.data_dir.clone()),
            public_url: Some(format!("http://{}", SocketAddr::new(lan, port))),
            ..Overrides::default()
        };
        let server = samla_server::serve(Config::load(None, overrides)?).await?;
        let token = server.create_api_token(OWNER_EMAIL, "Samla", true).await?;
        tracing::info!(url = server.public_url(), "embedded server started");
        Ok(Embedded { server, token })
    }

    /// Stops the embedded server, if it runs.
    pub async fn stop(&self) {
        if let Some(embedded) = self.embedded.lock().await.take() {
            if let Err(err) = embedded.server.shutdown().await {
                tracing::warn!(%err, "embedded server stopped with an error");
            }
        }
    }
}

/// The address this machine uses towards the network (no packet is sent: connecting a UDP
/// socket only picks a route), or loopback when there is no network.
fn lan_address() -> IpAddr {
    UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))
        .and_then(|s| {
            s.connect((Ipv4Addr::new(192, 0, 2, 1), 9))?;
            s.local_addr()
        })
        .map(|a| a.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

/// A port free for both TCP and UDP right now (0 when none could be found: the server then
/// reports the bind error).
fn free_port() -> u16 {
    for _ in 0..8 {
        let Ok(tcp) = std::net::TcpListener::bind((Ipv4Addr::UNSPECIFIED, 0)) else {
            continue;
        };
        let Ok(addr) = tcp.local_addr() else {
            continue;
        };
        if UdpSocket::bind((Ipv4Addr::UNSPECIFIED, addr.port())).is_ok() {
            return addr.port();
        }
    }
    0
}
