//! The REST API through the whole router: authentication, organisations by host name,
//! meeting CRUD and validation.

mod common;

use axum::http::{Method, StatusCode};
use common::{TestApp, ORG_HOST};
use serde_json::json;

#[tokio::test]
async fn requests_without_a_valid_token_are_401() {
    let app = TestApp::new().await;
    for (method, path) in [
        (Method::GET, "/api/v1/me"),
        (Method::GET, "/api/v1/meetings"),
        (Method::POST, "/api/v1/meetings"),
    ] {
        let (status, body) = app
            .call(method.clone(), path, None, Some(json!({"topic": "x"})))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}");
        assert_eq!(body["error"], "unauthorized");
        let (status, _) = app
            .call(
                method.clone(),
                path,
                Some("samla_wrong"),
                Some(json!({"topic": "x"})),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{method} {path} with an unknown token"
        );
    }
}

#[tokio::test]
async fn me_and_organisations_by_host() {
    let app = TestApp::new().await;
    let default_token = app.token("ada@example.org", None).await;
    let uio_token = app.token("bob@uio.no", Some(ORG_HOST)).await;

    let (status, me) = app
        .call(Method::GET, "/api/v1/me", Some(&default_token), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            me["email"].as_str(),
            me["organisation"].as_str(),
            me["admin"].as_bool()
        ),
        (Some("ada@example.org"), Some("Samla"), Some(false))
    );

    // The organisation follows the Host header, with any port and case.
    let (status, me) = app
        .call_at(
            "UIO.samla.test:7700",
            Method::GET,
            "/api/v1/me",
            Some(&uio_token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["organisation"], "UiO");
    // A token only works on its own organisation's host; unknown hosts are the default one.
    let (status, body) = app
        .call(Method::GET, "/api/v1/me", Some(&uio_token), None)
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    let (status, _) = app
        .call_at(
            ORG_HOST,
            Method::GET,
            "/api/v1/me",
            Some(&default_token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, me) = app
        .call_at(
            "localhost:7700",
            Method::GET,
            "/api/v1/me",
            Some(&default_token),
            None,
        )
        .await;
    assert_eq!(
        (status, me["organisation"].as_str()),
        (StatusCode::OK, Some("Samla"))
    );
}

#[tokio::test]
async fn meeting_crud_round_trip() {
    let app = TestApp::new().await;
    let token = app.token("ada@example.org", None).await;
    let t = Some(token.as_str());

    let (status, created) = app
        .call(
            Method::POST,
            "/api/v1/meetings",
            t,
            Some(json!({
                "topic": "  Weekly sync ", "passcode": "s3cret", "waiting_room": true,
                "start_time": "2026-12-01T08:15:00Z", "duration_minutes": 45,
                "mute_on_entry": true
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 10);
    assert_eq!(created["topic"], "Weekly sync");
    assert_eq!(created["has_passcode"], true);
    assert_eq!(created["waiting_room"], true);
    assert_eq!(created["signed_in_only"], false);
    assert_eq!(created["start_time"], "2026-12-01T08:15:00Z");
    assert_eq!(created["duration_minutes"], 45);
    // The rules it starts with: as asked, and the default where not.
    assert_eq!(created["mute_on_entry"], true);
    assert_eq!(created["share_policy"], "everyone");
    assert_eq!(
        created["join_url"],
        format!("http://samla.test:7700/j/{id}")
    );
    assert!(
        created.get("passcode").is_none(),
        "passcodes are never echoed"
    );

    // The passcode is stored as Argon2id and verifies.
    let record = app
        .db
        .store
        .meeting(&id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(samla_server::auth::passcode::verify(
        record.passcode_hash.as_deref().unwrap(),
        "s3cret"
    ));

    let (status, fetched) = app
        .call(Method::GET, &format!("/api/v1/meetings/{id}"), t, None)
        .await;
    assert_eq!((status, &fetched), (StatusCode::OK, &created));

    let (_, instant) = app
        .call(
            Method::POST,
            "/api/v1/meetings",
            t,
            Some(json!({"topic": "Now"})),
        )
        .await;
    assert_eq!(
        (
            instant["start_time"].is_null(),
            instant["has_passcode"].as_bool()
        ),
        (true, Some(false))
    );
    app.call(
        Method::POST,
        "/api/v1/meetings",
        t,
        Some(json!({"topic": "Early", "start_time": "2026-01-01T00:00:00Z"})),
    )
    .await;
    let (status, list) = app.call(Method::GET, "/api/v1/meetings", t, None).await;
    assert_eq!(status, StatusCode::OK);
    let topics: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["topic"].as_str().unwrap())
        .collect();
    assert_eq!(topics, ["Early", "Weekly sync", "Now"]);

    let (status, patched) = app
        .call(Method::PATCH, &format!("/api/v1/meetings/{id}"), t, Some(json!({"topic": "Renamed", "passcode": "", "start_time": "", "signed_in_only": true, "share_policy": "hosts_only"})))
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(
        (patched["topic"].as_str(), patched["has_passcode"].as_bool()),
        (Some("Renamed"), Some(false))
    );
    assert_eq!(
        (
            patched["start_time"].is_null(),
            patched["signed_in_only"].as_bool(),
            patched["duration_minutes"].as_u64()
        ),
        (true, Some(true), Some(45))
    );
    assert_eq!(
        (
            patched["mute_on_entry"].as_bool(),
            patched["share_policy"].as_str()
        ),
        (Some(true), Some("hosts_only")),
        "left out, mute_on_entry stays"
    );
    let (_, fetched) = app
        .call(Method::GET, &format!("/api/v1/meetings/{id}"), t, None)
        .await;
    assert_eq!(fetched, patched);

    let (status, body) = app
        .call(Method::DELETE, &format!("/api/v1/meetings/{id}"), t, None)
        .await;
    assert_eq!(
        (status, body),
        (StatusCode::NO_CONTENT, serde_json::Value::Null)
    );
    let (status, body) = app
        .call(Method::GET, &format!("/api/v1/meetings/{id}"), t, None)
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (status, _) = app
        .call(Method::DELETE, &format!("/api/v1/meetings/{id}"), t, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = app.call(Method::GET, "/api/v1/meetings", t, None).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn other_peoples_meetings_are_not_found() {
    let app = TestApp::new().await;
    let ada = app.token("ada@example.org", None).await;
    let eve = app.token("eve@example.org", None).await;
    let (_, created) = app
        .call(
            Method::POST,
            "/api/v1/meetings",
            Some(&ada),
            Some(json!({"topic": "Private"})),
        )
        .await;
    let path = format!("/api/v1/meetings/{}", created["id"].as_str().unwrap());

    let (status, body) = app.call(Method::GET, &path, Some(&eve), None).await;
    let (missing_status, missing_body) = app
        .call(Method::GET, "/api/v1/meetings/123456789", Some(&eve), None)
        .await;
    assert_eq!(
        (status, &body),
        (missing_status, &missing_body),
        "indistinguishable from a missing meeting"
    );
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .call(
            Method::PATCH,
            &path,
            Some(&eve),
            Some(json!({"topic": "Mine now"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.call(Method::DELETE, &path, Some(&eve), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = app
        .call(Method::GET, "/api/v1/meetings", Some(&eve), None)
        .await;
    assert_eq!(list, json!([]));
    let (status, body) = app.call(Method::GET, &path, Some(&ada), None).await;
    assert_eq!(
        (status, body["topic"].as_str()),
        (StatusCode::OK, Some("Private"))
    );
    let (status, _) = app
        .call(Method::GET, "/api/v1/meetings/not-an-id", Some(&ada), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn invalid_input_is_400() {
    let app = TestApp::new().await;
    let token = app.token("ada@example.org", None).await;
    let t = Some(token.as_str());
    let bad_creates = [
        json!({"topic": ""}),
        json!({"topic": "   "}),
        json!({"topic": "x".repeat(201)}),
        json!({"topic": "ok", "passcode": "123"}),
        json!({"topic": "ok", "passcode": "p".repeat(33)}),
        json!({"topic": "ok", "start_time": "next tuesday"}),
        json!({"topic": "ok", "duration_minutes": 0}),
        json!({"topic": "ok", "duration_minutes": 1441}),
        json!({"topic": "ok", "surprise": true}),
        json!({"no_topic": "ok"}),
        json!("not an object"),
    ];
    for body in bad_creates {
        let (status, reply) = app
            .call(Method::POST, "/api/v1/meetings", t, Some(body.clone()))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {reply}");
        assert_eq!(reply["error"], "invalid_argument", "{body}");
        assert!(!reply["message"].as_str().unwrap().is_empty());
    }
    let (_, created) = app
        .call(
            Method::POST,
            "/api/v1/meetings",
            t,
            Some(json!({"topic": "ok", "duration_minutes": 1440})),
        )
        .await;
    let path = format!("/api/v1/meetings/{}", created["id"].as_str().unwrap());
    for body in [
        json!({"topic": ""}),
        json!({"passcode": "abc"}),
        json!({"duration_minutes": 0}),
        json!({"start_time": "2026-13-01T00:00:00Z"}),
    ] {
        let (status, reply) = app.call(Method::PATCH, &path, t, Some(body.clone())).await;
        assert_eq!(
            (status, reply["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_argument")),
            "{body}"
        );
    }
    let (_, unchanged) = app.call(Method::GET, &path, t, None).await;
    assert_eq!(unchanged, created, "a rejected patch changes nothing");
    let (status, _) = app
        .raw("samla.test", Method::POST, "/api/v1/meetings", t, None)
        .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn tokens_are_stored_only_hashed() {
    let app = TestApp::new().await;
    let token = app.token("ada@example.org", None).await;
    let (status, _) = app
        .call(Method::GET, "/api/v1/me", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    app.db.store.close().await;
    // Every byte the database wrote, WAL included.
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(app.db.dir.path()).unwrap() {
        bytes.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(
        !contains(token.as_bytes()),
        "the raw token is in the database"
    );
    assert!(!contains(&token.as_bytes()["samla_".len()..]));
    assert!(
        contains(samla_server::auth::token::hash(&token).as_bytes()),
        "its hash is"
    );
}

#[tokio::test]
async fn health_metrics_and_join_page() {
    let app = TestApp::new().await;
    let (status, body) = app
        .raw("samla.test", Method::GET, "/healthz", None, None)
        .await;
    assert_eq!(
        (status, body.as_slice()),
        (StatusCode::OK, b"ok".as_slice())
    );
    let (status, body) = app
        .raw("samla.test", Method::GET, "/metrics", None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8(body)
        .unwrap()
        .contains("samla_meetings_live 0"));
    let (status, body) = app
        .raw("samla.test", Method::GET, "/j/1234567890", None, None)
        .await;
    let page = String::from_utf8(body).unwrap();
    // The web UI, told which meeting it is for; or, in a server built without ui/dist, a
    // page that says so and how to join from a terminal.
    assert!(
        page.contains(r#"<meta name="samla-meeting" content="1234567890""#),
        "{page}"
    );
    if samla_server::http::join::ui_built() {
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("/assets/"), "{page}");
    } else {
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(page.contains("samla-cli join 1234567890"), "{page}");
    }
    let (status, _) = app
        .raw("samla.test", Method::GET, "/j/12ab", None, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = app
        .call(Method::GET, "/api/v1/nothing-here", None, None)
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_route"))
    );
}

/// The desktop app's page is not served by the server, so its browser engine asks first
/// (a CORS preflight) before it sends a token to the API; without the server's yes, the app
/// could neither host nor list meetings on a configured server.
#[tokio::test]
async fn the_desktop_apps_page_may_call_the_api_but_not_read_the_web_ui() {
    use axum::body::Body;
    use axum::http::{header, Request};
    use tower::ServiceExt;

    let app = TestApp::new().await;
    let token = app.token("ada@example.org", None).await;
    let origin = "tauri://localhost";
    let send = |req: Request<Body>| app.router.clone().oneshot(req);

    let preflight = send(
        Request::builder()
            .method(Method::OPTIONS)
            .uri("/api/v1/meetings")
            .header(header::HOST, "samla.test:7700")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(
                header::ACCESS_CONTROL_REQUEST_HEADERS,
                "authorization,content-type",
            )
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    let allowed = |res: &axum::response::Response, name| {
        res.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_ascii_lowercase())
    };
    assert_eq!(
        allowed(&preflight, header::ACCESS_CONTROL_ALLOW_ORIGIN).as_deref(),
        Some("*")
    );
    let headers = allowed(&preflight, header::ACCESS_CONTROL_ALLOW_HEADERS).unwrap();
    assert!(
        headers.contains("authorization") && headers.contains("content-type"),
        "{headers}"
    );
    assert!(allowed(&preflight, header::ACCESS_CONTROL_ALLOW_METHODS)
        .unwrap()
        .contains("post"));

    // The request itself: the page may read the answer.
    let listed = send(
        Request::builder()
            .uri("/api/v1/meetings")
            .header(header::HOST, "samla.test:7700")
            .header(header::ORIGIN, origin)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(listed.status(), StatusCode::OK);
    assert_eq!(
        allowed(&listed, header::ACCESS_CONTROL_ALLOW_ORIGIN).as_deref(),
        Some("*")
    );
    // An unknown token is refused as from anywhere else, and the page may read why.
    let refused = send(
        Request::builder()
            .uri("/api/v1/me")
            .header(header::HOST, "samla.test:7700")
            .header(header::ORIGIN, origin)
            .header(header::AUTHORIZATION, "Bearer samla_wrong")
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(allowed(&refused, header::ACCESS_CONTROL_ALLOW_ORIGIN).is_some());

    // The web UI's pages are not for other origins to read.
    let page = send(
        Request::builder()
            .uri("/j/1234567890")
            .header(header::HOST, "samla.test:7700")
            .header(header::ORIGIN, origin)
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    assert!(allowed(&page, header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
}

/// The owner's attendance report, from the attendance log in the real database: one line per
/// person, members with their e-mail, as JSON and as CSV; nobody else's to read.
#[tokio::test]
async fn the_owner_reads_who_attended_as_json_and_csv() {
    use axum::http::header;
    use samla_protocol::{LeaveReason, MeetingId, ParticipantId};
    use samla_server::meeting::{AttendanceEvent, AttendanceRecord};
    use tower::ServiceExt;

    let app = TestApp::new().await;
    let kari = app.token("kari@example.org", None).await;
    let eve = app.token("eve@example.org", None).await;
    let (_, me) = app.call(Method::GET, "/api/v1/me", Some(&kari), None).await;
    let (_, created) = app
        .call(
            Method::POST,
            "/api/v1/meetings",
            Some(&kari),
            Some(json!({"topic": "Seminar"})),
        )
        .await;
    let id: MeetingId = created["id"].as_str().unwrap().parse().unwrap();
    let t0 = 1_764_576_900_000_i64; // 2025-12-01T08:15:00Z
    let log = [
        (1, "Kari", true, AttendanceEvent::Joined, 0),
        (
            2,
            "Nordmann, Ola",
            false,
            AttendanceEvent::EnteredWaitingRoom,
            1,
        ),
        (3, "=cmd", false, AttendanceEvent::EnteredWaitingRoom, 1),
        (2, "Nordmann, Ola", false, AttendanceEvent::Joined, 2),
        (3, "=cmd", false, AttendanceEvent::Denied, 3),
        (
            2,
            "Nordmann, Ola",
            false,
            AttendanceEvent::Left(LeaveReason::Left),
            47,
        ),
        (1, "Kari", true, AttendanceEvent::MeetingEnded, 90),
    ];
    for (participant, name, member, event, minute) in log {
        let record = AttendanceRecord {
            participant: ParticipantId(participant),
            display_name: name.into(),
            user_id: member.then(|| me["id"].as_str().unwrap().to_owned()),
            event,
            at_ms: t0 + minute * 60_000,
        };
        app.db.store.insert_attendance(&id, &record).await.unwrap();
    }
    let path = format!("/api/v1/meetings/{}/attendance", id.as_str());

    let (status, body) = app.call(Method::GET, &path, Some(&kari), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!([
            {"name": "Kari", "email": "kari@example.org", "first_joined": "2025-12-01T08:15:00Z",
             "last_left": "2025-12-01T09:45:00Z", "minutes": 90, "times_joined": 1},
            {"name": "Nordmann, Ola", "email": null, "first_joined": "2025-12-01T08:17:00Z",
             "last_left": "2025-12-01T09:02:00Z", "minutes": 45, "times_joined": 1},
        ]),
        "the guest who was turned away is not listed"
    );

    let req = axum::http::Request::builder()
        .uri(format!("{path}?format=csv"))
        .header(header::HOST, "samla.test:7700")
        .header(header::AUTHORIZATION, format!("Bearer {kari}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let res = app.router.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()[header::CONTENT_TYPE],
        "text/csv; charset=utf-8"
    );
    assert_eq!(
        res.headers()[header::CONTENT_DISPOSITION],
        format!("attachment; filename=\"attendance-{}.csv\"", id.as_str()).as_str()
    );
    let csv = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    assert_eq!(
        std::str::from_utf8(&csv).unwrap(),
        "\u{feff}name,email,first_joined,last_left,minutes,times_joined\r\n\
         Kari,kari@example.org,2025-12-01T08:15:00Z,2025-12-01T09:45:00Z,90,1\r\n\
         \"Nordmann, Ola\",,2025-12-01T08:17:00Z,2025-12-01T09:02:00Z,45,1\r\n"
    );

    let (status, _) = app
        .call(
            Method::GET,
            &format!("{path}?format=xls"),
            Some(&kari),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = app.call(Method::GET, &path, Some(&eve), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nobody else's to read");
    let (status, _) = app.call(Method::GET, &path, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
