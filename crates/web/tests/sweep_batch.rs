//! The sweep moves a whole chunk of due customers in a few statements: every customer still
//! lands in its own owner's pool with its history line, timeline entry and notification, a
//! customer whose owner has no pool keeps its owner and loses its deadline, and customers that
//! stopped being due between the read and the write are left alone.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::{TestApp, backends};
use guanxi_web::services::sweep::sweep;
use guanxi_web::{AppState, WebConfig};
use serde_json::json;

#[tokio::test]
async fn a_chunk_falls_back_to_each_owners_pool() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let state = AppState::new(app.db.clone(), WebConfig::default());
        let admin = app.admin().await;
        let sales = admin.role_id("sales").await;
        let east = admin.department("华东", None).await;
        let south = admin.department("华南", None).await;
        let west = admin.department("西部", None).await;
        admin.user("dong", Some(east), &[sales]).await;
        admin.user("nan", Some(south), &[sales]).await;
        admin.user("xi", Some(west), &[sales]).await;
        let mut pools = vec![];
        for (name, dept) in [("华东公海", east), ("华南公海", south)] {
            let p = admin
                .ok(
                    "POST",
                    "/api/v1/pools",
                    Some(json!({"name": name, "fall_back_days": 10, "warn_days": 2,
                        "members": [{"kind": "department", "ref_id": dept}]})),
                )
                .await;
            pools.push(p["id"].as_i64().unwrap());
        }
        // The west has no pool: its customers get no deadline at all.
        let mut owned = vec![];
        let mut created = None;
        for (user, pool) in [("dong", Some(pools[0])), ("nan", Some(pools[1]))] {
            let api = app.api(user, "password-123").await;
            for i in 0..4 {
                let c = api
                    .ok(
                        "POST",
                        "/api/v1/customers",
                        Some(json!({"name": format!("批量回落{user}{i}")})),
                    )
                    .await;
                created.get_or_insert_with(|| {
                    DateTime::parse_from_rfc3339(c["created_at"].as_str().unwrap())
                        .unwrap()
                        .with_timezone(&Utc)
                });
                owned.push((c["id"].as_i64().unwrap(), user, pool));
            }
        }
        let created = created.unwrap();

        // Warnings first, in one go: one notification per customer, given once.
        let r = sweep(&state, created + Duration::days(9), false)
            .await
            .unwrap();
        assert_eq!(r.warned.len(), 8, "{r:?}");
        let again = sweep(&state, created + Duration::days(9), false)
            .await
            .unwrap();
        assert!(again.warned.is_empty(), "warned once: {again:?}");

        // A follow-up on one customer moves its deadline: it stays.
        let dong = app.api("dong", "password-123").await;
        let kept = owned[0].0;
        dong.ok(
            "POST",
            "/api/v1/follow_ups",
            Some(json!({"customer_id": kept, "kind": "call",
                "at": (created + Duration::days(8)).to_rfc3339(), "content": "还在谈"})),
        )
        .await;

        let r = sweep(&state, created + Duration::days(11), false)
            .await
            .unwrap();
        let mut moved: Vec<(i64, i64)> = r.fell_back.iter().map(|f| (f.0, f.3)).collect();
        moved.sort_unstable();
        let mut expected: Vec<(i64, i64)> = owned
            .iter()
            .filter(|(id, _, _)| *id != kept)
            .map(|(id, _, pool)| (*id, pool.unwrap()))
            .collect();
        expected.sort_unstable();
        assert_eq!(moved, expected, "each into its owner's pool: {r:?}");

        for (id, user, pool) in owned.iter().filter(|(id, _, _)| *id != kept) {
            let c = admin
                .ok("GET", &format!("/api/v1/customers/{id}"), None)
                .await;
            assert_eq!(c["owner_id"], json!(null), "{c}");
            let in_pool = admin
                .ok(
                    "GET",
                    &format!(
                        "/api/v1/pools/{}/customers?q={}",
                        pool.unwrap(),
                        c["name"].as_str().unwrap()
                    ),
                    None,
                )
                .await;
            assert_eq!(in_pool["items"][0]["id"], json!(id), "{in_pool}");
            assert_eq!(c["fall_back_at"], json!(null), "{c}");
            let h = admin
                .ok("GET", &format!("/api/v1/customers/{id}/history"), None)
                .await;
            assert!(h.to_string().contains("fall_back"), "history of {id}: {h}");
            let t = admin
                .ok("GET", &format!("/api/v1/customers/{id}/ownership"), None)
                .await;
            assert!(t.to_string().contains("fall_back"), "timeline of {id}: {t}");
            let n = app
                .api(user, "password-123")
                .await
                .ok("GET", "/api/v1/notifications", None)
                .await;
            assert!(
                n.to_string().contains(&format!("/customers/{id}")),
                "{user} told about {id}: {n}"
            );
        }
        let c = dong
            .ok("GET", &format!("/api/v1/customers/{kept}"), None)
            .await;
        assert_eq!(
            c["owner_id"],
            json!(c["created_by"]),
            "followed up: kept {c}"
        );

        // A west customer's owner has no pool: it has no deadline and never moves.
        let xi = app.api("xi", "password-123").await;
        let w = xi
            .ok(
                "POST",
                "/api/v1/customers",
                Some(json!({"name": "西部客户"})),
            )
            .await;
        let r = sweep(&state, created + Duration::days(400), false)
            .await
            .unwrap();
        assert!(
            r.fell_back.iter().all(|f| f.0 != w["id"].as_i64().unwrap()),
            "{r:?}"
        );
        let w = xi
            .ok("GET", &format!("/api/v1/customers/{}", w["id"]), None)
            .await;
        assert_eq!(w["fall_back_at"], json!(null), "{w}");
        app.finish().await;
    }
}

/// Runs a statement with one integer parameter; returns rows affected.
async fn exec(db: &guanxi_store::Db, sql: &str, id: i64) -> u64 {
    match db {
        guanxi_store::Db::Sqlite { write, .. } => sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .execute(write)
            .await
            .unwrap()
            .rows_affected(),
        guanxi_store::Db::Postgres(p) => sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .execute(p)
            .await
            .unwrap()
            .rows_affected(),
    }
}

async fn count(db: &guanxi_store::Db, sql: &str) -> i64 {
    match db {
        guanxi_store::Db::Sqlite { write, .. } => sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(write)
            .await
            .unwrap(),
        guanxi_store::Db::Postgres(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(p)
            .await
            .unwrap(),
    }
}

/// 1,200 due customers: on PostgreSQL the chunk is written by two transactions at once; on
/// both, every customer is warned once and then moved once, each with its history line,
/// timeline entry and notifications.
#[tokio::test]
async fn a_large_chunk_is_written_whole() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let state = AppState::new(app.db.clone(), WebConfig::default());
        let admin = app.admin().await;
        let sales = admin.role_id("sales").await;
        let east = admin.department("华东", None).await;
        admin.user("dong", Some(east), &[sales]).await;
        let pool = admin
            .ok(
                "POST",
                "/api/v1/pools",
                Some(
                    json!({"name": "华东公海", "fall_back_days": 10, "warn_days": 2,
                    "members": [{"kind": "department", "ref_id": east}]}),
                ),
            )
            .await["id"]
            .as_i64()
            .unwrap();
        let dong = app.api("dong", "password-123").await;
        let c = dong
            .ok("POST", "/api/v1/customers", Some(json!({"name": "批量"})))
            .await;
        let created = DateTime::parse_from_rfc3339(c["created_at"].as_str().unwrap())
            .unwrap()
            .with_timezone(&Utc);
        // 1,199 copies with the same owner and deadline.
        let copied = exec(
            &app.db,
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1199) \
             INSERT INTO customers (owner_id, department_id, created_by, created_at, updated_at, name, \
             fall_back_at) SELECT c.owner_id, c.department_id, c.created_by, c.created_at, \
             c.updated_at, c.name || '-' || CAST(n.i AS TEXT), c.fall_back_at \
             FROM customers c, n WHERE c.id = $1",
            c["id"].as_i64().unwrap(),
        )
        .await;
        assert_eq!(copied, 1199);
        let warnings = exec(
            &app.db,
            "INSERT INTO fall_back_warnings (customer_id, warn_at) SELECT c.id, w.warn_at \
             FROM customers c, fall_back_warnings w WHERE w.customer_id = $1 AND c.id <> $1 \
             AND c.name LIKE '批量-%'",
            c["id"].as_i64().unwrap(),
        )
        .await;
        assert_eq!(warnings, 1199);

        let r = sweep(&state, created + Duration::days(9), false)
            .await
            .unwrap();
        assert_eq!(r.warned.len(), 1200);
        let r = sweep(&state, created + Duration::days(11), false)
            .await
            .unwrap();
        assert_eq!(r.fell_back.len(), 1200);
        assert!(
            r.fell_back.iter().all(|f| f.3 == pool),
            "{:?}",
            &r.fell_back[..3]
        );
        for (sql, want) in [
            (
                format!(
                    "SELECT COUNT(*) FROM customers WHERE owner_id IS NULL AND pool_id = {pool} \
              AND fall_back_at IS NULL"
                ),
                1200,
            ),
            ("SELECT COUNT(*) FROM fall_back_warnings".into(), 0),
            (
                "SELECT COUNT(*) FROM record_history WHERE event = 'fall_back'".into(),
                1200,
            ),
            (
                "SELECT COUNT(*) FROM ownership_events WHERE event = 'fall_back'".into(),
                1200,
            ),
            (
                "SELECT COUNT(*) FROM notifications WHERE kind = 'fall_back'".into(),
                1200,
            ),
            (
                "SELECT COUNT(*) FROM notifications WHERE kind = 'fall_back_warning'".into(),
                1200,
            ),
            (
                "SELECT COUNT(DISTINCT record_id) FROM record_history WHERE event = 'fall_back'"
                    .into(),
                1200,
            ),
        ] {
            assert_eq!(count(&app.db, &sql).await, want, "{sql}");
        }
        let again = sweep(&state, created + Duration::days(12), false)
            .await
            .unwrap();
        assert!(
            again.fell_back.is_empty() && again.warned.is_empty(),
            "{again:?}"
        );
        app.finish().await;
    }
}
