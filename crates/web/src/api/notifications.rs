//! The signed-in user's notifications (站内消息): list, unread count, mark read, and the live
//! Server-Sent Events feed the bell listens to.

use std::convert::Infallible;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::{get, post};
use futures_util::{Stream, StreamExt};
use serde::{Deserialize, Serialize};

use super::Id;
use crate::auth::Auth;
use crate::error::AppResult;
use crate::services::notifications::{self as service, Live, Shown};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/notifications", get(list))
        .route("/api/v1/notifications/unread-count", get(unread_count))
        .route("/api/v1/notifications/read-all", post(read_all))
        .route("/api/v1/notifications/stream", get(stream))
        .route("/api/v1/notifications/{id}/read", post(read))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct Page {
    /// Only notifications older than this id (the `next` of the previous page).
    before: Option<i64>,
    /// At most this many (1–100, default 20).
    limit: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct NotificationPage {
    /// Newest first.
    pub items: Vec<Shown>,
    /// The `before` of the next page, when there may be one.
    pub next: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UnreadCount {
    pub unread: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Marked {
    /// How many notifications were unread.
    pub marked: u64,
}

#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", params(Page),
    responses((status = 200, body = NotificationPage)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(p): Query<Page>,
) -> AppResult<axum::Json<NotificationPage>> {
    let limit = p.limit.unwrap_or(20).clamp(1, 100);
    let items = service::list(&state, &auth, p.before, limit).await?;
    let next = (items.len() as i64 == limit)
        .then(|| items.last().map(|n| n.id))
        .flatten();
    Ok(axum::Json(NotificationPage { items, next }))
}

#[utoipa::path(get, path = "/api/v1/notifications/unread-count", tag = "notifications",
    responses((status = 200, body = UnreadCount)))]
pub async fn unread_count(
    State(state): State<AppState>,
    auth: Auth,
) -> AppResult<axum::Json<UnreadCount>> {
    Ok(axum::Json(UnreadCount {
        unread: service::unread_count(&state, &auth).await?,
    }))
}

#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "notifications",
    params(("id" = i64, Path)), responses((status = 204), (status = 404)))]
pub async fn read(State(state): State<AppState>, auth: Auth, Id(id): Id) -> AppResult<StatusCode> {
    service::mark_read(&state, &auth, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/notifications/read-all", tag = "notifications",
    responses((status = 200, body = Marked)))]
pub async fn read_all(State(state): State<AppState>, auth: Auth) -> AppResult<axum::Json<Marked>> {
    Ok(axum::Json(Marked {
        marked: service::mark_all_read(&state, &auth).await?,
    }))
}

/// Server-Sent Events: `event: unread` (data: the count) on opening and whenever it changes,
/// `event: notification` (data: a `Shown` as JSON) for each new notification. Ends when the
/// session ends.
#[utoipa::path(get, path = "/api/v1/notifications/stream", tag = "notifications",
    responses((status = 200, content_type = "text/event-stream", body = String)))]
pub async fn stream(
    State(state): State<AppState>,
    auth: Auth,
) -> AppResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let feed = service::live(&state, &auth).await?.map(|e| {
        Ok(match e {
            Live::Unread(n) => Event::default().event("unread").data(n.to_string()),
            Live::Notification(n) => Event::default()
                .event("notification")
                .json_data(&n)
                .unwrap_or_else(|_| Event::default().comment("unserializable")),
        })
    });
    Ok(Sse::new(feed).keep_alive(KeepAlive::default()))
}
