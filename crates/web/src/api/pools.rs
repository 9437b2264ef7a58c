//! Public pools (公海), follow-up appointments and customers' scores and ownership timelines.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::{get, patch, post};
use guanxi_store::follow_ups::{Appointment, ScoreLine};
use guanxi_store::pools::{OwnershipEvent, Pool, PoolInput};
use serde::Deserialize;

use super::Json;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::services::pools as svc;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/pools", get(list).post(create))
        .route("/api/v1/pools/{id}", patch(update))
        .route("/api/v1/pools/{id}/customers", get(customers))
        .route("/api/v1/pools/{id}/customers/{customer}", get(customer))
        .route("/api/v1/pools/{id}/claim", post(claim))
        .route("/api/v1/pools/{id}/assign", post(assign))
        .route("/api/v1/customers/{id}/release", post(release))
        .route("/api/v1/customers/{id}/ownership", get(ownership))
        .route("/api/v1/customers/{id}/score", get(score))
        .route("/api/v1/appointments", get(appointments))
}

fn id(s: &str) -> AppResult<i64> {
    s.parse().map_err(|_| AppError::NotFound)
}

#[utoipa::path(get, path = "/api/v1/pools", tag = "pools", responses((status = 200, body = Vec<Pool>)))]
pub async fn list(State(s): State<AppState>, auth: Auth) -> AppResult<axum::Json<Vec<Pool>>> {
    Ok(axum::Json(svc::mine(&s, &auth).await?))
}

#[utoipa::path(post, path = "/api/v1/pools", tag = "pools", request_body = PoolInput,
    responses((status = 200, body = Pool), (status = 403), (status = 422)))]
pub async fn create(
    State(s): State<AppState>,
    auth: Auth,
    Json(input): Json<PoolInput>,
) -> AppResult<axum::Json<Pool>> {
    Ok(axum::Json(svc::save(&s, &auth, None, &input).await?))
}

#[utoipa::path(patch, path = "/api/v1/pools/{id}", tag = "pools", params(("id" = i64, Path)), request_body = PoolInput,
    responses((status = 200, body = Pool), (status = 403), (status = 422)))]
pub async fn update(
    State(s): State<AppState>,
    auth: Auth,
    Path(i): Path<String>,
    Json(input): Json<PoolInput>,
) -> AppResult<axum::Json<Pool>> {
    Ok(axum::Json(
        svc::save(&s, &auth, Some(id(&i)?), &input).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/pools/{id}/customers", tag = "pools", params(("id" = i64, Path)),
    responses((status = 200, description = "a page of the pool's customers (same query parameters as the customer list; phones masked for roles that may not see them)")))]
pub async fn customers(
    State(s): State<AppState>,
    auth: Auth,
    Path(i): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> AppResult<axum::Json<super::records::Page>> {
    let fs = crate::services::records::fields(&s, &guanxi_core::engine::CUSTOMERS).await?;
    let q = super::records::list_query(&fs, &pairs, &auth.principal.time_zone)?;
    let items = svc::customers(&s, &auth, id(&i)?, &q).await?;
    Ok(axum::Json(super::records::page(items, &q)))
}

#[utoipa::path(get, path = "/api/v1/pools/{id}/customers/{customer}", tag = "pools",
    params(("id" = i64, Path), ("customer" = i64, Path)),
    responses((status = 200, description = "one pool customer; counts against the daily limit of opened details"), (status = 409)))]
pub async fn customer(
    State(s): State<AppState>,
    auth: Auth,
    Path((i, c)): Path<(String, String)>,
) -> AppResult<axum::Json<guanxi_store::records::Record>> {
    Ok(axum::Json(
        svc::customer(&s, &auth, id(&i)?, id(&c)?).await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct Ids {
    pub ids: Vec<i64>,
    /// For an assignment: the new owner.
    pub owner_id: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/pools/{id}/claim", tag = "pools", params(("id" = i64, Path)), request_body = Ids,
    responses((status = 200, description = "the ids claimed"), (status = 409, description = "a limit, the cool-down, or someone else was first")))]
pub async fn claim(
    State(s): State<AppState>,
    auth: Auth,
    Path(i): Path<String>,
    Json(input): Json<Ids>,
) -> AppResult<axum::Json<Vec<i64>>> {
    Ok(axum::Json(
        svc::claim(&s, &auth, id(&i)?, &input.ids).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/pools/{id}/assign", tag = "pools", params(("id" = i64, Path)), request_body = Ids,
    responses((status = 200, description = "the ids assigned"), (status = 409)))]
pub async fn assign(
    State(s): State<AppState>,
    auth: Auth,
    Path(i): Path<String>,
    Json(input): Json<Ids>,
) -> AppResult<axum::Json<Vec<i64>>> {
    let to = input
        .owner_id
        .ok_or(AppError::BadRequest("error-user-missing"))?;
    Ok(axum::Json(
        svc::assign(&s, &auth, id(&i)?, &input.ids, to).await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ReleaseInput {
    /// A code of the dictionary list release_reason.
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/customers/{id}/release", tag = "pools", params(("id" = i64, Path)), request_body = ReleaseInput,
    responses((status = 200, description = "the pool the customer went into"), (status = 409), (status = 422)))]
pub async fn release(
    State(s): State<AppState>,
    auth: Auth,
    Path(i): Path<String>,
    Json(input): Json<ReleaseInput>,
) -> AppResult<axum::Json<i64>> {
    Ok(axum::Json(
        svc::release(&s, &auth, id(&i)?, &input.reason).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/customers/{id}/ownership", tag = "pools", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<OwnershipEvent>)))]
pub async fn ownership(
    State(s): State<AppState>,
    auth: Auth,
    Path(i): Path<String>,
) -> AppResult<axum::Json<Vec<OwnershipEvent>>> {
    let cid = id(&i)?;
    crate::services::records::get(&s, &auth, &guanxi_core::engine::CUSTOMERS, cid).await?;
    Ok(axum::Json(guanxi_store::pools::timeline(&s.db, cid).await?))
}

#[utoipa::path(get, path = "/api/v1/customers/{id}/score", tag = "pools", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<ScoreLine>, description = "the behaviours that make up the score")))]
pub async fn score(
    State(s): State<AppState>,
    auth: Auth,
    Path(i): Path<String>,
) -> AppResult<axum::Json<Vec<ScoreLine>>> {
    let cid = id(&i)?;
    crate::services::records::get(&s, &auth, &guanxi_core::engine::CUSTOMERS, cid).await?;
    Ok(axum::Json(
        guanxi_store::follow_ups::score_lines(&s.db, cid).await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct DayQuery {
    /// YYYY-MM-DD in the user's time zone (default: today).
    pub date: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/appointments", tag = "pools", params(DayQuery),
    responses((status = 200, body = Vec<Appointment>, description = "计划任务: the day's appointed visits of follow-ups in scope")))]
pub async fn appointments(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<DayQuery>,
) -> AppResult<axum::Json<Vec<Appointment>>> {
    Ok(axum::Json(
        svc::appointments(&s, &auth, q.date.as_deref()).await?,
    ))
}
