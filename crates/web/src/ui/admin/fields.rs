//! The custom field administration page (扩展字段): per module, add fields and change their
//! labels, order, visibility, list column, index and retirement.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use guanxi_core::engine::{FieldKind, MODULES};
use guanxi_core::{Action, Module};
use guanxi_store::custom_fields::CustomField;
use serde::Deserialize;

use super::field_error;
use crate::api::Id;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::services::custom_fields::{self, FieldInput};
use crate::state::AppState;
use crate::ui::{RawForm, Shell};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/fields", get(page).post(create))
        .route("/admin/fields/{id}", post(update))
}

#[derive(Deserialize, Default)]
pub struct FieldsQuery {
    module: Option<String>,
    ok: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "fields.html")]
pub struct Page {
    shell: Shell,
    module: String,
    modules: Vec<(String, String)>,
    fields: Vec<CustomField>,
    kinds: Vec<(String, String)>,
    dictionaries: Vec<String>,
    errors: Vec<(String, String)>,
    can_manage: bool,
}

impl Page {
    fn error(&self, f: &str) -> String {
        field_error(&self.errors, f)
    }

    fn kind_label(&self, code: &str) -> String {
        self.kinds
            .iter()
            .find(|(c, _)| c == code)
            .map(|(_, l)| l.clone())
            .unwrap_or_else(|| code.to_owned())
    }
}

async fn render(
    state: &AppState,
    auth: &Auth,
    module: &str,
    ok: Option<&str>,
    errors: Vec<(String, String)>,
) -> AppResult<Page> {
    let fields = custom_fields::list(state, auth, module).await?;
    let tr = crate::ui::Tr(auth.locale);
    let mut kinds: Vec<(String, String)> = FieldKind::CUSTOM_KINDS
        .iter()
        .map(|k| {
            (
                k.code(),
                tr.t(&format!("kind-{}", k.code().replace('_', "-"))),
            )
        })
        .collect();
    for m in MODULES {
        kinds.push((
            FieldKind::Relation(m.module).code(),
            format!("{} → {}", tr.t("kind-relation"), tr.module(m.code)),
        ));
    }
    let mut dictionaries: Vec<String> = guanxi_store::dictionary::all(&state.db)
        .await?
        .into_iter()
        .map(|i| i.dictionary)
        .collect();
    dictionaries.dedup();
    Ok(Page {
        shell: Shell::new(state, auth, "/admin/fields", "fields-title")
            .await
            .crumb("/admin/fields", "menu-admin")
            .flash(ok),
        module: module.to_owned(),
        modules: MODULES
            .iter()
            .map(|m| (m.code.to_owned(), tr.module(m.code)))
            .collect(),
        fields,
        kinds,
        dictionaries,
        errors,
        can_manage: auth.principal.can(Module::Settings, Action::Manage),
    })
}

async fn page(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<FieldsQuery>,
) -> AppResult<Page> {
    let module = q.module.unwrap_or_else(|| "customers".into());
    render(&state, &auth, &module, q.ok.as_deref(), vec![]).await
}

fn input(form: &RawForm) -> FieldInput {
    let opt = |k: &str| Some(form.get(k).to_owned()).filter(|s| !s.is_empty());
    FieldInput {
        code: opt("code"),
        kind: opt("kind"),
        label_zh: form.get("label_zh").to_owned(),
        label_en: form.get("label_en").to_owned(),
        required: form.has("required"),
        dictionary: opt("dictionary"),
        indexed: form.has("indexed"),
        list: form.has("list"),
        hidden: form.has("hidden"),
        retired: form.has("retired"),
        sort_order: form.get("sort_order").parse().unwrap_or(0),
    }
}

async fn create(State(state): State<AppState>, auth: Auth, form: RawForm) -> AppResult<Response> {
    let module = form.get("module").to_owned();
    match custom_fields::create(&state, &auth, &module, &input(&form)).await {
        Ok(_) => Ok(
            Redirect::to(&format!("/admin/fields?module={module}&ok=flash-created"))
                .into_response(),
        ),
        Err(e @ AppError::Validation(_)) => {
            let errors = e.fields(auth.locale);
            Ok((
                e.status(),
                render(&state, &auth, &module, None, errors).await?,
            )
                .into_response())
        }
        Err(e) => Err(e),
    }
}

async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    form: RawForm,
) -> AppResult<Response> {
    let module = form.get("module").to_owned();
    custom_fields::update(&state, &auth, &module, id, &input(&form)).await?;
    Ok(Redirect::to(&format!("/admin/fields?module={module}&ok=flash-saved")).into_response())
}
