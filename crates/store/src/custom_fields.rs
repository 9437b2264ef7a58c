//! Custom fields (扩展字段): administrators' fields on any engine module. Definitions live in
//! `custom_fields`; values in the module table's `custom` JSON column. A field marked indexed
//! gets an expression index over exactly the expression that filters and sorting use
//! ([`expr`]), so it is as fast as a built-in column.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, Utc};
use guanxi_core::engine::{FieldDef, FieldKind, Fields, ModuleDef};
use serde::Serialize;

use crate::{Backend, Db, Result, StoreError, Tx, now, on_db, on_tx};

#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct CustomField {
    pub id: i64,
    pub module: String,
    /// Always starts with `cf_`.
    pub code: String,
    /// text, long_text, integer, decimal, money, percent, date, date_time, select, multi_select,
    /// checkbox, phone, email, url, user, department, region, relation:<module>.
    pub kind: String,
    pub label_zh: String,
    pub label_en: String,
    pub required: bool,
    pub dictionary: Option<String>,
    pub indexed: bool,
    pub list: bool,
    pub hidden: bool,
    pub retired: bool,
    pub sort_order: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const SELECT: &str = "SELECT id, module, code, kind, label_zh, label_en, required, dictionary, indexed, list, \
    hidden, retired, sort_order, created_at, updated_at FROM custom_fields";

/// All definitions of a module, retired ones included (for the administration page).
pub async fn definitions(db: &Db, module: &str) -> Result<Vec<CustomField>> {
    let sql = format!("{SELECT} WHERE module = $1 ORDER BY sort_order, id");
    Ok(on_db!(db, read, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(module)
    .fetch_all(p)
    .await)?)
}

pub async fn get(db: &Db, id: i64) -> Result<CustomField> {
    let sql = format!("{SELECT} WHERE id = $1");
    on_db!(db, read, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(id)
    .fetch_optional(p)
    .await)?
    .ok_or(StoreError::NotFound)
}

/// Interned field definitions: identical definitions share one `&'static FieldDef`, so the
/// memory they take is bounded by the distinct definitions ever seen.
fn intern(cf: &CustomField) -> Option<&'static FieldDef> {
    type Key = (
        String,
        String,
        String,
        String,
        bool,
        Option<String>,
        bool,
        bool,
    );
    static TABLE: OnceLock<Mutex<HashMap<Key, &'static FieldDef>>> = OnceLock::new();
    let kind = FieldKind::from_code(&cf.kind)?;
    let key: Key = (
        cf.code.clone(),
        cf.kind.clone(),
        cf.label_zh.clone(),
        cf.label_en.clone(),
        cf.required,
        cf.dictionary.clone(),
        cf.indexed,
        cf.list,
    );
    let mut t = TABLE.get_or_init(Default::default).lock().ok()?;
    Some(*t.entry(key).or_insert_with(|| {
        Box::leak(Box::new(FieldDef::new_custom(
            cf.code.clone(),
            kind,
            cf.label_zh.clone(),
            cf.label_en.clone(),
            cf.required,
            cf.dictionary.clone(),
            cf.indexed,
            cf.list,
        )))
    }))
}

/// A module's fields now: built-in ones, then live custom fields (not hidden, not retired).
pub async fn fields(db: &Db, def: &'static ModuleDef) -> Result<Arc<Fields>> {
    crate::cache::through(db, crate::cache::Topic::Fields, def.code, async || {
        let sql = format!(
            "{SELECT} WHERE module = $1 AND retired = FALSE AND hidden = FALSE ORDER BY sort_order, id"
        );
        let defs: Vec<CustomField> = on_db!(db, read, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(def.code)
        .fetch_all(p)
        .await)?;
        let mut f = Fields::builtin(def);
        f.all.extend(defs.iter().filter_map(intern));
        Ok(Arc::new(f))
    })
    .await
}

/// Every field a module's records may hold a value of: built-in ones and all custom fields,
/// hidden and retired ones included (their values stay stored).
pub async fn all_fields(db: &Db, def: &'static ModuleDef) -> Result<Fields> {
    let mut f = Fields::builtin(def);
    f.all
        .extend(definitions(db, def.code).await?.iter().filter_map(as_field));
    Ok(f)
}

/// [`fields`] read through the caller's transaction (no second connection while it is held).
pub async fn tx_fields(tx: &mut Tx, def: &'static ModuleDef) -> Result<Arc<Fields>> {
    let sql = format!(
        "{SELECT} WHERE module = $1 AND retired = FALSE AND hidden = FALSE ORDER BY sort_order, id"
    );
    let defs: Vec<CustomField> = on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(def.code)
        .fetch_all(&mut *c)
        .await)?;
    let mut f = Fields::builtin(def);
    f.all.extend(defs.iter().filter_map(intern));
    Ok(Arc::new(f))
}

/// The SQL expression of a field's value in a query over `t` (the module table).
pub fn expr(backend: Backend, f: &FieldDef) -> String {
    if !f.custom {
        return format!("t.{}", f.code);
    }
    match backend {
        Backend::Sqlite => format!("json_extract(t.custom, '$.{}')", f.code),
        Backend::Postgres if f.kind.is_numeric() => format!("((t.custom->>'{}')::numeric)", f.code),
        Backend::Postgres => format!("(t.custom->>'{}')", f.code),
    }
}

fn index_name(def: &ModuleDef, code: &str) -> String {
    format!("cf_{}_{}", def.table, code.trim_start_matches("cf_"))
}

/// Creates (or drops) the expression indexes of a custom field: one over the value (filters)
/// and one over the sort key with the id (sorted, paged lists).
pub async fn set_index(
    tx: &mut Tx,
    backend: Backend,
    def: &ModuleDef,
    f: &FieldDef,
    on: bool,
) -> Result<()> {
    crate::cache::invalidate(crate::cache::Topic::Fields);
    let name = index_name(def, f.code);
    let value = expr(backend, f).replace("t.", "");
    let key = sort_key(backend, f).replace("t.", "");
    let statements = if on {
        vec![
            format!(
                "CREATE INDEX IF NOT EXISTS {name} ON {} (({value}))",
                def.table
            ),
            format!(
                "CREATE INDEX IF NOT EXISTS {name}_sort ON {} (({key}), id)",
                def.table
            ),
        ]
    } else {
        vec![
            format!("DROP INDEX IF EXISTS {name}"),
            format!("DROP INDEX IF EXISTS {name}_sort"),
        ]
    };
    for sql in statements {
        on_tx!(tx, |c| sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// The expression a list sorts a field by; NULL sorts as the empty value so keyset pages work.
pub fn sort_key(backend: Backend, f: &FieldDef) -> String {
    let dated = matches!(f.kind, FieldKind::Date | FieldKind::DateTime);
    if f.kind == FieldKind::Checkbox {
        // 1, 0, and -1 for empty, the same in both databases (a boolean column cannot fall
        // back to '' in PostgreSQL, and a custom value there is the text 'true' or 'false').
        let value = match (backend, f.custom) {
            (Backend::Postgres, true) => format!("({}::boolean)", expr(backend, f)),
            _ => expr(backend, f),
        };
        format!("COALESCE(CAST({value} AS INTEGER), -1)")
    } else if f.required && !f.custom {
        expr(backend, f)
    } else if dated && !f.custom && backend == Backend::Postgres {
        // Typed columns: the empty value is the earliest date PostgreSQL and chrono share.
        let empty = if f.kind == FieldKind::Date {
            "DATE '0001-01-01'"
        } else {
            "TIMESTAMPTZ '0001-01-01 00:00:00+00'"
        };
        format!("COALESCE({}, {empty})", expr(backend, f))
    } else if f.kind.is_numeric() {
        format!("COALESCE({}, 0)", expr(backend, f))
    } else {
        format!("COALESCE({}, '')", expr(backend, f))
    }
}

/// A list of codes as the sort key of a multi-select reads it: SQLite's `json_extract` writes
/// it compactly, PostgreSQL's `->>` with a space after each comma.
pub fn list_text(backend: Backend, items: &[serde_json::Value]) -> String {
    let parts: Vec<String> = items.iter().map(|i| i.to_string()).collect();
    let sep = if backend == Backend::Postgres {
        ", "
    } else {
        ","
    };
    format!("[{}]", parts.join(sep))
}

pub struct Input<'a> {
    pub kind: &'a str,
    pub label_zh: &'a str,
    pub label_en: &'a str,
    pub required: bool,
    pub dictionary: Option<&'a str>,
    pub indexed: bool,
    pub list: bool,
    pub hidden: bool,
    pub retired: bool,
    pub sort_order: i32,
}

pub async fn insert(tx: &mut Tx, module: &str, code: &str, i: &Input<'_>) -> Result<i64> {
    crate::cache::invalidate(crate::cache::Topic::Fields);
    let t = now();
    Ok(on_tx!(tx, |c| {
        sqlx::query_scalar(
            "INSERT INTO custom_fields (module, code, kind, label_zh, label_en, required, dictionary, indexed, list, \
             hidden, retired, sort_order, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id",
        )
        .bind(module)
        .bind(code)
        .bind(i.kind)
        .bind(i.label_zh)
        .bind(i.label_en)
        .bind(i.required)
        .bind(i.dictionary)
        .bind(i.indexed)
        .bind(i.list)
        .bind(i.hidden)
        .bind(i.retired)
        .bind(i.sort_order)
        .bind(t)
        .fetch_one(&mut *c)
        .await
    })?)
}

/// Relabels, reorders, hides, retires or (un)indexes a field; its code and kind never change.
pub async fn update(tx: &mut Tx, id: i64, i: &Input<'_>) -> Result<()> {
    crate::cache::invalidate(crate::cache::Topic::Fields);
    let n = on_tx!(tx, |c| {
        sqlx::query(
            "UPDATE custom_fields SET label_zh = $1, label_en = $2, required = $3, indexed = $4, list = $5, \
             hidden = $6, retired = $7, sort_order = $8, updated_at = $9 WHERE id = $10",
        )
        .bind(i.label_zh)
        .bind(i.label_en)
        .bind(i.required)
        .bind(i.indexed)
        .bind(i.list)
        .bind(i.hidden)
        .bind(i.retired)
        .bind(i.sort_order)
        .bind(now())
        .bind(id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// An interned definition for a row, for callers that need the `FieldDef` (index creation).
pub fn as_field(cf: &CustomField) -> Option<&'static FieldDef> {
    intern(cf)
}
