//! Regions (地区): the province / city / district tree, level by level, for cascading pickers;
//! custom regions for administrators.

use axum::Router;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::get;
use guanxi_store::regions::Region;
use serde::Deserialize;

use super::Json;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::services::regions::{self, RegionDetail, RegionInput, RegionRename};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/regions", get(list_regions).post(create_region))
        .route(
            "/api/v1/regions/{code}",
            get(get_region).patch(rename_region).delete(delete_region),
        )
}

/// A `{code}` path segment.
pub struct Code(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Code {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| AppError::NotFound)?;
        Ok(Code(raw))
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct RegionQuery {
    /// The parent's code; absent for the provinces.
    pub parent: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/regions", tag = "system", params(RegionQuery), responses((status = 200, body = Vec<Region>), (status = 404, description = "no such parent region")))]
pub async fn list_regions(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<RegionQuery>,
) -> AppResult<axum::Json<Vec<Region>>> {
    Ok(axum::Json(
        regions::children(&s, &auth, q.parent.as_deref()).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/regions/{code}", tag = "system", params(("code" = String, Path)), responses((status = 200, body = RegionDetail), (status = 404)))]
pub async fn get_region(
    State(s): State<AppState>,
    auth: Auth,
    Code(code): Code,
) -> AppResult<axum::Json<RegionDetail>> {
    Ok(axum::Json(regions::get(&s, &auth, &code).await?))
}

#[utoipa::path(post, path = "/api/v1/regions", tag = "system", request_body = RegionInput, responses((status = 201, body = Region), (status = 403), (status = 422)))]
pub async fn create_region(
    State(s): State<AppState>,
    auth: Auth,
    Json(i): Json<RegionInput>,
) -> AppResult<(StatusCode, axum::Json<Region>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(regions::create(&s, &auth, &i).await?),
    ))
}

#[utoipa::path(patch, path = "/api/v1/regions/{code}", tag = "system", params(("code" = String, Path)), request_body = RegionRename, responses((status = 200, body = Region), (status = 403), (status = 404), (status = 422)))]
pub async fn rename_region(
    State(s): State<AppState>,
    auth: Auth,
    Code(code): Code,
    Json(i): Json<RegionRename>,
) -> AppResult<axum::Json<Region>> {
    Ok(axum::Json(regions::rename(&s, &auth, &code, &i).await?))
}

#[utoipa::path(delete, path = "/api/v1/regions/{code}", tag = "system", params(("code" = String, Path)), responses((status = 204), (status = 403), (status = 404), (status = 409, description = "a built-in region, or one with sub-regions")))]
pub async fn delete_region(
    State(s): State<AppState>,
    auth: Auth,
    Code(code): Code,
) -> AppResult<StatusCode> {
    regions::delete(&s, &auth, &code).await?;
    Ok(StatusCode::NO_CONTENT)
}
