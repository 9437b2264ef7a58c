//! The region tree page (地区): browse level by level (links down, breadcrumb up, a picker to
//! jump), and add, rename or delete custom regions.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use guanxi_core::{Action, Module};
use guanxi_store::regions::{self, MAX_LEVEL, Region};

use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::services::regions::{self as svc, MAX_NAME, RegionInput, RegionRename};
use crate::state::AppState;
use crate::ui::regions_picker::{self, RegionPicker};
use crate::ui::{RawForm, Shell, urlencode};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/regions", get(page).post(create))
        .route("/admin/regions/{code}", post(rename))
        .route("/admin/regions/{code}/delete", post(delete))
}

pub struct Row {
    pub region: Region,
    pub children: i64,
}

#[derive(Template, WebTemplate)]
#[template(path = "regions.html")]
pub struct Page {
    shell: Shell,
    /// The region whose sub-regions are listed; `None` for the provinces.
    parent: Option<Region>,
    rows: Vec<Row>,
    /// The "go to" picker, named `parent`.
    picker: RegionPicker,
    can_manage: bool,
    /// Whether custom regions can be added here (not below a district).
    can_add: bool,
    max_name: usize,
    max_suffix: usize,
    error: Option<String>,
    code: String,
    name: String,
}

impl Page {
    fn parent_code(&self) -> &str {
        self.parent.as_ref().map(|p| p.code.as_str()).unwrap_or("")
    }
}

fn back(parent: Option<&str>) -> String {
    match parent {
        Some(p) => format!("/admin/regions?parent={}", urlencode(p)),
        None => "/admin/regions".to_owned(),
    }
}

struct Refill {
    error: Option<String>,
    code: String,
    name: String,
}

async fn render(
    state: &AppState,
    auth: &Auth,
    parent: Option<&str>,
    ok: Option<&str>,
    refill: Refill,
) -> AppResult<Page> {
    auth.principal.authorize(Module::Settings, Action::View)?;
    let path = match parent {
        Some(code) => regions::path(&state.db, code).await?,
        None => vec![],
    };
    let children = svc::children(state, auth, parent).await?;
    let counts = regions::child_counts(&state.db, parent).await?;
    let rows = children
        .into_iter()
        .map(|r| Row {
            children: counts
                .iter()
                .find(|(c, _)| *c == r.code)
                .map(|(_, n)| *n)
                .unwrap_or(0),
            region: r,
        })
        .collect();
    let mut shell = Shell::new(state, auth, "/admin/regions", "regions-title")
        .await
        .crumb("/admin/regions", "menu-admin")
        .flash(ok);
    if let Some((current, above)) = path.split_last() {
        shell = shell.crumb("/admin/regions", "regions-title");
        for r in above {
            shell.crumbs.push((back(Some(&r.code)), r.name.clone()));
        }
        shell = shell.title(current.name.clone());
    }
    let p = &auth.principal;
    let can_manage = p.can(Module::Settings, Action::Manage);
    let parent = path.last().cloned();
    Ok(Page {
        shell,
        can_add: can_manage && parent.as_ref().is_none_or(|r| r.level < MAX_LEVEL),
        parent,
        rows,
        picker: regions_picker::picker(&state.db, "parent", parent_code_of(&path)).await?,
        can_manage,
        max_name: MAX_NAME,
        max_suffix: regions::MAX_SUFFIX,
        error: refill.error,
        code: refill.code,
        name: refill.name,
    })
}

fn parent_code_of(path: &[Region]) -> Option<&str> {
    path.last().map(|r| r.code.as_str())
}

async fn page(
    State(state): State<AppState>,
    auth: Auth,
    RawQuery(query): RawQuery,
) -> AppResult<Page> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    let parents: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "parent")
        .map(|(_, v)| v.as_str())
        .collect();
    let parent = regions_picker::submitted(&state.db, &parents).await?;
    let ok = pairs
        .iter()
        .find(|(k, _)| k == "ok")
        .map(|(_, v)| v.as_str());
    let refill = Refill {
        error: None,
        code: String::new(),
        name: String::new(),
    };
    render(&state, &auth, parent.as_deref(), ok, refill).await
}

/// Redirects back to the list after a change, or shows the page again with the message.
async fn respond(
    state: &AppState,
    auth: &Auth,
    parent: Option<&str>,
    form: &RawForm,
    r: AppResult<Region>,
    ok: &str,
) -> AppResult<Response> {
    match r {
        Ok(_) => {
            let sep = if parent.is_some() { '&' } else { '?' };
            Ok(Redirect::to(&format!("{}{sep}ok={ok}", back(parent))).into_response())
        }
        Err(e @ (AppError::Validation(_) | AppError::Conflict(..))) => {
            let msg = e
                .fields(auth.locale)
                .into_iter()
                .map(|(_, m)| m)
                .next()
                .unwrap_or_else(|| e.message(auth.locale));
            let refill = Refill {
                error: Some(msg),
                code: form.get("code").to_owned(),
                name: form.get("name").to_owned(),
            };
            Ok((e.status(), render(state, auth, parent, None, refill).await?).into_response())
        }
        Err(e) => Err(e),
    }
}

async fn create(State(state): State<AppState>, auth: Auth, form: RawForm) -> AppResult<Response> {
    let parent = Some(form.get("parent_code").trim()).filter(|p| !p.is_empty());
    let input = RegionInput {
        parent_code: parent.map(str::to_owned),
        code: form.get("code").to_owned(),
        name: form.get("name").to_owned(),
    };
    let r = svc::create(&state, &auth, &input).await;
    // A parent that vanished meanwhile: show the provinces with the message.
    let parent = match parent {
        Some(p) if regions::get(&state.db, p).await.is_ok() => Some(p),
        _ => None,
    };
    respond(&state, &auth, parent, &form, r, "flash-created").await
}

/// The parent of an existing region (a 404 for an unknown code).
async fn parent_of(state: &AppState, code: &str) -> AppResult<Option<String>> {
    Ok(regions::get(&state.db, code).await?.parent_code)
}

async fn rename(
    State(state): State<AppState>,
    auth: Auth,
    Path(code): Path<String>,
    form: RawForm,
) -> AppResult<Response> {
    let parent = parent_of(&state, &code).await?;
    let input = RegionRename {
        name: form.get("name").to_owned(),
    };
    let r = svc::rename(&state, &auth, &code, &input).await;
    respond(&state, &auth, parent.as_deref(), &form, r, "flash-saved").await
}

async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    Path(code): Path<String>,
    form: RawForm,
) -> AppResult<Response> {
    let parent = parent_of(&state, &code).await?;
    let r = svc::delete(&state, &auth, &code).await;
    respond(&state, &auth, parent.as_deref(), &form, r, "flash-deleted").await
}
