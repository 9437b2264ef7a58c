//! Background jobs (imports now; the pool sweep and rule re-evaluation later). A job is claimed
//! with a lease that the worker renews while it runs; a job whose server died is claimed again
//! once its lease has run out, and on PostgreSQL `FOR UPDATE SKIP LOCKED` makes two instances
//! never claim the same job. Jobs are enqueued in the transaction of the write that causes them.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::{Db, Result, StoreError, Tx, now, on_db, on_tx};

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: Value,
    /// queued, running, done, failed, cancelled.
    pub state: String,
    pub run_at: DateTime<Utc>,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

type Row = (
    i64,
    String,
    String,
    String,
    DateTime<Utc>,
    i32,
    Option<String>,
    Option<i64>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

const COLUMNS: &str = "id, kind, payload, state, run_at, attempts, last_error, created_by, created_at, \
    started_at, finished_at";

fn job(r: Row) -> Job {
    Job {
        id: r.0,
        kind: r.1,
        payload: serde_json::from_str(&r.2).unwrap_or(Value::Null),
        state: r.3,
        run_at: r.4,
        attempts: r.5,
        last_error: r.6,
        created_by: r.7,
        created_at: r.8,
        started_at: r.9,
        finished_at: r.10,
    }
}

/// Queues a job in the caller's transaction; it runs once that transaction commits.
pub async fn enqueue(
    tx: &mut Tx,
    kind: &str,
    payload: &Value,
    created_by: Option<i64>,
) -> Result<i64> {
    let t = now();
    Ok(on_tx!(tx, |c| sqlx::query_scalar(
        "INSERT INTO jobs (kind, payload, state, run_at, created_by, created_at) \
         VALUES ($1, $2, 'queued', $3, $4, $3) RETURNING id"
    )
    .bind(kind)
    .bind(payload.to_string())
    .bind(t)
    .bind(created_by)
    .fetch_one(&mut *c)
    .await)?)
}

/// Takes the next due job (queued, or running with an expired lease) for `worker`.
pub async fn claim(db: &Db, worker: &str, lease: Duration) -> Result<Option<Job>> {
    let t = now();
    let lock = match db {
        Db::Sqlite { .. } => "",
        Db::Postgres(_) => " FOR UPDATE SKIP LOCKED",
    };
    let sql = format!(
        "UPDATE jobs SET state = 'running', locked_by = $1, locked_until = $2, attempts = attempts + 1, \
         started_at = COALESCE(started_at, $3) WHERE id = (SELECT id FROM jobs WHERE \
         (state = 'queued' AND run_at <= $3) OR (state = 'running' AND locked_until < $3) \
         ORDER BY run_at, id LIMIT 1{lock}) RETURNING {COLUMNS}"
    );
    let row: Option<Row> = on_db!(db, write, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(worker)
    .bind(t + lease)
    .bind(t)
    .fetch_optional(p)
    .await)?;
    Ok(row.map(job))
}

/// Renews the lease inside the caller's transaction (a chunk of work). Fails when the job is no
/// longer this worker's — cancelled, or taken over after a lapse — so the chunk rolls back.
pub async fn renew(tx: &mut Tx, id: i64, worker: &str, lease: Duration) -> Result<()> {
    let n = on_tx!(tx, |c| {
        sqlx::query(
        "UPDATE jobs SET locked_until = $1 WHERE id = $2 AND locked_by = $3 AND state = 'running'"
    )
    .bind(now() + lease)
    .bind(id)
    .bind(worker)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected())
    })?;
    if n == 0 {
        return Err(StoreError::LeaseLost);
    }
    Ok(())
}

/// Ends a run: `done`, `failed` (with the error), or back to `queued` at `retry_at`.
pub async fn finish(
    db: &Db,
    id: i64,
    worker: &str,
    state: &str,
    error: Option<&str>,
    retry_at: Option<DateTime<Utc>>,
) -> Result<()> {
    let t = now();
    let (state, run_at, finished) = match retry_at {
        Some(at) => ("queued", Some(at), None),
        None => (state, None, Some(t)),
    };
    on_db!(db, write, |p| sqlx::query(
        "UPDATE jobs SET state = $1, last_error = $2, locked_by = NULL, locked_until = NULL, \
         run_at = COALESCE($3, run_at), finished_at = $4 WHERE id = $5 AND locked_by = $6"
    )
    .bind(state)
    .bind(error)
    .bind(run_at)
    .bind(finished)
    .bind(id)
    .bind(worker)
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Cancels queued or running jobs whose payload names `key` = `value` (e.g. an import id).
pub async fn cancel_for(tx: &mut Tx, kind_prefix: &str, key: &str, value: i64) -> Result<u64> {
    let jobs: Vec<(i64, String)> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT id, payload FROM jobs WHERE state IN ('queued', 'running') AND kind LIKE $1"
    )
    .bind(format!("{kind_prefix}%"))
    .fetch_all(&mut *c)
    .await)?;
    let mut n = 0;
    for (id, payload) in jobs {
        let p: Value = serde_json::from_str(&payload).unwrap_or(Value::Null);
        if p.get(key).and_then(Value::as_i64) == Some(value) {
            n += on_tx!(tx, |c| sqlx::query(
                "UPDATE jobs SET state = 'cancelled', locked_by = NULL, locked_until = NULL, \
                 finished_at = $1 WHERE id = $2"
            )
            .bind(now())
            .bind(id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        }
    }
    Ok(n)
}

/// Makes running jobs claimable at once: on SQLite only one server uses the database file, so
/// at start-up every running job is one whose server died.
pub async fn release_orphans(db: &Db) -> Result<u64> {
    if !matches!(db, Db::Sqlite { .. }) {
        return Ok(0);
    }
    Ok(on_db!(db, write, |p| sqlx::query(
        "UPDATE jobs SET locked_until = $1 WHERE state = 'running'"
    )
    .bind(now() - Duration::seconds(1))
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?)
}

/// The most recent jobs, newest first.
pub async fn recent(db: &Db, limit: i64) -> Result<Vec<Job>> {
    let sql = format!("SELECT {COLUMNS} FROM jobs ORDER BY id DESC LIMIT $1");
    let rows: Vec<Row> = on_db!(db, read, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(limit)
    .fetch_all(p)
    .await)?;
    Ok(rows.into_iter().map(job).collect())
}

/// A recurring job as the administrators' jobs page shows it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ScheduleStatus {
    pub name: String,
    pub every_seconds: i64,
    pub next_run_at: DateTime<Utc>,
    pub last_run_at: Option<DateTime<Utc>>,
    pub last_job_id: Option<i64>,
}

/// Every recurring schedule that exists (a schedule's row appears when its runner first starts).
pub async fn list_schedules(db: &Db) -> Result<Vec<ScheduleStatus>> {
    type ScheduleRow = (
        String,
        i64,
        DateTime<Utc>,
        Option<DateTime<Utc>>,
        Option<i64>,
    );
    let rows: Vec<ScheduleRow> = on_db!(db, read, |p| {
        sqlx::query_as(
        "SELECT name, every_seconds, next_run_at, last_run_at, last_job_id FROM schedules ORDER BY name"
    )
    .fetch_all(p)
    .await
    })?;
    Ok(rows
        .into_iter()
        .map(|r| ScheduleStatus {
            name: r.0,
            every_seconds: r.1,
            next_run_at: r.2,
            last_run_at: r.3,
            last_job_id: r.4,
        })
        .collect())
}
