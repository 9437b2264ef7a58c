//! When to warn an owner that a customer is about to fall back: one row per customer in
//! `fall_back_warnings`, only while the warning is still to be given. The table is narrow and
//! has one index, so giving ten thousand warnings deletes ten thousand small rows — the
//! customers' rows and their dozen indexes are not touched.

use chrono::{DateTime, Utc};

use crate::bulk::{self, Val};
use crate::{Db, Result, Tx, on_db, on_tx};

/// Columns of `fall_back_warnings`, for bulk loads.
pub const WARNING_COLUMNS: [&str; 2] = ["customer_id", "warn_at"];

/// Ids written into a statement: integers only, so no limit on bound parameters to meet.
pub(super) fn id_list(ids: impl Iterator<Item = i64>) -> String {
    ids.map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
}

/// Sets (or, with `None`, removes) a customer's warning time.
pub async fn set_warning(tx: &mut Tx, id: i64, at: Option<DateTime<Utc>>) -> Result<()> {
    match at {
        Some(at) => on_tx!(tx, |c| sqlx::query(
            "INSERT INTO fall_back_warnings (customer_id, warn_at) VALUES ($1, $2) \
             ON CONFLICT (customer_id) DO UPDATE SET warn_at = excluded.warn_at"
        )
        .bind(id)
        .bind(at)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?,
        None => on_tx!(tx, |c| sqlx::query(
            "DELETE FROM fall_back_warnings WHERE customer_id = $1"
        )
        .bind(id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?,
    };
    Ok(())
}

/// Moves a customer's warning that is still to be given; a warning already given stays given.
pub async fn move_pending_warning(tx: &mut Tx, id: i64, at: DateTime<Utc>) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE fall_back_warnings SET warn_at = $1 WHERE customer_id = $2"
    )
    .bind(at)
    .bind(id)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Adds the warning times of customers that have none yet (new customers), in bulk.
pub async fn add_warnings(tx: &mut Tx, rows: &[(i64, DateTime<Utc>)]) -> Result<()> {
    let rows = rows
        .iter()
        .map(|(id, at)| vec![Val::Int(*id), Val::Time(*at)])
        .collect();
    bulk::insert(tx, "fall_back_warnings", &WARNING_COLUMNS, rows).await
}

/// Removes the warnings of these customers: given, or no deadline any more.
pub async fn clear_warnings(tx: &mut Tx, ids: &[i64]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "DELETE FROM fall_back_warnings WHERE customer_id IN ({})",
        id_list(ids.iter().copied())
    );
    on_tx!(tx, |c| sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Removes the warnings given as of `now`: a warning moved later meanwhile (the deadline moved
/// after the warnings were read) stays, to be given at its new time.
pub async fn warnings_given(tx: &mut Tx, ids: &[i64], now: DateTime<Utc>) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "DELETE FROM fall_back_warnings WHERE customer_id IN ({}) AND warn_at <= $1",
        id_list(ids.iter().copied())
    );
    on_tx!(tx, |c| sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(now)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// A customer's warning time, if one is still to be given.
pub async fn warning_at(db: &Db, id: i64) -> Result<Option<DateTime<Utc>>> {
    Ok(on_db!(db, read, |p| sqlx::query_scalar(
        "SELECT warn_at FROM fall_back_warnings WHERE customer_id = $1"
    )
    .bind(id)
    .fetch_optional(p)
    .await)?)
}

/// Owners to warn at `at`: customers whose warning time has come, still owned, live and with a
/// deadline, earliest first — (customer, name, owner, deadline).
pub async fn warnings_due(
    db: &Db,
    at: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<(i64, String, i64, DateTime<Utc>)>> {
    Ok(on_db!(db, read, |p| {
        sqlx::query_as(
            "SELECT c.id, c.name, c.owner_id, c.fall_back_at FROM fall_back_warnings w \
             JOIN customers c ON c.id = w.customer_id WHERE w.warn_at <= $1 \
             AND c.owner_id IS NOT NULL AND c.fall_back_at IS NOT NULL AND c.deleted_at IS NULL \
             ORDER BY w.warn_at, w.customer_id LIMIT $2",
        )
        .bind(at)
        .bind(limit)
        .fetch_all(p)
        .await
    })?)
}
