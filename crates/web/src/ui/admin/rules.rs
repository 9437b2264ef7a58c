//! The rules page (客户自动分类 / 信用等级): two tabs, each a list in priority order with move
//! up / down, enable / disable and delete as plain forms; a page per rule with the condition
//! builder (`assets/rules.js`, which posts the tree to the API) over a JSON text area that the
//! form posts when scripts are off. Also 交还规则 from a customer's page.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use guanxi_core::rules::{Node, RuleKind};
use guanxi_core::{Action, Module};
use serde::Deserialize;
use serde_json::{Value, json};

use super::field_error;
use crate::api::Id;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::services::rules::{self, Choice, Explanation, RuleInput, RulePatch, RuleView};
use crate::state::AppState;
use crate::ui::{RawForm, Shell, Tr};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/rules", get(page).post(create))
        .route("/admin/rules/new", get(new_form))
        .route("/admin/rules/{id}", post(update))
        .route("/admin/rules/{id}/edit", get(edit_form))
        .route("/admin/rules/{id}/move", post(move_rule))
        .route("/admin/rules/{id}/active", post(set_active))
        .route("/admin/rules/{id}/delete", post(delete))
        .route("/customers/{id}/credit/hand-back", post(hand_back))
        .route("/customers/{id}/rules-explanation", get(fragment))
}

#[derive(Deserialize, Default)]
pub struct RulesQuery {
    kind: Option<String>,
    ok: Option<String>,
}

fn kind_or_default(k: Option<&str>) -> AppResult<RuleKind> {
    match k {
        None | Some("") => Ok(RuleKind::Classification),
        Some(k) => RuleKind::from_code(k).ok_or(AppError::NotFound),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "rules.html")]
pub struct ListPage {
    shell: Shell,
    kind: &'static str,
    /// (kind, label, current)
    tabs: Vec<(&'static str, String, bool)>,
    help: String,
    rules: Vec<RuleView>,
    can_manage: bool,
    reevaluating: bool,
}

/// Whether a re-evaluation is waiting or running.
async fn reevaluating(state: &AppState) -> AppResult<bool> {
    Ok(guanxi_store::jobs::recent(&state.db, 20)
        .await?
        .iter()
        .any(|j| {
            j.kind == rules::JOB_REEVALUATE && matches!(j.state.as_str(), "queued" | "running")
        }))
}

async fn page(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<RulesQuery>,
) -> AppResult<ListPage> {
    let kind = kind_or_default(q.kind.as_deref())?;
    let list = rules::list(&state, &auth, Some(kind.code())).await?;
    let shell = Shell::new(&state, &auth, "/admin/rules", "rules-title")
        .await
        .crumb("/admin/rules", "menu-admin")
        .flash(q.ok.as_deref());
    let tr = shell.tr;
    Ok(ListPage {
        kind: kind.code(),
        tabs: RuleKind::ALL
            .into_iter()
            .map(|k| {
                (
                    k.code(),
                    tr.t(&format!("rules-tab-{}", k.code())),
                    k == kind,
                )
            })
            .collect(),
        help: tr.t(&format!("rules-help-{}", kind.code())),
        rules: list,
        can_manage: auth.principal.can(Module::Settings, Action::Manage),
        reevaluating: reevaluating(&state).await?,
        shell,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "rules_form.html")]
pub struct FormPage {
    shell: Shell,
    kind: &'static str,
    /// Where the form posts without scripts, and where the script sends the tree.
    action: String,
    api: String,
    method: &'static str,
    name: String,
    result: String,
    result_label: String,
    results: Vec<Choice>,
    conditions: String,
    active: bool,
    preview: String,
    errors: Vec<(String, String)>,
    error: Option<String>,
    data_json: String,
}

impl FormPage {
    fn error(&self, f: &str) -> String {
        field_error(&self.errors, f)
    }

    /// Every problem of the conditions (they are keyed by path: `conditions.0.1`).
    fn conditions_error(&self) -> String {
        self.errors
            .iter()
            .filter(|(f, _)| f.starts_with("conditions"))
            .map(|(_, m)| m.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// What the form shows: a rule being created or edited, as stored or as posted.
struct Draft {
    id: Option<i64>,
    kind: RuleKind,
    name: String,
    result: String,
    conditions: Value,
    active: bool,
}

async fn render_form(
    state: &AppState,
    auth: &Auth,
    d: Draft,
    refused: Option<&AppError>,
) -> AppResult<FormPage> {
    auth.principal.authorize(Module::Settings, Action::Manage)?;
    let (cat, fields) = rules::catalog(state, auth.locale).await?;
    let title = if d.id.is_some() {
        "rules-edit"
    } else {
        "rules-new"
    };
    let shell = Shell::new(state, auth, "/admin/rules", title)
        .await
        .crumb("/admin/rules", "menu-admin")
        .crumb(
            &format!("/admin/rules?kind={}", d.kind.code()),
            &format!("rules-tab-{}", d.kind.code()),
        );
    let tr: Tr = shell.tr;
    let results = match d.kind {
        RuleKind::Classification => fields.classification.clone(),
        RuleKind::Credit => fields.credit.clone(),
    };
    let usable: Vec<_> = fields
        .fields
        .iter()
        .filter(|f| f.kinds.iter().any(|k| k == d.kind.code()))
        .collect();
    let preview = Node::parse(&d.conditions)
        .map(|n| guanxi_core::rules::describe(&n, &cat, auth.locale))
        .unwrap_or_default();
    let keys = [
        "rules-group-all",
        "rules-group-any",
        "rules-group-match",
        "rules-add-condition",
        "rules-add-group",
        "rules-remove-condition",
        "rules-remove-group",
        "rules-field",
        "rules-op",
        "rules-value",
        "rules-value-from",
        "rules-value-to",
        "rules-days",
        "rules-choose",
        "rules-saving-failed",
        "rules-builder-label",
        "rule-and",
        "rule-or",
        "rule-always",
        "yes",
        "no",
    ];
    let t: serde_json::Map<String, Value> = keys
        .iter()
        .map(|k| ((*k).to_owned(), json!(tr.t(k))))
        .collect();
    let (api, method, action) = match d.id {
        Some(id) => (
            format!("/api/v1/rules/{id}"),
            "PATCH",
            format!("/admin/rules/{id}"),
        ),
        None => (
            "/api/v1/rules".to_owned(),
            "POST",
            "/admin/rules".to_owned(),
        ),
    };
    let data = json!({ "fields": usable, "tree": d.conditions, "t": t, "kind": d.kind.code() });
    let (errors, error) = match refused {
        Some(e) => {
            let fields = e.fields(auth.locale);
            let msg = (fields.is_empty()).then(|| e.message(auth.locale));
            (fields, msg)
        }
        None => (vec![], None),
    };
    Ok(FormPage {
        kind: d.kind.code(),
        action,
        api,
        method,
        name: d.name,
        result: d.result,
        result_label: tr.t(&format!("rules-result-{}", d.kind.code())),
        results,
        conditions: serde_json::to_string_pretty(&d.conditions).unwrap_or_default(),
        active: d.active,
        preview,
        errors,
        error,
        // A JSON data block is never executed; `<` escaped keeps `</script>` out of it.
        data_json: data.to_string().replace('<', "\\u003c"),
        shell,
    })
}

async fn new_form(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<RulesQuery>,
) -> AppResult<FormPage> {
    let kind = kind_or_default(q.kind.as_deref())?;
    let d = Draft {
        id: None,
        kind,
        name: String::new(),
        result: String::new(),
        conditions: Node::always().to_value(),
        active: true,
    };
    render_form(&state, &auth, d, None).await
}

async fn edit_form(State(state): State<AppState>, auth: Auth, Id(id): Id) -> AppResult<FormPage> {
    let r = rules::get(&state, &auth, id).await?;
    let d = Draft {
        id: Some(r.id),
        kind: RuleKind::from_code(&r.kind).ok_or(AppError::NotFound)?,
        name: r.name,
        result: r.result,
        conditions: r.conditions,
        active: r.active,
    };
    render_form(&state, &auth, d, None).await
}

/// The form as posted without scripts; conditions that are not JSON become an empty object,
/// which the service refuses with a message.
fn draft(form: &RawForm, id: Option<i64>, kind: RuleKind) -> Draft {
    Draft {
        id,
        kind,
        name: form.get("name").to_owned(),
        result: form.get("result").to_owned(),
        conditions: serde_json::from_str(form.get("conditions")).unwrap_or(json!({})),
        active: form.has("active"),
    }
}

async fn respond<T>(
    state: &AppState,
    auth: &Auth,
    d: Draft,
    r: AppResult<T>,
    ok: &str,
) -> AppResult<Response> {
    match r {
        Ok(_) => Ok(
            Redirect::to(&format!("/admin/rules?kind={}&ok={ok}", d.kind.code())).into_response(),
        ),
        Err(e @ AppError::Validation(_)) => {
            Ok((e.status(), render_form(state, auth, d, Some(&e)).await?).into_response())
        }
        Err(e) => Err(e),
    }
}

async fn create(State(state): State<AppState>, auth: Auth, form: RawForm) -> AppResult<Response> {
    let kind = kind_or_default(Some(form.get("kind")))?;
    let d = draft(&form, None, kind);
    let input = RuleInput {
        kind: kind.code().to_owned(),
        name: d.name.clone(),
        conditions: d.conditions.clone(),
        result: d.result.clone(),
        active: d.active,
    };
    let r = rules::create(&state, &auth, &input).await;
    respond(&state, &auth, d, r, "flash-rules-saved").await
}

async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    form: RawForm,
) -> AppResult<Response> {
    let old = rules::get(&state, &auth, id).await?;
    let kind = RuleKind::from_code(&old.kind).ok_or(AppError::NotFound)?;
    let d = draft(&form, Some(id), kind);
    let patch = RulePatch {
        name: Some(d.name.clone()),
        conditions: Some(d.conditions.clone()),
        result: Some(d.result.clone()),
        active: Some(d.active),
    };
    let r = rules::update(&state, &auth, id, &patch).await;
    respond(&state, &auth, d, r, "flash-rules-saved").await
}

fn back(kind: &str, ok: &str) -> Response {
    Redirect::to(&format!("/admin/rules?kind={kind}&ok={ok}")).into_response()
}

async fn move_rule(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    form: RawForm,
) -> AppResult<Response> {
    let up = match form.get("dir") {
        "up" => true,
        "down" => false,
        _ => return Err(AppError::BadRequest("error-form-body")),
    };
    let r = rules::get(&state, &auth, id).await?;
    rules::move_rule(&state, &auth, id, up).await?;
    Ok(back(&r.kind, "flash-rules-saved"))
}

async fn set_active(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    form: RawForm,
) -> AppResult<Response> {
    let active = form.get("active") == "true";
    let patch = RulePatch {
        active: Some(active),
        ..RulePatch::default()
    };
    let r = rules::update(&state, &auth, id, &patch).await?;
    let ok = if active {
        "flash-rules-enabled"
    } else {
        "flash-rules-disabled"
    };
    Ok(back(&r.kind, ok))
}

async fn delete(State(state): State<AppState>, auth: Auth, Id(id): Id) -> AppResult<Response> {
    let r = rules::get(&state, &auth, id).await?;
    rules::delete(&state, &auth, id).await?;
    Ok(back(&r.kind, "flash-rules-deleted"))
}

/// 交还规则 from the customer's page, then back to it.
async fn hand_back(State(state): State<AppState>, auth: Auth, Id(id): Id) -> AppResult<Response> {
    rules::hand_back(&state, &auth, id).await?;
    Ok(Redirect::to(&format!("/customers/{id}?ok=flash-credit-handed-back")).into_response())
}

/// The explanation of a customer's type and level, as included in its page (`tr` and
/// `explanation` are the fragment's whole context).
#[derive(Template, WebTemplate)]
#[template(path = "rules_explanation.html")]
pub struct ExplanationFragment {
    pub tr: Tr,
    pub explanation: Explanation,
}

/// The fragment alone, for in-place refreshes.
async fn fragment(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> AppResult<ExplanationFragment> {
    Ok(ExplanationFragment {
        tr: Tr(auth.locale),
        explanation: rules::explain(&state, &auth, id).await?,
    })
}
