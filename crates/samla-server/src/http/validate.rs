//! Checks on what clients send to the REST API, each returning the stored form or a
//! 400 [`ApiFailure`] that says what is wrong.

use std::time::{Duration, UNIX_EPOCH};

use super::error::ApiFailure;

pub const TOPIC_CHARS: std::ops::RangeInclusive<usize> = 1..=200;
pub const PASSCODE_CHARS: std::ops::RangeInclusive<usize> = 4..=32;
/// A day: longer meetings are almost certainly a mistake in the request.
pub const DURATION_MINUTES: std::ops::RangeInclusive<u32> = 1..=1440;

/// A topic, trimmed, of 1 to 200 characters.
pub fn topic(topic: &str) -> Result<String, ApiFailure> {
    let topic = topic.trim();
    if !TOPIC_CHARS.contains(&topic.chars().count()) {
        return Err(ApiFailure::invalid("topic must have 1 to 200 characters"));
    }
    Ok(topic.to_owned())
}

/// A passcode of 4 to 32 characters, taken as given (spaces count).
pub fn passcode(passcode: &str) -> Result<&str, ApiFailure> {
    if !PASSCODE_CHARS.contains(&passcode.chars().count()) {
        return Err(ApiFailure::invalid("passcode must have 4 to 32 characters"));
    }
    Ok(passcode)
}

/// An RFC 3339 time in UTC (`2026-12-01T08:15:00Z`), as Unix milliseconds.
pub fn start_time(s: &str) -> Result<i64, ApiFailure> {
    let bad = || {
        ApiFailure::invalid("start_time must be an RFC 3339 time in UTC, e.g. 2026-12-01T08:15:00Z")
    };
    let t = humantime::parse_rfc3339_weak(s.trim()).map_err(|_| bad())?;
    let since_epoch = t.duration_since(UNIX_EPOCH).map_err(|_| bad())?;
    i64::try_from(since_epoch.as_millis()).map_err(|_| bad())
}

pub fn duration_minutes(minutes: u32) -> Result<u32, ApiFailure> {
    if !DURATION_MINUTES.contains(&minutes) {
        return Err(ApiFailure::invalid("duration_minutes must be 1 to 1440"));
    }
    Ok(minutes)
}

/// An organisation's cap on video height: none, or 90 to 2160 lines.
pub fn max_video_height(lines: Option<u32>) -> Result<Option<u32>, ApiFailure> {
    match lines {
        Some(h) if !(90..=2160).contains(&h) => Err(ApiFailure::invalid(format!(
            "max_video_height must be 90 to 2160 lines, or null for no cap (got {h})"
        ))),
        other => Ok(other),
    }
}

pub fn format_time(ms: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    humantime::format_rfc3339_seconds(t).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_through_rfc3339() {
        let ms = start_time("2026-12-01T08:15:00Z").unwrap();
        assert_eq!(format_time(ms), "2026-12-01T08:15:00Z");
        assert!(start_time("tomorrow").is_err());
        assert!(start_time("1969-12-31T23:59:59Z").is_err());
        let now = std::time::SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        assert_eq!(start_time(&format_time(now)).unwrap(), now / 1000 * 1000);
    }

    #[test]
    fn limits_are_inclusive() {
        assert!(topic("  ").is_err());
        assert_eq!(topic(" Standup ").unwrap(), "Standup");
        assert!(topic(&"x".repeat(200)).is_ok());
        assert!(topic(&"x".repeat(201)).is_err());
        assert!(passcode("123").is_err());
        assert!(passcode("1234").is_ok());
        assert!(passcode(&"p".repeat(33)).is_err());
        assert!(duration_minutes(0).is_err());
        assert!(duration_minutes(1440).is_ok());
        assert!(duration_minutes(1441).is_err());
    }
}
