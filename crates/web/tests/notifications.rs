//! Notifications (站内消息) on every database: written through the service in a transaction,
//! listed with keyset pages and rendered in the reader's language, read one by one or all at
//! once, invisible and untouchable to another user; the live feed delivers a notification
//! written after it opened; the sweep and pool moves waking the feeds of the users they
//! notify; the administrators' jobs page and the rules' daily run.

mod common;
mod rules_common;

use std::time::Duration;

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use common::{Api, TestApp, backends};
use guanxi_web::jobs::{SCHEDULES, schedule};
use guanxi_web::services::notifications::{notify, wake};
use guanxi_web::services::sweep::sweep;
use guanxi_web::services::{pools, rules};
use guanxi_web::{AppState, WebConfig};
use rules_common::{manufacturing_and_score, reevaluated, rule};
use serde_json::{Value, json};

/// Writes a notification the way a module does: inside a transaction, woken after the commit.
async fn add(app: &TestApp, user: i64, kind: &str, args: Value, link: Option<&str>) -> i64 {
    let state = AppState::new(app.db.clone(), WebConfig::default());
    let mut tx = app.db.begin().await.unwrap();
    let id = notify(&state, &mut tx, user, kind, args, link)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    wake(&state, user);
    id
}

async fn unread(api: &Api) -> i64 {
    api.ok("GET", "/api/v1/notifications/unread-count", None)
        .await["unread"]
        .as_i64()
        .unwrap()
}

/// A client with the API token that does not follow redirects (to see where they lead).
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn list_read_and_isolation() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin().await;
        let li_id = admin.user("li", None, &[]).await;
        let li = app.api("li", "password-123").await;
        let admin_id = admin.ok("GET", "/api/v1/me", None).await["id"]
            .as_i64()
            .unwrap();

        let warn = add(
            &app,
            li_id,
            "fall_back_warning",
            json!({ "customer": "杭州云峰科技", "days": 3, "date": "2025-06-01" }),
            Some("/customers/7"),
        )
        .await;
        let transfer = add(
            &app,
            li_id,
            "transfer",
            json!({ "customer": "宁波海港", "by": "王经理" }),
            Some("/customers/8"),
        )
        .await;
        let claim = add(
            &app,
            li_id,
            "claim",
            json!({ "customer": "温州鞋业", "by": "赵六" }),
            None,
        )
        .await;
        let admins = add(
            &app,
            admin_id,
            "fall_back",
            json!({ "customer": "绍兴纺织" }),
            None,
        )
        .await;
        assert!(warn < transfer && transfer < claim);

        // Newest first, two to a page; rendered in the reader's language.
        let page = li.ok("GET", "/api/v1/notifications?limit=2", None).await;
        let ids: Vec<i64> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, [claim, transfer], "{backend:?}");
        assert_eq!(
            page["items"][1]["text"],
            "王经理 把客户“宁波海港”转给了你。"
        );
        assert_eq!(page["items"][1]["link"], "/customers/8");
        assert!(page["items"][0]["read_at"].is_null());
        let next = page["next"].as_i64().unwrap();
        let rest = li
            .ok(
                "GET",
                &format!("/api/v1/notifications?limit=2&before={next}"),
                None,
            )
            .await;
        assert_eq!(rest["items"].as_array().unwrap().len(), 1);
        assert_eq!(rest["items"][0]["id"], warn);
        assert_eq!(
            rest["items"][0]["text"],
            "客户“杭州云峰科技”将在 3 天后（2025-06-01）回落公海，请及时跟进。"
        );
        assert!(rest["next"].is_null());
        assert_eq!(unread(&li).await, 3);

        // Another user neither sees nor marks li's notifications.
        let theirs = admin.ok("GET", "/api/v1/notifications", None).await;
        let theirs: Vec<i64> = theirs["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["id"].as_i64().unwrap())
            .collect();
        assert_eq!(theirs, [admins]);
        let (s, _) = admin
            .post(&format!("/api/v1/notifications/{warn}/read"), json!({}))
            .await;
        assert_eq!(s, 404);
        admin
            .ok("POST", "/api/v1/notifications/read-all", None)
            .await;
        assert_eq!(unread(&li).await, 3);
        assert_eq!(unread(&admin).await, 0);
        let r = no_redirects()
            .get(app.url(&format!("/notifications/{warn}/open")))
            .bearer_auth(&admin.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        assert_eq!(unread(&li).await, 3);

        // One read (twice is fine), then the rest.
        for _ in 0..2 {
            let (s, _) = li
                .post(&format!("/api/v1/notifications/{claim}/read"), json!({}))
                .await;
            assert_eq!(s, 204);
        }
        assert_eq!(unread(&li).await, 2);
        let (s, _) = li
            .post("/api/v1/notifications/999999/read", json!({}))
            .await;
        assert_eq!(s, 404);
        // Opening one from the page marks it read and goes to its record.
        let r = no_redirects()
            .get(app.url(&format!("/notifications/{transfer}/open")))
            .bearer_auth(&li.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/customers/8");
        assert_eq!(unread(&li).await, 1);
        let all = li.ok("POST", "/api/v1/notifications/read-all", None).await;
        assert_eq!(all["marked"], 1);
        assert_eq!(unread(&li).await, 0);

        // In English once li prefers it.
        li.ok("PATCH", "/api/v1/me", Some(json!({ "locale": "en" })))
            .await;
        let en = li
            .ok(
                "GET",
                &format!("/api/v1/notifications?before={claim}"),
                None,
            )
            .await;
        assert_eq!(
            en["items"][0]["text"],
            "王经理 transferred customer “宁波海港” to you."
        );
        assert!(en["items"][0]["read_at"].is_string());

        // A link must stay inside Guanxi.
        let state = AppState::new(app.db.clone(), WebConfig::default());
        let mut tx = app.db.begin().await.unwrap();
        let outside = notify(
            &state,
            &mut tx,
            li_id,
            "claim",
            json!({}),
            Some("//evil.example/x"),
        )
        .await;
        assert!(outside.is_err());
        drop(tx);
        app.finish().await;
    }
}

/// Reads the event stream until `needle` shows up; returns everything read.
async fn read_until(resp: &mut reqwest::Response, seen: &mut String, needle: &str) {
    let found = tokio::time::timeout(Duration::from_secs(15), async {
        while !seen.contains(needle) {
            let chunk = resp.chunk().await.unwrap().expect("the stream ended");
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await;
    assert!(found.is_ok(), "no {needle:?} in {seen:?}");
}

#[tokio::test]
async fn live_feed_delivers_new_notifications() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin().await;
        let li_id = admin.user("li", None, &[]).await;
        let li = app.api("li", "password-123").await;
        let mut resp = reqwest::Client::new()
            .get(app.url("/api/v1/notifications/stream"))
            .bearer_auth(&li.token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        let mut seen = String::new();
        read_until(&mut resp, &mut seen, "event: unread\ndata: 0\n").await;

        // Written straight into the database, as another server instance would: found by polling.
        let mut tx = app.db.begin().await.unwrap();
        let id = guanxi_store::notifications::add(
            &mut tx,
            li_id,
            "fall_back",
            &json!({ "customer": "杭州云峰科技" }),
            Some("/customers/3"),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        read_until(&mut resp, &mut seen, "event: notification\n").await;
        read_until(&mut resp, &mut seen, "event: unread\ndata: 1\n").await;
        let data = seen
            .split("event: notification\ndata: ")
            .nth(1)
            .and_then(|s| s.lines().next())
            .unwrap();
        let n: Value = serde_json::from_str(data).unwrap();
        assert_eq!(n["id"], id);
        assert_eq!(n["text"], "客户“杭州云峰科技”已回落公海。");
        assert_eq!(n["link"], "/customers/3");

        // Reading it elsewhere updates the count on the open feed.
        li.ok("POST", "/api/v1/notifications/read-all", None).await;
        read_until(&mut resp, &mut seen, "event: unread\ndata: 0\n").await;

        // No feed without signing in.
        let r = reqwest::get(app.url("/api/v1/notifications/stream"))
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        drop(resp);

        // The feed ends with its session: the check it makes every half minute.
        let digest = guanxi_core::security::token_digest(&li.token);
        let alive = |user| guanxi_store::notifications::listener_alive(&app.db, user, &digest);
        assert!(alive(li_id).await.unwrap());
        let admin_id = admin.ok("GET", "/api/v1/me", None).await["id"]
            .as_i64()
            .unwrap();
        assert!(!alive(admin_id).await.unwrap(), "another user's session");
        li.ok("POST", "/api/v1/auth/logout", None).await;
        assert!(!alive(li_id).await.unwrap(), "signed out");
        app.finish().await;
    }
}

#[tokio::test]
async fn jobs_page_for_administrators_only() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin().await;
        admin.user("li", None, &[]).await;
        let li = app.api("li", "password-123").await;
        let mut tx = app.db.begin().await.unwrap();
        let job = guanxi_store::jobs::enqueue(&mut tx, "pools.sweep", &json!({}), None)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        // The recurring jobs are on the page, the rules' daily run among them.
        let state = AppState::new(app.db.clone(), WebConfig::default());
        guanxi_web::jobs::schedule(&state).await.unwrap();
        let page = |api: &Api| {
            reqwest::Client::new()
                .get(app.url("/admin/jobs"))
                .bearer_auth(api.token.clone())
                .send()
        };
        let r = page(&admin).await.unwrap();
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("后台任务"));
        assert!(html.contains(&format!("id=\"job-{job}\"")), "{html}");
        assert!(html.contains("公海回落检查") && html.contains("规则重新评估"));
        assert!(
            html.contains("每 1 天") && html.contains("每 1 分钟"),
            "{html}"
        );
        assert!(html.contains("href=\"/admin/jobs\""), "in the menu");
        assert_eq!(page(&li).await.unwrap().status(), 403);
        let home = reqwest::Client::new()
            .get(app.url("/"))
            .bearer_auth(&li.token)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!home.contains("href=\"/admin/jobs\""));
        assert!(home.contains("id=\"bell-count\""));
        app.finish().await;
    }
}

#[tokio::test]
async fn the_sweep_and_pool_moves_wake_the_users_they_notify() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let state = AppState::new(app.db.clone(), WebConfig::default());
        let mut woken = state.notifications.subscribe();
        let admin = app.admin().await;
        let admin_id = admin.ok("GET", "/api/v1/me", None).await["id"]
            .as_i64()
            .unwrap();
        let sales = admin.role_id("sales").await;
        let east = admin.department("华东", None).await;
        let zhang_id = admin.user("zhang", Some(east), &[sales]).await;
        let pool = admin
            .ok(
                "POST",
                "/api/v1/pools",
                Some(
                    json!({"name": "华东公海", "fall_back_days": 30, "warn_days": 5,
                    "members": [{"kind": "department", "ref_id": east}]}),
                ),
            )
            .await["id"]
            .as_i64()
            .unwrap();
        let zhang = app.api("zhang", "password-123").await;
        let id = zhang
            .ok(
                "POST",
                "/api/v1/customers",
                Some(json!({"name": "宁波海港"})),
            )
            .await["id"]
            .as_i64()
            .unwrap();
        let c = zhang
            .ok("GET", &format!("/api/v1/customers/{id}"), None)
            .await;
        let deadline = DateTime::parse_from_rfc3339(c["fall_back_at"].as_str().unwrap())
            .unwrap()
            .with_timezone(&Utc);

        // The warning, the fall-back and a manager's assignment each wake the owner's feeds.
        let r = sweep(&state, deadline - ChronoDuration::days(2), false)
            .await
            .unwrap();
        assert_eq!(r.warned.len(), 1);
        assert_eq!(woken.try_recv().unwrap(), zhang_id);
        let r = sweep(&state, deadline + ChronoDuration::minutes(1), false)
            .await
            .unwrap();
        assert_eq!(r.fell_back.len(), 1);
        assert_eq!(woken.try_recv().unwrap(), zhang_id);
        let auth = guanxi_web::jobs::acting_for(&state, admin_id)
            .await
            .unwrap();
        pools::assign(&state, &auth, pool, &[id], zhang_id)
            .await
            .unwrap();
        assert_eq!(woken.try_recv().unwrap(), zhang_id);
        assert!(woken.try_recv().is_err(), "one wake a move");

        let list = zhang.ok("GET", "/api/v1/notifications", None).await;
        let kinds: Vec<&str> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            ["transfer", "fall_back", "fall_back_warning"],
            "{list}"
        );
        app.finish().await;
    }
}

/// Makes the daily re-evaluation due now.
async fn daily_run_due(db: &guanxi_store::Db) {
    let sql = "UPDATE schedules SET next_run_at = $1 WHERE name = 'rules.reevaluate'";
    let at = guanxi_store::now() - ChronoDuration::seconds(1);
    match db {
        guanxi_store::Db::Sqlite { write, .. } => {
            sqlx::query(sql).bind(at).execute(write).await.unwrap();
        }
        guanxi_store::Db::Postgres(p) => {
            sqlx::query(sql).bind(at).execute(p).await.unwrap();
        }
    }
}

#[tokio::test]
async fn the_rules_run_again_daily_once_and_only_with_active_rules() {
    let daily: Vec<_> = SCHEDULES
        .iter()
        .filter(|(kind, _)| *kind == rules::JOB_REEVALUATE)
        .collect();
    assert_eq!(daily, [&(rules::JOB_REEVALUATE, 86_400)]);
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin().await;
        let a = AppState::new(app.db.clone(), WebConfig::default());
        let b = AppState::new(app.db.clone(), WebConfig::default());
        let system_runs = || async {
            guanxi_store::jobs::recent(&app.db, 1000)
                .await
                .unwrap()
                .iter()
                .filter(|j| j.kind == rules::JOB_REEVALUATE && j.created_by.is_none())
                .count()
        };

        // Without an active rule a due day queues nothing.
        schedule(&a).await.unwrap();
        daily_run_due(&app.db).await;
        schedule(&a).await.unwrap();
        assert_eq!(system_runs().await, 0);

        // With one, two schedulers and the test server's runner queue it once, and it runs.
        rule(
            &admin,
            "classification",
            "重点制造",
            manufacturing_and_score(50),
            "a",
        )
        .await;
        reevaluated(&app.db).await;
        daily_run_due(&app.db).await;
        let (ra, rb) = tokio::join!(schedule(&a), schedule(&b));
        ra.unwrap();
        rb.unwrap();
        assert_eq!(system_runs().await, 1);
        reevaluated(&app.db).await;
        app.finish().await;
    }
}
