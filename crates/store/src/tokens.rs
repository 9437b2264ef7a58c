//! Personal API tokens: shown once at creation, stored as a SHA-256 digest, revocable.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{Db, Result, StoreError, Tx, now, on_db, on_tx};

#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    /// The first characters of the token, to recognise it in the list.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub async fn create(
    tx: &mut Tx,
    user_id: i64,
    name: &str,
    prefix: &str,
    digest: &str,
) -> Result<i64> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_scalar(
            "INSERT INTO api_tokens (user_id, name, prefix, token_digest, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(user_id)
        .bind(name)
        .bind(prefix)
        .bind(digest)
        .bind(now())
        .fetch_one(&mut *c)
        .await
    })?)
}

pub async fn list(db: &Db, user_id: i64) -> Result<Vec<ApiToken>> {
    Ok(on_db!(db, read, |p| {
        sqlx::query_as(
            "SELECT id, name, prefix, created_at, last_used_at, revoked_at FROM api_tokens \
             WHERE user_id = $1 ORDER BY id DESC",
        )
        .bind(user_id)
        .fetch_all(p)
        .await
    })?)
}

/// Revokes one of the user's own tokens.
pub async fn revoke(tx: &mut Tx, user_id: i64, id: i64) -> Result<ApiToken> {
    crate::cache::invalidate(crate::cache::Topic::People);
    let t: Option<ApiToken> = on_tx!(tx, |c| {
        sqlx::query_as(
            "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 AND user_id = $3 \
             RETURNING id, name, prefix, created_at, last_used_at, revoked_at",
        )
        .bind(now())
        .bind(id)
        .bind(user_id)
        .fetch_optional(&mut *c)
        .await
    })?;
    t.ok_or(StoreError::NotFound)
}

/// The user of a live token, recording its use (at most once a minute).
pub async fn user_for(db: &Db, digest: &str) -> Result<Option<i64>> {
    let row: Option<(i64, i64, Option<DateTime<Utc>>)> = on_db!(db, read, |p| {
        sqlx::query_as(
            "SELECT id, user_id, last_used_at FROM api_tokens WHERE token_digest = $1 AND revoked_at IS NULL",
        )
        .bind(digest)
        .fetch_optional(p)
        .await
    })?;
    let Some((id, user_id, last)) = row else {
        return Ok(None);
    };
    if last.is_none_or(|l| now() - l > chrono::Duration::minutes(1)) {
        on_db!(db, write, |p| {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now())
                .bind(id)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
    }
    Ok(Some(user_id))
}
