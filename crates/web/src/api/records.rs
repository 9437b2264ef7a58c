//! The engine's JSON API, the same routes for every module (`/api/v1/customers`,
//! `/api/v1/contacts`, ...). Lists filter with `f.<field>.<op>=value` (ops: eq, ne, contains,
//! starts_with, gt, gte, lt, lte, in, between, empty, not_empty; see [`super::filters`]), search
//! with `q`, sort with
//! `sort=<field>&order=asc|desc`, and page with the opaque `cursor` from `next_cursor`.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use base64::Engine;
use guanxi_core::engine::Fields;
use guanxi_store::records::{Cursor, HistoryEntry, ListQuery, Record, Values};
use serde::Serialize;
use serde_json::Value;

use super::Json;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::services::records::{self as svc, module};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/{module}", get(list).post(create))
        .route("/api/v1/{module}/recycle-bin", get(recycle_bin))
        .route(
            "/api/v1/{module}/{id}",
            get(read).patch(update).delete(delete),
        )
        .route("/api/v1/{module}/{id}/restore", post(restore))
        .route("/api/v1/{module}/{id}/purge", axum::routing::delete(purge))
        .route("/api/v1/{module}/{id}/lock", post(lock))
        .route("/api/v1/{module}/{id}/unlock", post(unlock))
        .route("/api/v1/{module}/{id}/transfer", post(transfer))
        .route("/api/v1/{module}/{id}/history", get(history))
        .route(
            "/api/v1/{module}/{id}/history/{entry}/restore",
            post(restore_value),
        )
        .route("/api/v1/{module}/{id}/related/{other}", get(related))
}

#[derive(Serialize)]
pub struct Page {
    pub items: Vec<Record>,
    pub next_cursor: Option<String>,
    /// With `count=true`: the records matching, counted up to 1,000.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<i64>,
    /// With `count=true`: more than `count` records match ("1,000+").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count_more: Option<bool>,
}

fn encode_cursor(c: &Cursor) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(c).unwrap_or_default())
}

fn decode_cursor(s: &str) -> AppResult<Cursor> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(AppError::BadRequest("error-cursor"))
}

/// Reads list parameters from the query string pairs (shared with the HTML list), for a user
/// in the time zone `tz` (filters by day on date-time fields).
pub fn list_query(fs: &Fields, pairs: &[(String, String)], tz: &str) -> AppResult<ListQuery> {
    let mut q = ListQuery {
        limit: 50,
        ..ListQuery::default()
    };
    for (k, v) in pairs {
        match k.as_str() {
            "q" => q.q = Some(v.clone()).filter(|s| !s.trim().is_empty()),
            "limit" => {
                q.limit = v
                    .parse::<i64>()
                    .map_err(|_| AppError::BadRequest("error-limit"))?
                    .clamp(1, 500)
            }
            "cursor" if !v.is_empty() => q.after = Some(decode_cursor(v)?),
            "sort" if !v.is_empty() => {
                q.sort = Some(
                    fs.filter_field(v)
                        .ok_or(AppError::BadRequest("error-sort"))?,
                );
            }
            "order" => q.descending = v == "desc",
            "match" => q.any = v == "any",
            key if key.starts_with("f.") => {
                if let Some(c) = super::filters::condition(fs, &key[2..], v, tz)? {
                    q.conditions.push(c);
                }
            }
            _ => {}
        }
    }
    // The HTML filter form sends conditions as parallel lists.
    let fields: Vec<&String> = pairs
        .iter()
        .filter(|(k, _)| k == "cond_field")
        .map(|(_, v)| v)
        .collect();
    let ops: Vec<&String> = pairs
        .iter()
        .filter(|(k, _)| k == "cond_op")
        .map(|(_, v)| v)
        .collect();
    let vals: Vec<&String> = pairs
        .iter()
        .filter(|(k, _)| k == "cond_value")
        .map(|(_, v)| v)
        .collect();
    for (i, field) in fields.iter().enumerate().filter(|(_, f)| !f.is_empty()) {
        let key = format!(
            "f.{field}.{}",
            ops.get(i).map(|s| s.as_str()).unwrap_or("eq")
        );
        let val = vals.get(i).map(|s| s.to_string()).unwrap_or_default();
        let extra = list_query(fs, &[(key, val)], tz)?;
        q.conditions.extend(extra.conditions);
    }
    Ok(q)
}

pub fn page(items: Vec<Record>, q: &ListQuery) -> Page {
    let next_cursor = (items.len() as i64 == q.limit)
        .then(|| {
            items
                .last()
                .map(|r| encode_cursor(&guanxi_store::records::cursor_of(r, q.sort)))
        })
        .flatten();
    Page {
        items,
        next_cursor,
        count: None,
        count_more: None,
    }
}

/// A page with its count, as [`svc::list_counted`] gives it.
pub fn counted_page(items: Vec<Record>, count: Option<i64>, q: &ListQuery) -> Page {
    let cap = svc::COUNT_CAP;
    Page {
        count: count.map(|n| n.min(cap)),
        count_more: count.map(|n| n > cap),
        ..page(items, q)
    }
}

async fn list(
    State(s): State<AppState>,
    auth: Auth,
    Path(m): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> AppResult<axum::Json<Page>> {
    let def = module(&m)?;
    let q = list_query(
        &*svc::fields(&s, def).await?,
        &pairs,
        &auth.principal.time_zone,
    )?;
    if pairs.iter().any(|(k, v)| k == "count" && v == "true") {
        let (items, count) = svc::list_counted(&s, &auth, def, &q).await?;
        return Ok(axum::Json(counted_page(items, count, &q)));
    }
    let items = svc::list(&s, &auth, def, &q).await?;
    Ok(axum::Json(page(items, &q)))
}

async fn recycle_bin(
    State(s): State<AppState>,
    auth: Auth,
    Path(m): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> AppResult<axum::Json<Page>> {
    let def = module(&m)?;
    let mut q = list_query(
        &*svc::fields(&s, def).await?,
        &pairs,
        &auth.principal.time_zone,
    )?;
    q.deleted = true;
    let items = svc::list(&s, &auth, def, &q).await?;
    Ok(axum::Json(page(items, &q)))
}

fn object(v: Value) -> AppResult<Values> {
    match v {
        Value::Object(m) => Ok(m),
        _ => Err(AppError::BadRequest("error-json-body")),
    }
}

fn id(s: &str) -> AppResult<i64> {
    s.parse().map_err(|_| AppError::NotFound)
}

async fn create(
    State(s): State<AppState>,
    auth: Auth,
    Path(m): Path<String>,
    Json(body): Json<Value>,
) -> AppResult<(StatusCode, axum::Json<Record>)> {
    let def = module(&m)?;
    let mut values = object(body)?;
    let confirmed = values
        .remove("confirm_duplicate")
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    let owner = match values.remove("owner_id") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_i64().ok_or(AppError::Validation(vec![
            guanxi_core::validate::FieldError::new("owner_id", "error-integer"),
        ]))?),
    };
    Ok((
        StatusCode::CREATED,
        axum::Json(svc::create_confirmed(&s, &auth, def, &values, owner, confirmed).await?),
    ))
}

async fn read(
    State(s): State<AppState>,
    auth: Auth,
    Path((m, i)): Path<(String, String)>,
) -> AppResult<axum::Json<Record>> {
    let def = module(&m)?;
    Ok(axum::Json(svc::get(&s, &auth, def, id(&i)?).await?))
}

async fn update(
    State(s): State<AppState>,
    auth: Auth,
    Path((m, i)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> AppResult<axum::Json<Record>> {
    let def = module(&m)?;
    let mut values = object(body)?;
    let confirmed = values
        .remove("confirm_duplicate")
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    let version = values
        .remove("version")
        .and_then(|v| v.as_i64())
        .ok_or(AppError::Validation(vec![
            guanxi_core::validate::FieldError::new("version", "error-version-required"),
        ]))?;
    Ok(axum::Json(
        svc::update_confirmed(&s, &auth, def, id(&i)?, version as i32, &values, confirmed).await?,
    ))
}

async fn delete(
    State(s): State<AppState>,
    auth: Auth,
    Path((m, i)): Path<(String, String)>,
) -> AppResult<StatusCode> {
    let def = module(&m)?;
    svc::delete(&s, &auth, def, id(&i)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn restore(
    State(s): State<AppState>,
    auth: Auth,
    Path((m, i)): Path<(String, String)>,
) -> AppResult<axum::Json<Record>> {
    let def = module(&m)?;
    Ok(axum::Json(svc::restore(&s, &auth, def, id(&i)?).await?))
}

/// Deletes a record of the recycle bin for good (administrators).
async fn purge(
    State(s): State<AppState>,
    auth: Auth,
    Path((m, i)): Path<(String, String)>,
) -> AppResult<StatusCode> {
    let def = module(&m)?;
    svc::purge(&s, &auth, def, id(&i)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn lock(
    State(s): State<AppState>,
    auth: Auth,
    Path((m, i)): Path<(String, String)>,
) -> AppResult<axum::Json<Record>> {
    let def = module(&m)?;
    Ok(axum::Json(
        svc::set_locked(&s, &auth, def, id(&i)?, true).await?,
    ))
}

async fn unlock(
    State(s): State<AppState>,
    auth: Auth,
    Path((m, i)): Path<(String, String)>,
) -> AppResult<axum::Json<Record>> {
    let def = module(&m)?;
    Ok(axum::Json(
        svc::set_locked(&s, &auth, def, id(&i)?, false).await?,
    ))
}

#[derive(serde::Deserialize)]
struct TransferBody {
    owner_id: i64,
}

async fn transfer(
    State(s): State<AppState>,
    auth: Auth,
    Path((m, i)): Path<(String, String)>,
    Json(b): Json<TransferBody>,
) -> AppResult<axum::Json<Record>> {
    let def = module(&m)?;
    Ok(axum::Json(
        svc::transfer(&s, &auth, def, id(&i)?, b.owner_id).await?,
    ))
}

async fn history(
    State(s): State<AppState>,
    auth: Auth,
    Path((m, i)): Path<(String, String)>,
) -> AppResult<axum::Json<Vec<HistoryEntry>>> {
    let def = module(&m)?;
    Ok(axum::Json(svc::history(&s, &auth, def, id(&i)?).await?))
}

async fn restore_value(
    State(s): State<AppState>,
    auth: Auth,
    Path((m, i, e)): Path<(String, String, String)>,
) -> AppResult<axum::Json<Record>> {
    let def = module(&m)?;
    Ok(axum::Json(
        svc::restore_value(&s, &auth, def, id(&i)?, id(&e)?).await?,
    ))
}

async fn related(
    State(s): State<AppState>,
    auth: Auth,
    Path((m, i, other)): Path<(String, String, String)>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> AppResult<axum::Json<Page>> {
    let def = module(&m)?;
    let rid = id(&i)?;
    svc::get(&s, &auth, def, rid).await?;
    let rel = def
        .related
        .iter()
        .find(|r| guanxi_core::engine::def_of(r.module).is_some_and(|d| d.code == other))
        .ok_or(AppError::NotFound)?;
    let odef = guanxi_core::engine::def_of(rel.module).ok_or(AppError::NotFound)?;
    let mut q = list_query(
        &*svc::fields(&s, odef).await?,
        &pairs,
        &auth.principal.time_zone,
    )?;
    q.related = Some((rel.via, rid));
    let items = svc::list(&s, &auth, odef, &q).await?;
    Ok(axum::Json(page(items, &q)))
}
