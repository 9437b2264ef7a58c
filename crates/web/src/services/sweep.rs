//! The fall-back sweep (回落) and its warnings, as a recurring job: customers whose deadline
//! has come go back to their owner's pool, owners whose warning time has come are told. Both
//! read only due customers through partial indexes. `now` is a parameter — the clock seam that
//! `guanxi jobs run --now` and the tests use. Owners told are woken after each commit, so their
//! bells ring at once.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use guanxi_core::Module;
use guanxi_core::engine::CUSTOMERS;
use guanxi_store::audit::{self, Actor, Event};
use guanxi_store::pools;
use guanxi_store::records;
use serde::Serialize;
use serde_json::json;

use crate::error::AppResult;
use crate::state::AppState;

/// Customers moved per transaction.
const CHUNK: i64 = 1_000;

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
    let fs = crate::services::records::fields(state, &CUSTOMERS).await?;
    loop {
        let due = pools::due(&state.db, now, if dry_run { 1_000_000 } else { CHUNK }).await?;
        if due.is_empty() {
            break;
        }
        let mut tx = state.db.begin().await?;
        let mut moved = 0;
        let mut told = BTreeSet::new();
        for (id, name, owner) in &due {
            let path = paths.get(owner).map_or("", String::as_str);
            let Some(pool) = pools::pool_for(&all, *owner, path) else {
                // No pool any more: the customer stays, without a deadline.
                if !dry_run {
                    pools::set_deadline(&mut tx, *id, None, None).await?;
                }
                continue;
            };
            report.fell_back.push((*id, name.clone(), *owner, pool.id));
            if dry_run {
                continue;
            }
            if !pools::put_in_pool(&mut tx, *id, pool.id, None, now).await? {
                continue;
            }
            moved += 1;
            let version = records::tx_fetch(&mut tx, &fs, *id)
                .await?
                .map_or(1, |r| r.version);
            records::history_line(
                &mut tx,
                &CUSTOMERS,
                *id,
                version,
                &actor,
                "fall_back",
                "owner_id",
                &json!(owner),
                &json!(null),
            )
            .await?;
            pools::record_event(
                &mut tx,
                *id,
                now,
                "fall_back",
                Some(*owner),
                None,
                Some(pool.id),
                None,
                None,
            )
            .await?;
            guanxi_store::notifications::add(
                &mut tx,
                *owner,
                "fall_back",
                &json!({"customer": name, "pool": pool.name}),
                Some(&format!("/customers/{id}")),
            )
            .await?;
            told.insert(*owner);
        }
        if !dry_run {
            audit::record(
                &mut tx,
                &actor,
                Event::new(
                    "pool.fall_back",
                    format!("{moved} customers fell back to their pools"),
                )
                .module(Module::Customers),
            )
            .await?;
            tx.commit().await?;
            wake(state, &told);
        }
        if dry_run || (due.len() as i64) < CHUNK {
            break;
        }
    }
    loop {
        let due =
            pools::warnings_due(&state.db, now, if dry_run { 1_000_000 } else { CHUNK }).await?;
        if due.is_empty() {
            break;
        }
        let mut tx = state.db.begin().await?;
        let mut told = BTreeSet::new();
        for (id, name, owner, at) in &due {
            report.warned.push((*id, name.clone(), *owner, *at));
            if dry_run {
                continue;
            }
            let days = (*at - now).num_days().max(0);
            guanxi_store::notifications::add(
                &mut tx,
                *owner,
                "fall_back_warning",
                &json!({"customer": name, "days": days, "date": at.format("%Y-%m-%d").to_string()}),
                Some(&format!("/customers/{id}")),
            )
            .await?;
            pools::warned(&mut tx, *id).await?;
            told.insert(*owner);
        }
        if dry_run {
            break;
        }
        tx.commit().await?;
        wake(state, &told);
        if (due.len() as i64) < CHUNK {
            break;
        }
    }
    Ok(report)
}

/// Tells the open feeds of the owners notified in a committed transaction to look.
fn wake(state: &AppState, told: &BTreeSet<i64>) {
    for user in told {
        crate::services::notifications::wake(state, *user);
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
