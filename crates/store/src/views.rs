//! Saved list views (视图): a list's query string (filters, search, sort) and chosen columns,
//! personal or shared with everyone who can see the module.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{Db, Result, StoreError, Tx, now, on_db, on_tx};

#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct SavedView {
    pub id: i64,
    pub module: String,
    pub owner_id: i64,
    pub name: String,
    /// The list's query string, e.g. `q=杭州&sort=name&order=asc&f.industry.eq=it`.
    pub query: String,
    /// Field codes of the chosen columns, comma-separated, in order.
    pub columns: String,
    pub shared: bool,
    pub created_at: DateTime<Utc>,
}

const SELECT: &str =
    "SELECT id, module, owner_id, name, query, columns, shared, created_at FROM saved_views";

/// The user's own views and the shared ones of a module.
pub async fn visible(db: &Db, module: &str, user_id: i64) -> Result<Vec<SavedView>> {
    let sql = format!(
        "{SELECT} WHERE module = $1 AND (owner_id = $2 OR shared = TRUE) ORDER BY shared, id"
    );
    Ok(on_db!(db, read, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(module)
    .bind(user_id)
    .fetch_all(p)
    .await)?)
}

pub async fn get(db: &Db, id: i64) -> Result<SavedView> {
    let sql = format!("{SELECT} WHERE id = $1");
    on_db!(db, read, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(id)
    .fetch_optional(p)
    .await)?
    .ok_or(StoreError::NotFound)
}

pub async fn insert(
    tx: &mut Tx,
    module: &str,
    owner_id: i64,
    name: &str,
    query: &str,
    columns: &str,
    shared: bool,
) -> Result<i64> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_scalar(
            "INSERT INTO saved_views (module, owner_id, name, query, columns, shared, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(module)
        .bind(owner_id)
        .bind(name)
        .bind(query)
        .bind(columns)
        .bind(shared)
        .bind(now())
        .fetch_one(&mut *c)
        .await
    })?)
}

pub async fn delete(tx: &mut Tx, id: i64) -> Result<()> {
    on_tx!(tx, |c| sqlx::query("DELETE FROM saved_views WHERE id = $1")
        .bind(id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}
