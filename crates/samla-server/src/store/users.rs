//! Users and their API tokens. Tokens are kept only as SHA-256 hashes, so a copy of the
//! database does not let anyone sign in.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{new_id, now_ms, Store, StoreError};
use crate::auth::token;

/// A member of an organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub org_id: String,
    pub email: String,
    pub display_name: String,
    pub admin: bool,
}

const ROLE_ADMIN: &str = "admin";
const ROLE_MEMBER: &str = "member";

impl User {
    fn from_row(row: &AnyRow) -> Result<Self, StoreError> {
        let role: String = row.try_get("role")?;
        let admin = match role.as_str() {
            ROLE_ADMIN => true,
            ROLE_MEMBER => false,
            _ => {
                return Err(StoreError::Corrupt {
                    column: "role",
                    value: role,
                })
            }
        };
        Ok(User {
            id: row.try_get("id")?,
            org_id: row.try_get("org_id")?,
            email: row.try_get("email")?,
            display_name: row.try_get("display_name")?,
            admin,
        })
    }
}

fn role(admin: bool) -> &'static str {
    if admin {
        ROLE_ADMIN
    } else {
        ROLE_MEMBER
    }
}

const USER_COLUMNS: &str = "id, org_id, email, display_name, role";

impl Store {
    /// The user with this e-mail address in the organisation (addresses compare
    /// case-insensitively: they are stored lower-case).
    pub async fn user_by_email(
        &self,
        org_id: &str,
        email: &str,
    ) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 AND email = $2"
        ))
        .bind(org_id)
        .bind(email.to_lowercase())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(User::from_row).transpose()
    }

    /// Returns the user with this e-mail address, creating them first if they are new.
    /// An existing user keeps their name; `admin: true` promotes them, `false` leaves
    /// their role alone.
    pub async fn ensure_user(
        &self,
        org_id: &str,
        email: &str,
        display_name: &str,
        admin: bool,
    ) -> Result<User, StoreError> {
        let email = email.to_lowercase();
        sqlx::query(
            "INSERT INTO users (id, org_id, email, display_name, role, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (org_id, email) DO NOTHING",
        )
        .bind(new_id())
        .bind(org_id)
        .bind(&email)
        .bind(display_name)
        .bind(role(admin))
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        if admin {
            sqlx::query("UPDATE users SET role = $1 WHERE org_id = $2 AND email = $3")
                .bind(ROLE_ADMIN)
                .bind(org_id)
                .bind(&email)
                .execute(&self.pool)
                .await?;
        }
        self.user_by_email(org_id, &email)
            .await?
            .ok_or_else(|| StoreError::Database(sqlx::Error::RowNotFound))
    }

    /// Stores a new API token for the user (hashed; the raw token is not kept).
    pub async fn insert_api_token(&self, user_id: &str, raw_token: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO api_tokens (token_hash, user_id, created_at) VALUES ($1, $2, $3)")
            .bind(token::hash(raw_token))
            .bind(user_id)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The user a raw API token belongs to, noting that the token was used.
    pub async fn user_by_token(&self, raw_token: &str) -> Result<Option<User>, StoreError> {
        let hash = token::hash(raw_token);
        let row = sqlx::query(
            "SELECT u.id, u.org_id, u.email, u.display_name, u.role \
             FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1",
        )
        .bind(&hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2")
            .bind(now_ms())
            .bind(&hash)
            .execute(&self.pool)
            .await?;
        User::from_row(&row).map(Some)
    }
}
