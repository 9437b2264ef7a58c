//! Classification and credit rules: list, create, change, delete, reorder; the fields and
//! operators a condition may use; a customer's explanation and 交还规则 (hand the credit level
//! back to the rules). Every change to the rules re-evaluates every customer in the background.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use serde::Deserialize;

use super::{Id, Json};
use crate::auth::Auth;
use crate::error::AppResult;
use crate::services::rules::{
    self as svc, Explanation, RuleFields, RuleInput, RulePatch, RuleView,
};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/rules", get(list).post(create))
        .route("/api/v1/rules/fields", get(fields))
        .route("/api/v1/rules/reorder", post(reorder))
        .route("/api/v1/rules/{id}", patch(update).delete(delete).get(read))
        .route("/api/v1/customers/{id}/rules-explanation", get(explanation))
        .route("/api/v1/customers/{id}/credit/hand-back", post(hand_back))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct KindQuery {
    /// classification or credit; all rules when absent.
    pub kind: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/rules", tag = "rules", params(KindQuery),
    responses((status = 200, body = Vec<RuleView>, description = "in priority order"), (status = 403)))]
pub async fn list(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<KindQuery>,
) -> AppResult<axum::Json<Vec<RuleView>>> {
    Ok(axum::Json(svc::list(&s, &auth, q.kind.as_deref()).await?))
}

#[utoipa::path(post, path = "/api/v1/rules", tag = "rules", request_body = RuleInput,
    responses((status = 201, body = RuleView), (status = 403),
        (status = 422, description = "errors keyed by field; conditions by path, e.g. conditions.0.1")))]
pub async fn create(
    State(s): State<AppState>,
    auth: Auth,
    Json(input): Json<RuleInput>,
) -> AppResult<(StatusCode, axum::Json<RuleView>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(svc::create(&s, &auth, &input).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/rules/{id}", tag = "rules", params(("id" = i64, Path)),
    responses((status = 200, body = RuleView), (status = 404)))]
pub async fn read(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> AppResult<axum::Json<RuleView>> {
    Ok(axum::Json(svc::get(&s, &auth, id).await?))
}

#[utoipa::path(patch, path = "/api/v1/rules/{id}", tag = "rules", params(("id" = i64, Path)),
    request_body = RulePatch,
    responses((status = 200, body = RuleView), (status = 404), (status = 422)))]
pub async fn update(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(p): Json<RulePatch>,
) -> AppResult<axum::Json<RuleView>> {
    Ok(axum::Json(svc::update(&s, &auth, id, &p).await?))
}

#[utoipa::path(delete, path = "/api/v1/rules/{id}", tag = "rules", params(("id" = i64, Path)),
    responses((status = 204), (status = 404)))]
pub async fn delete(State(s): State<AppState>, auth: Auth, Id(id): Id) -> AppResult<StatusCode> {
    svc::delete(&s, &auth, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ReorderInput {
    /// classification or credit.
    pub kind: String,
    /// Every rule of the kind, first to be tried first.
    pub ids: Vec<i64>,
}

#[utoipa::path(post, path = "/api/v1/rules/reorder", tag = "rules", request_body = ReorderInput,
    responses((status = 200, body = Vec<RuleView>), (status = 422)))]
pub async fn reorder(
    State(s): State<AppState>,
    auth: Auth,
    Json(r): Json<ReorderInput>,
) -> AppResult<axum::Json<Vec<RuleView>>> {
    Ok(axum::Json(svc::reorder(&s, &auth, &r.kind, &r.ids).await?))
}

#[utoipa::path(get, path = "/api/v1/rules/fields", tag = "rules",
    responses((status = 200, body = RuleFields, description = "fields with their operators and options; the results of each kind")))]
pub async fn fields(State(s): State<AppState>, auth: Auth) -> AppResult<axum::Json<RuleFields>> {
    Ok(axum::Json(svc::fields(&s, &auth).await?))
}

#[utoipa::path(get, path = "/api/v1/customers/{id}/rules-explanation", tag = "rules",
    params(("id" = i64, Path)), responses((status = 200, body = Explanation), (status = 404)))]
pub async fn explanation(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> AppResult<axum::Json<Explanation>> {
    Ok(axum::Json(svc::explain(&s, &auth, id).await?))
}

#[utoipa::path(post, path = "/api/v1/customers/{id}/credit/hand-back", tag = "rules",
    params(("id" = i64, Path)),
    responses((status = 200, body = Explanation, description = "rated again by the rules"), (status = 404), (status = 409, description = "the customer is locked")))]
pub async fn hand_back(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> AppResult<axum::Json<Explanation>> {
    Ok(axum::Json(svc::hand_back(&s, &auth, id).await?))
}
