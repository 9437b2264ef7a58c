//! Shared state of the running server.

use std::sync::Arc;
use std::time::Duration;

use guanxi_store::Db;

use crate::metrics::Metrics;

#[derive(Clone, Debug)]
pub struct WebConfig {
    /// Mark cookies `Secure` (served over TLS, or behind a TLS-terminating proxy).
    pub secure_cookies: bool,
    /// Trust `X-Forwarded-For` for the client address (behind a declared proxy).
    pub trust_proxy: bool,
    /// Failed logins from one address within 15 minutes before it is throttled.
    pub max_failed_per_ip: i64,
    /// Failed passwords in a row before an account is locked for 15 minutes.
    pub max_failed_per_account: i32,
    /// Where uploaded import files are kept while their import needs them.
    pub data_dir: std::path::PathBuf,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            secure_cookies: false,
            trust_proxy: false,
            max_failed_per_ip: 30,
            max_failed_per_account: 5,
            data_dir: "guanxi-data".into(),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<WebConfig>,
    pub metrics: Arc<Metrics>,
    /// Wakes the job runner when a job is queued.
    pub jobs: Arc<tokio::sync::Notify>,
    /// Wakes this instance's live notification streams of a user (by user id) when a
    /// notification of theirs was written or read here; other instances' writes are found by
    /// polling.
    pub notifications: tokio::sync::broadcast::Sender<i64>,
}

impl AppState {
    pub fn new(db: Db, config: WebConfig) -> AppState {
        AppState {
            db,
            config: Arc::new(config),
            metrics: Arc::new(Metrics::default()),
            jobs: Arc::new(tokio::sync::Notify::new()),
            notifications: tokio::sync::broadcast::channel(256).0,
        }
    }
}

/// Periodic clean-up while the server runs.
pub async fn housekeeping(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        if let Err(e) = state.db.optimize().await {
            tracing::warn!(error = %e, "updating planner statistics failed");
        }
        match guanxi_store::sessions::purge_expired(&state.db).await {
            Ok(n) if n > 0 => tracing::info!(sessions = n, "purged expired sessions"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "purging sessions failed"),
        }
    }
}
