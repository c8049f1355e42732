//! Starting and stopping a whole server in-process.
//!
//! `samla-server serve` and the desktop app (which hosts meetings on its own embedded server
//! when none is configured) start the server the same way, so this lives in the library.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::meeting::registry::MeetingRegistry;
use crate::metrics::Metrics;
use crate::state::AppState;
use crate::store::{Store, StoreError};
use crate::{auth, http, sfu};

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot open the database: {0}")]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot listen for media on UDP {addr}: {source}")]
    Media {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("HTTP server: {0}")]
    Http(std::io::Error),
    #[error("the server task stopped unexpectedly")]
    Crashed,
}

/// A running server. Dropping it leaves the server running until the runtime stops; call
/// [`Server::shutdown`] to stop it gracefully.
pub struct Server {
    addr: SocketAddr,
    public_url: String,
    store: Store,
    stop: Option<oneshot::Sender<()>>,
    /// `None` once [`Server::wait`] has seen the task end.
    task: Option<JoinHandle<Result<(), ServeError>>>,
}

impl Server {
    /// The address HTTP (and, unless configured otherwise, UDP media) listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where people reach this server; join links start with it.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// Makes an API token for a user of the default organisation (see [`create_api_token`]).
    pub async fn create_api_token(
        &self,
        email: &str,
        display_name: &str,
        admin: bool,
    ) -> Result<String, StoreError> {
        create_api_token(&self.store, email, display_name, admin).await
    }

    /// Waits until the server stops (by itself only on an error). Returns at once when it
    /// has already been seen to stop.
    pub async fn wait(&mut self) -> Result<(), ServeError> {
        let Some(task) = self.task.as_mut() else {
            return Ok(());
        };
        let result = task.await;
        self.task = None;
        result.map_err(|_| ServeError::Crashed)?
    }

    /// Stops accepting connections, lets open requests finish and waits for the server to
    /// stop.
    pub async fn shutdown(mut self) -> Result<(), ServeError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.wait().await
    }
}

/// Opens the database named by the configuration, migrated and with its organisations.
pub async fn open_store(config: &Config) -> Result<Store, StoreError> {
    let store = Store::connect(&config.database_url).await?;
    store.ensure_configured_organisations(config).await?;
    Ok(store)
}

/// Makes a new API token for the user with this e-mail address in the default organisation,
/// creating the user if needed. Returns the raw token (only its hash is stored).
pub async fn create_api_token(
    store: &Store,
    email: &str,
    display_name: &str,
    admin: bool,
) -> Result<String, StoreError> {
    let org = store.default_organisation().await?;
    let user = store
        .ensure_user(&org.id, email, display_name, admin)
        .await?;
    let token = auth::token::generate();
    store.insert_api_token(&user.id, &token).await?;
    tracing::info!(user = %user.email, admin = user.admin, organisation = %org.name, "created an API token");
    Ok(token)
}

/// Opens the store, binds HTTP and the SFU's UDP socket and starts serving in a task.
/// Returns once the server accepts connections.
pub async fn serve(config: Config) -> Result<Server, ServeError> {
    let store = open_store(&config).await?;
    let metrics = Arc::new(Metrics::default());
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Listen {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Listen {
        addr: config.listen,
        source,
    })?;
    tracing::info!(%addr, public_url = %config.public_url, data = %config.data_dir.display(), "samla-server listening");
    // Same port number as HTTP when that was chosen by the system (port 0).
    let mut media_listen = config.media_listen();
    if config.media.listen.is_none() && media_listen.port() == 0 {
        media_listen.set_port(addr.port());
    }
    let sfu = sfu::start(
        media_listen,
        config.media.public_ip,
        config.media.ice_servers.clone(),
        metrics.clone(),
    )
    .await
    .map_err(|source| ServeError::Media {
        addr: media_listen,
        source,
    })?;
    let public_url = config.public_url.clone();
    let state = AppState {
        meetings: MeetingRegistry::with_sfu(store.clone(), metrics.clone(), Some(sfu)),
        config: Arc::new(config),
        store: store.clone(),
        metrics,
    };
    let app = http::router(state).into_make_service_with_connect_info::<SocketAddr>();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
            .map_err(ServeError::Http)?;
        tracing::info!("samla-server stopped");
        Ok(())
    });
    Ok(Server {
        addr,
        public_url,
        store,
        stop: Some(stop),
        task: Some(task),
    })
}
