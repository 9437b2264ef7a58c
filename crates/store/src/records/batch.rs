//! Writes of many records at once (imports): ids reserved up front, rows appended many per
//! statement (COPY on PostgreSQL), their change history and quick-search grams in bulk — all in
//! the caller's transaction, so a chunk and the import's position commit together.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use guanxi_core::engine::{FieldKind, Fields};
use serde_json::Value;

use super::{Bind, RecordError, Result, Values, to_bind};
use crate::audit::Actor;
use crate::bulk::{self, Val};
use crate::{Tx, now, on_tx};

/// A record to create: its owner and its checked values.
pub struct NewRecord {
    pub owner_id: Option<i64>,
    pub values: Values,
}

fn val(b: Bind) -> Val {
    match b {
        Bind::Text(v) => v.map_or(Val::Null, Val::Text),
        Bind::Int(v) => v.map_or(Val::Null, Val::Int),
        Bind::Bool(v) => v.map_or(Val::Null, Val::Bool),
        Bind::Date(v) => v.map_or(Val::Null, Val::Date),
        Bind::Time(v) => v.map_or(Val::Null, Val::Time),
        Bind::Float(v) => v.map_or(Val::Null, Val::Float),
        Bind::Json(v) => v.map_or(Val::Null, |j| Val::Text(j.to_string())),
    }
}

/// Reserves `n` new ids of a table, in order.
async fn reserve_ids(tx: &mut Tx, table: &str, n: usize) -> Result<Vec<i64>> {
    Ok(match tx {
        // One writer: nobody else can take ids while this transaction is open.
        Tx::Sqlite(c) => {
            let max: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT COALESCE(MAX(id), 0) FROM {table}"
            )))
            .fetch_one(&mut **c)
            .await?;
            (1..=n as i64).map(|i| max + i).collect()
        }
        Tx::Postgres(c) => sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, $1)"
        )))
        .bind(n as i64)
        .fetch_all(&mut **c)
        .await?,
    })
}

/// The department of each active user (a record's department is its owner's).
async fn departments(tx: &mut Tx) -> Result<HashMap<i64, Option<i64>>> {
    let rows: Vec<(i64, Option<i64>)> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT id, department_id FROM users"
    )
    .fetch_all(&mut *c)
    .await)?;
    Ok(rows.into_iter().collect())
}

/// The path of each user's department (a customer's pool, and so its fall-back deadline,
/// follows its owner's department).
pub async fn department_paths(tx: &mut Tx) -> Result<HashMap<i64, Option<String>>> {
    let rows: Vec<(i64, Option<String>)> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT u.id, d.path FROM users u LEFT JOIN departments d ON d.id = u.department_id"
    )
    .fetch_all(&mut *c)
    .await)?;
    Ok(rows.into_iter().collect())
}

/// Creates records with a `create` history line each and their search grams; returns the new
/// ids in the order of `rows`. Values are already checked.
pub async fn insert_many(
    tx: &mut Tx,
    fs: &Fields,
    rows: &[NewRecord],
    actor: &Actor,
) -> Result<Vec<i64>> {
    let rows = rows
        .iter()
        .map(|r| NewRecord {
            owner_id: r.owner_id,
            values: r.values.clone(),
        })
        .collect();
    insert_records(tx, fs, rows, actor, now(), vec![]).await
}

/// A value as its column takes it, moved out of the record's values (no copy of its text).
fn take_val(kind: FieldKind, v: Value) -> Option<Val> {
    Some(match (kind, v) {
        (_, Value::Null) => Val::Null,
        (FieldKind::MultiSelect, v) => Val::Text(v.to_string()),
        (k, Value::String(s)) if !k.is_integer() && is_text(k) => Val::Text(s),
        (k, v) => val(to_bind(k, &v)?),
    })
}

/// Kinds stored as the value's own text (everything but numbers, booleans, dates and times).
fn is_text(kind: FieldKind) -> bool {
    !matches!(
        kind,
        FieldKind::Decimal
            | FieldKind::Percent
            | FieldKind::MultiSelect
            | FieldKind::Checkbox
            | FieldKind::Date
            | FieldKind::DateTime
    )
}

/// [`insert_many`] taking the rows by value (their texts move into the statements), at the
/// write time `at`, with `extra` columns the caller computed — one value per row each (a
/// customer's fall-back deadline, say), taking the place of a field of the same name.
pub async fn insert_records(
    tx: &mut Tx,
    fs: &Fields,
    rows: Vec<NewRecord>,
    actor: &Actor,
    at: DateTime<Utc>,
    extra: Vec<(&'static str, Vec<Val>)>,
) -> Result<Vec<i64>> {
    let (ids, docs) = insert_records_apart(tx, fs, rows, actor, at, extra).await?;
    bulk::insert_docs(tx, fs.def.code, docs).await?;
    Ok(ids)
}

/// [`insert_records`] but for the quick-search documents of the new records, (id, document),
/// which it returns for the caller to write with [`crate::search::insert_docs`]: in the same
/// transaction, or — on PostgreSQL, where they are most of a bulk write's time — in one of
/// their own on another connection, committed before this one (documents of records that
/// never commit name ids no record will have, and no search finds them).
pub async fn insert_records_apart(
    tx: &mut Tx,
    fs: &Fields,
    rows: Vec<NewRecord>,
    actor: &Actor,
    at: DateTime<Utc>,
    extra: Vec<(&'static str, Vec<Val>)>,
) -> Result<(Vec<i64>, Vec<(i64, String)>)> {
    if rows.is_empty() {
        return Ok((vec![], vec![]));
    }
    if let Some((c, _)) = extra.iter().find(|(_, v)| v.len() != rows.len()) {
        return Err(RecordError::Store(crate::StoreError::Config(format!(
            "{c}: not one value per row"
        ))));
    }
    let ids = reserve_ids(tx, fs.def.table, rows.len()).await?;
    let depts = departments(tx).await?;
    let t = at;
    // Columns the system fills (a score, a deadline) keep their defaults unless a row has a value.
    let builtin: Vec<_> = fs
        .columns()
        .filter(|f| !extra.iter().any(|(c, _)| *c == f.code))
        .filter(|f| {
            !f.read_only
                || rows
                    .iter()
                    .any(|r| r.values.get(f.code).is_some_and(|v| !v.is_null()))
        })
        .collect();
    let custom_fields: Vec<_> = fs.custom().collect();
    let mut cols = vec![
        "id",
        "owner_id",
        "department_id",
        "created_by",
        "created_at",
        "updated_by",
        "updated_at",
    ];
    cols.extend(builtin.iter().map(|f| f.code));
    cols.push("custom");
    cols.extend(extra.iter().map(|(c, _)| *c));
    let mut extra: Vec<_> = extra.into_iter().map(|(_, v)| v.into_iter()).collect();
    let width = cols.len();
    let user = actor.user_id.map_or(Val::Null, Val::Int);
    let mut out = Vec::with_capacity(rows.len());
    let mut docs = Vec::with_capacity(rows.len());
    let mut history = Vec::with_capacity(rows.len());
    let mut text = String::new();
    for (r, id) in rows.into_iter().zip(&ids) {
        let mut values = r.values;
        let dept = r.owner_id.and_then(|o| depts.get(&o).copied().flatten());
        crate::search::text_into(fs, &values, &mut text);
        let doc = crate::search::document(&text);
        if !doc.is_empty() {
            docs.push((*id, doc));
        }
        let mut row = Vec::with_capacity(width);
        row.extend([
            Val::Int(*id),
            r.owner_id.map_or(Val::Null, Val::Int),
            dept.map_or(Val::Null, Val::Int),
            user.clone(),
            Val::Time(t),
            user.clone(),
            Val::Time(t),
        ]);
        for f in &builtin {
            let v = values.remove(f.code).unwrap_or(Value::Null);
            row.push(take_val(f.kind, v).ok_or(RecordError::NotFound)?);
        }
        let mut custom = Values::new();
        for f in &custom_fields {
            if let Some(v) = values.remove(f.code).filter(|v| !v.is_null()) {
                custom.insert(f.code.to_owned(), v);
            }
        }
        row.push(if custom.is_empty() {
            Val::Null
        } else {
            Val::Text(Value::Object(custom).to_string())
        });
        for e in &mut extra {
            row.push(e.next().unwrap_or(Val::Null));
        }
        out.push(row);
        history.push(vec![
            Val::Text(fs.def.code.to_owned()),
            Val::Int(*id),
            Val::Int(1),
            Val::Time(t),
            user.clone(),
            actor.username.clone().map_or(Val::Null, Val::Text),
            Val::Text("create".into()),
        ]);
    }
    bulk::insert(tx, fs.def.table, &cols, out).await?;
    bulk::insert(tx, "record_history", &super::HISTORY_COLUMNS[..7], history).await?;
    Ok((ids, docs))
}

/// Moves live, unlocked records to the recycle bin with a `delete` history line each; returns
/// the ids it moved (locked and already deleted ones are left as they are).
pub async fn delete_many(tx: &mut Tx, fs: &Fields, ids: &[i64], actor: &Actor) -> Result<Vec<i64>> {
    let mut moved = vec![];
    let t = now();
    for chunk in ids.chunks(500) {
        let params: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 3)).collect();
        let sql = format!(
            "UPDATE {} SET deleted_at = $1, version = version + 1, updated_by = $2, updated_at = $1 \
             WHERE id IN ({}) AND deleted_at IS NULL AND locked = FALSE RETURNING id, version",
            fs.def.table,
            params.join(", ")
        );
        let rows: Vec<(i64, i32)> = on_tx!(tx, |c| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(t)
                .bind(actor.user_id);
            for id in chunk {
                q = q.bind(*id);
            }
            q.fetch_all(&mut *c).await
        })?;
        let history = rows
            .iter()
            .map(|(id, version)| {
                vec![
                    Val::Text(fs.def.code.to_owned()),
                    Val::Int(*id),
                    Val::Int(i64::from(*version)),
                    Val::Time(t),
                    actor.user_id.map_or(Val::Null, Val::Int),
                    actor.username.clone().map_or(Val::Null, Val::Text),
                    Val::Text("delete".into()),
                ]
            })
            .collect();
        bulk::insert(tx, "record_history", &super::HISTORY_COLUMNS[..7], history).await?;
        moved.extend(rows.into_iter().map(|(id, _)| id));
    }
    Ok(moved)
}

/// A live record found by the value of one of its fields (duplicate checks of an import).
#[derive(Clone, Debug)]
pub struct Match {
    pub id: i64,
    pub title: String,
    pub owner_id: Option<i64>,
    pub department_id: Option<i64>,
    pub owner_name: Option<String>,
    pub locked: bool,
}

/// Live records (any owner) whose `field` is one of `values`, by the value's text: one query
/// per few hundred values instead of one per row. The first record per value wins.
///
/// On SQLite this reads through the writer's connection (so never call it inside a
/// transaction): an import checks each chunk here right before writing it, and the index
/// pages it reads are the ones the write then changes — one page cache holds them for both,
/// instead of every reader connection of the pool filling a cache of its own with them.
/// With `up_to`, only records up to that id are matched.
pub async fn find_many(
    db: &crate::Db,
    fs: &Fields,
    field: &guanxi_core::engine::FieldDef,
    values: &[Value],
    up_to: Option<i64>,
) -> Result<HashMap<String, Match>> {
    find_many_on(db, fs, field, values, up_to, true).await
}

/// [`find_many`] through the readers' connections, beside a write transaction that holds the
/// writer's (what was committed before it, nothing of it).
pub async fn read_find_many(
    db: &crate::Db,
    fs: &Fields,
    field: &guanxi_core::engine::FieldDef,
    values: &[Value],
    up_to: Option<i64>,
) -> Result<HashMap<String, Match>> {
    find_many_on(db, fs, field, values, up_to, false).await
}

async fn find_many_on(
    db: &crate::Db,
    fs: &Fields,
    field: &guanxi_core::engine::FieldDef,
    values: &[Value],
    up_to: Option<i64>,
    writer: bool,
) -> Result<HashMap<String, Match>> {
    let mut out = HashMap::new();
    for (sql, chunk) in match_queries(db.backend(), fs, field, values, up_to) {
        macro_rules! fetch {
            ($pool:expr) => {
                bind_all!(
                    sqlx::query_as::<_, MatchRow>(sqlx::AssertSqlSafe(sql.as_str())),
                    &chunk
                )
                .fetch_all($pool)
                .await?
            };
        }
        let rows: Vec<MatchRow> = match db {
            crate::Db::Sqlite { write, read, .. } => fetch!(if writer { write } else { read }),
            crate::Db::Postgres(p) => fetch!(p),
        };
        add_matches(&mut out, rows);
    }
    Ok(out)
}

/// [`find_many`] inside an open transaction, which also sees the records it wrote.
pub async fn tx_find_many(
    tx: &mut Tx,
    fs: &Fields,
    field: &guanxi_core::engine::FieldDef,
    values: &[Value],
    up_to: Option<i64>,
) -> Result<HashMap<String, Match>> {
    let mut out = HashMap::new();
    let backend = match tx {
        Tx::Sqlite(_) => crate::Backend::Sqlite,
        Tx::Postgres(_) => crate::Backend::Postgres,
    };
    for (sql, chunk) in match_queries(backend, fs, field, values, up_to) {
        let rows: Vec<MatchRow> = on_tx!(tx, |c| {
            bind_all!(
                sqlx::query_as::<_, MatchRow>(sqlx::AssertSqlSafe(sql.as_str())),
                &chunk
            )
            .fetch_all(&mut *c)
            .await
        })?;
        add_matches(&mut out, rows);
    }
    Ok(out)
}

type MatchRow = (
    i64,
    String,
    Option<i64>,
    Option<i64>,
    Option<String>,
    bool,
    Option<String>,
);

/// The statements of a [`find_many`], a few hundred values each, with their values.
fn match_queries(
    backend: crate::Backend,
    fs: &Fields,
    field: &guanxi_core::engine::FieldDef,
    values: &[Value],
    up_to: Option<i64>,
) -> Vec<(String, Vec<Bind>)> {
    let col = crate::custom_fields::expr(backend, field);
    // Records up to an id only: those that were there before an import whose own records
    // need no read (see `find_many`), while the table's indexes are set aside.
    let bound = up_to.map_or(String::new(), |id| format!(" AND t.id <= {id}"));
    let binds: Vec<Bind> = values
        .iter()
        .filter_map(|v| to_bind(field.kind, v))
        .filter(|b| {
            !matches!(
                b,
                Bind::Text(None) | Bind::Int(None) | Bind::Float(None) | Bind::Json(None)
            )
        })
        .collect();
    binds
        .chunks(500)
        .map(|chunk| {
            // SQLite: anonymous parameters. For each numbered one, sqlx asks SQLite for its
            // name, which SQLite finds by walking the statement's list of names: quadratic in
            // the parameters (2.5 % of an import's time at 500 a statement).
            let params: Vec<String> = (1..=chunk.len())
                .map(|i| match backend {
                    crate::Backend::Sqlite => "?".to_owned(),
                    crate::Backend::Postgres => format!("${i}"),
                })
                .collect();
            let sql = format!(
                "SELECT t.id, t.{title}, t.owner_id, t.department_id, u.display_name, t.locked, \
                 CAST({col} AS TEXT) FROM {table} t LEFT JOIN users u ON u.id = t.owner_id \
                 WHERE {col} IN ({}) AND t.deleted_at IS NULL{bound} ORDER BY t.id",
                params.join(", "),
                title = fs.def.title,
                table = fs.def.table,
            );
            (sql, chunk.to_vec())
        })
        .collect()
}

fn add_matches(out: &mut HashMap<String, Match>, rows: Vec<MatchRow>) {
    for (id, title, owner_id, department_id, owner_name, locked, key) in rows {
        out.entry(key.unwrap_or_default()).or_insert(Match {
            id,
            title,
            owner_id,
            department_id,
            owner_name,
            locked,
        });
    }
}

/// The text under which [`find_many`] reports a value.
pub fn match_key(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The titles of records by id (any state): one query per few hundred ids. The caller decides
/// whether showing them is allowed (exports show the names of linked records, as pages do).
pub async fn titles(
    db: &crate::Db,
    def: &guanxi_core::engine::ModuleDef,
    ids: &[i64],
) -> Result<Vec<(i64, String)>> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let mut out = vec![];
    for chunk in ids.chunks(500) {
        let params: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT id, {} FROM {} WHERE id IN ({})",
            def.title,
            def.table,
            params.join(", ")
        );
        let rows: Vec<(i64, String)> = crate::on_db!(db, read, |p| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
            for id in chunk {
                q = q.bind(*id);
            }
            q.fetch_all(p).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}

/// The titles of live records by id that `grant` lets its holder view (pages show the names of
/// linked records only to those who may open them): one query per few hundred ids.
pub async fn titles_in_scope(
    db: &crate::Db,
    def: &guanxi_core::engine::ModuleDef,
    grant: &guanxi_core::Grant,
    ids: &[i64],
) -> Result<Vec<(i64, String)>> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let scope = super::scope(def, grant);
    let mut out = vec![];
    for chunk in ids.chunks(500) {
        let params: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT t.id, t.{} FROM {} t WHERE t.id IN ({}) AND t.deleted_at IS NULL AND {scope}",
            def.title,
            def.table,
            params.join(", ")
        );
        let rows: Vec<(i64, Option<String>)> = crate::on_db!(db, read, |p| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
            for id in chunk {
                q = q.bind(*id);
            }
            q.fetch_all(p).await
        })?;
        out.extend(rows.into_iter().map(|(id, t)| (id, t.unwrap_or_default())));
    }
    Ok(out)
}
