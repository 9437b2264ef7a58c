//! Bulk actions on selected records: transfer to another owner, or move to the recycle bin.
//! All of them or none: one transaction, so a record that may not be changed (outside the scope,
//! locked) stops the whole action and nothing is half done. Each record still gets its history
//! line, its module's hooks and its audit entry, as a single action would write them.

use guanxi_core::Action;
use guanxi_core::engine::ModuleDef;
use guanxi_store::records;

use super::{active_owner, delete_in, fields, transfer_in};
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The most records one bulk action takes (a list page shows up to 500).
pub const MAX: usize = 500;

/// The selection once each, in id order (a form may send an id twice).
fn checked(ids: &[i64]) -> AppResult<Vec<i64>> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Err(AppError::BadRequest("error-nothing-selected"));
    }
    if ids.len() > MAX {
        return Err(AppError::BadRequest("error-bulk-too-many"));
    }
    Ok(ids)
}

/// Transfers every selected record to `owner_id`; returns how many.
pub async fn transfer_many(
    state: &AppState,
    auth: &Auth,
    def: &'static ModuleDef,
    ids: &[i64],
    owner_id: i64,
) -> AppResult<usize> {
    let ids = &checked(ids)?;
    let g = auth.principal.authorize(def.module, Action::Assign)?;
    active_owner(state, owner_id).await?;
    let fs = fields(state, def).await?;
    let mut from = Vec::with_capacity(ids.len());
    for id in ids {
        from.push(records::get(&state.db, &fs, &g, *id).await?.owner_id);
    }
    let mut tx = state.db.begin().await?;
    for (id, from) in ids.iter().zip(from) {
        transfer_in(state, auth, &mut tx, &fs, &g, (*id, from), owner_id, true).await?;
    }
    tx.commit().await?;
    Ok(ids.len())
}

/// Moves every selected record to the recycle bin; returns how many.
pub async fn delete_many(
    state: &AppState,
    auth: &Auth,
    def: &'static ModuleDef,
    ids: &[i64],
) -> AppResult<usize> {
    let ids = &checked(ids)?;
    let g = auth.principal.authorize(def.module, Action::Delete)?;
    let fs = fields(state, def).await?;
    let mut tx = state.db.begin().await?;
    for id in ids {
        delete_in(state, auth, &mut tx, &fs, &g, *id, true).await?;
    }
    tx.commit().await?;
    Ok(ids.len())
}
