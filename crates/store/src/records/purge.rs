//! Purging (永久删除): one record of the recycle bin removed for good, in the caller's
//! transaction, with everything that hangs on it — its quick-search document, attachments,
//! change history and import traces, and for a customer its ownership timeline, fall-back
//! warning and score lines; for a follow-up its behaviours. The audit log keeps its entries.
//!
//! Other records that point at it decide whether it may go. A live one refuses the purge (the
//! user must delete it or change its link first: nothing else is lost by surprise). One in the
//! recycle bin loses the link (with a history line, so a later restore shows why), unless the
//! link is required — a follow-up cannot be without its customer — which refuses the purge too,
//! until that record is purged first.

use guanxi_core::Grant;
use guanxi_core::Module;
use guanxi_core::engine::{FieldDef, Fields, ModuleDef};
use serde_json::{Value, json};

use super::{Record, RecordError, scope, tx_fetch};
use crate::audit::Actor;
use crate::custom_fields::expr;
use crate::{StoreError, Tx, now, on_tx};

/// A field of some module that holds ids of the purged record's module (a relation, declared
/// or custom).
#[derive(Clone, Copy, Debug)]
pub struct Reference {
    pub def: &'static ModuleDef,
    pub field: &'static FieldDef,
}

impl Reference {
    /// The condition on `t` (a row of the reference's module) that it points at record `$1`
    /// of `target` — other than itself, when a module points at its own records.
    fn condition(&self, backend: crate::Backend, target: &ModuleDef) -> String {
        let itself = if self.def.module == target.module {
            " AND t.id <> $1"
        } else {
            ""
        };
        format!("{} = $1{itself}", expr(backend, self.field))
    }

    /// The relation fields of `modules` that point at records of `target`.
    pub fn to(target: &ModuleDef, modules: &[&Fields]) -> Vec<Reference> {
        let kind = guanxi_core::engine::FieldKind::Relation(target.module);
        modules
            .iter()
            .flat_map(|fs| {
                fs.iter()
                    .filter(move |f| f.kind == kind)
                    .map(|field| Reference { def: fs.def, field })
            })
            .collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PurgeError {
    /// Not in the caller's scope, or no such record.
    #[error("not found")]
    NotFound,
    /// The record is live: only what is in the recycle bin can be purged.
    #[error("the record is not in the recycle bin")]
    NotDeleted,
    /// `count` records of `module` point at it: live ones (`deleted` false), or ones in the
    /// recycle bin whose link is required.
    #[error("{count} records of {} still point at it", module.code)]
    Referenced {
        module: &'static ModuleDef,
        count: i64,
        deleted: bool,
    },
    #[error(transparent)]
    Record(#[from] RecordError),
}

impl From<sqlx::Error> for PurgeError {
    fn from(e: sqlx::Error) -> Self {
        PurgeError::Record(e.into())
    }
}

impl From<StoreError> for PurgeError {
    fn from(e: StoreError) -> Self {
        PurgeError::Record(e.into())
    }
}

type Result<T> = std::result::Result<T, PurgeError>;

/// Removes a record of the recycle bin for good; returns it as it was. `references` are the
/// relation fields of every module that may point at it ([`Reference::to`]).
pub async fn purge(
    tx: &mut Tx,
    fs: &Fields,
    grant: &Grant,
    id: i64,
    references: &[Reference],
    actor: &Actor,
) -> Result<Record> {
    let def = fs.def;
    let _ = scope(def, grant);
    // Holds the row until the commit, so a restore racing with the purge waits for it (SQLite
    // has a single writer already).
    if let Tx::Postgres(c) = tx {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id FROM {} WHERE id = $1 FOR UPDATE",
            def.table
        )))
        .bind(id)
        .execute(&mut **c)
        .await?;
    }
    let rec = tx_fetch(tx, fs, id).await?.ok_or(PurgeError::NotFound)?;
    if !grant.covers(rec.owner_id, rec.department_id) {
        return Err(PurgeError::NotFound);
    }
    if rec.deleted_at.is_none() {
        return Err(PurgeError::NotDeleted);
    }
    for r in references {
        refuse_if_referenced(tx, def, r, id).await?;
    }
    for r in references {
        unlink_deleted(tx, def, r, id, actor).await?;
    }
    crate::search::index_record(tx, def, id, &crate::search::text_of(fs, &rec.values), "").await?;
    // Rows of every module, by module and id.
    for sql in [
        "DELETE FROM attachments WHERE module = $1 AND record_id = $2",
        "DELETE FROM record_history WHERE module = $1 AND record_id = $2",
        "DELETE FROM record_collaborators WHERE module = $1 AND record_id = $2",
        "DELETE FROM import_items WHERE record_id = $2 \
         AND import_id IN (SELECT id FROM imports WHERE module = $1)",
    ] {
        on_tx!(tx, |c| sqlx::query(sql)
            .bind(def.code)
            .bind(id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
    }
    // Rows of the module's own tables, by id. (`pool_views` keeps its rows: they only count a
    // user's views of the day, and hold nothing of the customer but its id.)
    let own: &[&str] = match def.module {
        Module::Customers => &[
            "DELETE FROM fall_back_warnings WHERE customer_id = $1",
            "DELETE FROM ownership_events WHERE customer_id = $1",
            "DELETE FROM follow_up_behaviours WHERE customer_id = $1",
        ],
        Module::FollowUps => &["DELETE FROM follow_up_behaviours WHERE follow_up_id = $1"],
        _ => &[],
    };
    for sql in own {
        on_tx!(tx, |c| sqlx::query(*sql)
            .bind(id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
    }
    let sql = format!(
        "DELETE FROM {} WHERE id = $1 AND deleted_at IS NOT NULL",
        def.table
    );
    let n = on_tx!(tx, |c| sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(PurgeError::NotDeleted);
    }
    Ok(rec)
}

/// How many records hold `id` (of `target`) in the reference's field, live or deleted.
async fn count(
    tx: &mut Tx,
    target: &ModuleDef,
    r: &Reference,
    id: i64,
    deleted: bool,
) -> Result<i64> {
    let sql = format!(
        "SELECT COUNT(*) FROM {} t WHERE {} AND t.deleted_at IS {}",
        r.def.table,
        r.condition(backend(tx), target),
        if deleted { "NOT NULL" } else { "NULL" }
    );
    Ok(on_tx!(tx, |c| sqlx::query_scalar::<_, i64>(
        sqlx::AssertSqlSafe(sql.as_str())
    )
    .bind(id)
    .fetch_one(&mut *c)
    .await)?)
}

fn backend(tx: &Tx) -> crate::Backend {
    match tx {
        Tx::Sqlite(_) => crate::Backend::Sqlite,
        Tx::Postgres(_) => crate::Backend::Postgres,
    }
}

async fn refuse_if_referenced(
    tx: &mut Tx,
    target: &ModuleDef,
    r: &Reference,
    id: i64,
) -> Result<()> {
    let live = count(tx, target, r, id, false).await?;
    if live > 0 {
        return Err(PurgeError::Referenced {
            module: r.def,
            count: live,
            deleted: false,
        });
    }
    if r.field.required {
        let binned = count(tx, target, r, id, true).await?;
        if binned > 0 {
            return Err(PurgeError::Referenced {
                module: r.def,
                count: binned,
                deleted: true,
            });
        }
    }
    Ok(())
}

/// Clears the link of records in the recycle bin that point at the purged record, each with a
/// history line at its new version.
async fn unlink_deleted(
    tx: &mut Tx,
    target: &ModuleDef,
    r: &Reference,
    id: i64,
    actor: &Actor,
) -> Result<()> {
    let backend = backend(tx);
    let select = format!(
        "SELECT t.id, t.version FROM {} t WHERE {} AND t.deleted_at IS NOT NULL",
        r.def.table,
        r.condition(backend, target)
    );
    let rows: Vec<(i64, i32)> =
        on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(select.as_str()))
            .bind(id)
            .fetch_all(&mut *c)
            .await)?;
    if rows.is_empty() {
        return Ok(());
    }
    let code = r.field.code;
    let set = match (r.field.custom, backend) {
        (false, _) => format!("{code} = NULL"),
        (true, crate::Backend::Sqlite) => format!("custom = json_set(custom, '$.{code}', NULL)"),
        (true, crate::Backend::Postgres) => {
            format!("custom = jsonb_set(custom, '{{{code}}}', 'null'::jsonb)")
        }
    };
    let update = format!(
        "UPDATE {} SET {set}, version = version + 1, updated_by = $1, updated_at = $2 WHERE id = $3",
        r.def.table
    );
    for (rid, version) in rows {
        on_tx!(tx, |c| sqlx::query(sqlx::AssertSqlSafe(update.as_str()))
            .bind(actor.user_id)
            .bind(now())
            .bind(rid)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        super::history_line(
            tx,
            r.def,
            rid,
            version + 1,
            actor,
            "update",
            code,
            &json!(id),
            &Value::Null,
        )
        .await?;
    }
    Ok(())
}
