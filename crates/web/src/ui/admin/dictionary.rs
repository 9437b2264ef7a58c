//! The data dictionary page (数据字典): pick a list, then add, relabel, reorder, enable, disable
//! and delete its options. Every action is a plain form, so the page works without JavaScript.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use guanxi_core::validate::FieldError;
use guanxi_core::{Action, Module};
use guanxi_store::dictionary::Item;

use super::field_error;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::services::dictionary::{self, ItemPatch, NewItem};
use crate::state::AppState;
use crate::ui::pages::Flash;
use crate::ui::{RawForm, Shell};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/dictionary", get(first_page))
        .route("/admin/dictionary/{list}", get(page).post(create))
        .route("/admin/dictionary/{list}/{id}", post(update))
        .route("/admin/dictionary/{list}/{id}/active", post(set_active))
        .route("/admin/dictionary/{list}/{id}/move", post(move_item))
        .route("/admin/dictionary/{list}/{id}/delete", post(delete))
}

pub struct Tab {
    pub name: String,
    pub label: String,
    pub count: usize,
    pub current: bool,
}

pub struct Row {
    pub item: Item,
    /// The label in the viewer's language.
    pub label: String,
    /// Records that hold the code.
    pub used: i64,
    pub first: bool,
    pub last: bool,
}

/// What the add form showed when it was refused.
#[derive(Default)]
pub struct NewForm {
    pub code: String,
    pub label_zh: String,
    pub label_en: String,
    pub sort_order: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "dictionary.html")]
pub struct Page {
    shell: Shell,
    tabs: Vec<Tab>,
    list: String,
    list_label: String,
    rows: Vec<Row>,
    can_manage: bool,
    error: Option<String>,
    errors: Vec<(String, String)>,
    new: NewForm,
}

impl Page {
    fn error(&self, field: &str) -> String {
        field_error(&self.errors, field)
    }
}

async fn render(
    state: &AppState,
    auth: &Auth,
    list: &str,
    ok: Option<&str>,
    refused: Option<(&AppError, NewForm)>,
) -> AppResult<Page> {
    let items = dictionary::items_with_usage(state, auth, list).await?;
    let tabs = dictionary::lists(state, auth)
        .await?
        .into_iter()
        .map(|l| Tab {
            current: l.name == list,
            count: l.items.len(),
            name: l.name,
            label: l.label,
        })
        .collect();
    let n = items.len();
    let rows = items
        .into_iter()
        .enumerate()
        .map(|(pos, (item, used))| Row {
            label: item.label(auth.locale).to_owned(),
            item,
            used,
            first: pos == 0,
            last: pos + 1 == n,
        })
        .collect();
    let shell = Shell::new(state, auth, "/admin/dictionary", "dictionary-title")
        .await
        .crumb("/admin/dictionary", "menu-admin")
        .flash(ok);
    let tr = shell.tr;
    let (error, errors, new) = match refused {
        Some((e, new)) => {
            let fields = e.fields(auth.locale);
            let msg = if fields.is_empty() {
                e.message(auth.locale)
            } else {
                fields
                    .iter()
                    .map(|(f, m)| format!("{}: {m}", tr.t(&field_key(f))))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            (Some(msg), fields, new)
        }
        None => (None, vec![], NewForm::default()),
    };
    Ok(Page {
        tabs,
        list: list.to_owned(),
        list_label: dictionary::list_label(auth.locale, list),
        rows,
        can_manage: auth.principal.can(Module::Settings, Action::Manage),
        error,
        errors,
        new,
        shell,
    })
}

/// The label key of a form field, for error messages shown above the table.
fn field_key(field: &str) -> String {
    match field {
        "sort_order" | "ids" => "dictionary-order".to_owned(),
        other => format!("dictionary-{}", other.replace('_', "-")),
    }
}

/// `/admin/dictionary` shows the first list.
async fn first_page(
    State(state): State<AppState>,
    auth: Auth,
    Query(f): Query<Flash>,
) -> AppResult<Page> {
    let first = dictionary::list_names(&state, &auth)
        .await?
        .into_iter()
        .next()
        .map(|(n, _)| n)
        .ok_or(AppError::NotFound)?;
    render(&state, &auth, &first, f.ok.as_deref(), None).await
}

async fn page(
    State(state): State<AppState>,
    auth: Auth,
    Path(list): Path<String>,
    Query(f): Query<Flash>,
) -> AppResult<Page> {
    render(&state, &auth, &list, f.ok.as_deref(), None).await
}

fn list_and_id(p: Result<Path<(String, String)>, PathRejection>) -> AppResult<(String, i64)> {
    let Path((list, raw)) = p.map_err(|_| AppError::NotFound)?;
    Ok((list, raw.parse().map_err(|_| AppError::NotFound)?))
}

/// An optional whole number from a form field.
fn sort_order(form: &RawForm) -> Result<Option<i32>, AppError> {
    let raw = form.get("sort_order").trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse()
        .map(Some)
        .map_err(|_| FieldError::new("sort_order", "error-integer").into())
}

/// Back to the list with a toast, or the page again with the problem shown.
async fn respond<T>(
    state: &AppState,
    auth: &Auth,
    list: &str,
    r: AppResult<T>,
    ok: &str,
    new: NewForm,
) -> AppResult<Response> {
    match r {
        Ok(_) => Ok(Redirect::to(&format!(
            "/admin/dictionary/{}?ok={ok}",
            crate::ui::urlencode(list)
        ))
        .into_response()),
        Err(e @ (AppError::Validation(_) | AppError::Conflict(..))) => Ok((
            e.status(),
            render(state, auth, list, None, Some((&e, new))).await?,
        )
            .into_response()),
        Err(e) => Err(e),
    }
}

async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Path(list): Path<String>,
    form: RawForm,
) -> AppResult<Response> {
    let new = NewForm {
        code: form.get("code").to_owned(),
        label_zh: form.get("label_zh").to_owned(),
        label_en: form.get("label_en").to_owned(),
        sort_order: form.get("sort_order").to_owned(),
    };
    let r = match sort_order(&form) {
        Ok(sort_order) => {
            let input = NewItem {
                code: new.code.clone(),
                label_zh: new.label_zh.clone(),
                label_en: new.label_en.clone(),
                sort_order,
                active: Some(true),
            };
            dictionary::create(&state, &auth, &list, &input).await
        }
        Err(e) => Err(e),
    };
    respond(&state, &auth, &list, r, "flash-created", new).await
}

async fn update(
    State(state): State<AppState>,
    auth: Auth,
    p: Result<Path<(String, String)>, PathRejection>,
    form: RawForm,
) -> AppResult<Response> {
    let (list, id) = list_and_id(p)?;
    let r = match sort_order(&form) {
        Ok(sort_order) => {
            let patch = ItemPatch {
                label_zh: Some(form.get("label_zh").to_owned()),
                label_en: Some(form.get("label_en").to_owned()),
                sort_order,
                active: None,
            };
            dictionary::update(&state, &auth, &list, id, &patch).await
        }
        Err(e) => Err(e),
    };
    respond(&state, &auth, &list, r, "flash-saved", NewForm::default()).await
}

async fn set_active(
    State(state): State<AppState>,
    auth: Auth,
    p: Result<Path<(String, String)>, PathRejection>,
    form: RawForm,
) -> AppResult<Response> {
    let (list, id) = list_and_id(p)?;
    let active = form.get("active") == "true";
    let patch = ItemPatch {
        active: Some(active),
        ..ItemPatch::default()
    };
    let r = dictionary::update(&state, &auth, &list, id, &patch).await;
    let ok = if active {
        "flash-dictionary-enabled"
    } else {
        "flash-dictionary-disabled"
    };
    respond(&state, &auth, &list, r, ok, NewForm::default()).await
}

async fn move_item(
    State(state): State<AppState>,
    auth: Auth,
    p: Result<Path<(String, String)>, PathRejection>,
    form: RawForm,
) -> AppResult<Response> {
    let (list, id) = list_and_id(p)?;
    let up = match form.get("dir") {
        "up" => true,
        "down" => false,
        _ => return Err(AppError::BadRequest("error-form-body")),
    };
    let r = dictionary::move_item(&state, &auth, &list, id, up).await;
    respond(&state, &auth, &list, r, "flash-saved", NewForm::default()).await
}

async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    p: Result<Path<(String, String)>, PathRejection>,
) -> AppResult<Response> {
    let (list, id) = list_and_id(p)?;
    let r = dictionary::delete(&state, &auth, &list, id).await;
    respond(&state, &auth, &list, r, "flash-deleted", NewForm::default()).await
}
