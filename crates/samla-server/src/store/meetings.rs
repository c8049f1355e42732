//! Meetings as scheduled through the REST API. The live state of a meeting in progress is
//! not here; it lives in its actor (`crate::meeting`).

use rand::Rng;
use samla_protocol::MeetingId;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{get_bool, get_opt_u32, is_unique_violation, now_ms, Store, StoreError};

/// A stored meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingRecord {
    pub id: MeetingId,
    pub org_id: String,
    pub owner_user_id: String,
    pub topic: String,
    /// Argon2id PHC string (`crate::auth::passcode`).
    pub passcode_hash: Option<String>,
    pub waiting_room: bool,
    pub signed_in_only: bool,
    pub start_time_ms: Option<i64>,
    pub duration_minutes: Option<u32>,
    pub created_at_ms: i64,
    /// The rules the meeting starts with.
    pub mute_on_entry: bool,
    pub share_hosts_only: bool,
}

/// What it takes to create a meeting; the store picks its id and creation time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMeetingRecord {
    pub org_id: String,
    pub owner_user_id: String,
    pub topic: String,
    pub passcode_hash: Option<String>,
    pub waiting_room: bool,
    pub signed_in_only: bool,
    pub start_time_ms: Option<i64>,
    pub duration_minutes: Option<u32>,
    pub mute_on_entry: bool,
    pub share_hosts_only: bool,
}

/// New meetings get 10-digit ids: easy to read aloud, and with 9 billion of them random
/// picks rarely collide, so a few tries always suffice in practice.
const MEETING_ID_RANGE: std::ops::RangeInclusive<u64> = 1_000_000_000..=9_999_999_999;
const MEETING_ID_TRIES: usize = 16;

const MEETING_COLUMNS: &str = "id, org_id, owner_user_id, topic, passcode_hash, waiting_room, \
     signed_in_only, start_time_ms, duration_minutes, created_at, mute_on_entry, share_hosts_only";

impl MeetingRecord {
    fn from_row(row: &AnyRow) -> Result<Self, StoreError> {
        let id: String = row.try_get("id")?;
        Ok(MeetingRecord {
            id: id.parse().map_err(|_| StoreError::Corrupt {
                column: "id",
                value: id.clone(),
            })?,
            org_id: row.try_get("org_id")?,
            owner_user_id: row.try_get("owner_user_id")?,
            topic: row.try_get("topic")?,
            passcode_hash: row.try_get("passcode_hash")?,
            waiting_room: get_bool(row, "waiting_room")?,
            signed_in_only: get_bool(row, "signed_in_only")?,
            start_time_ms: row.try_get("start_time_ms")?,
            duration_minutes: get_opt_u32(row, "duration_minutes")?,
            created_at_ms: row.try_get("created_at")?,
            mute_on_entry: get_bool(row, "mute_on_entry")?,
            share_hosts_only: get_bool(row, "share_hosts_only")?,
        })
    }
}

impl Store {
    /// Stores a new meeting under a fresh random id.
    pub async fn create_meeting(
        &self,
        new: &NewMeetingRecord,
    ) -> Result<MeetingRecord, StoreError> {
        for _ in 0..MEETING_ID_TRIES {
            let id = MeetingId::from_number(rand::rng().random_range(MEETING_ID_RANGE))
                .expect("every number in MEETING_ID_RANGE is a valid meeting id");
            let record = MeetingRecord {
                id,
                org_id: new.org_id.clone(),
                owner_user_id: new.owner_user_id.clone(),
                topic: new.topic.clone(),
                passcode_hash: new.passcode_hash.clone(),
                waiting_room: new.waiting_room,
                signed_in_only: new.signed_in_only,
                start_time_ms: new.start_time_ms,
                duration_minutes: new.duration_minutes,
                created_at_ms: now_ms(),
                mute_on_entry: new.mute_on_entry,
                share_hosts_only: new.share_hosts_only,
            };
            let result = sqlx::query(&format!(
                "INSERT INTO meetings ({MEETING_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
            ))
            .bind(record.id.as_str())
            .bind(&record.org_id)
            .bind(&record.owner_user_id)
            .bind(&record.topic)
            .bind(&record.passcode_hash)
            .bind(i64::from(record.waiting_room))
            .bind(i64::from(record.signed_in_only))
            .bind(record.start_time_ms)
            .bind(record.duration_minutes.map(i64::from))
            .bind(record.created_at_ms)
            .bind(i64::from(record.mute_on_entry))
            .bind(i64::from(record.share_hosts_only))
            .execute(&self.pool)
            .await;
            match result {
                Ok(_) => return Ok(record),
                Err(e) if is_unique_violation(&e) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::NoFreeMeetingId)
    }

    /// The meeting with this id, unless it was deleted.
    pub async fn meeting(&self, id: &MeetingId) -> Result<Option<MeetingRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {MEETING_COLUMNS} FROM meetings WHERE id = $1 AND deleted_at IS NULL"
        ))
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(MeetingRecord::from_row).transpose()
    }

    /// The meetings a user owns: scheduled ones by start time, then instant ones by creation.
    pub async fn meetings_owned_by(&self, user_id: &str) -> Result<Vec<MeetingRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {MEETING_COLUMNS} FROM meetings WHERE owner_user_id = $1 AND deleted_at IS NULL \
             ORDER BY start_time_ms IS NULL, start_time_ms, created_at, id"
        ))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(MeetingRecord::from_row).collect()
    }

    /// Saves the changeable fields of a meeting (everything but id, organisation, owner and
    /// creation time). Returns false when there is no such meeting (or it was deleted).
    pub async fn update_meeting(&self, record: &MeetingRecord) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE meetings SET topic = $1, passcode_hash = $2, waiting_room = $3, signed_in_only = $4, \
             start_time_ms = $5, duration_minutes = $6, mute_on_entry = $7, share_hosts_only = $8 \
             WHERE id = $9 AND deleted_at IS NULL",
        )
        .bind(&record.topic)
        .bind(&record.passcode_hash)
        .bind(i64::from(record.waiting_room))
        .bind(i64::from(record.signed_in_only))
        .bind(record.start_time_ms)
        .bind(record.duration_minutes.map(i64::from))
        .bind(i64::from(record.mute_on_entry))
        .bind(i64::from(record.share_hosts_only))
        .bind(record.id.as_str())
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() > 0)
    }

    /// Deletes a meeting. Its row stays, marked, so the id is never reused and its chat and
    /// attendance keep pointing at it. Returns false when there was no such meeting.
    pub async fn delete_meeting(&self, id: &MeetingId) -> Result<bool, StoreError> {
        let result =
            sqlx::query("UPDATE meetings SET deleted_at = $1 WHERE id = $2 AND deleted_at IS NULL")
                .bind(now_ms())
                .bind(id.as_str())
                .execute(&self.pool)
                .await?;
        Ok(result.rows_affected() > 0)
    }
}
