//! Use cases of the record engine, the same for every module: validate input against the
//! module's field definitions, authorize through the policy, write with history and audit.

use std::sync::Arc;

use guanxi_core::engine::{self, FieldDef, FieldKind, Fields, ModuleDef};
use guanxi_core::validate::{self, FieldError};
use guanxi_core::{Action, Module};
use guanxi_store::audit::{self, Event};
use guanxi_store::records::{self, HistoryEntry, ListQuery, Record, RecordError, Values};
use serde_json::{Value, json};

use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

impl From<RecordError> for AppError {
    fn from(e: RecordError) -> Self {
        match e {
            RecordError::NotFound => AppError::NotFound,
            RecordError::Locked => AppError::conflict("error-record-locked"),
            RecordError::Conflict(current) => AppError::VersionConflict(Box::new(
                serde_json::to_value(*current).unwrap_or_default(),
            )),
            RecordError::Store(s) => s.into(),
        }
    }
}

/// The module for a URL segment; unknown modules are 404.
pub fn module(code: &str) -> AppResult<&'static ModuleDef> {
    engine::module_def(code).ok_or(AppError::NotFound)
}

/// The module's fields now, custom ones included.
pub async fn fields(state: &AppState, def: &'static ModuleDef) -> AppResult<Arc<Fields>> {
    Ok(guanxi_store::custom_fields::fields(&state.db, def).await?)
}

fn number(f: &FieldDef, v: &Value) -> Result<f64, FieldError> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().replace(',', "").trim_end_matches('%').parse().ok(),
        _ => None,
    }
    .filter(|n: &f64| n.is_finite())
    .ok_or_else(|| FieldError::new(f.code, "error-number"))
}

async fn dictionary_code(state: &AppState, f: &FieldDef, code: &str) -> Result<String, FieldError> {
    let items = guanxi_store::dictionary::list(&state.db, f.dictionary.unwrap_or_default())
        .await
        .map_err(|_| FieldError::new(f.code, "error-option"))?;
    // Accept the code or a label in either language (imports and scripts use labels).
    items
        .iter()
        .find(|i| i.code == code || i.label_zh == code || i.label_en.eq_ignore_ascii_case(code))
        .filter(|i| i.active)
        .map(|i| i.code.clone())
        .ok_or_else(|| FieldError::new(f.code, "error-option"))
}

/// Checks one value against its field; returns the value to store.
async fn check_value(state: &AppState, f: &FieldDef, v: &Value) -> Result<Value, FieldError> {
    let text = |v: &Value| -> Result<String, FieldError> {
        match v {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            _ => Err(FieldError::new(f.code, "error-type")),
        }
    };
    let empty = v.is_null() || v.as_str().is_some_and(|s| s.trim().is_empty());
    if empty {
        return if f.required {
            Err(FieldError::new(f.code, "error-required"))
        } else {
            Ok(Value::Null)
        };
    }
    Ok(match f.kind {
        FieldKind::Text | FieldKind::LongText => json!(
            validate::required_text(f.code, &text(v)?, f.max_len).or_else(|e| {
                // Long texts may hold line breaks.
                if f.kind == FieldKind::LongText && e.message == "error-control-chars" {
                    let s = text(v)?;
                    if s.chars().count() > f.max_len {
                        Err(FieldError::new(f.code, "error-too-long").with_arg("max", f.max_len))
                    } else {
                        Ok(s.trim().to_owned())
                    }
                } else {
                    Err(e)
                }
            })?
        ),
        FieldKind::Phone => {
            let n = validate::normalize_phone(&text(v)?);
            if n.len() < 5
                || n.len() > 20
                || !n
                    .trim_start_matches('+')
                    .chars()
                    .all(|c| c.is_ascii_digit())
            {
                return Err(FieldError::new(f.code, "error-phone"));
            }
            json!(n)
        }
        FieldKind::Email => json!(validate::email(f.code, &text(v)?)?),
        FieldKind::Url => {
            let s = text(v)?.trim().to_owned();
            let s = if s.contains("://") {
                s
            } else {
                format!("https://{s}")
            };
            if !(s.starts_with("http://") || s.starts_with("https://"))
                || s.contains(char::is_whitespace)
                || s.len() > f.max_len
            {
                return Err(FieldError::new(f.code, "error-url"));
            }
            json!(s)
        }
        FieldKind::CreditCode => {
            let s = text(v)?.trim().to_ascii_uppercase();
            if !engine::valid_credit_code(&s) {
                return Err(FieldError::new(f.code, "error-credit-code"));
            }
            json!(s)
        }
        FieldKind::Select => json!(dictionary_code(state, f, &text(v)?).await?),
        FieldKind::MultiSelect => {
            let codes: Vec<String> = match v {
                Value::Array(a) => a
                    .iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect(),
                Value::String(s) => s
                    .split([',', '，', ';'])
                    .map(|x| x.trim().to_owned())
                    .filter(|x| !x.is_empty())
                    .collect(),
                _ => return Err(FieldError::new(f.code, "error-type")),
            };
            let mut out = vec![];
            for c in codes {
                let code = dictionary_code(state, f, &c).await?;
                if !out.contains(&code) {
                    out.push(code);
                }
            }
            json!(out)
        }
        FieldKind::Decimal | FieldKind::Percent => json!(number(f, v)?),
        FieldKind::Money => {
            // Money arrives in yuan ("12,345.67") and is kept in cents.
            let yuan = number(f, v)?;
            json!((yuan * 100.0).round() as i64)
        }
        FieldKind::Region => {
            let code = text(v)?.trim().to_owned();
            if code.len() > 20 || guanxi_store::regions::get(&state.db, &code).await.is_err() {
                return Err(FieldError::new(f.code, "error-region"));
            }
            json!(code)
        }
        FieldKind::User => {
            let n = integer(f, v)?;
            let ok = guanxi_store::users::credentials_by_id(&state.db, n)
                .await
                .is_ok_and(|u| u.is_active);
            if !ok {
                return Err(FieldError::new(f.code, "error-user-missing"));
            }
            json!(n)
        }
        FieldKind::Department => {
            let n = integer(f, v)?;
            if guanxi_store::departments::get(&state.db, n).await.is_err() {
                return Err(FieldError::new(f.code, "error-department-missing"));
            }
            json!(n)
        }
        FieldKind::Checkbox => match v {
            Value::Bool(b) => json!(b),
            Value::String(s) if ["true", "on", "1", "是"].contains(&s.as_str()) => json!(true),
            Value::String(s) if ["false", "off", "0", "否"].contains(&s.as_str()) => json!(false),
            _ => return Err(FieldError::new(f.code, "error-type")),
        },
        FieldKind::Date => {
            let s = text(v)?;
            let d = chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                .map_err(|_| FieldError::new(f.code, "error-date"))?;
            json!(d.format("%Y-%m-%d").to_string())
        }
        FieldKind::DateTime => {
            let s = text(v)?;
            let d = chrono::DateTime::parse_from_rfc3339(s.trim())
                .map_err(|_| FieldError::new(f.code, "error-date"))?;
            json!(d.with_timezone(&chrono::Utc).to_rfc3339())
        }
        FieldKind::Integer | FieldKind::Relation(_) => json!(integer(f, v)?),
    })
}

fn integer(f: &FieldDef, v: &Value) -> Result<i64, FieldError> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| FieldError::new(f.code, "error-integer"))
}

/// Validates an input object: unknown and read-only fields are refused; on create every
/// required field must be present.
pub async fn check(
    state: &AppState,
    auth: &Auth,
    fs: &Fields,
    input: &Values,
    create: bool,
) -> AppResult<Values> {
    let mut errors = vec![];
    let mut out = Values::new();
    for (k, v) in input {
        match fs.field(k) {
            Some(f) if !f.read_only => match check_value(state, f, v).await {
                Ok(v) => {
                    out.insert(k.clone(), v);
                }
                Err(e) => errors.push(e),
            },
            _ => errors.push(FieldError::new(k, "error-unknown-field")),
        }
    }
    if create {
        for f in fs
            .iter()
            .filter(|f| f.required && !input.contains_key(f.code))
        {
            errors.push(FieldError::new(f.code, "error-required"));
        }
    }
    // Relations must point at a live record the caller may see.
    for f in fs.iter() {
        if let (FieldKind::Relation(target), Some(Value::Number(n))) = (f.kind, out.get(f.code)) {
            let ok = match (engine::def_of(target), n.as_i64()) {
                (Some(tdef), Some(id)) => match auth.principal.authorize(target, Action::View) {
                    Ok(g) => records::get(&state.db, &Fields::builtin(tdef), &g, id)
                        .await
                        .is_ok(),
                    Err(_) => false,
                },
                _ => false,
            };
            if !ok {
                errors.push(FieldError::new(f.code, "error-relation"));
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(AppError::Validation(errors))
    }
}

fn event(def: &'static ModuleDef, action: &'static str, rec: &Record, summary: String) -> Event {
    Event::new(action, summary)
        .module(def.module)
        .target(rec.id, rec.title(def))
}

pub async fn list(
    state: &AppState,
    auth: &Auth,
    def: &'static ModuleDef,
    q: &ListQuery,
) -> AppResult<Vec<Record>> {
    let g = auth.principal.authorize(def.module, Action::View)?;
    let fs = fields(state, def).await?;
    Ok(records::list(&state.db, &fs, &g, q).await?)
}

pub async fn get(
    state: &AppState,
    auth: &Auth,
    def: &'static ModuleDef,
    id: i64,
) -> AppResult<Record> {
    let g = auth.principal.authorize(def.module, Action::View)?;
    let fs = fields(state, def).await?;
    Ok(records::get(&state.db, &fs, &g, id).await?)
}

/// Creates a record; the owner is the caller unless `owner_id` names someone else (which needs
/// the assign permission).
pub async fn create(
    state: &AppState,
    auth: &Auth,
    def: &'static ModuleDef,
    input: &Values,
    owner_id: Option<i64>,
) -> AppResult<Record> {
    create_confirmed(state, auth, def, input, owner_id, false).await
}

/// Creates a record; `confirmed` goes past a duplicate warning (not past a block).
pub async fn create_confirmed(
    state: &AppState,
    auth: &Auth,
    def: &'static ModuleDef,
    input: &Values,
    owner_id: Option<i64>,
    confirmed: bool,
) -> AppResult<Record> {
    let g = auth.principal.authorize(def.module, Action::Create)?;
    let fs = fields(state, def).await?;
    let input = &take_organisation_name(state, auth, def, input).await?;
    let mut values = check(state, auth, &fs, input, true).await?;
    derive(def, &mut values);
    check_duplicates(state, auth, &fs, &values, None, confirmed).await?;
    let owner = match owner_id {
        Some(o) if o != auth.principal.user_id => {
            auth.principal.authorize(def.module, Action::Assign)?;
            o
        }
        _ => auth.principal.user_id,
    };
    let mut tx = state.db.begin().await?;
    let rec = records::insert(&mut tx, &fs, &g, Some(owner), &values, &auth.actor)
        .await
        .map_err(|e| match e {
            RecordError::NotFound => {
                AppError::Validation(vec![FieldError::new("owner_id", "error-user-missing")])
            }
            other => other.into(),
        })?;
    audit::record(
        &mut tx,
        &auth.actor,
        event(
            def,
            "record.create",
            &rec,
            format!("created {} {}", def.code, rec.title(def)),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(rec)
}

/// The duplicate check (查重): a live record with the same value in one of the module's key
/// fields. The message names that record and its owner, even when the caller may not open it
/// (nothing more of it). In `warn` mode the caller may confirm and go on.
async fn check_duplicates(
    state: &AppState,
    auth: &Auth,
    fs: &Fields,
    values: &Values,
    exclude: Option<i64>,
    confirmed: bool,
) -> AppResult<()> {
    let settings = guanxi_store::settings::load(&state.db).await?;
    let warn = settings.duplicate_mode(fs.def.code) == "warn";
    if warn && confirmed {
        return Ok(());
    }
    for keys in fs.def.duplicate_keys {
        for code in *keys {
            let (Some(f), Some(v)) = (fs.field(code), values.get(*code)) else {
                continue;
            };
            if v.is_null() {
                continue;
            }
            if let Some((id, title, owner)) =
                records::find_duplicate(&state.db, fs, f, v, exclude).await?
            {
                let label = f.label_in(fs.def, auth.locale);
                audit::record_now(
                    &state.db,
                    &auth.actor,
                    Event::new(
                        "record.duplicate",
                        format!(
                            "{} duplicate of {} {id} on {code}",
                            if warn { "warned" } else { "blocked" },
                            fs.def.code
                        ),
                    )
                    .module(fs.def.module)
                    .target(id, &title),
                )
                .await?;
                return Err(AppError::Duplicate {
                    warn,
                    args: vec![
                        ("module", fs.def.code.to_owned()),
                        ("field", label),
                        ("name", title),
                        ("owner", owner.unwrap_or_else(|| "—".into())),
                    ],
                });
            }
        }
    }
    Ok(())
}

/// A contact may name its organisation (单位) instead of giving its id: an existing one is
/// linked, an unknown one is created for the caller.
async fn resolve_organisation(state: &AppState, auth: &Auth, name: &str) -> AppResult<i64> {
    let name = guanxi_core::validate::required_text("organisation_name", name, 100)?;
    let odef = &engine::ORGANISATIONS;
    let ofs = fields(state, odef).await?;
    let title = ofs.field(odef.title).ok_or(AppError::NotFound)?;
    if let Some((id, _, _)) =
        records::find_duplicate(&state.db, &ofs, title, &json!(name), None).await?
    {
        return Ok(id);
    }
    let mut input = Values::new();
    input.insert("name".into(), json!(name));
    // Boxed: creating a contact may create an organisation through this same path.
    let org = Box::pin(create(state, auth, odef, &input, None))
        .await
        .map_err(|e| match e {
            AppError::Forbidden(_) => AppError::Validation(vec![FieldError::new(
                "organisation_name",
                "error-organisation-create",
            )]),
            other => other,
        })?;
    Ok(org.id)
}

async fn take_organisation_name(
    state: &AppState,
    auth: &Auth,
    def: &ModuleDef,
    input: &Values,
) -> AppResult<Values> {
    let mut input = input.clone();
    if def.module == Module::Contacts
        && let Some(v) = input.remove("organisation_name")
        && let Some(name) = v.as_str().filter(|n| !n.trim().is_empty())
    {
        let id = resolve_organisation(state, auth, name).await?;
        input.insert("organisation_id".into(), json!(id));
    }
    Ok(input)
}

/// Values the system keeps in step with others (the pinyin of a customer's name).
fn derive(def: &'static ModuleDef, values: &mut Values) {
    if def.module == Module::Customers
        && let Some(Value::String(name)) = values.get("name")
    {
        let p = crate::pinyin::initials(name);
        values.insert("pinyin".into(), json!(p));
    }
}

pub async fn update(
    state: &AppState,
    auth: &Auth,
    def: &'static ModuleDef,
    id: i64,
    version: i32,
    input: &Values,
) -> AppResult<Record> {
    update_confirmed(state, auth, def, id, version, input, false).await
}

/// Updates a record; `confirmed` goes past a duplicate warning (not past a block).
pub async fn update_confirmed(
    state: &AppState,
    auth: &Auth,
    def: &'static ModuleDef,
    id: i64,
    version: i32,
    input: &Values,
    confirmed: bool,
) -> AppResult<Record> {
    let g = auth.principal.authorize(def.module, Action::Edit)?;
    let fs = fields(state, def).await?;
    // Values resent unchanged (a form saves every field) are not validated again, so a record
    // keeps an option that has since been disabled.
    let current = records::get(&state.db, &fs, &g, id).await?;
    let input: Values = input
        .iter()
        .filter(|(k, v)| current.values.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let input = &take_organisation_name(state, auth, def, &input).await?;
    let mut values = check(state, auth, &fs, input, false).await?;
    derive(def, &mut values);
    check_duplicates(state, auth, &fs, &values, Some(id), confirmed).await?;
    let mut tx = state.db.begin().await?;
    let (rec, changed) =
        records::update(&mut tx, &fs, &g, id, version, &values, &auth.actor).await?;
    if !changed.is_empty() {
        audit::record(
            &mut tx,
            &auth.actor,
            event(
                def,
                "record.update",
                &rec,
                format!(
                    "changed {} of {} {}",
                    changed.join(", "),
                    def.code,
                    rec.title(def)
                ),
            ),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(rec)
}

pub async fn delete(
    state: &AppState,
    auth: &Auth,
    def: &'static ModuleDef,
    id: i64,
) -> AppResult<Record> {
    let g = auth.principal.authorize(def.module, Action::Delete)?;
    let fs = fields(state, def).await?;
    let mut tx = state.db.begin().await?;
    let rec = records::delete(&mut tx, &fs, &g, id, &auth.actor).await?;
    audit::record(
        &mut tx,
        &auth.actor,
        event(
            def,
            "record.delete",
            &rec,
            format!("moved {} {} to the recycle bin", def.code, rec.title(def)),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(rec)
}

pub async fn restore(
    state: &AppState,
    auth: &Auth,
    def: &'static ModuleDef,
    id: i64,
) -> AppResult<Record> {
    let g = auth.principal.authorize(def.module, Action::Delete)?;
    let fs = fields(state, def).await?;
    let mut tx = state.db.begin().await?;
    let rec = records::restore(&mut tx, &fs, &g, id, &auth.actor).await?;
    audit::record(
        &mut tx,
        &auth.actor,
        event(
            def,
            "record.restore",
            &rec,
            format!(
                "restored {} {} from the recycle bin",
                def.code,
                rec.title(def)
            ),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(rec)
}

pub async fn set_locked(
    state: &AppState,
    auth: &Auth,
    def: &'static ModuleDef,
    id: i64,
    locked: bool,
) -> AppResult<Record> {
    let g = auth.principal.authorize(def.module, Action::Edit)?;
    let fs = fields(state, def).await?;
    let mut tx = state.db.begin().await?;
    let rec = records::set_locked(&mut tx, &fs, &g, id, locked, &auth.actor).await?;
    let (action, verb) = if locked {
        ("record.lock", "locked")
    } else {
        ("record.unlock", "unlocked")
    };
    audit::record(
        &mut tx,
        &auth.actor,
        event(
            def,
            action,
            &rec,
            format!("{verb} {} {}", def.code, rec.title(def)),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(rec)
}

pub async fn transfer(
    state: &AppState,
    auth: &Auth,
    def: &'static ModuleDef,
    id: i64,
    owner_id: i64,
) -> AppResult<Record> {
    let g = auth.principal.authorize(def.module, Action::Assign)?;
    let new_owner = guanxi_store::users::credentials_by_id(&state.db, owner_id).await;
    if !new_owner.is_ok_and(|u| u.is_active) {
        return Err(AppError::Validation(vec![FieldError::new(
            "owner_id",
            "error-user-missing",
        )]));
    }
    let fs = fields(state, def).await?;
    let mut tx = state.db.begin().await?;
    let rec = records::transfer(&mut tx, &fs, &g, id, owner_id, &auth.actor).await?;
    audit::record(
        &mut tx,
        &auth.actor,
        event(
            def,
            "record.transfer",
            &rec,
            format!(
                "transferred {} {} to user {owner_id}",
                def.code,
                rec.title(def)
            ),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(rec)
}

pub async fn history(
    state: &AppState,
    auth: &Auth,
    def: &'static ModuleDef,
    id: i64,
) -> AppResult<Vec<HistoryEntry>> {
    get(state, auth, def, id).await?;
    Ok(records::history_of(&state.db, def, id).await?)
}

/// Puts back the value a field had before the chosen history entry.
pub async fn restore_value(
    state: &AppState,
    auth: &Auth,
    def: &'static ModuleDef,
    id: i64,
    entry: i64,
) -> AppResult<Record> {
    let rec = get(state, auth, def, id).await?;
    let fs = fields(state, def).await?;
    let e = records::history_entry(&state.db, def, id, entry).await?;
    let Some(field) = e
        .field
        .as_deref()
        .and_then(|f| fs.field(f))
        .filter(|f| !f.read_only)
    else {
        return Err(AppError::conflict("error-history-not-restorable"));
    };
    let old: Value = e
        .old_value
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or(Value::Null);
    let mut input = Values::new();
    input.insert(field.code.to_owned(), old);
    update(state, auth, def, id, rec.version, &input).await
}
