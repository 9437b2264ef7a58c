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
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            secure_cookies: false,
            trust_proxy: false,
            max_failed_per_ip: 30,
            max_failed_per_account: 5,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<WebConfig>,
    pub metrics: Arc<Metrics>,
}

impl AppState {
    pub fn new(db: Db, config: WebConfig) -> AppState {
        AppState {
            db,
            config: Arc::new(config),
            metrics: Arc::new(Metrics::default()),
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
