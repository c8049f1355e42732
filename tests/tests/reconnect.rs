//! A participant whose network drops keeps its seat and role if it is back within 60 s,
//! without passing the waiting room again; after that the seat is gone.

use std::time::Duration;

use anyhow::Result;
use samla_e2e::{Participant, Relay, TestServer};
use samla_engine::{Event, Status};
use samla_protocol::api::NewMeeting;
use samla_protocol::{ChatTarget, LeaveReason, Role, ServerMessage, RESUME_GRACE_SECS};

#[tokio::test]
async fn a_drop_within_the_grace_period_keeps_seat_and_role() -> Result<()> {
    let server = TestServer::start().await?;
    let relay = Relay::start(server.addr()).await?;
    let token = server.token("kari@uio.no")?;
    let m = server
        .create_meeting(
            &token,
            &NewMeeting {
                topic: "Nett".into(),
                waiting_room: true,
                ..Default::default()
            },
        )
        .await?;
    let host = Participant::join(&server, &m, "Kari", Some(&token)).await?;
    let ola = Participant::join_with(relay.url(), &m, "Ola", None, None).await?;
    host.wait_view("Ola waiting", |v| v.waiting.len() == 1)
        .await?;
    host.handle.admit_all()?;
    ola.wait_view("admitted", |v| v.status == Status::Joined)
        .await?;
    host.handle.send(samla_protocol::ClientMessage::SetRole {
        participant: ola.me(),
        role: Role::CoHost,
    })?;
    ola.wait_view("co-host", |v| v.role == Some(Role::CoHost))
        .await?;
    let seat = ola.me();

    relay.cut();
    host.wait_view("Ola shown as disconnected", |v| {
        v.participants.get(&seat).is_some_and(|p| !p.connected)
    })
    .await?;
    ola.wait_for("reconnecting", |e| matches!(e, Event::Reconnecting { .. }))
        .await?;
    // Sent while the network is down: delivered after the resume.
    ola.handle.chat(ChatTarget::Everyone, "er tilbake")?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    relay.restore();

    ola.wait_for("resumed", |e| matches!(e, Event::Resumed))
        .await?;
    assert_eq!(ola.me(), seat, "same seat");
    assert_eq!(ola.view().role, Some(Role::CoHost), "same role");
    assert_eq!(
        ola.view().status,
        Status::Joined,
        "no second pass through the waiting room"
    );
    host.wait_view("Ola connected again", |v| {
        v.participants.get(&seat).is_some_and(|p| p.connected)
    })
    .await?;
    host.wait_view("queued chat arrived", |v| {
        v.chat.iter().any(|m| m.text == "er tilbake")
    })
    .await?;
    assert!(host.view().waiting.is_empty());
    Ok(())
}

#[tokio::test]
async fn after_the_grace_period_the_seat_is_gone() -> Result<()> {
    let server = TestServer::start().await?;
    let relay = Relay::start(server.addr()).await?;
    let token = server.token("kari@uio.no")?;
    let m = server
        .create_meeting(
            &token,
            &NewMeeting {
                topic: "Borte".into(),
                ..Default::default()
            },
        )
        .await?;
    let host = Participant::join(&server, &m, "Kari", Some(&token)).await?;
    let ola = Participant::join_with(relay.url(), &m, "Ola", None, None).await?;
    let seat = ola.me();

    relay.cut();
    host.wait_view("Ola disconnected", |v| {
        v.participants.get(&seat).is_some_and(|p| !p.connected)
    })
    .await?;
    tokio::time::sleep(Duration::from_secs(RESUME_GRACE_SECS + 3)).await;
    host.wait_for_msg("Ola timed out", |m| {
        matches!(m, ServerMessage::ParticipantLeft { participant, reason: LeaveReason::TimedOut } if *participant == seat)
    })
    .await?;
    relay.restore();
    ola.wait_for("the session gives up", |e| {
        matches!(e, Event::Failed { .. })
    })
    .await?;
    assert!(!host.view().participants.contains_key(&seat));
    Ok(())
}
