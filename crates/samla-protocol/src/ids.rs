//! Identifiers shared by server and clients.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A meeting id: 9 to 11 digits, short enough to read aloud, never starting with 0.
///
/// It travels as a string of digits (`"12345678901"`); [`fmt::Display`] groups it for
/// people (`123 4567 8901`) and [`FromStr`] accepts it with or without spaces and dashes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MeetingId(String);

/// Why a string is not a meeting id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MeetingIdError {
    #[error("a meeting id has only digits, spaces and dashes")]
    NotDigits,
    #[error("a meeting id has 9 to 11 digits, this has {0}")]
    WrongLength(usize),
    #[error("a meeting id does not start with 0")]
    LeadingZero,
}

impl MeetingId {
    pub const MIN_DIGITS: usize = 9;
    pub const MAX_DIGITS: usize = 11;

    /// The id as its plain digits, as used in links and storage.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Builds an id from a number, which must have 9 to 11 digits.
    pub fn from_number(n: u64) -> Result<Self, MeetingIdError> {
        n.to_string().parse()
    }
}

impl FromStr for MeetingId {
    type Err = MeetingIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut digits = String::with_capacity(Self::MAX_DIGITS);
        for c in s.trim().chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' => {}
                _ => return Err(MeetingIdError::NotDigits),
            }
        }
        if !(Self::MIN_DIGITS..=Self::MAX_DIGITS).contains(&digits.len()) {
            return Err(MeetingIdError::WrongLength(digits.len()));
        }
        if digits.starts_with('0') {
            return Err(MeetingIdError::LeadingZero);
        }
        Ok(Self(digits))
    }
}

impl TryFrom<String> for MeetingId {
    type Error = MeetingIdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<MeetingId> for String {
    fn from(id: MeetingId) -> Self {
        id.0
    }
}

impl fmt::Display for MeetingId {
    /// Groups the digits the way people read them aloud: `123 456 789`, `123 4567 890`,
    /// `123 4567 8901`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.0;
        let (a, b) = match d.len() {
            9 => (3, 6),
            10 => (3, 7),
            _ => (3, 7),
        };
        write!(f, "{} {} {}", &d[..a], &d[a..b], &d[b..])
    }
}

/// A participant's seat in one meeting. It is unique within the meeting for the meeting's
/// lifetime and survives a resumed connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ParticipantId(pub u32);

impl fmt::Display for ParticipantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meeting_ids_parse_as_people_type_them() {
        let id: MeetingId = "123 4567 8901".parse().unwrap();
        assert_eq!(id.as_str(), "12345678901");
        assert_eq!(id.to_string(), "123 4567 8901");
        assert_eq!(
            "123-456-789".parse::<MeetingId>().unwrap().to_string(),
            "123 456 789"
        );
        assert_eq!(
            "12345678".parse::<MeetingId>(),
            Err(MeetingIdError::WrongLength(8))
        );
        assert_eq!(
            "012345678".parse::<MeetingId>(),
            Err(MeetingIdError::LeadingZero)
        );
        assert_eq!(
            "12345678a".parse::<MeetingId>(),
            Err(MeetingIdError::NotDigits)
        );
    }

    #[test]
    fn meeting_ids_travel_as_strings() {
        let id: MeetingId = serde_json::from_str("\"1234567890\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"1234567890\"");
        assert!(serde_json::from_str::<MeetingId>("\"12\"").is_err());
    }
}
