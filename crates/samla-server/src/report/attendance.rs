//! Who attended a meeting: the attendance log folded into one line per person, as JSON for
//! the app and as CSV for a spreadsheet.
//!
//! A person is a signed-in member (however many seats and visits they had) or, for a guest,
//! one seat: two guests with the same name may be two people. Time in the meeting counts
//! while at least one of a person's seats is in it, so a teacher on two devices is not
//! counted twice.

use std::collections::{HashMap, HashSet};

use samla_protocol::api::Attendee;
use samla_protocol::ParticipantId;

use crate::http::validate::format_time;
use crate::store::AttendanceRow;

/// Log events that take a seat out of the meeting (`AttendanceEvent::as_str` names).
const OUT_OF_MEETING: &[&str] = &[
    "left",
    "removed",
    "timed_out",
    "moved_to_waiting_room",
    "meeting_ended",
];

#[derive(Debug, PartialEq, Eq, Hash)]
enum Person {
    Member(String),
    Guest(ParticipantId),
}

struct Tally {
    name: String,
    email: Option<String>,
    first_joined: i64,
    last_left: Option<i64>,
    times_joined: u32,
    in_meeting: HashSet<ParticipantId>,
    /// Since when the person has been in the meeting without a break.
    since: i64,
    total_ms: i64,
}

/// One line per person who was in the meeting, by when they first joined. `rows` is the log
/// in time order. `open_until_ms` ends the visits the log leaves open: now for a meeting that
/// is running (they are still in it), or the log's last event for one that is not (the
/// server stopped without recording who left).
pub fn summarize(rows: &[AttendanceRow], open_until_ms: Option<i64>) -> Vec<Attendee> {
    let mut people: HashMap<Person, Tally> = HashMap::new();
    let mut order: Vec<Person> = Vec::new();
    for row in rows {
        let person = match &row.user_id {
            Some(user) => Person::Member(user.clone()),
            None => Person::Guest(row.participant),
        };
        if row.event == "joined" {
            let tally = people.entry(person).or_insert_with_key(|key| {
                order.push(match key {
                    Person::Member(u) => Person::Member(u.clone()),
                    Person::Guest(p) => Person::Guest(*p),
                });
                Tally {
                    name: String::new(),
                    email: None,
                    first_joined: row.at_ms,
                    last_left: None,
                    times_joined: 0,
                    in_meeting: HashSet::new(),
                    since: row.at_ms,
                    total_ms: 0,
                }
            });
            tally.name.clone_from(&row.display_name);
            if row.email.is_some() {
                tally.email.clone_from(&row.email);
            }
            tally.times_joined += 1;
            if tally.in_meeting.is_empty() {
                tally.since = row.at_ms;
            }
            tally.in_meeting.insert(row.participant);
        } else if OUT_OF_MEETING.contains(&row.event.as_str()) {
            let Some(tally) = people.get_mut(&person) else {
                continue; // only ever waited
            };
            if tally.in_meeting.remove(&row.participant) && tally.in_meeting.is_empty() {
                tally.total_ms += row.at_ms - tally.since;
                tally.last_left = Some(row.at_ms);
            }
        }
    }
    let last_event = rows.last().map_or(0, |r| r.at_ms);
    order
        .into_iter()
        .filter_map(|key| people.remove(&key))
        .map(|mut t| {
            if !t.in_meeting.is_empty() {
                match open_until_ms {
                    Some(now) => {
                        t.total_ms += now - t.since;
                        t.last_left = None;
                    }
                    None => {
                        t.total_ms += last_event - t.since;
                        t.last_left = Some(last_event);
                    }
                }
            }
            Attendee {
                name: t.name,
                email: t.email,
                first_joined: format_time(t.first_joined),
                last_left: t.last_left.map(format_time),
                minutes: u32::try_from((t.total_ms.max(0) + 30_000) / 60_000).unwrap_or(u32::MAX),
                times_joined: t.times_joined,
            }
        })
        .collect()
}

/// The CSV a spreadsheet opens (RFC 4180, UTF-8, CRLF). It starts with a byte-order mark,
/// without which Excel reads UTF-8 as Windows-1252 and "Øyvind" comes out as "Ã˜yvind". A
/// cell that a spreadsheet would run as a formula (a guest may call themselves
/// `=HYPERLINK(…)`) is prefixed with `'`.
pub fn to_csv(attendees: &[Attendee]) -> String {
    let mut out =
        String::from("\u{feff}name,email,first_joined,last_left,minutes,times_joined\r\n");
    for a in attendees {
        let cells = [
            cell(&a.name),
            cell(a.email.as_deref().unwrap_or("")),
            cell(&a.first_joined),
            cell(a.last_left.as_deref().unwrap_or("")),
            a.minutes.to_string(),
            a.times_joined.to_string(),
        ];
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

fn cell(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_764_576_900_000; // 2025-12-01T08:15:00Z
    const MIN: i64 = 60_000;

    fn row(
        participant: u32,
        name: &str,
        user: Option<&str>,
        event: &str,
        at_min: i64,
    ) -> AttendanceRow {
        AttendanceRow {
            participant: ParticipantId(participant),
            display_name: name.into(),
            user_id: user.map(|u| format!("user-{u}")),
            email: user.map(|u| format!("{u}@uio.no")),
            event: event.into(),
            at_ms: T0 + at_min * MIN,
        }
    }

    #[test]
    fn one_line_per_person_with_their_time_in_the_meeting() {
        let log = [
            row(1, "Kari", Some("kari"), "joined", 0),
            row(2, "Gjest", None, "waiting", 1),
            row(3, "Ola", None, "waiting", 2),
            row(3, "Ola", None, "joined", 5),
            row(2, "Gjest", None, "denied", 6),
            // Kari on her phone as well: not counted twice.
            row(4, "Kari (mobil)", Some("kari"), "joined", 10),
            row(3, "Ola", None, "moved_to_waiting_room", 20),
            row(3, "Ola", None, "joined", 30),
            row(1, "Kari", Some("kari"), "left", 40),
            row(3, "Ola", None, "timed_out", 50),
            row(4, "Kari (mobil)", Some("kari"), "meeting_ended", 90),
        ];
        let people = summarize(&log, None);
        assert_eq!(
            people,
            [
                Attendee {
                    name: "Kari (mobil)".into(),
                    email: Some("kari@uio.no".into()),
                    first_joined: "2025-12-01T08:15:00Z".into(),
                    last_left: Some("2025-12-01T09:45:00Z".into()),
                    minutes: 90,
                    times_joined: 2,
                },
                Attendee {
                    name: "Ola".into(),
                    email: None,
                    first_joined: "2025-12-01T08:20:00Z".into(),
                    last_left: Some("2025-12-01T09:05:00Z".into()),
                    minutes: 15 + 20,
                    times_joined: 2,
                },
            ]
        );
    }

    #[test]
    fn someone_still_in_a_running_meeting_has_not_left() {
        let log = [
            row(1, "Kari", Some("kari"), "joined", 0),
            row(2, "Ola", None, "joined", 1),
            row(2, "Ola", None, "left", 3),
        ];
        let people = summarize(&log, Some(T0 + 45 * MIN + 20_000));
        assert_eq!(
            (people[0].last_left.as_deref(), people[0].minutes),
            (None, 45)
        );
        assert_eq!(people[1].minutes, 2);
        // A meeting no longer running (the server stopped): visits end at the last event.
        let people = summarize(&log, None);
        assert_eq!(people[0].last_left.as_deref(), Some("2025-12-01T08:18:00Z"));
        assert_eq!(people[0].minutes, 3);
        assert!(summarize(&[], None).is_empty());
    }

    #[test]
    fn the_csv_is_safe_to_open_in_a_spreadsheet() {
        let people = [
            Attendee {
                name: "=HYPERLINK(\"http://x\")".into(),
                email: None,
                first_joined: "2025-12-01T08:15:00Z".into(),
                last_left: None,
                minutes: 3,
                times_joined: 1,
            },
            Attendee {
                name: "Nordmann, Ola".into(),
                email: Some("ola@uio.no".into()),
                first_joined: "2025-12-01T08:16:00Z".into(),
                last_left: Some("2025-12-01T09:00:00Z".into()),
                minutes: 44,
                times_joined: 1,
            },
        ];
        assert_eq!(
            to_csv(&people),
            "\u{feff}name,email,first_joined,last_left,minutes,times_joined\r\n\
             \"'=HYPERLINK(\"\"http://x\"\")\",,2025-12-01T08:15:00Z,,3,1\r\n\
             \"Nordmann, Ola\",ola@uio.no,2025-12-01T08:16:00Z,2025-12-01T09:00:00Z,44,1\r\n"
        );
    }
}
