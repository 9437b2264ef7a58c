//! The fall-back sweep (回落) and its warnings, as a recurring job: customers whose deadline
//! has come go back to their owner's pool, owners whose warning time has come are told. Both
//! read only due customers through partial indexes. `now` is a parameter — the clock seam that
//! `guanxi jobs run --now` and the tests use. Owners told are woken after each commit, so their
//! bells ring at once.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use guanxi_core::Module;
use guanxi_store::Backend;
use guanxi_store::audit::{self, Actor, Event};
use guanxi_store::pools;
use serde::Serialize;

use crate::error::AppResult;
use crate::state::AppState;

/// Customers moved per transaction: the pages of the customers' indexes a chunk touches are
/// written once per transaction, so one large chunk costs far less than several small ones
/// (12,856 fall-backs at 1,000,000 customers: 3.9 s in chunks of 5,000, 2.2 s in one).
const CHUNK: i64 = 20_000;
/// Transactions a chunk is split over on PostgreSQL, run at once.
const LANES: usize = 2;
/// Below this many customers per lane one transaction is as quick.
const MIN_LANE: usize = 500;

#[derive(Clone, Debug, Default, Serialize)]
pub struct SweepReport {
    /// (customer, name, former owner, pool)
    pub fell_back: Vec<(i64, String, i64, i64)>,
    /// (customer, name, owner, deadline)
    pub warned: Vec<(i64, String, i64, DateTime<Utc>)>,
}

/// Users' department paths, for finding each owner's pool.
async fn paths(state: &AppState) -> AppResult<HashMap<i64, String>> {
    let depts: HashMap<i64, String> = guanxi_store::departments::list(&state.db)
        .await?
        .into_iter()
        .map(|d| (d.id, d.path))
        .collect();
    Ok(guanxi_store::users::list_all(&state.db)
        .await?
        .into_iter()
        .map(|u| {
            (
                u.id,
                u.department_id
                    .and_then(|d| depts.get(&d).cloned())
                    .unwrap_or_default(),
            )
        })
        .collect())
}

/// Runs the sweep as of `now`; with `dry_run` only reports what it would do.
pub async fn sweep(state: &AppState, now: DateTime<Utc>, dry_run: bool) -> AppResult<SweepReport> {
    let all = pools::list(&state.db).await?;
    let paths = paths(state).await?;
    let mut report = SweepReport::default();
    let limit = if dry_run { 1_000_000 } else { CHUNK };
    loop {
        let due = pools::due(&state.db, now, limit).await?;
        if due.is_empty() {
            break;
        }
        let mut moves = vec![];
        let mut orphans = vec![];
        for (id, name, owner) in &due {
            let path = paths.get(owner).map_or("", String::as_str);
            match pools::pool_for(&all, *owner, path) {
                Some(pool) => moves.push(pools::FallBack {
                    id: *id,
                    name: name.clone(),
                    owner: *owner,
                    pool_id: pool.id,
                    pool_name: pool.name.clone(),
                }),
                // No pool any more: the customer stays, without a deadline.
                None => orphans.push(*id),
            }
        }
        if dry_run {
            report.fell_back.extend(moves.into_iter().map(fell_back));
            break;
        }
        let moved = fall_back(state, &orphans, moves, now).await?;
        wake(state, moved.iter().map(|f| f.owner).collect());
        report.fell_back.extend(moved.into_iter().map(fell_back));
        if (due.len() as i64) < CHUNK {
            break;
        }
    }
    loop {
        let due: Vec<pools::Warning> = pools::warnings_due(&state.db, now, limit)
            .await?
            .into_iter()
            .map(|(id, name, owner, at)| pools::Warning {
                id,
                name,
                owner,
                at,
            })
            .collect();
        if due.is_empty() {
            break;
        }
        report
            .warned
            .extend(due.iter().map(|w| (w.id, w.name.clone(), w.owner, w.at)));
        if dry_run {
            break;
        }
        let runs = due
            .chunks(lane_size(state, due.len()))
            .map(|part| async move {
                let mut tx = state.db.begin().await?;
                pools::warn_many(&mut tx, part, now).await?;
                tx.commit().await?;
                AppResult::Ok(())
            });
        let results = futures_util::future::join_all(runs).await;
        wake(state, due.iter().map(|w| w.owner).collect());
        results.into_iter().collect::<AppResult<Vec<()>>>()?;
        if (due.len() as i64) < CHUNK {
            break;
        }
    }
    Ok(report)
}

/// Writes a chunk's fall-backs. On PostgreSQL the chunk is split over [`LANES`] transactions
/// on as many connections, run at once — each customer's update, history line, timeline entry
/// and notification still commit together, and the server's backends work on both cores (the
/// index and WAL writes of a fall-back are the server's work, not ours). SQLite has one
/// writer: one transaction.
async fn fall_back(
    state: &AppState,
    orphans: &[i64],
    moves: Vec<pools::FallBack>,
    now: DateTime<Utc>,
) -> AppResult<Vec<pools::FallBack>> {
    let mut parts: Vec<&[pools::FallBack]> = moves.chunks(lane_size(state, moves.len())).collect();
    if parts.is_empty() {
        // Only customers whose owner has no pool: the first lane still clears their deadlines.
        parts.push(&[]);
    }
    let runs = parts.iter().enumerate().map(|(i, part)| async move {
        let actor = Actor::system();
        let mut tx = state.db.begin().await?;
        if i == 0 {
            pools::clear_deadlines(&mut tx, orphans).await?;
        }
        let moved = pools::fall_back_many(&mut tx, part, now, &actor).await?;
        audit::record(
            &mut tx,
            &actor,
            Event::new(
                "pool.fall_back",
                format!("{} customers fell back to their pools", moved.len()),
            )
            .module(Module::Customers),
        )
        .await?;
        tx.commit().await?;
        AppResult::Ok(moved)
    });
    let mut all = vec![];
    let mut failed = None;
    // A lane that fails leaves the others committed: those customers were moved, and the
    // next run finds the rest still due.
    for r in futures_util::future::join_all(runs).await {
        match r {
            Ok(moved) => all.extend(moved),
            Err(e) => failed = Some(e),
        }
    }
    match failed {
        Some(e) => {
            if !all.is_empty() {
                tracing::warn!(error = %e, moved = all.len(), "a lane of the pool sweep failed");
            }
            Err(e)
        }
        None => Ok(all),
    }
}

/// Items per transaction when `n` are written at once (see [`fall_back`]).
fn lane_size(state: &AppState, n: usize) -> usize {
    let lanes = match state.db.backend() {
        Backend::Postgres if n >= 2 * MIN_LANE => LANES,
        _ => 1,
    };
    n.div_ceil(lanes).max(1)
}

fn fell_back(f: pools::FallBack) -> (i64, String, i64, i64) {
    (f.id, f.name, f.owner, f.pool_id)
}

/// Tells the open feeds of the owners notified in a committed transaction to look.
fn wake(state: &AppState, told: BTreeSet<i64>) {
    for user in told {
        crate::services::notifications::wake(state, user);
    }
}

/// Recomputes every owned customer's deadline (after a pool's rules changed).
pub async fn refresh_all(state: &AppState) -> AppResult<u64> {
    let all = pools::list(&state.db).await?;
    let mut after = 0;
    let mut n = 0u64;
    loop {
        let ids = pools::owned_after(&state.db, after, 2_000).await?;
        let Some(last) = ids.last() else { break };
        after = *last;
        let mut tx = state.db.begin().await?;
        for id in &ids {
            pools::refresh(&mut tx, &all, *id).await?;
        }
        tx.commit().await?;
        n += ids.len() as u64;
    }
    Ok(n)
}
