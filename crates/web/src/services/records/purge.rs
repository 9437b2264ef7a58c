//! Purging a record from the recycle bin (永久删除): administrators only (the right to manage
//! the system's settings, as for every other administrator-only use case), within their data
//! scope of the module (a record outside it is 404), never a live record, and never while
//! other records still point at it. The audit log keeps an entry; the record, its history and
//! its attachments are gone.

use guanxi_core::engine::{MODULES, ModuleDef};
use guanxi_core::{Action, I18n, Module};
use guanxi_store::audit;
use guanxi_store::records::{self, PurgeError, Record, Reference};

use super::{event, fields};
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Whether the caller is an administrator, who alone may purge.
pub fn may_purge(auth: &Auth) -> bool {
    auth.principal.can(Module::Settings, Action::Manage)
}

pub async fn purge(
    state: &AppState,
    auth: &Auth,
    def: &'static ModuleDef,
    id: i64,
) -> AppResult<Record> {
    auth.principal.authorize(Module::Settings, Action::Manage)?;
    let g = auth.principal.authorize(def.module, Action::Delete)?;
    let fs = fields(state, def).await?;
    // Hidden and retired relation fields still hold their links.
    let mut all = vec![];
    for m in MODULES {
        all.push(guanxi_store::custom_fields::all_fields(&state.db, m).await?);
    }
    let references = Reference::to(def, &all.iter().collect::<Vec<_>>());
    let mut tx = state.db.begin().await?;
    let rec = records::purge(&mut tx, &fs, &g, id, &references, &auth.actor)
        .await
        .map_err(|e| refusal(e, auth))?;
    audit::record(
        &mut tx,
        &auth.actor,
        event(
            def,
            "record.purge",
            &rec,
            format!(
                "purged {} {} from the recycle bin",
                def.code,
                rec.title(def)
            ),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(rec)
}

/// The error to show, naming the records that keep the purge from happening.
fn refusal(e: PurgeError, auth: &Auth) -> AppError {
    match e {
        PurgeError::NotFound => AppError::NotFound,
        PurgeError::NotDeleted => AppError::conflict("error-purge-not-deleted"),
        PurgeError::Referenced {
            module,
            count,
            deleted,
        } => AppError::Conflict(
            if deleted {
                "error-purge-referenced-deleted"
            } else {
                "error-purge-referenced"
            },
            vec![
                ("count", count.to_string()),
                (
                    "module",
                    I18n::global().t(auth.locale, &format!("module-{}", module.code)),
                ),
            ],
        ),
        PurgeError::Record(e) => e.into(),
    }
}
