//! Shared by the store and API tests: fresh databases (a SQLite file in a temporary folder,
//! and a new PostgreSQL database when `SAMLA_TEST_POSTGRES_URL` is set) and an app to send
//! requests to.
#![allow(dead_code)] // each test binary uses a different part

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use samla_server::config::{Config, OrganisationConfig};
use samla_server::meeting::registry::MeetingRegistry;
use samla_server::metrics::Metrics;
use samla_server::state::AppState;
use samla_server::store::Store;
use sqlx::{Connection, Executor};
use tempfile::TempDir;
use tower::ServiceExt;

/// A fresh, migrated database that goes away with the test.
pub struct TestDb {
    pub store: Store,
    pub label: &'static str,
    pub dir: TempDir,
    pub url: String,
    /// Server URL and name of a PostgreSQL database to drop at the end.
    postgres: Option<(String, String)>,
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("samla.db").display()
        );
        let store = Store::connect(&url).await.expect("connect to SQLite");
        TestDb {
            store,
            label: "sqlite",
            dir,
            url,
            postgres: None,
        }
    }

    /// A new database on the server `SAMLA_TEST_POSTGRES_URL` names, if it is set.
    pub async fn postgres() -> Option<TestDb> {
        let server = std::env::var("SAMLA_TEST_POSTGRES_URL")
            .ok()
            .filter(|url| !url.is_empty())?;
        sqlx::any::install_default_drivers();
        let name = format!("samla_test_{}", hex::encode(rand::random::<[u8; 8]>()));
        let mut admin = sqlx::AnyConnection::connect(&server)
            .await
            .expect("connect to SAMLA_TEST_POSTGRES_URL");
        admin
            .execute(&*format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        admin.close().await.unwrap();
        let mut url = url::Url::parse(&server).unwrap();
        url.set_path(&name);
        let url = url.to_string();
        let store = Store::connect(&url)
            .await
            .expect("connect to the new PostgreSQL database");
        Some(TestDb {
            store,
            label: "postgres",
            dir: tempfile::tempdir().unwrap(),
            url,
            postgres: Some((server, name)),
        })
    }

    /// SQLite, and PostgreSQL when configured: store tests run against each.
    pub async fn all() -> Vec<TestDb> {
        let mut dbs = vec![TestDb::sqlite().await];
        dbs.extend(TestDb::postgres().await);
        dbs
    }

    /// Drops the PostgreSQL database (the SQLite folder goes with `dir`).
    pub async fn finish(self) {
        self.store.close().await;
        if let Some((server, name)) = self.postgres {
            let mut admin = sqlx::AnyConnection::connect(&server).await.unwrap();
            admin
                .execute(&*format!("DROP DATABASE {name} WITH (FORCE)"))
                .await
                .unwrap();
        }
    }
}

pub const PUBLIC_URL: &str = "http://samla.test:7700";
pub const ORG_HOST: &str = "uio.samla.test";

/// The whole router over a fresh SQLite database, with a default organisation at
/// `samla.test` and a second one, "UiO", at [`ORG_HOST`].
pub struct TestApp {
    pub router: Router,
    pub db: TestDb,
}

impl TestApp {
    pub async fn new() -> TestApp {
        let db = TestDb::sqlite().await;
        let config = Config {
            listen: "127.0.0.1:7700".parse::<SocketAddr>().unwrap(),
            data_dir: db.dir.path().to_owned(),
            database_url: db.url.clone(),
            public_url: PUBLIC_URL.into(),
            organisations: vec![OrganisationConfig {
                name: "UiO".into(),
                host: ORG_HOST.into(),
                max_video_height: None,
            }],
            media: Default::default(),
        };
        db.store
            .ensure_configured_organisations(&config)
            .await
            .unwrap();
        let metrics = Arc::new(Metrics::default());
        let state = AppState {
            meetings: MeetingRegistry::new(db.store.clone(), metrics.clone()),
            config: Arc::new(config),
            store: db.store.clone(),
            metrics,
        };
        TestApp {
            router: samla_server::http::router(state),
            db,
        }
    }

    /// A new token for a user of the organisation at `host` (default organisation if None).
    pub async fn token(&self, email: &str, host: Option<&str>) -> String {
        let org = match host {
            Some(h) => self
                .db
                .store
                .organisation_by_host(h)
                .await
                .unwrap()
                .unwrap(),
            None => self.db.store.default_organisation().await.unwrap(),
        };
        let user = self
            .db
            .store
            .ensure_user(&org.id, email, email, false)
            .await
            .unwrap();
        let token = samla_server::auth::token::generate();
        self.db
            .store
            .insert_api_token(&user.id, &token)
            .await
            .unwrap();
        token
    }

    /// Sends a request to the default organisation's host.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> (StatusCode, serde_json::Value) {
        self.call_at("samla.test:7700", method, path, token, body)
            .await
    }

    /// Sends a request with the given `Host`; answers status and JSON body (Null if empty).
    pub async fn call_at(
        &self,
        host: &str,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> (StatusCode, serde_json::Value) {
        let (status, bytes) = self.raw(host, method, path, token, body).await;
        let json = if bytes.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&bytes).expect("JSON body")
        };
        (status, json)
    }

    pub async fn raw(
        &self,
        host: &str,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> (StatusCode, Vec<u8>) {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, host);
        if let Some(token) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let req = match body {
            Some(body) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string())),
            None => req.body(Body::empty()),
        }
        .unwrap();
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, bytes.to_vec())
    }
}
