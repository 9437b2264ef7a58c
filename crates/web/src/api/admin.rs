//! Organisation and system administration: departments, users, roles, audit log, settings.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use chrono::{DateTime, Utc};
use guanxi_store::audit::{Entry, Filter};
use guanxi_store::departments::Department;
use guanxi_store::settings::Settings;
use guanxi_store::users::{User, UserFilter};
use serde::{Deserialize, Serialize};

use super::{Id, Json};
use crate::auth::Auth;
use crate::error::AppResult;
use crate::services::departments::{self, DepartmentInput};
use crate::services::roles::{self, RoleBody, RoleDetail};
use crate::services::users::{self, CreatedUser, UserDetail, UserInput};
use crate::services::{audit, settings};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/departments",
            get(list_departments).post(create_department),
        )
        .route(
            "/api/v1/departments/{id}",
            patch(update_department).delete(delete_department),
        )
        .route("/api/v1/users", get(list_users).post(create_user))
        .route("/api/v1/users/{id}", get(get_user).patch(update_user))
        .route("/api/v1/users/{id}/reset-password", post(reset_password))
        .route("/api/v1/roles", get(list_roles).post(create_role))
        .route(
            "/api/v1/roles/{id}",
            get(get_role).put(update_role).delete(delete_role),
        )
        .route("/api/v1/audit-log", get(audit_log))
        .route("/api/v1/settings", get(get_settings).put(put_settings))
        .route("/api/v1/modules", get(modules))
}

#[utoipa::path(get, path = "/api/v1/departments", tag = "organisation", responses((status = 200, body = Vec<Department>)))]
pub async fn list_departments(
    State(s): State<AppState>,
    auth: Auth,
) -> AppResult<axum::Json<Vec<Department>>> {
    Ok(axum::Json(departments::list(&s, &auth).await?))
}

#[utoipa::path(post, path = "/api/v1/departments", tag = "organisation", request_body = DepartmentInput, responses((status = 201, body = Department), (status = 422)))]
pub async fn create_department(
    State(s): State<AppState>,
    auth: Auth,
    Json(i): Json<DepartmentInput>,
) -> AppResult<(StatusCode, axum::Json<Department>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(departments::create(&s, &auth, &i).await?),
    ))
}

#[utoipa::path(patch, path = "/api/v1/departments/{id}", tag = "organisation", params(("id" = i64, Path)), request_body = DepartmentInput, responses((status = 200, body = Department), (status = 404), (status = 422)))]
pub async fn update_department(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(i): Json<DepartmentInput>,
) -> AppResult<axum::Json<Department>> {
    Ok(axum::Json(departments::update(&s, &auth, id, &i).await?))
}

#[utoipa::path(delete, path = "/api/v1/departments/{id}", tag = "organisation", params(("id" = i64, Path)), responses((status = 204), (status = 409, description = "the department still has sub-departments or users")))]
pub async fn delete_department(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> AppResult<StatusCode> {
    departments::delete(&s, &auth, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct UserQuery {
    /// Words in user name, display name, mobile or e-mail.
    pub q: Option<String>,
    pub department_id: Option<i64>,
    pub active: Option<bool>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<i64>,
    /// 1–200, default 50.
    pub limit: Option<i64>,
}

impl UserQuery {
    pub fn filter(&self) -> UserFilter {
        UserFilter {
            q: self.q.clone().filter(|q| !q.trim().is_empty()),
            department_id: self.department_id,
            active: self.active,
            after_id: self.cursor,
            limit: self.limit.unwrap_or(50).clamp(1, 200),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<i64>,
}

fn page<T>(items: Vec<T>, limit: i64, id: impl Fn(&T) -> i64) -> Page<T> {
    let next_cursor = (items.len() as i64 == limit)
        .then(|| items.last().map(&id))
        .flatten();
    Page { items, next_cursor }
}

#[utoipa::path(get, path = "/api/v1/users", tag = "organisation", params(UserQuery), responses((status = 200, body = Page<User>)))]
pub async fn list_users(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<UserQuery>,
) -> AppResult<axum::Json<Page<User>>> {
    let f = q.filter();
    let items = users::list(&s, &auth, &f).await?;
    Ok(axum::Json(page(items, f.limit, |u| u.id)))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "organisation", params(("id" = i64, Path)), responses((status = 200, body = UserDetail), (status = 404, description = "no such user, or outside your data scope")))]
pub async fn get_user(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> AppResult<axum::Json<UserDetail>> {
    Ok(axum::Json(users::get(&s, &auth, id).await?))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "organisation", request_body = UserInput, responses((status = 201, body = CreatedUser), (status = 422)))]
pub async fn create_user(
    State(s): State<AppState>,
    auth: Auth,
    Json(i): Json<UserInput>,
) -> AppResult<(StatusCode, axum::Json<CreatedUser>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(users::create(&s, &auth, &i).await?),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct UserPatch {
    #[serde(flatten)]
    pub fields: UserInput,
    /// false disables the account and ends its sessions at once.
    #[serde(default)]
    pub is_active: Option<bool>,
}

#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "organisation", params(("id" = i64, Path)), request_body = UserPatch, responses((status = 200, body = UserDetail), (status = 404), (status = 422)))]
pub async fn update_user(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(p): Json<UserPatch>,
) -> AppResult<axum::Json<UserDetail>> {
    let mut detail = users::update(&s, &auth, id, &p.fields).await?;
    if let Some(active) = p.is_active.filter(|a| *a != detail.user.is_active) {
        detail = users::set_active(&s, &auth, id, active).await?;
    }
    Ok(axum::Json(detail))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct NewPassword {
    /// The new password, shown once.
    pub password: String,
}

#[utoipa::path(post, path = "/api/v1/users/{id}/reset-password", tag = "organisation", params(("id" = i64, Path)), responses((status = 200, body = NewPassword), (status = 404)))]
pub async fn reset_password(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> AppResult<axum::Json<NewPassword>> {
    Ok(axum::Json(NewPassword {
        password: users::reset_password(&s, &auth, id).await?,
    }))
}

#[utoipa::path(get, path = "/api/v1/roles", tag = "organisation", responses((status = 200, body = Vec<RoleDetail>)))]
pub async fn list_roles(
    State(s): State<AppState>,
    auth: Auth,
) -> AppResult<axum::Json<Vec<RoleDetail>>> {
    Ok(axum::Json(roles::list(&s, &auth).await?))
}

#[utoipa::path(get, path = "/api/v1/roles/{id}", tag = "organisation", params(("id" = i64, Path)), responses((status = 200, body = RoleDetail), (status = 404)))]
pub async fn get_role(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> AppResult<axum::Json<RoleDetail>> {
    Ok(axum::Json(roles::get(&s, &auth, id).await?))
}

#[utoipa::path(post, path = "/api/v1/roles", tag = "organisation", request_body = RoleBody, responses((status = 201, body = RoleDetail), (status = 422)))]
pub async fn create_role(
    State(s): State<AppState>,
    auth: Auth,
    Json(b): Json<RoleBody>,
) -> AppResult<(StatusCode, axum::Json<RoleDetail>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(roles::create(&s, &auth, &b).await?),
    ))
}

#[utoipa::path(put, path = "/api/v1/roles/{id}", tag = "organisation", params(("id" = i64, Path)), request_body = RoleBody, responses((status = 200, body = RoleDetail), (status = 404), (status = 422)))]
pub async fn update_role(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(b): Json<RoleBody>,
) -> AppResult<axum::Json<RoleDetail>> {
    Ok(axum::Json(roles::update(&s, &auth, id, &b).await?))
}

#[utoipa::path(delete, path = "/api/v1/roles/{id}", tag = "organisation", params(("id" = i64, Path)), responses((status = 204), (status = 409, description = "built-in administrator role, or still assigned")))]
pub async fn delete_role(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> AppResult<StatusCode> {
    roles::delete(&s, &auth, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct AuditQuery {
    pub username: Option<String>,
    /// An action code such as `login`, `login.failed`, `user.create`.
    pub action: Option<String>,
    pub module: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub q: Option<String>,
    /// The `next_cursor` of the previous page (entries come newest first).
    pub cursor: Option<i64>,
    pub limit: Option<i64>,
}

impl AuditQuery {
    pub fn filter(&self) -> Filter {
        let nonempty = |s: &Option<String>| s.clone().filter(|s| !s.trim().is_empty());
        Filter {
            username: nonempty(&self.username),
            action: nonempty(&self.action),
            module: nonempty(&self.module),
            from: self.from,
            to: self.to,
            q: nonempty(&self.q),
            before_id: self.cursor,
            limit: self.limit.unwrap_or(50).clamp(1, 500),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/audit-log", tag = "system", params(AuditQuery), responses((status = 200, body = Page<Entry>)))]
pub async fn audit_log(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<AuditQuery>,
) -> AppResult<axum::Json<Page<Entry>>> {
    let f = q.filter();
    let items = audit::search(&s, &auth, &f).await?;
    Ok(axum::Json(page(items, f.limit, |e| e.id)))
}

#[utoipa::path(get, path = "/api/v1/settings", tag = "system", responses((status = 200, body = Settings)))]
pub async fn get_settings(
    State(s): State<AppState>,
    auth: Auth,
) -> AppResult<axum::Json<Settings>> {
    Ok(axum::Json(settings::get(&s, &auth).await?))
}

#[utoipa::path(put, path = "/api/v1/settings", tag = "system", request_body = Settings, responses((status = 200, body = Settings), (status = 422)))]
pub async fn put_settings(
    State(s): State<AppState>,
    auth: Auth,
    Json(b): Json<Settings>,
) -> AppResult<axum::Json<Settings>> {
    Ok(axum::Json(settings::save(&s, &auth, &b).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ModuleInfo {
    pub code: String,
    pub name: String,
    pub actions: Vec<String>,
    /// Whether a data scope applies to this module's records.
    pub scoped: bool,
}

#[utoipa::path(get, path = "/api/v1/modules", tag = "system", responses((status = 200, body = Vec<ModuleInfo>)))]
pub async fn modules(auth: Auth) -> axum::Json<Vec<ModuleInfo>> {
    let i = guanxi_core::I18n::global();
    axum::Json(
        guanxi_core::Module::ALL
            .iter()
            .map(|m| ModuleInfo {
                code: m.code().into(),
                name: i.t(auth.locale, &format!("module-{}", m.code())),
                actions: m.actions().iter().map(|a| a.code().into()).collect(),
                scoped: m.is_scoped(),
            })
            .collect(),
    )
}
