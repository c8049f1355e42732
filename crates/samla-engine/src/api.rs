//! Client of the REST API under `/api/v1`: scheduling and managing meetings, and an
//! organisation's settings (for its admins).

use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response};
use samla_protocol::api::{
    ApiError, Attendee, Meeting, MeetingPatch, NewMeeting, OrganisationSettings,
};
use samla_protocol::MeetingId;
use serde::de::DeserializeOwned;
use url::Url;

use crate::link::server_base;
use crate::EngineError;

/// Requests that take longer than this are failed rather than left hanging a script.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Talks to one server's REST API with one API token.
#[derive(Debug, Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base: Url,
    token: String,
}

impl ApiClient {
    /// `base` is the server's public URL (a path prefix is kept).
    pub fn new(base: &Url, token: impl Into<String>) -> Result<Self, EngineError> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("samla-engine/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            base: server_base(base),
            token: token.into(),
        })
    }

    /// `POST /api/v1/meetings`.
    pub async fn create_meeting(&self, meeting: &NewMeeting) -> Result<Meeting, EngineError> {
        json(self.request(Method::POST, "api/v1/meetings").json(meeting)).await
    }

    /// `GET /api/v1/meetings`.
    pub async fn list_meetings(&self) -> Result<Vec<Meeting>, EngineError> {
        json(self.request(Method::GET, "api/v1/meetings")).await
    }

    /// `GET /api/v1/meetings/{id}`.
    pub async fn get_meeting(&self, id: &MeetingId) -> Result<Meeting, EngineError> {
        json(self.request(Method::GET, &meeting_path(id))).await
    }

    /// `PATCH /api/v1/meetings/{id}`.
    pub async fn update_meeting(
        &self,
        id: &MeetingId,
        patch: &MeetingPatch,
    ) -> Result<Meeting, EngineError> {
        json(self.request(Method::PATCH, &meeting_path(id)).json(patch)).await
    }

    /// `DELETE /api/v1/meetings/{id}`.
    pub async fn delete_meeting(&self, id: &MeetingId) -> Result<(), EngineError> {
        checked(
            self.request(Method::DELETE, &meeting_path(id))
                .send()
                .await?,
        )
        .await?;
        Ok(())
    }

    /// `GET /api/v1/meetings/{id}/attendance`: who was in one of my meetings.
    pub async fn attendance(&self, id: &MeetingId) -> Result<Vec<Attendee>, EngineError> {
        json(self.request(Method::GET, &format!("{}/attendance", meeting_path(id)))).await
    }

    /// The same as CSV, for a spreadsheet (`?format=csv`), as the server wrote it.
    pub async fn attendance_csv(&self, id: &MeetingId) -> Result<String, EngineError> {
        let path = format!("{}/attendance?format=csv", meeting_path(id));
        Ok(checked(self.request(Method::GET, &path).send().await?)
            .await?
            .text()
            .await?)
    }

    /// `GET /api/v1/organisation/settings` (admins only).
    pub async fn organisation_settings(&self) -> Result<OrganisationSettings, EngineError> {
        json(self.request(Method::GET, ORGANISATION_SETTINGS)).await
    }

    /// `PUT /api/v1/organisation/settings` (admins only): applies to running meetings too.
    pub async fn set_organisation_settings(
        &self,
        settings: &OrganisationSettings,
    ) -> Result<OrganisationSettings, EngineError> {
        json(
            self.request(Method::PUT, ORGANISATION_SETTINGS)
                .json(settings),
        )
        .await
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let url = self
            .base
            .join(path)
            .expect("API paths are valid relative URLs");
        self.http.request(method, url).bearer_auth(&self.token)
    }
}

const ORGANISATION_SETTINGS: &str = "api/v1/organisation/settings";

fn meeting_path(id: &MeetingId) -> String {
    format!("api/v1/meetings/{}", id.as_str())
}

async fn json<T: DeserializeOwned>(request: RequestBuilder) -> Result<T, EngineError> {
    Ok(checked(request.send().await?).await?.json().await?)
}

/// Turns an error status into [`EngineError::Api`], with the server's `ApiError` if it sent one.
async fn checked(response: Response) -> Result<Response, EngineError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = response.text().await.unwrap_or_default();
    let (code, message) = match serde_json::from_str::<ApiError>(&body) {
        Ok(err) => (err.error, err.message),
        Err(_) => (
            status.canonical_reason().unwrap_or("error").to_lowercase(),
            body,
        ),
    };
    Err(EngineError::Api {
        status: status.as_u16(),
        code,
        message,
    })
}
