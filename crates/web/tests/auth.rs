//! Sign-in, sessions, throttling, tokens, two-factor login, CSRF and security headers.

mod common;

use common::{ADMIN_PASSWORD, TestApp, backends};
use serde_json::json;

#[tokio::test]
async fn login_logout_and_wrong_credentials() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let c = reqwest::Client::new();
        let login = |u: &str, p: &str| {
            c.post(app.url("/api/v1/auth/login"))
                .json(&json!({"username": u, "password": p}))
                .send()
        };
        let wrong_pw = login("admin", "nope").await.unwrap();
        assert_eq!(wrong_pw.status(), 401);
        let m1 = wrong_pw.text().await.unwrap();
        let unknown = login("ghost", "nope").await.unwrap();
        assert_eq!(unknown.status(), 401);
        assert_eq!(
            m1,
            unknown.text().await.unwrap(),
            "no hint which part was wrong ({b:?})"
        );
        let api = app.admin().await;
        let (s, me) = api.get("/api/v1/me").await;
        assert_eq!(s, 200);
        assert_eq!(me["username"], "admin");
        assert_eq!(api.call("POST", "/api/v1/auth/logout", None).await.0, 204);
        assert_eq!(api.get("/api/v1/me").await.0, 401, "session ends at logout");
        // Audit: failed and successful logins are recorded.
        let admin = app.admin().await;
        let log = admin
            .ok("GET", "/api/v1/audit-log?action=login.failed", None)
            .await;
        assert!(log["items"].as_array().unwrap().len() >= 2);
        let log = admin
            .ok("GET", "/api/v1/audit-log?action=logout", None)
            .await;
        assert_eq!(log["items"].as_array().unwrap().len(), 1);
        app.finish().await;
    }
}

#[tokio::test]
async fn account_locks_after_repeated_failures_and_disabled_users_lose_sessions() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let admin = app.admin().await;
        let sales = admin.role_id("sales").await;
        let id = admin.user("zhang", None, &[sales]).await;
        let zhang = app.api("zhang", "password-123").await;
        let c = reqwest::Client::new();
        for _ in 0..5 {
            let r = c
                .post(app.url("/api/v1/auth/login"))
                .json(&json!({"username": "zhang", "password": "bad"}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 401);
        }
        let r = c
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({"username": "zhang", "password": "password-123"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 429, "locked even with the right password");
        assert_eq!(
            zhang.get("/api/v1/me").await.0,
            401,
            "a locked account's sessions end"
        );
        // An administrator's reset lifts the lock.
        let (s, v) = admin
            .post(&format!("/api/v1/users/{id}/reset-password"), json!({}))
            .await;
        assert_eq!(s, 200);
        let pw = v["password"].as_str().unwrap().to_owned();
        let zhang = app.api("zhang", &pw).await;
        assert_eq!(zhang.get("/api/v1/me").await.0, 200);
        // Disabling ends the session at once and refuses new logins.
        admin
            .ok(
                "PATCH",
                &format!("/api/v1/users/{id}"),
                Some(json!({"display_name": "zhang", "is_active": false})),
            )
            .await;
        assert_eq!(zhang.get("/api/v1/me").await.0, 401);
        let r = c
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({"username": "zhang", "password": pw}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        app.finish().await;
    }
}

#[tokio::test]
async fn api_tokens_are_shown_once_and_revocable() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let admin = app.admin().await;
        let (s, t) = admin
            .post("/api/v1/me/tokens", json!({"name": "ERP sync"}))
            .await;
        assert_eq!(s, 201);
        let secret = t["secret"].as_str().unwrap();
        assert!(secret.starts_with("gx_"));
        let list = admin.ok("GET", "/api/v1/me/tokens", None).await;
        assert!(
            !list.to_string().contains(secret),
            "the secret is never listed"
        );
        let tok = common::Api {
            base: app.base.clone(),
            token: secret.to_owned(),
            client: reqwest::Client::new(),
        };
        assert_eq!(tok.get("/api/v1/users").await.0, 200);
        admin
            .ok("DELETE", &format!("/api/v1/me/tokens/{}", t["id"]), None)
            .await;
        assert_eq!(tok.get("/api/v1/users").await.0, 401);
        app.finish().await;
    }
}

#[tokio::test]
async fn password_change_and_preferences() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let admin = app.admin().await;
        let (s, v) = admin
            .post(
                "/api/v1/me/password",
                json!({"current_password": "wrong", "new_password": "new-password-9"}),
            )
            .await;
        assert_eq!(s, 422);
        assert!(v["error"]["fields"]["current_password"].is_string());
        let (s, _) = admin
            .post(
                "/api/v1/me/password",
                json!({"current_password": ADMIN_PASSWORD, "new_password": "short"}),
            )
            .await;
        assert_eq!(s, 422);
        let (s, _) = admin
            .post(
                "/api/v1/me/password",
                json!({"current_password": ADMIN_PASSWORD, "new_password": "new-password-9"}),
            )
            .await;
        assert_eq!(s, 204);
        app.api("admin", "new-password-9").await;
        // Language is remembered per user and errors follow it.
        assert_eq!(
            admin
                .call("PATCH", "/api/v1/me", Some(json!({"locale": "en"})))
                .await
                .0,
            204
        );
        let (_, v) = admin.post("/api/v1/departments", json!({"name": ""})).await;
        assert_eq!(v["error"]["fields"]["name"], "Required.");
        let (s, _) = admin
            .call(
                "PATCH",
                "/api/v1/me",
                Some(json!({"time_zone": "Mars/Base"})),
            )
            .await;
        assert_eq!(s, 422);
        app.finish().await;
    }
}

#[tokio::test]
async fn totp_two_factor_login() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let web = app.browser_client();
        let r = web
            .post(app.url("/login"))
            .form(&[
                ("username", "admin"),
                ("password", ADMIN_PASSWORD),
                ("next", "/"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let r = web.post(app.url("/me/2fa")).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let page = web
            .get(app.url("/me/2fa"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let secret = page
            .split("id=\"totp-secret\">")
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_owned();
        let code = |t: i64| {
            guanxi_core::security::totp_code(
                &guanxi_core::security::base32_decode(&secret).unwrap(),
                t,
            )
        };
        let now = chrono::Utc::now().timestamp();
        let r = web
            .post(app.url("/me/2fa/confirm"))
            .form(&[("code", "000000")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        let r = web
            .post(app.url("/me/2fa/confirm"))
            .form(&[("code", code(now).as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        // API login now needs the code.
        let c = reqwest::Client::new();
        let r = c
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        assert_eq!(
            r.json::<serde_json::Value>().await.unwrap()["error"]["code"],
            "totp_required"
        );
        let r = c
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({"username": "admin", "password": ADMIN_PASSWORD, "totp": code(now)}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        // The browser goes through the second step.
        let web2 = app.browser_client();
        let r = web2
            .post(app.url("/login"))
            .form(&[
                ("username", "admin"),
                ("password", ADMIN_PASSWORD),
                ("next", "/"),
            ])
            .send()
            .await
            .unwrap();
        assert!(
            r.headers()["location"]
                .to_str()
                .unwrap()
                .starts_with("/login/2fa")
        );
        assert_eq!(
            web2.get(app.url("/")).send().await.unwrap().status(),
            303,
            "pending second factor is not signed in"
        );
        let r = web2
            .post(app.url("/login/2fa"))
            .form(&[("code", code(now).as_str()), ("next", "/")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(web2.get(app.url("/")).send().await.unwrap().status(), 200);
        app.finish().await;
    }
}

#[tokio::test]
async fn csrf_security_headers_health_and_metrics() {
    let app = TestApp::spawn(guanxi_store::Backend::Sqlite).await;
    let c = reqwest::Client::new();
    let r = c
        .post(app.url("/login"))
        .header("origin", "http://evil.example")
        .header("sec-fetch-site", "cross-site")
        .form(&[("username", "admin"), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "cross-origin form posts are refused");
    let r = c.get(app.url("/login")).send().await.unwrap();
    let h = r.headers();
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
    assert_eq!(h["x-frame-options"], "DENY");
    assert!(h.contains_key("x-request-id"));
    assert_eq!(
        c.get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "ok\n"
    );
    let m = c
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        m.contains("guanxi_http_requests_total{method=\"GET\",route=\"/login\",status=\"200\"} 1"),
        "{m}"
    );
    assert!(m.contains("guanxi_db_pool_connections"));
    let css = c.get(app.url("/assets/app.css")).send().await.unwrap();
    assert!(
        css.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    app.finish().await;
}

#[tokio::test]
async fn a_role_can_demand_two_factor_login() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let admin = app.admin().await;
        let (_, role) = admin
            .post(
                "/api/v1/roles",
                json!({"name": "财务主管", "require_totp": true,
            "permissions": {"users": {"actions": ["view"], "scope": "own"}}}),
            )
            .await;
        admin
            .user("cfo", None, &[role["id"].as_i64().unwrap()])
            .await;
        let cfo = app.api("cfo", "password-123").await;
        let (s, v) = cfo.get("/api/v1/users").await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (403, Some("totp_setup_required"))
        );
        let web = app.browser_client();
        web.post(app.url("/login"))
            .form(&[("username", "cfo"), ("password", "password-123")])
            .send()
            .await
            .unwrap();
        let r = web.get(app.url("/")).send().await.unwrap();
        assert_eq!(
            r.headers()["location"],
            "/me/2fa",
            "sent to the set-up page first"
        );
        assert_eq!(
            web.get(app.url("/me/2fa")).send().await.unwrap().status(),
            200
        );
        app.finish().await;
    }
}
