//! The signed-in user, from an `Authorization: Bearer <token>` header.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::org::Org;
use crate::http::error::ApiFailure;
use crate::state::AppState;
use crate::store::{Organisation, User};

/// Extracts the user whose API token the request carries, in the request's organisation.
/// Rejects with 401 when the token is missing or unknown, and with 403 when it belongs to
/// another organisation: a token is only good on its own organisation's host.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: User,
    pub org: Organisation,
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiFailure;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiFailure::unauthorized("an API token is required: Authorization: Bearer <token>")
            })?;
        let user = state
            .store
            .user_by_token(token)
            .await?
            .ok_or_else(|| ApiFailure::unauthorized("the API token is not valid"))?;
        let Org(org) = Org::from_request_parts(parts, state).await?;
        if user.org_id != org.id {
            return Err(ApiFailure::forbidden(
                "this token belongs to another organisation",
            ));
        }
        Ok(CurrentUser { user, org })
    }
}
