//! What a follow-up changes on its customer: the behaviours it named (with their points then),
//! the customer's score (the sum over its live follow-ups) and last follow-up time.

use chrono::{DateTime, Utc};
use guanxi_core::permission::Grant;
use serde::Serialize;

use crate::{Db, Result, Tx, on_db, on_tx};

/// Points per behaviour code.
pub async fn points(tx: &mut Tx) -> Result<Vec<(String, i64)>> {
    Ok(on_tx!(tx, |c| sqlx::query_as(
        "SELECT code, points FROM behaviour_points"
    )
    .fetch_all(&mut *c)
    .await)?)
}

/// Replaces the behaviours recorded for a follow-up.
pub async fn set_behaviours(
    tx: &mut Tx,
    follow_up_id: i64,
    customer_id: i64,
    at: DateTime<Utc>,
    behaviours: &[(String, i64)],
) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(
        "DELETE FROM follow_up_behaviours WHERE follow_up_id = $1"
    )
    .bind(follow_up_id)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    for (code, pts) in behaviours {
        on_tx!(tx, |c| sqlx::query(
            "INSERT INTO follow_up_behaviours (follow_up_id, customer_id, behaviour, points, at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING"
        )
        .bind(follow_up_id)
        .bind(customer_id)
        .bind(code)
        .bind(*pts)
        .bind(at)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// Brings a customer's score and last follow-up time in step with its live follow-ups; returns
/// (score, last follow-up).
pub async fn refresh_customer(
    tx: &mut Tx,
    customer_id: i64,
) -> Result<(i64, Option<DateTime<Utc>>)> {
    let score: Option<i64> = on_tx!(tx, |c| {
        sqlx::query_scalar(
        "SELECT CAST(SUM(b.points) AS BIGINT) FROM follow_up_behaviours b JOIN follow_ups f ON f.id = b.follow_up_id \
         WHERE b.customer_id = $1 AND f.deleted_at IS NULL AND f.customer_id = $1"
    )
    .bind(customer_id)
    .fetch_one(&mut *c)
    .await
    })?;
    let last: Option<DateTime<Utc>> = on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT MAX(at) FROM follow_ups WHERE customer_id = $1 AND deleted_at IS NULL"
    )
    .bind(customer_id)
    .fetch_one(&mut *c)
    .await)?;
    let score = score.unwrap_or(0);
    on_tx!(tx, |c| sqlx::query(
        "UPDATE customers SET score = $1, last_follow_up_at = $2 WHERE id = $3"
    )
    .bind(score)
    .bind(last)
    .bind(customer_id)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok((score, last))
}

/// One line of a score's explanation: a behaviour on a date with its points.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ScoreLine {
    pub follow_up_id: i64,
    pub behaviour: String,
    pub points: i64,
    pub at: DateTime<Utc>,
}

/// Why a customer has its score: the behaviours of its live follow-ups, newest first.
pub async fn score_lines(db: &Db, customer_id: i64) -> Result<Vec<ScoreLine>> {
    let rows: Vec<(i64, String, i64, DateTime<Utc>)> = on_db!(db, read, |p| {
        sqlx::query_as(
        "SELECT b.follow_up_id, b.behaviour, b.points, b.at FROM follow_up_behaviours b \
         JOIN follow_ups f ON f.id = b.follow_up_id WHERE b.customer_id = $1 AND f.deleted_at IS NULL \
         AND f.customer_id = $1 ORDER BY b.at DESC, b.follow_up_id DESC LIMIT 500"
    )
    .bind(customer_id)
    .fetch_all(p)
    .await
    })?;
    Ok(rows
        .into_iter()
        .map(|r| ScoreLine {
            follow_up_id: r.0,
            behaviour: r.1,
            points: r.2,
            at: r.3,
        })
        .collect())
}

/// An appointment (预约拜访) of a day: the follow-up that set it, its customer, whether done.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Appointment {
    pub follow_up_id: i64,
    pub customer_id: i64,
    pub customer_name: String,
    pub next_visit_at: DateTime<Utc>,
    pub done: bool,
    pub owner_id: Option<i64>,
}

/// Appointments between two instants within the grant's data scope (of follow-ups: the
/// follow-up's owner and department decide), by time; at most 500.
pub async fn appointments(
    db: &Db,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    grant: &Grant,
) -> Result<Vec<Appointment>> {
    let scope = grant.sql_predicate("f.owner_id", "f.department_id");
    let sql = format!(
        "SELECT f.id, f.customer_id, c.name, f.next_visit_at, COALESCE(f.next_visit_done, FALSE), f.owner_id \
         FROM follow_ups f JOIN customers c ON c.id = f.customer_id WHERE f.next_visit_at >= $1 \
         AND f.next_visit_at < $2 AND f.deleted_at IS NULL AND {scope} ORDER BY f.next_visit_at, f.id LIMIT 500"
    );
    type Row = (i64, i64, String, DateTime<Utc>, bool, Option<i64>);
    let rows: Vec<Row> = on_db!(db, read, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(from)
    .bind(to)
    .fetch_all(p)
    .await)?;
    Ok(rows
        .into_iter()
        .map(|r| Appointment {
            follow_up_id: r.0,
            customer_id: r.1,
            customer_name: r.2,
            next_visit_at: r.3,
            done: r.4,
            owner_id: r.5,
        })
        .collect())
}
