//! Bad input from a client gets a clear error, never a crash, and never disturbs the others;
//! wrong passcodes are rate-limited per address and meeting.

use std::time::Duration;

use anyhow::{bail, Result};
use futures_util::{SinkExt, StreamExt};
use samla_e2e::{Hosted, Participant, TestServer};
use samla_protocol::api::NewMeeting;
use samla_protocol::{ChatTarget, ErrorCode, ServerMessage, MAX_MESSAGE_BYTES, PROTOCOL_VERSION};
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn raw(server: &TestServer) -> Result<Ws> {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.addr())).await?;
    Ok(ws)
}

async fn next_msg(ws: &mut Ws) -> Result<ServerMessage> {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await? {
            Some(Ok(Message::Text(t))) => return Ok(ServerMessage::decode(&t)?),
            Some(Ok(Message::Close(_))) | None => bail!("closed"),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.into()),
        }
    }
}

async fn expect_error(ws: &mut Ws, code: ErrorCode) -> Result<()> {
    match next_msg(ws).await? {
        ServerMessage::Error { code: c, .. } if c == code => Ok(()),
        other => bail!("expected {code:?}, got {other:?}"),
    }
}

async fn hello(ws: &mut Ws) -> Result<()> {
    ws.send(Message::text(format!(
        r#"{{"type":"hello","version":{PROTOCOL_VERSION}}}"#
    )))
    .await?;
    assert!(matches!(next_msg(ws).await?, ServerMessage::Welcome { .. }));
    Ok(())
}

#[tokio::test]
async fn garbage_gets_error_replies_and_the_meeting_goes_on() -> Result<()> {
    let Hosted {
        server,
        meeting: m,
        host,
        ..
    } = Hosted::start(NewMeeting {
        topic: "Robust".into(),
        ..Default::default()
    })
    .await?;
    let ola = Participant::join(&server, &m, "Ola", None).await?;

    let mut ws = raw(&server).await?;
    ws.send(Message::text(
        r#"{"type":"chat","to":{"kind":"everyone"},"text":"før hello"}"#,
    ))
    .await?;
    expect_error(&mut ws, ErrorCode::OutOfOrder).await?;
    hello(&mut ws).await?;
    ws.send(Message::text("{not json")).await?;
    expect_error(&mut ws, ErrorCode::Malformed).await?;
    ws.send(Message::text(r#"{"type":"self_destruct"}"#))
        .await?;
    expect_error(&mut ws, ErrorCode::UnknownMessage).await?;
    ws.send(Message::text(r#"{"type":"join","meeting_id":12}"#))
        .await?;
    expect_error(&mut ws, ErrorCode::Malformed).await?;
    ws.send(Message::binary(vec![0u8, 159, 146, 150])).await?;
    expect_error(&mut ws, ErrorCode::Malformed).await?;
    let big = format!(
        r#"{{"type":"chat","to":{{"kind":"everyone"}},"text":"{}"}}"#,
        "x".repeat(MAX_MESSAGE_BYTES + 10)
    );
    ws.send(Message::text(big)).await?;
    expect_error(&mut ws, ErrorCode::MessageTooLarge).await?;

    // Joined, the same garbage still only earns errors.
    ws.send(Message::text(format!(
        r#"{{"type":"join","meeting_id":"{}","display_name":"Rotete"}}"#,
        m.id
    )))
    .await?;
    assert!(matches!(
        next_msg(&mut ws).await?,
        ServerMessage::Joined { .. }
    ));
    ws.send(Message::text(r#"{"type":"chat","to":{"kind":"everyone"}}"#))
        .await?;
    loop {
        // Skip roster events until the error for our frame.
        match next_msg(&mut ws).await? {
            ServerMessage::Error { code, .. } => {
                assert_eq!(code, ErrorCode::Malformed);
                break;
            }
            _ => continue,
        }
    }
    ws.send(Message::text(
        r#"{"type":"chat","to":{"kind":"everyone"},"text":"   "}"#,
    ))
    .await?;

    // The others never noticed.
    host.handle.chat(ChatTarget::Everyone, "alt vel")?;
    ola.wait_view("chat still works", |v| {
        v.chat.iter().any(|m| m.text == "alt vel")
    })
    .await?;
    assert!(ola.errors().is_empty() && host.errors().is_empty());
    assert!(!ola.view().chat.iter().any(|m| m.text.trim().is_empty()));
    let health = reqwest::get(server.base.join("/healthz")?).await?;
    assert!(health.status().is_success());
    Ok(())
}

#[tokio::test]
async fn wrong_versions_and_unknown_meetings_are_refused_clearly() -> Result<()> {
    let server = TestServer::start().await?;
    let mut ws = raw(&server).await?;
    ws.send(Message::text(r#"{"type":"hello","version":999}"#))
        .await?;
    expect_error(&mut ws, ErrorCode::UnsupportedVersion).await?;
    assert!(
        next_msg(&mut ws).await.is_err(),
        "the server closes after a version mismatch"
    );

    let mut ws = raw(&server).await?;
    hello(&mut ws).await?;
    ws.send(Message::text(
        r#"{"type":"join","meeting_id":"1234567890","display_name":"Ola"}"#,
    ))
    .await?;
    expect_error(&mut ws, ErrorCode::MeetingNotFound).await?;
    Ok(())
}

#[tokio::test]
async fn wrong_passcodes_are_rate_limited_per_address_and_meeting() -> Result<()> {
    let server = TestServer::start().await?;
    let token = server.token("kari@uio.no")?;
    let new = NewMeeting {
        topic: "Hemmelig".into(),
        passcode: Some("torsk123".into()),
        ..Default::default()
    };
    let m = server.create_meeting(&token, &new).await?;

    let mut ws = raw(&server).await?;
    hello(&mut ws).await?;
    let join = |pass: &str| {
        Message::text(format!(
            r#"{{"type":"join","meeting_id":"{}","display_name":"Gjetter","passcode":"{pass}"}}"#,
            m.id
        ))
    };
    ws.send(Message::text(format!(
        r#"{{"type":"join","meeting_id":"{}","display_name":"Gjetter"}}"#,
        m.id
    )))
    .await?;
    expect_error(&mut ws, ErrorCode::PasscodeRequired).await?;
    for guess in 0..5 {
        ws.send(join(&format!("feil{guess}"))).await?;
        expect_error(&mut ws, ErrorCode::WrongPasscode).await?;
    }
    // Even the right passcode is refused now, from this address.
    ws.send(join("torsk123")).await?;
    expect_error(&mut ws, ErrorCode::TooManyAttempts).await?;

    let log = server.log();
    assert!(
        !log.contains("torsk123") && !log.contains("feil0"),
        "passcodes never reach the log"
    );
    assert!(!log.contains(&token), "tokens never reach the log");
    Ok(())
}

#[tokio::test]
async fn the_right_passcode_lets_people_in() -> Result<()> {
    let server = TestServer::start().await?;
    let token = server.token("kari@uio.no")?;
    let new = NewMeeting {
        topic: "Hemmelig".into(),
        passcode: Some("torsk123".into()),
        ..Default::default()
    };
    let m = server.create_meeting(&token, &new).await?;
    let err = Participant::join_with(server.base.clone(), &m, "Ola", None, Some("sei"))
        .await
        .err()
        .unwrap();
    assert_eq!(
        err.downcast_ref::<samla_engine::EngineError>()
            .and_then(|e| e.code()),
        Some(ErrorCode::WrongPasscode)
    );
    let ola =
        Participant::join_with(server.base.clone(), &m, "Ola", None, Some("torsk123")).await?;
    assert_eq!(ola.view().status, samla_engine::Status::Joined);
    Ok(())
}

#[tokio::test]
async fn signed_in_only_meetings_refuse_guests() -> Result<()> {
    let server = TestServer::start().await?;
    let token = server.token("kari@uio.no")?;
    let student = server.token("ola@uio.no")?;
    let new = NewMeeting {
        topic: "Kun UiO".into(),
        signed_in_only: true,
        ..Default::default()
    };
    let m = server.create_meeting(&token, &new).await?;
    let err = Participant::join(&server, &m, "Gjest", None)
        .await
        .err()
        .unwrap();
    assert_eq!(
        err.downcast_ref::<samla_engine::EngineError>()
            .and_then(|e| e.code()),
        Some(ErrorCode::SignInRequired)
    );
    let bad = Participant::join(&server, &m, "Falsk", Some("samla_not_a_token"))
        .await
        .err()
        .unwrap();
    assert_eq!(
        bad.downcast_ref::<samla_engine::EngineError>()
            .and_then(|e| e.code()),
        Some(ErrorCode::InvalidToken)
    );
    let ola = Participant::join(&server, &m, "Ola", Some(&student)).await?;
    assert!(ola.view().participants[&ola.me()].signed_in);
    Ok(())
}
