//! The machine's floor for the import, measured in the same run: the same generated customer
//! rows written raw, in one transaction, into the customers table of a new database of the
//! kind measured (SQLite: many rows per prepared statement; PostgreSQL: `COPY`) — once with
//! the table's indexes in place, once with its secondary indexes built after the rows, the
//! quickest way to the same table. No reading of a file, no checks, no change history, no
//! search index: what any import of these rows into this table costs at least.

use std::path::Path;
use std::time::Instant;

use guanxi_store::Db;
use guanxi_store::bulk::{self, Load, Val};

use super::report::{Figure, Goal, thousands};
use crate::demo;

/// Rows handed to the store at a time: one `COPY` on PostgreSQL, a few statements on SQLite.
const CHUNK: usize = 10_000;

/// Where the indexes are built.
#[derive(Clone, Copy, PartialEq)]
enum Indexes {
    InPlace,
    After,
}

/// The two floors for `rows` customers; `url` is the data set's (a PostgreSQL server to create
/// scratch databases on), `dir` a directory for scratch SQLite files.
pub async fn measure(url: &str, dir: &Path, seed: u64, rows: u64) -> anyhow::Result<Vec<Figure>> {
    let is_pg = url.starts_with("postgres");
    let mut out = vec![];
    for (tag, how) in [("in_place", Indexes::InPlace), ("after", Indexes::After)] {
        let scratch = if is_pg {
            format!("{}_floor_{tag}", url.split('?').next().unwrap_or(url))
        } else {
            format!("sqlite://{}", dir.join(format!("floor-{tag}.db")).display())
        };
        if is_pg {
            bulk::drop_pg_database(&scratch).await?;
            bulk::ensure_pg_database(&scratch).await?;
        }
        let db = Db::connect(&scratch).await?;
        guanxi_store::migrate::run(&db).await?;
        let generated = generate(&db, seed, rows).await?;
        eprintln!(
            "writing {} customer rows raw, indexes {}…",
            generated.len(),
            if how == Indexes::InPlace {
                "in place"
            } else {
                "after"
            }
        );
        let n = generated.len();
        let secs = write(&db, generated, how).await?;
        db.close().await;
        if is_pg {
            bulk::drop_pg_database(&scratch).await?;
        }
        let (statement, engine) = if is_pg {
            (
                format!("`COPY` of {} rows at a time", thousands(CHUNK as f64)),
                "PostgreSQL",
            )
        } else {
            (
                "`INSERT` of as many rows a prepared statement as its parameter limit allows, as the import writes them".to_owned(),
                "SQLite",
            )
        };
        let (name, how_note) = match how {
            Indexes::InPlace => (
                "raw insert of the same customers, indexes in place (machine floor)",
                if is_pg {
                    "with the table's indexes kept up row by row"
                } else {
                    "with the table's indexes kept up row by row, in the import's page cache"
                },
            ),
            Indexes::After => (
                "raw insert of the same customers, indexes built after (machine floor)",
                if is_pg {
                    "into the table without its keys, indexes and foreign keys, which are then built and checked once, and the table vacuumed and analysed as the import does: the quickest way to the same table"
                } else {
                    "into the table without its secondary indexes, which are then built: the quickest way to the same table"
                },
            ),
        };
        out.push(Figure::new(
            name,
            n as f64 / secs.max(1e-9),
            "rows/s",
            format!(
                "{n} generated customer rows into the customers table of a new {engine} database in one transaction, \
                 {statement}, {how_note}; {secs:.1} s; no file, checks, change history or search index"
            ),
            Goal::None,
        ));
    }
    Ok(out)
}

/// The rows, generated before any time is taken: the same customers the import files hold,
/// owned by the demo organisation created in `db`.
async fn generate(db: &Db, seed: u64, rows: u64) -> anyhow::Result<Vec<Vec<Val>>> {
    let mut generator = demo::generator(db, seed, rows)
        .await?
        .without_search_index();
    Ok(tokio::task::spawn_blocking(move || {
        let mut out = Vec::with_capacity(rows as usize);
        let mut from = 0;
        while from < rows {
            let to = (from + 2_000).min(rows);
            out.extend(generator.batch(from, to).customers);
            from = to;
        }
        out
    })
    .await?)
}

/// Writes the rows in one transaction; returns the seconds taken, commit included.
async fn write(db: &Db, rows: Vec<Vec<Val>>, how: Indexes) -> anyhow::Result<f64> {
    let columns = demo::generate::CUSTOMER_COLUMNS;
    let started = Instant::now();
    let mut rows = rows.into_iter();
    match how {
        Indexes::InPlace => {
            bulk::writer_cache(db, true).await?;
            let mut tx = db.begin().await?;
            loop {
                let chunk: Vec<Vec<Val>> = rows.by_ref().take(CHUNK).collect();
                if chunk.is_empty() {
                    break;
                }
                bulk::insert(&mut tx, "customers", columns, chunk).await?;
            }
            tx.commit().await?;
        }
        Indexes::After => {
            let mut load = Load::begin(db, &["customers"]).await?;
            anyhow::ensure!(load.rebuilds_indexes(), "the scratch table is not empty");
            loop {
                let chunk: Vec<Vec<Val>> = rows.by_ref().take(CHUNK).collect();
                if chunk.is_empty() {
                    break;
                }
                load.insert("customers", columns, chunk).await?;
            }
            load.finish().await?;
        }
    }
    Ok(started.elapsed().as_secs_f64())
}
