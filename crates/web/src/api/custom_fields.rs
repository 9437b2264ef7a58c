//! Custom field administration: `/api/v1/custom-fields/{module}`.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, patch};
use guanxi_store::custom_fields::CustomField;

use super::Json;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::services::custom_fields::{self, FieldInput};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/custom-fields/{module}", get(list).post(create))
        .route("/api/v1/custom-fields/{module}/{id}", patch(update))
}

#[utoipa::path(get, path = "/api/v1/custom-fields/{module}", tag = "system", params(("module" = String, Path, description = "customers, contacts or organisations")),
    responses((status = 200, body = Vec<CustomField>)))]
pub async fn list(
    State(s): State<AppState>,
    auth: Auth,
    Path(m): Path<String>,
) -> AppResult<axum::Json<Vec<CustomField>>> {
    Ok(axum::Json(custom_fields::list(&s, &auth, &m).await?))
}

#[utoipa::path(post, path = "/api/v1/custom-fields/{module}", tag = "system", params(("module" = String, Path)), request_body = FieldInput,
    responses((status = 201, body = CustomField), (status = 422)))]
pub async fn create(
    State(s): State<AppState>,
    auth: Auth,
    Path(m): Path<String>,
    Json(i): Json<FieldInput>,
) -> AppResult<(StatusCode, axum::Json<CustomField>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(custom_fields::create(&s, &auth, &m, &i).await?),
    ))
}

#[utoipa::path(patch, path = "/api/v1/custom-fields/{module}/{id}", tag = "system", params(("module" = String, Path), ("id" = i64, Path)), request_body = FieldInput,
    responses((status = 200, body = CustomField), (status = 404), (status = 422)))]
pub async fn update(
    State(s): State<AppState>,
    auth: Auth,
    Path((m, id)): Path<(String, String)>,
    Json(i): Json<FieldInput>,
) -> AppResult<axum::Json<CustomField>> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    Ok(axum::Json(
        custom_fields::update(&s, &auth, &m, id, &i).await?,
    ))
}
