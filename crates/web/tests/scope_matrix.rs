//! The data-scope matrix: for each scope (own / department / department and below / all), a
//! viewer reaches exactly the users inside it — by list, search, detail, update, and the HTML
//! pages — and nothing outside it (404, not 403, so ids do not leak).

mod common;

use std::collections::BTreeSet;

use common::{TestApp, backends};
use serde_json::json;

#[tokio::test]
async fn every_path_applies_the_data_scope() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let admin = app.admin().await;
        let hq = admin.department("总部", None).await;
        let east = admin.department("华东", Some(hq)).await;
        let shanghai = admin.department("上海", Some(east)).await;
        let north = admin.department("华北", None).await;
        let mut targets = vec![];
        for (name, dept) in [("a1", hq), ("b1", east), ("c1", shanghai), ("d1", north)] {
            targets.push((
                name.to_owned(),
                admin.user(name, Some(dept), &[]).await,
                dept,
            ));
        }
        let mut viewers = vec![];
        for scope in ["own", "department", "department_tree", "all"] {
            let (s, role) = admin
                .post(
                    "/api/v1/roles",
                    json!({"name": format!("scope {scope}"), "permissions": {
                    "users": {"actions": ["view", "edit"], "scope": scope}}}),
                )
                .await;
            assert_eq!(s, 201);
            let name = format!("v_{scope}");
            let id = admin
                .user(&name, Some(east), &[role["id"].as_i64().unwrap()])
                .await;
            viewers.push((scope, name, id));
        }
        let mut everyone: Vec<(String, i64, Option<i64>)> = targets
            .iter()
            .map(|(n, i, d)| (n.clone(), *i, Some(*d)))
            .collect();
        everyone.extend(viewers.iter().map(|(_, n, i)| (n.clone(), *i, Some(east))));
        everyone.push(("admin".into(), 1, None));

        for (scope, viewer, viewer_id) in &viewers {
            let expected: BTreeSet<String> = everyone
                .iter()
                .filter(|(n, id, d)| match *scope {
                    "own" => id == viewer_id,
                    "department" => n == viewer || *d == Some(east),
                    "department_tree" => n == viewer || *d == Some(east) || *d == Some(shanghai),
                    _ => true,
                })
                .map(|(n, _, _)| n.clone())
                .collect();
            let api = app.api(viewer, "password-123").await;
            let list = api.ok("GET", "/api/v1/users?limit=200", None).await;
            let seen: BTreeSet<String> = list["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["username"].as_str().unwrap().to_owned())
                .collect();
            assert_eq!(seen, expected, "{b:?} list for scope {scope}");
            // Search cannot reach outside the scope either.
            let found = api.ok("GET", "/api/v1/users?q=d1", None).await;
            assert_eq!(
                found["items"].as_array().unwrap().len(),
                usize::from(expected.contains("d1")),
                "{b:?} search {scope}"
            );
            let web = app.browser_client();
            web.post(app.url("/login"))
                .form(&[("username", viewer.as_str()), ("password", "password-123")])
                .send()
                .await
                .unwrap();
            let page = web
                .get(app.url("/admin/users"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            for (name, id, _) in &everyone {
                let inside = expected.contains(name);
                let want = if inside { 200 } else { 404 };
                assert_eq!(
                    api.get(&format!("/api/v1/users/{id}")).await.0,
                    want,
                    "{b:?} {scope} GET {name}"
                );
                let (s, _) = api
                    .call(
                        "PATCH",
                        &format!("/api/v1/users/{id}"),
                        Some(json!({"display_name": name})),
                    )
                    .await;
                assert_eq!(s, want, "{b:?} {scope} PATCH {name}");
                let html = web
                    .get(app.url(&format!("/admin/users/{id}")))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16();
                assert_eq!(html, want, "{b:?} {scope} page of {name}");
                assert_eq!(
                    page.contains(&format!(">{name}</td>")),
                    inside,
                    "{b:?} {scope} list page shows {name}?"
                );
            }
            // No create, delete or assign right: refused with 403 and a clear message.
            let (s, v) = api
                .post(
                    "/api/v1/users",
                    json!({"username": "new1", "display_name": "n"}),
                )
                .await;
            assert_eq!(s, 403);
            assert!(
                v["error"]["message"].as_str().unwrap().contains("用户管理"),
                "{v}"
            );
            assert_eq!(api.get("/api/v1/roles").await.0, 403);
        }
        // A user whose role gives no Users right at all.
        let service = admin.role_id("service").await;
        admin.user("s1", Some(north), &[service]).await;
        let s1 = app.api("s1", "password-123").await;
        let (s, v) = s1.get("/api/v1/users").await;
        assert_eq!(s, 200, "the service role sees its own record: {v}");
        assert_eq!(v["items"].as_array().unwrap().len(), 1);
        assert_eq!(s1.get("/api/v1/audit-log").await.0, 403);
        app.finish().await;
    }
}

/// Moving a department moves its whole subtree into a manager's scope at once.
#[tokio::test]
async fn department_tree_scope_follows_moves() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let admin = app.admin().await;
        let top = admin.department("销售中心", None).await;
        let other = admin.department("独立组", None).await;
        let sub = admin.department("独立组-一队", Some(other)).await;
        let mgr_role = admin.role_id("sales_manager").await;
        admin.user("mgr", Some(top), &[mgr_role]).await;
        let x = admin.user("x1", Some(sub), &[]).await;
        let mgr = app.api("mgr", "password-123").await;
        assert_eq!(mgr.get(&format!("/api/v1/users/{x}")).await.0, 404);
        admin
            .ok(
                "PATCH",
                &format!("/api/v1/departments/{other}"),
                Some(json!({"name": "独立组", "parent_id": top})),
            )
            .await;
        let mgr = app.api("mgr", "password-123").await;
        assert_eq!(mgr.get(&format!("/api/v1/users/{x}")).await.0, 200);
        app.finish().await;
    }
}
