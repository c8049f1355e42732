//! Storage. Everything the server keeps goes through [`Store`]; nothing else writes SQL.
//!
//! It uses sqlx's `Any` driver so that one binary, and one set of migrations, serves both a
//! SQLite file (the default: nothing to install) and PostgreSQL (larger sites). That is why
//! the schema sticks to TEXT and BIGINT and every query uses `$n` placeholders.

mod attendance;
mod chat;
mod meetings;
mod organisations;
mod users;

use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Connection, Executor};

pub use attendance::AttendanceRow;
pub use meetings::{MeetingRecord, NewMeetingRecord};
pub use organisations::{Organisation, OrganisationSettings, DEFAULT_ORGANISATION_ID};
pub use users::User;

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("could not migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A row held a value this version of the server does not understand.
    #[error("unexpected value in column {column}: {value}")]
    Corrupt { column: &'static str, value: String },
    /// Another organisation already has this host name.
    #[error("host {0} already belongs to another organisation")]
    HostTaken(String),
    /// Random meeting ids kept colliding; the id space must be nearly full.
    #[error("could not find a free meeting id")]
    NoFreeMeetingId,
}

/// A handle on the database; cheap to clone (it wraps the connection pool).
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
}

impl Store {
    /// Connects to `url` (`sqlite://path?mode=rwc` or `postgres://…`) and brings the schema
    /// up to date.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    // WAL lets the REST API read while a meeting writes chat; the driver
                    // already sets a busy timeout so writers wait instead of failing.
                    if conn.backend_name() == "SQLite" {
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Store { pool })
    }

    /// A trivial round trip, for health checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        conn.ping().await?;
        Ok(())
    }

    /// Closes every connection; for tests that drop their database afterwards.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Milliseconds since the Unix epoch, the unit of every time column.
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A fresh random id for organisations and users: 128 bits, hex.
fn new_id() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// Reads a BIGINT 0/1 column as a boolean.
fn get_bool(row: &AnyRow, column: &'static str) -> Result<bool, StoreError> {
    use sqlx::Row;
    match row.try_get::<i64, _>(column)? {
        0 => Ok(false),
        1 => Ok(true),
        other => Err(StoreError::Corrupt {
            column,
            value: other.to_string(),
        }),
    }
}

/// Reads a BIGINT column that holds an unsigned 32-bit number (participant ids, minutes).
fn get_u32(row: &AnyRow, column: &'static str) -> Result<u32, StoreError> {
    use sqlx::Row;
    let v: i64 = row.try_get(column)?;
    u32::try_from(v).map_err(|_| StoreError::Corrupt {
        column,
        value: v.to_string(),
    })
}

/// Like [`get_u32`] for a nullable column.
fn get_opt_u32(row: &AnyRow, column: &'static str) -> Result<Option<u32>, StoreError> {
    use sqlx::Row;
    match row.try_get::<Option<i64>, _>(column)? {
        None => Ok(None),
        Some(v) => u32::try_from(v).map(Some).map_err(|_| StoreError::Corrupt {
            column,
            value: v.to_string(),
        }),
    }
}

/// Whether an error is a unique-constraint violation (an id or host already taken).
fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}
