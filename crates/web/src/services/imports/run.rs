//! The import's background work: the dry run (check every row, record the failures) and the
//! write (chunks of records, each committed with the import's position, so a restart resumes
//! exactly there). The revert is in `revert.rs`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use guanxi_store::Tx;
use guanxi_store::audit::{self, Event};
use guanxi_store::imports::{self, Import};
use serde_json::Value;
use tokio::sync::mpsc;

use super::chunk::{self, Outcome, Reads, Seen};
use super::plan::Prepared;
use super::write::{self, Tally};
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Rows per chunk and per transaction of a server's job: big enough for bulk statements, small
/// enough that other users' writes never wait long for the database's writer.
pub const CHUNK: usize = 5_000;

/// Rows read, checked and written at a time: a transaction holds one or more of them.
/// Half a transaction of a server's job: the write checks the next batch while it writes one,
/// so two are in memory.
pub const BATCH: usize = CHUNK / 2;

/// Rows per transaction of the command line's import into SQLite, which has the database to
/// itself: fewer commits, and fewer WAL checkpoints writing the same index pages again (a
/// million customers: 88.7 s at 20,000 rows, 76.1 s at 100,000, no gain at 250,000; the same
/// peak memory), each still written as chunks of [`CHUNK`] rows so that the rows in memory stay
/// few.
pub const CLI_TX_ROWS: usize = 100_000;

/// The job running this work, whose lease each chunk renews (none for the CLI).
#[derive(Clone)]
pub struct Lease {
    pub job_id: i64,
    pub worker: String,
}

const LEASE_SECS: i64 = 120;

pub(super) async fn renew(tx: &mut Tx, lease: Option<&Lease>) -> AppResult<()> {
    if let Some(l) = lease {
        guanxi_store::jobs::renew(
            tx,
            l.job_id,
            &l.worker,
            chrono::Duration::seconds(LEASE_SECS),
        )
        .await
        .map_err(|_| AppError::conflict("import-cancelled"))?;
    }
    Ok(())
}

/// Reads the file on a blocking thread, in chunks of rows, after skipping `skip` rows.
fn read_rows(
    imp: &Import,
    skip: i64,
) -> mpsc::Receiver<Result<Vec<guanxi_io::read::Row>, guanxi_io::ReadError>> {
    let (tx, rx) = mpsc::channel(2);
    let path = std::path::PathBuf::from(&imp.file_path);
    let sheet = imp.sheet.clone();
    tokio::task::spawn_blocking(move || {
        let reader = match guanxi_io::open(&path, sheet.as_deref(), &guanxi_io::Limits::default()) {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        };
        let mut batch = Vec::with_capacity(BATCH);
        for (i, row) in reader.enumerate() {
            match row {
                Ok(_) if (i as i64) < skip => {}
                Ok(r) => {
                    batch.push(r);
                    if batch.len() == BATCH
                        && tx
                            .blocking_send(Ok(std::mem::replace(
                                &mut batch,
                                Vec::with_capacity(BATCH),
                            )))
                            .is_err()
                    {
                        return;
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            }
        }
        if !batch.is_empty() {
            let _ = tx.blocking_send(Ok(batch));
        }
    });
    rx
}

/// A failure of the file itself (not of a row) ends the import with its message.
async fn fail(state: &AppState, id: i64, key: &str) -> AppResult<()> {
    let mut tx = state.db.begin().await?;
    imports::set_state(&mut tx, id, "failed", Some(key), true).await?;
    tx.commit().await?;
    Ok(())
}

/// [`fail`] on an error of the file, with the row, column or limit its message names.
async fn fail_reading(state: &AppState, id: i64, e: &guanxi_io::ReadError) -> AppResult<()> {
    let mut tx = state.db.begin().await?;
    imports::set_failed(&mut tx, id, e.key(), &e.args()).await?;
    tx.commit().await?;
    Ok(())
}

pub(super) fn error_rows(
    plan: &super::plan::Plan,
    headers: &[String],
    rows: &[&Prepared],
) -> Vec<(i64, Vec<String>, Value)> {
    rows.iter()
        .map(|p| {
            (
                p.line,
                p.cells.clone(),
                p.errors_json(headers, &plan.columns),
            )
        })
        .collect()
}

/// The dry run: every row checked, nothing written but the failures and the counts.
pub async fn check(
    state: &AppState,
    auth: &Auth,
    id: i64,
    lease: Option<&Lease>,
) -> AppResult<Import> {
    let imp = imports::get(&state.db, id).await?;
    let plan = super::plan_for(state, auth, &imp).await?;
    let allow = super::create_duplicates_allowed(state, &imp).await?;
    if let Err(key) = super::pool::recheck(state, auth, &imp).await? {
        fail(state, id, &key).await?;
        return Ok(imports::get(&state.db, id).await?);
    }
    {
        let mut tx = state.db.begin().await?;
        renew(&mut tx, lease).await?;
        imports::clear_errors(&mut tx, id).await?;
        imports::set_state(&mut tx, id, "validating", None, false).await?;
        tx.commit().await?;
    }
    let mut rx = read_rows(&imp, 0);
    let (mut seen, mut orgs) = (Seen::default(), HashSet::new());
    let (mut total, mut errors, mut duplicates) = (0i64, 0i64, 0i64);
    while let Some(batch) = rx.recv().await {
        let batch = match batch {
            Ok(b) => b,
            Err(e) => {
                fail_reading(state, id, &e).await?;
                return Ok(imports::get(&state.db, id).await?);
            }
        };
        total += batch.len() as i64;
        let prepared = batch
            .into_iter()
            .map(|r| plan.prepare(r.line as i64, r.cells))
            .collect();
        let outcomes = chunk::check(
            state,
            auth,
            &plan,
            prepared,
            &mut seen,
            &mut orgs,
            allow,
            Reads::Db(&state.db),
        )
        .await?;
        let failed: Vec<&Prepared> = outcomes
            .iter()
            .filter_map(|o| match o {
                Outcome::Error(p) => Some(p),
                _ => None,
            })
            .collect();
        duplicates += outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::Update(..) | Outcome::Skip))
            .count() as i64;
        errors += failed.len() as i64;
        let mut tx = state.db.begin().await?;
        renew(&mut tx, lease).await?;
        imports::put_errors(&mut tx, id, &error_rows(&plan, &imp.headers, &failed)).await?;
        imports::set_checked(&mut tx, id, total, errors, duplicates).await?;
        tx.commit().await?;
    }
    let mut tx = state.db.begin().await?;
    renew(&mut tx, lease).await?;
    imports::set_checked(&mut tx, id, total, errors, duplicates).await?;
    imports::set_state(&mut tx, id, "validated", None, false).await?;
    tx.commit().await?;
    Ok(imports::get(&state.db, id).await?)
}

/// Counts the file's rows (for progress and time left) when no dry run did.
async fn count_rows(imp: &Import) -> Result<i64, guanxi_io::ReadError> {
    let mut rx = read_rows(imp, 0);
    let mut n = 0;
    while let Some(b) = rx.recv().await {
        n += b?.len() as i64;
    }
    Ok(n)
}

/// Rows after which an import ends with `VACUUM (ANALYZE)` of what it wrote on PostgreSQL, so
/// that lists and quick search over the new records read indexes only, without waiting for
/// autovacuum.
const VACUUM_AFTER: i64 = 100_000;

/// Rows from which an import into a table that holds few rows yet sets the table's secondary
/// indexes aside while it writes, and builds them once at the end (`bulk::defer_indexes`).
pub const DEFER_INDEXES_ROWS: i64 = 100_000;

/// Whether an import of `rows` more rows into a table of `existing` rows sets the table's
/// indexes aside: a large load into a table at most a hundredth its size (a first load, a move
/// from another system). Its duplicate checks then read the records that were there before
/// without the indexes, by id: few of them, by that rule. Other users' lists of the module go
/// without the indexes meanwhile too.
fn defers_indexes(rows: i64, existing: i64) -> bool {
    rows >= DEFER_INDEXES_ROWS && existing.saturating_mul(100) <= rows
}

/// The write, from the import's position to the end of the file, then the rows users fixed.
pub async fn write(
    state: &AppState,
    auth: &Auth,
    id: i64,
    lease: Option<&Lease>,
) -> AppResult<Import> {
    let imp = imports::get(&state.db, id).await?;
    let mut plan = super::plan_for(state, auth, &imp).await?;
    let allow = super::create_duplicates_allowed(state, &imp).await?;
    if let Err(key) = super::pool::recheck(state, auth, &imp).await? {
        fail(state, id, &key).await?;
        return Ok(imports::get(&state.db, id).await?);
    }
    let mut total = imp.total_rows;
    if total == 0 {
        match count_rows(&imp).await {
            Ok(n) => {
                let mut tx = state.db.begin().await?;
                imports::set_checked(&mut tx, id, n, imp.error_rows, imp.duplicate_rows).await?;
                tx.commit().await?;
                total = n;
            }
            Err(e) => {
                fail_reading(state, id, &e).await?;
                return Ok(imports::get(&state.db, id).await?);
            }
        }
    }
    {
        // A job cancelled since it was claimed stops here: the import stays cancelled.
        let mut tx = state.db.begin().await?;
        renew(&mut tx, lease).await?;
        imports::set_state(&mut tx, id, "running", None, false).await?;
        tx.commit().await?;
    }
    let table = plan.fs.def.table;
    let rows = total - imp.position;
    // PostgreSQL: the search documents' own connection bounds the write (200,000 customers:
    // 39.5 s of COPY into search_grams in a 37.8 s import), not the table's indexes. The table
    // is counted only for an import large enough.
    let deferred = state.db.backend() == guanxi_store::Backend::Sqlite
        && rows >= DEFER_INDEXES_ROWS
        && defers_indexes(rows, guanxi_store::bulk::count(&state.db, table).await?);
    if deferred {
        plan.existing_up_to = Some(guanxi_store::bulk::max_id(&state.db, table).await?);
        guanxi_store::bulk::defer_indexes(&state.db, table).await?;
        guanxi_store::bulk::bulk_merging(&state.db, plan.fs.def, true).await?;
    }
    let plan = Arc::new(plan);
    guanxi_store::bulk::writer_cache(&state.db, true).await?;
    let mut written = write_rows(state, auth, &plan, &imp, allow, lease).await;
    if deferred {
        // Whatever the write's outcome: the indexes are built again and the search index
        // merged now (a crash meanwhile leaves both to the next start).
        let mut restored = guanxi_store::bulk::restore_indexes(&state.db, Some(table))
            .await
            .map(drop);
        if restored.is_ok() {
            restored = guanxi_store::bulk::bulk_merging(&state.db, plan.fs.def, false).await;
        }
        if let (Ok(_), Err(e)) = (&written, restored) {
            written = Err(e.into());
        }
    }
    guanxi_store::bulk::writer_cache(&state.db, false).await?;
    let Some(went) = written? else {
        return Ok(imports::get(&state.db, id).await?);
    };
    if went >= VACUUM_AFTER {
        guanxi_store::bulk::vacuum_analyze(&state.db, &[table, "search_grams"]).await?;
    }
    let done = imports::get(&state.db, id).await?;
    let event = Event::new(
        "import.finish",
        format!(
            "import {id} of {} finished: {} created, {} updated, {} skipped, {} failed",
            imp.module, done.created_rows, done.updated_rows, done.skipped_rows, done.error_rows
        ),
    );
    end(state, auth, &imp, lease, "done", event).await
}

/// Ends a job's work: the import's last state and one audit line, in a transaction that first
/// renews the job's lease — so that a cancel that came meanwhile is never overwritten.
pub(super) async fn end(
    state: &AppState,
    auth: &Auth,
    imp: &Import,
    lease: Option<&Lease>,
    last: &str,
    event: Event,
) -> AppResult<Import> {
    let mut tx = state.db.begin().await?;
    renew(&mut tx, lease).await?;
    imports::set_state(&mut tx, imp.id, last, None, true).await?;
    audit::record(&mut tx, &auth.actor, event.target(imp.id, &imp.file_name)).await?;
    tx.commit().await?;
    Ok(imports::get(&state.db, imp.id).await?)
}

/// What the check stage of a write hands to the write stage.
enum Stage {
    /// The next chunk: the file's rows it covers, and what becomes of them.
    Checked(i64, write::Checked),
    /// The file cannot be read further (why).
    Failed(guanxi_io::ReadError),
    /// The end of the file, with the duplicate keys seen in it.
    End(Seen),
}

/// The write's chunks, from the import's position to the end of the file, then the rows users
/// fixed; the rows of the file it went through, or `None` when the file failed (the import is
/// marked failed then).
async fn write_rows(
    state: &AppState,
    auth: &Auth,
    plan: &Arc<super::plan::Plan>,
    imp: &Import,
    allow: bool,
    lease: Option<&Lease>,
) -> AppResult<Option<i64>> {
    let id = imp.id;
    // Commits cost SQLite a sync and a checkpoint each; PostgreSQL's are cheap, and its planner
    // serves a chunk's lookups better from committed rows.
    let sqlite = state.db.backend() == guanxi_store::Backend::Sqlite;
    let tx_rows = if lease.is_none() && sqlite {
        CLI_TX_ROWS
    } else {
        CHUNK
    } as i64;
    // Rows the dry run failed: skipped unless a user fixed them (then their corrected cells go in).
    let known: HashMap<i64, (bool, bool)> = imports::error_lines(&state.db, id)
        .await?
        .into_iter()
        .map(|(l, f, d)| (l, (f, d)))
        .collect();
    // Two stages run side by side: one reads the file and checks each chunk, reading through
    // the database's other connections (the rows this import already wrote need no read: a
    // duplicate of them is a duplicate in the file, which `Seen` finds); the other writes the
    // checked chunks in the open transaction. So the checks of the next chunk, and their
    // lookups of existing records, are done while the database writes this one.
    let (to_writer, mut checked) = mpsc::channel::<Stage>(1);
    // A task of its own, so that its work runs on another thread than the write's.
    let check_stage = {
        let (state, auth, plan, imp) = (state.clone(), auth.clone(), Arc::clone(plan), imp.clone());
        tokio::spawn(async move {
            let (state, auth, plan, imp) = (&state, &auth, &*plan, &imp);
            let mut seen = Seen::default();
            let mut rx = read_rows(imp, imp.position);
            loop {
                // The next chunk is checked once the writer has taken the last one: a chunk
                // being written and one checked, never more in memory.
                let Ok(slot) = to_writer.reserve().await else {
                    // The writer stopped, with its reason.
                    return AppResult::Ok(());
                };
                let Some(batch) = rx.recv().await else {
                    slot.send(Stage::End(seen));
                    return Ok(());
                };
                let batch = match batch {
                    Ok(b) => b,
                    Err(e) => {
                        slot.send(Stage::Failed(e));
                        return Ok(());
                    }
                };
                let n = batch.len() as i64;
                let mut rows = vec![];
                let mut fixed_lines = vec![];
                for r in batch {
                    let line = r.line as i64;
                    match known.get(&line) {
                        Some((true, false)) => {
                            let stored = imports::error_row_at(&state.db, imp.id, line).await?;
                            fixed_lines.push(line);
                            rows.push(plan.prepare(line, stored.cells));
                        }
                        Some(_) => {}
                        None => rows.push(plan.prepare(line, r.cells)),
                    }
                }
                let checked = write::check(
                    state,
                    auth,
                    plan,
                    Reads::Readers(&state.db),
                    rows,
                    fixed_lines,
                    &mut seen,
                    allow,
                )
                .await?;
                slot.send(Stage::Checked(n, checked));
            }
        })
    };
    let write_stage = async {
        let mut created_orgs = HashMap::new();
        let mut position = imp.position;
        // Statistics are refreshed whenever the rows written have doubled since the last time.
        let mut next_analyze = position + CHUNK as i64;
        // The open transaction, the rows it holds and what they did.
        let mut open: Option<(Tx, i64, Tally)> = None;
        let mut seen = None;
        while let Some(stage) = checked.recv().await {
            let (n, chunk) = match stage {
                Stage::Checked(n, c) => (n, c),
                Stage::Failed(e) => {
                    drop(open);
                    fail_reading(state, id, &e).await?;
                    return Ok(None);
                }
                Stage::End(s) => {
                    seen = Some(s);
                    break;
                }
            };
            position += n;
            let (tx, held, tally) = match &mut open {
                Some(o) => o,
                None => {
                    let mut tx = state.db.begin_bulk().await?;
                    renew(&mut tx, lease).await?;
                    open.insert((tx, 0, Tally::default()))
                }
            };
            write::chunk(state, auth, plan, imp, tx, chunk, &mut created_orgs, tally).await?;
            *held += n;
            if *held >= tx_rows
                && let Some((tx, _, tally)) = open.take()
            {
                write::commit(auth, plan, imp, tx, tally, position).await?;
                if position >= next_analyze {
                    // PostgreSQL plans the duplicate checks from the table's statistics: made
                    // when it was small they choose a scan over the whole table (1M rows into an
                    // empty table, autovacuum off: 333 rows/s before, 3,666 after one ANALYZE).
                    guanxi_store::bulk::analyze(&state.db, plan.fs.def.table).await?;
                    next_analyze = position * 2;
                }
            }
        }
        // Without the end, the check stage failed: its error is returned, and the open
        // transaction rolls back.
        let Some(seen) = seen else {
            return Ok(None);
        };
        if let Some((tx, _, tally)) = open.take() {
            write::commit(auth, plan, imp, tx, tally, position).await?;
        }
        AppResult::Ok(Some((seen, created_orgs, position)))
    };
    let written = write_stage.await;
    // The check stage ends once the writer has stopped taking chunks (or has taken the end):
    // closing the channel wakes it where it waits for room for a chunk the writer, stopped by
    // an error (a cancel among them), will never take.
    drop(checked);
    let checks = check_stage
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    let written = written?;
    checks?;
    let Some((mut seen, mut created_orgs, position)) = written else {
        return Ok(None);
    };
    // Rows fixed after the file went past them.
    loop {
        let pending = imports::errors(&state.db, id, 0, CHUNK as i64, false).await?;
        let pending: Vec<_> = pending.into_iter().filter(|r| r.fixed && !r.done).collect();
        if pending.is_empty() {
            break;
        }
        let lines: Vec<i64> = pending.iter().map(|r| r.line).collect();
        let rows = pending
            .into_iter()
            .map(|r| plan.prepare(r.line, r.cells))
            .collect();
        let mut tx = state.db.begin_bulk().await?;
        renew(&mut tx, lease).await?;
        let mut tally = Tally::default();
        let chunk = write::check(
            state,
            auth,
            plan,
            Reads::Tx(&mut tx),
            rows,
            lines,
            &mut seen,
            allow,
        )
        .await?;
        write::chunk(
            state,
            auth,
            plan,
            imp,
            &mut tx,
            chunk,
            &mut created_orgs,
            &mut tally,
        )
        .await?;
        write::commit(auth, plan, imp, tx, tally, position).await?;
    }
    Ok(Some(position - imp.position))
}

#[cfg(test)]
mod tests {
    use super::defers_indexes;

    #[test]
    fn only_large_loads_into_small_tables_set_indexes_aside() {
        assert!(defers_indexes(1_000_000, 0));
        assert!(defers_indexes(1_000_000, 10_000));
        assert!(!defers_indexes(1_000_000, 10_001));
        assert!(defers_indexes(100_000, 1_000));
        assert!(!defers_indexes(99_999, 0));
        assert!(!defers_indexes(5_000, 0));
    }
}
