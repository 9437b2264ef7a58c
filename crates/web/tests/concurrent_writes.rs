//! Many writers at once, more than the database pool has connections: every customer write runs
//! its module hooks (rules, pool deadlines) inside its own transaction, so none of them may wait
//! for a second connection while holding one. Before the hooks read through the transaction,
//! 16 concurrent creates on PostgreSQL starved the pool and failed after its acquire timeout.

mod common;

use std::sync::Arc;

use common::{TestApp, backends};
use serde_json::json;

const WRITERS: usize = 40;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn more_writers_than_connections_all_succeed() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin().await;
        let sales = admin.role_id("sales").await;
        let east = admin.department("华东", None).await;
        admin.user("bing", Some(east), &[sales]).await;
        // A pool with a fall-back rule: read on every customer write to place its deadline.
        admin
            .ok(
                "POST",
                "/api/v1/pools",
                Some(json!({"name": "并发公海", "fall_back_days": 30,
                    "members": [{"kind": "department", "ref_id": east}]})),
            )
            .await;
        let bing = Arc::new(app.api("bing", "password-123").await);
        let mut tasks = vec![];
        for i in 0..WRITERS {
            let a = bing.clone();
            tasks.push(tokio::spawn(async move {
                let (status, c) = a
                    .call(
                        "POST",
                        "/api/v1/customers",
                        Some(json!({"name": format!("并发客户{i}"), "phone": format!("1380000{i:04}")})),
                    )
                    .await;
                assert_eq!(status, 201, "create {i}: {c}");
                let id = c["id"].as_i64().unwrap();
                let (status, f) = a
                    .call(
                        "POST",
                        "/api/v1/follow_ups",
                        Some(json!({"customer_id": id, "content": format!("第{i}次拜访")})),
                    )
                    .await;
                assert_eq!(status, 201, "follow-up {i}: {f}");
                id
            }));
        }
        let mut ids = vec![];
        for t in tasks {
            ids.push(t.await.unwrap());
        }
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), WRITERS, "{backend:?}");
        for id in ids.iter().take(3) {
            let c = bing
                .ok("GET", &format!("/api/v1/customers/{id}"), None)
                .await;
            assert!(c["fall_back_at"].is_string(), "{c}");
            assert!(c["last_follow_up_at"].is_string(), "{c}");
        }
        drop(bing);
        app.finish().await;
    }
}
