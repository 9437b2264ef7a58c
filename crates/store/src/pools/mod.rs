//! Public pools (公海) and fall-back (回落). A customer in a pool has no owner and a `pool_id`;
//! an owned customer has a fall-back deadline (`fall_back_at`, and a row in `fall_back_warnings`
//! for the warning)
//! computed from the rules of its owner's pool whenever something that moves it happens, so the
//! sweep reads only customers that are due, through a partial index — never all customers.
//!
//! Membership and limits are checked by the service; these functions do what they are told.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::{Db, Result, StoreError, Tx, now, on_db, on_tx};

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Member {
    /// user, department (with every department below) or manager (a user).
    pub kind: String,
    pub ref_id: i64,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Pool {
    pub id: i64,
    pub name: String,
    pub fall_back_days: Option<i64>,
    pub no_deal_days: Option<i64>,
    pub only_types: Vec<String>,
    pub only_levels: Vec<String>,
    pub warn_days: Option<i64>,
    pub max_owned: Option<i64>,
    pub max_claims_per_day: Option<i64>,
    pub reclaim_cooldown_days: Option<i64>,
    pub active: bool,
    pub members: Vec<Member>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A pool's settings as entered.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct PoolInput {
    pub name: String,
    pub fall_back_days: Option<i64>,
    pub no_deal_days: Option<i64>,
    #[serde(default)]
    pub only_types: Vec<String>,
    #[serde(default)]
    pub only_levels: Vec<String>,
    pub warn_days: Option<i64>,
    pub max_owned: Option<i64>,
    pub max_claims_per_day: Option<i64>,
    pub reclaim_cooldown_days: Option<i64>,
    #[serde(default = "yes")]
    pub active: bool,
    #[serde(default)]
    pub members: Vec<Member>,
}

fn yes() -> bool {
    true
}

type Row = (
    i64,
    String,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    bool,
    DateTime<Utc>,
    DateTime<Utc>,
);

const SELECT: &str = "SELECT id, name, fall_back_days, no_deal_days, only_types, only_levels, warn_days, \
    max_owned, max_claims_per_day, reclaim_cooldown_days, active, created_at, updated_at FROM pools";

fn list_of(s: Option<String>) -> Vec<String> {
    s.and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default()
}

const MEMBERS: &str =
    "SELECT pool_id, kind, ref_id FROM pool_members ORDER BY pool_id, kind, ref_id";

/// Every pool with its members, by id.
pub async fn list(db: &Db) -> Result<Vec<Pool>> {
    crate::cache::through(db, crate::cache::Topic::Pools, "pools", async || {
        let sql = format!("{SELECT} ORDER BY id");
        let rows: Vec<Row> = on_db!(db, read, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .fetch_all(p)
        .await)?;
        let members: Vec<(i64, String, i64)> =
            on_db!(db, read, |p| sqlx::query_as(MEMBERS).fetch_all(p).await)?;
        Ok(assemble(rows, &members))
    })
    .await
}

/// [`list`] read through the caller's transaction: a write that already holds a connection
/// must not wait for a second one (a pool of N connections would starve under N writers).
pub async fn tx_list(tx: &mut Tx) -> Result<Vec<Pool>> {
    let sql = format!("{SELECT} ORDER BY id");
    let rows: Vec<Row> = on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .fetch_all(&mut *c)
        .await)?;
    let members: Vec<(i64, String, i64)> =
        on_tx!(tx, |c| sqlx::query_as(MEMBERS).fetch_all(&mut *c).await)?;
    Ok(assemble(rows, &members))
}

fn assemble(rows: Vec<Row>, members: &[(i64, String, i64)]) -> Vec<Pool> {
    rows.into_iter()
        .map(|r| Pool {
            id: r.0,
            name: r.1,
            fall_back_days: r.2,
            no_deal_days: r.3,
            only_types: list_of(r.4),
            only_levels: list_of(r.5),
            warn_days: r.6,
            max_owned: r.7,
            max_claims_per_day: r.8,
            reclaim_cooldown_days: r.9,
            active: r.10,
            members: members
                .iter()
                .filter(|m| m.0 == r.0)
                .map(|m| Member {
                    kind: m.1.clone(),
                    ref_id: m.2,
                })
                .collect(),
            created_at: r.11,
            updated_at: r.12,
        })
        .collect()
}

pub async fn get(db: &Db, id: i64) -> Result<Pool> {
    list(db)
        .await?
        .into_iter()
        .find(|p| p.id == id)
        .ok_or(StoreError::NotFound)
}

async fn set_members(tx: &mut Tx, id: i64, members: &[Member]) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(
        "DELETE FROM pool_members WHERE pool_id = $1"
    )
    .bind(id)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    for m in members {
        on_tx!(tx, |c| {
            sqlx::query(
            "INSERT INTO pool_members (pool_id, kind, ref_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
        )
        .bind(id)
        .bind(&m.kind)
        .bind(m.ref_id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

fn json_list(v: &[String]) -> Option<String> {
    (!v.is_empty()).then(|| serde_json::to_string(v).unwrap_or_default())
}

pub async fn create(tx: &mut Tx, p: &PoolInput) -> Result<i64> {
    crate::cache::invalidate(crate::cache::Topic::Pools);
    let t = now();
    let id: i64 = on_tx!(tx, |c| {
        sqlx::query_scalar(
        "INSERT INTO pools (name, fall_back_days, no_deal_days, only_types, only_levels, warn_days, max_owned, \
         max_claims_per_day, reclaim_cooldown_days, active, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id"
    )
    .bind(&p.name)
    .bind(p.fall_back_days)
    .bind(p.no_deal_days)
    .bind(json_list(&p.only_types))
    .bind(json_list(&p.only_levels))
    .bind(p.warn_days)
    .bind(p.max_owned)
    .bind(p.max_claims_per_day)
    .bind(p.reclaim_cooldown_days)
    .bind(p.active)
    .bind(t)
    .fetch_one(&mut *c)
    .await
    })?;
    set_members(tx, id, &p.members).await?;
    Ok(id)
}

pub async fn update(tx: &mut Tx, id: i64, p: &PoolInput) -> Result<()> {
    crate::cache::invalidate(crate::cache::Topic::Pools);
    let n = on_tx!(tx, |c| {
        sqlx::query(
        "UPDATE pools SET name = $1, fall_back_days = $2, no_deal_days = $3, only_types = $4, only_levels = $5, \
         warn_days = $6, max_owned = $7, max_claims_per_day = $8, reclaim_cooldown_days = $9, active = $10, \
         updated_at = $11 WHERE id = $12"
    )
    .bind(&p.name)
    .bind(p.fall_back_days)
    .bind(p.no_deal_days)
    .bind(json_list(&p.only_types))
    .bind(json_list(&p.only_levels))
    .bind(p.warn_days)
    .bind(p.max_owned)
    .bind(p.max_claims_per_day)
    .bind(p.reclaim_cooldown_days)
    .bind(p.active)
    .bind(now())
    .bind(id)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected())
    })?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    set_members(tx, id, &p.members).await
}

/// The pool of a user: the first active pool naming the user, or one of the departments on the
/// path of the user's department (`/1/4/9/`), as a member.
pub fn pool_for<'a>(pools: &'a [Pool], user_id: i64, department_path: &str) -> Option<&'a Pool> {
    let depts: Vec<i64> = department_path
        .split('/')
        .filter_map(|s| s.parse().ok())
        .collect();
    pools.iter().filter(|p| p.active).find(|p| {
        p.members.iter().any(|m| {
            (m.kind == "user" && m.ref_id == user_id)
                || (m.kind == "department" && depts.contains(&m.ref_id))
        })
    })
}

/// Whether a user may see and claim from the pool (a member or a manager).
pub fn is_member(pool: &Pool, user_id: i64, department_path: &str) -> bool {
    is_manager(pool, user_id)
        || pool_for(std::slice::from_ref(pool), user_id, department_path).is_some()
}

pub fn is_manager(pool: &Pool, user_id: i64) -> bool {
    pool.members
        .iter()
        .any(|m| m.kind == "manager" && m.ref_id == user_id)
}

/// What decides a customer's fall-back deadline.
#[derive(Clone, Debug)]
pub struct Standing {
    pub id: i64,
    pub name: String,
    pub owner_id: Option<i64>,
    pub department_path: Option<String>,
    pub locked: bool,
    pub deleted: bool,
    pub customer_type: Option<String>,
    pub credit_level: Option<String>,
    pub created_at: DateTime<Utc>,
    pub owned_at: Option<DateTime<Utc>>,
    pub last_follow_up_at: Option<DateTime<Utc>>,
    pub last_deal_at: Option<DateTime<Utc>>,
    pub pool_id: Option<i64>,
}

/// A customer's standing, as the open transaction sees it.
pub async fn standing(tx: &mut Tx, id: i64) -> Result<Standing> {
    type R = (
        i64,
        String,
        Option<i64>,
        Option<String>,
        bool,
        Option<DateTime<Utc>>,
        Option<String>,
        Option<String>,
        DateTime<Utc>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
        Option<i64>,
    );
    let r: Option<R> = on_tx!(tx, |c| {
        sqlx::query_as(
        "SELECT c.id, c.name, c.owner_id, d.path, c.locked, c.deleted_at, c.customer_type, c.credit_level, \
         c.created_at, c.owned_at, c.last_follow_up_at, c.last_deal_at, c.pool_id \
         FROM customers c LEFT JOIN users u ON u.id = c.owner_id LEFT JOIN departments d ON d.id = u.department_id \
         WHERE c.id = $1"
    )
    .bind(id)
    .fetch_optional(&mut *c)
    .await
    })?;
    let r = r.ok_or(StoreError::NotFound)?;
    Ok(Standing {
        id: r.0,
        name: r.1,
        owner_id: r.2,
        department_path: r.3,
        locked: r.4,
        deleted: r.5.is_some(),
        customer_type: r.6,
        credit_level: r.7,
        created_at: r.8,
        owned_at: r.9,
        last_follow_up_at: r.10,
        last_deal_at: r.11,
        pool_id: r.12,
    })
}

/// The fall-back deadline and the warning time of a customer under its owner's pool: the
/// earliest of "N days after the last follow-up (or since it was taken)" and "N days after the
/// last deal (or since it was taken)". None for customers without an owner, locked or deleted
/// ones, and those the pool's type / level filter leaves out.
pub fn deadline(pools: &[Pool], s: &Standing) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let (Some(owner), false, false) = (s.owner_id, s.locked, s.deleted) else {
        return (None, None);
    };
    let Some(pool) = pool_for(pools, owner, s.department_path.as_deref().unwrap_or("")) else {
        return (None, None);
    };
    let fits = |list: &[String], v: &Option<String>| {
        list.is_empty() || v.as_ref().is_some_and(|v| list.contains(v))
    };
    if !fits(&pool.only_types, &s.customer_type) || !fits(&pool.only_levels, &s.credit_level) {
        return (None, None);
    }
    let since = s.owned_at.unwrap_or(s.created_at);
    let mut at: Option<DateTime<Utc>> = None;
    if let Some(days) = pool.fall_back_days {
        let base = s.last_follow_up_at.map_or(since, |f| f.max(since));
        at = Some(base + Duration::days(days));
    }
    if let Some(days) = pool.no_deal_days {
        let base = s.last_deal_at.map_or(since, |d| d.max(since));
        let t = base + Duration::days(days);
        at = Some(at.map_or(t, |a| a.min(t)));
    }
    let warn = match (at, pool.warn_days) {
        (Some(a), Some(w)) if w > 0 => Some(a - Duration::days(w)),
        _ => None,
    };
    (at, warn)
}

/// Stores a customer's deadline (after an event that may move it). A new deadline brings a
/// new warning; an unchanged one keeps its warning's state — a warning already given is not
/// given again because the customer was edited or a pool saved, while one still to come
/// follows a changed warning period.
pub async fn set_deadline(
    tx: &mut Tx,
    id: i64,
    at: Option<DateTime<Utc>>,
    warn: Option<DateTime<Utc>>,
) -> Result<()> {
    let moved = on_tx!(tx, |c| {
        sqlx::query(
        "UPDATE customers SET fall_back_at = $1 WHERE id = $2 AND fall_back_at IS DISTINCT FROM $1"
    )
    .bind(at)
    .bind(id)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected())
    })?;
    match warn {
        Some(w) if moved == 0 => move_pending_warning(tx, id, w).await,
        _ => set_warning(tx, id, warn).await,
    }
}

/// Recomputes and stores one customer's deadline.
pub async fn refresh(tx: &mut Tx, pools: &[Pool], id: i64) -> Result<Option<DateTime<Utc>>> {
    let s = standing(tx, id).await?;
    let (at, warn) = deadline(pools, &s);
    set_deadline(tx, id, at, warn).await?;
    Ok(at)
}

mod moves;
mod sweep;
mod warnings;

pub use moves::*;
pub use sweep::*;
pub use warnings::*;
