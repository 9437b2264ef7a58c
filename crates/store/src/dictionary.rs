//! The data dictionary (数据字典): option lists with zh/en labels and an order. Options in use
//! can be disabled but not deleted.

use guanxi_core::Locale;
use serde::{Deserialize, Serialize};

use guanxi_core::engine::{FieldDef, FieldKind};

use crate::{Backend, Db, Result, StoreError, Tx, on_db, on_tx};

#[derive(Clone, Debug, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Item {
    pub id: i64,
    pub dictionary: String,
    pub code: String,
    pub label_zh: String,
    pub label_en: String,
    pub sort_order: i32,
    pub active: bool,
}

impl Item {
    pub fn label(&self, locale: Locale) -> &str {
        match locale {
            Locale::ZhCn => &self.label_zh,
            Locale::En => &self.label_en,
        }
    }
}

const SELECT: &str =
    "SELECT id, dictionary, code, label_zh, label_en, sort_order, active FROM dictionary_items";

/// Every item of every list, in order (a few hundred rows at most).
pub async fn all(db: &Db) -> Result<Vec<Item>> {
    crate::cache::through(db, crate::cache::Topic::Dictionary, "all", async || {
        let sql = format!("{SELECT} ORDER BY dictionary, sort_order, id");
        Ok(on_db!(db, read, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .fetch_all(p)
        .await)?)
    })
    .await
}

pub async fn list(db: &Db, dictionary: &str) -> Result<Vec<Item>> {
    crate::cache::through(
        db,
        crate::cache::Topic::Dictionary,
        &format!("list:{dictionary}"),
        async || {
            let sql = format!("{SELECT} WHERE dictionary = $1 ORDER BY sort_order, id");
            Ok(on_db!(db, read, |p| sqlx::query_as(sqlx::AssertSqlSafe(
                sql.as_str()
            ))
            .bind(dictionary)
            .fetch_all(p)
            .await)?)
        },
    )
    .await
}

pub struct ItemInput<'a> {
    pub code: &'a str,
    pub label_zh: &'a str,
    pub label_en: &'a str,
    pub sort_order: i32,
    pub active: bool,
}

pub async fn insert(tx: &mut Tx, dictionary: &str, i: &ItemInput<'_>) -> Result<i64> {
    crate::cache::invalidate(crate::cache::Topic::Dictionary);
    Ok(on_tx!(tx, |c| {
        sqlx::query_scalar(
            "INSERT INTO dictionary_items (dictionary, code, label_zh, label_en, sort_order, active) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(dictionary)
        .bind(i.code)
        .bind(i.label_zh)
        .bind(i.label_en)
        .bind(i.sort_order)
        .bind(i.active)
        .fetch_one(&mut *c)
        .await
    })?)
}

/// Relabels, reorders, enables or disables an item (its code never changes).
pub async fn update(tx: &mut Tx, id: i64, i: &ItemInput<'_>) -> Result<()> {
    crate::cache::invalidate(crate::cache::Topic::Dictionary);
    let n = on_tx!(tx, |c| {
        sqlx::query("UPDATE dictionary_items SET label_zh = $1, label_en = $2, sort_order = $3, active = $4 WHERE id = $5")
            .bind(i.label_zh)
            .bind(i.label_en)
            .bind(i.sort_order)
            .bind(i.active)
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

/// One option list and how many items it has.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ListInfo {
    pub name: String,
    pub items: i64,
}

/// The distinct list names with their item counts, by name.
pub async fn lists(db: &Db) -> Result<Vec<ListInfo>> {
    Ok(on_db!(db, read, |p| sqlx::query_as(
        "SELECT dictionary AS name, COUNT(*) AS items FROM dictionary_items \
         GROUP BY dictionary ORDER BY dictionary"
    )
    .fetch_all(p)
    .await)?)
}

pub async fn get(db: &Db, id: i64) -> Result<Item> {
    let sql = format!("{SELECT} WHERE id = $1");
    on_db!(db, read, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(id)
    .fetch_optional(p)
    .await)?
    .ok_or(StoreError::NotFound)
}

/// The fields that take their options from a list, with their module's table: built-in ones
/// and every custom field, hidden and retired ones included (their values are still stored).
pub async fn fields_using(
    db: &Db,
    dictionary: &str,
) -> Result<Vec<(&'static str, &'static FieldDef)>> {
    let mut out = vec![];
    for m in guanxi_core::engine::MODULES.iter() {
        let builtin = m.fields.iter();
        out.extend(
            builtin
                .filter(|f| f.dictionary == Some(dictionary))
                .map(|f| (m.table, f)),
        );
        for cf in crate::custom_fields::definitions(db, m.code).await? {
            if cf.dictionary.as_deref() != Some(dictionary) {
                continue;
            }
            if let Some(f) = crate::custom_fields::as_field(&cf) {
                out.push((m.table, f));
            }
        }
    }
    Ok(out)
}

/// SQL counting the records of `table` (aliased `t`) whose field `f` holds the code `$1`:
/// a column, a value in the `custom` JSON, or one of a JSON list of codes.
fn holding(backend: Backend, table: &str, f: &FieldDef) -> String {
    let expr = crate::custom_fields::expr(backend, f);
    let test = match (f.kind, backend) {
        (FieldKind::MultiSelect, Backend::Sqlite) => format!(
            "EXISTS (SELECT 1 FROM json_each(t.custom, '$.{}') j WHERE j.value = $1)",
            f.code
        ),
        (FieldKind::MultiSelect, Backend::Postgres) => {
            format!("(t.custom->'{}') @> jsonb_build_array($1::text)", f.code)
        }
        _ => format!("{expr} = $1"),
    };
    format!("SELECT COUNT(*) FROM {table} t WHERE {test}")
}

/// SQL counting, per code, the records of `table` whose field `f` holds it.
fn holding_by_code(backend: Backend, table: &str, f: &FieldDef) -> String {
    let code = f.code;
    match (f.kind, backend) {
        (FieldKind::MultiSelect, Backend::Sqlite) => format!(
            "SELECT j.value, COUNT(*) FROM {table} t, json_each(t.custom, '$.{code}') j \
             WHERE j.type = 'text' GROUP BY j.value"
        ),
        (FieldKind::MultiSelect, Backend::Postgres) => format!(
            "SELECT e, COUNT(*) FROM {table} t, jsonb_array_elements_text(CASE WHEN \
             jsonb_typeof(t.custom->'{code}') = 'array' THEN t.custom->'{code}' ELSE '[]'::jsonb END) e \
             GROUP BY e"
        ),
        _ => {
            let expr = crate::custom_fields::expr(backend, f);
            format!(
                "SELECT CAST({expr} AS TEXT), COUNT(*) FROM {table} t WHERE {expr} IS NOT NULL GROUP BY 1"
            )
        }
    }
}

/// How many records (the recycle bin included, since they can come back) hold the code.
pub async fn usage(db: &Db, dictionary: &str, code: &str) -> Result<i64> {
    let mut total = 0;
    for (table, f) in fields_using(db, dictionary).await? {
        // Table and field names come from metadata (custom codes are checked `cf_[a-z0-9_]`).
        let sql = holding(db.backend(), table, f);
        let n: i64 = on_db!(db, read, |p| sqlx::query_scalar(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(code)
        .fetch_one(p)
        .await)?;
        total += n;
    }
    Ok(total)
}

/// Usage of every code of a list at once (one grouped query per field), for the admin page.
pub async fn usage_counts(db: &Db, dictionary: &str) -> Result<Vec<(String, i64)>> {
    let mut out: Vec<(String, i64)> = vec![];
    for (table, f) in fields_using(db, dictionary).await? {
        let sql = holding_by_code(db.backend(), table, f);
        let rows: Vec<(String, i64)> = on_db!(db, read, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .fetch_all(p)
        .await)?;
        for (code, n) in rows {
            match out.iter_mut().find(|(c, _)| *c == code) {
                Some((_, total)) => *total += n,
                None => out.push((code, n)),
            }
        }
    }
    Ok(out)
}

pub async fn delete(tx: &mut Tx, id: i64) -> Result<()> {
    crate::cache::invalidate(crate::cache::Topic::Dictionary);
    let n = on_tx!(tx, |c| sqlx::query(
        "DELETE FROM dictionary_items WHERE id = $1"
    )
    .bind(id)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// Numbers the given items of a list 1, 2, 3... in the given order. Ids of other lists are
/// left alone.
pub async fn reorder(tx: &mut Tx, dictionary: &str, ids_in_order: &[i64]) -> Result<()> {
    crate::cache::invalidate(crate::cache::Topic::Dictionary);
    for (pos, id) in ids_in_order.iter().enumerate() {
        let order = i32::try_from(pos + 1).unwrap_or(i32::MAX);
        on_tx!(tx, |c| sqlx::query(
            "UPDATE dictionary_items SET sort_order = $1 WHERE id = $2 AND dictionary = $3"
        )
        .bind(order)
        .bind(*id)
        .bind(dictionary)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    }
    Ok(())
}
