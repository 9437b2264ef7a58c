//! The sweep's writes, a chunk of due customers at a time: a handful of statements per chunk
//! whatever its size — one update per pool, then the history lines, the ownership timeline and
//! the owners' notifications appended in bulk — instead of several statements per customer.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::warnings::{clear_warnings, id_list, warnings_given};
use crate::audit::Actor;
use crate::bulk::{self, Val};
use crate::{Result, Tx, now, on_tx};

/// A due customer and the pool it falls back to.
#[derive(Clone, Debug)]
pub struct FallBack {
    pub id: i64,
    pub name: String,
    pub owner: i64,
    pub pool_id: i64,
    pub pool_name: String,
}

/// A customer whose owner is to be warned of its deadline.
#[derive(Clone, Debug)]
pub struct Warning {
    pub id: i64,
    pub name: String,
    pub owner: i64,
    pub at: DateTime<Utc>,
}

/// Puts due customers into their pools — no owner, no department, no deadline — with a
/// `fall_back` history line, timeline entry and notification each. A customer that stopped
/// being due meanwhile (followed up, locked, deleted, claimed elsewhere) is left alone.
/// Returns the customers moved.
pub async fn fall_back_many(
    tx: &mut Tx,
    due: &[FallBack],
    at: DateTime<Utc>,
    actor: &Actor,
) -> Result<Vec<FallBack>> {
    let mut by_pool: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for f in due {
        by_pool.entry(f.pool_id).or_default().push(f.id);
    }
    let mut versions: BTreeMap<i64, i32> = BTreeMap::new();
    for (pool, ids) in &by_pool {
        let sql = format!(
            "UPDATE customers SET owner_id = NULL, department_id = NULL, pool_id = $1, released_at = $2, \
             fall_back_at = NULL, version = version + 1, updated_by = NULL, updated_at = $2 \
             WHERE id IN ({}) AND owner_id IS NOT NULL AND locked = FALSE AND deleted_at IS NULL \
             AND fall_back_at <= $2 RETURNING id, version",
            id_list(ids.iter().copied())
        );
        let rows: Vec<(i64, i32)> =
            on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(*pool)
                .bind(at)
                .fetch_all(&mut *c)
                .await)?;
        versions.extend(rows);
    }
    let moved: Vec<FallBack> = due
        .iter()
        .filter(|f| versions.contains_key(&f.id))
        .cloned()
        .collect();
    let moved_ids: Vec<i64> = moved.iter().map(|f| f.id).collect();
    clear_warnings(tx, &moved_ids).await?;
    crate::records::collaborators::leave_with_owner(tx, &moved_ids).await?;
    let t = now();
    let history = moved
        .iter()
        .map(|f| {
            vec![
                Val::Text("customers".into()),
                Val::Int(f.id),
                Val::Int(i64::from(versions[&f.id])),
                Val::Time(t),
                actor.user_id.map_or(Val::Null, Val::Int),
                actor.username.clone().map_or(Val::Null, Val::Text),
                Val::Text("fall_back".into()),
                Val::Text("owner_id".into()),
                Val::Text(f.owner.to_string()),
                Val::Null,
            ]
        })
        .collect();
    bulk::insert(
        tx,
        "record_history",
        &crate::records::HISTORY_COLUMNS,
        history,
    )
    .await?;
    let events = moved
        .iter()
        .map(|f| {
            vec![
                Val::Int(f.id),
                Val::Time(at),
                Val::Text("fall_back".into()),
                Val::Int(f.owner),
                Val::Null,
                Val::Int(f.pool_id),
                Val::Null,
                Val::Null,
            ]
        })
        .collect();
    bulk::insert(tx, "ownership_events", &super::EVENT_COLUMNS, events).await?;
    let notes = moved
        .iter()
        .map(|f| {
            notification(
                f.owner,
                "fall_back",
                &json!({"customer": f.name, "pool": f.pool_name}),
                f.id,
                t,
            )
        })
        .collect();
    notify(tx, notes).await?;
    Ok(moved)
}

/// Tells owners their customers' deadlines are near and removes each warning until the
/// deadline moves again.
pub async fn warn_many(tx: &mut Tx, due: &[Warning], now_at: DateTime<Utc>) -> Result<()> {
    if due.is_empty() {
        return Ok(());
    }
    warnings_given(tx, &due.iter().map(|w| w.id).collect::<Vec<_>>(), now_at).await?;
    let t = now();
    let notes = due
        .iter()
        .map(|w| {
            let days = (w.at - now_at).num_days().max(0);
            notification(
                w.owner,
                "fall_back_warning",
                &json!({"customer": w.name, "days": days, "date": w.at.format("%Y-%m-%d").to_string()}),
                w.id,
                t,
            )
        })
        .collect();
    notify(tx, notes).await
}

/// Due customers whose owner has no pool any more stay where they are, without a deadline.
pub async fn clear_deadlines(tx: &mut Tx, ids: &[i64]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE customers SET fall_back_at = NULL WHERE id IN ({})",
        id_list(ids.iter().copied())
    );
    on_tx!(tx, |c| sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    clear_warnings(tx, ids).await
}

fn notification(
    user: i64,
    kind: &str,
    args: &serde_json::Value,
    customer: i64,
    t: DateTime<Utc>,
) -> Vec<Val> {
    vec![
        Val::Int(user),
        Val::Text(kind.to_owned()),
        Val::Text(args.to_string()),
        Val::Text(format!("/customers/{customer}")),
        Val::Time(t),
    ]
}

async fn notify(tx: &mut Tx, rows: Vec<Vec<Val>>) -> Result<()> {
    bulk::insert(
        tx,
        "notifications",
        &["user_id", "kind", "args", "link", "created_at"],
        rows,
    )
    .await
}
