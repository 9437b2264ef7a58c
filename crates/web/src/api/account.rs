//! The signed-in user's own account: preferences, password, API tokens.

use super::Id;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use serde::Deserialize;

use super::Json;
use crate::auth::Auth;
use crate::error::AppResult;
use crate::services::account::{self, NewToken, PasswordChange, Preferences};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/me/password", post(change_password))
        .route("/api/v1/me/tokens", get(list_tokens).post(create_token))
        .route("/api/v1/me/tokens/{id}", delete(revoke_token))
}

#[utoipa::path(patch, path = "/api/v1/me", tag = "account", request_body = Preferences, responses((status = 204), (status = 422)))]
pub async fn update_me(
    State(state): State<AppState>,
    auth: Auth,
    Json(p): Json<Preferences>,
) -> AppResult<StatusCode> {
    account::set_preferences(&state, &auth, &p).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/me/password", tag = "account", request_body = PasswordChange, responses((status = 204), (status = 422)))]
pub async fn change_password(
    State(state): State<AppState>,
    auth: Auth,
    Json(p): Json<PasswordChange>,
) -> AppResult<StatusCode> {
    account::change_password(&state, &auth, &p).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/me/tokens", tag = "account", responses((status = 200, body = Vec<guanxi_store::tokens::ApiToken>)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    auth: Auth,
) -> AppResult<axum::Json<Vec<guanxi_store::tokens::ApiToken>>> {
    Ok(axum::Json(account::list_tokens(&state, &auth).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct TokenRequest {
    pub name: String,
}

#[utoipa::path(post, path = "/api/v1/me/tokens", tag = "account", request_body = TokenRequest, responses((status = 201, body = NewToken)))]
pub async fn create_token(
    State(state): State<AppState>,
    auth: Auth,
    Json(r): Json<TokenRequest>,
) -> AppResult<(StatusCode, axum::Json<NewToken>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(account::create_token(&state, &auth, &r.name).await?),
    ))
}

#[utoipa::path(delete, path = "/api/v1/me/tokens/{id}", tag = "account", params(("id" = i64, Path)), responses((status = 204), (status = 404)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> AppResult<StatusCode> {
    account::revoke_token(&state, &auth, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
