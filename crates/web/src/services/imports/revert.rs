//! The revert of an import, as a background job: every record it created to the recycle bin,
//! every one it updated put back — through the normal change history, in chunks.

use std::sync::Arc;

use guanxi_core::Action;
use guanxi_store::audit::Event;
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
        after = last.record_id;
        let mut tx = state.db.begin().await?;
        renew(&mut tx, lease).await?;
        // A record someone changed since the import wrote it keeps that change: it is left as
        // it is (and counted), never deleted or overwritten with the values from before.
        let unchanged = |w: &imports::Written, now: i32| w.version.is_none_or(|v| v == now);
        let created: Vec<&imports::Written> =
            page.iter().filter(|w| w.action == "create").collect();
        let ids: Vec<i64> = created.iter().map(|w| w.record_id).collect();
        let now = imports::versions(&mut tx, fs.def.table, &ids).await?;
        let (to_delete, changed): (Vec<&imports::Written>, Vec<&imports::Written>) = created
            .into_iter()
            .partition(|w| now.get(&w.record_id).is_some_and(|v| unchanged(w, *v)));
        let mut kept = changed.len() as i64;
        let to_delete: Vec<i64> = to_delete.iter().map(|w| w.record_id).collect();
        let mut n = records::delete_many(&mut tx, &fs, &to_delete, &auth.actor)
            .await?
            .len() as i64;
        for w in page.iter().filter(|w| w.action == "update") {
            let Some(Value::Object(before)) = &w.before else {
                continue;
            };
            let Some(cur) = records::tx_fetch(&mut tx, &fs, w.record_id).await? else {
                continue;
            };
            if !unchanged(w, cur.version) {
                kept += 1;
            } else if cur.deleted_at.is_none()
                && !cur.locked
                && records::update(
                    &mut tx,
                    &fs,
                    &grant,
                    w.record_id,
                    cur.version,
                    before,
                    &auth.actor,
                )
                .await
                .is_ok()
            {
                n += 1;
            }
        }
        imports::add_reverted(&mut tx, id, n, kept).await?;
        tx.commit().await?;
    }
    let counts = imports::get(&state.db, id).await?;
    let event = Event::new(
        "import.revert",
        format!(
            "reverted import {id} of {}: {} records put back, {} changed since and left as they are",
            imp.module, counts.reverted_rows, counts.kept_rows
        ),
    )
    .module(def.module);
    super::run::end(state, auth, &imp, lease, "reverted", event).await
}
