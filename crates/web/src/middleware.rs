//! The layers every request passes: request id and tracing, client address, CSRF refusal for
//! cross-origin form posts, security headers, metrics, and rendering of errors in the caller's
//! language. Also `/healthz` and `/metrics`.

use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self as mw, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::auth::{ClientIp, LocaleSlot, anonymous_locale, client_ip};
use crate::error::PendingError;
use crate::state::AppState;

pub fn ops_router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    let body = state.metrics.render(&state.db.pool_stats());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// The largest request body, except import uploads.
pub const MAX_BODY: usize = 25 * 1024 * 1024;

pub fn wrap(app: Router, state: AppState) -> Router {
    let x_request_id = axum::http::HeaderName::from_static("x-request-id");
    app.layer(mw::from_fn_with_state(state.clone(), finish))
        .layer(mw::from_fn_with_state(state.clone(), record_metrics))
        .layer(tower_http::csrf::CsrfLayer::new())
        .layer(mw::from_fn(security_headers))
        .layer(mw::from_fn_with_state(state, client_address))
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
            tracing::info_span!("request", method = %req.method(), uri = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(x_request_id, MakeRequestUuid))
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
}

async fn client_address(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let ip = client_ip(&parts, state.config.trust_proxy);
    parts.extensions.insert(ClientIp(ip));
    next.run(Request::from_parts(parts, body)).await
}

async fn security_headers(req: Request, next: Next) -> Response {
    let docs = req.uri().path().starts_with("/api/docs");
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    // The API docs page ships its own inline style; everything else is 'self' only.
    let csp = if docs {
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
    } else {
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
         connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'; object-src 'none'"
    };
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    resp
}

async fn record_metrics(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let resp = next.run(req).await;
    state
        .metrics
        .observe(&method, &route, resp.status().as_u16(), start.elapsed());
    resp
}

/// Renders a pending [`crate::AppError`] in the caller's language: JSON for the API, an HTML
/// page (or a redirect to sign-in) for the UI.
async fn finish(req: Request, next: Next) -> Response {
    let is_api = req.uri().path().starts_with("/api/");
    let wants_fragment = req.headers().contains_key("x-guanxi-fragment");
    let fallback = anonymous_locale(req.headers());
    let next_url = req
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let slot = LocaleSlot::default();
    let mut req = req;
    req.extensions_mut().insert(slot.clone());
    let resp = next.run(req).await;
    let Some(PendingError(err)) = resp.extensions().get::<PendingError>().cloned() else {
        return resp;
    };
    let locale = slot.0.get().copied().unwrap_or(fallback);
    let status = resp.status();
    if is_api {
        let mut r = (status, axum::Json(err.to_json(locale))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        return r;
    }
    if matches!(*err, crate::AppError::TotpSetupRequired) {
        return Redirect::to("/me/2fa").into_response();
    }
    if matches!(*err, crate::AppError::Unauthorized) && !wants_fragment {
        let target = format!("/login?next={}", crate::ui::urlencode(&next_url));
        return Redirect::to(&target).into_response();
    }
    let page = crate::ui::pages::ErrorPage::new(locale, status.as_u16(), err.message(locale));
    let html = askama::Template::render(&page).unwrap_or_else(|_| err.message(locale));
    (status, Html(html)).into_response()
}
