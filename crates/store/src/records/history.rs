//! Reading a record's change history.

use chrono::{DateTime, Utc};
use guanxi_core::engine::ModuleDef;
use serde::Serialize;

use super::{RecordError, Result};
use crate::{Db, on_db};

#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct HistoryEntry {
    pub id: i64,
    pub record_id: i64,
    pub version: i32,
    pub at: DateTime<Utc>,
    pub user_id: Option<i64>,
    pub username: Option<String>,
    /// create, update, delete, restore, lock, unlock, transfer.
    pub event: String,
    pub field: Option<String>,
    /// JSON text of the value before.
    pub old_value: Option<String>,
    /// JSON text of the value after.
    pub new_value: Option<String>,
}

/// The change history of one record, newest first. The caller has checked the record is in scope.
pub async fn history_of(db: &Db, def: &ModuleDef, id: i64) -> Result<Vec<HistoryEntry>> {
    Ok(on_db!(db, read, |p| {
        sqlx::query_as(
            "SELECT id, record_id, version, at, user_id, username, event, field, old_value, new_value \
             FROM record_history WHERE module = $1 AND record_id = $2 ORDER BY id DESC",
        )
        .bind(def.code)
        .bind(id)
        .fetch_all(p)
        .await
    })?)
}

/// One history entry of a record.
pub async fn history_entry(db: &Db, def: &ModuleDef, id: i64, entry: i64) -> Result<HistoryEntry> {
    let e: Option<HistoryEntry> = on_db!(db, read, |p| {
        sqlx::query_as(
            "SELECT id, record_id, version, at, user_id, username, event, field, old_value, new_value \
             FROM record_history WHERE module = $1 AND record_id = $2 AND id = $3",
        )
        .bind(def.code)
        .bind(id)
        .bind(entry)
        .fetch_optional(p)
        .await
    })?;
    e.ok_or(RecordError::NotFound)
}
