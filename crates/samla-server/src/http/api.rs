//! The REST API under `/api/v1`: who am I, and the meetings I own. Each handler carries its
//! `#[utoipa::path]`, and [`routes`] registers handler and documentation together, so the
//! OpenAPI document cannot leave out a route.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use samla_protocol::api::{
    ApiError, Attendee, Me, Meeting, MeetingPatch, NewMeeting, OrganisationSettings,
};
use samla_protocol::{MeetingId, SharePolicy};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiFailure, JsonBody};
use super::{openapi, validate};
use crate::auth::{passcode, CurrentUser};
use crate::meeting::actor::now_ms;
use crate::report::attendance;
use crate::state::AppState;
use crate::store::{self, MeetingRecord, NewMeetingRecord};

/// Every route under `/api/v1`, with its documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(list_meetings, create_meeting))
        .routes(routes!(get_meeting, update_meeting, delete_meeting))
        .routes(routes!(meeting_attendance))
        .routes(routes!(organisation_settings, set_organisation_settings))
        .routes(routes!(openapi::openapi_json))
}

/// The signed-in user.
#[utoipa::path(get, path = "/me", tag = "users", security(("bearer" = [])),
    responses(
        (status = 200, description = "The signed-in user", body = Me),
        (status = 401, description = "Missing or unknown API token", body = ApiError),
        (status = 403, description = "The token belongs to another organisation", body = ApiError),
    ))]
async fn me(CurrentUser { user, org }: CurrentUser) -> Json<Me> {
    Json(Me {
        id: user.id,
        email: user.email,
        display_name: user.display_name,
        admin: user.admin,
        organisation: org.name,
    })
}

/// My organisation's settings. For its admins only.
#[utoipa::path(get, path = "/organisation/settings", tag = "organisation", security(("bearer" = [])),
    responses(
        (status = 200, description = "The organisation's settings", body = OrganisationSettings),
        (status = 401, description = "Missing or unknown API token", body = ApiError),
        (status = 403, description = "Not an admin of this organisation", body = ApiError),
    ))]
async fn organisation_settings(
    CurrentUser { user, org }: CurrentUser,
) -> Result<Json<OrganisationSettings>, ApiFailure> {
    require_admin(&user)?;
    Ok(Json(OrganisationSettings {
        max_video_height: org.settings.max_video_height,
    }))
}

/// Replaces my organisation's settings. For its admins only. Every meeting of the
/// organisation follows them at once, the running ones included.
#[utoipa::path(put, path = "/organisation/settings", tag = "organisation", security(("bearer" = [])),
    request_body = OrganisationSettings,
    responses(
        (status = 200, description = "The organisation's settings", body = OrganisationSettings),
        (status = 400, description = "Invalid request", body = ApiError),
        (status = 415, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "Missing or unknown API token", body = ApiError),
        (status = 403, description = "Not an admin of this organisation", body = ApiError),
    ))]
async fn set_organisation_settings(
    State(state): State<AppState>,
    CurrentUser { user, org }: CurrentUser,
    JsonBody(new): JsonBody<OrganisationSettings>,
) -> Result<Json<OrganisationSettings>, ApiFailure> {
    require_admin(&user)?;
    let max_video_height = validate::max_video_height(new.max_video_height)?;
    let settings = store::OrganisationSettings { max_video_height };
    state
        .store
        .update_organisation_settings(&org.id, &settings)
        .await?;
    tracing::info!(organisation = %org.name, by = %user.email, ?max_video_height, "organisation settings changed");
    state
        .meetings
        .apply_video_cap(&org.id, max_video_height)
        .await;
    Ok(Json(OrganisationSettings { max_video_height }))
}

fn require_admin(user: &store::User) -> Result<(), ApiFailure> {
    if user.admin {
        Ok(())
    } else {
        Err(ApiFailure::forbidden(
            "only an admin of the organisation may see or change its settings",
        ))
    }
}

/// Schedules a meeting, or creates an instant one when it has no start time.
#[utoipa::path(post, path = "/meetings", tag = "meetings", security(("bearer" = [])),
    request_body = NewMeeting,
    responses(
        (status = 201, description = "Created", body = Meeting),
        (status = 400, description = "Invalid request", body = ApiError),
        (status = 415, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "Missing or unknown API token", body = ApiError),
        (status = 403, description = "The token belongs to another organisation", body = ApiError),
    ))]
async fn create_meeting(
    State(state): State<AppState>,
    CurrentUser { user, org }: CurrentUser,
    JsonBody(new): JsonBody<NewMeeting>,
) -> Result<(StatusCode, Json<Meeting>), ApiFailure> {
    let topic = validate::topic(&new.topic)?;
    let start_time_ms = new
        .start_time
        .as_deref()
        .map(validate::start_time)
        .transpose()?;
    let duration_minutes = new
        .duration_minutes
        .map(validate::duration_minutes)
        .transpose()?;
    let passcode_hash = match new.passcode.as_deref() {
        Some(p) => Some(hash_passcode(validate::passcode(p)?.to_owned()).await?),
        None => None,
    };
    let record = state
        .store
        .create_meeting(&NewMeetingRecord {
            org_id: org.id,
            owner_user_id: user.id,
            topic,
            passcode_hash,
            waiting_room: new.waiting_room,
            signed_in_only: new.signed_in_only,
            start_time_ms,
            duration_minutes,
            mute_on_entry: new.mute_on_entry,
            share_hosts_only: new.share_policy == SharePolicy::HostsOnly,
        })
        .await?;
    Ok((StatusCode::CREATED, Json(view(&state, &record))))
}

/// The meetings I own: scheduled ones by start time, then instant ones by creation.
#[utoipa::path(get, path = "/meetings", tag = "meetings", security(("bearer" = [])),
    responses(
        (status = 200, description = "My meetings", body = Vec<Meeting>),
        (status = 401, description = "Missing or unknown API token", body = ApiError),
        (status = 403, description = "The token belongs to another organisation", body = ApiError),
    ))]
async fn list_meetings(
    State(state): State<AppState>,
    CurrentUser { user, .. }: CurrentUser,
) -> Result<Json<Vec<Meeting>>, ApiFailure> {
    let records = state.store.meetings_owned_by(&user.id).await?;
    Ok(Json(records.iter().map(|r| view(&state, r)).collect()))
}

/// One of my meetings.
#[utoipa::path(get, path = "/meetings/{id}", tag = "meetings", security(("bearer" = [])),
    params(("id" = String, Path, description = "The meeting id, 9 to 11 digits")),
    responses(
        (status = 200, description = "The meeting", body = Meeting),
        (status = 401, description = "Missing or unknown API token", body = ApiError),
        (status = 403, description = "The token belongs to another organisation", body = ApiError),
        (status = 404, description = "No such meeting of mine", body = ApiError),
    ))]
async fn get_meeting(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Meeting>, ApiFailure> {
    let record = owned_meeting(&state, &current, &id).await?;
    Ok(Json(view(&state, &record)))
}

/// Changes one of my meetings; fields left out stay as they are.
#[utoipa::path(patch, path = "/meetings/{id}", tag = "meetings", security(("bearer" = [])),
    params(("id" = String, Path, description = "The meeting id, 9 to 11 digits")),
    request_body = MeetingPatch,
    responses(
        (status = 200, description = "The meeting", body = Meeting),
        (status = 400, description = "Invalid request", body = ApiError),
        (status = 415, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "Missing or unknown API token", body = ApiError),
        (status = 403, description = "The token belongs to another organisation", body = ApiError),
        (status = 404, description = "No such meeting of mine", body = ApiError),
    ))]
async fn update_meeting(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<MeetingPatch>,
) -> Result<Json<Meeting>, ApiFailure> {
    let mut record = owned_meeting(&state, &current, &id).await?;
    if let Some(topic) = &patch.topic {
        record.topic = validate::topic(topic)?;
    }
    if let Some(start) = &patch.start_time {
        record.start_time_ms = if start.is_empty() {
            None
        } else {
            Some(validate::start_time(start)?)
        };
    }
    if let Some(minutes) = patch.duration_minutes {
        record.duration_minutes = Some(validate::duration_minutes(minutes)?);
    }
    if let Some(waiting_room) = patch.waiting_room {
        record.waiting_room = waiting_room;
    }
    if let Some(signed_in_only) = patch.signed_in_only {
        record.signed_in_only = signed_in_only;
    }
    if let Some(mute_on_entry) = patch.mute_on_entry {
        record.mute_on_entry = mute_on_entry;
    }
    if let Some(policy) = patch.share_policy {
        record.share_hosts_only = policy == SharePolicy::HostsOnly;
    }
    // Last, so a request that fails validation does not pay for a hash.
    if let Some(p) = patch.passcode {
        record.passcode_hash = if p.is_empty() {
            None
        } else {
            Some(hash_passcode(validate::passcode(&p)?.to_owned()).await?)
        };
    }
    if !state.store.update_meeting(&record).await? {
        return Err(not_found());
    }
    Ok(Json(view(&state, &record)))
}

/// Deletes one of my meetings.
#[utoipa::path(delete, path = "/meetings/{id}", tag = "meetings", security(("bearer" = [])),
    params(("id" = String, Path, description = "The meeting id, 9 to 11 digits")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing or unknown API token", body = ApiError),
        (status = 403, description = "The token belongs to another organisation", body = ApiError),
        (status = 404, description = "No such meeting of mine", body = ApiError),
    ))]
async fn delete_meeting(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiFailure> {
    let record = owned_meeting(&state, &current, &id).await?;
    if !state.store.delete_meeting(&record.id).await? {
        return Err(not_found());
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `?format=` of the attendance report.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct AttendanceQuery {
    /// `json` (the default) or `csv`, for a spreadsheet.
    format: Option<String>,
}

/// Who attended one of my meetings: one line per person who was in it, by when they first
/// joined, with their time in it. As CSV with `?format=csv`.
#[utoipa::path(get, path = "/meetings/{id}/attendance", tag = "meetings", security(("bearer" = [])),
    params(("id" = String, Path, description = "The meeting id, 9 to 11 digits"), AttendanceQuery),
    responses(
        (status = 200, description = "The attendance, as JSON or (`format=csv`) as CSV", body = Vec<Attendee>),
        (status = 400, description = "Unknown format", body = ApiError),
        (status = 401, description = "Missing or unknown API token", body = ApiError),
        (status = 403, description = "The token belongs to another organisation", body = ApiError),
        (status = 404, description = "No such meeting of mine", body = ApiError),
    ))]
async fn meeting_attendance(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<String>,
    Query(query): Query<AttendanceQuery>,
) -> Result<Response, ApiFailure> {
    let csv = match query.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(ApiFailure::invalid("format is json or csv")),
    };
    let record = owned_meeting(&state, &current, &id).await?;
    let rows = state.store.attendance(&record.id).await?;
    // A running meeting's open visits go on now; a stopped one's ended with its last event.
    let open_until = state.meetings.live(&record.id).map(|_| now_ms());
    let people = attendance::summarize(&rows, open_until);
    if !csv {
        return Ok(Json(people).into_response());
    }
    let filename = format!(
        "attachment; filename=\"attendance-{}.csv\"",
        record.id.as_str()
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, filename),
        ],
        attendance::to_csv(&people),
    )
        .into_response())
}

fn not_found() -> ApiFailure {
    ApiFailure::not_found("no such meeting")
}

/// The meeting `id` if the current user owns it. Anyone else's meeting is "not found",
/// exactly like a missing one, so the API never reveals which ids exist.
async fn owned_meeting(
    state: &AppState,
    current: &CurrentUser,
    id: &str,
) -> Result<MeetingRecord, ApiFailure> {
    let id: MeetingId = id.parse().map_err(|_| not_found())?;
    match state.store.meeting(&id).await? {
        Some(record)
            if record.owner_user_id == current.user.id && record.org_id == current.org.id =>
        {
            Ok(record)
        }
        _ => Err(not_found()),
    }
}

/// Argon2 takes tens of milliseconds of CPU: keep it off the async workers.
async fn hash_passcode(passcode: String) -> Result<String, ApiFailure> {
    tokio::task::spawn_blocking(move || passcode::hash(&passcode))
        .await
        .map_err(|e| ApiFailure::internal(&e))?
        .map_err(|e| ApiFailure::internal(&e))
}

/// A stored meeting as its owner sees it.
fn view(state: &AppState, record: &MeetingRecord) -> Meeting {
    Meeting {
        id: record.id.as_str().to_owned(),
        topic: record.topic.clone(),
        has_passcode: record.passcode_hash.is_some(),
        waiting_room: record.waiting_room,
        signed_in_only: record.signed_in_only,
        start_time: record.start_time_ms.map(validate::format_time),
        duration_minutes: record.duration_minutes,
        join_url: state.config.join_url(&record.id),
        created_at: validate::format_time(record.created_at_ms),
        mute_on_entry: record.mute_on_entry,
        share_policy: if record.share_hosts_only {
            SharePolicy::HostsOnly
        } else {
            SharePolicy::Everyone
        },
    }
}
