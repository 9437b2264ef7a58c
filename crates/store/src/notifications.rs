//! In-app notifications (站内消息): one row per recipient, a kind (the message key's suffix),
//! its arguments and a link. Kinds are open-ended strings, so later modules add theirs without
//! touching this code; the UI renders `notification-<kind>` with the arguments.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::{Db, Result, Tx, now, on_db, on_tx};

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Notification {
    pub id: i64,
    pub kind: String,
    #[schema(value_type = Object)]
    pub args: Value,
    pub link: Option<String>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

type Row = (
    i64,
    String,
    String,
    Option<String>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

const COLUMNS: &str = "id, kind, args, link, created_at, read_at";

fn notification(r: Row) -> Notification {
    Notification {
        id: r.0,
        kind: r.1,
        args: serde_json::from_str(&r.2).unwrap_or(Value::Null),
        link: r.3,
        created_at: r.4,
        read_at: r.5,
    }
}

/// Adds a notification for `user_id` in the caller's transaction.
pub async fn add(
    tx: &mut Tx,
    user_id: i64,
    kind: &str,
    args: &Value,
    link: Option<&str>,
) -> Result<i64> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_scalar(
        "INSERT INTO notifications (user_id, kind, args, link, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id"
    )
    .bind(user_id)
    .bind(kind)
    .bind(args.to_string())
    .bind(link)
    .bind(now())
    .fetch_one(&mut *c)
    .await
    })?)
}

/// A user's notifications, newest first, before `before` (keyset).
pub async fn list(
    db: &Db,
    user_id: i64,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Notification>> {
    let rows: Vec<Row> = on_db!(db, read, |p| {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM notifications WHERE user_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"
        )))
        .bind(user_id)
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(p)
        .await
    })?;
    Ok(rows.into_iter().map(notification).collect())
}

/// A user's notifications newer than `after`, oldest first (what a live stream has not sent).
pub async fn after(db: &Db, user_id: i64, after: i64, limit: i64) -> Result<Vec<Notification>> {
    let rows: Vec<Row> = on_db!(db, read, |p| {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM notifications WHERE user_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        )))
        .bind(user_id)
        .bind(after)
        .bind(limit)
        .fetch_all(p)
        .await
    })?;
    Ok(rows.into_iter().map(notification).collect())
}

/// One notification of the user (`None` when it is not theirs).
pub async fn get(db: &Db, user_id: i64, id: i64) -> Result<Option<Notification>> {
    let row: Option<Row> = on_db!(db, read, |p| {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM notifications WHERE user_id = $1 AND id = $2"
        )))
        .bind(user_id)
        .bind(id)
        .fetch_optional(p)
        .await
    })?;
    Ok(row.map(notification))
}

pub async fn unread_count(db: &Db, user_id: i64) -> Result<i64> {
    Ok(on_db!(db, read, |p| sqlx::query_scalar(
        "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL"
    )
    .bind(user_id)
    .fetch_one(p)
    .await)?)
}

/// Marks one (or, with `None`, every) notification of the user read.
pub async fn mark_read(db: &Db, user_id: i64, id: Option<i64>) -> Result<u64> {
    Ok(on_db!(db, write, |p| {
        sqlx::query(
        "UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL AND ($3 IS NULL OR id = $3)"
    )
    .bind(now())
    .bind(user_id)
    .bind(id)
    .execute(p)
    .await
    .map(|r| r.rows_affected())
    })?)
}

/// The newest notification id of a user (the live stream sends what is newer).
pub async fn latest_id(db: &Db, user_id: i64) -> Result<i64> {
    Ok(on_db!(db, read, |p| sqlx::query_scalar(
        "SELECT COALESCE(MAX(id), 0) FROM notifications WHERE user_id = $1"
    )
    .bind(user_id)
    .fetch_one(p)
    .await)?)
}

/// The newest notification id and the unread count of a user in one query: what a live stream
/// compares to notice notifications (and reads) written by another server instance.
pub async fn summary(db: &Db, user_id: i64) -> Result<(i64, i64)> {
    Ok(on_db!(db, read, |p| sqlx::query_as(
        "SELECT COALESCE(MAX(id), 0), COUNT(*) FILTER (WHERE read_at IS NULL) \
         FROM notifications WHERE user_id = $1"
    )
    .bind(user_id)
    .fetch_one(p)
    .await)?)
}

/// Whether the session or API token (by digest) that opened a live stream still belongs to
/// `user_id` and is usable. Unlike signing in, it does not extend the session: an open tab
/// must not keep an idle session alive for ever.
pub async fn listener_alive(db: &Db, user_id: i64, digest: &str) -> Result<bool> {
    Ok(on_db!(db, read, |p| sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM users u WHERE u.id = $1 AND u.is_active = TRUE \
         AND (u.locked_until IS NULL OR u.locked_until < $3) \
         AND (EXISTS (SELECT 1 FROM sessions s WHERE s.id = $2 AND s.user_id = u.id \
                      AND s.expires_at > $3 AND s.mfa_pending = FALSE) \
           OR EXISTS (SELECT 1 FROM api_tokens t WHERE t.token_digest = $2 AND t.user_id = u.id \
                      AND t.revoked_at IS NULL)))"
    )
    .bind(user_id)
    .bind(digest)
    .bind(now())
    .fetch_one(p)
    .await)?)
}
