//! What an import's write did to each record (created, or updated with the values before and
//! the version after), so that a revert can put it back — and leave alone what changed since.

use std::collections::HashMap;

use serde_json::Value;

use crate::{Db, Result, Tx, on_db, on_tx};

/// What the write did to one record.
pub struct Item {
    pub record_id: i64,
    /// create or update.
    pub action: &'static str,
    /// For an update: the changed fields' values before it.
    pub before: Option<Value>,
    /// The record's version right after the write.
    pub version: i32,
}

/// One record an import wrote, as a revert reads it.
pub struct Written {
    pub record_id: i64,
    /// create or update.
    pub action: String,
    pub before: Option<Value>,
    /// The record's version right after the write (none for imports from before it was kept).
    pub version: Option<i32>,
}

pub async fn add_items(tx: &mut Tx, id: i64, items: &[Item]) -> Result<()> {
    let rows = items
        .iter()
        .map(|i| {
            vec![
                crate::bulk::Val::Int(id),
                crate::bulk::Val::Int(i.record_id),
                crate::bulk::Val::Text(i.action.to_owned()),
                i.before.as_ref().map_or(crate::bulk::Val::Null, |b| {
                    crate::bulk::Val::Text(b.to_string())
                }),
                crate::bulk::Val::Int(i64::from(i.version)),
            ]
        })
        .collect();
    crate::bulk::insert(
        tx,
        "import_items",
        &["import_id", "record_id", "action", "before", "version"],
        rows,
    )
    .await
}

/// A page of what the write did, by record id.
pub async fn items(db: &Db, id: i64, after_record: i64, limit: i64) -> Result<Vec<Written>> {
    type Raw = (i64, String, Option<String>, Option<i32>);
    let rows: Vec<Raw> = on_db!(db, read, |p| {
        sqlx::query_as(
        "SELECT record_id, action, before, version FROM import_items WHERE import_id = $1 AND record_id > $2 \
         ORDER BY record_id LIMIT $3"
    )
    .bind(id)
    .bind(after_record)
    .bind(limit)
    .fetch_all(p)
    .await
    })?;
    Ok(rows
        .into_iter()
        .map(|(record_id, action, before, version)| Written {
            record_id,
            action,
            before: before.and_then(|b| serde_json::from_str(&b).ok()),
            version,
        })
        .collect())
}

/// The versions of `ids` in `table` now (deleted records included; purged ones missing).
pub async fn versions(tx: &mut Tx, table: &str, ids: &[i64]) -> Result<HashMap<i64, i32>> {
    crate::bulk::check_ident(table)?;
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    // Integers only: written into the statement.
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    let sql = format!(
        "SELECT id, version FROM {table} WHERE id IN ({})",
        list.join(", ")
    );
    let rows: Vec<(i64, i32)> = on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .fetch_all(&mut *c)
        .await)?;
    Ok(rows.into_iter().collect())
}
