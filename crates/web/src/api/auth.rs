//! Sign-in for scripts: `POST /api/v1/auth/login` gives a bearer token.

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::Json;
use crate::auth::{Auth, Visitor};
use crate::error::{AppError, AppResult};
use crate::services::session::{self, LoginOutcome};
use crate::state::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// The 6-digit code, for accounts with two-factor login.
    #[serde(default)]
    pub totp: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub user_id: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub department_id: Option<i64>,
    pub locale: String,
    pub time_zone: String,
    /// Module code → allowed action codes and data scope.
    pub permissions: std::collections::BTreeMap<String, crate::services::roles::ModuleGrant>,
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/me", get(me).patch(super::account::update_me))
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest, security(()),
    responses((status = 200, body = LoginResponse), (status = 401, description = "wrong user name or password, or `totp_required`"), (status = 429, description = "throttled")))]
pub async fn login(
    State(state): State<AppState>,
    v: Visitor,
    Json(req): Json<LoginRequest>,
) -> AppResult<axum::Json<LoginResponse>> {
    match session::login(
        &state,
        &v,
        &req.username,
        &req.password,
        req.totp.as_deref(),
    )
    .await?
    {
        LoginOutcome::Session { token, user_id } => {
            Ok(axum::Json(LoginResponse { token, user_id }))
        }
        LoginOutcome::NeedTotp { .. } => Err(AppError::TotpRequired),
    }
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204)))]
pub async fn logout(
    State(state): State<AppState>,
    auth: Auth,
) -> AppResult<axum::http::StatusCode> {
    session::logout(&state, &auth).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/me", tag = "account", responses((status = 200, body = Me)))]
pub async fn me(auth: Auth) -> axum::Json<Me> {
    let p = &auth.principal;
    let perms = guanxi_core::Module::ALL
        .iter()
        .map(|m| (*m, p.permission(*m)))
        .filter(|(_, x)| x.actions != 0)
        .collect();
    axum::Json(Me {
        id: p.user_id,
        username: p.username.clone(),
        display_name: p.display_name.clone(),
        department_id: p.department_id,
        locale: p.locale.code().to_owned(),
        time_zone: p.time_zone.clone(),
        permissions: crate::services::roles::to_api(&perms),
    })
}
