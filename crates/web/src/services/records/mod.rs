//! Use cases of the record engine, the same for every module: validate input against the
//! module's field definitions, authorize through the policy, write with history and audit.

use std::sync::Arc;

use guanxi_core::engine::{self, Fields, ModuleDef};
use guanxi_core::validate::FieldError;
use guanxi_core::{Action, Grant, Module};
use guanxi_store::audit::{self, Event};
use guanxi_store::records::{self, HistoryEntry, ListQuery, Record, RecordError, Values};
use serde_json::{Value, json};

use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::services::hooks::{self, Change};
use crate::state::AppState;

pub mod bulk;
mod check;
pub mod collaborators;
mod purge;

pub use check::check;
pub use purge::{may_purge, purge};

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

/// How far a list counts its matches: beyond it a list shows "1,000+".
pub const COUNT_CAP: i64 = 1_000;

/// [`list`], with the number of matching records up to [`COUNT_CAP`] (none when a quick search
/// scans).
pub async fn list_counted(
    state: &AppState,
    auth: &Auth,
    def: &'static ModuleDef,
    q: &ListQuery,
) -> AppResult<(Vec<Record>, Option<i64>)> {
    let g = auth.principal.authorize(def.module, Action::View)?;
    let fs = fields(state, def).await?;
    Ok(records::list_counted(&state.db, &fs, &g, q, COUNT_CAP).await?)
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
    let (input, organisation) = take_organisation_name(def, input)?;
    let mut values = check(state, auth, &fs, &input, true).await?;
    derive(def, &mut values);
    if def.module == Module::FollowUps && values.get("at").is_none_or(Value::is_null) {
        values.insert("at".into(), json!(guanxi_store::now().to_rfc3339()));
    }
    check_duplicates(state, auth, &fs, &values, None, confirmed).await?;
    link_organisation(state, auth, &fs, &mut values, organisation).await?;
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
    hooks::after_write(state, auth, &mut tx, def, &rec, Change::Created).await?;
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

/// Takes a contact's organisation name (单位) out of its input: the input without it, and the
/// name, checked, for [`link_organisation`].
fn take_organisation_name(def: &ModuleDef, input: &Values) -> AppResult<(Values, Option<String>)> {
    let mut input = input.clone();
    let mut name = None;
    if def.module == Module::Contacts
        && let Some(v) = input.remove("organisation_name")
        && let Some(n) = v.as_str().filter(|n| !n.trim().is_empty())
    {
        name = Some(guanxi_core::validate::required_text(
            "organisation_name",
            n,
            100,
        )?);
    }
    Ok((input, name))
}

/// Links the organisation a contact names, found or created. Called once the contact's own
/// input has passed its checks, so a refused contact leaves no new organisation behind; an
/// existing one outside the caller's scope is refused on the name the caller gave.
async fn link_organisation(
    state: &AppState,
    auth: &Auth,
    fs: &Fields,
    values: &mut Values,
    name: Option<String>,
) -> AppResult<()> {
    let Some(name) = name else {
        return Ok(());
    };
    let mut link = Values::new();
    link.insert(
        "organisation_id".into(),
        json!(resolve_organisation(state, auth, &name).await?),
    );
    let link = check(state, auth, fs, &link, false)
        .await
        .map_err(|e| match e {
            AppError::Validation(_) => {
                AppError::Validation(vec![FieldError::new("organisation_name", "error-relation")])
            }
            other => other,
        })?;
    values.extend(link);
    Ok(())
}

/// Values the system keeps in step with others (the pinyin of a customer's name).
pub(crate) fn derive(def: &'static ModuleDef, values: &mut Values) {
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
    let (input, organisation) = take_organisation_name(def, &input)?;
    let mut values = check(state, auth, &fs, &input, false).await?;
    derive(def, &mut values);
    check_duplicates(state, auth, &fs, &values, Some(id), confirmed).await?;
    // A stale save creates no organisation either.
    if organisation.is_some() && current.version != version {
        return Err(RecordError::Conflict(Box::new(current)).into());
    }
    link_organisation(state, auth, &fs, &mut values, organisation).await?;
    let mut tx = state.db.begin().await?;
    let (rec, changed) =
        records::update(&mut tx, &fs, &g, id, version, &values, &auth.actor).await?;
    if !changed.is_empty() {
        hooks::after_write(
            state,
            auth,
            &mut tx,
            def,
            &rec,
            Change::Updated { before: &current },
        )
        .await?;
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
    let rec = delete_in(state, auth, &mut tx, &fs, &g, id, false).await?;
    tx.commit().await?;
    Ok(rec)
}

/// Moves one record to the recycle bin inside the caller's transaction, with its hooks and
/// audit entry (`bulk` marks one of a selection).
async fn delete_in(
    state: &AppState,
    auth: &Auth,
    tx: &mut guanxi_store::Tx,
    fs: &Fields,
    g: &Grant,
    id: i64,
    bulk: bool,
) -> AppResult<Record> {
    let def = fs.def;
    let rec = records::delete(tx, fs, g, id, &auth.actor).await?;
    hooks::after_write(state, auth, tx, def, &rec, Change::Deleted).await?;
    let summary = format!(
        "moved {} {} to the recycle bin{}",
        def.code,
        rec.title(def),
        if bulk { " (bulk)" } else { "" }
    );
    audit::record(tx, &auth.actor, event(def, "record.delete", &rec, summary)).await?;
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
    hooks::after_write(state, auth, &mut tx, def, &rec, Change::Restored).await?;
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
    hooks::after_write(state, auth, &mut tx, def, &rec, Change::Locked).await?;
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
    active_owner(state, owner_id).await?;
    let fs = fields(state, def).await?;
    let from = records::get(&state.db, &fs, &g, id).await?.owner_id;
    let mut tx = state.db.begin().await?;
    let rec = transfer_in(state, auth, &mut tx, &fs, &g, (id, from), owner_id, false).await?;
    tx.commit().await?;
    Ok(rec)
}

/// A new owner must be an active user.
async fn active_owner(state: &AppState, owner_id: i64) -> AppResult<()> {
    let new_owner = guanxi_store::users::credentials_by_id(&state.db, owner_id).await;
    if new_owner.is_ok_and(|u| u.is_active) {
        Ok(())
    } else {
        Err(AppError::Validation(vec![FieldError::new(
            "owner_id",
            "error-user-missing",
        )]))
    }
}

/// Transfers one record (`id`, and its owner before) inside the caller's transaction, with its
/// hooks and audit entry (`bulk` marks one of a selection).
#[expect(
    clippy::too_many_arguments,
    reason = "one step of a single or a bulk transfer, sharing the caller's transaction"
)]
async fn transfer_in(
    state: &AppState,
    auth: &Auth,
    tx: &mut guanxi_store::Tx,
    fs: &Fields,
    g: &Grant,
    (id, from): (i64, Option<i64>),
    owner_id: i64,
    bulk: bool,
) -> AppResult<Record> {
    let def = fs.def;
    let rec = records::transfer(tx, fs, g, id, owner_id, &auth.actor).await?;
    hooks::after_write(state, auth, tx, def, &rec, Change::Transferred { from }).await?;
    let summary = format!(
        "transferred {} {} to user {owner_id}{}",
        def.code,
        rec.title(def),
        if bulk { " (bulk)" } else { "" }
    );
    audit::record(
        tx,
        &auth.actor,
        event(def, "record.transfer", &rec, summary),
    )
    .await?;
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
