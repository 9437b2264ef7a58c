//! The department tree page: create, rename, move and delete.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use guanxi_core::{Action, Module};
use guanxi_store::departments::Department;

use crate::api::Id;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::services::departments::{self, DepartmentInput};
use crate::state::AppState;
use crate::ui::pages::Flash;
use crate::ui::{RawForm, Shell};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/departments", get(page).post(create))
        .route("/admin/departments/{id}", post(update))
        .route("/admin/departments/{id}/delete", post(delete))
}

pub struct Row {
    pub dept: Department,
    pub indent: usize,
    pub users: i64,
}

#[derive(Template, WebTemplate)]
#[template(path = "departments.html")]
pub struct Page {
    shell: Shell,
    rows: Vec<Row>,
    can_create: bool,
    can_edit: bool,
    can_delete: bool,
    error: Option<String>,
    name: String,
}

async fn render(
    state: &AppState,
    auth: &Auth,
    ok: Option<&str>,
    error: Option<String>,
    name: String,
) -> AppResult<Page> {
    let all = departments::list(state, auth).await?;
    let counts = guanxi_store::departments::user_counts(&state.db).await?;
    let rows = all
        .into_iter()
        .map(|d| Row {
            indent: d.depth(),
            users: counts
                .iter()
                .find(|(id, _)| *id == d.id)
                .map(|(_, n)| *n)
                .unwrap_or(0),
            dept: d,
        })
        .collect();
    let p = &auth.principal;
    Ok(Page {
        shell: Shell::new(state, auth, "/admin/departments", "module-departments")
            .await
            .crumb("/admin/departments", "menu-admin")
            .flash(ok),
        rows,
        can_create: p.can(Module::Departments, Action::Create),
        can_edit: p.can(Module::Departments, Action::Edit),
        can_delete: p.can(Module::Departments, Action::Delete),
        error,
        name,
    })
}

async fn page(
    State(state): State<AppState>,
    auth: Auth,
    Query(f): Query<Flash>,
) -> AppResult<Page> {
    render(&state, &auth, f.ok.as_deref(), None, String::new()).await
}

fn input(form: &RawForm) -> DepartmentInput {
    DepartmentInput {
        name: form.get("name").to_owned(),
        parent_id: form.opt_id("parent_id"),
    }
}

async fn respond(
    state: &AppState,
    auth: &Auth,
    form: &RawForm,
    r: AppResult<Department>,
    ok: &str,
) -> AppResult<Response> {
    match r {
        Ok(_) => Ok(Redirect::to(&format!("/admin/departments?ok={ok}")).into_response()),
        Err(e @ (AppError::Validation(_) | AppError::Conflict(..))) => {
            let msg = e
                .fields(auth.locale)
                .into_iter()
                .map(|(_, m)| m)
                .next()
                .unwrap_or_else(|| e.message(auth.locale));
            Ok((
                e.status(),
                render(state, auth, None, Some(msg), form.get("name").to_owned()).await?,
            )
                .into_response())
        }
        Err(e) => Err(e),
    }
}

async fn create(State(state): State<AppState>, auth: Auth, form: RawForm) -> AppResult<Response> {
    let r = departments::create(&state, &auth, &input(&form)).await;
    respond(&state, &auth, &form, r, "flash-created").await
}

async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    form: RawForm,
) -> AppResult<Response> {
    let r = departments::update(&state, &auth, id, &input(&form)).await;
    respond(&state, &auth, &form, r, "flash-saved").await
}

async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    form: RawForm,
) -> AppResult<Response> {
    let r = departments::delete(&state, &auth, id).await;
    respond(&state, &auth, &form, r, "flash-deleted").await
}
