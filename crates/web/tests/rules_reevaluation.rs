//! The background re-evaluation (rules.reevaluate) on every database under test: a rule change
//! reclassifies thousands of customers, writing and recording only those that changed. The
//! re-evaluation of 1,000,000 customers is measured by `guanxi bench` (its smoke mode in CI).

mod common;
mod rules_common;

use common::{TestApp, backends};
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
