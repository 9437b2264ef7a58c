//! User administration: the list (within the data scope), the form, enable/disable and
//! password reset.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use guanxi_core::{Action, Locale, Module};
use guanxi_store::departments::Department;
use guanxi_store::users::User;

use super::field_error;
use crate::api::Id;
use crate::api::admin::UserQuery;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::services::roles;
use crate::services::users::{self, UserInput};
use crate::state::AppState;
use crate::ui::pages::local_time;
use crate::ui::{RawForm, Shell};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(list).post(create))
        .route("/admin/users/new", get(new_form))
        .route("/admin/users/{id}", get(edit_form).post(update))
        .route("/admin/users/{id}/active", post(set_active))
        .route("/admin/users/{id}/reset-password", post(reset_password))
}

#[derive(Template, WebTemplate)]
#[template(path = "users.html")]
pub struct ListPage {
    shell: Shell,
    users: Vec<(User, String)>,
    departments: Vec<Department>,
    q: String,
    department_id: Option<i64>,
    active: String,
    next: Option<String>,
    can_create: bool,
}

async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<UserQuery>,
    Query(f): Query<crate::ui::pages::Flash>,
) -> AppResult<ListPage> {
    let filter = q.filter();
    let items = users::list(&state, &auth, &filter).await?;
    let next = (items.len() as i64 == filter.limit)
        .then(|| items.last().map(|u| u.id))
        .flatten()
        .map(|cursor| {
            let mut s = form_urlencoded::Serializer::new(String::new());
            if let Some(v) = &q.q {
                s.append_pair("q", v);
            }
            if let Some(d) = q.department_id {
                s.append_pair("department_id", &d.to_string());
            }
            if let Some(a) = q.active {
                s.append_pair("active", &a.to_string());
            }
            s.append_pair("cursor", &cursor.to_string());
            format!("/admin/users?{}", s.finish())
        });
    let tz = auth.principal.time_zone.clone();
    let departments = guanxi_store::departments::list(&state.db).await?;
    Ok(ListPage {
        shell: Shell::new(&state, &auth, "/admin/users", "module-users")
            .await
            .crumb("/admin/users", "menu-admin")
            .flash(f.ok.as_deref()),
        users: items
            .into_iter()
            .map(|u| {
                let last = u
                    .last_login_at
                    .as_ref()
                    .map(|t| local_time(t, &tz))
                    .unwrap_or_default();
                (u, last)
            })
            .collect(),
        departments,
        q: q.q.clone().unwrap_or_default(),
        department_id: q.department_id,
        active: q.active.map(|a| a.to_string()).unwrap_or_default(),
        next,
        can_create: auth.principal.can(Module::Users, Action::Create),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "user_form.html")]
pub struct FormPage {
    shell: Shell,
    id: Option<i64>,
    username: String,
    display_name: String,
    mobile: String,
    email: String,
    department_id: Option<i64>,
    locale: String,
    time_zone: String,
    is_active: bool,
    role_ids: Vec<i64>,
    roles: Vec<(i64, String)>,
    departments: Vec<Department>,
    locales: Vec<(String, String)>,
    errors: Vec<(String, String)>,
    can_assign: bool,
    can_edit: bool,
    new_password: Option<String>,
}

impl FormPage {
    fn error(&self, field: &str) -> String {
        field_error(&self.errors, field)
    }

    fn has_role(&self, id: &i64) -> bool {
        self.role_ids.contains(id)
    }
}

async fn blank(state: &AppState, auth: &Auth, id: Option<i64>) -> AppResult<FormPage> {
    let title = if id.is_some() {
        "user-edit"
    } else {
        "user-new"
    };
    let settings = guanxi_store::settings::load(&state.db).await?;
    Ok(FormPage {
        shell: Shell::new(state, auth, "/admin/users", title)
            .await
            .crumb("/admin/users", "module-users"),
        id,
        username: String::new(),
        display_name: String::new(),
        mobile: String::new(),
        email: String::new(),
        department_id: auth.principal.department_id,
        locale: settings.default_locale,
        time_zone: settings.default_time_zone,
        is_active: true,
        role_ids: vec![],
        roles: roles::names(state, auth).await?,
        departments: guanxi_store::departments::list(&state.db).await?,
        locales: Locale::ALL
            .iter()
            .map(|l| (l.code().to_owned(), l.native_name().to_owned()))
            .collect(),
        errors: vec![],
        can_assign: auth.principal.can(Module::Users, Action::Assign),
        can_edit: auth.principal.can(Module::Users, Action::Edit),
        new_password: None,
    })
}

async fn new_form(State(state): State<AppState>, auth: Auth) -> AppResult<FormPage> {
    auth.principal.authorize(Module::Users, Action::Create)?;
    blank(&state, &auth, None).await
}

async fn edit_form(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Query(f): Query<crate::ui::pages::Flash>,
) -> AppResult<FormPage> {
    let d = users::get(&state, &auth, id).await?;
    let mut page = blank(&state, &auth, Some(id)).await?;
    page.shell = page
        .shell
        .title(d.user.display_name.clone())
        .flash(f.ok.as_deref());
    fill(&mut page, &d.user, d.role_ids);
    Ok(page)
}

fn fill(page: &mut FormPage, u: &User, role_ids: Vec<i64>) {
    page.username = u.username.clone();
    page.display_name = u.display_name.clone();
    page.mobile = u.mobile.clone().unwrap_or_default();
    page.email = u.email.clone().unwrap_or_default();
    page.department_id = u.department_id;
    page.locale = u.locale.clone();
    page.time_zone = u.time_zone.clone();
    page.is_active = u.is_active;
    page.role_ids = role_ids;
}

fn input(form: &RawForm, can_assign: bool) -> UserInput {
    UserInput {
        username: Some(form.get("username").to_owned()),
        display_name: Some(form.get("display_name").to_owned()),
        mobile: Some(form.get("mobile").to_owned()),
        email: Some(form.get("email").to_owned()),
        department_id: Some(form.opt_id("department_id")),
        password: Some(form.get("password").to_owned()),
        locale: Some(form.get("locale").to_owned()),
        time_zone: Some(form.get("time_zone").to_owned()),
        role_ids: can_assign.then(|| {
            form.all("role_ids")
                .iter()
                .filter_map(|r| r.parse().ok())
                .collect()
        }),
    }
}

async fn redisplay(
    state: &AppState,
    auth: &Auth,
    id: Option<i64>,
    form: &RawForm,
    e: AppError,
) -> AppResult<Response> {
    let mut page = blank(state, auth, id).await?;
    let i = input(form, true);
    page.username = i.username.unwrap_or_default();
    page.display_name = i.display_name.unwrap_or_default();
    page.mobile = i.mobile.unwrap_or_default();
    page.email = i.email.unwrap_or_default();
    page.department_id = i.department_id.flatten();
    page.locale = i.locale.unwrap_or_default();
    page.time_zone = i.time_zone.unwrap_or_default();
    page.role_ids = i.role_ids.unwrap_or_default();
    page.errors = e.fields(auth.locale);
    Ok((e.status(), page).into_response())
}

async fn create(State(state): State<AppState>, auth: Auth, form: RawForm) -> AppResult<Response> {
    let can_assign = auth.principal.can(Module::Users, Action::Assign);
    match users::create(&state, &auth, &input(&form, can_assign)).await {
        Ok(created) => {
            let mut page = blank(&state, &auth, Some(created.user.user.id)).await?;
            page.shell = page
                .shell
                .title(created.user.user.display_name.clone())
                .flash(Some("flash-created"));
            fill(&mut page, &created.user.user, created.user.role_ids);
            page.new_password = created.initial_password;
            Ok(page.into_response())
        }
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
    let can_assign = auth.principal.can(Module::Users, Action::Assign);
    match users::update(&state, &auth, id, &input(&form, can_assign)).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/users/{id}?ok=flash-saved")).into_response()),
        Err(e @ AppError::Validation(_)) => redisplay(&state, &auth, Some(id), &form, e).await,
        Err(e) => Err(e),
    }
}

async fn set_active(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    form: RawForm,
) -> AppResult<Response> {
    let active = form.get("active") == "true";
    users::set_active(&state, &auth, id, active).await?;
    let ok = if active {
        "flash-user-enabled"
    } else {
        "flash-user-disabled"
    };
    Ok(Redirect::to(&format!("/admin/users/{id}?ok={ok}")).into_response())
}

async fn reset_password(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> AppResult<FormPage> {
    let password = users::reset_password(&state, &auth, id).await?;
    let d = users::get(&state, &auth, id).await?;
    let mut page = blank(&state, &auth, Some(id)).await?;
    page.shell = page
        .shell
        .title(d.user.display_name.clone())
        .flash(Some("flash-password-reset"));
    fill(&mut page, &d.user, d.role_ids);
    page.new_password = Some(password);
    Ok(page)
}
