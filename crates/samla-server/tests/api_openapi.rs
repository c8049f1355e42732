//! Keeps the OpenAPI document true to the server: the routes it lists are exactly the ones
//! answered under `/api/v1`, every status a real call returns is documented for it, and real
//! responses have exactly the documented shapes.

mod common;

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use common::TestApp;
use serde_json::{json, Value};

const METHODS: [Method; 5] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];

async fn document(app: &TestApp) -> Value {
    let (status, doc) = app
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    doc
}

/// The named component schema.
fn schema<'a>(doc: &'a Value, name: &str) -> &'a Value {
    let s = &doc["components"]["schemas"][name];
    assert!(s.is_object(), "no schema {name}");
    s
}

/// Whether a JSON value has one of the types a schema property allows.
fn type_matches(property: &Value, value: &Value) -> bool {
    let allowed: Vec<&str> = match &property["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return true, // a $ref or composition: not checked here
    };
    let actual = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    allowed.contains(&actual) || (actual == "integer" && allowed.contains(&"number"))
}

/// A real response body has exactly the documented schema: every documented property,
/// nothing else, all required ones, each of its documented type.
fn assert_shape(doc: &Value, name: &str, value: &Value) {
    let schema = schema(doc, name);
    let keys: BTreeSet<&str> = value
        .as_object()
        .unwrap_or_else(|| panic!("{name}: not an object: {value}"))
        .keys()
        .map(String::as_str)
        .collect();
    let properties: BTreeSet<&str> = schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let required: BTreeSet<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        keys, properties,
        "{name}: response keys vs documented properties"
    );
    assert_eq!(
        required, keys,
        "{name}: documented required properties vs response keys"
    );
    for (key, v) in value.as_object().unwrap() {
        assert!(
            type_matches(&schema["properties"][key], v),
            "{name}.{key}: {v} is not {}",
            schema["properties"][key]
        );
    }
}

/// The documented response for this status of this operation.
fn documented_response<'a>(
    doc: &'a Value,
    path: &str,
    method: &Method,
    status: StatusCode,
) -> &'a Value {
    let op = &doc["paths"][path][method.as_str().to_lowercase()];
    let response = &op["responses"][status.as_str()];
    assert!(
        response.is_object(),
        "{method} {path} answered {status}, which is not documented"
    );
    response
}

/// Whether the server has a route for this method and path (as opposed to a 405, the API's
/// "unknown route" fallback, or the router's bare 404).
async fn answered(app: &TestApp, token: &str, method: &Method, path: &str) -> bool {
    let body = matches!(*method, Method::POST | Method::PUT | Method::PATCH)
        .then(|| json!({"topic": "Probe"}));
    let (status, reply) = app.call(method.clone(), path, Some(token), body).await;
    let bare_404 = status == StatusCode::NOT_FOUND && reply.is_null();
    status != StatusCode::METHOD_NOT_ALLOWED && reply["error"] != "unknown_route" && !bare_404
}

#[tokio::test]
async fn documented_routes_are_exactly_the_served_routes() {
    let app = TestApp::new().await;
    let token = app.token("ada@example.org", None).await;
    let doc = document(&app).await;
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );

    let (_, meeting) = app
        .call(
            Method::POST,
            "/api/v1/meetings",
            Some(&token),
            Some(json!({"topic": "Probe"})),
        )
        .await;
    let id = meeting["id"].as_str().unwrap();
    let paths: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert!(paths.iter().all(|p| p.starts_with("/api/v1/")), "{paths:?}");

    let mut documented = BTreeSet::new();
    let mut served = BTreeSet::new();
    for path in &paths {
        for method in doc["paths"][path].as_object().unwrap().keys() {
            documented.insert(format!("{} {path}", method.to_uppercase()));
        }
        let real_path = path.replace("{id}", id);
        // DELETE last, so that the other methods still find the meeting.
        for method in METHODS.iter().rev() {
            if answered(&app, &token, method, &real_path).await {
                served.insert(format!("{method} {path}"));
            }
        }
    }
    assert_eq!(documented, served);

    // Paths that are not documented are not served either.
    for path in [
        "/api/v1",
        "/api/v1/",
        "/api/v1/users",
        "/api/v1/organisations",
        &format!("/api/v1/meetings/{id}/chat"),
        "/api/v1/meetings/",
    ] {
        for method in &METHODS {
            assert!(
                !answered(&app, &token, method, path).await,
                "{method} {path} is served but not documented"
            );
        }
    }
}

#[tokio::test]
async fn real_responses_have_the_documented_shapes() {
    let app = TestApp::new().await;
    let token = app.token("ada@example.org", None).await;
    let t = Some(token.as_str());
    let doc = document(&app).await;
    let meetings = "/api/v1/meetings";
    let one = "/api/v1/meetings/{id}";

    let (status, me) = app.call(Method::GET, "/api/v1/me", t, None).await;
    documented_response(&doc, "/api/v1/me", &Method::GET, status);
    assert_shape(&doc, "Me", &me);

    for body in [
        json!({"topic": "Full", "passcode": "1234", "waiting_room": true, "signed_in_only": true, "start_time": "2026-12-01T08:15:00Z", "duration_minutes": 60}),
        json!({"topic": "Bare"}),
    ] {
        let (status, created) = app.call(Method::POST, meetings, t, Some(body)).await;
        assert_eq!(status, StatusCode::CREATED);
        documented_response(&doc, meetings, &Method::POST, status);
        assert_shape(&doc, "Meeting", &created);
        let path = format!("{meetings}/{}", created["id"].as_str().unwrap());

        let (status, fetched) = app.call(Method::GET, &path, t, None).await;
        documented_response(&doc, one, &Method::GET, status);
        assert_shape(&doc, "Meeting", &fetched);

        let (status, patched) = app
            .call(
                Method::PATCH,
                &path,
                t,
                Some(json!({"duration_minutes": 15})),
            )
            .await;
        documented_response(&doc, one, &Method::PATCH, status);
        assert_shape(&doc, "Meeting", &patched);
    }

    let (status, list) = app.call(Method::GET, meetings, t, None).await;
    let response = documented_response(&doc, meetings, &Method::GET, status);
    assert_eq!(
        response["content"]["application/json"]["schema"]["type"],
        "array"
    );
    assert_eq!(list.as_array().unwrap().len(), 2);
    for m in list.as_array().unwrap() {
        assert_shape(&doc, "Meeting", m);
    }

    let path = format!("{meetings}/{}", list[0]["id"].as_str().unwrap());
    let (status, body) = app.call(Method::DELETE, &path, t, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(documented_response(&doc, one, &Method::DELETE, status)
        .get("content")
        .is_none());
    assert_eq!(body, Value::Null);

    // Every error is an ApiError, under a documented status.
    let errors = [
        (Method::GET, path.clone(), t, None),
        (
            Method::PATCH,
            path.clone(),
            t,
            Some(json!({"topic": "gone"})),
        ),
        (Method::DELETE, path.clone(), t, None),
        (
            Method::POST,
            meetings.to_owned(),
            t,
            Some(json!({"topic": ""})),
        ),
        (Method::GET, meetings.to_owned(), None, None),
        (
            Method::GET,
            "/api/v1/me".to_owned(),
            Some("samla_unknown"),
            None,
        ),
    ];
    for (method, real_path, token, body) in errors {
        let (status, error) = app.call(method.clone(), &real_path, token, body).await;
        let documented_path = if real_path.starts_with(&format!("{meetings}/")) {
            one
        } else {
            real_path.as_str()
        };
        documented_response(&doc, documented_path, &method, status);
        assert_shape(&doc, "ApiError", &error);
    }
}
