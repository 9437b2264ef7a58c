//! Departments, users, roles, settings and the audit log through the API, on every database.

mod common;

use common::{TestApp, backends};
use serde_json::json;

#[tokio::test]
async fn department_tree_create_rename_move_delete() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let api = app.admin().await;
        let sales = api.department("销售部", None).await;
        let east = api.department("华东区", Some(sales)).await;
        let shanghai = api.department("上海组", Some(east)).await;
        let service = api.department("客服部", None).await;
        let (s, v) = api
            .post(
                "/api/v1/departments",
                json!({"name": "华东区", "parent_id": sales}),
            )
            .await;
        assert_eq!(
            (s, v["error"]["fields"]["name"].is_string()),
            (422, true),
            "sibling names are unique: {v}"
        );
        let (s, _) = api
            .post(
                "/api/v1/departments",
                json!({"name": "x", "parent_id": 9999}),
            )
            .await;
        assert_eq!(s, 422);
        // Moving under its own child is refused; moving elsewhere carries the subtree.
        let (s, _) = api
            .call(
                "PATCH",
                &format!("/api/v1/departments/{sales}"),
                Some(json!({"name": "销售部", "parent_id": shanghai})),
            )
            .await;
        assert_eq!(s, 422);
        api.ok(
            "PATCH",
            &format!("/api/v1/departments/{east}"),
            Some(json!({"name": "华东大区", "parent_id": service})),
        )
        .await;
        let list = api.ok("GET", "/api/v1/departments", None).await;
        let sh = list
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["id"] == shanghai)
            .unwrap();
        assert_eq!(sh["path"], format!("/{service}/{east}/{shanghai}/"));
        // Not empty → 409 with a message; empty → deleted.
        let (s, v) = api
            .call("DELETE", &format!("/api/v1/departments/{east}"), None)
            .await;
        assert_eq!(s, 409);
        assert!(v["error"]["message"].as_str().unwrap().contains('1'));
        assert_eq!(
            api.call("DELETE", &format!("/api/v1/departments/{shanghai}"), None)
                .await
                .0,
            204
        );
        assert_eq!(
            api.call("DELETE", &format!("/api/v1/departments/{shanghai}"), None)
                .await
                .0,
            404
        );
        assert_eq!(
            api.call("DELETE", "/api/v1/departments/abc", None).await.0,
            404
        );
        let log = api
            .ok("GET", "/api/v1/audit-log?module=departments", None)
            .await;
        let actions: Vec<&str> = log["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert!(
            actions.contains(&"department.create")
                && actions.contains(&"department.update")
                && actions.contains(&"department.delete")
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn users_are_validated_and_unique() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let api = app.admin().await;
        let sales = api.role_id("sales").await;
        let (s, v) = api.post("/api/v1/users", json!({"username": "li.si", "display_name": "李四", "mobile": "+86 139-1234-5678", "role_ids": [sales]})).await;
        assert_eq!(s, 201, "{v}");
        assert_eq!(v["mobile"], "13912345678");
        assert!(
            v["initial_password"].as_str().unwrap().len() >= 12,
            "a generated password is returned once"
        );
        let (s, v) = api
            .post(
                "/api/v1/users",
                json!({"username": "LI.SI", "display_name": "x"}),
            )
            .await;
        assert_eq!(s, 422);
        assert!(
            v["error"]["fields"]["username"]
                .as_str()
                .unwrap()
                .contains("已被使用")
        );
        let (s, v) = api.post("/api/v1/users", json!({"username": "w", "display_name": "", "email": "bad", "mobile": "123", "password": "short"})).await;
        assert_eq!(s, 422);
        let f = &v["error"]["fields"];
        for k in ["username", "display_name", "email", "mobile", "password"] {
            assert!(f[k].is_string(), "{k} missing in {v}");
        }
        let (s, _) = api
            .post(
                "/api/v1/users",
                json!({"username": "ww", "display_name": "x", "role_ids": [999]}),
            )
            .await;
        assert_eq!(s, 422);
        // Bad JSON is a clear 400, not a panic.
        let r = reqwest::Client::new()
            .post(app.url("/api/v1/users"))
            .bearer_auth(&api.token)
            .header("content-type", "application/json")
            .body("{")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let list = api.ok("GET", "/api/v1/users?q=李", None).await;
        assert_eq!(list["items"].as_array().unwrap().len(), 1);
        // Cursor pagination.
        for i in 0..5 {
            api.user(&format!("p{i}"), None, &[]).await;
        }
        let p1 = api.ok("GET", "/api/v1/users?limit=3", None).await;
        assert_eq!(p1["items"].as_array().unwrap().len(), 3);
        let p2 = api
            .ok(
                "GET",
                &format!("/api/v1/users?limit=3&cursor={}", p1["next_cursor"]),
                None,
            )
            .await;
        assert_eq!(p2["items"].as_array().unwrap().len(), 3);
        assert_ne!(p1["items"][0]["id"], p2["items"][0]["id"]);
        app.finish().await;
    }
}

#[tokio::test]
async fn roles_permissions_and_settings() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let api = app.admin().await;
        let (s, role) = api
            .post(
                "/api/v1/roles",
                json!({"name": "区域经理", "permissions": {
            "users": {"actions": ["view", "edit"], "scope": "department_tree"},
            "departments": {"actions": ["view"], "scope": "all"}}}),
            )
            .await;
        assert_eq!(s, 201, "{role}");
        let rid = role["id"].as_i64().unwrap();
        assert_eq!(role["permissions"]["users"]["scope"], "department_tree");
        let (s, _) = api.post("/api/v1/roles", json!({"name": "x", "permissions": {"users": {"actions": ["fly"], "scope": "all"}}})).await;
        assert_eq!(s, 422);
        let (s, _) = api.post("/api/v1/roles", json!({"name": "区域经理"})).await;
        assert_eq!(s, 422, "role names are unique");
        let uid = api.user("wang", None, &[rid]).await;
        assert_eq!(
            api.call("DELETE", &format!("/api/v1/roles/{rid}"), None)
                .await
                .0,
            409,
            "in use"
        );
        let admin_role = api.role_id("admin").await;
        assert_eq!(
            api.call("DELETE", &format!("/api/v1/roles/{admin_role}"), None)
                .await
                .0,
            409
        );
        // The administrator role keeps every right even if someone tries to strip it.
        let v = api
            .ok(
                "PUT",
                &format!("/api/v1/roles/{admin_role}"),
                Some(json!({"name": "", "permissions": {}})),
            )
            .await;
        assert!(
            v["permissions"]["roles"]["actions"]
                .as_array()
                .unwrap()
                .len()
                >= 4
        );
        api.ok(
            "PATCH",
            &format!("/api/v1/users/{uid}"),
            Some(json!({"display_name": "wang", "role_ids": []})),
        )
        .await;
        assert_eq!(
            api.call("DELETE", &format!("/api/v1/roles/{rid}"), None)
                .await
                .0,
            204
        );
        // Settings.
        let (s, _) = api.call("PUT", "/api/v1/settings", Some(json!({"company_name": "", "default_locale": "xx", "default_time_zone": "Asia/Shanghai"}))).await;
        assert_eq!(s, 422);
        let v = api.ok("PUT", "/api/v1/settings", Some(json!({"company_name": "杭州示例科技", "default_locale": "en", "default_time_zone": "Asia/Shanghai"}))).await;
        assert_eq!(v["company_name"], "杭州示例科技");
        let log = api
            .ok("GET", "/api/v1/audit-log?action=settings.update", None)
            .await;
        assert_eq!(
            log["items"][0]["details"]["after"]["company_name"],
            "杭州示例科技"
        );
        let log = api
            .ok("GET", "/api/v1/audit-log?action=role.update", None)
            .await;
        assert_eq!(log["items"].as_array().unwrap().len(), 1);
        app.finish().await;
    }
}

#[tokio::test]
async fn audit_log_exports_csv_and_xlsx() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let api = app.admin().await;
        api.department("=HYPERLINK(\"x\")", None).await;
        let web = app.browser_client();
        web.post(app.url("/login"))
            .form(&[("username", "admin"), ("password", common::ADMIN_PASSWORD)])
            .send()
            .await
            .unwrap();
        let csv = web
            .get(app.url("/admin/audit/export?format=csv"))
            .send()
            .await
            .unwrap();
        assert_eq!(csv.status(), 200);
        let body = csv.text().await.unwrap();
        assert!(body.starts_with('\u{feff}'), "BOM for Excel");
        assert!(body.contains("department.create"));
        assert!(
            body.contains("'=HYPERLINK"),
            "formulas are neutralised: {body}"
        );
        let x = web
            .get(app.url("/admin/audit/export?format=xlsx"))
            .send()
            .await
            .unwrap();
        assert_eq!(x.status(), 200);
        assert_eq!(&x.bytes().await.unwrap()[..2], b"PK");
        let log = api
            .ok("GET", "/api/v1/audit-log?action=audit.export", None)
            .await;
        assert_eq!(
            log["items"].as_array().unwrap().len(),
            2,
            "exports are audited"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn schemas_of_both_databases_match() {
    let sqlite = TestApp::spawn(guanxi_store::Backend::Sqlite).await;
    let s = guanxi_store::migrate::schema(&sqlite.db).await.unwrap();
    assert!(s.iter().any(|(t, _)| t == "users"));
    if backends().contains(&guanxi_store::Backend::Postgres) {
        let pg = TestApp::spawn(guanxi_store::Backend::Postgres).await;
        let p = guanxi_store::migrate::schema(&pg.db).await.unwrap();
        assert_eq!(
            s, p,
            "the SQLite and PostgreSQL migrations must produce the same tables and columns"
        );
        pg.finish().await;
    }
    sqlite.finish().await;
}

/// Every GET route of the OpenAPI document without parameters answers 200 for an administrator,
/// with JSON where the document says so. (`openapi_routes.rs` checks the document against the
/// router in both directions and calls every documented operation with real ids.)
#[tokio::test]
async fn openapi_document_matches_the_server() {
    let app = TestApp::spawn(guanxi_store::Backend::Sqlite).await;
    let doc: serde_json::Value = reqwest::get(app.url("/api/v1/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let api = app.admin().await;
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 15);
    for (path, ops) in paths {
        // Server-sent event streams never end; their own tests read them.
        if ops.get("get").is_some() && !path.contains('{') && !path.ends_with("/stream") {
            let (s, v) = api.get(path).await;
            assert_eq!(s, 200, "GET {path}: {v}");
            let content = &ops["get"]["responses"]["200"]["content"];
            if content.get("application/json").is_some() {
                assert!(v.is_object() || v.is_array(), "GET {path} returns JSON");
            }
        }
    }
    let docs = reqwest::get(app.url("/api/docs/")).await.unwrap();
    assert_eq!(docs.status(), 200, "offline API docs page");
    app.finish().await;
}
