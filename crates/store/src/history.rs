//! The cross-record change history (客户资料修改历史查询): every field change and record event of
//! one module, searchable by user, time, field, event and record, newest first with keyset
//! pagination. Rows are limited to records inside the caller's data scope; records in the
//! recycle bin keep their history.

use chrono::{DateTime, Utc};
use guanxi_core::Grant;
use guanxi_core::engine::ModuleDef;
use serde::Serialize;

use crate::{Db, Result, on_db};

/// One history line with the name of its record.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct HistoryItem {
    pub id: i64,
    pub record_id: i64,
    /// The record's title now (also for records in the recycle bin).
    pub record_name: Option<String>,
    /// Whether the record is in the recycle bin now.
    pub record_deleted: bool,
    pub version: i32,
    pub at: DateTime<Utc>,
    pub user_id: Option<i64>,
    pub username: Option<String>,
    /// create, update, delete, restore, lock, unlock, transfer.
    pub event: String,
    /// The changed field's code (`owner_id` for transfers); none for record events.
    pub field: Option<String>,
    /// JSON text of the value before.
    pub old_value: Option<String>,
    /// JSON text of the value after.
    pub new_value: Option<String>,
}

/// What to look for. Every condition is optional except the module.
#[derive(Clone, Debug)]
pub struct HistoryFilter {
    pub module: &'static ModuleDef,
    pub username: Option<String>,
    pub user_id: Option<i64>,
    /// Changes at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Changes before this time.
    pub to: Option<DateTime<Utc>>,
    pub field: Option<String>,
    pub event: Option<String>,
    pub record_id: Option<i64>,
    /// Keyset pagination, newest first: entries with an id below this.
    pub before_id: Option<i64>,
    pub limit: i64,
}

impl HistoryFilter {
    /// Everything of a module, first page of `limit`.
    pub fn new(module: &'static ModuleDef, limit: i64) -> HistoryFilter {
        HistoryFilter {
            module,
            username: None,
            user_id: None,
            from: None,
            to: None,
            field: None,
            event: None,
            record_id: None,
            before_id: None,
            limit,
        }
    }
}

/// The SQL text of a search, with its placeholders numbered in the order [`search_history`]
/// binds them. Table and column names come from the module's static declaration, the scope
/// predicate inlines only integers.
fn sql(f: &HistoryFilter, scope: &str) -> String {
    let def = f.module;
    let mut sql = format!(
        "SELECT h.id, h.record_id, t.{title} AS record_name, \
         (t.deleted_at IS NOT NULL) AS record_deleted, h.version, h.at, h.user_id, h.username, \
         h.event, h.field, h.old_value, h.new_value \
         FROM record_history h JOIN {table} t ON t.id = h.record_id \
         WHERE h.module = $1 AND {scope}",
        title = def.title,
        table = def.table,
    );
    let mut n = 1;
    let mut cond = |text: &str| {
        n += 1;
        sql += &format!(" AND {text} ${n}");
    };
    if f.username.is_some() {
        cond("h.username =");
    }
    if f.user_id.is_some() {
        cond("h.user_id =");
    }
    if f.from.is_some() {
        cond("h.at >=");
    }
    if f.to.is_some() {
        cond("h.at <");
    }
    if f.field.is_some() {
        cond("h.field =");
    }
    if f.event.is_some() {
        cond("h.event =");
    }
    if f.record_id.is_some() {
        cond("h.record_id =");
    }
    if f.before_id.is_some() {
        cond("h.id <");
    }
    sql += &format!(" ORDER BY h.id DESC LIMIT ${}", n + 1);
    sql
}

/// One page of a module's history inside the grant's data scope, newest first.
pub async fn search_history(db: &Db, grant: &Grant, f: &HistoryFilter) -> Result<Vec<HistoryItem>> {
    assert_eq!(
        grant.module(),
        f.module.module,
        "a grant for another module was passed to the history of {}",
        f.module.code
    );
    let text = sql(f, &grant.sql_predicate("t.owner_id", "t.department_id"));
    Ok(on_db!(db, read, |pool| {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(text.as_str())).bind(f.module.code);
        if let Some(v) = &f.username {
            q = q.bind(v);
        }
        if let Some(v) = f.user_id {
            q = q.bind(v);
        }
        if let Some(v) = f.from {
            q = q.bind(v);
        }
        if let Some(v) = f.to {
            q = q.bind(v);
        }
        if let Some(v) = &f.field {
            q = q.bind(v);
        }
        if let Some(v) = &f.event {
            q = q.bind(v);
        }
        if let Some(v) = f.record_id {
            q = q.bind(v);
        }
        if let Some(v) = f.before_id {
            q = q.bind(v);
        }
        q.bind(f.limit).fetch_all(pool).await
    })?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_follow_the_bind_order() {
        let mut f = HistoryFilter::new(&guanxi_core::engine::CUSTOMERS, 10);
        assert!(
            sql(&f, "1=1").ends_with("WHERE h.module = $1 AND 1=1 ORDER BY h.id DESC LIMIT $2")
        );
        f.username = Some("a".into());
        f.field = Some("name".into());
        f.before_id = Some(9);
        let s = sql(&f, "t.owner_id = 3");
        assert!(s.contains("FROM record_history h JOIN customers t ON t.id = h.record_id"));
        assert!(s.ends_with(
            "AND t.owner_id = 3 AND h.username = $2 AND h.field = $3 AND h.id < $4 \
             ORDER BY h.id DESC LIMIT $5"
        ));
    }
}
