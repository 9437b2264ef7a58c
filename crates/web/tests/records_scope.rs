//! The data-scope matrix of the record engine: a salesperson reaches their own customers and
//! nothing of another department's — not by list, search, detail URL, edit form, history,
//! related list, previous / next, jump list, API, nor by writing — 404 where the record is
//! outside the scope; the department's manager reaches both, the other department's manager
//! neither.

mod common;

use common::{Api, TestApp, backends};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

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
            let web = app.web_login(user, "password-123").await;
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
        let web = app.web_login("s_hz", "password-123").await;
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
async fn snapshot(admin: &Api, id: i64, binned: i64) -> Value {
    let bin = admin
        .ok("GET", "/api/v1/customers/recycle-bin?limit=500", None)
        .await;
    let binned = bin["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == binned)
        .cloned();
    let mut out = json!({ "binned": binned });
    for part in ["", "/history", "/attachments", "/related/contacts"] {
        let path = format!("/api/v1/customers/{id}{part}");
        let key = if part.is_empty() { "record" } else { part };
        out[key] = admin.ok("GET", &path, None).await;
    }
    out
}

fn attachment(name: &str) -> Form {
    Form::new().part(
        "file",
        Part::bytes(b"contract".to_vec()).file_name(name.to_owned()),
    )
}

/// Whether a page or answer shows anything of the other department's records.
fn leaks(text: &str) -> bool {
    [
        "北方客户乙",
        "13900002222",
        "原备注",
        "北方联系人",
        "北方回收站客户",
        "合同.txt",
    ]
    .iter()
    .any(|s| text.contains(s))
}

fn id_of(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

/// Every route of the engine that names a record — API and pages, reads and writes — refuses a
/// customer of another department: a salesperson, the east's sales manager (who may assign) and
/// an east department administrator (every right, purge included, in the department scope) get
/// 404, or 403 for a right they lack altogether; the copy form leaks no value, bulk actions and
/// the recycle bin skip the record, and afterwards it is exactly as it was. The same people do
/// reach their own department's records (the last lines), so the refusals are the scope's.
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
        let role = json!({"name": "部门管理员", "permissions": {
            "settings": {"actions": ["view", "manage"], "scope": "all"},
            "customers": {"actions": every, "scope": "department"},
            "contacts": {"actions": every, "scope": "department"}}});
        let dept_admin = id_of(&admin.ok("POST", "/api/v1/roles", Some(role)).await);
        let s_east = admin.user("s_east", Some(east), &[sales]).await;
        admin.user("m_east", Some(east), &[mgr]).await;
        admin.user("a_east", Some(east), &[dept_admin]).await;
        admin.user("s_north", Some(north), &[sales]).await;
        let owner = app.api("s_north", "password-123").await;
        let new = json!({"name": "北方客户乙", "phone": "13900002222"});
        let theirs = id_of(&owner.ok("POST", "/api/v1/customers", Some(new)).await);
        let base = format!("/api/v1/customers/{theirs}");
        let notes = json!({"version": 1, "notes": "原备注"});
        owner.ok("PATCH", &base, Some(notes)).await;
        let contact = json!({"name": "北方联系人", "customer_id": theirs});
        owner.ok("POST", "/api/v1/contacts", Some(contact)).await;
        let r = owner
            .client
            .post(format!("{}{base}/attachments", owner.base))
            .bearer_auth(&owner.token)
            .multipart(attachment("合同.txt"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let file = id_of(&r.json::<Value>().await.unwrap());
        let new = json!({"name": "北方回收站客户"});
        let binned = id_of(&owner.ok("POST", "/api/v1/customers", Some(new)).await);
        owner
            .ok("DELETE", &format!("/api/v1/customers/{binned}"), None)
            .await;
        let history = owner.ok("GET", &format!("{base}/history"), None).await;
        let entry = history
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["field"] == "notes");
        let entry = id_of(entry.unwrap());
        let before = snapshot(&admin, theirs, binned).await;
        let version = before["record"]["version"].to_string();

        let (any, assign, admin_only) = (Needs::Nothing, Needs::Assign, Needs::Administrator);
        for (user, rights) in [
            ("s_east", &[][..]),
            ("m_east", &[assign][..]),
            ("a_east", &[assign, admin_only][..]),
        ] {
            let want = |needs: Needs| {
                if needs == any || rights.contains(&needs) {
                    404
                } else {
                    403
                }
            };
            let api = app.api(user, "password-123").await;
            let c = |p: &str| format!("{base}{p}");
            let bin = |p: &str| format!("/api/v1/customers/{binned}{p}");
            let empty = json!({});
            for (method, path, body, needs) in [
                ("PATCH", c(""), json!({"version": 2, "notes": "改"}), any),
                ("DELETE", c(""), Value::Null, any),
                ("POST", c("/restore"), empty.clone(), any),
                ("POST", bin("/restore"), empty.clone(), any),
                ("POST", c("/lock"), empty.clone(), any),
                ("POST", c("/unlock"), empty.clone(), any),
                ("POST", c("/transfer"), json!({"owner_id": s_east}), assign),
                (
                    "POST",
                    c(&format!("/history/{entry}/restore")),
                    empty.clone(),
                    any,
                ),
                ("DELETE", c("/purge"), Value::Null, admin_only),
                ("DELETE", bin("/purge"), Value::Null, admin_only),
                ("GET", c("/history"), Value::Null, any),
                ("GET", c("/related/contacts"), Value::Null, any),
                ("GET", c("/attachments"), Value::Null, any),
                ("GET", c(&format!("/attachments/{file}")), Value::Null, any),
                (
                    "DELETE",
                    c(&format!("/attachments/{file}")),
                    Value::Null,
                    any,
                ),
                ("POST", c("/release"), json!({"reason": "no_need"}), any),
                ("GET", c("/ownership"), Value::Null, any),
                ("GET", c("/score"), Value::Null, any),
                ("GET", c("/rules-explanation"), Value::Null, any),
                ("POST", c("/credit/hand-back"), empty.clone(), any),
            ] {
                let body = Some(body).filter(|b| !b.is_null());
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
                "/api/v1/customers/recycle-bin?q=北方",
                "/api/v1/customers/recycle-bin?limit=500",
            ] {
                let v = api.ok("GET", path, None).await;
                assert!(!leaks(&v.to_string()), "{b:?} {user}: {path}: {v}");
            }

            // The pages, posting forms as a browser does.
            let web = app.web_login(user, "password-123").await;
            let page = |p: &str| format!("/customers/{theirs}{p}");
            let v = version.as_str();
            let (t, to) = (theirs.to_string(), s_east.to_string());
            for (path, form, needs) in [
                (
                    page(""),
                    vec![("version", v), ("name", "改名"), ("notes", "改")],
                    any,
                ),
                (
                    page("/field/notes"),
                    vec![("version", v), ("notes", "改")],
                    any,
                ),
                (page("/lock"), vec![], any),
                (page("/unlock"), vec![], any),
                (page("/delete"), vec![], any),
                (page("/restore"), vec![], any),
                (format!("/customers/{binned}/restore"), vec![], any),
                (page("/transfer"), vec![("owner_id", to.as_str())], assign),
                (page(&format!("/history/{entry}/restore")), vec![], any),
                (format!("/customers/{binned}/purge"), vec![], admin_only),
                (page(&format!("/attachments/{file}/delete")), vec![], any),
                (page("/release"), vec![("reason", "no_need")], any),
                (page("/credit/hand-back"), vec![], any),
                (
                    "/customers/bulk".into(),
                    vec![("action", "delete"), ("ids", t.as_str())],
                    any,
                ),
                (
                    "/customers/bulk".into(),
                    vec![
                        ("action", "transfer"),
                        ("ids", t.as_str()),
                        ("owner_id", to.as_str()),
                    ],
                    assign,
                ),
            ] {
                let r = web.post(app.url(&path)).form(&form).send().await.unwrap();
                assert_eq!(
                    r.status(),
                    want(needs),
                    "{b:?} {user}: POST {path} {form:?}"
                );
            }
            let upload = web.post(app.url(&page("/attachments")));
            let r = upload
                .multipart(attachment("渗透.txt"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 404, "{b:?} {user}: page upload");
            for path in [
                format!("/customers/new?copy={theirs}"),
                page("/print"),
                page(&format!("/attachments/{file}")),
                page("/rules-explanation"),
            ] {
                let r = web.get(app.url(&path)).send().await.unwrap();
                assert_eq!(r.status(), 404, "{b:?} {user}: GET {path}");
                let text = r.text().await.unwrap();
                assert!(!leaks(&text), "{b:?} {user}: {path}");
            }
            // Lists skip it; a new contact preset with its id does not name it.
            for path in [
                "/customers/recycle-bin".to_owned(),
                "/customers/recycle-bin?q=北方".to_owned(),
                "/customers/print".to_owned(),
                "/customers/print?q=北方".to_owned(),
                format!("/contacts/new?customer_id={theirs}"),
            ] {
                let r = web.get(app.url(&path)).send().await.unwrap();
                assert_eq!(r.status(), 200, "{b:?} {user}: GET {path}");
                let text = r.text().await.unwrap();
                assert!(!leaks(&text), "{b:?} {user}: {path} leaks");
            }
            let after = snapshot(&admin, theirs, binned).await;
            assert_eq!(after, before, "{b:?} {user}: the record changed");
        }

        // The controls: in their own department the same people reach the same routes.
        let s = app.api("s_east", "password-123").await;
        let new = json!({"name": "华东客户"});
        let ours = id_of(&s.ok("POST", "/api/v1/customers", Some(new)).await);
        let m = app.api("m_east", "password-123").await;
        let to = json!({"owner_id": s_east});
        m.ok(
            "POST",
            &format!("/api/v1/customers/{ours}/transfer"),
            Some(to),
        )
        .await;
        s.ok("DELETE", &format!("/api/v1/customers/{ours}"), None)
            .await;
        let a = app.api("a_east", "password-123").await;
        let (st, v) = a
            .call("DELETE", &format!("/api/v1/customers/{ours}/purge"), None)
            .await;
        assert_eq!(st, 204, "{b:?}: the department administrator purges: {v}");
        app.finish().await;
    }
}
