//! Server configuration: built once at startup from an optional TOML file and the command
//! line (flags win), with defaults that let a bare `samla-server serve` run.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use samla_protocol::{IceServer, MeetingId};
use serde::Deserialize;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:7700";

/// Why the configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid configuration in {path}: {source}")]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("public URL {url:?} is not an http(s) URL with a host")]
    PublicUrl { url: String },
    #[error("no data folder given and the system has no default one; use --data")]
    NoDataDir,
    #[error("cannot create data folder {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The configuration file. Every key is optional; see `Config` for the defaults.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    data: Option<PathBuf>,
    database: Option<String>,
    public_url: Option<String>,
    #[serde(default)]
    organisations: Vec<OrganisationConfig>,
    media_listen: Option<SocketAddr>,
    media_public_ip: Option<IpAddr>,
    /// `[[ice_servers]]` tables: `urls = ["stun:…"]`, optional `username`, `credential`.
    #[serde(default)]
    ice_servers: Vec<IceServer>,
}

/// An organisation served under its own host name, e.g. `uio.samla.example`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganisationConfig {
    pub name: String,
    pub host: String,
    /// Cap on video height in pixels for the organisation's meetings (e.g. 360 for sites on
    /// thin links): clients encode no simulcast layer above it and the SFU forwards none.
    #[serde(default)]
    pub max_video_height: Option<u32>,
}

/// What the command line can set; `None` leaves the file's value or the default.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub listen: Option<SocketAddr>,
    pub data: Option<PathBuf>,
    pub database: Option<String>,
    pub public_url: Option<String>,
    pub media_listen: Option<SocketAddr>,
    pub media_public_ip: Option<IpAddr>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// Holds the SQLite database unless `database_url` points elsewhere. Exists.
    pub data_dir: PathBuf,
    /// An sqlx URL: `sqlite://…` or `postgres://…`. May hold a password: do not log it.
    pub database_url: String,
    /// Where people reach this server, without a trailing slash; join links start with it.
    pub public_url: String,
    pub organisations: Vec<OrganisationConfig>,
    pub media: MediaSettings,
}

/// Where the SFU takes media and what clients are told to reach it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MediaSettings {
    /// The UDP address for all media; `None` is the HTTP listen address (same IP and port
    /// number, UDP).
    pub listen: Option<SocketAddr>,
    /// The address announced to clients, for a server behind NAT; `None` announces the
    /// listen address (or, when that is 0.0.0.0, the machine's outbound address).
    pub public_ip: Option<IpAddr>,
    /// STUN/TURN servers handed to clients in `media_config`.
    pub ice_servers: Vec<IceServer>,
}

impl Config {
    /// Reads `file` (if any), applies `overrides` and fills in defaults. Creates the data
    /// folder.
    pub fn load(file: Option<&Path>, overrides: Overrides) -> Result<Config, ConfigError> {
        let file = match file {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let listen = overrides.listen.or(file.listen).unwrap_or_else(|| {
            DEFAULT_LISTEN
                .parse()
                .expect("DEFAULT_LISTEN is a socket address")
        });
        let data_dir = match overrides.data.or(file.data) {
            Some(dir) => dir,
            None => dirs::data_dir()
                .ok_or(ConfigError::NoDataDir)?
                .join("samla"),
        };
        std::fs::create_dir_all(&data_dir).map_err(|source| ConfigError::DataDir {
            path: data_dir.clone(),
            source,
        })?;
        let database_url = overrides
            .database
            .or(file.database)
            .unwrap_or_else(|| sqlite_url(&data_dir.join("samla.db")));
        let public_url = overrides
            .public_url
            .or(file.public_url)
            .unwrap_or_else(|| format!("http://{listen}"));
        let public_url = public_url.trim_end_matches('/').to_owned();
        public_host(&public_url).ok_or_else(|| ConfigError::PublicUrl {
            url: public_url.clone(),
        })?;
        Ok(Config {
            listen,
            data_dir,
            database_url,
            public_url,
            organisations: file.organisations,
            media: MediaSettings {
                listen: overrides.media_listen.or(file.media_listen),
                public_ip: overrides.media_public_ip.or(file.media_public_ip),
                ice_servers: file.ice_servers,
            },
        })
    }

    /// The UDP address the SFU binds.
    pub fn media_listen(&self) -> SocketAddr {
        self.media.listen.unwrap_or(self.listen)
    }

    /// The host name of the public URL: the default organisation's host.
    pub fn public_host(&self) -> String {
        public_host(&self.public_url).expect("checked by Config::load")
    }

    /// The link people join a meeting by.
    pub fn join_url(&self, id: &MeetingId) -> String {
        format!("{}/j/{}", self.public_url, id.as_str())
    }
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    toml::from_str(&text).map_err(|source| ConfigError::Parse {
        path: path.to_owned(),
        source,
    })
}

fn public_host(public_url: &str) -> Option<String> {
    let url = url::Url::parse(public_url).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    url.host_str().map(str::to_ascii_lowercase)
}

/// The sqlx URL of a SQLite file, created if missing. sqlx percent-decodes the path, so
/// the characters that would end it early are encoded.
fn sqlite_url(path: &Path) -> String {
    let path = path
        .display()
        .to_string()
        .replace('%', "%25")
        .replace('?', "%3F")
        .replace('#', "%23");
    format!("sqlite://{path}?mode=rwc")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_file_which_overrides_defaults() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let file = dir.join("samla.toml");
        std::fs::write(
            &file,
            format!(
                "listen = \"0.0.0.0:8000\"\ndata = {:?}\npublic_url = \"https://samla.example/\"\n\n\
                 media_public_ip = \"203.0.113.7\"\n\n\
                 [[organisations]]\nname = \"UiO\"\nhost = \"uio.samla.example\"\nmax_video_height = 360\n\n\
                 [[ice_servers]]\nurls = [\"turn:turn.example:3478\"]\nusername = \"u\"\ncredential = \"c\"\n",
                dir.join("data")
            ),
        )
        .unwrap();
        let overrides = Overrides {
            listen: Some("127.0.0.1:9000".parse().unwrap()),
            ..Overrides::default()
        };
        let config = Config::load(Some(&file), overrides).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:9000");
        assert_eq!(config.media_listen().to_string(), "127.0.0.1:9000");
        assert_eq!(config.media.public_ip, Some("203.0.113.7".parse().unwrap()));
        assert_eq!(
            config.media.ice_servers,
            vec![IceServer {
                urls: vec!["turn:turn.example:3478".into()],
                username: Some("u".into()),
                credential: Some("c".into()),
            }]
        );
        assert_eq!(config.public_url, "https://samla.example");
        assert_eq!(config.public_host(), "samla.example");
        assert!(config.data_dir.is_dir());
        assert!(
            config.database_url.starts_with("sqlite://")
                && config.database_url.ends_with("samla.db?mode=rwc")
        );
        assert_eq!(
            config.organisations,
            vec![OrganisationConfig {
                name: "UiO".into(),
                host: "uio.samla.example".into(),
                max_video_height: Some(360),
            }]
        );
        assert_eq!(
            config.join_url(&"123456789".parse().unwrap()),
            "https://samla.example/j/123456789"
        );

        let defaults = Config::load(
            None,
            Overrides {
                data: Some(dir.join("d2")),
                ..Overrides::default()
            },
        )
        .unwrap();
        assert_eq!(defaults.public_url, "http://127.0.0.1:7700");
    }

    #[test]
    fn unknown_keys_and_bad_urls_are_errors() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let file = dir.join("samla.toml");
        std::fs::write(&file, "lisen = \"0.0.0.0:8000\"\n").unwrap();
        assert!(matches!(
            Config::load(Some(&file), Overrides::default()),
            Err(ConfigError::Parse { .. })
        ));
        let bad = Overrides {
            data: Some(dir.to_owned()),
            public_url: Some("samla.example".into()),
            ..Overrides::default()
        };
        assert!(matches!(
            Config::load(None, bad),
            Err(ConfigError::PublicUrl { .. })
        ));
    }
}
