//! The audit log (日志查询): every login, change, export and setting, written in the same
//! transaction as the change it records, searchable newest first with keyset pagination.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::types::Json;

use crate::{Db, Result, Tx, now, on_db, on_tx};

/// Who did something, and from where.
#[derive(Clone, Debug, Default)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub ip: Option<String>,
}

impl Actor {
    pub fn system() -> Actor {
        Actor {
            user_id: None,
            username: Some("system".into()),
            ip: None,
        }
    }
}

/// One event to record. `action` is a stable code (`login`, `user.create`, ...).
#[derive(Clone, Debug, Default)]
pub struct Event {
    pub action: &'static str,
    pub module: Option<&'static str>,
    pub target_id: Option<String>,
    pub target_label: Option<String>,
    pub summary: String,
    pub details: Option<serde_json::Value>,
}

impl Event {
    pub fn new(action: &'static str, summary: impl Into<String>) -> Event {
        Event {
            action,
            summary: summary.into(),
            ..Event::default()
        }
    }

    pub fn module(mut self, m: guanxi_core::Module) -> Event {
        self.module = Some(m.code());
        self
    }

    pub fn target(mut self, id: impl ToString, label: impl Into<String>) -> Event {
        self.target_id = Some(id.to_string());
        self.target_label = Some(label.into());
        self
    }

    pub fn details(mut self, d: serde_json::Value) -> Event {
        self.details = Some(d);
        self
    }
}

pub async fn record(tx: &mut Tx, actor: &Actor, e: Event) -> Result<()> {
    on_tx!(tx, |c| {
        sqlx::query(
            "INSERT INTO audit_log (at, user_id, username, ip, action, module, target_id, target_label, \
             summary, details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(now())
        .bind(actor.user_id)
        .bind(actor.username.as_deref())
        .bind(actor.ip.as_deref())
        .bind(e.action)
        .bind(e.module)
        .bind(e.target_id.as_deref())
        .bind(e.target_label.as_deref())
        .bind(&e.summary)
        .bind(e.details.as_ref().map(Json))
        .execute(&mut *c)
        .await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Records an event in a transaction of its own (logins, failed logins, exports).
pub async fn record_now(db: &Db, actor: &Actor, e: Event) -> Result<()> {
    let mut tx = db.begin().await?;
    record(&mut tx, actor, e).await?;
    tx.commit().await
}

#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Entry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub ip: Option<String>,
    pub action: String,
    pub module: Option<String>,
    pub target_id: Option<String>,
    pub target_label: Option<String>,
    pub summary: String,
    #[schema(value_type = Option<Object>)]
    pub details: Option<Json<serde_json::Value>>,
}

#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub username: Option<String>,
    pub action: Option<String>,
    pub module: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Words in the summary or target.
    pub q: Option<String>,
    /// Keyset pagination, newest first: entries with an id below this.
    pub before_id: Option<i64>,
    pub limit: i64,
}

pub async fn search(db: &Db, f: &Filter) -> Result<Vec<Entry>> {
    let mut sql = String::from(
        "SELECT id, at, user_id, username, ip, action, module, target_id, target_label, summary, details \
         FROM audit_log WHERE 1=1",
    );
    let mut n = 0;
    let mut p = || {
        n += 1;
        format!("${n}")
    };
    if f.username.is_some() {
        sql += &format!(" AND username = {}", p());
    }
    if f.action.is_some() {
        sql += &format!(" AND action = {}", p());
    }
    if f.module.is_some() {
        sql += &format!(" AND module = {}", p());
    }
    if f.from.is_some() {
        sql += &format!(" AND at >= {}", p());
    }
    if f.to.is_some() {
        sql += &format!(" AND at < {}", p());
    }
    let q =
        f.q.as_ref()
            .map(|q| format!("%{}%", q.trim().to_lowercase()));
    if q.is_some() {
        let x = p();
        sql += &format!(" AND (LOWER(summary) LIKE {x} OR LOWER(target_label) LIKE {x})");
    }
    if f.before_id.is_some() {
        sql += &format!(" AND id < {}", p());
    }
    sql += &format!(" ORDER BY id DESC LIMIT {}", p());
    Ok(on_db!(db, read, |pool| {
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
        if let Some(v) = &f.username {
            query = query.bind(v);
        }
        if let Some(v) = &f.action {
            query = query.bind(v);
        }
        if let Some(v) = &f.module {
            query = query.bind(v);
        }
        if let Some(v) = f.from {
            query = query.bind(v);
        }
        if let Some(v) = f.to {
            query = query.bind(v);
        }
        if let Some(v) = &q {
            query = query.bind(v);
        }
        if let Some(v) = f.before_id {
            query = query.bind(v);
        }
        query.bind(f.limit).fetch_all(pool).await
    })?)
}

/// The distinct action codes present, for the filter drop-down.
pub async fn actions(db: &Db) -> Result<Vec<String>> {
    Ok(on_db!(db, read, |p| {
        sqlx::query_scalar("SELECT DISTINCT action FROM audit_log ORDER BY action")
            .fetch_all(p)
            .await
    })?)
}

/// Failed logins from one address since a time, for throttling.
pub async fn failed_logins_from_ip(db: &Db, ip: &str, since: DateTime<Utc>) -> Result<i64> {
    Ok(on_db!(db, read, |p| {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'login.failed' AND ip = $1 AND at >= $2",
        )
        .bind(ip)
        .bind(since)
        .fetch_one(p)
        .await
    })?)
}
