//! The rows of an import's file that failed a check: their cells and reasons, users'
//! corrections made in place, and which of them a later run has written.

use serde::Serialize;
use serde_json::Value;

use crate::{Db, Result, StoreError, Tx, on_db, on_tx};

/// A row of the file that failed a check.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorRow {
    /// The row number as the spreadsheet shows it (header = 1).
    pub line: i64,
    pub cells: Vec<String>,
    /// `[{"field": code or column header, "message": i18n key, "args": {...}}]`.
    #[schema(value_type = Object)]
    pub errors: Value,
    /// Corrected by a user and now passing the checks.
    pub fixed: bool,
    /// Written by a later run.
    pub done: bool,
}

/// Records failed rows (replacing earlier results for the same lines).
pub async fn put_errors(tx: &mut Tx, id: i64, rows: &[(i64, Vec<String>, Value)]) -> Result<()> {
    for (line, cells, errors) in rows {
        let cells = serde_json::to_string(cells).unwrap_or_default();
        let errors = errors.to_string();
        on_tx!(tx, |c| {
            sqlx::query(
            "INSERT INTO import_rows (import_id, line, cells, errors) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (import_id, line) DO UPDATE SET cells = excluded.cells, errors = excluded.errors, \
             fixed = FALSE, done = FALSE"
        )
        .bind(id)
        .bind(*line)
        .bind(&cells)
        .bind(&errors)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

/// Forgets the failed rows (a new dry run).
pub async fn clear_errors(tx: &mut Tx, id: i64) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(
        "DELETE FROM import_rows WHERE import_id = $1"
    )
    .bind(id)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

type ErrRow = (i64, String, String, bool, bool);

fn error_row(r: ErrRow) -> ErrorRow {
    ErrorRow {
        line: r.0,
        cells: serde_json::from_str(&r.1).unwrap_or_default(),
        errors: serde_json::from_str(&r.2).unwrap_or(Value::Null),
        fixed: r.3,
        done: r.4,
    }
}

/// Failed rows after `after_line`, in file order; `open_only` leaves out fixed and written ones.
pub async fn errors(
    db: &Db,
    id: i64,
    after_line: i64,
    limit: i64,
    open_only: bool,
) -> Result<Vec<ErrorRow>> {
    let rows: Vec<ErrRow> = on_db!(db, read, |p| {
        sqlx::query_as(
        "SELECT line, cells, errors, fixed, done FROM import_rows WHERE import_id = $1 AND line > $2 \
         AND ($3 = FALSE OR (fixed = FALSE AND done = FALSE)) ORDER BY line LIMIT $4"
    )
    .bind(id)
    .bind(after_line)
    .bind(open_only)
    .bind(limit)
    .fetch_all(p)
    .await
    })?;
    Ok(rows.into_iter().map(error_row).collect())
}

pub async fn error_row_at(db: &Db, id: i64, line: i64) -> Result<ErrorRow> {
    let row: Option<ErrRow> = on_db!(db, read, |p| {
        sqlx::query_as(
        "SELECT line, cells, errors, fixed, done FROM import_rows WHERE import_id = $1 AND line = $2"
    )
    .bind(id)
    .bind(line)
    .fetch_optional(p)
    .await
    })?;
    row.map(error_row).ok_or(StoreError::NotFound)
}

/// Stores a user's correction of a failed row and whether it now passes.
pub async fn fix_row(
    db: &Db,
    id: i64,
    line: i64,
    cells: &[String],
    errors: &Value,
    fixed: bool,
) -> Result<()> {
    let cells = serde_json::to_string(cells).unwrap_or_default();
    let n = on_db!(db, write, |p| {
        sqlx::query(
        "UPDATE import_rows SET cells = $1, errors = $2, fixed = $3 WHERE import_id = $4 AND line = $5 AND done = FALSE"
    )
    .bind(&cells)
    .bind(errors.to_string())
    .bind(fixed)
    .bind(id)
    .bind(line)
    .execute(p)
    .await
    .map(|r| r.rows_affected())
    })?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// The lines of failed rows, with whether each was fixed (the write skips the others).
pub async fn error_lines(db: &Db, id: i64) -> Result<Vec<(i64, bool, bool)>> {
    Ok(on_db!(db, read, |p| sqlx::query_as(
        "SELECT line, fixed, done FROM import_rows WHERE import_id = $1 ORDER BY line"
    )
    .bind(id)
    .fetch_all(p)
    .await)?)
}

/// Marks corrected rows written (or failed again: then they are open once more).
pub async fn mark_done(tx: &mut Tx, id: i64, lines: &[i64]) -> Result<()> {
    for line in lines {
        on_tx!(tx, |c| sqlx::query(
            "UPDATE import_rows SET done = TRUE WHERE import_id = $1 AND line = $2"
        )
        .bind(id)
        .bind(*line)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    }
    Ok(())
}
