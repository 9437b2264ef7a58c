//! Collaborators (协作人) of a record: users besides the owner who work on it. They see the
//! record and may edit it, not delete, transfer or purge it: the data scope of a view or an edit
//! grant adds the records its user collaborates on ([`clause`], [`includes`]). Changing them is
//! a change of the record: its version moves and its history has a line.

use chrono::{DateTime, Utc};
use guanxi_core::Grant;
use guanxi_core::engine::{Fields, ModuleDef};
use serde::Serialize;
use serde_json::json;

use super::write::for_write;
use super::{Record, RecordError, Result, history_line, tx_fetch};
use crate::audit::Actor;
use crate::{Db, Tx, now, on_db, on_tx};

#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Collaborator {
    pub user_id: i64,
    pub display_name: String,
    pub added_at: DateTime<Utc>,
}

const SELECT: &str = "SELECT c.user_id, u.display_name, c.added_at FROM record_collaborators c \
    JOIN users u ON u.id = c.user_id WHERE c.module = $1 AND c.record_id = $2 ORDER BY u.display_name, c.user_id";

/// The collaborators of a record (the caller has checked that the user may see it).
pub async fn of(db: &Db, def: &ModuleDef, id: i64) -> Result<Vec<Collaborator>> {
    Ok(on_db!(db, read, |p| sqlx::query_as(SELECT)
        .bind(def.code)
        .bind(id)
        .fetch_all(p)
        .await)?)
}

async fn tx_of(tx: &mut Tx, def: &ModuleDef, id: i64) -> Result<Vec<Collaborator>> {
    Ok(on_tx!(tx, |c| sqlx::query_as(SELECT)
        .bind(def.code)
        .bind(id)
        .fetch_all(&mut *c)
        .await)?)
}

/// Whether the user collaborates on any record (read with the user's principal).
pub async fn any_for(db: &Db, user_id: i64) -> crate::Result<bool> {
    let n: Option<i64> = on_db!(db, read, |p| sqlx::query_scalar(
        "SELECT user_id FROM record_collaborators WHERE user_id = $1 LIMIT 1"
    )
    .bind(user_id)
    .fetch_optional(p)
    .await)?;
    Ok(n.is_some())
}

/// The SQL over `t` of the records the grant reaches through collaboration, if any.
pub(super) fn clause(def: &ModuleDef, grant: &Grant) -> Option<String> {
    // Only while the record has an owner: a customer back in its pool is the pool's, and its
    // collaborators went with its owner (see [`leave_with_owner`]).
    (def.collaborators && grant.via_collaboration()).then(|| {
        format!(
            "(t.owner_id IS NOT NULL AND t.id IN (SELECT record_id FROM record_collaborators \
             WHERE module = '{}' AND user_id = {}))",
            def.code,
            grant.user_id()
        )
    })
}

/// Customers that went back to a pool lose their collaborators with their owner.
pub async fn leave_with_owner(tx: &mut Tx, customer_ids: &[i64]) -> crate::Result<()> {
    if customer_ids.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = customer_ids.iter().map(i64::to_string).collect();
    let sql = format!(
        "DELETE FROM record_collaborators WHERE module = 'customers' AND record_id IN ({})",
        ids.join(", ")
    );
    on_tx!(tx, |c| sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    crate::cache::invalidate(crate::cache::Topic::People);
    Ok(())
}

/// Whether the grant reaches the record through collaboration (for writes, inside their
/// transaction).
pub(super) async fn includes(tx: &mut Tx, def: &ModuleDef, grant: &Grant, id: i64) -> Result<bool> {
    if clause(def, grant).is_none() {
        return Ok(false);
    }
    let n: Option<i64> = on_tx!(tx, |c| {
        sqlx::query_scalar(
        "SELECT user_id FROM record_collaborators WHERE module = $1 AND record_id = $2 AND user_id = $3"
    )
    .bind(def.code)
    .bind(id)
    .bind(grant.user_id())
    .fetch_optional(&mut *c)
    .await
    })?;
    Ok(n.is_some())
}

/// Replaces the collaborators of a record at `version` (a stale version is a conflict, a
/// locked record refuses). Returns the record after the change and its collaborators; nothing
/// is written when the set does not change.
pub async fn set(
    tx: &mut Tx,
    fs: &Fields,
    grant: &Grant,
    id: i64,
    version: i32,
    user_ids: &[i64],
    actor: &Actor,
) -> Result<(Record, Vec<Collaborator>)> {
    let def = fs.def;
    let rec = for_write(tx, fs, grant, id, Some(version)).await?;
    // Who works on a record is the owner's side's to decide, not a collaborator's.
    if !grant.covers(rec.owner_id, rec.department_id) {
        return Err(RecordError::NotFound);
    }
    if rec.locked {
        return Err(RecordError::Locked);
    }
    let before = tx_of(tx, def, id).await?;
    let mut wanted: Vec<i64> = user_ids
        .iter()
        .copied()
        .filter(|u| Some(*u) != rec.owner_id)
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut had: Vec<i64> = before.iter().map(|c| c.user_id).collect();
    had.sort_unstable();
    if had == wanted {
        return Ok((rec, before));
    }
    let t = now();
    // The version moves first, checked: of two saves at the same version only one goes on.
    let stmt = format!(
        "UPDATE {} SET version = version + 1, updated_by = $1, updated_at = $2 \
         WHERE id = $3 AND version = $4",
        def.table
    );
    let moved = on_tx!(tx, |c| sqlx::query(sqlx::AssertSqlSafe(stmt.as_str()))
        .bind(actor.user_id)
        .bind(t)
        .bind(id)
        .bind(version)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    if moved != 1 {
        let now = tx_fetch(tx, fs, id).await?.ok_or(RecordError::NotFound)?;
        return Err(RecordError::Conflict(Box::new(now)));
    }
    on_tx!(tx, |c| sqlx::query(
        "DELETE FROM record_collaborators WHERE module = $1 AND record_id = $2"
    )
    .bind(def.code)
    .bind(id)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    for u in &wanted {
        on_tx!(tx, |c| sqlx::query(
            "INSERT INTO record_collaborators (module, record_id, user_id, added_by, added_at) \
             VALUES ($1, $2, $3, $4, $5)"
        )
        .bind(def.code)
        .bind(id)
        .bind(u)
        .bind(actor.user_id)
        .bind(
            before
                .iter()
                .find(|c| c.user_id == *u)
                .map_or(t, |c| c.added_at)
        )
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    }
    let after = tx_of(tx, def, id).await?;
    let names = |cs: &[Collaborator]| {
        json!(
            cs.iter()
                .map(|c| c.display_name.as_str())
                .collect::<Vec<_>>()
                .join("、")
        )
    };
    let (old, new) = (names(&before), names(&after));
    history_line(
        tx,
        def,
        id,
        rec.version + 1,
        actor,
        "update",
        "collaborators",
        &old,
        &new,
    )
    .await?;
    // Principals carry whether their user collaborates on anything.
    crate::cache::invalidate(crate::cache::Topic::People);
    let rec = tx_fetch(tx, fs, id).await?.ok_or(RecordError::NotFound)?;
    Ok((rec, after))
}
