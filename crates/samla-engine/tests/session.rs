//! Sessions against a scripted fake server on a local socket: the handshake, refusals,
//! leaving, and resuming after a dropped connection. The real server is tested end to end
//! in the workspace's `tests` crate.

use futures_util::{SinkExt, StreamExt};
use samla_engine::{EngineError, Event, JoinOptions, Session, Status};
use samla_protocol::{
    ChatPolicy, ChatTarget, ClientMessage, CloseReason, ErrorCode, MeetingId, MeetingState,
    ParticipantId, Role, ServerMessage, SharePolicy,
};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use url::Url;

type Ws = WebSocketStream<TcpStream>;

fn meeting_id() -> MeetingId {
    "123456789".parse().unwrap()
}

async fn fake_server() -> (TcpListener, JoinOptions) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
    (listener, JoinOptions::new(server, meeting_id(), "Tester"))
}

async fn accept(listener: &TcpListener) -> Ws {
    let (tcp, _) = listener.accept().await.unwrap();
    tokio_tungstenite::accept_async(tcp).await.unwrap()
}

async fn recv(ws: &mut Ws) -> ClientMessage {
    loop {
        match ws.next().await.expect("client hung up").unwrap() {
            Message::Text(text) => return ClientMessage::decode(&text).unwrap(),
            _ => continue,
        }
    }
}

async fn send(ws: &mut Ws, msg: ServerMessage) {
    ws.send(Message::text(msg.encode())).await.unwrap();
}

/// Answers `hello` with `welcome` and returns the request that follows (join or resume).
async fn greet(ws: &mut Ws) -> ClientMessage {
    assert!(matches!(
        recv(ws).await,
        ClientMessage::Hello { version: 1, .. }
    ));
    send(
        ws,
        ServerMessage::Welcome {
            version: 1,
            server: "fake".into(),
        },
    )
    .await;
    recv(ws).await
}

fn joined(token: &str) -> ServerMessage {
    ServerMessage::Joined {
        you: ParticipantId(2),
        role: Role::Participant,
        resume_token: token.into(),
        meeting: MeetingState {
            id: meeting_id(),
            topic: "Test".into(),
            locked: false,
            waiting_room: false,
            chat_policy: ChatPolicy::Everyone,
            share_policy: SharePolicy::Everyone,
            mute_on_entry: false,
            self_unmute: true,
            spotlight: None,
        },
        participants: vec![],
        waiting: vec![],
        chat: vec![],
    }
}

async fn collect(mut events: mpsc::Receiver<Event>) -> Vec<Event> {
    let mut all = Vec::new();
    while let Some(event) = events.recv().await {
        all.push(event);
    }
    all
}

#[tokio::test]
async fn a_wrong_passcode_is_a_typed_refusal() {
    let (listener, opts) = fake_server().await;
    tokio::spawn(async move {
        let mut ws = accept(&listener).await;
        let join = greet(&mut ws).await;
        assert!(matches!(join, ClientMessage::Join { passcode: Some(ref p), .. } if p == "nope"));
        send(
            &mut ws,
            ServerMessage::error(ErrorCode::WrongPasscode, "wrong passcode"),
        )
        .await;
        let _ = ws.next().await;
    });
    let err = Session::join(JoinOptions {
        passcode: Some("nope".into()),
        ..opts
    })
    .await
    .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::WrongPasscode), "{err}");
}

#[tokio::test]
async fn leaving_ends_the_stream() {
    let (listener, opts) = fake_server().await;
    tokio::spawn(async move {
        let mut ws = accept(&listener).await;
        assert!(matches!(greet(&mut ws).await, ClientMessage::Join { .. }));
        send(&mut ws, joined("t1")).await;
        assert_eq!(recv(&mut ws).await, ClientMessage::Leave);
        send(
            &mut ws,
            ServerMessage::Closed {
                reason: CloseReason::Left,
            },
        )
        .await;
    });
    let (handle, events) = Session::join(opts).await.unwrap();
    assert_eq!(handle.view().status, Status::Joined);
    handle.leave().unwrap();
    let events = collect(events).await;
    assert!(matches!(
        events[0],
        Event::Server(ServerMessage::Welcome { .. })
    ));
    assert!(matches!(
        events[1],
        Event::Server(ServerMessage::Joined { .. })
    ));
    assert_eq!(events.last(), Some(&Event::Ended));
    assert_eq!(handle.view().status, Status::Ended);
    assert!(matches!(handle.leave(), Err(EngineError::SessionEnded)));
}

#[tokio::test]
async fn resumes_after_a_drop_and_sends_what_was_queued() {
    let (listener, opts) = fake_server().await;
    let server = tokio::spawn(async move {
        let mut ws = accept(&listener).await;
        assert!(matches!(greet(&mut ws).await, ClientMessage::Join { .. }));
        send(&mut ws, joined("t1")).await;
        assert!(
            matches!(recv(&mut ws).await, ClientMessage::Chat { text, .. } if text == "before")
        );
        drop(ws); // no `closed`: a dropped connection

        let mut ws = accept(&listener).await;
        let resume = greet(&mut ws).await;
        assert_eq!(
            resume,
            ClientMessage::Resume {
                meeting_id: meeting_id(),
                resume_token: "t1".into()
            }
        );
        send(&mut ws, joined("t2")).await;
        assert!(
            matches!(recv(&mut ws).await, ClientMessage::Chat { text, .. } if text == "during")
        );
        send(
            &mut ws,
            ServerMessage::Closed {
                reason: CloseReason::MeetingEnded,
            },
        )
        .await;
    });
    let (handle, mut events) = Session::join(opts).await.unwrap();
    handle.chat(ChatTarget::Everyone, "before").unwrap();
    let mut seen = Vec::new();
    while let Some(event) = events.recv().await {
        if event == (Event::Reconnecting { attempt: 1 }) {
            handle.chat(ChatTarget::Everyone, "during").unwrap();
        }
        seen.push(event);
    }
    server.await.unwrap();
    let resumed = seen
        .iter()
        .position(|e| *e == Event::Resumed)
        .expect("resumed");
    let reconnecting = seen
        .iter()
        .position(|e| *e == Event::Reconnecting { attempt: 1 })
        .unwrap();
    assert!(reconnecting < resumed);
    assert_eq!(
        &seen[seen.len() - 2..],
        [
            Event::Server(ServerMessage::Closed {
                reason: CloseReason::MeetingEnded
            }),
            Event::Ended
        ]
    );
}

#[tokio::test]
async fn a_refused_resume_fails_the_session() {
    let (listener, opts) = fake_server().await;
    tokio::spawn(async move {
        let mut ws = accept(&listener).await;
        greet(&mut ws).await;
        send(&mut ws, joined("t1")).await;
        drop(ws);
        let mut ws = accept(&listener).await;
        assert!(matches!(greet(&mut ws).await, ClientMessage::Resume { .. }));
        send(
            &mut ws,
            ServerMessage::error(ErrorCode::ResumeFailed, "seat expired"),
        )
        .await;
        let _ = ws.next().await;
    });
    let (handle, events) = Session::join(opts).await.unwrap();
    let events = collect(events).await;
    assert!(
        matches!(events.last(), Some(Event::Failed { message }) if message.contains("seat expired")),
        "{events:?}"
    );
    assert_eq!(handle.view().status, Status::Ended);
}
