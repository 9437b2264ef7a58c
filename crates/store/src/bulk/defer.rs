//! Secondary indexes set aside while a large import writes into a table that holds few rows
//! yet, and built again when it ends: one sort per index instead of a B-tree insert per row
//! and index (a million customers on SQLite, the table's ten indexes: 51 s inserted row by
//! row, 6.9 s for the rows alone and 8.6 s to build the indexes afterwards).
//!
//! Only indexes that enforce nothing are set aside (not unique ones, not those behind a
//! constraint). Each one's definition goes into `deferred_indexes` in the transaction that
//! drops it, so a process killed meanwhile leaves them behind: [`restore_indexes`] runs at
//! every start (`migrate::run`) and builds whatever is listed there.
//!
//! The module's quick-search index (FTS5, SQLite) likewise merges its segments once at the
//! end instead of as it goes ([`bulk_merging`], [`restore_merging`]).

use super::check_ident;
use guanxi_core::engine::ModuleDef;

use crate::{Db, Result, on_db, on_tx};

/// Drops the secondary indexes of `table` that enforce nothing, keeping their definitions in
/// `deferred_indexes`; returns how many.
pub async fn defer_indexes(db: &Db, table: &str) -> Result<usize> {
    check_ident(table)?;
    let mut tx = db.begin().await?;
    let defs = super::index_defs(&mut tx, table, false).await?;
    let at = crate::now();
    for (name, def) in &defs {
        on_tx!(&mut tx, |c| sqlx::query(
            "INSERT INTO deferred_indexes (name, table_name, definition, deferred_at) \
             VALUES ($1, $2, $3, $4)"
        )
        .bind(name)
        .bind(table)
        .bind(def)
        .bind(at)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
        super::drop_index(&mut tx, name).await?;
    }
    tx.commit().await?;
    Ok(defs.len())
}

/// Builds the indexes set aside for `table` (for every table: `None`) again, each in a
/// transaction of its own so that other writers wait for one index at a time; returns how
/// many it built.
pub async fn restore_indexes(db: &Db, table: Option<&str>) -> Result<usize> {
    let rows: Vec<(String, String, String)> = on_db!(db, write, |p| sqlx::query_as(
        "SELECT name, table_name, definition FROM deferred_indexes ORDER BY name"
    )
    .fetch_all(p)
    .await)?;
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|r| table.is_none_or(|t| r.1 == t))
        .collect();
    if rows.is_empty() {
        return Ok(0);
    }
    // SQLite sorts an index's keys in temporary files; kept in memory (the connection's
    // setting) a million customers' keys peaked at 238 MB.
    temp_store(db, "FILE").await?;
    let built = build(db, &rows).await;
    temp_store(db, "MEMORY").await?;
    built
}

async fn temp_store(db: &Db, mode: &str) -> Result<()> {
    if let Db::Sqlite { write, .. } = db {
        sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA temp_store = {mode}")))
            .execute(write)
            .await?;
    }
    Ok(())
}

async fn build(db: &Db, rows: &[(String, String, String)]) -> Result<usize> {
    let mut built = 0;
    for (name, _, def) in rows {
        let mut tx = db.begin().await?;
        let create = if_not_exists(def);
        on_tx!(&mut tx, |c| sqlx::query(sqlx::AssertSqlSafe(
            create.as_str()
        ))
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
        on_tx!(&mut tx, |c| sqlx::query(
            "DELETE FROM deferred_indexes WHERE name = $1"
        )
        .bind(name)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
        tx.commit().await?;
        built += 1;
    }
    Ok(built)
}

/// The names of the indexes of `table` set aside now.
pub async fn deferred(db: &Db, table: &str) -> Result<Vec<String>> {
    Ok(on_db!(db, read, |p| sqlx::query_scalar(
        "SELECT name FROM deferred_indexes WHERE table_name = $1 ORDER BY name"
    )
    .bind(table)
    .fetch_all(p)
    .await)?)
}

/// `CREATE INDEX name …` as `CREATE INDEX IF NOT EXISTS name …`: building it again is a no-op
/// when another process got there first.
fn if_not_exists(def: &str) -> String {
    match def.strip_prefix("CREATE INDEX ") {
        Some(rest) if !rest.starts_with("IF NOT EXISTS") => {
            format!("CREATE INDEX IF NOT EXISTS {rest}")
        }
        _ => def.to_owned(),
    }
}

/// SQLite: FTS5's incremental merging of `module`'s index off while a large import writes
/// (`bulk`), then back on with every segment merged into one. FTS5 otherwise merges a few
/// segments each time its pending documents are flushed, writing the same postings again at
/// every level: a million customers' documents took 14.2 s with merging as they went,
/// 8.5 s without and 1.6 s to merge them at the end. A process killed meanwhile leaves it
/// off; [`restore_merging`] (every start) turns it back on. PostgreSQL: nothing to do.
pub async fn bulk_merging(db: &Db, def: &ModuleDef, bulk: bool) -> Result<()> {
    let Db::Sqlite { write, .. } = db else {
        return Ok(());
    };
    if !def.fields.iter().any(|f| f.searchable) {
        return Ok(());
    }
    let table = crate::search::fts_table(def.code)?;
    let (automerge, merge) = if bulk {
        (0, false)
    } else {
        (FTS5_AUTOMERGE, true)
    };
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO {table} ({table}, rank) VALUES ('automerge', {automerge})"
    )))
    .execute(write)
    .await?;
    if merge {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO {table} ({table}) VALUES ('optimize')"
        )))
        .execute(write)
        .await?;
    }
    Ok(())
}

/// FTS5's default number of segments per level that it merges as it writes.
const FTS5_AUTOMERGE: i64 = 4;

/// Turns merging back on (and merges) for every module whose index an interrupted import left
/// without it; returns how many.
pub async fn restore_merging(db: &Db) -> Result<usize> {
    let Db::Sqlite { write, .. } = db else {
        return Ok(0);
    };
    let mut n = 0;
    for def in guanxi_core::engine::MODULES {
        if !def.fields.iter().any(|f| f.searchable) {
            continue;
        }
        let table = crate::search::fts_table(def.code)?;
        let off: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT 1 FROM {table}_config WHERE k = 'automerge' AND v = 0"
        )))
        .fetch_optional(write)
        .await?;
        if off.is_some() {
            bulk_merging(db, def, false).await?;
            n += 1;
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_are_built_only_when_missing() {
        assert_eq!(
            if_not_exists("CREATE INDEX customers_name ON customers(name, id)"),
            "CREATE INDEX IF NOT EXISTS customers_name ON customers(name, id)"
        );
        assert_eq!(
            if_not_exists("CREATE INDEX customers_name ON public.customers USING btree (name, id)"),
            "CREATE INDEX IF NOT EXISTS customers_name ON public.customers USING btree (name, id)"
        );
        let again = if_not_exists("CREATE INDEX IF NOT EXISTS x ON t(a)");
        assert_eq!(again, "CREATE INDEX IF NOT EXISTS x ON t(a)");
    }
}
