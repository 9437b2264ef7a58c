//! Browser sessions, stored in the database so several server instances share them. Only the
//! SHA-256 digest of the cookie's token is stored.

use chrono::{DateTime, Duration, Utc};

use crate::{Db, Result, Tx, now, on_db, on_tx};

/// How long a session lives without activity.
pub const IDLE_LIFETIME: Duration = Duration::hours(12);
/// A session waiting for its second factor expires quickly.
pub const MFA_LIFETIME: Duration = Duration::minutes(5);

pub async fn create(
    tx: &mut Tx,
    digest: &str,
    user_id: i64,
    mfa_pending: bool,
    ip: Option<&str>,
    user_agent: Option<&str>,
) -> Result<()> {
    let t = now();
    let expires = t + if mfa_pending {
        MFA_LIFETIME
    } else {
        IDLE_LIFETIME
    };
    on_tx!(tx, |c| {
        sqlx::query(
            "INSERT INTO sessions (id, user_id, mfa_pending, ip, user_agent, created_at, last_seen_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
        )
        .bind(digest)
        .bind(user_id)
        .bind(mfa_pending)
        .bind(ip)
        .bind(user_agent)
        .bind(t)
        .bind(expires)
        .execute(&mut *c)
        .await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// The user of a session waiting for its second factor.
pub async fn pending_mfa_user(db: &Db, digest: &str) -> Result<Option<i64>> {
    Ok(on_db!(db, read, |p| {
        sqlx::query_scalar(
            "SELECT user_id FROM sessions WHERE id = $1 AND mfa_pending = TRUE AND expires_at > $2",
        )
        .bind(digest)
        .bind(now())
        .fetch_optional(p)
        .await
    })?)
}

/// Slides the expiry forward; called at most once a minute per session.
pub async fn touch(db: &Db, digest: &str, last_seen: DateTime<Utc>) -> Result<()> {
    if now() - last_seen < Duration::minutes(1) {
        return Ok(());
    }
    let t = now();
    on_db!(db, write, |p| {
        sqlx::query("UPDATE sessions SET last_seen_at = $1, expires_at = $2 WHERE id = $3")
            .bind(t)
            .bind(t + IDLE_LIFETIME)
            .bind(digest)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn delete(tx: &mut Tx, digest: &str) -> Result<()> {
    crate::cache::invalidate(crate::cache::Topic::People);
    on_tx!(tx, |c| sqlx::query("DELETE FROM sessions WHERE id = $1")
        .bind(digest)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn delete_for_user(tx: &mut Tx, user_id: i64) -> Result<()> {
    crate::cache::invalidate(crate::cache::Topic::People);
    on_tx!(tx, |c| {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Removes expired sessions; run from time to time by the server.
pub async fn purge_expired(db: &Db) -> Result<u64> {
    crate::cache::invalidate(crate::cache::Topic::People);
    let r = on_db!(db, write, |p| {
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(now())
            .execute(p)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(r)
}
