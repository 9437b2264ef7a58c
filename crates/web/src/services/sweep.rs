//! The fall-back sweep (回落) and its warnings, as a recurring job: customers whose deadline
//! has come go back to their owner's pool, owners whose warning time has come are told. Both
//! read only due customers through partial indexes. `now` is a parameter — the clock seam that
//! `guanxi jobs run --now` and the tests use. Owners told are woken after each commit, so their
//! bells ring at once.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use guanxi_core::Module;
use guanxi_store::audit::{self, Actor, Event};
use guanxi_store::pools;
use serde::Serialize;

use crate::error::AppResult;
use crate::state::AppState;

/// Customers moved per transaction: the pages of the customers' indexes a chunk touches are
/// written once per transaction, so one large chunk costs far less than several small ones
/// (12,856 fall-backs at 1,000,000 customers: 3.9 s in chunks of 5,000, 2.2 s in one).
const CHUNK: i64 = 20_000;

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
    let actor = Actor::system();
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
        let mut tx = state.db.begin().await?;
        pools::clear_deadlines(&mut tx, &orphans).await?;
        let moved = pools::fall_back_many(&mut tx, &moves, now, &actor).await?;
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
        let mut tx = state.db.begin().await?;
        pools::warn_many(&mut tx, &due, now).await?;
        tx.commit().await?;
        wake(state, due.iter().map(|w| w.owner).collect());
        if (due.len() as i64) < CHUNK {
            break;
        }
    }
    Ok(report)
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
