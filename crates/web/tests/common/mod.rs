//! Test harness: the real application on a fresh database per test, served on a loopback port.
//! SQLite always; PostgreSQL too when `GUANXI_TEST_DATABASE_URL` names a server (each test gets
//! its own database there, dropped at the end).

#![allow(dead_code)]

use std::net::SocketAddr;

use guanxi_store::{Backend, Db};
use guanxi_web::{AppState, WebConfig};
use serde_json::{Value, json};

pub const ADMIN_PASSWORD: &str = "admin-password-1";

pub fn backends() -> Vec<Backend> {
    let mut v = vec![Backend::Sqlite];
    if std::env::var("GUANXI_TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres")) {
        v.push(Backend::Postgres);
    }
    v
}

pub struct TestApp {
    pub base: String,
    pub db: Db,
    pub backend: Backend,
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
    /// The data directory (import uploads).
    _files: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
    jobs: tokio::task::JoinHandle<()>,
}

fn random_suffix() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{}_{}_{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    )
}

static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, WebConfig::default()).await
    }

    pub async fn spawn_with(backend: Backend, mut config: WebConfig) -> TestApp {
        let files = tempfile::tempdir().unwrap();
        config.data_dir = files.path().to_owned();
        let (db, pg_name, dir) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let db = Db::open_sqlite(&dir.path().join("guanxi.db"))
                    .await
                    .unwrap();
                (db, None, Some(dir))
            }
            Backend::Postgres => {
                let admin_url = std::env::var("GUANXI_TEST_DATABASE_URL").unwrap();
                let name = format!("guanxi_test_{}", random_suffix());
                let admin = Db::connect(&admin_url)
                    .await
                    .expect("PostgreSQL test server");
                if let Db::Postgres(p) = &admin {
                    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                        .execute(p)
                        .await
                        .unwrap();
                }
                admin.close().await;
                let url = match admin_url.rfind('/') {
                    Some(i)
                        if admin_url[..i].contains("://")
                            && i > admin_url.find("://").unwrap() + 2 =>
                    {
                        format!("{}/{name}", &admin_url[..i])
                    }
                    _ => format!("{admin_url}/{name}"),
                };
                (Db::connect(&url).await.unwrap(), Some(name), None)
            }
        };
        guanxi_store::migrate::run(&db).await.unwrap();
        guanxi_store::setup::ensure_first_admin(&db, Some(ADMIN_PASSWORD.into()))
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = AppState::new(db.clone(), config);
        let jobs = tokio::spawn(guanxi_web::jobs::runner(state.clone()));
        let app = guanxi_web::router(state);
        let server = tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        TestApp {
            base: format!("http://{addr}"),
            db,
            backend,
            pg_name,
            _dir: dir,
            _files: files,
            server,
            jobs,
        }
    }

    pub async fn finish(self) {
        self.server.abort();
        self.jobs.abort();
        self.db.close().await;
        if let Some(name) = self.pg_name {
            let admin = Db::connect(&std::env::var("GUANXI_TEST_DATABASE_URL").unwrap())
                .await
                .unwrap();
            if let Db::Postgres(p) = &admin {
                let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(p)
                .await;
            }
            admin.close().await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A client that keeps cookies (a browser session).
    pub fn browser_client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// Signs in through the login form and returns a browser session (cookies kept, redirects
    /// not followed) of that user.
    pub async fn web_login(&self, username: &str, password: &str) -> reqwest::Client {
        let web = self.browser_client();
        let r = web
            .post(self.url("/login"))
            .form(&[("username", username), ("password", password)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "login {username}");
        web
    }

    /// Logs in through the API and returns a client for that user.
    pub async fn api(&self, username: &str, password: &str) -> Api {
        let r = reqwest::Client::new()
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({ "username": username, "password": password }))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            200,
            "login {username}: {}",
            r.text().await.unwrap()
        );
        let token = r.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned();
        Api {
            base: self.base.clone(),
            token,
            client: reqwest::Client::new(),
        }
    }

    pub async fn admin(&self) -> Api {
        self.api("admin", ADMIN_PASSWORD).await
    }
}

pub struct Api {
    pub base: String,
    pub token: String,
    pub client: reqwest::Client,
}

impl Api {
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .client
            .request(m, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        let v = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, v)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.call("GET", path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call("POST", path, Some(body)).await
    }

    pub async fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (s, v) = self.call(method, path, body).await;
        assert!((200..300).contains(&s), "{method} {path} → {s}: {v}");
        v
    }

    pub async fn role_id(&self, code: &str) -> i64 {
        let roles = self.ok("GET", "/api/v1/roles", None).await;
        roles
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["code"] == code)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    }

    pub async fn department(&self, name: &str, parent: Option<i64>) -> i64 {
        self.ok(
            "POST",
            "/api/v1/departments",
            Some(json!({ "name": name, "parent_id": parent })),
        )
        .await["id"]
            .as_i64()
            .unwrap()
    }

    pub async fn user(&self, username: &str, department: Option<i64>, roles: &[i64]) -> i64 {
        self.ok(
            "POST",
            "/api/v1/users",
            Some(
                json!({ "username": username, "display_name": username, "department_id": department,
                         "password": "password-123", "role_ids": roles }),
            ),
        )
        .await["id"]
            .as_i64()
            .unwrap()
    }
}
