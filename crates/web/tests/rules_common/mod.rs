//! Helpers of the rules tests: raw statements for what no API writes, waiting for the
//! re-evaluation job, customers and rules through the API, bulk-loaded customers.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use guanxi_store::Db;
use guanxi_store::bulk::{Load, Val};
use guanxi_web::services::rules;
use serde_json::{Value, json};

use crate::common::Api;

/// Runs a statement on the test database, for what no API writes (scores, hand-set levels).
pub async fn exec(db: &Db, sql: &str) {
    match db {
        Db::Sqlite { write, .. } => {
            sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(write)
                .await
                .unwrap();
        }
        Db::Postgres(p) => {
            sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(p)
                .await
                .unwrap();
        }
    }
}

pub async fn count(db: &Db, sql: &str) -> i64 {
    match db {
        Db::Sqlite { read, .. } => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(read)
            .await
            .unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(p)
            .await
            .unwrap(),
    }
}

/// Waits until no re-evaluation is queued or running (the job runner of the test app runs it).
pub async fn reevaluated(db: &Db) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let jobs = guanxi_store::jobs::recent(db, 50).await.unwrap();
        let busy = jobs.iter().any(|j| {
            j.kind == rules::JOB_REEVALUATE && matches!(j.state.as_str(), "queued" | "running")
        });
        if !busy {
            assert!(
                jobs.iter()
                    .filter(|j| j.kind == rules::JOB_REEVALUATE)
                    .all(|j| j.state == "done"),
                "{jobs:?}"
            );
            return;
        }
        assert!(Instant::now() < deadline, "re-evaluation still running");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn customer(api: &Api, name: &str, industry: &str) -> i64 {
    api.ok(
        "POST",
        "/api/v1/customers",
        Some(json!({ "name": name, "industry": industry })),
    )
    .await["id"]
        .as_i64()
        .unwrap()
}

pub async fn rule(api: &Api, kind: &str, name: &str, conditions: Value, result: &str) -> Value {
    let (s, v) = api
        .post(
            "/api/v1/rules",
            json!({ "kind": kind, "name": name, "conditions": conditions, "result": result }),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    v
}

pub fn manufacturing_and_score(min: i64) -> Value {
    json!({ "all": [
        { "field": "industry", "op": "eq", "value": "manufacturing" },
        { "field": "score", "op": "gte", "value": min }
    ]})
}

/// Loads `n` customers straight into the database: every third in manufacturing, scores 0–99.
pub async fn load_customers(db: &Db, n: i64) {
    let mut load = Load::begin(db, &["customers"]).await.unwrap();
    let first = load.next_id("customers").await.unwrap();
    let t = guanxi_store::now();
    let columns = [
        "id",
        "version",
        "created_at",
        "updated_at",
        "name",
        "industry",
        "score",
    ];
    let mut i = 0;
    while i < n {
        let rows: Vec<Vec<Val>> = (i..n.min(i + 50_000))
            .map(|k| {
                let industry = if k % 3 == 0 {
                    "manufacturing"
                } else {
                    "retail"
                };
                vec![
                    Val::Int(first + k),
                    Val::Int(1),
                    Val::Time(t),
                    Val::Time(t),
                    Val::Text(format!("客户{k}")),
                    Val::Text(industry.into()),
                    Val::Int(k % 100),
                ]
            })
            .collect();
        load.insert("customers", &columns, rows).await.unwrap();
        i += 50_000;
    }
    load.finish().await.unwrap();
}
