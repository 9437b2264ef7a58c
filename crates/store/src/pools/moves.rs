//! Moves of customers between owners and pools — the ownership timeline, claims, releases,
//! the sweep's reads — and the limits that govern who may research and claim.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::{Db, Result, StoreError, Tx, on_db, on_tx};

/// One entry of a customer's ownership timeline.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct OwnershipEvent {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// create, claim, release, assign, fall_back, transfer, import (into a pool).
    pub event: String,
    pub from_user: Option<i64>,
    pub from_name: Option<String>,
    pub to_user: Option<i64>,
    pub to_name: Option<String>,
    pub pool_id: Option<i64>,
    pub reason: Option<String>,
    pub by_user: Option<i64>,
    pub by_name: Option<String>,
}

/// The columns of `ownership_events` appended in bulk, in order.
pub const EVENT_COLUMNS: [&str; 8] = [
    "customer_id",
    "at",
    "event",
    "from_user",
    "to_user",
    "pool_id",
    "reason",
    "by_user",
];

/// Records a move of a customer.
#[expect(clippy::too_many_arguments, reason = "one row of the timeline")]
pub async fn record_event(
    tx: &mut Tx,
    customer_id: i64,
    at: DateTime<Utc>,
    event: &str,
    from_user: Option<i64>,
    to_user: Option<i64>,
    pool_id: Option<i64>,
    reason: Option<&str>,
    by_user: Option<i64>,
) -> Result<()> {
    on_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO ownership_events (customer_id, at, event, from_user, to_user, pool_id, reason, by_user) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    )
    .bind(customer_id)
    .bind(at)
    .bind(event)
    .bind(from_user)
    .bind(to_user)
    .bind(pool_id)
    .bind(reason)
    .bind(by_user)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn timeline(db: &Db, customer_id: i64) -> Result<Vec<OwnershipEvent>> {
    type R = (
        i64,
        DateTime<Utc>,
        String,
        Option<i64>,
        Option<String>,
        Option<i64>,
        Option<String>,
        Option<i64>,
        Option<String>,
        Option<i64>,
        Option<String>,
    );
    let rows: Vec<R> = on_db!(db, read, |p| {
        sqlx::query_as(
        "SELECT e.id, e.at, e.event, e.from_user, f.display_name, e.to_user, t.display_name, e.pool_id, e.reason, \
         e.by_user, b.display_name FROM ownership_events e LEFT JOIN users f ON f.id = e.from_user \
         LEFT JOIN users t ON t.id = e.to_user LEFT JOIN users b ON b.id = e.by_user \
         WHERE e.customer_id = $1 ORDER BY e.id DESC LIMIT 200"
    )
    .bind(customer_id)
    .fetch_all(p)
    .await
    })?;
    Ok(rows
        .into_iter()
        .map(|r| OwnershipEvent {
            id: r.0,
            at: r.1,
            event: r.2,
            from_user: r.3,
            from_name: r.4,
            to_user: r.5,
            to_name: r.6,
            pool_id: r.7,
            reason: r.8,
            by_user: r.9,
            by_name: r.10,
        })
        .collect())
}

/// Gives a pool customer to `to_user`, only if it is still in a pool and unowned: of two users
/// claiming the same customer at once, exactly one gets it. Returns the pool it came from.
pub async fn take(
    tx: &mut Tx,
    customer_id: i64,
    to_user: i64,
    at: DateTime<Utc>,
) -> Result<Option<i64>> {
    let dept: Option<Option<i64>> = on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT department_id FROM users WHERE id = $1"
    )
    .bind(to_user)
    .fetch_optional(&mut *c)
    .await)?;
    let dept = dept.ok_or(StoreError::NotFound)?;
    let pool: Option<Option<i64>> = on_tx!(tx, |c| {
        sqlx::query_scalar(
        "SELECT pool_id FROM customers WHERE id = $1 AND owner_id IS NULL AND deleted_at IS NULL"
    )
    .bind(customer_id)
    .fetch_optional(&mut *c)
    .await
    })?;
    let Some(Some(pool)) = pool else {
        return Ok(None);
    };
    // The condition on the owner makes the update the arbiter when two claims race.
    let n = on_tx!(tx, |c| {
        sqlx::query(
        "UPDATE customers SET owner_id = $1, department_id = $2, owned_at = $3, version = version + 1, \
         updated_by = $1, updated_at = $3, pool_id = NULL WHERE id = $4 AND owner_id IS NULL \
         AND pool_id = $5 AND deleted_at IS NULL"
    )
    .bind(to_user)
    .bind(dept)
    .bind(at)
    .bind(customer_id)
    .bind(pool)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok((n == 1).then_some(pool))
}

/// Puts a customer into a pool: no owner, no department, no deadline.
pub async fn put_in_pool(
    tx: &mut Tx,
    customer_id: i64,
    pool_id: i64,
    by_user: Option<i64>,
    at: DateTime<Utc>,
) -> Result<bool> {
    let n = on_tx!(tx, |c| {
        sqlx::query(
        "UPDATE customers SET owner_id = NULL, department_id = NULL, pool_id = $1, released_at = $2, \
         fall_back_at = NULL, version = version + 1, updated_by = $3, updated_at = $2 \
         WHERE id = $4 AND owner_id IS NOT NULL AND deleted_at IS NULL"
    )
    .bind(pool_id)
    .bind(at)
    .bind(by_user)
    .bind(customer_id)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected())
    })?;
    if n == 1 {
        super::clear_warnings(tx, &[customer_id]).await?;
        crate::records::collaborators::leave_with_owner(tx, &[customer_id]).await?;
    }
    Ok(n == 1)
}

/// Customers an import has just created go straight into a pool: no owner, no department, no
/// deadline, released now — as a release leaves them — and an `import` entry on each one's
/// timeline. Two statements for the whole batch, whatever its size. Returns how many moved.
pub async fn import_into_pool(
    tx: &mut Tx,
    customer_ids: &[i64],
    pool_id: i64,
    by_user: Option<i64>,
    at: DateTime<Utc>,
) -> Result<u64> {
    if customer_ids.is_empty() {
        return Ok(0);
    }
    let ids = super::warnings::id_list(customer_ids.iter().copied());
    let update = format!(
        "UPDATE customers SET owner_id = NULL, department_id = NULL, pool_id = $1, released_at = $2, \
         owned_at = NULL, fall_back_at = NULL WHERE id IN ({ids}) AND deleted_at IS NULL"
    );
    let n = on_tx!(tx, |c| sqlx::query(sqlx::AssertSqlSafe(update.as_str()))
        .bind(pool_id)
        .bind(at)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    super::clear_warnings(tx, customer_ids).await?;
    let events = format!(
        "INSERT INTO ownership_events (customer_id, at, event, from_user, to_user, pool_id, reason, by_user) \
         SELECT id, $1, 'import', NULL, NULL, $2, NULL, $3 FROM customers WHERE id IN ({ids}) AND pool_id = $2 \
         ORDER BY id"
    );
    on_tx!(tx, |c| sqlx::query(sqlx::AssertSqlSafe(events.as_str()))
        .bind(at)
        .bind(pool_id)
        .bind(by_user)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n)
}

/// Customers a user owns now.
pub async fn owned_count(tx: &mut Tx, user_id: i64) -> Result<i64> {
    Ok(on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM customers WHERE owner_id = $1 AND deleted_at IS NULL"
    )
    .bind(user_id)
    .fetch_one(&mut *c)
    .await)?)
}

/// Claims a user made since `since`.
pub async fn claims_since(tx: &mut Tx, user_id: i64, since: DateTime<Utc>) -> Result<i64> {
    Ok(on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM ownership_events WHERE by_user = $1 AND event = 'claim' AND at >= $2"
    )
    .bind(user_id)
    .bind(since)
    .fetch_one(&mut *c)
    .await)?)
}

/// When the user last gave this customer up (released it, or it fell back from them).
pub async fn last_given_up(
    tx: &mut Tx,
    user_id: i64,
    customer_id: i64,
) -> Result<Option<DateTime<Utc>>> {
    Ok(on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT MAX(at) FROM ownership_events WHERE from_user = $1 AND customer_id = $2 \
         AND event IN ('release', 'fall_back')"
    )
    .bind(user_id)
    .bind(customer_id)
    .fetch_one(&mut *c)
    .await)?)
}

/// Customers due to fall back at `at` (owned, unlocked, live), oldest deadline first.
pub async fn due(db: &Db, at: DateTime<Utc>, limit: i64) -> Result<Vec<(i64, String, i64)>> {
    Ok(on_db!(db, read, |p| {
        sqlx::query_as(
        "SELECT id, name, owner_id FROM customers WHERE fall_back_at <= $1 AND owner_id IS NOT NULL \
         AND locked = FALSE AND deleted_at IS NULL ORDER BY fall_back_at, id LIMIT $2"
    )
    .bind(at)
    .bind(limit)
    .fetch_all(p)
    .await
    })?)
}

/// The owner changed hands outside the pool (a transfer): the deadline counts from now.
pub async fn take_over(tx: &mut Tx, customer_id: i64, at: DateTime<Utc>) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE customers SET owned_at = $1 WHERE id = $2"
    )
    .bind(at)
    .bind(customer_id)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// A user's pool research limits over their roles: the daily number of pool customers whose
/// details they may open (`None`: no limit — the most generous role wins) and whether they may
/// see contact details in pools.
pub async fn research_limits(db: &Db, user_id: i64) -> Result<(Option<i64>, bool)> {
    let rows: Vec<(Option<i64>, bool)> = on_db!(db, read, |p| {
        sqlx::query_as(
        "SELECT r.pool_daily_views, r.pool_contacts_visible FROM roles r JOIN user_roles ur ON ur.role_id = r.id \
         WHERE ur.user_id = $1"
    )
    .bind(user_id)
    .fetch_all(p)
    .await
    })?;
    let limit = if rows.is_empty() || rows.iter().any(|r| r.0.is_none()) {
        None
    } else {
        rows.iter().filter_map(|r| r.0).max()
    };
    Ok((limit, rows.iter().any(|r| r.1)))
}

/// Records that a user opened a pool customer today; returns how many distinct ones they have
/// opened today, this one included.
pub async fn viewed(tx: &mut Tx, user_id: i64, day: &str, customer_id: i64) -> Result<i64> {
    on_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO pool_views (user_id, day, customer_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
    )
    .bind(user_id)
    .bind(day)
    .bind(customer_id)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM pool_views WHERE user_id = $1 AND day = $2"
    )
    .bind(user_id)
    .bind(day)
    .fetch_one(&mut *c)
    .await)?)
}

/// Owned customers after `after`, by id (recomputing every deadline after a rule change).
pub async fn owned_after(db: &Db, after: i64, limit: i64) -> Result<Vec<i64>> {
    Ok(on_db!(db, read, |p| {
        sqlx::query_scalar(
        "SELECT id FROM customers WHERE id > $1 AND owner_id IS NOT NULL AND deleted_at IS NULL ORDER BY id LIMIT $2"
    )
    .bind(after)
    .bind(limit)
    .fetch_all(p)
    .await
    })?)
}

/// Makes sure a recurring job exists, then claims its next run if due: one conditional update,
/// so of several servers exactly one queues each run. Returns whether this caller did.
pub async fn schedule_due(
    tx: &mut Tx,
    name: &str,
    every_seconds: i64,
    at: DateTime<Utc>,
) -> Result<bool> {
    on_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO schedules (name, every_seconds, next_run_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING"
    )
    .bind(name)
    .bind(every_seconds)
    .bind(at)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected())
    })?;
    let n = on_tx!(tx, |c| {
        sqlx::query(
        "UPDATE schedules SET next_run_at = $1, last_run_at = $2, every_seconds = $3 WHERE name = $4 AND next_run_at <= $2"
    )
    .bind(at + Duration::seconds(every_seconds))
    .bind(at)
    .bind(every_seconds)
    .bind(name)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}
