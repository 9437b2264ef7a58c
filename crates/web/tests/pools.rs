//! Public pools, fall-back and follow-ups on every database: the deadline and not a day before,
//! the warning before it, locked customers staying, a follow-up scoring its customer and moving
//! the deadline, claims with their limits and cool-down, two users racing for one customer, and
//! masked phones for roles that may not see them.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::{TestApp, backends};
use guanxi_store::pools;
use guanxi_web::services::sweep::sweep;
use guanxi_web::{AppState, WebConfig};
use serde_json::json;

fn at(v: &serde_json::Value, field: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(
        v[field]
            .as_str()
            .unwrap_or_else(|| panic!("{field} in {v}")),
    )
    .unwrap()
    .with_timezone(&Utc)
}

#[tokio::test]
async fn pools_fall_back_claims_and_scores() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let state = AppState::new(app.db.clone(), WebConfig::default());
        let admin = app.admin().await;
        let sales = admin.role_id("sales").await;
        let east = admin.department("华东", None).await;
        for u in ["zhang", "li", "wang", "zhao"] {
            admin.user(u, Some(east), &[sales]).await;
        }
        let pool = admin
            .ok(
                "POST",
                "/api/v1/pools",
                Some(json!({"name": "华东公海", "fall_back_days": 30, "warn_days": 5, "max_claims_per_day": 1,
                    "reclaim_cooldown_days": 7, "members": [{"kind": "department", "ref_id": east}]})),
            )
            .await;
        let pool_id = pool["id"].as_i64().unwrap();
        let zhang = app.api("zhang", "password-123").await;
        let li = app.api("li", "password-123").await;
        let c1 = zhang
            .ok(
                "POST",
                "/api/v1/customers",
                Some(json!({"name": "回落测试一", "phone": "13811112222"})),
            )
            .await;
        let id1 = c1["id"].as_i64().unwrap();
        let created = at(&c1, "created_at");
        let c1 = zhang
            .ok("GET", &format!("/api/v1/customers/{id1}"), None)
            .await;
        assert_eq!(
            at(&c1, "fall_back_at"),
            created + Duration::days(30),
            "{c1}"
        );
        // A locked customer never falls back.
        let c2 = zhang
            .ok(
                "POST",
                "/api/v1/customers",
                Some(json!({"name": "锁定客户"})),
            )
            .await;
        zhang
            .ok(
                "POST",
                &format!("/api/v1/customers/{}/lock", c2["id"]),
                None,
            )
            .await;

        let r = sweep(&state, created + Duration::days(24), false)
            .await
            .unwrap();
        assert!(r.fell_back.is_empty() && r.warned.is_empty(), "{r:?}");
        let r = sweep(
            &state,
            created + Duration::days(25) + Duration::seconds(1),
            false,
        )
        .await
        .unwrap();
        assert_eq!(r.warned.len(), 1, "warned five days before: {r:?}");
        assert_eq!(
            pools::warning_at(&app.db, id1).await.unwrap(),
            None,
            "a warning is given once"
        );
        // An edit that leaves the deadline where it was does not bring the warning back.
        let v = zhang
            .ok("GET", &format!("/api/v1/customers/{id1}"), None)
            .await["version"]
            .clone();
        zhang
            .ok(
                "PATCH",
                &format!("/api/v1/customers/{id1}"),
                Some(json!({"version": v, "notes": "已提醒"})),
            )
            .await;
        assert_eq!(
            pools::warning_at(&app.db, id1).await.unwrap(),
            None,
            "still given after an edit"
        );
        let n = zhang.ok("GET", "/api/v1/notifications", None).await;
        assert!(n.to_string().contains("fall_back_warning"), "{n}");
        let r = sweep(
            &state,
            created + Duration::days(30) - Duration::seconds(1),
            false,
        )
        .await
        .unwrap();
        assert!(
            r.fell_back.is_empty() && r.warned.is_empty(),
            "not a second before: {r:?}"
        );
        let dry = sweep(&state, created + Duration::days(31), true)
            .await
            .unwrap();
        assert_eq!(dry.fell_back.len(), 1, "{dry:?}");
        assert_eq!(
            zhang.get(&format!("/api/v1/customers/{id1}")).await.0,
            200,
            "a dry run moves nothing"
        );
        let r = sweep(&state, created + Duration::days(31), false)
            .await
            .unwrap();
        assert_eq!(
            r.fell_back.iter().map(|f| f.0).collect::<Vec<_>>(),
            [id1],
            "{r:?}"
        );
        assert_eq!(
            zhang.get(&format!("/api/v1/customers/{id1}")).await.0,
            404,
            "no longer zhang's"
        );
        assert_eq!(
            zhang
                .get(&format!("/api/v1/customers/{}", c2["id"]))
                .await
                .0,
            200,
            "locked: kept"
        );
        let in_pool = li
            .ok("GET", &format!("/api/v1/pools/{pool_id}/customers"), None)
            .await;
        assert_eq!(in_pool["items"][0]["id"], id1, "{in_pool}");
        assert_eq!(in_pool["items"][0]["owner_id"], json!(null));

        // A follow-up scores the customer and moves its deadline.
        let c3 = zhang
            .ok(
                "POST",
                "/api/v1/customers",
                Some(json!({"name": "跟进测试"})),
            )
            .await;
        let id3 = c3["id"].as_i64().unwrap();
        let later = (guanxi_store::now() + Duration::days(3)).to_rfc3339();
        zhang
            .ok(
                "POST",
                "/api/v1/follow_ups",
                Some(json!({"customer_id": id3, "kind": "call", "at": later, "content": "电话沟通，预算已批",
                    "behaviours": ["budget_ok", "no_answer"]})),
            )
            .await;
        let c3 = zhang
            .ok("GET", &format!("/api/v1/customers/{id3}"), None)
            .await;
        assert_eq!(c3["score"], 10, "20 - 10: {c3}");
        assert_eq!(at(&c3, "last_follow_up_at"), at(&json!({"t": later}), "t"));
        assert_eq!(
            at(&c3, "fall_back_at"),
            at(&c3, "last_follow_up_at") + Duration::days(30)
        );
        assert_eq!(
            pools::warning_at(&app.db, id3).await.unwrap(),
            Some(at(&c3, "fall_back_at") - Duration::days(5)),
            "the warning moves with the deadline"
        );
        let lines = zhang
            .ok("GET", &format!("/api/v1/customers/{id3}/score"), None)
            .await;
        assert_eq!(lines.as_array().unwrap().len(), 2, "{lines}");

        // 计划任务: the appointment is zhang's, within his scope, and not in li's.
        let visit = (guanxi_store::now() + Duration::days(2))
            .date_naive()
            .and_hms_opt(2, 0, 0)
            .unwrap()
            .and_utc();
        zhang
            .ok(
                "POST",
                "/api/v1/follow_ups",
                Some(
                    json!({"customer_id": id3, "kind": "call", "content": "约好后天上门",
                    "next_visit_at": visit.to_rfc3339()}),
                ),
            )
            .await;
        let day = format!("/api/v1/appointments?date={}", visit.date_naive());
        let mine = zhang.ok("GET", &day, None).await;
        assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
        assert_eq!(mine[0]["customer_id"], id3, "{mine}");
        let theirs = li.ok("GET", &day, None).await;
        assert_eq!(theirs, json!([]), "another salesperson's appointment");
        let all = admin.ok("GET", &day, None).await;
        assert_eq!(all.as_array().unwrap().len(), 1, "{all}");

        // Claims: one a day; the one who released a customer waits out the cool-down.
        assert_eq!(
            li.post(
                &format!("/api/v1/pools/{pool_id}/claim"),
                json!({"ids": [id1]})
            )
            .await
            .0,
            200
        );
        assert_eq!(
            li.get(&format!("/api/v1/customers/{id1}")).await.0,
            200,
            "li owns it now"
        );
        assert!(
            pools::warning_at(&app.db, id1).await.unwrap().is_some(),
            "a claimed customer has a deadline and a warning again"
        );
        let (s, _) = zhang
            .post(
                &format!("/api/v1/customers/{id3}/release"),
                json!({"reason": "nope"}),
            )
            .await;
        assert_eq!(s, 422, "the reason comes from the dictionary");
        assert_eq!(
            zhang
                .post(
                    &format!("/api/v1/customers/{id3}/release"),
                    json!({"reason": "no_need"})
                )
                .await
                .0,
            200
        );
        assert_eq!(
            pools::warning_at(&app.db, id3).await.unwrap(),
            None,
            "released: no deadline, no warning"
        );
        let (s, v) = li
            .post(
                &format!("/api/v1/pools/{pool_id}/claim"),
                json!({"ids": [id3]}),
            )
            .await;
        assert_eq!(s, 409, "{v}");
        assert!(v["error"]["message"].as_str().unwrap().contains('1'), "{v}");
        let (s, _) = zhang
            .post(
                &format!("/api/v1/pools/{pool_id}/claim"),
                json!({"ids": [id3]}),
            )
            .await;
        assert_eq!(s, 409, "cool-down");
        // Two users race for one customer: exactly one gets it.
        let wang = app.api("wang", "password-123").await;
        let zhao = app.api("zhao", "password-123").await;
        let path = format!("/api/v1/pools/{pool_id}/claim");
        let (a, b) = tokio::join!(
            wang.post(&path, json!({"ids": [id3]})),
            zhao.post(&path, json!({"ids": [id3]}))
        );
        let mut codes = [a.0, b.0];
        codes.sort();
        assert_eq!(codes, [200, 409], "{a:?} {b:?}");
        let timeline = admin
            .ok("GET", &format!("/api/v1/customers/{id3}/ownership"), None)
            .await;
        let events: Vec<&str> = timeline
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event"].as_str().unwrap())
            .collect();
        assert_eq!(events, ["claim", "release", "create"], "{timeline}");
        let hist = admin
            .ok("GET", &format!("/api/v1/customers/{id1}/history"), None)
            .await;
        assert!(
            hist.to_string().contains("fall_back") && hist.to_string().contains("claim"),
            "{hist}"
        );

        // Roles that may not see contact details in pools see masked phones.
        zhang
            .ok(
                "POST",
                "/api/v1/customers",
                Some(json!({"name": "掩码测试", "phone": "13812345678"})),
            )
            .await;
        let masked = app.db.clone();
        let sql = "UPDATE roles SET pool_contacts_visible = FALSE WHERE code = 'sales'";
        match &masked {
            guanxi_store::Db::Sqlite { write, .. } => {
                sqlx::query(sql).execute(write).await.unwrap();
            }
            guanxi_store::Db::Postgres(p) => {
                sqlx::query(sql).execute(p).await.unwrap();
            }
        }
        let id5 = zhang.ok("GET", "/api/v1/customers?q=掩码测试", None).await["items"][0]["id"]
            .as_i64()
            .unwrap();
        assert_eq!(
            zhang
                .post(
                    &format!("/api/v1/customers/{id5}/release"),
                    json!({"reason": "other"})
                )
                .await
                .0,
            200
        );
        let in_pool = wang
            .ok(
                "GET",
                &format!("/api/v1/pools/{pool_id}/customers?q=掩码测试"),
                None,
            )
            .await;
        assert_eq!(in_pool["items"][0]["phone"], "138****5678", "{in_pool}");
        app.finish().await;
    }
}

#[tokio::test]
async fn a_recurring_job_is_queued_once_by_two_schedulers() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        // Two servers' schedulers over the same database, at the same moment.
        let url_db = app.db.clone();
        let a = AppState::new(app.db.clone(), WebConfig::default());
        let b = AppState::new(url_db, WebConfig::default());
        let before = guanxi_store::jobs::recent(&app.db, 1000)
            .await
            .unwrap()
            .iter()
            .filter(|j| j.kind == "pools.sweep")
            .count();
        let (ra, rb) = tokio::join!(
            guanxi_web::jobs::schedule(&a),
            guanxi_web::jobs::schedule(&b)
        );
        ra.unwrap();
        rb.unwrap();
        let after = guanxi_store::jobs::recent(&app.db, 1000)
            .await
            .unwrap()
            .iter()
            .filter(|j| j.kind == "pools.sweep")
            .count();
        // Three schedulers (the test server's runner and these two) within one period: the run
        // is queued exactly once.
        let _ = before;
        assert_eq!(after, 1, "one run queued, whoever asked");
        app.finish().await;
    }
}
