//! The attendance log: who entered, joined, left or was denied, and when.

use samla_protocol::{MeetingId, ParticipantId};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{get_u32, Store, StoreError};
use crate::meeting::AttendanceRecord;

/// One stored attendance event. `event` is an `AttendanceEvent::as_str` name; it stays a
/// string so that rows written by newer versions can still be read and exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttendanceRow {
    pub participant: ParticipantId,
    pub display_name: String,
    pub user_id: Option<String>,
    /// The signed-in member's e-mail, from the users table.
    pub email: Option<String>,
    pub event: String,
    pub at_ms: i64,
}

impl AttendanceRow {
    fn from_row(row: &AnyRow) -> Result<Self, StoreError> {
        Ok(AttendanceRow {
            participant: ParticipantId(get_u32(row, "participant")?),
            display_name: row.try_get("display_name")?,
            user_id: row.try_get("user_id")?,
            email: row.try_get("email")?,
            event: row.try_get("event")?,
            at_ms: row.try_get("at_ms")?,
        })
    }
}

impl Store {
    pub async fn insert_attendance(
        &self,
        id: &MeetingId,
        rec: &AttendanceRecord,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO attendance (meeting_id, participant, display_name, user_id, event, at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id.as_str())
        .bind(i64::from(rec.participant.0))
        .bind(&rec.display_name)
        .bind(&rec.user_id)
        .bind(rec.event.as_str())
        .bind(rec.at_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A meeting's attendance log in time order, with members' e-mails.
    pub async fn attendance(&self, id: &MeetingId) -> Result<Vec<AttendanceRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.participant, a.display_name, a.user_id, u.email, a.event, a.at_ms \
             FROM attendance a LEFT JOIN users u ON u.id = a.user_id \
             WHERE a.meeting_id = $1 ORDER BY a.at_ms, a.participant",
        )
        .bind(id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(AttendanceRow::from_row).collect()
    }
}
