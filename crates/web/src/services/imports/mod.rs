//! Import use cases (导入): upload a file, map its columns, check it (a dry run), write it as a
//! background job, fix failed rows in place, cancel, revert; and the templates. Only the user
//! who started an import (or an administrator of the system) sees and drives it.

use std::path::PathBuf;

use guanxi_core::validate::FieldError;
use guanxi_core::{Action, Module};
use guanxi_store::audit::{self, Event};
use guanxi_store::imports::{self, ErrorRow, Import, NewImport};
use serde_json::{Value, json};

use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::services::records::{fields, module};
use crate::state::AppState;

mod chunk;
mod deadline;
pub mod plan;
pub mod pool;
pub mod revert;
pub mod run;
mod write;

pub use plan::{OnDuplicate, Target};

/// The job kinds of imports (see [`crate::jobs`]).
pub const JOB_CHECK: &str = "import.check";
pub const JOB_WRITE: &str = "import.write";
pub const JOB_REVERT: &str = "import.revert";

/// Whether the caller administers the system (sees every import).
fn is_admin(auth: &Auth) -> bool {
    auth.principal
        .authorize(Module::Settings, Action::Manage)
        .is_ok()
}

/// An import the caller may see.
pub async fn get(state: &AppState, auth: &Auth, id: i64) -> AppResult<Import> {
    let imp = imports::get(&state.db, id).await?;
    if imp.created_by != auth.principal.user_id && !is_admin(auth) {
        return Err(AppError::NotFound);
    }
    Ok(imp)
}

pub async fn list(state: &AppState, auth: &Auth, module_code: &str) -> AppResult<Vec<Import>> {
    let def = module(module_code)?;
    auth.principal.authorize(def.module, Action::Import)?;
    let user = (!is_admin(auth)).then_some(auth.principal.user_id);
    Ok(imports::list(&state.db, def.code, user, 100).await?)
}

/// Where uploaded files are kept until their import is done with.
fn upload_dir(state: &AppState) -> PathBuf {
    state.config.data_dir.join("imports")
}

/// A new file name under the upload directory, for a file being received.
pub async fn new_upload_path(state: &AppState, auth: &Auth) -> AppResult<PathBuf> {
    let dir = upload_dir(state);
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(dir.join(format!(
        "{}-{}.upload",
        auth.principal.user_id,
        guanxi_core::security::random_token(16)
    )))
}

/// Checks the caller may import into a module (before a file is received).
pub fn may_import(auth: &Auth, module_code: &str) -> AppResult<()> {
    let def = module(module_code)?;
    auth.principal.authorize(def.module, Action::Import)?;
    auth.principal.authorize(def.module, Action::Create)?;
    Ok(())
}

/// Takes an uploaded file (already stored at `path`): reads its header row and guesses the
/// mapping. A file that cannot be read is removed and its problem reported.
pub async fn upload(
    state: &AppState,
    auth: &Auth,
    module_code: &str,
    file_name: &str,
    path: PathBuf,
    sheet: Option<String>,
) -> AppResult<Import> {
    let def = module(module_code)?;
    may_import(auth, module_code)?;
    let size = tokio::fs::metadata(&path)
        .await
        .map(|m| m.len() as i64)
        .map_err(|e| AppError::Internal(e.into()))?;
    let p = path.clone();
    let opened = tokio::task::spawn_blocking(move || {
        let r = guanxi_io::open(&p, sheet.as_deref(), &guanxi_io::Limits::default())?;
        Ok::<_, guanxi_io::ReadError>((
            r.format(),
            r.encoding().to_owned(),
            r.sheet().map(str::to_owned),
            r.headers().to_vec(),
        ))
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?;
    let (format, encoding, sheet, headers) = match opened {
        Ok(v) => v,
        Err(e) => {
            let _ = tokio::fs::remove_file(&path).await;
            return Err(file_error(&e));
        }
    };
    let fs = fields(state, def).await?;
    let remembered =
        imports::remembered_mapping(&state.db, auth.principal.user_id, def.code).await?;
    let mapping = plan::guess(&fs, &headers, &remembered);
    let mut tx = state.db.begin().await?;
    let id = imports::create(
        &mut tx,
        &NewImport {
            module: def.code,
            file_name: &clean_name(file_name),
            file_path: &path.to_string_lossy(),
            file_size: size,
            format: match format {
                guanxi_io::Format::Csv => "csv",
                guanxi_io::Format::Xlsx => "xlsx",
            },
            encoding: &encoding,
            sheet: sheet.as_deref(),
            headers: &headers,
            mapping: &mapping,
            created_by: auth.principal.user_id,
        },
    )
    .await?;
    audit::record(
        &mut tx,
        &auth.actor,
        Event::new(
            "import.upload",
            format!(
                "uploaded {} for an import into {}",
                clean_name(file_name),
                def.code
            ),
        )
        .module(def.module)
        .target(id, clean_name(file_name)),
    )
    .await?;
    tx.commit().await?;
    get(state, auth, id).await
}

fn clean_name(name: &str) -> String {
    let n: String = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    if n.is_empty() { "upload".into() } else { n }
}

/// A problem of the file as a whole, as a validation error on the file field.
pub fn file_error(e: &guanxi_io::ReadError) -> AppError {
    let mut fe = FieldError::new("file", e.key());
    for (k, v) in e.args() {
        fe = fe.with_arg(k, v);
    }
    AppError::Validation(vec![fe])
}

/// Sets the mapping (one field code or nothing per column), the duplicate handling and the pool
/// new customers go into (`None`: they get owners, the importing user or the owner column's).
pub async fn set_mapping(
    state: &AppState,
    auth: &Auth,
    id: i64,
    mapping: &[Option<String>],
    on_duplicate: &str,
    pool_id: Option<i64>,
) -> AppResult<Import> {
    let imp = get(state, auth, id).await?;
    if !matches!(imp.state.as_str(), "uploaded" | "validated" | "failed") {
        return Err(AppError::conflict("import-error-busy"));
    }
    let def = module(&imp.module)?;
    let fs = fields(state, def).await?;
    let lk = crate::services::lookups::all(state, &fs).await?;
    let targets = plan::targets(&fs, &lk, auth.locale);
    let mut errors = vec![];
    if OnDuplicate::parse(on_duplicate).is_none() {
        errors.push(FieldError::new("on_duplicate", "error-option"));
    }
    if mapping.len() != imp.headers.len() {
        errors.push(FieldError::new("mapping", "import-error-mapping-length"));
    }
    let mut used: Vec<&str> = vec![];
    for code in mapping.iter().flatten() {
        if !targets.iter().any(|t| &t.code == code) {
            errors.push(FieldError::new("mapping", "error-unknown-field").with_arg("value", code));
        } else if used.contains(&code.as_str()) {
            errors.push(
                FieldError::new("mapping", "import-error-mapped-twice").with_arg("value", code),
            );
        }
        used.push(code);
    }
    if let Some(p) = pool_id {
        errors.extend(pool::problems(state, auth, def.module, p, mapping).await?);
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    imports::set_mapping(&state.db, id, mapping, on_duplicate, pool_id).await?;
    let remembered: serde_json::Map<String, Value> = imp
        .headers
        .iter()
        .zip(mapping)
        .filter_map(|(h, m)| Some((h.trim().to_owned(), json!(m.as_ref()?))))
        .collect();
    imports::remember_mapping(
        &state.db,
        auth.principal.user_id,
        def.code,
        &Value::Object(remembered),
    )
    .await?;
    get(state, auth, id).await
}

/// The plan of an import: its mapping over the module's fields now.
pub(crate) async fn plan_for(state: &AppState, auth: &Auth, imp: &Import) -> AppResult<plan::Plan> {
    let def = module(&imp.module)?;
    let fs = fields(state, def).await?;
    let lk = crate::services::lookups::all(state, &fs).await?;
    Ok(plan::Plan {
        columns: imp
            .mapping
            .clone()
            .unwrap_or_else(|| vec![None; imp.headers.len()]),
        lk,
        on_duplicate: OnDuplicate::parse(&imp.on_duplicate).unwrap_or(OnDuplicate::Skip),
        pool_id: imp.pool_id,
        user_id: auth.principal.user_id,
        may_assign: auth.principal.authorize(def.module, Action::Assign).is_ok(),
        tz: auth
            .principal
            .time_zone
            .parse()
            .unwrap_or(chrono_tz::Asia::Shanghai),
        existing_up_to: None,
        fs,
    })
}

/// "Create anyway" is only for modules whose duplicate rule warns rather than blocks.
pub(crate) async fn create_duplicates_allowed(state: &AppState, imp: &Import) -> AppResult<bool> {
    let settings = guanxi_store::settings::load(&state.db).await?;
    Ok(settings.duplicate_mode(&imp.module) == "warn")
}

async fn enqueue(
    state: &AppState,
    auth: &Auth,
    imp: &Import,
    kind: &str,
    next: &str,
) -> AppResult<Import> {
    let mut tx = state.db.begin().await?;
    if kind == JOB_WRITE && imp.state != "done" {
        imports::reset_write(&mut tx, imp.id).await?;
    }
    imports::set_state(&mut tx, imp.id, next, None, false).await?;
    guanxi_store::jobs::enqueue(
        &mut tx,
        kind,
        &json!({"import_id": imp.id}),
        Some(auth.principal.user_id),
    )
    .await?;
    audit::record(
        &mut tx,
        &auth.actor,
        Event::new(
            kind_action(kind),
            format!("{kind} of import {} queued", imp.id),
        )
        .target(imp.id, &imp.file_name),
    )
    .await?;
    tx.commit().await?;
    state.jobs.notify_one();
    get(state, auth, imp.id).await
}

fn kind_action(kind: &str) -> &'static str {
    match kind {
        JOB_CHECK => "import.check",
        JOB_WRITE => "import.start",
        _ => "import.revert.start",
    }
}

fn mapped(imp: &Import) -> AppResult<()> {
    if imp
        .mapping
        .as_ref()
        .is_none_or(|m| m.iter().all(Option::is_none))
    {
        return Err(AppError::conflict("import-error-not-mapped"));
    }
    Ok(())
}

/// Queues the dry run.
pub async fn start_check(state: &AppState, auth: &Auth, id: i64) -> AppResult<Import> {
    let imp = get(state, auth, id).await?;
    mapped(&imp)?;
    if !matches!(imp.state.as_str(), "uploaded" | "validated" | "failed") {
        return Err(AppError::conflict("import-error-busy"));
    }
    enqueue(state, auth, &imp, JOB_CHECK, "validating").await
}

/// Queues the write (or its continuation with rows fixed since).
pub async fn start_write(state: &AppState, auth: &Auth, id: i64) -> AppResult<Import> {
    let imp = get(state, auth, id).await?;
    mapped(&imp)?;
    if !matches!(
        imp.state.as_str(),
        "uploaded" | "validated" | "done" | "failed"
    ) {
        return Err(AppError::conflict("import-error-busy"));
    }
    enqueue(state, auth, &imp, JOB_WRITE, "queued").await
}

pub async fn cancel(state: &AppState, auth: &Auth, id: i64) -> AppResult<Import> {
    let imp = get(state, auth, id).await?;
    if !matches!(imp.state.as_str(), "queued" | "running" | "validating") {
        return Err(AppError::conflict("import-error-not-running"));
    }
    let mut tx = state.db.begin().await?;
    guanxi_store::jobs::cancel_for(&mut tx, "import.", "import_id", id).await?;
    imports::set_state(&mut tx, id, "cancelled", None, true).await?;
    audit::record(
        &mut tx,
        &auth.actor,
        Event::new("import.cancel", format!("cancelled import {id}")).target(id, &imp.file_name),
    )
    .await?;
    tx.commit().await?;
    get(state, auth, id).await
}

pub async fn start_revert(state: &AppState, auth: &Auth, id: i64) -> AppResult<Import> {
    let imp = get(state, auth, id).await?;
    let def = module(&imp.module)?;
    auth.principal.authorize(def.module, Action::Delete)?;
    if !matches!(imp.state.as_str(), "done" | "cancelled" | "failed") {
        return Err(AppError::conflict("import-error-busy"));
    }
    enqueue(state, auth, &imp, JOB_REVERT, "reverting").await
}

/// A page of failed rows.
pub async fn errors(
    state: &AppState,
    auth: &Auth,
    id: i64,
    after: i64,
    limit: i64,
    open_only: bool,
) -> AppResult<Vec<ErrorRow>> {
    get(state, auth, id).await?;
    Ok(imports::errors(&state.db, id, after, limit.clamp(1, 1000), open_only).await?)
}

/// A user's correction of a failed row: checked at once like the dry run would; kept either way.
pub async fn fix_row(
    state: &AppState,
    auth: &Auth,
    id: i64,
    line: i64,
    cells: Vec<String>,
) -> AppResult<ErrorRow> {
    let imp = get(state, auth, id).await?;
    if matches!(
        imp.state.as_str(),
        "running" | "validating" | "queued" | "reverting"
    ) {
        return Err(AppError::conflict("import-error-busy"));
    }
    let row = imports::error_row_at(&state.db, id, line).await?;
    if cells.len() != imp.headers.len() || cells.iter().any(|c| c.chars().count() > 32_767) {
        return Err(AppError::Validation(vec![FieldError::new(
            "cells",
            "import-error-mapping-length",
        )]));
    }
    let plan = plan_for(state, auth, &imp).await?;
    let allow = create_duplicates_allowed(state, &imp).await?;
    let prepared = plan.prepare(row.line, cells.clone());
    let mut seen = chunk::Seen::default();
    let mut orgs = std::collections::HashSet::new();
    let outcome = chunk::check(
        state,
        auth,
        &plan,
        vec![prepared],
        &mut seen,
        &mut orgs,
        allow,
        chunk::Reads::Db(&state.db),
    )
    .await?
    .pop();
    let (errors, ok) = match &outcome {
        Some(chunk::Outcome::Error(p)) => (p.errors_json(&imp.headers, &plan.columns), false),
        _ => (json!([]), true),
    };
    imports::fix_row(&state.db, id, line, &cells, &errors, ok).await?;
    Ok(imports::error_row_at(&state.db, id, line).await?)
}

/// What a template or the mapping screen offers for a module.
pub async fn targets(state: &AppState, auth: &Auth, module_code: &str) -> AppResult<Vec<Target>> {
    let def = module(module_code)?;
    auth.principal.authorize(def.module, Action::Import)?;
    let fs = fields(state, def).await?;
    let lk = crate::services::lookups::all(state, &fs).await?;
    Ok(plan::targets(&fs, &lk, auth.locale))
}

/// The import template of a module: XLSX (headers in the user's language, required ones marked,
/// options listed on a second sheet and offered as drop-downs) or CSV (the header row).
pub async fn template(
    state: &AppState,
    auth: &Auth,
    module_code: &str,
    csv: bool,
) -> AppResult<(String, Vec<u8>)> {
    let targets = targets(state, auth, module_code).await?;
    let i18n = guanxi_core::I18n::global();
    let required_note = i18n.t(auth.locale, "import-template-required");
    let columns: Vec<guanxi_io::TemplateColumn> = targets
        .iter()
        .map(|t| guanxi_io::TemplateColumn {
            header: t.label.clone(),
            required: t.required,
            note: t.required.then(|| required_note.clone()),
            options: t.options.clone(),
        })
        .collect();
    let module_name = i18n.t(auth.locale, &format!("module-{module_code}"));
    let base = format!("{}-{}", module_name, i18n.t(auth.locale, "import-template"));
    if csv {
        return Ok((
            format!("{base}.csv"),
            guanxi_io::template_csv(&columns).into_bytes(),
        ));
    }
    let data = i18n.t(auth.locale, "import-template-data-sheet");
    let options = i18n.t(auth.locale, "import-template-options-sheet");
    let bytes = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<u8>> {
        let tmp = tempfile::Builder::new().suffix(".xlsx").tempfile()?;
        guanxi_io::write_template(tmp.path(), &data, &options, &columns, None)?;
        Ok(std::fs::read(tmp.path())?)
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?
    .map_err(AppError::Internal)?;
    Ok((format!("{base}.xlsx"), bytes))
}

/// Why an import stopped on its file, in `locale`, with the row or limit the message names.
pub fn message(imp: &Import, locale: guanxi_core::Locale) -> Option<String> {
    let key = imp.message.as_deref()?;
    let args: Vec<(&str, String)> = imp
        .message_args
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    Some(guanxi_core::I18n::global().t_args(locale, key, &args))
}

/// The rows still failing, as XLSX: the file's columns plus one saying what is wrong with each,
/// so they can be fixed in a spreadsheet and imported again (the error column is not mapped).
pub async fn error_file(state: &AppState, auth: &Auth, id: i64) -> AppResult<(String, Vec<u8>)> {
    let imp = get(state, auth, id).await?;
    let i18n = guanxi_core::I18n::global();
    let def = module(&imp.module)?;
    let fs = fields(state, def).await?;
    // An error file imported again brings its error column along: it is not repeated.
    let earlier: Vec<String> = [guanxi_core::Locale::ZhCn, guanxi_core::Locale::En]
        .iter()
        .map(|l| i18n.t(*l, "import-error-column"))
        .collect();
    let kept: Vec<bool> = imp.headers.iter().map(|h| !earlier.contains(h)).collect();
    let keep = |cells: Vec<String>| -> Vec<String> {
        cells
            .into_iter()
            .zip(&kept)
            .filter(|(_, k)| **k)
            .map(|(c, _)| c)
            .collect()
    };
    let mut headers = keep(imp.headers.clone());
    headers.push(i18n.t(auth.locale, "import-error-column"));
    let mut w = guanxi_io::XlsxWriter::new(&i18n.t(auth.locale, "import-template-data-sheet"))
        .map_err(|e| AppError::Internal(e.into()))?;
    w.header(&headers)
        .map_err(|e| AppError::Internal(e.into()))?;
    let mut after = 0;
    loop {
        let page = imports::errors(&state.db, id, after, 1000, true).await?;
        let Some(last) = page.last() else { break };
        after = last.line;
        for row in page {
            let mut cells: Vec<guanxi_io::Cell> = keep(row.cells)
                .into_iter()
                .map(guanxi_io::Cell::Text)
                .collect();
            cells.push(guanxi_io::Cell::Text(describe(
                &fs,
                def,
                auth.locale,
                &row.errors,
            )));
            w.write_row(&cells)
                .map_err(|e| AppError::Internal(e.into()))?;
        }
    }
    let bytes = tokio::task::spawn_blocking(move || w.save_to_buffer())
        .await
        .map_err(|e| AppError::Internal(e.into()))?
        .map_err(|e| AppError::Internal(e.into()))?;
    let stem = imp
        .file_name
        .rsplit_once('.')
        .map_or(imp.file_name.as_str(), |(s, _)| s);
    Ok((
        format!(
            "{stem}-{}.xlsx",
            i18n.t(auth.locale, "import-error-file-suffix")
        ),
        bytes,
    ))
}

/// The reasons of a failed row in words: "客户名称: 必填。; 电话: 不是有效的电话号码。".
pub fn describe(
    fs: &guanxi_core::engine::Fields,
    def: &guanxi_core::engine::ModuleDef,
    locale: guanxi_core::Locale,
    errors: &Value,
) -> String {
    let i18n = guanxi_core::I18n::global();
    errors
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    let field = e.get("field").and_then(Value::as_str).unwrap_or_default();
                    let label = match field {
                        plan::OWNER => i18n.t(locale, "import-target-owner"),
                        plan::ORGANISATION_NAME => {
                            i18n.t(locale, "import-target-organisation-name")
                        }
                        code => fs
                            .field(code)
                            .map_or_else(|| code.to_owned(), |f| f.label_in(def, locale)),
                    };
                    let key = e.get("message").and_then(Value::as_str).unwrap_or("error");
                    let args: Vec<(String, String)> = e
                        .get("args")
                        .and_then(Value::as_object)
                        .map(|o| {
                            o.iter()
                                .map(|(k, v)| {
                                    (
                                        k.clone(),
                                        v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    let args: Vec<(&str, String)> =
                        args.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
                    format!("{label}: {}", i18n.t_args(locale, key, &args))
                })
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default()
}
