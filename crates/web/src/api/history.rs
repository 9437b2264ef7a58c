//! The cross-record change history query (客户资料修改历史查询) and its CSV export.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use guanxi_store::history::{HistoryFilter, HistoryItem};
use serde::{Deserialize, Serialize};

use crate::auth::Auth;
use crate::error::AppResult;
use crate::services::history;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/history", get(search))
        .route("/api/v1/history/export", get(export))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct HistoryQuery {
    /// An engine module: `customers`, `contacts`, `organisations`. Default: the first one you
    /// may view.
    pub module: Option<String>,
    /// Who made the change (exact user name).
    pub username: Option<String>,
    pub user_id: Option<i64>,
    /// A field code, or `owner_id` for transfers.
    pub field: Option<String>,
    /// create, update, delete, restore, lock, unlock or transfer.
    pub event: Option<String>,
    /// Changes at or after this time (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Changes before this time (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    pub record_id: Option<i64>,
    /// The `next_cursor` of the previous page (entries come newest first).
    pub cursor: Option<i64>,
    /// 1–500, default 50.
    pub limit: Option<i64>,
}

impl HistoryQuery {
    fn filter(&self, auth: &Auth) -> AppResult<HistoryFilter> {
        let def = history::module(auth, self.module.as_deref())?;
        let nonempty = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        Ok(HistoryFilter {
            module: def,
            username: nonempty(&self.username),
            user_id: self.user_id,
            from: self.from,
            to: self.to,
            field: nonempty(&self.field),
            event: nonempty(&self.event),
            record_id: self.record_id,
            before_id: self.cursor,
            limit: self.limit.unwrap_or(50).clamp(1, 500),
        })
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct HistoryPage {
    pub items: Vec<HistoryItem>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<i64>,
}

/// Field changes and record events of one module, newest first, limited to records in your
/// data scope. Needs the audit log's view right and the module's view right.
/// `GET /api/v1/history/export` takes the same parameters and answers a CSV file (UTF-8 with a
/// BOM; needs the audit log's export right).
#[utoipa::path(get, path = "/api/v1/history", tag = "system", params(HistoryQuery), responses((status = 200, body = HistoryPage), (status = 400, description = "unknown module"), (status = 403)))]
pub async fn search(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<HistoryQuery>,
) -> AppResult<axum::Json<HistoryPage>> {
    let f = q.filter(&auth)?;
    let items = history::search(&s, &auth, &f).await?;
    let next_cursor = (items.len() as i64 == f.limit)
        .then(|| items.last().map(|e| e.id))
        .flatten();
    Ok(axum::Json(HistoryPage { items, next_cursor }))
}

#[utoipa::path(get, path = "/api/v1/history/export", tag = "system", params(HistoryQuery),
    responses((status = 200, description = "the same entries as CSV (UTF-8 with a BOM)", content_type = "text/csv"), (status = 400, description = "unknown module"), (status = 403)))]
pub async fn export(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<HistoryQuery>,
) -> AppResult<Response> {
    let f = q.filter(&auth)?;
    let bytes = history::export(&s, &auth, &f).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, history::export_name(f.module)),
        ],
        bytes,
    )
        .into_response())
}
