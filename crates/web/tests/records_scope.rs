//! The data-scope matrix of the record engine: a salesperson reaches their own customers and
//! nothing of another department's — not by list, search, detail URL, edit form, history,
//! related list, previous / next, jump list, API, nor by writing — 404 where the record is
//! outside the scope; the department's manager reaches both, the other department's manager
//! neither.

mod common;

use common::{Api, TestApp, backends};
use serde_json::json;

#[tokio::test]
async fn every_record_route_applies_the_data_scope() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let admin = app.admin().await;
        let east = admin.department("华东", None).await;
        let hz = admin.department("杭州组", Some(east)).await;
        let north = admin.department("华北", None).await;
        let sales = admin.role_id("sales").await;
        let mgr = admin.role_id("sales_manager").await;
        admin.user("s_hz", Some(hz), &[sales]).await;
        admin.user("s_north", Some(north), &[sales]).await;
        admin.user("m_east", Some(east), &[mgr]).await;
        admin.user("m_north", Some(north), &[mgr]).await;
        let s_hz = app.api("s_hz", "password-123").await;
        let mine = s_hz
            .ok(
                "POST",
                "/api/v1/customers",
                Some(json!({"name": "杭州客户甲"})),
            )
            .await["id"]
            .as_i64()
            .unwrap();
        let contact = s_hz
            .ok(
                "POST",
                "/api/v1/contacts",
                Some(json!({"name": "杭州联系人", "customer_id": mine})),
            )
            .await["id"]
            .as_i64()
            .unwrap();
        let s_north = app.api("s_north", "password-123").await;
        let theirs = s_north
            .ok(
                "POST",
                "/api/v1/customers",
                Some(json!({"name": "北方客户乙"})),
            )
            .await["id"]
            .as_i64()
            .unwrap();

        // (user, customer id, contact id, may reach)
        let cases = [
            ("s_hz", mine, contact, true),
            ("s_hz", theirs, 0, false),
            ("s_north", mine, contact, false),
            ("m_east", mine, contact, true),
            ("m_north", mine, contact, false),
            ("m_north", theirs, 0, true),
        ];
        for (user, id, contact, reach) in cases {
            let api = app.api(user, "password-123").await;
            let want = if reach { 200 } else { 404 };
            let who = format!("{b:?} {user} → customer {id}");
            for path in [
                format!("/api/v1/customers/{id}"),
                format!("/api/v1/customers/{id}/history"),
                format!("/api/v1/customers/{id}/related/contacts"),
                format!("/api/v1/customers/{id}/attachments"),
            ] {
                assert_eq!(api.get(&path).await.0, want, "{who}: GET {path}");
            }
            let (s, _) = api
                .call(
                    "PATCH",
                    &format!("/api/v1/customers/{id}"),
                    Some(json!({"version": 1, "notes": "x"})),
                )
                .await;
            assert_eq!(s == 404, !reach, "{who}: PATCH {s}");
            assert_eq!(
                api.post(&format!("/api/v1/customers/{id}/lock"), json!({}))
                    .await
                    .0
                    == 404,
                !reach,
                "{who}: lock"
            );
            if reach {
                api.post(&format!("/api/v1/customers/{id}/unlock"), json!({}))
                    .await;
            }
            let listed = api.ok("GET", "/api/v1/customers?limit=500", None).await;
            let ids: Vec<i64> = listed["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_i64().unwrap())
                .collect();
            assert_eq!(ids.contains(&id), reach, "{who}: list");
            let name = if id == mine {
                "杭州客户甲"
            } else {
                "北方客户乙"
            };
            let found = api
                .ok("GET", &format!("/api/v1/customers?q={name}"), None)
                .await;
            assert_eq!(
                found["items"].as_array().unwrap().len(),
                usize::from(reach),
                "{who}: search"
            );
            if contact != 0 {
                assert_eq!(
                    api.get(&format!("/api/v1/contacts/{contact}")).await.0,
                    want,
                    "{who}: contact"
                );
            }
            // The HTML pages.
            let web = app.browser_client();
            web.post(app.url("/login"))
                .form(&[("username", user), ("password", "password-123")])
                .send()
                .await
                .unwrap();
            for path in [
                format!("/customers/{id}"),
                format!("/customers/{id}/edit"),
                format!("/customers/{id}/history"),
            ] {
                let s = web
                    .get(app.url(&path))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16();
                assert_eq!(s == 404, !reach, "{who}: page {path} → {s}");
            }
            let list = web
                .get(app.url("/customers"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert_eq!(list.contains(name), reach, "{who}: list page");
            let r = web
                .post(app.url(&format!("/customers/{id}/delete")))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16();
            if !reach {
                assert_eq!(r, 404, "{who}: delete");
            }
            if reach {
                // Put it back for the next case.
                api.post(&format!("/api/v1/customers/{id}/restore"), json!({}))
                    .await;
            }
        }
        // Previous / next and the jump list never lead out of the scope: the salesperson's
        // detail page of their only customer has neither neighbour nor a foreign name.
        let web = app.browser_client();
        web.post(app.url("/login"))
            .form(&[("username", "s_hz"), ("password", "password-123")])
            .send()
            .await
            .unwrap();
        let page = web
            .get(app.url(&format!("/customers/{mine}?list=sort%3Dname")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            !page.contains("北方客户乙"),
            "no foreign record in the jump list"
        );
        assert!(!page.contains("id=\"next-record\"") && !page.contains("id=\"prev-record\""));
        app.finish().await;
    }
}

/// A right a route needs beyond the module's everyday ones: without it the answer is 403 (the
/// right is missing whatever the record), with it 404 (the record is outside the scope).
#[derive(Clone, Copy, PartialEq)]
enum Needs {
    Nothing,
    Assign,
    Administrator,
}

/// Everything of a record a route could change: the record, its history, attachments and
/// related contacts, and the deleted record as the recycle bin shows it.
async fn snapshot(admin: &Api, id: i64, binned: i64) -> serde_json::Value {
    let bin = admin
        .ok("GET", "/api/v1/customers/recycle-bin?limit=500", None)
        .await;
    let binned = bin["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == binned)
        .cloned();
    json!({
        "record": admin.ok("GET", &format!("/api/v1/customers/{id}"), None).await,
        "history": admin.ok("GET", &format!("/api/v1/customers/{id}/history"), None).await,
        "attachments": admin.ok("GET", &format!("/api/v1/customers/{id}/attachments"), None).await,
        "contacts": admin.ok("GET", &format!("/api/v1/customers/{id}/related/contacts"), None).await,
        "binned": binned,
    })
}

fn attachment(name: &str) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"contract".to_vec()).file_name(name.to_owned()),
    )
}

/// Every route of the engine that names a record — API and pages, reads and writes — refuses a
/// customer of another department: a salesperson, the east's sales manager (who may assign) and
/// an east department administrator (every right, including purge, in the department scope) get
/// 404, or 403 for a right they lack altogether; the copy form leaks no value, bulk actions and
/// the recycle bin skip the record, and afterwards it is exactly as it was.
#[tokio::test]
async fn no_record_route_reaches_another_departments_customer() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let admin = app.admin().await;
        let east = admin.department("华东", None).await;
        let north = admin.department("华北", None).await;
        let sales = admin.role_id("sales").await;
        let mgr = admin.role_id("sales_manager").await;
        let every = [
            "view", "create", "edit", "delete", "import", "export", "assign",
        ];
        let dept_admin = admin
            .ok(
                "POST",
                "/api/v1/roles",
                Some(json!({"name": "部门管理员", "permissions": {
                    "settings": {"actions": ["view", "manage"], "scope": "all"},
                    "customers": {"actions": every, "scope": "department"},
                    "contacts": {"actions": every, "scope": "department"}}})),
            )
            .await["id"]
            .as_i64()
            .unwrap();
        let s_east = admin.user("s_east", Some(east), &[sales]).await;
        admin.user("m_east", Some(east), &[mgr]).await;
        admin.user("a_east", Some(east), &[dept_admin]).await;
        admin.user("s_north", Some(north), &[sales]).await;
        let owner = app.api("s_north", "password-123").await;
        let theirs = owner
            .ok(
                "POST",
                "/api/v1/customers",
                Some(json!({"name": "北方客户乙", "phone": "13900002222"})),
            )
            .await["id"]
            .as_i64()
            .unwrap();
        owner
            .ok(
                "PATCH",
                &format!("/api/v1/customers/{theirs}"),
                Some(json!({"version": 1, "notes": "原备注"})),
            )
            .await;
        owner
            .ok(
                "POST",
                "/api/v1/contacts",
                Some(json!({"name": "北方联系人", "customer_id": theirs})),
            )
            .await;
        let r = owner
            .client
            .post(format!(
                "{}/api/v1/customers/{theirs}/attachments",
                owner.base
            ))
            .bearer_auth(&owner.token)
            .multipart(attachment("合同.txt"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let file = r.json::<serde_json::Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap();
        let binned = owner
            .ok(
                "POST",
                "/api/v1/customers",
                Some(json!({"name": "北方回收站客户"})),
            )
            .await["id"]
            .as_i64()
            .unwrap();
        owner
            .ok("DELETE", &format!("/api/v1/customers/{binned}"), None)
            .await;
        let history = owner
            .ok("GET", &format!("/api/v1/customers/{theirs}/history"), None)
            .await;
        let entry = history
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["field"] == "notes")
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        let before = snapshot(&admin, theirs, binned).await;
        let version = before["record"]["version"].as_i64().unwrap().to_string();

        for (user, rights) in [
            ("s_east", &[][..]),
            ("m_east", &[Needs::Assign][..]),
            ("a_east", &[Needs::Assign, Needs::Administrator][..]),
        ] {
            let want = |needs: Needs| {
                if needs == Needs::Nothing || rights.contains(&needs) {
                    404
                } else {
                    403
                }
            };
            let api = app.api(user, "password-123").await;
            let base = format!("/api/v1/customers/{theirs}");
            let owner_body = json!({"owner_id": s_east});
            for (method, path, body, needs) in [
                (
                    "PATCH",
                    base.clone(),
                    Some(json!({"version": 2, "notes": "改"})),
                    Needs::Nothing,
                ),
                ("DELETE", base.clone(), None, Needs::Nothing),
                (
                    "POST",
                    format!("{base}/restore"),
                    Some(json!({})),
                    Needs::Nothing,
                ),
                (
                    "POST",
                    format!("/api/v1/customers/{binned}/restore"),
                    Some(json!({})),
                    Needs::Nothing,
                ),
                (
                    "POST",
                    format!("{base}/lock"),
                    Some(json!({})),
                    Needs::Nothing,
                ),
                (
                    "POST",
                    format!("{base}/unlock"),
                    Some(json!({})),
                    Needs::Nothing,
                ),
                (
                    "POST",
                    format!("{base}/transfer"),
                    Some(owner_body.clone()),
                    Needs::Assign,
                ),
                (
                    "POST",
                    format!("{base}/history/{entry}/restore"),
                    Some(json!({})),
                    Needs::Nothing,
                ),
                (
                    "DELETE",
                    format!("{base}/purge"),
                    None,
                    Needs::Administrator,
                ),
                (
                    "DELETE",
                    format!("/api/v1/customers/{binned}/purge"),
                    None,
                    Needs::Administrator,
                ),
                ("GET", format!("{base}/history"), None, Needs::Nothing),
                (
                    "GET",
                    format!("{base}/related/contacts"),
                    None,
                    Needs::Nothing,
                ),
                ("GET", format!("{base}/attachments"), None, Needs::Nothing),
                (
                    "GET",
                    format!("{base}/attachments/{file}"),
                    None,
                    Needs::Nothing,
                ),
                (
                    "DELETE",
                    format!("{base}/attachments/{file}"),
                    None,
                    Needs::Nothing,
                ),
                (
                    "POST",
                    format!("/api/v1/customers/{theirs}/release"),
                    Some(json!({"reason": "no_need"})),
                    Needs::Nothing,
                ),
                (
                    "GET",
                    format!("/api/v1/customers/{theirs}/ownership"),
                    None,
                    Needs::Nothing,
                ),
                (
                    "GET",
                    format!("/api/v1/customers/{theirs}/score"),
                    None,
                    Needs::Nothing,
                ),
                (
                    "GET",
                    format!("/api/v1/customers/{theirs}/rules-explanation"),
                    None,
                    Needs::Nothing,
                ),
                (
                    "POST",
                    format!("/api/v1/customers/{theirs}/credit/hand-back"),
                    Some(json!({})),
                    Needs::Nothing,
                ),
            ] {
                let (s, v) = api.call(method, &path, body).await;
                assert_eq!(s, want(needs), "{b:?} {user}: {method} {path}: {v}");
            }
            let r = api
                .client
                .post(format!("{}{base}/attachments", api.base))
                .bearer_auth(&api.token)
                .multipart(attachment("渗透.txt"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 404, "{b:?} {user}: API upload");
            for path in [
                "/api/v1/customers/recycle-bin?q=北方".to_owned(),
                "/api/v1/customers/recycle-bin?limit=500".to_owned(),
            ] {
                let (_, v) = api.get(&path).await;
                assert!(
                    !v.to_string().contains("北方回收站客户"),
                    "{b:?} {user}: {path}: {v}"
                );
            }

            // The pages: forms post like a browser does.
            let web = app.browser_client();
            web.post(app.url("/login"))
                .form(&[("username", user), ("password", "password-123")])
                .send()
                .await
                .unwrap();
            let page = format!("/customers/{theirs}");
            let edit = [
                ("version", version.as_str()),
                ("name", "改名"),
                ("notes", "改"),
            ];
            let field = [("version", version.as_str()), ("notes", "改")];
            let owner_form = [("owner_id", s_east.to_string())];
            let bulk_transfer = [
                ("action", "transfer".to_owned()),
                ("ids", theirs.to_string()),
                ("owner_id", s_east.to_string()),
            ];
            let bulk_delete = [("action", "delete".to_owned()), ("ids", theirs.to_string())];
            let posts: Vec<(String, reqwest::RequestBuilder, Needs)> = vec![
                (
                    page.clone(),
                    web.post(app.url(&page)).form(&edit),
                    Needs::Nothing,
                ),
                (
                    format!("{page}/field/notes"),
                    web.post(app.url(&format!("{page}/field/notes")))
                        .form(&field),
                    Needs::Nothing,
                ),
                (
                    format!("{page}/lock"),
                    web.post(app.url(&format!("{page}/lock"))),
                    Needs::Nothing,
                ),
                (
                    format!("{page}/unlock"),
                    web.post(app.url(&format!("{page}/unlock"))),
                    Needs::Nothing,
                ),
                (
                    format!("{page}/delete"),
                    web.post(app.url(&format!("{page}/delete"))),
                    Needs::Nothing,
                ),
                (
                    format!("{page}/restore"),
                    web.post(app.url(&format!("{page}/restore"))),
                    Needs::Nothing,
                ),
                (
                    "binned restore".into(),
                    web.post(app.url(&format!("/customers/{binned}/restore"))),
                    Needs::Nothing,
                ),
                (
                    format!("{page}/transfer"),
                    web.post(app.url(&format!("{page}/transfer")))
                        .form(&owner_form),
                    Needs::Assign,
                ),
                (
                    format!("{page}/history/{entry}/restore"),
                    web.post(app.url(&format!("{page}/history/{entry}/restore"))),
                    Needs::Nothing,
                ),
                (
                    "binned purge".into(),
                    web.post(app.url(&format!("/customers/{binned}/purge"))),
                    Needs::Administrator,
                ),
                (
                    "bulk transfer".into(),
                    web.post(app.url("/customers/bulk")).form(&bulk_transfer),
                    Needs::Assign,
                ),
                (
                    "bulk delete".into(),
                    web.post(app.url("/customers/bulk")).form(&bulk_delete),
                    Needs::Nothing,
                ),
                (
                    format!("{page}/attachments/{file}/delete"),
                    web.post(app.url(&format!("{page}/attachments/{file}/delete"))),
                    Needs::Nothing,
                ),
                (
                    format!("{page}/attachments"),
                    web.post(app.url(&format!("{page}/attachments")))
                        .multipart(attachment("渗透.txt")),
                    Needs::Nothing,
                ),
                (
                    format!("{page}/release"),
                    web.post(app.url(&format!("{page}/release")))
                        .form(&[("reason", "no_need")]),
                    Needs::Nothing,
                ),
                (
                    format!("{page}/credit/hand-back"),
                    web.post(app.url(&format!("{page}/credit/hand-back"))),
                    Needs::Nothing,
                ),
            ];
            for (what, req, needs) in posts {
                let s = req.send().await.unwrap().status().as_u16();
                assert_eq!(s, want(needs), "{b:?} {user}: POST {what}");
            }
            for path in [
                format!("/customers/new?copy={theirs}"),
                format!("{page}/print"),
                format!("{page}/attachments/{file}"),
                format!("{page}/rules-explanation"),
            ] {
                let r = web.get(app.url(&path)).send().await.unwrap();
                assert_eq!(r.status(), 404, "{b:?} {user}: GET {path}");
                let text = r.text().await.unwrap();
                assert!(
                    !text.contains("北方客户乙") && !text.contains("原备注"),
                    "{b:?} {user}: {path} leaks"
                );
            }
            for path in [
                "/customers/recycle-bin",
                "/customers/recycle-bin?q=北方",
                "/customers/print",
                "/customers/print?q=北方",
            ] {
                let r = web.get(app.url(path)).send().await.unwrap();
                assert_eq!(r.status(), 200, "{b:?} {user}: GET {path}");
                let text = r.text().await.unwrap();
                assert!(
                    !text.contains("北方客户乙") && !text.contains("北方回收站客户"),
                    "{b:?} {user}: {path} leaks"
                );
            }
            assert_eq!(
                snapshot(&admin, theirs, binned).await,
                before,
                "{b:?} {user}: the record changed"
            );
        }
        app.finish().await;
    }
}
