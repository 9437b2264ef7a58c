//! The background re-evaluation (rules.reevaluate) on every database under test: a rule change
//! reclassifies thousands of customers, writing and recording only those that changed.
//! `million_customers_reevaluated` (ignored; run with `--release -- --ignored`) measures a
//! re-evaluation of 1,000,000 customers on SQLite.

mod common;
mod rules_common;

use std::time::Instant;

use common::{TestApp, backends};
use guanxi_store::Db;
use guanxi_web::services::rules;
use guanxi_web::{AppState, WebConfig};
use rules_common::{count, exec, load_customers, manufacturing_and_score, reevaluated, rule};
use serde_json::json;

#[tokio::test]
async fn a_rule_change_reclassifies_many_customers_in_the_background() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let api = app.admin().await;
        load_customers(&app.db, 5_001).await;
        let r = rule(
            &api,
            "classification",
            "重点制造",
            manufacturing_and_score(50),
            "a",
        )
        .await;
        reevaluated(&app.db).await;
        // 1,667 in manufacturing, half of them scoring 50 or more.
        let a =
            "SELECT COUNT(*) FROM customers WHERE customer_type = 'a' AND type_rule_id IS NOT NULL";
        assert_eq!(count(&app.db, a).await, 834);
        let lines = "SELECT COUNT(*) FROM record_history WHERE event = 'rule'";
        assert_eq!(count(&app.db, lines).await, 834);
        assert_eq!(
            count(
                &app.db,
                "SELECT COUNT(*) FROM customers WHERE customer_type = 'a' AND version = 2"
            )
            .await,
            834
        );

        let id = r["id"].as_i64().unwrap();
        api.ok(
            "PATCH",
            &format!("/api/v1/rules/{id}"),
            Some(json!({ "conditions": manufacturing_and_score(90) })),
        )
        .await;
        reevaluated(&app.db).await;
        assert_eq!(count(&app.db, a).await, 167);
        // The others keep their type but no longer name the rule.
        let kept =
            "SELECT COUNT(*) FROM customers WHERE customer_type = 'a' AND type_rule_id IS NULL";
        assert_eq!(count(&app.db, kept).await, 667);
        assert_eq!(count(&app.db, lines).await, 834);
        let audit = "SELECT COUNT(*) FROM audit_log WHERE action = 'rule.reevaluate'";
        assert!(count(&app.db, audit).await >= 2);

        // An import chunk: apply_many reads and writes all its customers at once.
        let first_ten = "UPDATE customers SET score = 95 WHERE id IN \
            (SELECT id FROM customers WHERE industry = 'manufacturing' ORDER BY id LIMIT 10)";
        exec(&app.db, first_ten).await;
        let state = AppState::new(app.db.clone(), WebConfig::default());
        let ids: Vec<i64> = (1..=30).collect();
        let mut tx = app.db.begin().await.unwrap();
        let changed = rules::apply_many(&state, &mut tx, &ids, chrono::Utc::now())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(changed, 10);
        assert_eq!(count(&app.db, a).await, 177);
        app.finish().await;
    }
}

/// Measures re-evaluating 1,000,000 customers on SQLite (run with `--release --ignored`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: loads a million customers"]
async fn million_customers_reevaluated() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open_sqlite(&dir.path().join("million.db"))
        .await
        .unwrap();
    guanxi_store::migrate::run(&db).await.unwrap();
    let t = Instant::now();
    load_customers(&db, 1_000_000).await;
    eprintln!(
        "loaded 1,000,000 customers in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let mut tx = db.begin().await.unwrap();
    for (kind, name, conditions, result) in [
        (
            "classification",
            "重点制造",
            manufacturing_and_score(50),
            "a",
        ),
        ("classification", "其他", json!({ "all": [] }), "c"),
        (
            "credit",
            "A 类优",
            json!({ "all": [{ "field": "customer_type", "op": "eq", "value": "a" }] }),
            "5",
        ),
        (
            "credit",
            "久未跟进",
            json!({ "all": [{ "field": "follow_up_age_days", "op": "gte", "value": 30 }] }),
            "2",
        ),
    ] {
        let r = guanxi_store::rules::RuleInput {
            kind,
            name,
            conditions: &conditions,
            result,
            active: true,
        };
        guanxi_store::rules::create(&mut tx, &r).await.unwrap();
    }
    tx.commit().await.unwrap();
    let state = AppState::new(db.clone(), WebConfig::default());
    for pass in ["every customer changes", "nothing changes"] {
        let t = Instant::now();
        let changed = rules::reevaluate_all(&state, None, None).await.unwrap();
        let secs = t.elapsed().as_secs_f64();
        eprintln!("re-evaluated 1,000,000 customers ({pass}): {changed} changed in {secs:.1} s");
        assert!(secs < 30.0, "{secs} s");
    }
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM customers WHERE customer_type = 'a' AND credit_level = '5'"
        )
        .await,
        166_667
    );
}
