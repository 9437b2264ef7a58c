//! Bulk loading of generated rows (the demo data set, the benchmark harness): everything in one
//! transaction, many rows per statement — on SQLite one prepared multi-row `INSERT` reused for
//! every full batch, on PostgreSQL `COPY ... FROM STDIN`. No change history is written: the rows
//! are generated, not entered.
//!
//! When every table being loaded is empty, their secondary indexes are dropped first and built
//! again at the end, inside the same transaction (sorting once is several times faster than
//! inserting into a dozen B-trees row by row); an interrupted load leaves the database as it
//! was. On SQLite, foreign-key checks are off for the load (the generator links rows by
//! construction) and the page cache is enlarged; both are restored afterwards.

use chrono::{DateTime, NaiveDate, Utc};

use crate::{Db, Result, StoreError, Tx, on_db, on_tx};

pub use crate::pg_admin::{drop_pg_database, ensure_pg_database};
pub use crate::search::{insert_docs, insert_grams};

mod append;
mod defer;
pub(crate) use append::{pg_copy, sqlite_insert};
pub use defer::{bulk_merging, defer_indexes, deferred, restore_indexes, restore_merging};

/// One value of a generated row.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Null,
    Int(i64),
    Text(String),
    Bool(bool),
    Time(DateTime<Utc>),
    Date(NaiveDate),
    Float(f64),
}

impl From<Option<String>> for Val {
    fn from(v: Option<String>) -> Val {
        v.map_or(Val::Null, Val::Text)
    }
}

impl From<Option<i64>> for Val {
    fn from(v: Option<i64>) -> Val {
        v.map_or(Val::Null, Val::Int)
    }
}

/// Bind parameters per SQLite statement (its limit is 32,766).
const SQLITE_PARAMS: usize = 16_000;
/// Page cache while loading on SQLite, in KiB (negative = KiB for the pragma).
const SQLITE_LOAD_CACHE_KIB: i64 = 512 * 1024;
/// The page cache `Db::open_sqlite` sets, restored after the load.
const SQLITE_NORMAL_CACHE_KIB: i64 = 32_000;

/// A load in progress: an open transaction, and the index definitions to build again.
pub struct Load {
    tx: Tx,
    db: Db,
    tables: Vec<String>,
    dropped: Vec<String>,
    /// Foreign keys dropped (PostgreSQL), added again once every index is back.
    foreign_keys: Vec<String>,
}

/// How many live and deleted rows a table holds.
pub async fn count(db: &Db, table: &str) -> Result<i64> {
    of_table(db, "COUNT(*)", table).await
}

/// The highest id in a table (0 when empty).
pub async fn max_id(db: &Db, table: &str) -> Result<i64> {
    of_table(db, "COALESCE(MAX(id), 0)", table).await
}

/// One aggregate over a whole table, read through the readers.
async fn of_table(db: &Db, aggregate: &str, table: &str) -> Result<i64> {
    check_ident(table)?;
    let sql = format!("SELECT {aggregate} FROM {table}");
    Ok(on_db!(db, read, |p| sqlx::query_scalar(
        sqlx::AssertSqlSafe(sql.as_str())
    )
    .fetch_one(p)
    .await)?)
}

/// Table and column names are fixed by the caller's code; refuse anything else all the same.
pub(crate) fn check_ident(s: &str) -> Result<()> {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
        Ok(())
    } else {
        Err(StoreError::Config(format!("not an identifier: {s}")))
    }
}

async fn sqlite_pragmas(db: &Db, foreign_keys: bool, cache_kib: i64) -> Result<()> {
    if let Db::Sqlite { write, .. } = db {
        let fk = if foreign_keys { "ON" } else { "OFF" };
        for sql in [
            format!("PRAGMA foreign_keys = {fk}"),
            format!("PRAGMA cache_size = -{cache_kib}"),
        ] {
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(write).await?;
        }
    }
    Ok(())
}

/// Page cache of SQLite's writer connection while an import runs, in KiB. A larger cache saves
/// re-reading the leaves of a module table's name-ordered indexes, where a chunk's rows go in at
/// random places, but past 32-40 MB it bought nothing: a million customers from the command
/// line took 91.6 s with 64 MB and 88.7 s with 40 MB (20,000 rows a transaction), and 76.1 s
/// with 40 MB against 77.8 s with 32 MB (100,000 rows a transaction). Peak memory: 228, 202
/// and 193 MB (64 MB; 40 MB; 32 MB at 100,000 rows) — the import must stay under 200 MB.
pub const SQLITE_IMPORT_CACHE_KIB: i64 = 32 * 1024;

/// Refreshes the planner's statistics of a table that grew a lot (an import) on PostgreSQL,
/// where autovacuum may be off or late; SQLite plans without them.
pub async fn analyze(db: &Db, table: &str) -> Result<()> {
    check_ident(table)?;
    if let Db::Postgres(p) = db {
        sqlx::query(sqlx::AssertSqlSafe(format!("ANALYZE {table}")))
            .execute(p)
            .await?;
    }
    Ok(())
}

/// After a large load on PostgreSQL: `VACUUM (ANALYZE)` of the tables, as autovacuum would
/// do later (or never, where it is off) — fresh statistics for the planner, and the
/// visibility map that lets index-only scans skip the table (a two-character quick search at
/// 1M customers: 98 ms with 16,944 heap fetches before, 5.6 ms after). SQLite: nothing to do.
pub async fn vacuum_analyze(db: &Db, tables: &[&str]) -> Result<()> {
    if let Db::Postgres(p) = db {
        for table in tables {
            check_ident(table)?;
            sqlx::query(sqlx::AssertSqlSafe(format!("VACUUM (ANALYZE) {table}")))
                .execute(p)
                .await?;
        }
    }
    Ok(())
}

/// Enlarges (or, with `false`, restores) the SQLite writer's page cache around a long write.
/// PostgreSQL manages its own buffers: nothing to do there.
pub async fn writer_cache(db: &Db, large: bool) -> Result<()> {
    if let Db::Sqlite { write, .. } = db {
        let kib = if large {
            SQLITE_IMPORT_CACHE_KIB
        } else {
            SQLITE_NORMAL_CACHE_KIB
        };
        sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA cache_size = -{kib}")))
            .execute(write)
            .await?;
    }
    Ok(())
}

impl Load {
    /// Starts a load into `tables` (parents before children).
    pub async fn begin(db: &Db, tables: &[&str]) -> Result<Load> {
        let mut empty = true;
        for t in tables {
            empty &= count(db, t).await? == 0;
        }
        sqlite_pragmas(db, false, SQLITE_LOAD_CACHE_KIB).await?;
        let mut tx = match db.begin().await {
            Ok(tx) => tx,
            Err(e) => {
                sqlite_pragmas(db, true, SQLITE_NORMAL_CACHE_KIB).await?;
                return Err(e);
            }
        };
        let (mut dropped, mut foreign_keys) = (vec![], vec![]);
        if empty {
            for t in tables {
                dropped.extend(drop_indexes(&mut tx, t).await?);
                if let Tx::Postgres(c) = &mut tx {
                    let (keys, fks) = drop_constraints(c, t).await?;
                    dropped.extend(keys);
                    foreign_keys.extend(fks);
                }
            }
        }
        if let Tx::Postgres(t) = &mut tx {
            sqlx::query("SET LOCAL maintenance_work_mem = '256MB'")
                .execute(&mut **t)
                .await?;
        }
        Ok(Load {
            tx,
            db: db.clone(),
            tables: tables.iter().map(|t| (*t).to_owned()).collect(),
            dropped,
            foreign_keys,
        })
    }

    /// Whether the indexes are rebuilt at the end (the tables were empty).
    pub fn rebuilds_indexes(&self) -> bool {
        !self.dropped.is_empty()
    }

    /// The next free id of a table.
    pub async fn next_id(&mut self, table: &str) -> Result<i64> {
        check_ident(table)?;
        let sql = format!("SELECT COALESCE(MAX(id), 0) + 1 FROM {table}");
        Ok(on_tx!(&mut self.tx, |c| sqlx::query_scalar(
            sqlx::AssertSqlSafe(sql.as_str())
        )
        .fetch_one(&mut *c)
        .await)?)
    }

    /// Appends rows; each row has one value per column, in order.
    pub async fn insert(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: Vec<Vec<Val>>,
    ) -> Result<()> {
        insert(&mut self.tx, table, columns, rows).await
    }

    /// Adds quick-search grams of `module`'s new records (see [`insert_grams`]).
    pub async fn insert_grams(&mut self, module: &str, grams: Vec<(String, i64)>) -> Result<()> {
        insert_grams(&mut self.tx, module, grams).await
    }

    /// Adds quick-search documents of `module`'s new records (see [`insert_docs`]).
    pub async fn insert_docs(&mut self, module: &str, docs: Vec<(i64, String)>) -> Result<()> {
        insert_docs(&mut self.tx, module, docs).await
    }

    /// Builds the dropped indexes again, moves sequences past the new ids, commits, and
    /// restores the connection's settings.
    pub async fn finish(mut self) -> Result<()> {
        for sql in self.dropped.iter().chain(&self.foreign_keys) {
            on_tx!(&mut self.tx, |c| sqlx::query(sqlx::AssertSqlSafe(
                sql.as_str()
            ))
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        }
        if let Tx::Postgres(t) = &mut self.tx {
            for table in &self.tables {
                // Tables without an id (search_grams) have no sequence to move.
                let has_id: bool = sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE \
                     table_schema = current_schema() AND table_name = $1 AND column_name = 'id')",
                )
                .bind(table)
                .fetch_one(&mut **t)
                .await?;
                if !has_id {
                    continue;
                }
                let sql = format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                     (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .execute(&mut **t)
                    .await?;
            }
        }
        self.tx.commit().await?;
        sqlite_pragmas(&self.db, true, SQLITE_NORMAL_CACHE_KIB).await?;
        let tables: Vec<&str> = self.tables.iter().map(String::as_str).collect();
        vacuum_analyze(&self.db, &tables).await
    }

    /// Gives up: nothing of the load stays.
    pub async fn abort(self) -> Result<()> {
        drop(self.tx);
        sqlite_pragmas(&self.db, true, SQLITE_NORMAL_CACHE_KIB).await
    }
}

/// Appends rows to `table` in the caller's transaction, many rows per statement; each row has
/// one value per column, in order.
pub async fn insert(tx: &mut Tx, table: &str, columns: &[&str], rows: Vec<Vec<Val>>) -> Result<()> {
    check_ident(table)?;
    for c in columns {
        check_ident(c)?;
    }
    if let Some(bad) = rows.iter().find(|r| r.len() != columns.len()) {
        return Err(StoreError::Config(format!(
            "{table}: a row of {} values for {} columns",
            bad.len(),
            columns.len()
        )));
    }
    if rows.is_empty() {
        return Ok(());
    }
    match tx {
        Tx::Sqlite(t) => sqlite_insert(t, table, columns, rows).await,
        Tx::Postgres(t) => pg_copy(t, table, columns, rows).await,
    }
}

/// Drops a table's secondary indexes (not those behind primary keys or unique constraints) and
/// returns their definitions.
async fn drop_indexes(tx: &mut Tx, table: &str) -> Result<Vec<String>> {
    let defs = index_defs(tx, table, true).await?;
    for (name, _) in &defs {
        drop_index(tx, name).await?;
    }
    Ok(defs.into_iter().map(|(_, sql)| sql).collect())
}

/// A table's secondary indexes as (name, definition), not those behind primary keys or
/// constraints, and unique ones only with `unique`.
async fn index_defs(tx: &mut Tx, table: &str, unique: bool) -> Result<Vec<(String, String)>> {
    Ok(match tx {
        Tx::Sqlite(t) => {
            sqlx::query_as(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = $1 \
                 AND sql IS NOT NULL AND ($2 OR sql NOT LIKE 'CREATE UNIQUE%') ORDER BY name",
            )
            .bind(table)
            .bind(unique)
            .fetch_all(&mut **t)
            .await?
        }
        Tx::Postgres(t) => {
            sqlx::query_as(
                "SELECT i.indexname::text, i.indexdef FROM pg_indexes i \
                 WHERE i.schemaname = current_schema() AND i.tablename = $1 \
                 AND ($2 OR i.indexdef NOT LIKE 'CREATE UNIQUE%') \
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname) \
                 ORDER BY i.indexname",
            )
            .bind(table)
            .bind(unique)
            .fetch_all(&mut **t)
            .await?
        }
    })
}

async fn drop_index(tx: &mut Tx, name: &str) -> Result<()> {
    let sql = format!("DROP INDEX \"{}\"", name.replace('"', "\"\""));
    on_tx!(tx, |c| sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// PostgreSQL: drops a table's foreign keys, and its primary key and unique constraints that no
/// foreign key depends on, as a restore does — one check per key at the end instead of one per
/// row, one sort instead of a B-tree grown row by row. Returns (keys, foreign keys) to add again.
async fn drop_constraints(
    c: &mut sqlx::PgConnection,
    table: &str,
) -> Result<(Vec<String>, Vec<String>)> {
    let defs: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT k.conname::text, k.contype::text, pg_get_constraintdef(k.oid) FROM pg_constraint k \
         WHERE k.conrelid = to_regclass($1) AND (k.contype = 'f' OR (k.contype IN ('p', 'u') \
         AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = k.conindid))) \
         ORDER BY k.conname",
    )
    .bind(table)
    .fetch_all(&mut *c)
    .await?;
    let (mut keys, mut fks) = (vec![], vec![]);
    for (name, kind, def) in defs {
        let name = format!("\"{}\"", name.replace('"', "\"\""));
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "ALTER TABLE {table} DROP CONSTRAINT {name}"
        )))
        .execute(&mut *c)
        .await?;
        let add = format!("ALTER TABLE {table} ADD CONSTRAINT {name} {def}");
        if kind == "f" {
            fks.push(add)
        } else {
            keys.push(add)
        }
    }
    Ok((keys, fks))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn loads_rebuild_indexes_and_roll_back_when_aborted() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open_sqlite(&dir.path().join("t.db")).await.unwrap();
        crate::migrate::run(&db).await.unwrap();
        let t = crate::now();
        let row = |id: i64, name: &str| {
            vec![
                Val::Int(id),
                Val::Text(name.into()),
                Val::Time(t),
                Val::Time(t),
            ]
        };
        let cols = ["id", "name", "created_at", "updated_at"];
        let mut load = Load::begin(&db, &["organisations"]).await.unwrap();
        assert!(load.rebuilds_indexes());
        load.insert("organisations", &cols, vec![row(1, "甲")])
            .await
            .unwrap();
        load.abort().await.unwrap();
        assert_eq!(count(&db, "organisations").await.unwrap(), 0);
        let mut load = Load::begin(&db, &["organisations"]).await.unwrap();
        let first = load.next_id("organisations").await.unwrap();
        let rows = (0..700)
            .map(|i| row(first + i, &format!("公司{i}")))
            .collect();
        load.insert("organisations", &cols, rows).await.unwrap();
        load.finish().await.unwrap();
        assert_eq!(count(&db, "organisations").await.unwrap(), 700);
        let Db::Sqlite { read, .. } = &db else {
            unreachable!()
        };
        let idx: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'organisations' AND sql IS NOT NULL",
        )
        .fetch_one(read)
        .await
        .unwrap();
        assert!(idx >= 4, "indexes rebuilt: {idx}");
        let fk: i64 = match &db {
            Db::Sqlite { write, .. } => sqlx::query_scalar("PRAGMA foreign_keys")
                .fetch_one(write)
                .await
                .unwrap(),
            Db::Postgres(_) => 1,
        };
        assert_eq!(fk, 1, "foreign keys back on");
        db.close().await;
    }
}
