//! Bodies of the REST API under `/api/v1`. Times are RFC 3339 strings in UTC.

use serde::{Deserialize, Serialize};

use crate::SharePolicy;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// A new meeting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewMeeting {
    pub topic: String,
    /// Guests and members must give it to join. Stored hashed; it cannot be read back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passcode: Option<String>,
    #[serde(default)]
    pub waiting_room: bool,
    /// Only members of the organisation, signed in, may join.
    #[serde(default)]
    pub signed_in_only: bool,
    /// RFC 3339, e.g. `2026-12-01T08:15:00Z`. None for an instant meeting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_minutes: Option<u32>,
    /// The meeting starts with newcomers muted (hosts may change it in the meeting).
    #[serde(default)]
    pub mute_on_entry: bool,
    /// Who may share a screen when the meeting starts (hosts may change it in the meeting).
    #[serde(default)]
    pub share_policy: SharePolicy,
}

/// An organisation's settings, as its admins set them. Every meeting of the organisation
/// follows them, the running ones included.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OrganisationSettings {
    /// No video taller than this many lines is sent or forwarded (e.g. 360 for a site on
    /// thin links), 90 to 2160; `null` for no cap.
    #[serde(default)]
    pub max_video_height: Option<u32>,
}

/// A change to a meeting; fields left out stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MeetingPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// A new passcode; the empty string removes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passcode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_room: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_in_only: Option<bool>,
    /// RFC 3339; the empty string makes it an instant meeting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mute_on_entry: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_policy: Option<SharePolicy>,
}

/// A meeting as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Meeting {
    /// 9 to 11 digits.
    pub id: String,
    pub topic: String,
    pub has_passcode: bool,
    pub waiting_room: bool,
    pub signed_in_only: bool,
    pub start_time: Option<String>,
    pub duration_minutes: Option<u32>,
    /// The link people join by: `{public_url}/j/{id}`.
    pub join_url: String,
    pub created_at: String,
    /// The rules it starts with; see [`NewMeeting`].
    #[serde(default)]
    pub mute_on_entry: bool,
    #[serde(default)]
    pub share_policy: SharePolicy,
}

/// One person's attendance in a meeting, as its owner sees it: everyone who was in the
/// meeting (not those who only waited or were turned away), however many times they came.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Attendee {
    /// The name they last used in the meeting.
    pub name: String,
    /// A signed-in member's e-mail; none for a guest.
    pub email: Option<String>,
    pub first_joined: String,
    /// None while they are still in the meeting.
    pub last_left: Option<String>,
    /// Whole minutes in the meeting over all their visits, rounded.
    pub minutes: u32,
    pub times_joined: u32,
}

/// The signed-in user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Me {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub admin: bool,
    pub organisation: String,
}

/// Every error response of the REST API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ApiError {
    /// Machine-readable, e.g. `not_found`, `invalid_argument`, `unauthorized`.
    pub error: String,
    pub message: String,
}
