//! Chat history, so that people who join late or reconnect see what was said.

use samla_protocol::{ChatMessage, ChatTarget, MeetingId, ParticipantId};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{get_opt_u32, get_u32, Store, StoreError};

fn from_row(row: &AnyRow) -> Result<ChatMessage, StoreError> {
    let kind: String = row.try_get("target_kind")?;
    let to = match (kind.as_str(), get_opt_u32(row, "target_participant")?) {
        ("everyone", _) => ChatTarget::Everyone,
        ("hosts", _) => ChatTarget::Hosts,
        ("participant", Some(id)) => ChatTarget::Participant {
            id: ParticipantId(id),
        },
        _ => {
            return Err(StoreError::Corrupt {
                column: "target_kind",
                value: kind,
            })
        }
    };
    let seq: i64 = row.try_get("seq")?;
    Ok(ChatMessage {
        seq: u64::try_from(seq).map_err(|_| StoreError::Corrupt {
            column: "seq",
            value: seq.to_string(),
        })?,
        from: ParticipantId(get_u32(row, "from_participant")?),
        from_name: row.try_get("from_name")?,
        to,
        text: row.try_get("text")?,
        sent_at_ms: row.try_get("sent_at_ms")?,
    })
}

impl Store {
    pub async fn insert_chat(&self, id: &MeetingId, msg: &ChatMessage) -> Result<(), StoreError> {
        let (kind, target) = match msg.to {
            ChatTarget::Everyone => ("everyone", None),
            ChatTarget::Hosts => ("hosts", None),
            ChatTarget::Participant { id } => ("participant", Some(i64::from(id.0))),
        };
        let seq = i64::try_from(msg.seq).map_err(|_| StoreError::Corrupt {
            column: "seq",
            value: msg.seq.to_string(),
        })?;
        sqlx::query(
            "INSERT INTO chat_messages (meeting_id, seq, from_participant, from_name, target_kind, \
             target_participant, text, sent_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id.as_str())
        .bind(seq)
        .bind(i64::from(msg.from.0))
        .bind(&msg.from_name)
        .bind(kind)
        .bind(target)
        .bind(&msg.text)
        .bind(msg.sent_at_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The last `limit` messages of a meeting, oldest first.
    pub async fn chat_history(
        &self,
        id: &MeetingId,
        limit: u32,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, from_participant, from_name, target_kind, target_participant, text, sent_at_ms \
             FROM chat_messages WHERE meeting_id = $1 ORDER BY seq DESC LIMIT $2",
        )
        .bind(id.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let mut messages = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
        messages.reverse();
        Ok(messages)
    }

    /// The highest participant id a meeting has handed out (0 when none), so that a
    /// restarted meeting continues after it instead of reusing ids.
    pub async fn max_participant_id(&self, id: &MeetingId) -> Result<u32, StoreError> {
        let row = sqlx::query(
            "SELECT COALESCE(MAX(p), 0) AS max_id FROM ( \
               SELECT MAX(participant) AS p FROM attendance WHERE meeting_id = $1 \
               UNION ALL \
               SELECT MAX(from_participant) AS p FROM chat_messages WHERE meeting_id = $1 \
             ) AS seen",
        )
        .bind(id.as_str())
        .fetch_one(&self.pool)
        .await?;
        get_u32(&row, "max_id")
    }
}
