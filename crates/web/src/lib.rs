//! Guanxi's HTTP layer: the JSON API under `/api/v1/`, the server-rendered HTML UI, sign-in and
//! sessions, embedded assets, health and metrics. Both the API and the UI are thin shells over
//! [`services`], where every use case authorizes through the policy, validates, writes, and
//! records the audit entry in one transaction.

pub mod api;
pub mod assets;
pub mod auth;
pub mod error;
pub mod jobs;
pub mod metrics;
pub mod middleware;
pub mod pinyin;
pub mod services;
pub mod state;
pub mod ui;

use std::net::SocketAddr;

use axum::Router;

pub use error::AppError;
pub use state::{AppState, WebConfig};

/// The whole application: API, UI, assets, health and metrics, with every middleware.
pub fn router(state: AppState) -> Router {
    let limited = Router::new()
        .merge(api::router())
        .merge(ui::router())
        .merge(assets::router())
        .merge(middleware::ops_router())
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            middleware::MAX_BODY,
        ));
    // Import uploads stream to disk and may be far larger than any other body.
    let uploads = api::imports::router().layer(tower_http::limit::RequestBodyLimitLayer::new(
        api::imports::MAX_IMPORT_BYTES,
    ));
    let app = limited.merge(uploads).with_state(state.clone());
    middleware::wrap(app, state)
}

/// Serves until Ctrl+C / SIGTERM.
pub async fn serve(state: AppState, listener: tokio::net::TcpListener) -> anyhow::Result<()> {
    let app = router(state.clone());
    let housekeeping = tokio::spawn(state::housekeeping(state.clone()));
    let jobs = tokio::spawn(jobs::runner(state));
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    housekeeping.abort();
    jobs.abort();
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
