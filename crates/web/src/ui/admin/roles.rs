//! Roles: the list and the permission matrix editor (modules × actions, plus a data scope).

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use guanxi_core::{Action, Module, Scope};

use super::field_error;
use crate::api::Id;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::services::roles::{self, ModuleGrant, RoleBody, RoleDetail};
use crate::state::AppState;
use crate::ui::pages::Flash;
use crate::ui::{RawForm, Shell};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/roles", get(list).post(create))
        .route("/admin/roles/new", get(new_form))
        .route("/admin/roles/{id}", get(edit_form).post(update))
        .route("/admin/roles/{id}/delete", post(delete))
}

#[derive(Template, WebTemplate)]
#[template(path = "roles.html")]
pub struct ListPage {
    shell: Shell,
    roles: Vec<RoleDetail>,
    can_create: bool,
}

async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(f): Query<Flash>,
) -> AppResult<ListPage> {
    let roles = roles::list(&state, &auth).await?;
    Ok(ListPage {
        shell: Shell::new(&state, &auth, "/admin/roles", "module-roles")
            .await
            .crumb("/admin/roles", "menu-admin")
            .flash(f.ok.as_deref()),
        roles,
        can_create: auth.principal.can(Module::Roles, Action::Create),
    })
}

/// One row of the matrix: a module, its applicable actions with their state, and its scope.
pub struct MatrixRow {
    pub module: &'static str,
    pub actions: Vec<(&'static str, bool)>,
    pub scoped: bool,
    pub scope: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "role_form.html")]
pub struct FormPage {
    shell: Shell,
    id: Option<i64>,
    builtin_admin: bool,
    name: String,
    description: String,
    require_totp: bool,
    /// The daily limit of opened pool customers as typed; empty: no limit.
    pool_daily_views: String,
    pool_contacts_visible: bool,
    matrix: Vec<MatrixRow>,
    all_actions: Vec<&'static str>,
    scopes: Vec<&'static str>,
    errors: Vec<(String, String)>,
    can_edit: bool,
    can_delete: bool,
}

impl FormPage {
    fn error(&self, field: &str) -> String {
        field_error(&self.errors, field)
    }
}

fn matrix(perms: &BTreeMap<String, ModuleGrant>) -> Vec<MatrixRow> {
    Module::ALL
        .iter()
        .map(|m| {
            let g = perms.get(m.code());
            MatrixRow {
                module: m.code(),
                actions: Action::ALL
                    .iter()
                    .map(|a| {
                        let applicable = m.actions().contains(a);
                        let on = g.is_some_and(|g| g.actions.iter().any(|x| x == a.code()));
                        (if applicable { a.code() } else { "" }, on)
                    })
                    .collect(),
                scoped: m.is_scoped(),
                scope: g
                    .map(|g| g.scope.clone())
                    .unwrap_or_else(|| Scope::Own.code().to_owned()),
            }
        })
        .collect()
}

async fn page(state: &AppState, auth: &Auth, id: Option<i64>, title: &str) -> AppResult<FormPage> {
    Ok(FormPage {
        shell: Shell::new(state, auth, "/admin/roles", title)
            .await
            .crumb("/admin/roles", "module-roles"),
        id,
        builtin_admin: false,
        name: String::new(),
        description: String::new(),
        require_totp: false,
        pool_daily_views: String::new(),
        pool_contacts_visible: true,
        matrix: matrix(&BTreeMap::new()),
        all_actions: Action::ALL.iter().map(|a| a.code()).collect(),
        scopes: Scope::ALL.iter().map(|s| s.code()).collect(),
        errors: vec![],
        can_edit: auth.principal.can(Module::Roles, Action::Edit),
        can_delete: auth.principal.can(Module::Roles, Action::Delete),
    })
}

async fn new_form(State(state): State<AppState>, auth: Auth) -> AppResult<FormPage> {
    auth.principal.authorize(Module::Roles, Action::Create)?;
    let mut p = page(&state, &auth, None, "role-new").await?;
    p.can_edit = true;
    Ok(p)
}

async fn edit_form(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Query(f): Query<Flash>,
) -> AppResult<FormPage> {
    let r = roles::get(&state, &auth, id).await?;
    let mut p = page(&state, &auth, Some(id), "role-edit").await?;
    p.shell = p.shell.title(r.display_name.clone()).flash(f.ok.as_deref());
    p.builtin_admin = r.role.code.as_deref() == Some("admin");
    p.name = r.role.name.clone().unwrap_or(r.display_name.clone());
    p.description = r.role.description.clone().unwrap_or_default();
    p.require_totp = r.role.require_totp;
    p.pool_daily_views = r
        .role
        .pool_daily_views
        .map(|n| n.to_string())
        .unwrap_or_default();
    p.pool_contacts_visible = r.role.pool_contacts_visible;
    p.matrix = matrix(&r.permissions);
    Ok(p)
}

/// Reads the matrix: check boxes named `perm.<module>` with action values, `scope.<module>`.
fn permissions(form: &RawForm) -> BTreeMap<String, ModuleGrant> {
    Module::ALL
        .iter()
        .map(|m| {
            let actions = form
                .all(&format!("perm.{}", m.code()))
                .into_iter()
                .map(str::to_owned)
                .collect();
            let scope = form.get(&format!("scope.{}", m.code())).to_owned();
            (m.code().to_owned(), ModuleGrant { actions, scope })
        })
        .collect()
}

/// Reads the form: the matrix and the pool limits, refusing a daily limit that is not a whole
/// number from 0.
fn body(form: &RawForm) -> AppResult<RoleBody> {
    let views = roles::daily_views_from_text(form.get("pool_daily_views"))
        .map_err(|e| AppError::Validation(vec![e]))?;
    Ok(RoleBody {
        name: form.get("name").to_owned(),
        description: form.get("description").to_owned(),
        require_totp: form.has("require_totp"),
        permissions: permissions(form),
        pool_daily_views: Some(views),
        pool_contacts_visible: Some(form.has("pool_contacts_visible")),
    })
}

async fn redisplay(
    state: &AppState,
    auth: &Auth,
    id: Option<i64>,
    form: &RawForm,
    e: AppError,
) -> AppResult<Response> {
    let mut p = page(
        state,
        auth,
        id,
        if id.is_some() {
            "role-edit"
        } else {
            "role-new"
        },
    )
    .await?;
    p.can_edit = true;
    p.name = form.get("name").to_owned();
    p.description = form.get("description").to_owned();
    p.require_totp = form.has("require_totp");
    p.pool_daily_views = form.get("pool_daily_views").to_owned();
    p.pool_contacts_visible = form.has("pool_contacts_visible");
    p.matrix = matrix(&permissions(form));
    p.errors = e.fields(auth.locale);
    if p.errors.is_empty() {
        p.errors.push(("name".into(), e.message(auth.locale)));
    }
    Ok((e.status(), p).into_response())
}

async fn create(State(state): State<AppState>, auth: Auth, form: RawForm) -> AppResult<Response> {
    let r = match body(&form) {
        Ok(b) => roles::create(&state, &auth, &b).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(r) => Ok(
            Redirect::to(&format!("/admin/roles/{}?ok=flash-created", r.role.id)).into_response(),
        ),
        Err(e @ AppError::Validation(_)) => redisplay(&state, &auth, None, &form, e).await,
        Err(e) => Err(e),
    }
}

async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    form: RawForm,
) -> AppResult<Response> {
    let r = match body(&form) {
        Ok(b) => roles::update(&state, &auth, id, &b).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(_) => Ok(Redirect::to(&format!("/admin/roles/{id}?ok=flash-saved")).into_response()),
        Err(e @ AppError::Validation(_)) => redisplay(&state, &auth, Some(id), &form, e).await,
        Err(e) => Err(e),
    }
}

async fn delete(State(state): State<AppState>, auth: Auth, Id(id): Id) -> AppResult<Response> {
    roles::delete(&state, &auth, id).await?;
    Ok(Redirect::to("/admin/roles?ok=flash-deleted").into_response())
}
