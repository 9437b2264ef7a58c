//! The revert of an import, as a background job: every record it created to the recycle bin,
//! every one it updated put back — through the normal change history, in chunks.

use std::sync::Arc;

use guanxi_core::Action;
use guanxi_store::audit::{self, Event};
use guanxi_store::imports::{self, Import};
use guanxi_store::records;
use serde_json::Value;

use super::run::{CHUNK, Lease, renew};
use crate::auth::Auth;
use crate::error::AppResult;
use crate::state::AppState;

/// Puts everything back: created records to the recycle bin, updated ones to their values
/// before the import — each through the normal change history.
pub async fn revert(
    state: &AppState,
    auth: &Auth,
    id: i64,
    lease: Option<&Lease>,
) -> AppResult<Import> {
    let imp = imports::get(&state.db, id).await?;
    let def = crate::services::records::module(&imp.module)?;
    let fs: Arc<guanxi_core::engine::Fields> = crate::services::records::fields(state, def).await?;
    let grant = auth.principal.authorize(def.module, Action::Edit)?;
    let mut after = 0;
    loop {
        let page = imports::items(&state.db, id, after, CHUNK as i64).await?;
        let Some(last) = page.last() else { break };
        after = last.0;
        let mut tx = state.db.begin().await?;
        renew(&mut tx, lease).await?;
        let created: Vec<i64> = page
            .iter()
            .filter(|i| i.1 == "create")
            .map(|i| i.0)
            .collect();
        let mut n = records::delete_many(&mut tx, &fs, &created, &auth.actor)
            .await?
            .len() as i64;
        for (rid, _, before) in page.iter().filter(|i| i.1 == "update") {
            let Some(Value::Object(before)) = before else {
                continue;
            };
            if let Some(cur) = records::tx_fetch(&mut tx, &fs, *rid).await?
                && cur.deleted_at.is_none()
                && !cur.locked
                && records::update(&mut tx, &fs, &grant, *rid, cur.version, before, &auth.actor)
                    .await
                    .is_ok()
            {
                n += 1;
            }
        }
        imports::add_reverted(&mut tx, id, n).await?;
        tx.commit().await?;
    }
    let mut tx = state.db.begin().await?;
    renew(&mut tx, lease).await?;
    imports::set_state(&mut tx, id, "reverted", None, true).await?;
    audit::record(
        &mut tx,
        &auth.actor,
        Event::new(
            "import.revert",
            format!("reverted import {id} of {}", imp.module),
        )
        .module(def.module)
        .target(id, &imp.file_name),
    )
    .await?;
    tx.commit().await?;
    Ok(imports::get(&state.db, id).await?)
}
