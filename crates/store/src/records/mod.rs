//! Generic storage for the engine's modules: one implementation of list, read, create, update
//! (with optimistic versions), soft delete and restore, lock, transfer and change history,
//! driven by each module's [`ModuleDef`]. Every read and write takes the caller's [`Grant`] and
//! applies its data scope in SQL.

use chrono::{DateTime, NaiveDate, Utc};
use guanxi_core::Grant;
use guanxi_core::engine::{FieldDef, FieldKind, Fields, ModuleDef};
use serde::Serialize;
use serde_json::{Map, Value, json};
use sqlx::types::Json;

use crate::custom_fields::expr;
use crate::{Db, StoreError, Tx, on_db, on_tx};

pub type Values = Map<String, Value>;

#[derive(Clone, Debug, Serialize)]
pub struct Record {
    pub id: i64,
    pub version: i32,
    pub owner_id: Option<i64>,
    pub owner_name: Option<String>,
    pub department_id: Option<i64>,
    pub locked: bool,
    pub deleted_at: Option<DateTime<Utc>>,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_by: Option<i64>,
    pub updated_at: DateTime<Utc>,
    /// The module's fields by code.
    #[serde(flatten)]
    pub values: Values,
}

impl Record {
    pub fn title(&self, def: &ModuleDef) -> String {
        self.values
            .get(def.title)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("not found")]
    NotFound,
    /// Someone saved a newer version; here it is.
    #[error("version conflict")]
    Conflict(Box<Record>),
    #[error("record is locked")]
    Locked,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for RecordError {
    fn from(e: sqlx::Error) -> Self {
        RecordError::Store(e.into())
    }
}

type Result<T, E = RecordError> = std::result::Result<T, E>;

/// A typed value for a bind parameter.
#[derive(Clone, Debug, PartialEq)]
pub enum Bind {
    Text(Option<String>),
    Int(Option<i64>),
    Bool(Option<bool>),
    Date(Option<NaiveDate>),
    Time(Option<DateTime<Utc>>),
    Float(Option<f64>),
    Json(Option<Value>),
}

/// Converts an API value to the column's type; `None` when the value does not fit the kind
/// (callers validate first, so this is a last line of defence).
pub fn to_bind(kind: FieldKind, v: &Value) -> Option<Bind> {
    if v.is_null() {
        return Some(match kind {
            k if k.is_integer() => Bind::Int(None),
            FieldKind::Decimal | FieldKind::Percent => Bind::Float(None),
            FieldKind::MultiSelect => Bind::Json(None),
            FieldKind::Checkbox => Bind::Bool(None),
            FieldKind::Date => Bind::Date(None),
            FieldKind::DateTime => Bind::Time(None),
            _ => Bind::Text(None),
        });
    }
    Some(match kind {
        k if k.is_integer() => Bind::Int(Some(v.as_i64()?)),
        FieldKind::Decimal | FieldKind::Percent => Bind::Float(Some(v.as_f64()?)),
        FieldKind::MultiSelect => Bind::Json(Some(v.clone())),
        FieldKind::Checkbox => Bind::Bool(Some(v.as_bool()?)),
        FieldKind::Date => Bind::Date(Some(
            NaiveDate::parse_from_str(v.as_str()?, "%Y-%m-%d").ok()?,
        )),
        FieldKind::DateTime => Bind::Time(Some(
            DateTime::parse_from_rfc3339(v.as_str()?)
                .ok()?
                .with_timezone(&Utc),
        )),
        _ => Bind::Text(Some(v.as_str()?.to_owned())),
    })
}

macro_rules! bind_all {
    ($q:expr, $binds:expr) => {{
        let mut q = $q;
        for b in $binds {
            q = match b {
                Bind::Text(v) => q.bind(v.clone()),
                Bind::Int(v) => q.bind(*v),
                Bind::Bool(v) => q.bind(*v),
                Bind::Date(v) => q.bind(*v),
                Bind::Time(v) => q.bind(*v),
                Bind::Float(v) => q.bind(*v),
                Bind::Json(v) => q.bind(v.as_ref().map(sqlx::types::Json)),
            };
        }
        q
    }};
}

/// Reads one row into a [`Record`]; compiled once per backend inside `on_db!`.
macro_rules! decode {
    ($fs:expr, $row:expr) => {{
        use sqlx::Row;
        let r = $row;
        let fs: &Fields = $fs;
        let mut values = Values::new();
        let columns: Vec<&FieldDef> = fs.columns().collect();
        for (i, f) in columns.iter().enumerate() {
            let idx = COMMON_COLUMNS + i;
            let v = match f.kind {
                k if k.is_integer() => json!(r.try_get::<Option<i64>, _>(idx)?),
                FieldKind::Checkbox => json!(r.try_get::<Option<bool>, _>(idx)?),
                FieldKind::Date => json!(
                    r.try_get::<Option<NaiveDate>, _>(idx)?
                        .map(|d| d.format("%Y-%m-%d").to_string())
                ),
                FieldKind::DateTime => json!(
                    r.try_get::<Option<DateTime<Utc>>, _>(idx)?
                        .map(|d| d.to_rfc3339())
                ),
                _ => json!(r.try_get::<Option<String>, _>(idx)?),
            };
            values.insert(f.code.to_owned(), v);
        }
        let custom: Option<Json<Value>> = r.try_get(COMMON_COLUMNS + columns.len())?;
        let custom = custom.map(|j| j.0).unwrap_or(Value::Null);
        for f in fs.custom() {
            values.insert(
                f.code.to_owned(),
                custom.get(f.code).cloned().unwrap_or(Value::Null),
            );
        }
        Ok::<Record, sqlx::Error>(Record {
            id: r.try_get(0)?,
            version: r.try_get(1)?,
            owner_id: r.try_get(2)?,
            owner_name: r.try_get(3)?,
            department_id: r.try_get(4)?,
            locked: r.try_get(5)?,
            deleted_at: r.try_get(6)?,
            created_by: r.try_get(7)?,
            created_at: r.try_get(8)?,
            updated_by: r.try_get(9)?,
            updated_at: r.try_get(10)?,
            values,
        })
    }};
}

const COMMON_COLUMNS: usize = 11;

// After the macros, which the submodules use.
/// The columns of `record_history` appended in bulk, in order: a record-level event (create,
/// delete) fills the first seven, a field change all ten.
pub const HISTORY_COLUMNS: [&str; 10] = [
    "module",
    "record_id",
    "version",
    "at",
    "user_id",
    "username",
    "event",
    "field",
    "old_value",
    "new_value",
];

mod batch;
pub mod collaborators;
mod cursor;
mod filter;
mod history;
mod narrow;
mod purge;
mod rows;
mod write;

pub use batch::{
    Match, NewRecord, delete_many, department_paths, find_many, insert_many, insert_records,
    insert_records_apart, match_key, read_find_many, titles, titles_in_scope, tx_find_many,
};
pub use cursor::{Cursor, cursor_of};
use cursor::{cursor_bind, sort_expr};
pub use filter::{Condition, Op};
pub use history::{HistoryEntry, history_entry, history_of};
pub use purge::{PurgeError, Reference, purge};
pub use rows::{Row, list_rows};
pub use write::{
    delete, department_of, history_line, insert, restore, set_locked, transfer, update,
};

fn select(fs: &Fields) -> String {
    let fields: Vec<String> = fs.columns().map(|f| format!("t.{}", f.code)).collect();
    format!(
        "SELECT t.id, t.version, t.owner_id, u.display_name AS owner_name, t.department_id, t.locked, \
         t.deleted_at, t.created_by, t.created_at, t.updated_by, t.updated_at, {}, t.custom \
         FROM {} t LEFT JOIN users u ON u.id = t.owner_id",
        fields.join(", "),
        fs.def.table
    )
}

fn scope(def: &ModuleDef, grant: &Grant) -> String {
    assert_eq!(
        grant.module(),
        def.module,
        "a grant for another module was passed to {}",
        def.code
    );
    let own = grant.sql_predicate("t.owner_id", "t.department_id");
    match collaborators::clause(def, grant) {
        Some(shared) => format!("({own} OR {shared})"),
        None => own,
    }
}

#[derive(Clone, Debug, Default)]
pub struct ListQuery {
    /// Quick search over the module's searchable fields.
    pub q: Option<String>,
    /// All must hold (AND).
    pub conditions: Vec<Condition>,
    /// A field to sort by (text-like or integer), `None` for newest first.
    pub sort: Option<&'static FieldDef>,
    pub descending: bool,
    pub after: Option<Cursor>,
    pub limit: i64,
    /// The recycle bin: deleted records only.
    pub deleted: bool,
    /// Only records whose `field = id` (related lists).
    pub related: Option<(&'static str, i64)>,
    /// Walk the order backwards (the "previous record" of a detail page).
    pub reverse: bool,
    /// Conditions joined with OR instead of AND.
    pub any: bool,
    /// Only these fields are read, besides the title, the sort field and the columns every
    /// record has (a list page reads the columns it shows); `None` reads every field.
    pub fields: Option<Vec<&'static str>>,
}

struct Sql {
    text: String,
    binds: Vec<Bind>,
}

impl Sql {
    fn param(&mut self, b: Bind) -> String {
        self.binds.push(b);
        format!("${}", self.binds.len())
    }
}

/// Records in scope matching the query, one page.
pub async fn list(db: &Db, fs: &Fields, grant: &Grant, q: &ListQuery) -> Result<Vec<Record>> {
    list_where(db, fs, &scope(fs.def, grant), q).await
}

/// Customers in the given pools (公海) matching the query: they have no owner, so no data scope
/// covers them; the caller has checked that the user is a member of these pools.
pub async fn list_pool(db: &Db, fs: &Fields, pools: &[i64], q: &ListQuery) -> Result<Vec<Record>> {
    let ids: Vec<String> = pools.iter().map(i64::to_string).collect();
    let within = if ids.is_empty() {
        "1 = 0".to_owned()
    } else {
        format!("t.pool_id IN ({}) AND t.owner_id IS NULL", ids.join(", "))
    };
    list_where(db, fs, &within, q).await
}

async fn list_where(db: &Db, fs: &Fields, within: &str, q: &ListQuery) -> Result<Vec<Record>> {
    let (sql, _) = matching(db, fs, within, q).await?;
    page(db, fs, q, sql).await
}

/// A page of the list in scope, and how many records match it counted up to `cap` (a list
/// shows "1,000+" rather than count a million rows). Only the first page counts; a first page
/// that is not full is its own count. No count when a quick search had to scan the scope
/// instead of reading the index: counting would cost more than the page.
pub async fn list_counted(
    db: &Db,
    fs: &Fields,
    grant: &Grant,
    q: &ListQuery,
    cap: i64,
) -> Result<(Vec<Record>, Option<i64>)> {
    let (sql, scanned) = matching(db, fs, &scope(fs.def, grant), q).await?;
    let text = format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM {} t WHERE {} LIMIT {}) x",
        fs.def.table,
        sql.text,
        cap + 1
    );
    let binds = sql.binds.clone();
    let items = page(db, fs, q, sql).await?;
    let count = if scanned || q.after.is_some() {
        None
    } else if (items.len() as i64) < q.limit {
        Some(items.len() as i64)
    } else {
        let n: i64 = on_db!(db, read, |p| {
            bind_all!(
                sqlx::query_scalar(sqlx::AssertSqlSafe(text.as_str())),
                &binds
            )
            .fetch_one(p)
            .await
        })?;
        Some(n)
    };
    Ok((items, count))
}

/// The conditions of a list over `t` (after `WHERE`), and whether its quick search scans.
async fn matching(db: &Db, fs: &Fields, within: &str, q: &ListQuery) -> Result<(Sql, bool)> {
    let mut scanned = false;
    let mut sql = Sql {
        text: within.to_owned(),
        binds: vec![],
    };
    sql.text += if q.deleted {
        " AND t.deleted_at IS NOT NULL"
    } else {
        " AND t.deleted_at IS NULL"
    };
    if let Some((field, id)) = q.related {
        let p = sql.param(Bind::Int(Some(id)));
        sql.text += &format!(" AND t.{field} = {p}");
    }
    let searchable = fs.iter().any(|f| f.searchable && !f.custom);
    if let Some(text) =
        q.q.as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty() && searchable)
    {
        // Rare grams: candidates come from the search index. Common ones (in thousands of
        // records): the ordered scan below finds a page of matches quickly by itself.
        let found = crate::search::candidates(db, fs.def.code, text).await?;
        let narrow = narrow::narrow_scope(db, fs, within, &found, q.limit).await?;
        match found {
            crate::search::Candidates::Scan => scanned = true,
            crate::search::Candidates::Grams { dense: true, .. } if !narrow => scanned = true,
            crate::search::Candidates::Match { .. } | crate::search::Candidates::Grams { .. } => {
                let mut sub = narrow::candidate_ids(&found, fs.def.code, &mut sql);
                // With a narrow scope, the candidates are first intersected with the ids in
                // scope.
                if narrow {
                    sub += &format!(
                        " INTERSECT SELECT t.id FROM {} t WHERE {within}",
                        fs.def.table
                    );
                }
                sql.text += &format!(" AND t.id IN ({sub})");
            }
            crate::search::Candidates::Ids(ids) if ids.is_empty() => sql.text += " AND 1 = 0",
            crate::search::Candidates::Ids(ids) => {
                // Integers only: written into the statement, no parameter limit to meet.
                let list: Vec<String> = ids.iter().map(i64::to_string).collect();
                sql.text += &format!(" AND t.id IN ({})", list.join(", "));
            }
        }
        let p = sql.param(Bind::Text(Some(format!("%{}%", text.to_lowercase()))));
        // SQLite's LIKE already ignores the case of ASCII letters, the only ones its LOWER()
        // changes: no LOWER() there, which a dense query's scan evaluated on every row.
        let sqlite = db.backend() == crate::Backend::Sqlite;
        let ors: Vec<String> = fs
            .iter()
            .filter(|f| f.searchable && !f.custom)
            .map(|f| {
                if sqlite {
                    format!("t.{} LIKE {p}", f.code)
                } else {
                    format!("LOWER(t.{}) LIKE {p}", f.code)
                }
            })
            .collect();
        sql.text += &format!(" AND ({})", ors.join(" OR "));
    }
    let backend = db.backend();
    let mut conds = vec![];
    for c in &q.conditions {
        conds.push(filter::condition_sql(backend, c, &mut sql));
    }
    if !conds.is_empty() {
        let join = if q.any { " OR " } else { " AND " };
        sql.text += &format!(" AND ({})", conds.join(join));
    }
    Ok((sql, scanned))
}

/// One page of the records matching `cond` (from [`matching`]), in the list's order.
async fn page(db: &Db, fs: &Fields, q: &ListQuery, cond: Sql) -> Result<Vec<Record>> {
    let backend = db.backend();
    // Reading and decoding every column of every row was a quarter of a list page's work.
    let projected;
    let fs = match &q.fields {
        Some(codes) => {
            projected = Fields {
                def: fs.def,
                all: fs
                    .iter()
                    .filter(|f| {
                        f.code == fs.def.title
                            || codes.contains(&f.code)
                            || q.sort.is_some_and(|s| s.code == f.code)
                    })
                    .collect(),
            };
            &projected
        }
        None => fs,
    };
    let sql = page_sql(backend, q, select(fs), cond).0;
    Ok(on_db!(db, read, |p| {
        let rows = bind_all!(
            sqlx::query(sqlx::AssertSqlSafe(sql.text.as_str())),
            &sql.binds
        )
        .fetch_all(p)
        .await?;
        rows.iter()
            .map(|r| decode!(fs, r))
            .collect::<std::result::Result<Vec<_>, sqlx::Error>>()
    })?)
}

/// The statement of a page: `head` (a `SELECT … FROM table t …`), the list's conditions, the
/// cursor's bound, the order and the limit; with the sort key and the direction it orders by.
fn page_sql(
    backend: crate::Backend,
    q: &ListQuery,
    head: String,
    cond: Sql,
) -> (Sql, String, &'static str) {
    let mut sql = Sql {
        text: format!("{head} WHERE {}", cond.text),
        binds: cond.binds,
    };
    let key = sort_expr(backend, q.sort);
    let desc = (q.descending || q.sort.is_none()) != q.reverse;
    if let Some(c) = &q.after {
        let (cmp, v) = (
            if desc { "<" } else { ">" },
            cursor_bind(backend, q.sort, &c.value),
        );
        if q.sort.is_none() {
            let p = sql.param(Bind::Int(Some(c.id)));
            sql.text += &format!(" AND t.id {cmp} {p}");
        } else {
            let pv = sql.param(v);
            let pi = sql.param(Bind::Int(Some(c.id)));
            // A row-value comparison, plus the plain bound on the key that lets an index on
            // (key, id) — expression indexes included — start the page where it belongs.
            sql.text += &format!(" AND {key} {cmp}= {pv} AND ({key}, t.id) {cmp} ({pv}, {pi})");
        }
    }
    let dir = if desc { "DESC" } else { "ASC" };
    let limit = sql.param(Bind::Int(Some(q.limit)));
    if q.sort.is_none() {
        sql.text += &format!(" ORDER BY t.id {dir} LIMIT {limit}");
    } else {
        sql.text += &format!(" ORDER BY {key} {dir}, t.id {dir} LIMIT {limit}");
    }
    (sql, key, dir)
}

async fn fetch(db: &Db, fs: &Fields, grant: &Grant, id: i64, deleted: bool) -> Result<Record> {
    let sql = format!(
        "{} WHERE t.id = $1 AND {} AND t.deleted_at IS {}",
        select(fs),
        scope(fs.def, grant),
        if deleted { "NOT NULL" } else { "NULL" }
    );
    let rec = on_db!(db, read, |p| {
        match sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(id)
            .fetch_optional(p)
            .await?
        {
            Some(r) => decode!(fs, &r).map(Some),
            None => Ok(None),
        }
    })?;
    rec.ok_or(RecordError::NotFound)
}

/// One live record in scope.
pub async fn get(db: &Db, fs: &Fields, grant: &Grant, id: i64) -> Result<Record> {
    fetch(db, fs, grant, id, false).await
}

/// One deleted record in scope (in the recycle bin).
pub async fn get_deleted(db: &Db, fs: &Fields, grant: &Grant, id: i64) -> Result<Record> {
    fetch(db, fs, grant, id, true).await
}

/// A record as the open transaction sees it (any state, no scope check: the caller checks).
pub async fn tx_fetch(tx: &mut Tx, fs: &Fields, id: i64) -> Result<Option<Record>> {
    let sql = format!("{} WHERE t.id = $1", select(fs));
    Ok(on_tx!(tx, |c| {
        match sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(id)
            .fetch_optional(&mut *c)
            .await?
        {
            Some(r) => decode!(fs, &r).map(Some),
            None => Ok::<_, sqlx::Error>(None),
        }
    })?)
}

/// A live record (any owner) whose `field` equals `value`, other than `exclude`: for the
/// duplicate check, which names the record and its owner even to users outside its scope.
pub async fn find_duplicate(
    db: &Db,
    fs: &Fields,
    field: &FieldDef,
    value: &Value,
    exclude: Option<i64>,
) -> Result<Option<(i64, String, Option<String>)>> {
    let Some(bind) = to_bind(field.kind, value) else {
        return Ok(None);
    };
    let col = expr(db.backend(), field);
    let sql = format!(
        "SELECT t.id, t.{title}, u.display_name FROM {table} t LEFT JOIN users u ON u.id = t.owner_id \
         WHERE {col} = $1 AND t.deleted_at IS NULL AND t.id <> $2 ORDER BY t.id LIMIT 1",
        title = fs.def.title,
        table = fs.def.table,
    );
    let binds = [bind, Bind::Int(Some(exclude.unwrap_or(0)))];
    Ok(on_db!(db, read, |p| {
        bind_all!(
            sqlx::query_as::<_, (i64, String, Option<String>)>(sqlx::AssertSqlSafe(sql.as_str())),
            &binds
        )
        .fetch_optional(p)
        .await
    })?)
}
