//! Pages of a list as plain rows of chosen fields: what an export reads, a million rows in
//! pages. The database writes each page as one JSON text, so the driver hands over one value
//! per page instead of one row (with a copy of each of its values) at a time — on SQLite that
//! per-row work was most of an export's time.

use guanxi_core::Grant;
use guanxi_core::engine::{FieldDef, FieldKind, Fields};
use serde_json::Value;

use super::cursor::cursor_after;
use super::{Bind, Cursor, ListQuery, RecordError, Result, matching, page_sql, scope};
use crate::{Backend, Db, StoreError, on_db};

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
    let backend = db.backend();
    let (cond, _) = matching(db, fs, &scope(fs.def, grant), q).await?;
    let sort = q
        .sort
        .map_or_else(|| "NULL".to_owned(), |f| column(backend, f));
    let mut items = vec![
        "t.id".to_owned(),
        sort,
        "u.display_name".into(),
        "t.updated_at".into(),
    ];
    let build = match backend {
        Backend::Sqlite => "json_array",
        Backend::Postgres => "json_build_array",
    };
    // The fields in nested lists of up to GROUP (a function takes 100 arguments at most).
    for group in cols.chunks(GROUP) {
        let parts: Vec<String> = group.iter().map(|f| column(backend, f)).collect();
        items.push(format!("{build}({})", parts.join(", ")));
    }
    let head = format!(
        "SELECT {build}({}) AS r, {} AS k, t.id AS i FROM {} t LEFT JOIN users u ON u.id = t.owner_id",
        items.join(", "),
        super::sort_expr(backend, q.sort),
        fs.def.table
    );
    let (sql, _, dir) = page_sql(backend, q, head, cond);
    // The rows joined in the page's order (SQLite's JSON subtype does not survive the
    // subquery, so its rows are joined as text).
    let text = match backend {
        Backend::Sqlite => format!(
            "SELECT '[' || COALESCE(group_concat(x.r, ',' ORDER BY x.k {dir}, x.i {dir}), '') || ']' FROM ({}) x",
            sql.text
        ),
        Backend::Postgres => format!(
            "SELECT COALESCE(json_agg(x.r ORDER BY x.k {dir}, x.i {dir}), '[]')::text FROM ({}) x",
            sql.text
        ),
    };
    let page: String = on_db!(db, read, |p| {
        bind_all!(
            sqlx::query_scalar(sqlx::AssertSqlSafe(text.as_str())),
            &sql.binds
        )
        .fetch_one(p)
        .await
    })?;
    let page: Vec<Vec<Value>> = serde_json::from_str(&page).map_err(|e| {
        RecordError::Store(StoreError::Config(format!(
            "a page of {}: {e}",
            fs.def.code
        )))
    })?;
    let full = page.len() as i64 >= q.limit;
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
    let next = match rows.last() {
        Some(last) if full => Some(cursor_after(
            last.id,
            q.sort,
            q.sort.zip(last_sort).map(|(f, v)| held(f, v)),
        )),
        _ => None,
    };
    Ok((rows, next))
}
