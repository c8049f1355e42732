//! Meeting control as users see it, over real WebSockets against a real server process:
//! several participants, the waiting room, locking, removal, host hand-over and the rule
//! that only hosts may run the meeting.

use std::time::Duration;

use anyhow::Result;
use samla_e2e::{Hosted, Participant, TestServer};
use samla_engine::{Event, Status};
use samla_protocol::api::NewMeeting;
use samla_protocol::{
    ChatPolicy, ClientMessage, CloseReason, ErrorCode, LeaveReason, Reaction, Role, ServerMessage,
    SharePolicy,
};

fn meeting(topic: &str, waiting_room: bool) -> NewMeeting {
    NewMeeting {
        topic: topic.into(),
        waiting_room,
        ..Default::default()
    }
}

fn closed_with(reason: CloseReason) -> impl Fn(&ServerMessage) -> bool {
    move |m| matches!(m, ServerMessage::Closed { reason: r } if *r == reason)
}

#[tokio::test]
async fn several_participants_see_each_other_and_their_changes() -> Result<()> {
    let server = TestServer::start().await?;
    let token = server.token("kari@uio.no")?;
    let m = server
        .create_meeting(&token, &meeting("INF1000", false))
        .await?;

    let host = Participant::join(&server, &m, "Kari", Some(&token)).await?;
    assert_eq!(
        host.view().role,
        Some(Role::Host),
        "the owner hosts their meeting"
    );
    let ola = Participant::join(&server, &m, "Ola", None).await?;
    let per = Participant::join(&server, &m, "Per", None).await?;
    assert_eq!(per.view().role, Some(Role::Participant));

    for p in [&host, &ola, &per] {
        p.wait_view("sees all three", |v| v.participants.len() == 3)
            .await?;
    }
    let names: Vec<String> = per
        .view()
        .participants
        .values()
        .map(|p| p.name.clone())
        .collect();
    assert_eq!(names, ["Kari", "Ola", "Per"]);

    ola.handle.send(ClientMessage::RaiseHand)?;
    ola.handle.send(ClientMessage::SetMedia {
        audio_muted: false,
        video_on: true,
    })?;
    let ola_id = ola.me();
    host.wait_view("sees Ola's hand and camera", |v| {
        v.participants
            .get(&ola_id)
            .is_some_and(|p| p.hand_raised && p.video_on)
    })
    .await?;
    per.handle.send(ClientMessage::React {
        reaction: Reaction::Clap,
    })?;
    host.wait_for_msg("Per's reaction", |msg| {
        matches!(
            msg,
            ServerMessage::Reaction {
                reaction: Reaction::Clap,
                ..
            }
        )
    })
    .await?;

    per.handle.leave()?;
    host.wait_for_msg("Per left", |msg| {
        matches!(
            msg,
            ServerMessage::ParticipantLeft {
                reason: LeaveReason::Left,
                ..
            }
        )
    })
    .await?;
    host.wait_view("two left", |v| v.participants.len() == 2)
        .await?;
    Ok(())
}

#[tokio::test]
async fn waiting_room_admit_deny_and_admit_all() -> Result<()> {
    let server = TestServer::start().await?;
    let token = server.token("kari@uio.no")?;
    let m = server
        .create_meeting(&token, &meeting("Eksamen", true))
        .await?;

    let host = Participant::join(&server, &m, "Kari", Some(&token)).await?;
    assert_eq!(
        host.view().status,
        Status::Joined,
        "the owner skips the waiting room"
    );

    let ola = Participant::join(&server, &m, "Ola", None).await?;
    let eve = Participant::join(&server, &m, "Eve", None).await?;
    assert_eq!(ola.view().status, Status::Waiting);
    assert!(
        ola.view().participants.is_empty(),
        "people waiting do not see who is inside"
    );
    host.wait_view("two waiting", |v| v.waiting.len() == 2)
        .await?;

    let ola_id = host
        .view()
        .waiting
        .iter()
        .find(|w| w.name == "Ola")
        .unwrap()
        .id;
    let eve_id = host
        .view()
        .waiting
        .iter()
        .find(|w| w.name == "Eve")
        .unwrap()
        .id;
    host.handle.admit(ola_id)?;
    ola.wait_view("admitted", |v| {
        v.status == Status::Joined && v.participants.len() == 2
    })
    .await?;

    host.handle.deny(eve_id)?;
    eve.wait_for_msg("denied", closed_with(CloseReason::Denied))
        .await?;
    eve.wait_for("session ended", |e| matches!(e, Event::Ended))
        .await?;
    host.wait_view("waiting room empty", |v| v.waiting.is_empty())
        .await?;
    assert!(
        !ola.view().participants.values().any(|p| p.name == "Eve"),
        "a denied guest never appears in the meeting"
    );

    let a = Participant::join(&server, &m, "Anne", None).await?;
    let b = Participant::join(&server, &m, "Bjørn", None).await?;
    host.wait_view("two more waiting", |v| v.waiting.len() == 2)
        .await?;
    host.handle.admit_all()?;
    for p in [&a, &b] {
        p.wait_view("admitted by admit-all", |v| v.status == Status::Joined)
            .await?;
    }
    host.wait_view("four inside", |v| v.participants.len() == 4)
        .await?;

    // A host can send someone back; they wait again and are not in the meeting.
    host.handle.send(ClientMessage::SendToWaitingRoom {
        participant: a.me(),
    })?;
    a.wait_for_msg("moved back", |m| {
        matches!(m, ServerMessage::MovedToWaitingRoom)
    })
    .await?;
    a.wait_view("waiting again", |v| v.status == Status::Waiting)
        .await?;
    host.wait_view("Anne waiting", |v| {
        v.waiting.iter().any(|w| w.name == "Anne")
    })
    .await?;
    Ok(())
}

#[tokio::test]
async fn a_locked_meeting_takes_no_one_new() -> Result<()> {
    let Hosted {
        server,
        meeting: m,
        host,
        ..
    } = Hosted::start(meeting("Låst", false)).await?;
    let _ola = Participant::join(&server, &m, "Ola", None).await?;

    host.handle.set_locked(true)?;
    host.wait_view("locked", |v| v.meeting.as_ref().is_some_and(|m| m.locked))
        .await?;
    let err = Participant::join(&server, &m, "Sen", None)
        .await
        .err()
        .expect("refused");
    assert_eq!(engine_code(&err), Some(ErrorCode::MeetingLocked), "{err:#}");

    host.handle.set_locked(false)?;
    host.wait_view("unlocked", |v| {
        v.meeting.as_ref().is_some_and(|m| !m.locked)
    })
    .await?;
    let _sen = Participant::join(&server, &m, "Sen", None).await?;
    host.wait_view("three inside", |v| v.participants.len() == 3)
        .await?;
    Ok(())
}

#[tokio::test]
async fn a_removed_participant_cannot_come_back() -> Result<()> {
    let server = TestServer::start().await?;
    let token = server.token("kari@uio.no")?;
    let troll_token = server.token("troll@uio.no")?;
    let m = server
        .create_meeting(&token, &meeting("Seminar", false))
        .await?;
    let host = Participant::join(&server, &m, "Kari", Some(&token)).await?;
    let troll = Participant::join(&server, &m, "Troll", Some(&troll_token)).await?;
    let ola = Participant::join(&server, &m, "Ola", None).await?;

    host.handle.remove(troll.me())?;
    troll
        .wait_for_msg("removed", closed_with(CloseReason::Removed))
        .await?;
    ola.wait_for_msg("sees the removal", |m| {
        matches!(
            m,
            ServerMessage::ParticipantLeft {
                reason: LeaveReason::Removed,
                ..
            }
        )
    })
    .await?;

    // Same account, new connection and client id: still out.
    let err = Participant::join(&server, &m, "Troll igjen", Some(&troll_token))
        .await
        .err()
        .expect("refused");
    assert_eq!(
        engine_code(&err),
        Some(ErrorCode::RemovedFromMeeting),
        "{err:#}"
    );
    host.wait_view("two inside", |v| v.participants.len() == 2)
        .await?;
    Ok(())
}

#[tokio::test]
async fn the_host_role_passes_on_when_the_host_drops_and_comes_back_on_resume() -> Result<()> {
    let server = TestServer::start().await?;
    let relay = samla_e2e::Relay::start(server.addr()).await?;
    let token = server.token("kari@uio.no")?;
    let m = server
        .create_meeting(&token, &meeting("Hand-over", true))
        .await?;
    let host = Participant::join_with(relay.url(), &m, "Kari", Some(&token), None).await?;
    let ola = Participant::join(&server, &m, "Ola", None).await?;
    host.wait_view("Ola waiting", |v| v.waiting.len() == 1)
        .await?;
    host.handle.admit_all()?;
    ola.wait_view("admitted", |v| v.status == Status::Joined)
        .await?;

    relay.cut();
    let ola_id = ola.me();
    ola.wait_view("Ola is host now", |v| {
        v.participants
            .get(&ola_id)
            .is_some_and(|p| p.role == Role::Host)
    })
    .await?;
    // The new host runs the meeting: a guest who arrives now is let in by Ola.
    let per = Participant::join(&server, &m, "Per", None).await?;
    ola.wait_view("Per waiting, seen by the new host", |v| {
        v.waiting.len() == 1
    })
    .await?;
    ola.handle.admit_all()?;
    per.wait_view("admitted by the new host", |v| v.status == Status::Joined)
        .await?;

    relay.restore();
    host.wait_for("resumed", |e| matches!(e, Event::Resumed))
        .await?;
    let kari_id = host.me();
    ola.wait_view("Kari is host again", |v| {
        v.participants
            .get(&kari_id)
            .is_some_and(|p| p.role == Role::Host && p.connected)
            && v.participants
                .get(&ola_id)
                .is_some_and(|p| p.role == Role::Participant)
    })
    .await?;
    Ok(())
}

#[tokio::test]
async fn host_actions_by_a_participant_are_refused() -> Result<()> {
    let Hosted {
        server,
        meeting: m,
        host,
        ..
    } = Hosted::start(meeting("Regler", true)).await?;
    let ola = Participant::join(&server, &m, "Ola", None).await?;
    host.wait_view("Ola waiting", |v| v.waiting.len() == 1)
        .await?;
    host.handle.admit_all()?;
    ola.wait_view("admitted", |v| v.status == Status::Joined)
        .await?;
    let waiter = Participant::join(&server, &m, "Venter", None).await?;
    host.wait_view("only Venter waiting, Ola inside", |v| {
        v.waiting.len() == 1 && v.waiting[0].name == "Venter" && v.participants.len() == 2
    })
    .await?;

    let kari = host.me();
    let w = host.view().waiting[0].id;
    let actions = [
        ClientMessage::Admit { participant: w },
        ClientMessage::AdmitAll,
        ClientMessage::Deny { participant: w },
        ClientMessage::SendToWaitingRoom { participant: kari },
        ClientMessage::SetLocked { locked: true },
        ClientMessage::EndForAll,
        ClientMessage::Remove { participant: kari },
        ClientMessage::SetRole {
            participant: ola.me(),
            role: Role::CoHost,
        },
        ClientMessage::HandOverHost {
            participant: ola.me(),
        },
        ClientMessage::Mute { participant: kari },
        ClientMessage::MuteAll,
        ClientMessage::AskToUnmute { participant: kari },
        ClientMessage::SetChatPolicy {
            policy: ChatPolicy::Off,
        },
        ClientMessage::LowerHand {
            participant: Some(kari),
        },
        ClientMessage::Rename {
            participant: Some(kari),
            name: "Hacked".into(),
        },
    ];
    let before = host.view();
    for (i, action) in actions.iter().enumerate() {
        ola.handle.send(action.clone())?;
        ola.wait_until("refusal", || ola.errors().len() > i).await?;
        assert_eq!(ola.errors()[i], ErrorCode::NotAllowed, "{action:?}");
    }
    // Nothing changed for anyone.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after = host.view();
    assert_eq!(after.participants, before.participants);
    assert_eq!(after.waiting, before.waiting);
    assert_eq!(after.meeting, before.meeting);
    assert_eq!(waiter.view().status, Status::Waiting);
    assert!(host.errors().is_empty());
    assert!(server.log().contains("refused"), "refusals are logged");
    Ok(())
}

#[tokio::test]
async fn end_for_all_closes_every_session() -> Result<()> {
    let Hosted {
        server,
        meeting: m,
        host,
        ..
    } = Hosted::start(meeting("Slutt", false)).await?;
    let ola = Participant::join(&server, &m, "Ola", None).await?;
    host.handle.end_for_all()?;
    for p in [&host, &ola] {
        p.wait_for_msg("meeting ended", closed_with(CloseReason::MeetingEnded))
            .await?;
        p.wait_for("session over", |e| matches!(e, Event::Ended))
            .await?;
    }
    Ok(())
}

#[tokio::test]
async fn mute_is_forced_but_unmute_is_only_asked() -> Result<()> {
    let Hosted {
        server,
        meeting: m,
        host,
        ..
    } = Hosted::start(meeting("Stille", false)).await?;
    let ola = Participant::join(&server, &m, "Ola", None).await?;
    let ola_id = ola.me();
    ola.handle.send(ClientMessage::SetMedia {
        audio_muted: false,
        video_on: false,
    })?;
    host.wait_view("Ola unmuted", |v| {
        v.participants.get(&ola_id).is_some_and(|p| !p.audio_muted)
    })
    .await?;

    host.handle.mute_all()?;
    ola.wait_for_msg("muted by host", |m| {
        matches!(m, ServerMessage::MutedBy { .. })
    })
    .await?;
    host.wait_view("Ola muted", |v| {
        v.participants.get(&ola_id).is_some_and(|p| p.audio_muted)
    })
    .await?;

    host.handle.send(ClientMessage::AskToUnmute {
        participant: ola_id,
    })?;
    ola.wait_for_msg("asked to unmute", |m| {
        matches!(m, ServerMessage::UnmuteRequested { .. })
    })
    .await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        host.view().participants[&ola_id].audio_muted,
        "asking does not unmute"
    );
    Ok(())
}

#[tokio::test]
async fn co_hosts_moderate_but_cannot_do_what_only_the_host_may() -> Result<()> {
    let Hosted {
        server,
        meeting: m,
        host,
        ..
    } = Hosted::start(meeting("Medvert", false)).await?;
    let ola = Participant::join(&server, &m, "Ola", None).await?;
    let per = Participant::join(&server, &m, "Per", None).await?;

    host.handle.send(ClientMessage::SetRole {
        participant: ola.me(),
        role: Role::CoHost,
    })?;
    ola.wait_view("co-host", |v| v.role == Some(Role::CoHost))
        .await?;
    // Everyone joins muted; Per unmutes so that there is something to mute.
    per.handle.send(ClientMessage::SetMedia {
        audio_muted: false,
        video_on: false,
    })?;
    let per_id = per.me();
    ola.wait_view("Per unmuted", |v| {
        v.participants.get(&per_id).is_some_and(|p| !p.audio_muted)
    })
    .await?;
    ola.handle.mute(per.me())?;
    per.wait_for_msg("muted by co-host", |m| {
        matches!(m, ServerMessage::MutedBy { .. })
    })
    .await?;
    ola.handle.end_for_all()?;
    ola.wait_until("refused", || ola.errors().contains(&ErrorCode::NotAllowed))
        .await?;
    ola.handle.remove(host.me())?;
    ola.wait_until("refused twice", || ola.errors().len() == 2)
        .await?;
    assert!(host.view().participants.contains_key(&host.me()));

    host.handle.send(ClientMessage::HandOverHost {
        participant: per.me(),
    })?;
    per.wait_view("host", |v| v.role == Some(Role::Host))
        .await?;
    host.wait_view("co-host after handing over", |v| {
        v.role == Some(Role::CoHost)
    })
    .await?;
    Ok(())
}

fn engine_code(err: &anyhow::Error) -> Option<ErrorCode> {
    err.downcast_ref::<samla_engine::EngineError>()
        .and_then(|e| e.code())
}

/// A lecture scheduled with its rules starts with them, in a real server over real
/// sockets: newcomers are told they come in muted and that only hosts may share, and the
/// host can still change that in the meeting.
#[tokio::test]
async fn a_lecture_scheduled_with_its_rules_starts_with_them() -> Result<()> {
    let server = TestServer::start().await?;
    let token = server.token("kari@uio.no")?;
    let m = server
        .create_meeting(
            &token,
            &NewMeeting {
                mute_on_entry: true,
                share_policy: SharePolicy::HostsOnly,
                ..meeting("Forelesning", false)
            },
        )
        .await?;
    assert!(m.mute_on_entry && m.share_policy == SharePolicy::HostsOnly);

    let host = Participant::join(&server, &m, "Kari", Some(&token)).await?;
    let ola = Participant::join(&server, &m, "Ola", None).await?;
    let rules = ola.view().meeting.expect("joined");
    assert!(rules.mute_on_entry, "{rules:?}");
    assert_eq!(rules.share_policy, SharePolicy::HostsOnly);

    host.handle.send(ClientMessage::SetSharePolicy {
        policy: SharePolicy::Everyone,
    })?;
    ola.wait_view("told that everyone may share now", |v| {
        v.meeting
            .as_ref()
            .is_some_and(|m| m.share_policy == SharePolicy::Everyone)
    })
    .await?;
    Ok(())
}
