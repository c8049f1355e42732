//! Chat as users see it: to everyone, privately, to the hosts; the host's chat policy; and
//! history replayed to people who join late — including after a server restart.

use anyhow::Result;
use samla_e2e::{Hosted, Participant, TestServer};
use samla_protocol::api::NewMeeting;
use samla_protocol::{ChatPolicy, ChatTarget, ClientMessage, ErrorCode, ServerMessage};

fn texts(p: &Participant) -> Vec<String> {
    p.view().chat.iter().map(|m| m.text.clone()).collect()
}

fn received(p: &Participant, text: &str) -> bool {
    p.server_messages()
        .iter()
        .any(|m| matches!(m, ServerMessage::Chat { message } if message.text == text))
}

#[tokio::test]
async fn a_private_message_reaches_only_its_two_people() -> Result<()> {
    let Hosted {
        server,
        meeting: m,
        host,
        ..
    } = Hosted::start(NewMeeting {
        topic: "Chat".into(),
        ..Default::default()
    })
    .await?;
    let ola = Participant::join(&server, &m, "Ola", None).await?;
    let per = Participant::join(&server, &m, "Per", None).await?;
    let eve = Participant::join(&server, &m, "Eve", None).await?;
    for p in [&host, &ola, &per, &eve] {
        p.wait_view("all four", |v| v.participants.len() == 4)
            .await?;
    }

    ola.handle
        .chat(ChatTarget::Participant { id: per.me() }, "hemmelig")?;
    ola.handle.chat(ChatTarget::Hosts, "til lærer")?;
    ola.handle.chat(ChatTarget::Everyone, "hei alle")?;
    for p in [&host, &ola, &per, &eve] {
        p.wait_view("public message", |v| {
            v.chat.iter().any(|m| m.text == "hei alle")
        })
        .await?;
    }
    assert!(received(&per, "hemmelig") && received(&ola, "hemmelig"));
    assert!(
        !received(&host, "hemmelig") && !received(&eve, "hemmelig"),
        "private stays private"
    );
    assert!(received(&host, "til lærer") && received(&ola, "til lærer"));
    assert!(
        !received(&per, "til lærer") && !received(&eve, "til lærer"),
        "hosts-only stays with hosts"
    );

    // A late joiner gets the public history only.
    let late = Participant::join(&server, &m, "Sen", None).await?;
    assert_eq!(texts(&late), ["hei alle"]);
    Ok(())
}

#[tokio::test]
async fn hosts_can_restrict_and_turn_off_chat() -> Result<()> {
    let Hosted {
        server,
        meeting: m,
        host,
        ..
    } = Hosted::start(NewMeeting {
        topic: "Ro".into(),
        ..Default::default()
    })
    .await?;
    let ola = Participant::join(&server, &m, "Ola", None).await?;
    let per = Participant::join(&server, &m, "Per", None).await?;

    host.handle.send(ClientMessage::SetChatPolicy {
        policy: ChatPolicy::HostsOnly,
    })?;
    ola.wait_view("policy seen", |v| {
        v.meeting
            .as_ref()
            .is_some_and(|m| m.chat_policy == ChatPolicy::HostsOnly)
    })
    .await?;
    ola.handle.chat(ChatTarget::Everyone, "alle?")?;
    ola.wait_until("refused", || {
        ola.errors().contains(&ErrorCode::ChatNotAllowed)
    })
    .await?;
    ola.handle.chat(ChatTarget::Hosts, "spørsmål")?;
    host.wait_view("question reached the host", |v| {
        v.chat.iter().any(|m| m.text == "spørsmål")
    })
    .await?;

    host.handle.send(ClientMessage::SetChatPolicy {
        policy: ChatPolicy::Off,
    })?;
    ola.wait_view("chat off", |v| {
        v.meeting
            .as_ref()
            .is_some_and(|m| m.chat_policy == ChatPolicy::Off)
    })
    .await?;
    ola.handle.chat(ChatTarget::Hosts, "nå da?")?;
    ola.wait_until("refused again", || ola.errors().len() == 2)
        .await?;
    host.handle.chat(ChatTarget::Everyone, "Pause til 10:15")?;
    per.wait_view("hosts still speak", |v| {
        v.chat.iter().any(|m| m.text == "Pause til 10:15")
    })
    .await?;
    assert!(!texts(&per).iter().any(|t| t == "alle?" || t == "nå da?"));
    Ok(())
}

#[tokio::test]
async fn scheduled_meetings_and_chat_history_survive_a_restart() -> Result<()> {
    let mut server = TestServer::start().await?;
    let token = server.token("kari@uio.no")?;
    let new = NewMeeting {
        topic: "Forelesning uke 49".into(),
        start_time: Some("2026-12-01T08:15:00Z".into()),
        duration_minutes: Some(90),
        waiting_room: false,
        ..Default::default()
    };
    let m = server.create_meeting(&token, &new).await?;
    let said = {
        let host = Participant::join(&server, &m, "Kari", Some(&token)).await?;
        let ola = Participant::join(&server, &m, "Ola", None).await?;
        host.handle.chat(ChatTarget::Everyone, "Husk oblig 3")?;
        ola.handle.chat(ChatTarget::Everyone, "Takk!")?;
        host.wait_view("both messages", |v| v.chat.len() == 2)
            .await?;
        // The history is written by the meeting's writer task; give it its turn before the kill.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        texts(&host)
    };
    server.restart().await?;

    let resp = reqwest::Client::new()
        .get(server.base.join("/api/v1/meetings")?)
        .bearer_auth(&token)
        .send()
        .await?;
    let list: Vec<samla_protocol::api::Meeting> = resp.json().await?;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].topic, "Forelesning uke 49");
    assert_eq!(list[0].start_time.as_deref(), Some("2026-12-01T08:15:00Z"));
    assert_eq!(list[0].duration_minutes, Some(90));

    let late = Participant::join(&server, &m, "Per", None).await?;
    assert_eq!(said.len(), 2);
    assert_eq!(texts(&late), said, "the same messages in the same order");
    // Participant ids are never reused, so old private messages cannot reach a newcomer.
    assert!(
        late.me().0 > 2,
        "new seat {:?} after two earlier ones",
        late.me()
    );
    Ok(())
}
