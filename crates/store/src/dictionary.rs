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
    let sql = format!("{SELECT} ORDER BY dictionary, sort_order, id");
    Ok(on_db!(db, read, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .fetch_all(p)
    .await)?)
}

pub async fn list(db: &Db, dictionary: &str) -> Result<Vec<Item>> {
    let sql = format!("{SELECT} WHERE dictionary = $1 ORDER BY sort_order, id");
    Ok(on_db!(db, read, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(dictionary)
    .fetch_all(p)
    .await)?)
}

pub struct ItemInput<'a> {
    pub code: &'a str,
    pub label_zh: &'a str,
    pub label_en: &'a str,
    pub sort_order: i32,
    pub active: bool,
}

pub async fn insert(tx: &mut Tx, dictionary: &str, i: &ItemInput<'_>) -> Result<i64> {
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
