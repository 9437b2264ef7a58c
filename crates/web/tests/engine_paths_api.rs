//! Paths of the record engine, on every database: transfers (audited, with a history line, in
//! bulk, refused without `assign`), contacts naming their organisation, quick search by an
//! e-mail fragment.

mod common;
mod engine_paths_common;

use common::{ADMIN_PASSWORD, TestApp, backends};
use engine_paths_common::*;
use serde_json::json;

#[tokio::test]
async fn transfers_are_audited_and_bulk_transfer_moves_every_row_or_none() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let admin = app.admin().await;
        let dept = admin.department("华东", None).await;
        let (sales, mgr) = (
            admin.role_id("sales").await,
            admin.role_id("sales_manager").await,
        );
        admin.user("m1", Some(dept), &[mgr]).await;
        let u1 = admin.user("s1", Some(dept), &[sales]).await;
        let u2 = admin.user("s2", Some(dept), &[sales]).await;
        let (s1, m1) = (
            app.api("s1", "password-123").await,
            app.api("m1", "password-123").await,
        );
        let mut ids = vec![];
        for i in 0..4 {
            ids.push(id_of(
                &s1.ok(
                    "POST",
                    "/api/v1/customers",
                    Some(json!({"name": format!("转移{i}")})),
                )
                .await,
            ));
        }
        let t = m1
            .ok(
                "POST",
                &format!("/api/v1/customers/{}/transfer", ids[0]),
                Some(json!({"owner_id": u2})),
            )
            .await;
        assert_eq!((&t["owner_id"], &t["version"]), (&json!(u2), &json!(2)));
        let log = admin
            .ok("GET", "/api/v1/audit-log?action=record.transfer", None)
            .await;
        let items = log["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{b:?}: {log}");
        assert_eq!(
            (
                &items[0]["username"],
                &items[0]["module"],
                &items[0]["target_id"],
                &items[0]["target_label"]
            ),
            (
                &json!("m1"),
                &json!("customers"),
                &json!(ids[0].to_string()),
                &json!("转移0")
            ),
            "{b:?}"
        );
        let h = admin
            .ok(
                "GET",
                &format!("/api/v1/customers/{}/history", ids[0]),
                None,
            )
            .await;
        let last = &h[0];
        assert_eq!(
            (&last["event"], &last["field"], &last["username"]),
            (&json!("transfer"), &json!("owner_id"), &json!("m1")),
            "{b:?}: {h}"
        );
        assert_eq!(
            (last["old_value"].as_str(), last["new_value"].as_str()),
            (Some(&*u1.to_string()), Some(&*u2.to_string()))
        );
        // The history page names the event.
        let wa = web_login(&app, "admin", ADMIN_PASSWORD).await;
        assert!(
            html(&wa, app.url(&format!("/customers/{}/history", ids[0])))
                .await
                .contains("转移")
        );
        // In bulk: the owner without `assign` is refused and nothing moves.
        let bulk = app.url("/customers/bulk");
        let rows = |owner: i64| -> Vec<(String, String)> {
            let mut f = vec![
                ("action".to_owned(), "transfer".to_owned()),
                ("owner_id".to_owned(), owner.to_string()),
            ];
            f.extend(ids[1..].iter().map(|id| ("ids".to_owned(), id.to_string())));
            f
        };
        let w1 = web_login(&app, "s1", "password-123").await;
        let (s, _, _) = post(&w1, bulk.clone(), &rows(u2)).await;
        assert_eq!(s, 403, "{b:?}");
        for id in &ids[1..] {
            let r = admin
                .ok("GET", &format!("/api/v1/customers/{id}"), None)
                .await;
            assert_eq!(
                (&r["owner_id"], &r["version"]),
                (&json!(u1), &json!(1)),
                "{b:?}"
            );
        }
        // The manager moves all the selected rows.
        let wm = web_login(&app, "m1", "password-123").await;
        let (s, to, _) = post(&wm, bulk, &rows(u2)).await;
        assert_eq!(
            (s, to.as_str()),
            (303, "/customers?ok=flash-transferred"),
            "{b:?}"
        );
        for id in &ids[1..] {
            let r = admin
                .ok("GET", &format!("/api/v1/customers/{id}"), None)
                .await;
            assert_eq!(r["owner_id"], u2, "{b:?}");
        }
        let log = admin
            .ok("GET", "/api/v1/audit-log?action=record.transfer", None)
            .await;
        assert_eq!(log["items"].as_array().unwrap().len(), 4, "{b:?}");
        assert_eq!(
            s1.ok("GET", "/api/v1/customers", None).await["items"],
            json!([]),
            "{b:?}: none left to s1"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn contacts_name_their_organisation() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let api = app.admin().await;
        let org = id_of(
            &api.ok(
                "POST",
                "/api/v1/organisations",
                Some(json!({"name": "杭州示例科技有限公司"})),
            )
            .await,
        );
        let orgs = async || {
            api.ok("GET", "/api/v1/organisations", None).await["items"]
                .as_array()
                .unwrap()
                .len()
        };
        // A known name links the organisation (surrounding spaces aside); no second one is made.
        let k = api
            .ok(
                "POST",
                "/api/v1/contacts",
                Some(json!({"name": "赵六", "organisation_name": " 杭州示例科技有限公司 "})),
            )
            .await;
        assert_eq!(
            (&k["organisation_id"], orgs().await),
            (&json!(org), 1),
            "{b:?}: {k}"
        );
        assert!(k.get("organisation_name").is_none(), "{k}");
        // An unknown one is created, owned by the caller.
        let k2 = api
            .ok(
                "POST",
                "/api/v1/contacts",
                Some(json!({"name": "钱七", "organisation_name": "宁波新单位"})),
            )
            .await;
        let new_org = k2["organisation_id"].as_i64().unwrap();
        assert_ne!(new_org, org);
        let o = api
            .ok("GET", &format!("/api/v1/organisations/{new_org}"), None)
            .await;
        assert_eq!(
            (&o["name"], &o["owner_id"], orgs().await),
            (&json!("宁波新单位"), &json!(1), 2),
            "{b:?}"
        );
        // PATCH: an existing name relinks, a new one creates.
        let kid = id_of(&k2);
        let p = api
            .ok(
                "PATCH",
                &format!("/api/v1/contacts/{kid}"),
                Some(json!({"version": 1, "organisation_name": "杭州示例科技有限公司"})),
            )
            .await;
        assert_eq!(
            (&p["organisation_id"], &p["version"], orgs().await),
            (&json!(org), &json!(2), 2),
            "{b:?}"
        );
        let p = api
            .ok(
                "PATCH",
                &format!("/api/v1/contacts/{kid}"),
                Some(json!({"version": 2, "organisation_name": "温州第三单位"})),
            )
            .await;
        let third = p["organisation_id"].as_i64().unwrap();
        assert!(third != org && third != new_org, "{b:?}");
        assert_eq!(
            api.ok("GET", &format!("/api/v1/organisations/{third}"), None)
                .await["name"],
            "温州第三单位"
        );
        assert_eq!(orgs().await, 3);
        let rel = api
            .ok(
                "GET",
                &format!("/api/v1/organisations/{org}/related/contacts"),
                None,
            )
            .await;
        assert_eq!(
            rel["items"].as_array().unwrap().len(),
            1,
            "{b:?}: 赵六 only, 钱七 moved on"
        );
        // An empty name changes nothing; a too long one is refused on that field.
        let p = api
            .ok(
                "PATCH",
                &format!("/api/v1/contacts/{kid}"),
                Some(json!({"version": 3, "organisation_name": ""})),
            )
            .await;
        assert_eq!(p["organisation_id"], third, "{b:?}");
        let (s, v) = api
            .call(
                "PATCH",
                &format!("/api/v1/contacts/{kid}"),
                Some(json!({"version": 3, "organisation_name": "长".repeat(101)})),
            )
            .await;
        assert_eq!(
            (s, v["error"]["fields"]["organisation_name"].is_string()),
            (422, true),
            "{b:?}: {v}"
        );
        // A contact refused for its own input leaves no organisation behind.
        let (s, v) = api
            .post(
                "/api/v1/contacts",
                json!({"name": "孤儿", "email": "bad", "organisation_name": "孤儿单位"}),
            )
            .await;
        assert_eq!(
            (s, v["error"]["fields"]["email"].is_string()),
            (422, true),
            "{b:?}: {v}"
        );
        let (s, _) = api
            .call(
                "PATCH",
                &format!("/api/v1/contacts/{kid}"),
                Some(json!({"version": 1, "organisation_name": "过时单位"})),
            )
            .await;
        assert_eq!(s, 409, "{b:?}: a stale save");
        assert_eq!(
            orgs().await,
            3,
            "{b:?}: no organisation made by refused requests"
        );
        // A name that matches an organisation outside the caller's scope is refused on the name.
        let sales = api.role_id("sales").await;
        api.user("s1", None, &[sales]).await;
        let s1 = app.api("s1", "password-123").await;
        let (s, v) = s1
            .post(
                "/api/v1/contacts",
                json!({"name": "周九", "organisation_name": "宁波新单位"}),
            )
            .await;
        assert_eq!(
            (s, v["error"]["fields"]["organisation_name"].is_string()),
            (422, true),
            "{b:?}: {v}"
        );
        assert_eq!(
            (
                orgs().await,
                s1.ok("GET", "/api/v1/contacts", None).await["items"]
                    .as_array()
                    .unwrap()
                    .len()
            ),
            (3, 0)
        );
        // His own new one is created for him.
        let k = s1
            .ok(
                "POST",
                "/api/v1/contacts",
                Some(json!({"name": "周九", "organisation_name": "台州自己的单位"})),
            )
            .await;
        let o = s1
            .ok(
                "GET",
                &format!("/api/v1/organisations/{}", k["organisation_id"]),
                None,
            )
            .await;
        assert_eq!(o["name"], "台州自己的单位", "{b:?}");
        app.finish().await;
    }
}

#[tokio::test]
async fn quick_search_finds_a_contact_by_an_email_fragment() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let api = app.admin().await;
        for (name, email) in [
            ("张三", "zhang.san@example.com"),
            ("李四", "lisi@foo.cn"),
            ("王五", "wangwu@example.org"),
        ] {
            api.ok(
                "POST",
                "/api/v1/contacts",
                Some(json!({"name": name, "email": email})),
            )
            .await;
        }
        let found = async |q: &str| -> Vec<String> {
            let enc: String = form_urlencoded::byte_serialize(q.as_bytes()).collect();
            let r = api
                .ok("GET", &format!("/api/v1/contacts?q={enc}"), None)
                .await;
            r["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].as_str().unwrap().to_owned())
                .collect()
        };
        for (q, want) in [
            ("zhang.san", vec!["张三"]),
            ("san@exa", vec!["张三"]),
            ("example.com", vec!["张三"]),
            ("ZHANG", vec!["张三"]),
            ("foo.cn", vec!["李四"]),
            ("lisi@foo.cn", vec!["李四"]),
            ("nobody@example.com", vec![]),
        ] {
            assert_eq!(found(q).await, want, "{b:?}: {q}");
        }
        let mut both = found("example").await;
        both.sort();
        assert_eq!(both, ["张三", "王五"], "{b:?}");
        // The list page searches the same way.
        let web = web_login(&app, "admin", ADMIN_PASSWORD).await;
        let list = html(&web, app.url("/contacts?q=foo.cn")).await;
        let table = between(&list, "id=\"record-list\"", "</table>");
        assert!(
            table.contains("李四") && !table.contains("张三") && !table.contains("王五"),
            "{b:?}"
        );
        app.finish().await;
    }
}
