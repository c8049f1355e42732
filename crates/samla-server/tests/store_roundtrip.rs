//! The store against real databases: a SQLite file always, PostgreSQL too when
//! `SAMLA_TEST_POSTGRES_URL` is set (each test makes and drops its own database there).

mod common;

use common::TestDb;
use samla_protocol::{ChatMessage, ChatTarget, LeaveReason, MeetingId, ParticipantId};
use samla_server::meeting::{AttendanceEvent, AttendanceRecord};
use samla_server::store::{NewMeetingRecord, OrganisationSettings, Store, User};

async fn owner(store: &Store) -> User {
    store
        .ensure_default_organisation("Samla", "samla.test")
        .await
        .unwrap();
    let org = store.default_organisation().await.unwrap();
    store
        .ensure_user(&org.id, "Owner@Example.org", "Owner", false)
        .await
        .unwrap()
}

fn new_meeting(user: &User, topic: &str, start: Option<i64>) -> NewMeetingRecord {
    NewMeetingRecord {
        org_id: user.org_id.clone(),
        owner_user_id: user.id.clone(),
        topic: topic.into(),
        passcode_hash: None,
        waiting_room: true,
        signed_in_only: false,
        start_time_ms: start,
        duration_minutes: Some(30),
        mute_on_entry: false,
        share_hosts_only: false,
    }
}

fn chat(seq: u64, from: u32, to: ChatTarget) -> ChatMessage {
    ChatMessage {
        seq,
        from: ParticipantId(from),
        from_name: format!("P{from}"),
        to,
        text: format!("message {seq}"),
        sent_at_ms: 1_000 + seq as i64,
    }
}

#[tokio::test]
async fn organisations_users_and_tokens() {
    for db in TestDb::all().await {
        let store = &db.store;
        let default = store
            .ensure_default_organisation("Samla", "Samla.Test")
            .await
            .unwrap();
        assert_eq!(default.host, "samla.test", "{}", db.label);
        // Moving the public URL moves the default organisation.
        assert_eq!(
            store
                .ensure_default_organisation("Samla", "new.test")
                .await
                .unwrap()
                .host,
            "new.test"
        );
        let uio = store
            .ensure_organisation("UiO", "uio.samla.test", &OrganisationSettings::default())
            .await
            .unwrap();
        assert_eq!(uio.settings.max_video_height, None);
        // The configuration file sets the cap; a changed file updates it.
        let capped = OrganisationSettings {
            max_video_height: Some(360),
        };
        let again = store
            .ensure_organisation("Universitetet i Oslo", "uio.samla.test", &capped)
            .await
            .unwrap();
        assert_eq!(
            (again.id.as_str(), again.name.as_str()),
            (uio.id.as_str(), "Universitetet i Oslo")
        );
        assert_eq!(again.settings, capped);
        assert!(
            store
                .ensure_default_organisation("Samla", "uio.samla.test")
                .await
                .is_err(),
            "host taken"
        );
        assert_eq!(
            store.organisation_by_host("UIO.samla.test").await.unwrap(),
            Some(again)
        );
        assert_eq!(
            store.organisation_by_host("nowhere.test").await.unwrap(),
            None
        );

        let user = store
            .ensure_user(&uio.id, "Ada@Example.org", "Ada", false)
            .await
            .unwrap();
        assert_eq!(
            (user.email.as_str(), user.admin),
            ("ada@example.org", false)
        );
        let promoted = store
            .ensure_user(&uio.id, "ada@example.org", "Other name", true)
            .await
            .unwrap();
        assert_eq!(
            (
                promoted.id.as_str(),
                promoted.display_name.as_str(),
                promoted.admin
            ),
            (user.id.as_str(), "Ada", true)
        );
        let elsewhere = store
            .ensure_user(&default.id, "ada@example.org", "Ada", false)
            .await
            .unwrap();
        assert_ne!(elsewhere.id, user.id, "users are per organisation");

        let token = samla_server::auth::token::generate();
        store.insert_api_token(&user.id, &token).await.unwrap();
        assert_eq!(
            store.user_by_token(&token).await.unwrap().map(|u| u.id),
            Some(user.id.clone())
        );
        assert_eq!(store.user_by_token("samla_nonsense").await.unwrap(), None);
        db.finish().await;
    }
}

#[tokio::test]
async fn meetings_crud() {
    for db in TestDb::all().await {
        let store = &db.store;
        let user = owner(store).await;
        let later = store
            .create_meeting(&new_meeting(&user, "Later", Some(2_000_000)))
            .await
            .unwrap();
        let instant = store
            .create_meeting(&new_meeting(&user, "Instant", None))
            .await
            .unwrap();
        let sooner = store
            .create_meeting(&new_meeting(&user, "Sooner", Some(1_000_000)))
            .await
            .unwrap();
        assert_eq!(later.id.as_str().len(), 10);
        assert_eq!(
            store.meeting(&later.id).await.unwrap().as_ref(),
            Some(&later),
            "{}",
            db.label
        );

        let topics: Vec<_> = store
            .meetings_owned_by(&user.id)
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.topic)
            .collect();
        assert_eq!(topics, ["Sooner", "Later", "Instant"], "{}", db.label);

        let mut changed = instant.clone();
        changed.topic = "Changed".into();
        changed.passcode_hash = Some("$argon2id$fake".into());
        changed.signed_in_only = true;
        changed.duration_minutes = None;
        changed.mute_on_entry = true;
        changed.share_hosts_only = true;
        assert!(store.update_meeting(&changed).await.unwrap());
        assert_eq!(store.meeting(&instant.id).await.unwrap(), Some(changed));

        assert!(store.delete_meeting(&sooner.id).await.unwrap());
        assert!(!store.delete_meeting(&sooner.id).await.unwrap());
        assert_eq!(store.meeting(&sooner.id).await.unwrap(), None);
        assert!(
            !store.update_meeting(&sooner).await.unwrap(),
            "deleted meetings stay deleted"
        );
        assert_eq!(store.meetings_owned_by(&user.id).await.unwrap().len(), 2);
        let missing: MeetingId = "123456789".parse().unwrap();
        assert_eq!(store.meeting(&missing).await.unwrap(), None);
        db.finish().await;
    }
}

#[tokio::test]
async fn chat_and_attendance() {
    for db in TestDb::all().await {
        let store = &db.store;
        let user = owner(store).await;
        let id = store
            .create_meeting(&new_meeting(&user, "Chat", None))
            .await
            .unwrap()
            .id;
        assert_eq!(
            store.max_participant_id(&id).await.unwrap(),
            0,
            "{}",
            db.label
        );
        assert!(store.chat_history(&id, 10).await.unwrap().is_empty());

        let messages = [
            chat(1, 1, ChatTarget::Everyone),
            chat(2, 2, ChatTarget::Hosts),
            chat(
                3,
                7,
                ChatTarget::Participant {
                    id: ParticipantId(1),
                },
            ),
            chat(4, 1, ChatTarget::Everyone),
        ];
        for m in &messages {
            store.insert_chat(&id, m).await.unwrap();
        }
        assert_eq!(store.chat_history(&id, 10).await.unwrap(), messages);
        assert_eq!(
            store.chat_history(&id, 2).await.unwrap(),
            messages[2..],
            "the last ones, oldest first"
        );
        assert_eq!(
            store.max_participant_id(&id).await.unwrap(),
            7,
            "chat senders count"
        );

        let records = [
            AttendanceRecord {
                participant: ParticipantId(9),
                display_name: "Nine".into(),
                user_id: Some(user.id.clone()),
                event: AttendanceEvent::Joined,
                at_ms: 10,
            },
            AttendanceRecord {
                participant: ParticipantId(9),
                display_name: "Nine".into(),
                user_id: Some(user.id.clone()),
                event: AttendanceEvent::Left(LeaveReason::TimedOut),
                at_ms: 20,
            },
            AttendanceRecord {
                participant: ParticipantId(3),
                display_name: "Guest".into(),
                user_id: None,
                event: AttendanceEvent::EnteredWaitingRoom,
                at_ms: 15,
            },
        ];
        for r in &records {
            store.insert_attendance(&id, r).await.unwrap();
        }
        let rows = store.attendance(&id).await.unwrap();
        let summary: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r.participant.0,
                    r.event.as_str(),
                    r.at_ms,
                    r.user_id.is_some(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (9, "joined", 10, true),
                (3, "waiting", 15, false),
                (9, "timed_out", 20, true)
            ]
        );
        assert_eq!(
            store.max_participant_id(&id).await.unwrap(),
            9,
            "attendance counts"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn reconnecting_migrates_nothing_twice() {
    let db = TestDb::sqlite().await;
    let again = Store::connect(&db.url)
        .await
        .expect("migrations are idempotent");
    again.ping().await.unwrap();
    db.finish().await;
}
