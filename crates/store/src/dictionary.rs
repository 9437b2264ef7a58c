//! The data dictionary (数据字典): option lists with zh/en labels and an order. Options in use
//! can be disabled but not deleted.

use guanxi_core::Locale;
use serde::{Deserialize, Serialize};

use crate::{Db, Result, StoreError, Tx, on_db, on_tx};

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

/// The (table, column) pairs of the engine's select fields that take their options from a list.
pub fn columns_using(dictionary: &str) -> Vec<(&'static str, &'static str)> {
    guanxi_core::engine::MODULES
        .iter()
        .flat_map(|m| {
            m.fields
                .iter()
                .filter(|f| f.dictionary == Some(dictionary))
                .map(|f| (m.table, f.code))
        })
        .collect()
}

/// How many records (the recycle bin included, since they can come back) hold the code.
pub async fn usage(db: &Db, dictionary: &str, code: &str) -> Result<i64> {
    let mut total = 0;
    for (table, column) in columns_using(dictionary) {
        // Table and column names come from static metadata, never from input.
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE {column} = $1");
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
    for (table, column) in columns_using(dictionary) {
        let sql = format!(
            "SELECT {column}, COUNT(*) FROM {table} WHERE {column} IS NOT NULL GROUP BY {column}"
        );
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
