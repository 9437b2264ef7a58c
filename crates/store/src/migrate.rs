//! Schema migrations: one ordered history per dialect, embedded in the binary, applied in a
//! transaction each and recorded in `_migrations`. The two histories are kept in step by a test
//! that compares the resulting schemas.

use crate::{Backend, Db, Result, StoreError, on_db, on_tx};

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "foundation",
        sqlite: include_str!("../migrations/sqlite/0001_foundation.sql"),
        postgres: include_str!("../migrations/postgres/0001_foundation.sql"),
    },
    Migration {
        version: 2,
        name: "records",
        sqlite: include_str!("../migrations/sqlite/0002_records.sql"),
        postgres: include_str!("../migrations/postgres/0002_records.sql"),
    },
    Migration {
        version: 3,
        name: "regions",
        sqlite: include_str!("../migrations/sqlite/0003_regions.sql"),
        postgres: include_str!("../migrations/postgres/0003_regions.sql"),
    },
    Migration {
        version: 4,
        name: "custom_fields",
        sqlite: include_str!("../migrations/sqlite/0004_custom_fields.sql"),
        postgres: include_str!("../migrations/postgres/0004_custom_fields.sql"),
    },
    Migration {
        version: 7,
        name: "saved_views",
        sqlite: include_str!("../migrations/sqlite/0007_saved_views.sql"),
        postgres: include_str!("../migrations/postgres/0007_saved_views.sql"),
    },
    Migration {
        version: 8,
        name: "search",
        sqlite: include_str!("../migrations/sqlite/0008_search.sql"),
        postgres: include_str!("../migrations/postgres/0008_search.sql"),
    },
    Migration {
        version: 5,
        name: "attachments",
        sqlite: include_str!("../migrations/sqlite/0005_attachments.sql"),
        postgres: include_str!("../migrations/postgres/0005_attachments.sql"),
    },
    Migration {
        version: 6,
        name: "history_index",
        sqlite: include_str!("../migrations/sqlite/0006_history_index.sql"),
        postgres: include_str!("../migrations/postgres/0006_history_index.sql"),
    },
    Migration {
        version: 9,
        name: "imports",
        sqlite: include_str!("../migrations/sqlite/0009_imports.sql"),
        postgres: include_str!("../migrations/postgres/0009_imports.sql"),
    },
    Migration {
        version: 10,
        name: "follow_ups_pools",
        sqlite: include_str!("../migrations/sqlite/0010_follow_ups_pools.sql"),
        postgres: include_str!("../migrations/postgres/0010_follow_ups_pools.sql"),
    },
    Migration {
        version: 12,
        name: "search_fts",
        sqlite: include_str!("../migrations/sqlite/0012_search_fts.sql"),
        postgres: include_str!("../migrations/postgres/0012_search_fts.sql"),
    },
    Migration {
        version: 11,
        name: "import_pool",
        sqlite: include_str!("../migrations/sqlite/0011_import_pool.sql"),
        postgres: include_str!("../migrations/postgres/0011_import_pool.sql"),
    },
    Migration {
        version: 13,
        name: "customers_fillfactor",
        sqlite: include_str!("../migrations/sqlite/0013_customers_fillfactor.sql"),
        postgres: include_str!("../migrations/postgres/0013_customers_fillfactor.sql"),
    },
    Migration {
        version: 14,
        name: "fall_back_warnings",
        sqlite: include_str!("../migrations/sqlite/0014_fall_back_warnings.sql"),
        postgres: include_str!("../migrations/postgres/0014_fall_back_warnings.sql"),
    },
    Migration {
        version: 15,
        name: "collaborators",
        sqlite: include_str!("../migrations/sqlite/0015_collaborators.sql"),
        postgres: include_str!("../migrations/postgres/0015_collaborators.sql"),
    },
    Migration {
        version: 16,
        name: "deferred_indexes",
        sqlite: include_str!("../migrations/sqlite/0016_deferred_indexes.sql"),
        postgres: include_str!("../migrations/postgres/0016_deferred_indexes.sql"),
    },
    Migration {
        version: 17,
        name: "import_message_args",
        sqlite: include_str!("../migrations/sqlite/0017_import_message_args.sql"),
        postgres: include_str!("../migrations/postgres/0017_import_message_args.sql"),
    },
    Migration {
        version: 18,
        name: "import_item_versions",
        sqlite: include_str!("../migrations/sqlite/0018_import_item_versions.sql"),
        postgres: include_str!("../migrations/postgres/0018_import_item_versions.sql"),
    },
];

/// Applies every migration not applied yet; returns how many ran.
pub async fn run(db: &Db) -> Result<usize> {
    on_db!(db, write, |p| {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS _migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL)",
        )
        .execute(p)
        .await.map(|r| r.rows_affected())
    })?;
    let applied: Vec<i64> = on_db!(db, write, |p| {
        sqlx::query_scalar("SELECT version FROM _migrations")
            .fetch_all(p)
            .await
    })?;
    let mut count = 0;
    let mut pending: Vec<&Migration> = MIGRATIONS
        .iter()
        .filter(|m| !applied.contains(&m.version))
        .collect();
    pending.sort_by_key(|m| m.version);
    for m in pending {
        let sql = match db.backend() {
            Backend::Sqlite => m.sqlite,
            Backend::Postgres => m.postgres,
        };
        let mut tx = db.begin().await?;
        on_tx!(&mut tx, |c| sqlx::raw_sql(sql)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))
        .map_err(|e| StoreError::Migration(format!("{} ({}): {e}", m.version, m.name)))?;
        on_tx!(&mut tx, |c| {
            sqlx::query("INSERT INTO _migrations (version, name) VALUES ($1, $2)")
                .bind(m.version)
                .bind(m.name)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected())
        })?;
        tx.commit().await?;
        tracing::info!(version = m.version, name = m.name, "applied migration");
        count += 1;
    }
    crate::search::upgrade(db).await?;
    let rebuilt = crate::bulk::restore_indexes(db, None).await?;
    let merged = crate::bulk::restore_merging(db).await?;
    if rebuilt + merged > 0 {
        tracing::warn!(
            indexes = rebuilt,
            search_indexes = merged,
            "built again what an interrupted import had set aside"
        );
    }
    let seeded = crate::regions::seed(db).await?;
    if seeded > 0 {
        tracing::info!(regions = seeded, "seeded the built-in regions");
    }
    Ok(count)
}

/// Tables and their columns (sorted), for the test that keeps both dialects in step.
pub async fn schema(db: &Db) -> Result<Vec<(String, Vec<String>)>> {
    let rows: Vec<(String, String)> = match db {
        Db::Sqlite { read, .. } => {
            sqlx::query_as(
                "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p \
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
                 AND m.name IN (SELECT name FROM pragma_table_list WHERE type = 'table') ORDER BY 1, 2",
            )
            .fetch_all(read)
            .await?
        }
        Db::Postgres(p) => {
            sqlx::query_as(
                "SELECT table_name::text, column_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() ORDER BY 1, 2",
            )
            .fetch_all(p)
            .await?
        }
    };
    let mut out: Vec<(String, Vec<String>)> = vec![];
    for (table, column) in rows {
        match out.last_mut() {
            Some((t, cols)) if *t == table => cols.push(column),
            _ => out.push((table, vec![column])),
        }
    }
    Ok(out)
}
