//! Pages of a list as plain rows of chosen fields: what an export reads, a million rows in
//! pages. SQLite writes each page as one JSON text, so its driver hands over one value per page
//! instead of one row (with a copy of each of its values) at a time: that per-row work was most
//! of an export's time. PostgreSQL sends plain rows, which its driver reads cheaply, while
//! building the JSON on the server took twice as long as the query itself.

use chrono::{DateTime, NaiveDate, Utc};
use guanxi_core::Grant;
use guanxi_core::engine::{FieldDef, FieldKind, Fields};
use serde_json::{Value, json};
use sqlx::Row as _;
use sqlx::postgres::{PgPool, PgRow};
use sqlx::sqlite::SqlitePool;
use sqlx::types::Json;

use super::cursor::cursor_after;
use super::{Bind, Cursor, ListQuery, RecordError, Result, Sql, matching, page_sql, scope};
use crate::{Backend, Db, StoreError};

/// Fields per nested list of a row.
const GROUP: usize = 90;

/// One record of [`list_rows`].
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub id: i64,
    /// The owner's display name.
    pub owner_name: Option<String>,
    /// When it last changed, as RFC 3339 text.
    pub updated_at: Option<String>,
    /// The values of the chosen fields, in their order, as a [`super::Record`] holds them.
    pub values: Vec<Value>,
}

/// The stored value of a field in a page's JSON.
fn column(backend: Backend, f: &FieldDef) -> String {
    match (f.custom, backend) {
        (false, _) => format!("t.{}", f.code),
        // JSON as JSON (a list stays a list, true stays true).
        (true, Backend::Sqlite) => format!("t.custom -> '$.{}'", f.code),
        (true, Backend::Postgres) => format!("t.custom -> '{}'", f.code),
    }
}

/// A stored value as a [`super::Record`] holds it: SQLite stores a checkbox as 0 or 1.
fn held(f: &FieldDef, v: Value) -> Value {
    match (f.kind, v) {
        (FieldKind::Checkbox, Value::Number(n)) => Value::Bool(n.as_i64() != Some(0)),
        (_, v) => v,
    }
}

/// The records in scope matching `q` (its `fields` are ignored), one page of `q.limit`, as
/// rows of the values of `cols`; with the cursor after the page, `None` after the last one.
pub async fn list_rows(
    db: &Db,
    fs: &Fields,
    grant: &Grant,
    q: &ListQuery,
    cols: &[&FieldDef],
) -> Result<(Vec<Row>, Option<Cursor>)> {
    let (cond, _) = matching(db, fs, &scope(fs.def, grant), q).await?;
    let (rows, last_sort) = match db {
        Db::Sqlite { read, .. } => sqlite_page(read, fs, q, cols, cond).await?,
        Db::Postgres(pool) => pg_page(pool, fs, q, cols, cond).await?,
    };
    let next = match rows.last() {
        Some(last) if rows.len() as i64 >= q.limit => Some(cursor_after(
            last.id,
            q.sort,
            q.sort.zip(last_sort).map(|(f, v)| held(f, v)),
        )),
        _ => None,
    };
    Ok((rows, next))
}

/// The selected items of a page: id, sort value, owner's name, time of the last change, then
/// the chosen fields' values.
fn head_items(backend: Backend, q: &ListQuery) -> Vec<String> {
    let sort = q
        .sort
        .map_or_else(|| "NULL".to_owned(), |f| column(backend, f));
    vec![
        "t.id".to_owned(),
        sort,
        "u.display_name".into(),
        "t.updated_at".into(),
    ]
}

fn from_clause(fs: &Fields) -> String {
    format!(
        "FROM {} t LEFT JOIN users u ON u.id = t.owner_id",
        fs.def.table
    )
}

/// SQLite: the page as one JSON text, from which the rows and the last row's sort value are
/// read.
async fn sqlite_page(
    pool: &SqlitePool,
    fs: &Fields,
    q: &ListQuery,
    cols: &[&FieldDef],
    cond: Sql,
) -> Result<(Vec<Row>, Option<Value>)> {
    let backend = Backend::Sqlite;
    let mut items = head_items(backend, q);
    // The fields in nested lists of up to GROUP (a function takes 100 arguments at most).
    for group in cols.chunks(GROUP) {
        let parts: Vec<String> = group.iter().map(|f| column(backend, f)).collect();
        items.push(format!("json_array({})", parts.join(", ")));
    }
    let head = format!(
        "SELECT json_array({}) AS r, {} AS k, t.id AS i {}",
        items.join(", "),
        super::sort_expr(backend, q.sort),
        from_clause(fs)
    );
    let (sql, _, dir) = page_sql(backend, q, head, cond);
    // The rows joined in the page's order (SQLite's JSON subtype does not survive the
    // subquery, so its rows are joined as text).
    let text = format!(
        "SELECT '[' || COALESCE(group_concat(x.r, ',' ORDER BY x.k {dir}, x.i {dir}), '') || ']' FROM ({}) x",
        sql.text
    );
    let page: String = bind_all!(
        sqlx::query_scalar(sqlx::AssertSqlSafe(text.as_str())),
        &sql.binds
    )
    .fetch_one(pool)
    .await?;
    let page: Vec<Vec<Value>> = serde_json::from_str(&page).map_err(|e| {
        RecordError::Store(StoreError::Config(format!(
            "a page of {}: {e}",
            fs.def.code
        )))
    })?;
    let mut rows = Vec::with_capacity(page.len());
    let mut last_sort = None;
    for r in page {
        let mut it = r.into_iter();
        let id = it.next().and_then(|v| v.as_i64()).unwrap_or_default();
        let sort = it.next();
        let owner_name = it.next().and_then(|v| v.as_str().map(str::to_owned));
        let updated_at = it.next().and_then(|v| v.as_str().map(str::to_owned));
        let values: Vec<Value> = it
            .flat_map(|g| match g {
                Value::Array(a) => a,
                _ => vec![],
            })
            .zip(cols)
            .map(|(v, f)| held(f, v))
            .collect();
        if values.len() != cols.len() {
            return Err(RecordError::Store(StoreError::Config(format!(
                "a row of {} with {} values for {} fields",
                fs.def.code,
                values.len(),
                cols.len()
            ))));
        }
        last_sort = sort;
        rows.push(Row {
            id,
            owner_name,
            updated_at,
            values,
        });
    }
    Ok((rows, last_sort))
}

/// PostgreSQL: the page as plain rows. Its driver reads them from one buffer in the calling
/// task, and building JSON on the server (a type lookup per value) cost more than the query.
async fn pg_page(
    pool: &PgPool,
    fs: &Fields,
    q: &ListQuery,
    cols: &[&FieldDef],
    cond: Sql,
) -> Result<(Vec<Row>, Option<Value>)> {
    let backend = Backend::Postgres;
    let mut items = head_items(backend, q);
    items.extend(cols.iter().map(|f| column(backend, f)));
    let head = format!("SELECT {} {}", items.join(", "), from_clause(fs));
    let (sql, _, _) = page_sql(backend, q, head, cond);
    let found = bind_all!(
        sqlx::query(sqlx::AssertSqlSafe(sql.text.as_str())),
        &sql.binds
    )
    .fetch_all(pool)
    .await?;
    let mut rows = Vec::with_capacity(found.len());
    for r in &found {
        let mut values = Vec::with_capacity(cols.len());
        for (i, f) in cols.iter().enumerate() {
            values.push(pg_value(r, 4 + i, f)?);
        }
        rows.push(Row {
            id: r.try_get(0)?,
            owner_name: r.try_get(2)?,
            updated_at: r
                .try_get::<Option<DateTime<Utc>>, _>(3)?
                .map(|t| t.to_rfc3339()),
            values,
        });
    }
    let last_sort = match (q.sort, found.last()) {
        (Some(f), Some(r)) => Some(pg_value(r, 1, f)?),
        _ => None,
    };
    Ok((rows, last_sort))
}

/// A field's value in a PostgreSQL row, as a [`super::Record`] holds it.
fn pg_value(r: &PgRow, i: usize, f: &FieldDef) -> std::result::Result<Value, sqlx::Error> {
    if f.custom {
        return Ok(r
            .try_get::<Option<Json<Value>>, _>(i)?
            .map_or(Value::Null, |j| j.0));
    }
    Ok(match f.kind {
        k if k.is_integer() => json!(r.try_get::<Option<i64>, _>(i)?),
        FieldKind::Checkbox => json!(r.try_get::<Option<bool>, _>(i)?),
        FieldKind::Date => json!(
            r.try_get::<Option<NaiveDate>, _>(i)?
                .map(|d| d.format("%Y-%m-%d").to_string())
        ),
        FieldKind::DateTime => json!(
            r.try_get::<Option<DateTime<Utc>>, _>(i)?
                .map(|d| d.to_rfc3339())
        ),
        _ => json!(r.try_get::<Option<String>, _>(i)?),
    })
}
