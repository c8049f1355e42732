//! Organisations: each site (`uio.samla.example`) is one, found by the request's host name.

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::config::Config;

use super::{is_unique_violation, new_id, now_ms, Store, StoreError};

/// The organisation requests fall back to when their host names no other. It always
/// exists after startup ([`Store::ensure_default_organisation`]).
pub const DEFAULT_ORGANISATION_ID: &str = "default";
const DEFAULT_ORGANISATION_NAME: &str = "Samla";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    pub id: String,
    pub name: String,
    /// Lower-case host name without port.
    pub host: String,
    pub settings: OrganisationSettings,
}

/// What an organisation's admin chose for its meetings; kept as JSON in `settings_json` so a
/// new setting needs no migration. Unknown keys are ignored and missing ones take defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganisationSettings {
    /// Cap on video height in pixels (see [`crate::config::OrganisationConfig`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_video_height: Option<u32>,
}

impl Organisation {
    fn from_row(row: &AnyRow) -> Result<Self, StoreError> {
        let settings: String = row.try_get("settings_json")?;
        Ok(Organisation {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            host: row.try_get("host")?,
            // Settings written by a newer or older server must not lock an organisation out.
            settings: serde_json::from_str(&settings).unwrap_or_default(),
        })
    }
}

impl Store {
    /// Makes the organisations of the configuration exist: the default one at the public
    /// URL's host, and every `[[organisations]]` entry. Run at startup.
    pub async fn ensure_configured_organisations(&self, config: &Config) -> Result<(), StoreError> {
        self.ensure_default_organisation(DEFAULT_ORGANISATION_NAME, &config.public_host())
            .await?;
        for org in &config.organisations {
            let settings = OrganisationSettings {
                max_video_height: org.max_video_height,
            };
            self.ensure_organisation(&org.name, &org.host, &settings)
                .await?;
        }
        Ok(())
    }

    /// Creates the default organisation, or moves it to `host` when the public URL changed.
    pub async fn ensure_default_organisation(
        &self,
        name: &str,
        host: &str,
    ) -> Result<Organisation, StoreError> {
        let host = host.to_ascii_lowercase();
        let result = sqlx::query(
            "INSERT INTO organisations (id, name, host, settings_json, created_at) VALUES ($1, $2, $3, '{}', $4) \
             ON CONFLICT (id) DO UPDATE SET host = excluded.host",
        )
        .bind(DEFAULT_ORGANISATION_ID)
        .bind(name)
        .bind(&host)
        .bind(now_ms())
        .execute(&self.pool)
        .await;
        match result {
            Err(e) if is_unique_violation(&e) => return Err(StoreError::HostTaken(host)),
            other => other?,
        };
        self.default_organisation().await
    }

    /// Creates the organisation served at `host`, or renames it. A setting the configuration
    /// file gives (`configured`) is applied at every start, so the IT staff can pin it; one it
    /// leaves out keeps what the organisation's admins chose through the API.
    pub async fn ensure_organisation(
        &self,
        name: &str,
        host: &str,
        configured: &OrganisationSettings,
    ) -> Result<Organisation, StoreError> {
        let host = host.to_ascii_lowercase();
        let initial = serde_json::to_string(configured).unwrap_or_else(|_| "{}".into());
        sqlx::query(
            "INSERT INTO organisations (id, name, host, settings_json, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (host) DO UPDATE SET name = excluded.name",
        )
        .bind(new_id())
        .bind(name)
        .bind(&host)
        .bind(initial)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        let mut org = self
            .organisation_by_host(&host)
            .await?
            .ok_or_else(|| StoreError::Database(sqlx::Error::RowNotFound))?;
        if let Some(cap) = configured.max_video_height {
            if org.settings.max_video_height != Some(cap) {
                org.settings.max_video_height = Some(cap);
                self.update_organisation_settings(&org.id, &org.settings)
                    .await?;
            }
        }
        Ok(org)
    }

    /// Replaces an organisation's settings. Returns false when there is no such organisation.
    pub async fn update_organisation_settings(
        &self,
        id: &str,
        settings: &OrganisationSettings,
    ) -> Result<bool, StoreError> {
        let json = serde_json::to_string(settings).unwrap_or_else(|_| "{}".into());
        let result = sqlx::query("UPDATE organisations SET settings_json = $1 WHERE id = $2")
            .bind(json)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() > 0)
    }

    pub async fn default_organisation(&self) -> Result<Organisation, StoreError> {
        self.organisation(DEFAULT_ORGANISATION_ID)
            .await?
            .ok_or_else(|| StoreError::Database(sqlx::Error::RowNotFound))
    }

    pub async fn organisation(&self, id: &str) -> Result<Option<Organisation>, StoreError> {
        let row =
            sqlx::query("SELECT id, name, host, settings_json FROM organisations WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.as_ref().map(Organisation::from_row).transpose()
    }

    /// The organisation served at `host` (no port; any case).
    pub async fn organisation_by_host(
        &self,
        host: &str,
    ) -> Result<Option<Organisation>, StoreError> {
        let row =
            sqlx::query("SELECT id, name, host, settings_json FROM organisations WHERE host = $1")
                .bind(host.to_ascii_lowercase())
                .fetch_optional(&self.pool)
                .await?;
        row.as_ref().map(Organisation::from_row).transpose()
    }
}
