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

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use samla_server::config::{Config, Overrides};
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

async fn serve(config: Config) -> anyhow::Result<()> {
    let mut server = samla_server::serve(config).await?;
    let signalled = tokio::select! {
        _ = shutdown_signal() => true,
        stopped = server.wait() => {
            stopped?;
            false
        }
    };
    if signalled {
        server.shutdown().await?;
    }
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
    let store = samla_server::serve::open_store(config)
        .await
        .context("cannot open the database")?;
    let token =
        samla_server::serve::create_api_token(&store, email, name.unwrap_or(email), admin).await?;
    println!("{token}");
    Ok(())
}
