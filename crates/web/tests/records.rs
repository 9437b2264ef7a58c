//! The record engine through the API on every database: create with validation, list with
//! filters, search, sort and cursors, versions and conflicts, lock, history and restore of a
//! value, the recycle bin, transfer, related lists, and the data scope.

mod common;

use common::{TestApp, backends};
use serde_json::json;

#[tokio::test]
async fn customers_contacts_and_organisations_lifecycle() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let api = app.admin().await;
        // Validation: required, dictionary, URL, credit code, unknown fields.
        let (s, v) = api
            .post(
                "/api/v1/customers",
                json!({"industry": "飞船", "website": "not a url", "bogus": 1}),
            )
            .await;
        assert_eq!(s, 422, "{v}");
        for k in ["name", "industry", "website", "bogus"] {
            assert!(v["error"]["fields"][k].is_string(), "{k}: {v}");
        }
        let (s, v) = api
            .post(
                "/api/v1/organisations",
                json!({"name": "示例", "credit_code": "91350100M000100Y44"}),
            )
            .await;
        assert_eq!(
            (s, v["error"]["fields"]["credit_code"].is_string()),
            (422, true)
        );
        let org = api
            .ok(
                "POST",
                "/api/v1/organisations",
                Some(json!({"name": "杭州示例科技有限公司", "credit_code": "91350100M000100Y43"})),
            )
            .await;
        // Dictionary values by code or label; phone normalised; pinyin derived.
        let c = api.ok("POST", "/api/v1/customers", Some(json!({"name": "张三贸易", "industry": "制造业", "level": "vip", "phone": "+86 138-0013-8000", "website": "example.cn"}))).await;
        assert_eq!(c["industry"], "manufacturing");
        assert_eq!(c["phone"], "13800138000");
        assert_eq!(c["website"], "https://example.cn");
        assert_eq!(c["pinyin"], "zsmy");
        assert_eq!(c["version"], 1);
        assert_eq!(c["owner_id"], 1);
        let cid = c["id"].as_i64().unwrap();
        for (name, mobile) in [("李四", "13900000001"), ("王五", "13900000002")] {
            api.ok("POST", "/api/v1/contacts", Some(json!({"name": name, "mobile": mobile, "customer_id": cid, "organisation_id": org["id"]}))).await;
        }
        let (s, _) = api
            .post(
                "/api/v1/contacts",
                json!({"name": "x", "customer_id": 99999}),
            )
            .await;
        assert_eq!(s, 422, "relations must exist");
        let rel = api
            .ok(
                "GET",
                &format!("/api/v1/customers/{cid}/related/contacts"),
                None,
            )
            .await;
        assert_eq!(rel["items"].as_array().unwrap().len(), 2);
        // Lists: search by name, pinyin initials and phone fragment; filter; sort; cursor.
        for i in 0..4 {
            api.ok(
                "POST",
                "/api/v1/customers",
                Some(json!({"name": format!("客户{i}"), "industry": "it"})),
            )
            .await;
        }
        for q in ["张三", "zsmy", "8000"] {
            let r = api
                .ok("GET", &format!("/api/v1/customers?q={q}"), None)
                .await;
            assert_eq!(r["items"].as_array().unwrap().len(), 1, "search {q}");
        }
        let r = api
            .ok("GET", "/api/v1/customers?f.industry.eq=it", None)
            .await;
        assert_eq!(r["items"].as_array().unwrap().len(), 4);
        let r = api
            .ok("GET", "/api/v1/customers?f.website.empty=", None)
            .await;
        assert_eq!(r["items"].as_array().unwrap().len(), 4);
        let p1 = api
            .ok("GET", "/api/v1/customers?sort=name&order=asc&limit=3", None)
            .await;
        let p2 = api
            .ok(
                "GET",
                &format!(
                    "/api/v1/customers?sort=name&order=asc&limit=3&cursor={}",
                    p1["next_cursor"].as_str().unwrap()
                ),
                None,
            )
            .await;
        let names: Vec<&str> = p1["items"]
            .as_array()
            .unwrap()
            .iter()
            .chain(p2["items"].as_array().unwrap())
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["客户0", "客户1", "客户2", "客户3", "张三贸易"]);
        assert_eq!(api.get("/api/v1/customers?sort=bogus").await.0, 400);
        // Versions: a stale save is refused with the current record.
        let v2 = api
            .ok(
                "PATCH",
                &format!("/api/v1/customers/{cid}"),
                Some(json!({"version": 1, "address": "杭州市西湖区"})),
            )
            .await;
        assert_eq!(v2["version"], 2);
        let (s, v) = api
            .call(
                "PATCH",
                &format!("/api/v1/customers/{cid}"),
                Some(json!({"version": 1, "address": "旧"})),
            )
            .await;
        assert_eq!(s, 409);
        assert_eq!(v["error"]["current"]["address"], "杭州市西湖区");
        let (s, _) = api
            .call(
                "PATCH",
                &format!("/api/v1/customers/{cid}"),
                Some(json!({"address": "x"})),
            )
            .await;
        assert_eq!(s, 422, "version is required");
        // null clears, absent keeps.
        let v3 = api
            .ok(
                "PATCH",
                &format!("/api/v1/customers/{cid}"),
                Some(json!({"version": 2, "website": null})),
            )
            .await;
        assert_eq!(
            (v3["website"].is_null(), v3["address"].as_str()),
            (true, Some("杭州市西湖区"))
        );
        // Lock refuses edits and deletes until unlocked.
        api.ok("POST", &format!("/api/v1/customers/{cid}/lock"), None)
            .await;
        let (s, v) = api
            .call(
                "PATCH",
                &format!("/api/v1/customers/{cid}"),
                Some(json!({"version": 4, "address": "y"})),
            )
            .await;
        assert_eq!(s, 409, "{v}");
        assert!(v["error"]["message"].as_str().unwrap().contains("锁定"));
        assert_eq!(
            api.call("DELETE", &format!("/api/v1/customers/{cid}"), None)
                .await
                .0,
            409
        );
        let un = api
            .ok("POST", &format!("/api/v1/customers/{cid}/unlock"), None)
            .await;
        // History, and restoring an old value from it.
        let h = api
            .ok("GET", &format!("/api/v1/customers/{cid}/history"), None)
            .await;
        let events: Vec<&str> = h
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event"].as_str().unwrap())
            .collect();
        assert_eq!(events, ["unlock", "lock", "update", "update", "create"]);
        let website_change = h
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["field"] == "website")
            .unwrap();
        let restored = api
            .ok(
                "POST",
                &format!(
                    "/api/v1/customers/{cid}/history/{}/restore",
                    website_change["id"]
                ),
                None,
            )
            .await;
        assert_eq!(restored["website"], "https://example.cn");
        assert_eq!(restored["version"], un["version"].as_i64().unwrap() + 1);
        // Recycle bin.
        assert_eq!(
            api.call("DELETE", &format!("/api/v1/customers/{cid}"), None)
                .await
                .0,
            204
        );
        assert_eq!(api.get(&format!("/api/v1/customers/{cid}")).await.0, 404);
        let bin = api.ok("GET", "/api/v1/customers/recycle-bin", None).await;
        assert_eq!(bin["items"][0]["id"], cid);
        api.ok("POST", &format!("/api/v1/customers/{cid}/restore"), None)
            .await;
        assert_eq!(api.get(&format!("/api/v1/customers/{cid}")).await.0, 200);
        assert_eq!(api.get("/api/v1/nonsense").await.0, 404);
        let log = api
            .ok("GET", "/api/v1/audit-log?module=customers", None)
            .await;
        assert!(log["items"].as_array().unwrap().len() >= 10);
        app.finish().await;
    }
}

#[tokio::test]
async fn record_scope_and_transfer() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let admin = app.admin().await;
        let east = admin.department("华东", None).await;
        let north = admin.department("华北", None).await;
        let sales = admin.role_id("sales").await;
        let mgr = admin.role_id("sales_manager").await;
        admin.user("s_east", Some(east), &[sales]).await;
        let north_id = admin.user("s_north", Some(north), &[sales]).await;
        admin.user("m_east", Some(east), &[mgr]).await;
        let se = app.api("s_east", "password-123").await;
        let sn = app.api("s_north", "password-123").await;
        let me = app.api("m_east", "password-123").await;
        let c = se
            .ok(
                "POST",
                "/api/v1/customers",
                Some(json!({"name": "东方客户"})),
            )
            .await;
        let id = c["id"].as_i64().unwrap();
        assert_eq!(c["department_id"], east);
        for (who, api, want) in [
            ("owner", &se, 200),
            ("other dept", &sn, 404),
            ("manager", &me, 200),
            ("admin", &admin, 200),
        ] {
            assert_eq!(
                api.get(&format!("/api/v1/customers/{id}")).await.0,
                want,
                "{b:?} {who}"
            );
            let n = api.ok("GET", "/api/v1/customers?q=东方", None).await["items"]
                .as_array()
                .unwrap()
                .len();
            assert_eq!(n, usize::from(want == 200), "{b:?} {who} search");
            let (s, _) = api
                .call(
                    "PATCH",
                    &format!("/api/v1/customers/{id}"),
                    Some(json!({"version": 1, "notes": "x"})),
                )
                .await;
            assert!(s == 404 || want == 200, "{who} PATCH {s}");
        }
        // A salesperson may not transfer; the manager may.
        assert_eq!(
            se.post(
                &format!("/api/v1/customers/{id}/transfer"),
                json!({"owner_id": north_id})
            )
            .await
            .0,
            403
        );
        let t = me
            .ok(
                "POST",
                &format!("/api/v1/customers/{id}/transfer"),
                Some(json!({"owner_id": north_id})),
            )
            .await;
        assert_eq!(t["department_id"], north);
        assert_eq!(
            se.get(&format!("/api/v1/customers/{id}")).await.0,
            404,
            "gone from the old owner's scope"
        );
        assert_eq!(sn.get(&format!("/api/v1/customers/{id}")).await.0, 200);
        assert_eq!(
            me.get(&format!("/api/v1/customers/{id}")).await.0,
            404,
            "now outside the east manager's tree"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn customer_region_is_a_code_from_the_tree() {
    let app = TestApp::spawn(guanxi_store::Backend::Sqlite).await;
    let api = app.admin().await;
    let (s, v) = api
        .post(
            "/api/v1/customers",
            json!({"name": "西湖客户", "region": "999999"}),
        )
        .await;
    assert_eq!((s, v["error"]["fields"]["region"].is_string()), (422, true));
    let c = api
        .ok(
            "POST",
            "/api/v1/customers",
            Some(json!({"name": "西湖客户", "region": "330106"})),
        )
        .await;
    assert_eq!(c["region"], "330106");
    // The detail page shows the path, and the form offers the cascading picker.
    let web = app.browser_client();
    web.post(app.url("/login"))
        .form(&[("username", "admin"), ("password", common::ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    let html = web
        .get(app.url(&format!("/customers/{}", c["id"])))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("浙江省 / 杭州市 / 西湖区"),
        "region path on the detail page"
    );
    let form = web
        .get(app.url(&format!("/customers/{}/edit", c["id"])))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(form.contains("data-region-picker"));
    let r = web
        .post(app.url(&format!("/customers/{}", c["id"])))
        .form(&[
            ("version", "1"),
            ("name", "西湖客户"),
            ("region", "330000"),
            ("region", "330100"),
            ("region", "330102"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let g = api
        .ok("GET", &format!("/api/v1/customers/{}", c["id"]), None)
        .await;
    assert_eq!(
        g["region"], "330102",
        "the deepest level chosen in the picker"
    );
    app.finish().await;
}

#[tokio::test]
async fn administrators_choose_the_related_lists() {
    let app = TestApp::spawn(guanxi_store::Backend::Sqlite).await;
    let api = app.admin().await;
    let c = api
        .ok(
            "POST",
            "/api/v1/customers",
            Some(json!({"name": "关联测试"})),
        )
        .await;
    let web = app.browser_client();
    web.post(app.url("/login"))
        .form(&[("username", "admin"), ("password", common::ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    let page = |web: reqwest::Client, url: String| async move {
        web.get(url).send().await.unwrap().text().await.unwrap()
    };
    let url = app.url(&format!("/customers/{}", c["id"]));
    assert!(
        page(web.clone(), url.clone())
            .await
            .contains("id=\"related-contacts\"")
    );
    let mut s = api.ok("GET", "/api/v1/settings", None).await;
    s["hidden_related"] = json!({"customers": ["contacts"]});
    api.ok("PUT", "/api/v1/settings", Some(s.clone())).await;
    assert!(
        !page(web.clone(), url.clone())
            .await
            .contains("id=\"related-contacts\"")
    );
    s["hidden_related"] = json!({"customers": ["leads"]});
    assert_eq!(api.call("PUT", "/api/v1/settings", Some(s)).await.0, 422);
    app.finish().await;
}

#[tokio::test]
async fn related_rows_are_edited_and_deleted_from_the_parent_page() {
    let app = TestApp::spawn(guanxi_store::Backend::Sqlite).await;
    let api = app.admin().await;
    let c = api
        .ok("POST", "/api/v1/customers", Some(json!({"name": "父记录"})))
        .await;
    let k = api
        .ok(
            "POST",
            "/api/v1/contacts",
            Some(json!({"name": "子联系人", "customer_id": c["id"]})),
        )
        .await;
    let web = app.browser_client();
    web.post(app.url("/login"))
        .form(&[("username", "admin"), ("password", common::ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    let parent = format!("/customers/{}", c["id"]);
    let html = web
        .get(app.url(&parent))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!("/contacts/{}/edit?back={parent}", k["id"])));
    let r = web
        .post(app.url(&format!("/contacts/{}", k["id"])))
        .form(&[
            ("version", "1"),
            ("name", "子联系人改"),
            ("customer_id", &c["id"].to_string()),
            ("back", &parent),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        format!("{parent}?ok=flash-saved")
    );
    let r = web
        .post(app.url(&format!("/contacts/{}/delete", k["id"])))
        .form(&[("back", parent.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        format!("{parent}?ok=flash-deleted")
    );
    let r = web
        .post(app.url(&format!("/customers/{}/delete", c["id"])))
        .form(&[("back", "//evil.example")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        "/customers?ok=flash-deleted",
        "only local pages"
    );
    app.finish().await;
}
