//! Classification (客户自动分类) and credit (信用等级) rules, and what they decided for each
//! customer: `customer_type` / `type_rule_id`, `credit_level` / `credit_rule_id`, and
//! `credit_manual` for a level set by hand, which the rules leave alone until it is handed back.
//!
//! Re-evaluating every customer reads pages by id with only the columns the rules need, and
//! writes only the customers whose result changed: one `UPDATE ... FROM (VALUES ...)` per page
//! and the history lines through the bulk path. Permissions are the service's business.

use chrono::{DateTime, NaiveDate, Utc};
use guanxi_core::engine::{FieldDef, FieldKind};
use serde::Serialize;
use serde_json::{Map, Value, json};
use sqlx::types::Json;

use crate::bulk::{self, Val};
use crate::{Db, Result, StoreError, Tx, now, on_db, on_tx};

#[derive(Clone, Debug, Serialize)]
pub struct Rule {
    pub id: i64,
    /// classification or credit.
    pub kind: String,
    pub name: String,
    pub priority: i64,
    /// The condition tree (see `guanxi_core::rules::Node`).
    pub conditions: Value,
    /// A `customer_type` code, or a `credit_level` code.
    pub result: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

type Row = (
    i64,
    String,
    String,
    i64,
    String,
    String,
    bool,
    DateTime<Utc>,
    DateTime<Utc>,
);

const SELECT: &str = "SELECT id, kind, name, priority, conditions, result, active, created_at, updated_at \
    FROM rules";

fn rule(r: Row) -> Rule {
    Rule {
        id: r.0,
        kind: r.1,
        name: r.2,
        priority: r.3,
        conditions: serde_json::from_str(&r.4).unwrap_or(Value::Null),
        result: r.5,
        active: r.6,
        created_at: r.7,
        updated_at: r.8,
    }
}

/// The rules of one kind (or all), in priority order.
pub async fn list(db: &Db, kind: Option<&str>) -> Result<Vec<Rule>> {
    let sql = match kind {
        Some(_) => format!("{SELECT} WHERE kind = $1 ORDER BY priority, id"),
        None => format!("{SELECT} ORDER BY kind, priority, id"),
    };
    let rows: Vec<Row> = on_db!(db, read, |p| {
        let q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
        match kind {
            Some(k) => q.bind(k),
            None => q,
        }
        .fetch_all(p)
        .await
    })?;
    Ok(rows.into_iter().map(rule).collect())
}

/// Every rule as the open transaction sees it, in priority order.
pub async fn tx_list(tx: &mut Tx) -> Result<Vec<Rule>> {
    let sql = format!("{SELECT} ORDER BY kind, priority, id");
    let rows: Vec<Row> = on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .fetch_all(&mut *c)
        .await)?;
    Ok(rows.into_iter().map(rule).collect())
}

pub async fn get(db: &Db, id: i64) -> Result<Rule> {
    let sql = format!("{SELECT} WHERE id = $1");
    let row: Option<Row> = on_db!(db, read, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(id)
    .fetch_optional(p)
    .await)?;
    row.map(rule).ok_or(StoreError::NotFound)
}

pub async fn tx_get(tx: &mut Tx, id: i64) -> Result<Rule> {
    let sql = format!("{SELECT} WHERE id = $1");
    let row: Option<Row> = on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?;
    row.map(rule).ok_or(StoreError::NotFound)
}

/// A rule as entered (already validated).
pub struct RuleInput<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    pub conditions: &'a Value,
    pub result: &'a str,
    pub active: bool,
}

/// Adds a rule after the last of its kind.
pub async fn create(tx: &mut Tx, r: &RuleInput<'_>) -> Result<i64> {
    let conditions = r.conditions.to_string();
    Ok(on_tx!(tx, |c| {
        sqlx::query_scalar(
            "INSERT INTO rules (kind, name, priority, conditions, result, active, created_at, updated_at) \
             VALUES ($1, $2, (SELECT COALESCE(MAX(priority), 0) + 1 FROM rules WHERE kind = $1), \
             $3, $4, $5, $6, $6) RETURNING id",
        )
        .bind(r.kind)
        .bind(r.name)
        .bind(&conditions)
        .bind(r.result)
        .bind(r.active)
        .bind(now())
        .fetch_one(&mut *c)
        .await
    })?)
}

/// Changes a rule's name, conditions, result and state (its kind stays).
pub async fn update(tx: &mut Tx, id: i64, r: &RuleInput<'_>) -> Result<()> {
    let conditions = r.conditions.to_string();
    let n = on_tx!(tx, |c| {
        sqlx::query(
            "UPDATE rules SET name = $1, conditions = $2, result = $3, active = $4, updated_at = $5 \
             WHERE id = $6",
        )
        .bind(r.name)
        .bind(&conditions)
        .bind(r.result)
        .bind(r.active)
        .bind(now())
        .bind(id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn delete(tx: &mut Tx, id: i64) -> Result<()> {
    let n = on_tx!(tx, |c| sqlx::query("DELETE FROM rules WHERE id = $1")
        .bind(id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Puts the rules of a kind in the order of `ids` (the caller checked it lists them all).
pub async fn reorder(tx: &mut Tx, kind: &str, ids: &[i64]) -> Result<()> {
    let t = now();
    for (i, id) in ids.iter().enumerate() {
        on_tx!(tx, |c| sqlx::query(
            "UPDATE rules SET priority = $1, updated_at = $2 WHERE id = $3 AND kind = $4"
        )
        .bind(i as i64 + 1)
        .bind(t)
        .bind(*id)
        .bind(kind)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// Changes whenever a rule or a customer custom field changes: the key of a cached rule set.
pub async fn fingerprint(tx: &mut Tx) -> Result<String> {
    type F = (i64, Option<i64>, Option<String>, i64, Option<String>);
    let f: F = on_tx!(tx, |c| sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM rules), (SELECT MAX(id) FROM rules), \
         (SELECT CAST(MAX(updated_at) AS TEXT) FROM rules), \
         (SELECT COUNT(*) FROM custom_fields WHERE module = 'customers'), \
         (SELECT CAST(MAX(updated_at) AS TEXT) FROM custom_fields WHERE module = 'customers')"
    )
    .fetch_one(&mut *c)
    .await)?;
    Ok(format!("{f:?}"))
}

/// Queues the re-evaluation of every customer in the caller's transaction, unless one is
/// already waiting (it will see this change too).
pub async fn queue_reevaluation(tx: &mut Tx, kind: &str, user: Option<i64>) -> Result<bool> {
    let waiting: i64 = on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM jobs WHERE kind = $1 AND state = 'queued'"
    )
    .bind(kind)
    .fetch_one(&mut *c)
    .await)?;
    if waiting > 0 {
        return Ok(false);
    }
    crate::jobs::enqueue(tx, kind, &json!({}), user).await?;
    Ok(true)
}

/// A customer as the rules see it: its current results and the values the rules read.
#[derive(Clone, Debug)]
pub struct Standing {
    pub id: i64,
    pub version: i32,
    pub customer_type: Option<String>,
    pub credit_level: Option<String>,
    pub credit_manual: bool,
    pub type_rule_id: Option<i64>,
    pub credit_rule_id: Option<i64>,
    pub deleted: bool,
    /// The fields asked for, by code (with `customer_type` and `credit_level`).
    pub values: Map<String, Value>,
}

const FIXED: usize = 8;

fn select(fields: &[&FieldDef]) -> String {
    let mut sql = "SELECT t.id, t.version, t.customer_type, t.credit_level, t.credit_manual, \
        t.type_rule_id, t.credit_rule_id, t.deleted_at IS NOT NULL"
        .to_owned();
    for f in fields.iter().filter(|f| !f.custom) {
        sql += &format!(", t.{}", f.code);
    }
    if fields.iter().any(|f| f.custom) {
        sql += ", t.custom";
    }
    sql + " FROM customers t"
}

/// Reads one row into a [`Standing`]; compiled once per backend.
macro_rules! decode {
    ($fields:expr, $row:expr) => {{
        use sqlx::Row;
        let r = $row;
        let fields: &[&FieldDef] = $fields;
        let customer_type: Option<String> = r.try_get(2)?;
        let credit_level: Option<String> = r.try_get(3)?;
        let mut values = Map::new();
        values.insert("customer_type".into(), json!(customer_type));
        values.insert("credit_level".into(), json!(credit_level));
        let mut idx = FIXED;
        for f in fields.iter().filter(|f| !f.custom) {
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
            idx += 1;
        }
        if fields.iter().any(|f| f.custom) {
            let custom: Option<Json<Value>> = r.try_get(idx)?;
            let custom = custom.map(|j| j.0).unwrap_or(Value::Null);
            for f in fields.iter().filter(|f| f.custom) {
                let v = custom.get(f.code).cloned().unwrap_or(Value::Null);
                values.insert(f.code.to_owned(), v);
            }
        }
        Ok::<Standing, sqlx::Error>(Standing {
            id: r.try_get(0)?,
            version: r.try_get(1)?,
            customer_type,
            credit_level,
            credit_manual: r.try_get(4)?,
            type_rule_id: r.try_get(5)?,
            credit_rule_id: r.try_get(6)?,
            deleted: r.try_get(7)?,
            values,
        })
    }};
}

/// One customer, as the open transaction sees it (deleted ones too).
pub async fn standing(tx: &mut Tx, fields: &[&FieldDef], id: i64) -> Result<Option<Standing>> {
    let sql = format!("{} WHERE t.id = $1", select(fields));
    Ok(on_tx!(tx, |c| {
        match sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(id)
            .fetch_optional(&mut *c)
            .await?
        {
            Some(r) => decode!(fields, &r).map(Some),
            None => Ok(None),
        }
    })?)
}

/// Several customers (an import chunk), as the open transaction sees them, in id order.
pub async fn standings(tx: &mut Tx, fields: &[&FieldDef], ids: &[i64]) -> Result<Vec<Standing>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    let sql = format!(
        "{} WHERE t.id IN ({}) ORDER BY t.id",
        select(fields),
        list.join(", ")
    );
    Ok(on_tx!(tx, |c| {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .fetch_all(&mut *c)
            .await?;
        rows.iter()
            .map(|r| decode!(fields, r))
            .collect::<std::result::Result<Vec<_>, sqlx::Error>>()
    })?)
}

/// One customer, read outside any transaction (explanations).
pub async fn read_standing(db: &Db, id: i64) -> Result<Standing> {
    let sql = format!("{} WHERE t.id = $1", select(&[]));
    let s = on_db!(db, read, |p| {
        match sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(id)
            .fetch_optional(p)
            .await?
        {
            Some(r) => decode!(&[], &r).map(Some),
            None => Ok(None),
        }
    })?;
    s.ok_or(StoreError::NotFound)
}

/// The next page of live customers after id `after`, in id order.
pub async fn page(
    tx: &mut Tx,
    fields: &[&FieldDef],
    after: i64,
    limit: i64,
) -> Result<Vec<Standing>> {
    let sql = format!(
        "{} WHERE t.id > $1 AND t.deleted_at IS NULL ORDER BY t.id LIMIT $2",
        select(fields)
    );
    Ok(on_tx!(tx, |c| {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(after)
            .bind(limit)
            .fetch_all(&mut *c)
            .await?;
        rows.iter()
            .map(|r| decode!(fields, r))
            .collect::<std::result::Result<Vec<_>, sqlx::Error>>()
    })?)
}

/// What to write for one customer whose results changed.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub id: i64,
    /// The version after the change (bumped when a visible field changed).
    pub version: i32,
    pub bump: bool,
    pub customer_type: Option<String>,
    pub type_rule_id: Option<i64>,
    pub credit_level: Option<String>,
    pub credit_rule_id: Option<i64>,
    /// (field, old, new) for the history.
    pub lines: Vec<(&'static str, Value, Value)>,
}

/// The change the rules' decisions make to a customer, if any. No matching rule keeps the value
/// and forgets the rule; a credit level set by hand is kept.
pub fn change_of(
    s: &Standing,
    customer_type: Option<(String, i64)>,
    credit: Option<(String, i64)>,
) -> Option<Change> {
    let (ct, tr) = match customer_type {
        Some((c, id)) => (Some(c), Some(id)),
        None => (s.customer_type.clone(), None),
    };
    let (cl, cr) = match credit {
        Some((c, id)) if !s.credit_manual => (Some(c), Some(id)),
        _ => (s.credit_level.clone(), None),
    };
    let mut lines = vec![];
    if ct != s.customer_type {
        lines.push(("customer_type", json!(s.customer_type), json!(ct)));
    }
    if cl != s.credit_level {
        lines.push(("credit_level", json!(s.credit_level), json!(cl)));
    }
    if lines.is_empty() && tr == s.type_rule_id && cr == s.credit_rule_id {
        return None;
    }
    let bump = !lines.is_empty();
    Some(Change {
        id: s.id,
        version: s.version + i32::from(bump),
        bump,
        customer_type: ct,
        type_rule_id: tr,
        credit_level: cl,
        credit_rule_id: cr,
        lines,
    })
}

/// Rows per `UPDATE` statement on SQLite (six parameters each).
const PER_STATEMENT: usize = 2_000;

/// Writes changes — on SQLite one statement per 2,000 customers, on PostgreSQL one statement
/// for all of them (six arrays, `unnest`ed: one plan whatever the count) — and a history line
/// (event `rule`) for each changed field.
pub async fn write(tx: &mut Tx, changes: &[Change]) -> Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    match tx {
        Tx::Postgres(c) => {
            let ids: Vec<i64> = changes.iter().map(|ch| ch.id).collect();
            let ct: Vec<Option<&str>> = changes
                .iter()
                .map(|ch| ch.customer_type.as_deref())
                .collect();
            let tr: Vec<Option<i64>> = changes.iter().map(|ch| ch.type_rule_id).collect();
            let cl: Vec<Option<&str>> = changes
                .iter()
                .map(|ch| ch.credit_level.as_deref())
                .collect();
            let cr: Vec<Option<i64>> = changes.iter().map(|ch| ch.credit_rule_id).collect();
            let bump: Vec<i32> = changes.iter().map(|ch| i32::from(ch.bump)).collect();
            sqlx::query(
                "UPDATE customers AS t SET customer_type = v.ct, type_rule_id = v.tr, \
                 credit_level = v.cl, credit_rule_id = v.cr, version = t.version + v.bump \
                 FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::bigint[], $6::integer[]) \
                 AS v(id, ct, tr, cl, cr, bump) WHERE t.id = v.id",
            )
            .bind(&ids)
            .bind(&ct)
            .bind(&tr)
            .bind(&cl)
            .bind(&cr)
            .bind(&bump)
            .execute(&mut **c)
            .await?;
        }
        Tx::Sqlite(c) => {
            for chunk in changes.chunks(PER_STATEMENT) {
                let values = vec!["(?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ");
                let sql = format!(
                    "WITH v(id, ct, tr, cl, cr, bump) AS (VALUES {values}) UPDATE customers AS t SET \
                     customer_type = v.ct, type_rule_id = v.tr, credit_level = v.cl, credit_rule_id = v.cr, \
                     version = t.version + v.bump FROM v WHERE t.id = v.id"
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
                for ch in chunk {
                    q = q
                        .bind(ch.id)
                        .bind(ch.customer_type.as_deref())
                        .bind(ch.type_rule_id)
                        .bind(ch.credit_level.as_deref())
                        .bind(ch.credit_rule_id)
                        .bind(i32::from(ch.bump));
                }
                q.execute(&mut **c).await?;
            }
        }
    }
    let t = now();
    let text = |v: &Value| match v {
        Value::Null => Val::Null,
        v => Val::Text(v.to_string()),
    };
    let history: Vec<Vec<Val>> = changes
        .iter()
        .flat_map(|ch| {
            ch.lines.iter().map(move |(field, old, new)| {
                vec![
                    Val::Text("customers".into()),
                    Val::Int(ch.id),
                    Val::Int(i64::from(ch.version)),
                    Val::Time(t),
                    Val::Null,
                    Val::Text("system".into()),
                    Val::Text("rule".into()),
                    Val::Text((*field).to_owned()),
                    text(old),
                    text(new),
                ]
            })
        })
        .collect();
    bulk::insert(
        tx,
        "record_history",
        &crate::records::HISTORY_COLUMNS,
        history,
    )
    .await
}

/// Writes the rules' decisions for one customer; returns whether anything changed.
pub async fn set_result(
    tx: &mut Tx,
    customer_id: i64,
    customer_type: Option<(String, i64)>,
    credit: Option<(String, i64)>,
) -> Result<bool> {
    let s = standing(tx, &[], customer_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    match change_of(&s, customer_type, credit) {
        Some(ch) => write(tx, &[ch]).await.map(|()| true),
        None => Ok(false),
    }
}

/// Marks a customer's credit level as set by hand (the rules keep off it), or hands it back.
pub async fn set_manual(tx: &mut Tx, customer_id: i64, manual: bool) -> Result<()> {
    let sql = if manual {
        "UPDATE customers SET credit_manual = TRUE, credit_rule_id = NULL WHERE id = $1"
    } else {
        "UPDATE customers SET credit_manual = FALSE WHERE id = $1"
    };
    let n = on_tx!(tx, |c| sqlx::query(sql)
        .bind(customer_id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Which database this is (file or server and name), so a process serving several databases
/// (the tests do) keeps one cached rule set per database.
pub fn identity(db: &Db) -> String {
    match db {
        Db::Sqlite { write, .. } => {
            format!(
                "sqlite:{}",
                write.connect_options().get_filename().display()
            )
        }
        Db::Postgres(p) => {
            let o = p.connect_options();
            format!(
                "postgres:{}:{}/{}",
                o.get_host(),
                o.get_port(),
                o.get_database().unwrap_or_default()
            )
        }
    }
}
