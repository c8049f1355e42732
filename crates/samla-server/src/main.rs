//! `samla-server`: run the server, or manage it from the command line.
//!
//! ```text
//! samla-server serve [--listen 127.0.0.1:7700] [--data DIR] [--database URL] [--config FILE] [--public-url URL]
//!                    [--media-listen ADDR] [--media-public-ip IP]
//! samla-server token create --user EMAIL [--admin] [--name NAME] [--data DIR] [--database URL] [--config FILE]
//! ```

use std::io::IsTerminal;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use samla_server::config::{Config, Overrides};
use samla_server::meeting::registry::MeetingRegistry;
use samla_server::metrics::Metrics;
use samla_server::state::AppState;
use samla_server::store::Store;
use samla_server::{auth, http, sfu};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(name = "samla-server", version, about = "The Samla meeting server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        #[command(flatten)]
        common: Common,
        /// Address to listen on [default: 127.0.0.1:7700].
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Where people reach this server, e.g. https://samla.example [default: http://LISTEN].
        #[arg(long)]
        public_url: Option<String>,
        /// UDP address for all media [default: the listen address, UDP].
        #[arg(long)]
        media_listen: Option<SocketAddr>,
        /// The IP clients send media to, when the server is behind NAT [default: the media
        /// listen IP, or this machine's outbound IP if that is 0.0.0.0].
        #[arg(long)]
        media_public_ip: Option<IpAddr>,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for a user of the default organisation, creating the user if
    /// needed. Prints the token alone on standard output.
    Create {
        #[command(flatten)]
        common: Common,
        /// The user's e-mail address.
        #[arg(long)]
        user: String,
        /// Make the user an administrator.
        #[arg(long)]
        admin: bool,
        /// Display name for a new user [default: the e-mail address].
        #[arg(long)]
        name: Option<String>,
    },
}

/// Options every command that opens the database takes.
#[derive(Args)]
struct Common {
    /// Data folder [default: the system's data folder/samla].
    #[arg(long)]
    data: Option<PathBuf>,
    /// Database URL, sqlite://… or postgres://… [default: sqlite file samla.db in the data folder].
    #[arg(long)]
    database: Option<String>,
    /// TOML configuration file; flags override it.
    #[arg(long)]
    config: Option<PathBuf>,
}

impl Common {
    fn load(self, overrides: Overrides) -> anyhow::Result<Config> {
        let overrides = Overrides {
            data: self.data,
            database: self.database,
            ..overrides
        };
        Ok(Config::load(self.config.as_deref(), overrides)?)
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let filter = std::env::var("SAMLA_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".to_owned());
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_new(&filter).context("invalid SAMLA_LOG / RUST_LOG filter")?,
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    match Cli::parse().command {
        Command::Serve {
            common,
            listen,
            public_url,
            media_listen,
            media_public_ip,
        } => {
            let overrides = Overrides {
                listen,
                public_url,
                media_listen,
                media_public_ip,
                ..Overrides::default()
            };
            serve(common.load(overrides)?).await
        }
        Command::Token {
            command:
                TokenCommand::Create {
                    common,
                    user,
                    admin,
                    name,
                },
        } => {
            let config = common.load(Overrides::default())?;
            create_token(&config, &user, admin, name.as_deref()).await
        }
    }
}

/// Opens the database named by the configuration, migrated and with its organisations.
async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let store = Store::connect(&config.database_url)
        .await
        .context("cannot open the database")?;
    store.ensure_configured_organisations(config).await?;
    Ok(store)
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let store = open_store(&config).await?;
    let metrics = Arc::new(Metrics::default());
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
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
    .with_context(|| format!("cannot listen for media on UDP {media_listen}"))?;
    let state = AppState {
        meetings: MeetingRegistry::with_sfu(store.clone(), metrics.clone(), Some(sfu)),
        config: Arc::new(config),
        store,
        metrics,
    };
    let app = http::router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!("samla-server stopped");
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
    tracing::info!("shutting down");
}

async fn create_token(
    config: &Config,
    email: &str,
    admin: bool,
    name: Option<&str>,
) -> anyhow::Result<()> {
    anyhow::ensure!(email.contains('@'), "--user takes an e-mail address");
    let store = open_store(config).await?;
    let org = store.default_organisation().await?;
    let user = store
        .ensure_user(&org.id, email, name.unwrap_or(email), admin)
        .await?;
    let token = auth::token::generate();
    store.insert_api_token(&user.id, &token).await?;
    tracing::info!(user = %user.email, admin = user.admin, organisation = %org.name, "created an API token");
    println!("{token}");
    Ok(())
}
