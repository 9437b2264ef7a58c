//! The data dictionary (数据字典): option lists of the select fields. Reading is open to every
//! signed-in user; changes need the settings-management right.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, patch, put};
use guanxi_store::dictionary::Item;
use serde::Deserialize;

use super::Json;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::services::dictionary::{self, DictionaryList, ItemPatch, NewItem};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/dictionary", get(list_lists))
        .route(
            "/api/v1/dictionary/{list}",
            get(list_items).post(create_item),
        )
        .route("/api/v1/dictionary/{list}/order", put(reorder_items))
        .route(
            "/api/v1/dictionary/{list}/{id}",
            patch(update_item).delete(delete_item),
        )
}

/// `{list}/{id}` path segments; a non-numeric id is a 404 in our error format.
fn list_and_id(
    p: Result<Path<(String, String)>, axum::extract::rejection::PathRejection>,
) -> AppResult<(String, i64)> {
    let Path((list, raw)) = p.map_err(|_| AppError::NotFound)?;
    let id = raw.parse().map_err(|_| AppError::NotFound)?;
    Ok((list, id))
}

#[utoipa::path(get, path = "/api/v1/dictionary", tag = "system", responses((status = 200, body = Vec<DictionaryList>)))]
pub async fn list_lists(
    State(s): State<AppState>,
    auth: Auth,
) -> AppResult<axum::Json<Vec<DictionaryList>>> {
    Ok(axum::Json(dictionary::lists(&s, &auth).await?))
}

#[utoipa::path(get, path = "/api/v1/dictionary/{list}", tag = "system", params(("list" = String, Path, description = "a list name such as `industry`")), responses((status = 200, body = Vec<Item>), (status = 404)))]
pub async fn list_items(
    State(s): State<AppState>,
    auth: Auth,
    Path(list): Path<String>,
) -> AppResult<axum::Json<Vec<Item>>> {
    Ok(axum::Json(dictionary::items(&s, &auth, &list).await?))
}

#[utoipa::path(post, path = "/api/v1/dictionary/{list}", tag = "system", params(("list" = String, Path)), request_body = NewItem, responses((status = 201, body = Item), (status = 403), (status = 404), (status = 422, description = "invalid or duplicate code, missing label")))]
pub async fn create_item(
    State(s): State<AppState>,
    auth: Auth,
    Path(list): Path<String>,
    Json(i): Json<NewItem>,
) -> AppResult<(StatusCode, axum::Json<Item>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(dictionary::create(&s, &auth, &list, &i).await?),
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Order {
    /// Item ids in their new order; items not named keep their relative order after them.
    pub ids: Vec<i64>,
}

#[utoipa::path(put, path = "/api/v1/dictionary/{list}/order", tag = "system", params(("list" = String, Path)), request_body = Order, responses((status = 200, body = Vec<Item>), (status = 403), (status = 404), (status = 422, description = "an id of another list, or named twice")))]
pub async fn reorder_items(
    State(s): State<AppState>,
    auth: Auth,
    Path(list): Path<String>,
    Json(o): Json<Order>,
) -> AppResult<axum::Json<Vec<Item>>> {
    Ok(axum::Json(
        dictionary::reorder(&s, &auth, &list, &o.ids).await?,
    ))
}

#[utoipa::path(patch, path = "/api/v1/dictionary/{list}/{id}", tag = "system", params(("list" = String, Path), ("id" = i64, Path)), request_body = ItemPatch, responses((status = 200, body = Item), (status = 403), (status = 404), (status = 422)))]
pub async fn update_item(
    State(s): State<AppState>,
    auth: Auth,
    p: Result<Path<(String, String)>, axum::extract::rejection::PathRejection>,
    Json(i): Json<ItemPatch>,
) -> AppResult<axum::Json<Item>> {
    let (list, id) = list_and_id(p)?;
    Ok(axum::Json(
        dictionary::update(&s, &auth, &list, id, &i).await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/dictionary/{list}/{id}", tag = "system", params(("list" = String, Path), ("id" = i64, Path)), responses((status = 204), (status = 403), (status = 404), (status = 409, description = "records use the item; disable it instead")))]
pub async fn delete_item(
    State(s): State<AppState>,
    auth: Auth,
    p: Result<Path<(String, String)>, axum::extract::rejection::PathRejection>,
) -> AppResult<StatusCode> {
    let (list, id) = list_and_id(p)?;
    dictionary::delete(&s, &auth, &list, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
