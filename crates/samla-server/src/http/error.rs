//! Failures of the REST API, all answered as an [`ApiError`] JSON body with a fitting
//! status, so clients have one shape to handle.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use samla_protocol::api::ApiError;
use serde::de::DeserializeOwned;

use crate::store::StoreError;

/// An error response: status plus [`ApiError`].
#[derive(Debug)]
pub struct ApiFailure {
    pub status: StatusCode,
    pub error: &'static str,
    pub message: String,
}

impl ApiFailure {
    fn new(status: StatusCode, error: &'static str, message: impl Into<String>) -> Self {
        ApiFailure {
            status,
            error,
            message: message.into(),
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// No route under `/api/v1` has this path (as opposed to a route saying "no such meeting").
    pub fn unknown_route() -> Self {
        Self::new(StatusCode::NOT_FOUND, "unknown_route", "no such API route")
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_argument", message)
    }

    /// A failure inside the server. The details go to the log, not to the client.
    pub fn internal(cause: &dyn std::error::Error) -> Self {
        tracing::error!(error = %cause, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal server error",
        )
    }
}

impl From<StoreError> for ApiFailure {
    fn from(e: StoreError) -> Self {
        ApiFailure::internal(&e)
    }
}

impl IntoResponse for ApiFailure {
    fn into_response(self) -> Response {
        let body = ApiError {
            error: self.error.to_owned(),
            message: self.message,
        };
        (self.status, Json(body)).into_response()
    }
}

/// A JSON request body whose rejections are [`ApiFailure`]s rather than axum's plain text.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiFailure;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(JsonBody(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiFailure::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "the body must be JSON, with Content-Type: application/json",
            )),
            Err(e) => Err(ApiFailure::invalid(e.body_text())),
        }
    }
}
