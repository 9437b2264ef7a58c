//! Connecting to either database, and the macros that run one query body on both.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::{Result, StoreError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
pub enum Db {
    /// Readers share `read`; every write goes through the one connection of `write`.
    Sqlite {
        read: SqlitePool,
        write: SqlitePool,
        /// Set while the writer runs without foreign-key checks ([`Db::begin_bulk`]), until it
        /// is back in its pool with them on again.
        bulk: Arc<AtomicBool>,
    },
    Postgres(PgPool),
}

/// A transaction on either database.
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Runs `$body` with `$p` bound to the pool for reads (`read`) or writes (`write`).
#[macro_export]
macro_rules! on_db {
    ($db:expr, read, |$p:ident| $body:expr) => {
        match $db {
            $crate::Db::Sqlite { read: $p, .. } => $body,
            $crate::Db::Postgres($p) => $body,
        }
    };
    ($db:expr, write, |$p:ident| $body:expr) => {
        match $db {
            $crate::Db::Sqlite { write: $p, .. } => $body,
            $crate::Db::Postgres($p) => $body,
        }
    };
}

/// Runs `$body` with `$c` bound to the transaction's connection.
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, |$c:ident| $body:expr) => {
        match $tx {
            $crate::Tx::Sqlite(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::Tx::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}

impl Db {
    /// `sqlite://path/to/file.db` or `postgres://user@host/db`.
    pub async fn connect(url: &str) -> Result<Db> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await?;
            Ok(Db::Postgres(pool))
        } else if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            Db::open_sqlite(std::path::Path::new(path)).await
        } else {
            Err(StoreError::Config(format!(
                "unsupported database URL (use sqlite://FILE or postgres://...): {url}"
            )))
        }
    }

    pub async fn open_sqlite(path: &std::path::Path) -> Result<Db> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Config(format!("cannot create {}: {e}", dir.display())))?;
        }
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("cache_size", "-32000")
            .pragma("temp_store", "memory");
        let bulk = Arc::new(AtomicBool::new(false));
        let released = bulk.clone();
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .after_release(move |c, _| {
                let was_bulk = released.swap(false, Ordering::SeqCst);
                Box::pin(async move { Ok(!was_bulk || foreign_keys_back_on(c).await?) })
            })
            .connect_with(opts.clone())
            .await?;
        // Readers keep a smaller page cache each: eight of them at the writer's 32 MB held over
        // 250 MB under load, while the pages they share stay in the operating system's cache.
        // At 1,000,000 customers, 4 MB instead of 8 MB took the server's peak under wrk (list
        // page and API at 16 clients, detail page at 16 and 64) from 157 to 125 MB, with the
        // same throughput within wrk's noise (detail page at 64 clients 708 -> 946 req/s).
        let read = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(opts.read_only(true).pragma("cache_size", "-4000"))
            .await?;
        Ok(Db::Sqlite { read, write, bulk })
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite { .. } => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// A transaction for a bulk write whose references the caller has checked itself (an
    /// import's chunks). On SQLite its connection does not check foreign keys: with them, every
    /// multi-row `INSERT` into a table with a foreign key needs a statement journal (a copy of
    /// each page it touches, so that it can undo its own rows), and every such statement makes
    /// FTS5 write its pending index to disk. The writer turns them on again when it goes back
    /// to its pool (`foreign_keys_back_on`). PostgreSQL: a plain transaction.
    pub async fn begin_bulk(&self) -> Result<Tx> {
        Ok(match self {
            Db::Sqlite { write, bulk, .. } => {
                let mut conn = write.acquire().await?;
                bulk.store(true, Ordering::SeqCst);
                // Outside a transaction, so the pragma takes effect.
                sqlx::query("PRAGMA foreign_keys = OFF")
                    .execute(&mut *conn)
                    .await?;
                Tx::Sqlite(sqlx::Transaction::begin(conn, None).await?)
            }
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    pub async fn begin(&self) -> Result<Tx> {
        Ok(match self {
            Db::Sqlite { write, .. } => Tx::Sqlite(write.begin().await?),
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// A cheap round trip for `/healthz`.
    pub async fn ping(&self) -> Result<()> {
        on_db!(self, read, |p| sqlx::query("SELECT 1")
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Refreshes the planner's statistics (after bulk loads, and when a database has none), so
    /// list queries pick the index that fits the data scope and sort.
    pub async fn analyze(&self) -> Result<()> {
        on_db!(self, write, |p| sqlx::query("ANALYZE")
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Writes every committed change into the database files: SQLite moves its WAL into the
    /// main file and truncates it; PostgreSQL runs a `CHECKPOINT` (superuser or
    /// `pg_checkpoint` only).
    pub async fn checkpoint(&self) -> Result<()> {
        match self {
            Db::Sqlite { write, .. } => {
                sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                    .execute(write)
                    .await?;
            }
            Db::Postgres(pool) => {
                sqlx::query("CHECKPOINT").execute(pool).await?;
            }
        }
        Ok(())
    }

    /// Cheap periodic upkeep of the statistics: SQLite re-analyses what changed a lot; PostgreSQL's
    /// autovacuum does this by itself. A SQLite database without statistics is analysed fully.
    pub async fn optimize(&self) -> Result<()> {
        if let Db::Sqlite { write, .. } = self {
            let has_stats: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'",
            )
            .fetch_one(write)
            .await?;
            if has_stats == 0 {
                return self.analyze().await;
            }
            sqlx::query("PRAGMA optimize").execute(write).await?;
        }
        Ok(())
    }

    /// Pool figures for `/metrics`: (connections open, idle).
    pub fn pool_stats(&self) -> Vec<(&'static str, u32, usize)> {
        match self {
            Db::Sqlite { read, write, .. } => vec![
                ("sqlite_read", read.size(), read.num_idle()),
                ("sqlite_write", write.size(), write.num_idle()),
            ],
            Db::Postgres(p) => vec![("postgres", p.size(), p.num_idle())],
        }
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite { read, write, .. } => {
                read.close().await;
                write.close().await;
            }
            Db::Postgres(p) => p.close().await,
        }
    }
}

/// The writer on its way back to the pool after a [`Db::begin_bulk`]: foreign keys on again
/// (setting the pragma expires the connection's prepared statements, so only then). A
/// connection where they stay off (still inside a transaction) is closed; the pool opens a new
/// one, with foreign keys on.
async fn foreign_keys_back_on(c: &mut sqlx::SqliteConnection) -> sqlx::Result<bool> {
    sqlx::query("PRAGMA foreign_keys = ON")
        .execute(&mut *c)
        .await?;
    let on: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(&mut *c)
        .await?;
    Ok(on == 1)
}

impl Tx {
    /// For a background job's many transactions, each of which it can do again: on PostgreSQL
    /// the commit does not wait for the WAL flush (`synchronous_commit = off` for this
    /// transaction; a crash may lose the last few, never half of one). SQLite: nothing to do.
    pub async fn relax_durability(&mut self) -> Result<()> {
        if let Tx::Postgres(t) = self {
            sqlx::query("SET LOCAL synchronous_commit = off")
                .execute(&mut **t)
                .await?;
        }
        Ok(())
    }

    pub async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        crate::cache::committed();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn foreign_keys(db: &Db) -> i64 {
        let Db::Sqlite { write, .. } = db else {
            unreachable!()
        };
        sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(write)
            .await
            .unwrap()
    }

    /// A user pointing at a department that does not exist.
    async fn orphan(tx: &mut Tx, name: &str) -> std::result::Result<(), sqlx::Error> {
        let Tx::Sqlite(t) = tx else { unreachable!() };
        sqlx::query(
            "INSERT INTO users (username, display_name, password_hash, department_id, created_at, updated_at) \
             VALUES ($1, $1, 'x', 987654, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
        )
        .bind(name)
        .execute(&mut **t)
        .await
        .map(drop)
    }

    #[tokio::test]
    async fn a_bulk_transaction_leaves_the_writer_checking_foreign_keys() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open_sqlite(&dir.path().join("t.db")).await.unwrap();
        crate::migrate::run(&db).await.unwrap();
        assert_eq!(foreign_keys(&db).await, 1);
        // Inside the bulk transaction the caller's own checks stand in for the database's.
        let mut tx = db.begin_bulk().await.unwrap();
        orphan(&mut tx, "bulk-unchecked").await.unwrap();
        drop(tx);
        assert_eq!(foreign_keys(&db).await, 1, "on again after a rollback");
        let tx = db.begin_bulk().await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(foreign_keys(&db).await, 1, "on again after a commit");
        // The next ordinary transaction refuses the same row.
        let mut tx = db.begin().await.unwrap();
        let err = orphan(&mut tx, "plain-checked").await.unwrap_err();
        assert!(err.to_string().contains("FOREIGN KEY"), "{err}");
        drop(tx);
        db.close().await;
    }
}
