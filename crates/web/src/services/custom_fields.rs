//! Custom fields (扩展字段): administrators add, relabel, reorder, hide and retire fields on any
//! engine module. A new field appears at once in forms, lists, filters, detail pages and the
//! API, because every one of those reads the module's fields per request.

use guanxi_core::engine::{self, FieldKind};
use guanxi_core::validate::{Checker, FieldError, required_text};
use guanxi_core::{Action, Module};
use guanxi_store::audit::{self, Event};
use guanxi_store::custom_fields::{self, CustomField, Input};
use serde::Deserialize;
use serde_json::json;

use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct FieldInput {
    /// Only when creating: `cf_` followed by 1–36 of [a-z0-9_]; derived from the English label
    /// when absent.
    #[serde(default)]
    pub code: Option<String>,
    /// Only when creating: text, long_text, integer, decimal, money, percent, date, date_time,
    /// select, multi_select, checkbox, phone, email, url, user, department, region,
    /// relation:<module>.
    #[serde(default)]
    pub kind: Option<String>,
    pub label_zh: String,
    pub label_en: String,
    #[serde(default)]
    pub required: bool,
    /// The data dictionary list of a select or multi-select field (only when creating).
    #[serde(default)]
    pub dictionary: Option<String>,
    /// Keep an index so filters and sorting on this field stay fast at a million records.
    #[serde(default)]
    pub indexed: bool,
    /// Show as a list column.
    #[serde(default)]
    pub list: bool,
    #[serde(default)]
    pub hidden: bool,
    /// Retired fields disappear everywhere but keep their stored values.
    #[serde(default)]
    pub retired: bool,
    #[serde(default)]
    pub sort_order: i32,
}

fn module(code: &str) -> AppResult<&'static engine::ModuleDef> {
    engine::module_def(code).ok_or(AppError::NotFound)
}

pub async fn list(state: &AppState, auth: &Auth, module_code: &str) -> AppResult<Vec<CustomField>> {
    auth.principal.authorize(Module::Settings, Action::View)?;
    let def = module(module_code)?;
    Ok(custom_fields::definitions(&state.db, def.code).await?)
}

fn slug(label_en: &str) -> String {
    let s: String = label_en
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let s = s
        .split('_')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("_");
    format!("cf_{}", s.chars().take(36).collect::<String>())
}

fn valid_code(code: &str) -> bool {
    code.strip_prefix("cf_").is_some_and(|rest| {
        (1..=36).contains(&rest.len())
            && rest
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    })
}

fn checked_labels(input: &FieldInput, c: &mut Checker) -> (Option<String>, Option<String>) {
    (
        c.check(required_text("label_zh", &input.label_zh, 30)),
        c.check(required_text("label_en", &input.label_en, 50)),
    )
}

pub async fn create(
    state: &AppState,
    auth: &Auth,
    module_code: &str,
    input: &FieldInput,
) -> AppResult<CustomField> {
    auth.principal.authorize(Module::Settings, Action::Manage)?;
    let def = module(module_code)?;
    let mut c = Checker::default();
    let (zh, en) = checked_labels(input, &mut c);
    let code = input
        .code
        .clone()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| slug(&input.label_en));
    if !valid_code(&code) || def.field(&code).is_some() {
        c.push(FieldError::new("code", "error-field-code"));
    }
    let kind = input
        .kind
        .as_deref()
        .and_then(FieldKind::from_code)
        .filter(|k| *k != FieldKind::CreditCode);
    if kind.is_none() {
        c.push(FieldError::new("kind", "error-field-kind"));
    }
    let dictionary = match kind {
        Some(FieldKind::Select | FieldKind::MultiSelect) => {
            let d = input.dictionary.clone().unwrap_or_default();
            if guanxi_store::dictionary::list(&state.db, &d)
                .await?
                .is_empty()
            {
                c.push(FieldError::new("dictionary", "error-field-dictionary"));
            }
            Some(d)
        }
        _ => None,
    };
    c.finish()?;
    let (Some(zh), Some(en), Some(kind)) = (zh, en, kind) else {
        return Err(AppError::BadRequest("error-validation"));
    };
    let kind_code = kind.code();
    let fields_input = Input {
        kind: &kind_code,
        label_zh: &zh,
        label_en: &en,
        required: input.required,
        dictionary: dictionary.as_deref(),
        indexed: input.indexed,
        list: input.list,
        hidden: input.hidden,
        retired: false,
        sort_order: input.sort_order,
    };
    let mut tx = state.db.begin().await?;
    let id = custom_fields::insert(&mut tx, def.code, &code, &fields_input)
        .await
        .map_err(super::unique_as("code", "error-field-code-taken"))?;
    tx.commit().await?;
    let cf = custom_fields::get(&state.db, id).await?;
    let mut tx = state.db.begin().await?;
    if cf.indexed
        && let Some(f) = custom_fields::as_field(&cf)
    {
        custom_fields::set_index(&mut tx, state.db.backend(), def, f, true).await?;
    }
    audit::record(
        &mut tx,
        &auth.actor,
        Event::new(
            "custom_field.create",
            format!("added field {code} ({kind_code}) to {}", def.code),
        )
        .module(Module::Settings)
        .target(id, &code)
        .details(json!({ "module": def.code, "kind": kind_code, "label_zh": zh, "label_en": en })),
    )
    .await?;
    tx.commit().await?;
    Ok(cf)
}

pub async fn update(
    state: &AppState,
    auth: &Auth,
    module_code: &str,
    id: i64,
    input: &FieldInput,
) -> AppResult<CustomField> {
    auth.principal.authorize(Module::Settings, Action::Manage)?;
    let def = module(module_code)?;
    let before = custom_fields::get(&state.db, id).await?;
    if before.module != def.code {
        return Err(AppError::NotFound);
    }
    let mut c = Checker::default();
    let (zh, en) = checked_labels(input, &mut c);
    c.finish()?;
    let (Some(zh), Some(en)) = (zh, en) else {
        return Err(AppError::BadRequest("error-validation"));
    };
    let mut tx = state.db.begin().await?;
    custom_fields::update(
        &mut tx,
        id,
        &Input {
            kind: &before.kind,
            label_zh: &zh,
            label_en: &en,
            required: input.required,
            dictionary: before.dictionary.as_deref(),
            indexed: input.indexed,
            list: input.list,
            hidden: input.hidden,
            retired: input.retired,
            sort_order: input.sort_order,
        },
    )
    .await?;
    if before.indexed != input.indexed
        && let Some(f) = custom_fields::as_field(&before)
    {
        custom_fields::set_index(&mut tx, state.db.backend(), def, f, input.indexed).await?;
    }
    audit::record(
        &mut tx,
        &auth.actor,
        Event::new("custom_field.update", format!("changed field {} of {}", before.code, def.code))
            .module(Module::Settings)
            .target(id, &before.code)
            .details(json!({ "before": before, "label_zh": zh, "label_en": en, "retired": input.retired, "hidden": input.hidden })),
    )
    .await?;
    tx.commit().await?;
    Ok(custom_fields::get(&state.db, id).await?)
}
