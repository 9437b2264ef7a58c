//! Attachments (资料上传): files on any record of the engine, stored in the database so that
//! every server instance sees them. Lists and metadata never read the content.
//!
//! These functions know nothing of data scopes: the caller must first load the record through
//! [`crate::records::get`] with the caller's `Grant`, which proves the record is in scope, and
//! then pass the same module and record id here. Every query is keyed on (module, record id,
//! attachment id), so an attachment is reachable only through the record it belongs to.

use chrono::{DateTime, Utc};
use guanxi_core::engine::ModuleDef;
use serde::Serialize;

use crate::audit::Actor;
use crate::{Db, Result, StoreError, Tx, now, on_db, on_tx};

/// An attachment's metadata (never its content).
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Attachment {
    pub id: i64,
    pub module: String,
    pub record_id: i64,
    pub file_name: String,
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// Hex SHA-256 digest of the content.
    pub sha256: String,
    pub uploaded_by: Option<i64>,
    /// The uploader's display name.
    pub uploader_name: Option<String>,
    pub uploaded_at: DateTime<Utc>,
}

/// A file to store; the caller has checked its name, size and type.
pub struct NewAttachment<'a> {
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub sha256: &'a str,
    pub content: &'a [u8],
}

const META: &str = "SELECT a.id, a.module, a.record_id, a.file_name, a.content_type, a.size, a.sha256, \
     a.uploaded_by, u.display_name AS uploader_name, a.uploaded_at \
     FROM attachments a LEFT JOIN users u ON u.id = a.uploaded_by";

/// The live attachments of a record, newest first, without content.
pub async fn list(db: &Db, def: &ModuleDef, record_id: i64) -> Result<Vec<Attachment>> {
    let sql = format!(
        "{META} WHERE a.module = $1 AND a.record_id = $2 AND a.deleted_at IS NULL ORDER BY a.id DESC"
    );
    Ok(on_db!(db, read, |p| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(def.code)
            .bind(record_id)
            .fetch_all(p)
            .await
    })?)
}

fn one_sql() -> String {
    format!(
        "{META} WHERE a.module = $1 AND a.record_id = $2 AND a.id = $3 AND a.deleted_at IS NULL"
    )
}

/// One live attachment of a record, without content.
pub async fn get_meta(db: &Db, def: &ModuleDef, record_id: i64, id: i64) -> Result<Attachment> {
    let sql = one_sql();
    let a: Option<Attachment> = on_db!(db, read, |p| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(def.code)
            .bind(record_id)
            .bind(id)
            .fetch_optional(p)
            .await
    })?;
    a.ok_or(StoreError::NotFound)
}

/// The content of one live attachment of a record.
pub async fn content(db: &Db, def: &ModuleDef, record_id: i64, id: i64) -> Result<Vec<u8>> {
    let c: Option<Vec<u8>> = on_db!(db, read, |p| {
        sqlx::query_scalar(
            "SELECT content FROM attachments \
             WHERE module = $1 AND record_id = $2 AND id = $3 AND deleted_at IS NULL",
        )
        .bind(def.code)
        .bind(record_id)
        .bind(id)
        .fetch_optional(p)
        .await
    })?;
    c.ok_or(StoreError::NotFound)
}

async fn tx_meta(tx: &mut Tx, def: &ModuleDef, record_id: i64, id: i64) -> Result<Attachment> {
    let sql = one_sql();
    let a: Option<Attachment> = on_tx!(tx, |c| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(def.code)
            .bind(record_id)
            .bind(id)
            .fetch_optional(&mut *c)
            .await
    })?;
    a.ok_or(StoreError::NotFound)
}

/// Stores a file on a record. The caller writes the audit entry in the same transaction.
pub async fn insert(
    tx: &mut Tx,
    def: &ModuleDef,
    record_id: i64,
    file: &NewAttachment<'_>,
    actor: &Actor,
) -> Result<Attachment> {
    let size = i64::try_from(file.content.len()).unwrap_or(i64::MAX);
    let id: i64 = on_tx!(tx, |c| {
        sqlx::query_scalar(
            "INSERT INTO attachments (module, record_id, file_name, content_type, size, sha256, \
             content, uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             RETURNING id",
        )
        .bind(def.code)
        .bind(record_id)
        .bind(file.file_name)
        .bind(file.content_type)
        .bind(size)
        .bind(file.sha256)
        .bind(file.content)
        .bind(actor.user_id)
        .bind(now())
        .fetch_one(&mut *c)
        .await
    })?;
    tx_meta(tx, def, record_id, id).await
}

/// Moves an attachment of a record out of sight (soft delete); returns what it was.
pub async fn delete(tx: &mut Tx, def: &ModuleDef, record_id: i64, id: i64) -> Result<Attachment> {
    let a = tx_meta(tx, def, record_id, id).await?;
    on_tx!(tx, |c| {
        sqlx::query(
            "UPDATE attachments SET deleted_at = $1 \
             WHERE module = $2 AND record_id = $3 AND id = $4 AND deleted_at IS NULL",
        )
        .bind(now())
        .bind(def.code)
        .bind(record_id)
        .bind(id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(a)
}
