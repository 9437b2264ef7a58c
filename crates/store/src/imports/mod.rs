//! Imports (导入): the uploaded file and its mapping, the counts of the dry run and of the write,
//! the rows that failed with their reasons (and users' corrections), and what the write did so
//! that it can be reverted. The write's position is advanced in the same transaction as each
//! chunk of records, so a restarted import goes on exactly where the last commit left it.
//!
//! These functions know nothing of permissions: the service checks that the caller may import
//! into the module and owns the import (or administers the system) before calling them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::{Db, Result, StoreError, Tx, now, on_db, on_tx};

mod failed;
mod items;

pub use failed::{
    ErrorRow, clear_errors, error_lines, error_row_at, errors, fix_row, mark_done, put_errors,
};
pub use items::{Item, Written, add_items, items, versions};

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Import {
    pub id: i64,
    pub module: String,
    pub file_name: String,
    #[serde(skip)]
    pub file_path: String,
    pub file_size: i64,
    /// csv or xlsx.
    pub format: String,
    /// UTF-8, GB18030, UTF-16LE; empty for xlsx.
    pub encoding: String,
    pub sheet: Option<String>,
    pub headers: Vec<String>,
    /// Per column of the file, the field it fills (`None`: ignored).
    pub mapping: Option<Vec<Option<String>>>,
    /// skip, update or create.
    pub on_duplicate: String,
    /// The public pool new customers go into (with no owner), instead of the importing user.
    pub pool_id: Option<i64>,
    /// uploaded, validating, validated, queued, running, done, failed, cancelled, reverting, reverted.
    pub state: String,
    pub total_rows: i64,
    pub error_rows: i64,
    pub duplicate_rows: i64,
    pub created_rows: i64,
    pub updated_rows: i64,
    pub skipped_rows: i64,
    pub reverted_rows: i64,
    /// Records a revert left as they were: changed by someone since the import wrote them.
    pub kept_rows: i64,
    /// Rows of the file the write has finished.
    pub position: i64,
    /// An i18n key when the import stopped on an error of the file itself.
    pub message: Option<String>,
    /// The message's Fluent arguments (the row and column it names, a limit).
    pub message_args: BTreeMap<String, String>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub created_by: i64,
    pub created_by_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    module: String,
    file_name: String,
    file_path: String,
    file_size: i64,
    format: String,
    encoding: String,
    sheet: Option<String>,
    headers: String,
    mapping: Option<String>,
    on_duplicate: String,
    pool_id: Option<i64>,
    state: String,
    total_rows: i64,
    error_rows: i64,
    duplicate_rows: i64,
    created_rows: i64,
    updated_rows: i64,
    skipped_rows: i64,
    reverted_rows: i64,
    kept_rows: i64,
    position: i64,
    message: Option<String>,
    message_args: Option<String>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    created_by: i64,
    created_by_name: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Row> for Import {
    fn from(r: Row) -> Import {
        Import {
            id: r.id,
            module: r.module,
            file_name: r.file_name,
            file_path: r.file_path,
            file_size: r.file_size,
            format: r.format,
            encoding: r.encoding,
            sheet: r.sheet,
            headers: serde_json::from_str(&r.headers).unwrap_or_default(),
            mapping: r.mapping.and_then(|m| serde_json::from_str(&m).ok()),
            on_duplicate: r.on_duplicate,
            pool_id: r.pool_id,
            state: r.state,
            total_rows: r.total_rows,
            error_rows: r.error_rows,
            duplicate_rows: r.duplicate_rows,
            created_rows: r.created_rows,
            updated_rows: r.updated_rows,
            skipped_rows: r.skipped_rows,
            reverted_rows: r.reverted_rows,
            kept_rows: r.kept_rows,
            position: r.position,
            message: r.message,
            message_args: r
                .message_args
                .and_then(|a| serde_json::from_str(&a).ok())
                .unwrap_or_default(),
            started_at: r.started_at,
            finished_at: r.finished_at,
            created_by: r.created_by,
            created_by_name: r.created_by_name,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const SELECT: &str = "SELECT i.id, i.module, i.file_name, i.file_path, i.file_size, i.format, i.encoding, \
    i.sheet, i.headers, i.mapping, i.on_duplicate, i.pool_id, i.state, i.total_rows, i.error_rows, i.duplicate_rows, \
    i.created_rows, i.updated_rows, i.skipped_rows, i.reverted_rows, i.kept_rows, i.position, i.message, i.message_args, i.started_at, \
    i.finished_at, i.created_by, u.display_name AS created_by_name, i.created_at, i.updated_at \
    FROM imports i LEFT JOIN users u ON u.id = i.created_by";

/// A new import, as uploaded.
pub struct NewImport<'a> {
    pub module: &'a str,
    pub file_name: &'a str,
    pub file_path: &'a str,
    pub file_size: i64,
    pub format: &'a str,
    pub encoding: &'a str,
    pub sheet: Option<&'a str>,
    pub headers: &'a [String],
    pub mapping: &'a [Option<String>],
    pub created_by: i64,
}

pub async fn create(tx: &mut Tx, n: &NewImport<'_>) -> Result<i64> {
    let t = now();
    let headers = serde_json::to_string(n.headers).unwrap_or_default();
    let mapping = serde_json::to_string(n.mapping).unwrap_or_default();
    Ok(on_tx!(tx, |c| {
        sqlx::query_scalar(
        "INSERT INTO imports (module, file_name, file_path, file_size, format, encoding, sheet, headers, \
         mapping, state, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'uploaded', $10, $11, $11) RETURNING id"
    )
    .bind(n.module)
    .bind(n.file_name)
    .bind(n.file_path)
    .bind(n.file_size)
    .bind(n.format)
    .bind(n.encoding)
    .bind(n.sheet)
    .bind(&headers)
    .bind(&mapping)
    .bind(n.created_by)
    .bind(t)
    .fetch_one(&mut *c)
    .await
    })?)
}

pub async fn get(db: &Db, id: i64) -> Result<Import> {
    let sql = format!("{SELECT} WHERE i.id = $1");
    let row: Option<Row> = on_db!(db, read, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(id)
    .fetch_optional(p)
    .await)?;
    row.map(Import::from).ok_or(StoreError::NotFound)
}

/// Imports of a module, newest first; only `user`'s unless `user` is `None`.
pub async fn list(db: &Db, module: &str, user: Option<i64>, limit: i64) -> Result<Vec<Import>> {
    let sql = format!(
        "{SELECT} WHERE i.module = $1 AND ($2 IS NULL OR i.created_by = $2) ORDER BY i.id DESC LIMIT $3"
    );
    let rows: Vec<Row> = on_db!(db, read, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(module)
    .bind(user)
    .bind(limit)
    .fetch_all(p)
    .await)?;
    Ok(rows.into_iter().map(Import::from).collect())
}

/// Sets the mapping, the duplicate handling and the target pool (before a dry run or the write).
pub async fn set_mapping(
    db: &Db,
    id: i64,
    mapping: &[Option<String>],
    on_duplicate: &str,
    pool_id: Option<i64>,
) -> Result<()> {
    let m = serde_json::to_string(mapping).unwrap_or_default();
    on_db!(db, write, |p| {
        sqlx::query(
        "UPDATE imports SET mapping = $1, on_duplicate = $2, pool_id = $3, updated_at = $4 WHERE id = $5"
    )
    .bind(&m)
    .bind(on_duplicate)
    .bind(pool_id)
    .bind(now())
    .bind(id)
    .execute(p)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Moves the import to `state`, with an optional message key; `finished` stamps the end.
pub async fn set_state(
    tx: &mut Tx,
    id: i64,
    state: &str,
    message: Option<&str>,
    finished: bool,
) -> Result<()> {
    let t = now();
    on_tx!(tx, |c| sqlx::query(
        "UPDATE imports SET state = $1, message = $2, message_args = NULL, updated_at = $3, \
         finished_at = CASE WHEN $4 THEN $3 ELSE finished_at END, \
         started_at = CASE WHEN $1 = 'running' THEN COALESCE(started_at, $3) ELSE started_at END \
         WHERE id = $5"
    )
    .bind(state)
    .bind(message)
    .bind(t)
    .bind(finished)
    .bind(id)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Ends the import on an error of its file: the message key with its Fluent arguments.
pub async fn set_failed(tx: &mut Tx, id: i64, key: &str, args: &[(&str, String)]) -> Result<()> {
    set_state(tx, id, "failed", Some(key), true).await?;
    let args: BTreeMap<&str, &str> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let args = serde_json::to_string(&args).map_err(|e| StoreError::Config(e.to_string()))?;
    on_tx!(tx, |c| sqlx::query(
        "UPDATE imports SET message_args = $1 WHERE id = $2"
    )
    .bind(&args)
    .bind(id)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The dry run's figures.
pub async fn set_checked(
    tx: &mut Tx,
    id: i64,
    total: i64,
    errors: i64,
    duplicates: i64,
) -> Result<()> {
    on_tx!(tx, |c| {
        sqlx::query(
        "UPDATE imports SET total_rows = $1, error_rows = $2, duplicate_rows = $3, updated_at = $4 WHERE id = $5"
    )
    .bind(total)
    .bind(errors)
    .bind(duplicates)
    .bind(now())
    .bind(id)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// What one chunk of the write did.
#[derive(Clone, Copy, Debug, Default)]
pub struct Progress {
    pub position: i64,
    pub created: i64,
    pub updated: i64,
    pub skipped: i64,
}

/// Advances the write in the chunk's transaction: the new position, the added counts, and the
/// rows still failing counted again (fixed rows written leave the count).
pub async fn advance(tx: &mut Tx, id: i64, p: &Progress) -> Result<()> {
    on_tx!(tx, |c| {
        sqlx::query(
        "UPDATE imports SET position = $1, created_rows = created_rows + $2, updated_rows = updated_rows + $3, \
         skipped_rows = skipped_rows + $4, error_rows = (SELECT COUNT(*) FROM import_rows r \
         WHERE r.import_id = $6 AND r.fixed = FALSE AND r.done = FALSE), updated_at = $5 WHERE id = $6"
    )
    .bind(p.position)
    .bind(p.created)
    .bind(p.updated)
    .bind(p.skipped)
    .bind(now())
    .bind(id)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Starts a write from the top (a fresh run after a dry run); error counts start again too.
pub async fn reset_write(tx: &mut Tx, id: i64) -> Result<()> {
    on_tx!(tx, |c| {
        sqlx::query(
        "UPDATE imports SET position = 0, created_rows = 0, updated_rows = 0, skipped_rows = 0, \
         error_rows = 0, started_at = NULL, finished_at = NULL, message = NULL, message_args = NULL WHERE id = $1"
    )
    .bind(id)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Counts a revert's progress: `n` records put back, `kept` left as they were.
pub async fn add_reverted(tx: &mut Tx, id: i64, n: i64, kept: i64) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE imports SET reverted_rows = reverted_rows + $1, kept_rows = kept_rows + $4, \
         updated_at = $2 WHERE id = $3"
    )
    .bind(n)
    .bind(now())
    .bind(id)
    .bind(kept)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The mapping a user chose last time for a module: header → field code.
pub async fn remembered_mapping(db: &Db, user_id: i64, module: &str) -> Result<Value> {
    let m: Option<String> = on_db!(db, read, |p| sqlx::query_scalar(
        "SELECT mapping FROM import_mappings WHERE user_id = $1 AND module = $2"
    )
    .bind(user_id)
    .bind(module)
    .fetch_optional(p)
    .await)?;
    Ok(m.and_then(|m| serde_json::from_str(&m).ok())
        .unwrap_or(Value::Null))
}

pub async fn remember_mapping(db: &Db, user_id: i64, module: &str, mapping: &Value) -> Result<()> {
    on_db!(db, write, |p| sqlx::query(
        "INSERT INTO import_mappings (user_id, module, mapping) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id, module) DO UPDATE SET mapping = excluded.mapping"
    )
    .bind(user_id)
    .bind(module)
    .bind(mapping.to_string())
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}
