//! The notifications page (站内消息): newest first with keyset pages, unread ones marked, each
//! leading to its record; mark one or all read. Plain forms and links, so it works without
//! JavaScript; the bell in the top bar (see `assets/app.js`) keeps the count live.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Redirect;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::api::Id;
use crate::auth::Auth;
use crate::error::AppResult;
use crate::services::notifications::{self as service, Shown};
use crate::state::AppState;
use crate::ui::pages::local_time;
use crate::ui::{Shell, Tr};

const PAGE: i64 = 30;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/notifications", get(page))
        .route("/notifications/read-all", post(read_all))
        .route("/notifications/{id}/read", post(read))
        .route("/notifications/{id}/open", get(open))
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    before: Option<i64>,
    ok: Option<String>,
}

pub struct Item {
    pub id: i64,
    pub text: String,
    /// Opening marks it read, then goes to its record.
    pub href: Option<String>,
    pub unread: bool,
    /// "3 天前"; the exact time is in `at`.
    pub ago: String,
    pub at: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "notifications.html")]
pub struct NotificationsPage {
    shell: Shell,
    items: Vec<Item>,
    /// The link to older notifications, when there may be some.
    more: Option<String>,
    /// Whether this is a later page (a link back to the newest is offered).
    later_page: bool,
}

/// How long ago `t` was, in words: "刚刚", "5 分钟前", "3 小时前", "2 天前".
pub fn ago(tr: Tr, t: &DateTime<Utc>, now: &DateTime<Utc>) -> String {
    let mins = (*now - *t).num_minutes().max(0);
    let (key, n) = match mins {
        0 => return tr.t("time-just-now"),
        1..60 => ("time-minutes-ago", mins),
        60..1440 => ("time-hours-ago", mins / 60),
        _ => ("time-days-ago", mins / 1440),
    };
    tr.t1(key, "n", &n.to_string())
}

fn item(n: Shown, tr: Tr, tz: &str, now: &DateTime<Utc>) -> Item {
    Item {
        href: n
            .link
            .as_ref()
            .map(|_| format!("/notifications/{}/open", n.id)),
        unread: n.read_at.is_none(),
        ago: ago(tr, &n.created_at, now),
        at: local_time(&n.created_at, tz),
        id: n.id,
        text: n.text,
    }
}

async fn page(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<PageQuery>,
) -> AppResult<NotificationsPage> {
    let shell = Shell::new(&state, &auth, "/notifications", "notifications")
        .await
        .crumb("/notifications", "notifications")
        .flash(q.ok.as_deref());
    let found = service::list(&state, &auth, q.before, PAGE).await?;
    let more = (found.len() as i64 == PAGE)
        .then(|| {
            found
                .last()
                .map(|n| format!("/notifications?before={}", n.id))
        })
        .flatten();
    let now = guanxi_store::now();
    let tz = auth.principal.time_zone.clone();
    Ok(NotificationsPage {
        items: found
            .into_iter()
            .map(|n| item(n, shell.tr, &tz, &now))
            .collect(),
        shell,
        more,
        later_page: q.before.is_some(),
    })
}

async fn read(State(state): State<AppState>, auth: Auth, Id(id): Id) -> AppResult<Redirect> {
    service::mark_read(&state, &auth, id).await?;
    Ok(Redirect::to("/notifications?ok=flash-notification-read"))
}

async fn read_all(State(state): State<AppState>, auth: Auth) -> AppResult<Redirect> {
    service::mark_all_read(&state, &auth).await?;
    Ok(Redirect::to(
        "/notifications?ok=flash-notifications-all-read",
    ))
}

/// Marks the notification read and goes where it leads (back to the list when nowhere).
async fn open(State(state): State<AppState>, auth: Auth, Id(id): Id) -> AppResult<Redirect> {
    let n = service::mark_read(&state, &auth, id).await?;
    Ok(Redirect::to(n.link.as_deref().unwrap_or("/notifications")))
}
