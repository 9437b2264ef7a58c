//! Secondary indexes set aside while a large import writes into a table that holds few rows
//! yet, and built again when it ends: one sort per index instead of a B-tree insert per row
//! and index (a million customers on SQLite, the table's ten indexes: 51 s inserted row by
//! row, 6.9 s for the rows alone and 8.6 s to build the indexes afterwards).
//!
//! Only indexes that enforce nothing are set aside (not unique ones, not those behind a
//! constraint). Each one's definition goes into `deferred_indexes` in the transaction that
//! drops it, so a process killed meanwhile leaves them behind: [`restore_indexes`] runs at
//! every start (`migrate::run`) and builds whatever is listed there.

use super::check_ident;
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
