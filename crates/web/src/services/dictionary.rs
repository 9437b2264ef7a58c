//! The data dictionary (数据字典): the option lists of select fields. Anyone signed in reads
//! them (forms need the options); changing them takes the settings-management right. An option
//! that records use cannot be deleted, only disabled, so those records keep their label.

use guanxi_core::validate::{Checker, FieldError, required_text};
use guanxi_core::{Action, I18n, Locale, Module};
use guanxi_store::audit::{self, Event};
use guanxi_store::dictionary::{self, Item, ItemInput};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::unique_as;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

const LABEL_MAX: usize = 50;
const CODE_MAX: usize = 40;

/// A list with its localized name and its items in order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DictionaryList {
    /// The list's name, as select fields refer to it (`industry`).
    pub name: String,
    /// The list's name in the caller's language.
    pub label: String,
    pub items: Vec<Item>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct NewItem {
    /// 1–40 of a–z, 0–9 and `_`, unique in the list; stored in records, never changes.
    pub code: String,
    pub label_zh: String,
    pub label_en: String,
    /// Position in the list; absent puts the item last.
    #[serde(default)]
    pub sort_order: Option<i32>,
    /// Whether forms offer the item; default true.
    #[serde(default)]
    pub active: Option<bool>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct ItemPatch {
    #[serde(default)]
    pub label_zh: Option<String>,
    #[serde(default)]
    pub label_en: Option<String>,
    #[serde(default)]
    pub sort_order: Option<i32>,
    /// false disables the item: forms stop offering it, records that hold it keep it.
    #[serde(default)]
    pub active: Option<bool>,
}

/// A list's name in a language (its `dictionary-<name>` message, else the name itself).
pub fn list_label(locale: Locale, name: &str) -> String {
    let key = format!("dictionary-{}", name.replace('_', "-"));
    let label = I18n::global().t(locale, &key);
    if label == key { name.to_owned() } else { label }
}

/// Every list name: first those select fields refer to, in the order of the modules' fields
/// (even if still empty), then any other list in the table, by name.
async fn names(state: &AppState) -> AppResult<Vec<String>> {
    let mut names: Vec<String> = vec![];
    for m in guanxi_core::engine::MODULES.iter() {
        for d in m.fields.iter().filter_map(|f| f.dictionary) {
            if !names.iter().any(|n| n == d) {
                names.push(d.to_owned());
            }
        }
    }
    for l in dictionary::lists(&state.db).await? {
        if !names.contains(&l.name) {
            names.push(l.name);
        }
    }
    Ok(names)
}

/// The list's name if it exists; unknown lists are 404.
pub async fn known_list(state: &AppState, list: &str) -> AppResult<String> {
    names(state)
        .await?
        .into_iter()
        .find(|n| n == list)
        .ok_or(AppError::NotFound)
}

/// The list names with their labels in the caller's language, for the admin page.
pub async fn list_names(state: &AppState, auth: &Auth) -> AppResult<Vec<(String, String)>> {
    Ok(names(state)
        .await?
        .into_iter()
        .map(|n| {
            let label = list_label(auth.locale, &n);
            (n, label)
        })
        .collect())
}

pub async fn lists(state: &AppState, auth: &Auth) -> AppResult<Vec<DictionaryList>> {
    let all = dictionary::all(&state.db).await?;
    Ok(names(state)
        .await?
        .into_iter()
        .map(|name| DictionaryList {
            label: list_label(auth.locale, &name),
            items: all
                .iter()
                .filter(|i| i.dictionary == name)
                .cloned()
                .collect(),
            name,
        })
        .collect())
}

pub async fn items(state: &AppState, _auth: &Auth, list: &str) -> AppResult<Vec<Item>> {
    let list = known_list(state, list).await?;
    Ok(dictionary::list(&state.db, &list).await?)
}

/// The items of a list with the number of records using each, for administrators.
pub async fn items_with_usage(
    state: &AppState,
    auth: &Auth,
    list: &str,
) -> AppResult<Vec<(Item, i64)>> {
    auth.principal.authorize(Module::Settings, Action::View)?;
    let list = known_list(state, list).await?;
    let counts = dictionary::usage_counts(&state.db, &list).await?;
    Ok(dictionary::list(&state.db, &list)
        .await?
        .into_iter()
        .map(|i| {
            let n = counts
                .iter()
                .find(|(c, _)| *c == i.code)
                .map(|(_, n)| *n)
                .unwrap_or(0);
            (i, n)
        })
        .collect())
}

/// An item of the list; an id of another list is 404.
async fn item_of(state: &AppState, list: &str, id: i64) -> AppResult<Item> {
    let item = dictionary::get(&state.db, id).await?;
    if item.dictionary != list {
        return Err(AppError::NotFound);
    }
    Ok(item)
}

fn code(value: &str) -> Result<String, FieldError> {
    let v = value.trim().to_ascii_lowercase();
    if v.is_empty() {
        return Err(FieldError::new("code", "error-required"));
    }
    let ok = v.len() <= CODE_MAX
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok {
        return Err(FieldError::new("code", "error-dictionary-code").with_arg("max", CODE_MAX));
    }
    Ok(v)
}

pub async fn create(state: &AppState, auth: &Auth, list: &str, input: &NewItem) -> AppResult<Item> {
    auth.principal.authorize(Module::Settings, Action::Manage)?;
    let list = known_list(state, list).await?;
    let mut c = Checker::default();
    let code = c.check(code(&input.code));
    let zh = c.check(required_text("label_zh", &input.label_zh, LABEL_MAX));
    let en = c.check(required_text("label_en", &input.label_en, LABEL_MAX));
    c.finish()?;
    let (Some(code), Some(zh), Some(en)) = (code, zh, en) else {
        return Err(AppError::BadRequest("error-validation"));
    };
    let existing = dictionary::list(&state.db, &list).await?;
    if existing.iter().any(|i| i.code == code) {
        return Err(FieldError::new("code", "error-dictionary-code-taken").into());
    }
    let sort_order = input.sort_order.unwrap_or_else(|| {
        existing
            .iter()
            .map(|i| i.sort_order)
            .max()
            .unwrap_or(0)
            .saturating_add(1)
    });
    let active = input.active.unwrap_or(true);
    let mut tx = state.db.begin().await?;
    let id = dictionary::insert(
        &mut tx,
        &list,
        &ItemInput {
            code: &code,
            label_zh: &zh,
            label_en: &en,
            sort_order,
            active,
        },
    )
    .await
    .map_err(unique_as("code", "error-dictionary-code-taken"))?;
    audit::record(
        &mut tx,
        &auth.actor,
        Event::new(
            "dictionary.create",
            format!("added {code} ({zh} / {en}) to list {list}"),
        )
        .module(Module::Settings)
        .target(id, format!("{list}.{code}"))
        .details(
            json!({ "dictionary": list, "code": code, "label_zh": zh, "label_en": en,
                         "sort_order": sort_order, "active": active }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(dictionary::get(&state.db, id).await?)
}

/// Relabels, reorders, enables or disables an item; absent fields stay as they are.
pub async fn update(
    state: &AppState,
    auth: &Auth,
    list: &str,
    id: i64,
    input: &ItemPatch,
) -> AppResult<Item> {
    auth.principal.authorize(Module::Settings, Action::Manage)?;
    let before = item_of(state, list, id).await?;
    let mut c = Checker::default();
    let zh = c.check(required_text(
        "label_zh",
        input.label_zh.as_deref().unwrap_or(&before.label_zh),
        LABEL_MAX,
    ));
    let en = c.check(required_text(
        "label_en",
        input.label_en.as_deref().unwrap_or(&before.label_en),
        LABEL_MAX,
    ));
    c.finish()?;
    let (Some(zh), Some(en)) = (zh, en) else {
        return Err(AppError::BadRequest("error-validation"));
    };
    let sort_order = input.sort_order.unwrap_or(before.sort_order);
    let active = input.active.unwrap_or(before.active);
    let mut tx = state.db.begin().await?;
    dictionary::update(
        &mut tx,
        id,
        &ItemInput {
            code: &before.code,
            label_zh: &zh,
            label_en: &en,
            sort_order,
            active,
        },
    )
    .await?;
    audit::record(
        &mut tx,
        &auth.actor,
        Event::new(
            "dictionary.update",
            format!("changed {} in list {}", before.code, before.dictionary),
        )
        .module(Module::Settings)
        .target(id, format!("{}.{}", before.dictionary, before.code))
        .details(json!({
            "label_zh": [before.label_zh, zh],
            "label_en": [before.label_en, en],
            "sort_order": [before.sort_order, sort_order],
            "active": [before.active, active],
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(dictionary::get(&state.db, id).await?)
}

/// Deletes an item that no record uses; one in use is a 409 (disable it instead).
pub async fn delete(state: &AppState, auth: &Auth, list: &str, id: i64) -> AppResult<Item> {
    auth.principal.authorize(Module::Settings, Action::Manage)?;
    let item = item_of(state, list, id).await?;
    let used = dictionary::usage(&state.db, &item.dictionary, &item.code).await?;
    if used > 0 {
        return Err(AppError::Conflict(
            "error-dictionary-in-use",
            vec![
                ("name", item.label(auth.locale).to_owned()),
                ("count", used.to_string()),
            ],
        ));
    }
    let mut tx = state.db.begin().await?;
    dictionary::delete(&mut tx, id).await?;
    audit::record(
        &mut tx,
        &auth.actor,
        Event::new(
            "dictionary.delete",
            format!("deleted {} from list {}", item.code, item.dictionary),
        )
        .module(Module::Settings)
        .target(id, format!("{}.{}", item.dictionary, item.code))
        .details(json!({ "dictionary": item.dictionary, "code": item.code,
                         "label_zh": item.label_zh, "label_en": item.label_en })),
    )
    .await?;
    tx.commit().await?;
    Ok(item)
}

/// Puts the given items first, in the given order, and the rest after them as they were; then
/// numbers the whole list 1, 2, 3...
pub async fn reorder(
    state: &AppState,
    auth: &Auth,
    list: &str,
    ids: &[i64],
) -> AppResult<Vec<Item>> {
    auth.principal.authorize(Module::Settings, Action::Manage)?;
    let list = known_list(state, list).await?;
    let current = dictionary::list(&state.db, &list).await?;
    let mut order: Vec<i64> = Vec::with_capacity(current.len());
    for id in ids {
        if order.contains(id) || !current.iter().any(|i| i.id == *id) {
            return Err(FieldError::new("ids", "error-dictionary-order").into());
        }
        order.push(*id);
    }
    order.extend(current.iter().map(|i| i.id).filter(|id| !ids.contains(id)));
    let mut tx = state.db.begin().await?;
    dictionary::reorder(&mut tx, &list, &order).await?;
    let codes: Vec<&str> = order
        .iter()
        .filter_map(|id| current.iter().find(|i| i.id == *id))
        .map(|i| i.code.as_str())
        .collect();
    audit::record(
        &mut tx,
        &auth.actor,
        Event::new("dictionary.reorder", format!("reordered list {list}"))
            .module(Module::Settings)
            .target(&list, list.clone())
            .details(json!({ "dictionary": list, "order": codes })),
    )
    .await?;
    tx.commit().await?;
    Ok(dictionary::list(&state.db, &list).await?)
}

/// Moves an item one place up or down (the admin page's arrows).
pub async fn move_item(
    state: &AppState,
    auth: &Auth,
    list: &str,
    id: i64,
    up: bool,
) -> AppResult<Vec<Item>> {
    auth.principal.authorize(Module::Settings, Action::Manage)?;
    let item = item_of(state, list, id).await?;
    let mut ids: Vec<i64> = dictionary::list(&state.db, &item.dictionary)
        .await?
        .iter()
        .map(|i| i.id)
        .collect();
    let Some(pos) = ids.iter().position(|i| *i == id) else {
        return Err(AppError::NotFound);
    };
    let other = if up {
        pos.checked_sub(1)
    } else {
        Some(pos + 1).filter(|p| *p < ids.len())
    };
    if let Some(other) = other {
        ids.swap(pos, other);
    }
    reorder(state, auth, &item.dictionary, &ids).await
}
