//! The data dictionary (数据字典) through the API and the admin page, on every database.

mod common;

use common::{ADMIN_PASSWORD, Api, TestApp, backends};
use serde_json::{Value, json};

/// The items of a list, as (code, id, sort_order, active).
async fn items(api: &Api, list: &str) -> Vec<(String, i64, i64, bool)> {
    api.ok("GET", &format!("/api/v1/dictionary/{list}"), None)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["code"].as_str().unwrap().to_owned(),
                i["id"].as_i64().unwrap(),
                i["sort_order"].as_i64().unwrap(),
                i["active"].as_bool().unwrap(),
            )
        })
        .collect()
}

async fn id_of(api: &Api, list: &str, code: &str) -> i64 {
    items(api, list)
        .await
        .into_iter()
        .find(|(c, ..)| c == code)
        .unwrap_or_else(|| panic!("{list}.{code} missing"))
        .1
}

/// The status of a request whose body does not matter.
async fn status(api: &Api, method: &str, path: &str, body: Option<Value>) -> u16 {
    api.call(method, path, body).await.0
}

/// The body of a page fetched with a cookie session.
async fn html(web: &reqwest::Client, url: String) -> String {
    web.get(url).send().await.unwrap().text().await.unwrap()
}

/// The actions of the settings module's audit log.
async fn audit_actions(api: &Api) -> Vec<String> {
    let log = api
        .ok("GET", "/api/v1/audit-log?module=settings", None)
        .await;
    log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn admin_lists_adds_relabels_reorders_and_disables() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let api = app.admin().await;
        // Every list with its localized name and items.
        let all = api.ok("GET", "/api/v1/dictionary", None).await;
        let names: Vec<&str> = all
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["name"].as_str().unwrap())
            .collect();
        for n in [
            "customer_type",
            "customer_source",
            "industry",
            "customer_level",
            "gender",
        ] {
            assert!(names.contains(&n), "{n} in {names:?}");
        }
        let industry = all
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["name"] == "industry")
            .unwrap();
        assert_eq!(industry["label"], "行业");
        assert_eq!(industry["items"].as_array().unwrap().len(), 9);
        assert_eq!(items(&api, "industry").await.len(), 9);
        assert_eq!(api.get("/api/v1/dictionary/nonsense").await.0, 404);

        // Add: placed last and active by default.
        let (s, v) = api
            .post(
                "/api/v1/dictionary/industry",
                json!({"code": "agri", "label_zh": "农业", "label_en": "Agriculture"}),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        assert_eq!(
            (v["sort_order"].as_i64(), v["active"].as_bool()),
            (Some(10), Some(true))
        );
        let agri = v["id"].as_i64().unwrap();
        // Duplicate code (in any case) → a field error; the same code in another list is fine.
        let (s, v) = api
            .post(
                "/api/v1/dictionary/industry",
                json!({"code": "AGRI", "label_zh": "农", "label_en": "Farming"}),
            )
            .await;
        assert_eq!(s, 422, "{v}");
        assert!(v["error"]["fields"]["code"].is_string(), "{v}");
        let (s, _) = api
            .post(
                "/api/v1/dictionary/customer_source",
                json!({"code": "agri", "label_zh": "农业展", "label_en": "Farm fair"}),
            )
            .await;
        assert_eq!(s, 201);
        // Bad code, missing and over-long labels.
        let (s, v) = api
            .post(
                "/api/v1/dictionary/industry",
                json!({"code": "no spaces!", "label_zh": "", "label_en": "x".repeat(51)}),
            )
            .await;
        assert_eq!(s, 422);
        for k in ["code", "label_zh", "label_en"] {
            assert!(v["error"]["fields"][k].is_string(), "{k} missing in {v}");
        }
        let (s, _) = api
            .post(
                "/api/v1/dictionary/industry",
                json!({"code": "x".repeat(41), "label_zh": "长", "label_en": "Long"}),
            )
            .await;
        assert_eq!(s, 422);
        let (s, _) = api
            .post(
                "/api/v1/dictionary/nonsense",
                json!({"code": "x", "label_zh": "x", "label_en": "x"}),
            )
            .await;
        assert_eq!(s, 404);

        // Relabel through /api/v1/dictionary/{list}/{id} (not swallowed by /api/v1/{module}/{id}).
        let v = api
            .ok(
                "PATCH",
                &format!("/api/v1/dictionary/industry/{agri}"),
                Some(json!({"label_zh": "农林牧渔", "label_en": "Agriculture and fishing"})),
            )
            .await;
        assert_eq!(
            (
                v["code"].as_str(),
                v["label_zh"].as_str(),
                v["sort_order"].as_i64()
            ),
            (Some("agri"), Some("农林牧渔"), Some(10)),
            "{v}"
        );
        let (s, v) = api
            .call(
                "PATCH",
                &format!("/api/v1/dictionary/industry/{agri}"),
                Some(json!({"label_en": " "})),
            )
            .await;
        assert_eq!(
            (s, v["error"]["fields"]["label_en"].is_string()),
            (422, true)
        );
        // Methods the item route lacks are 405 there, not the engine's "no such module" 404.
        let agri_path = format!("/api/v1/dictionary/industry/{agri}");
        assert_eq!(status(&api, "GET", &agri_path, None).await, 405);
        // The item exists only under its own list.
        let (s, _) = api
            .call(
                "PATCH",
                &format!("/api/v1/dictionary/gender/{agri}"),
                Some(json!({"label_zh": "x"})),
            )
            .await;
        assert_eq!(s, 404);
        assert_eq!(
            api.call("PATCH", "/api/v1/dictionary/industry/abc", Some(json!({})))
                .await
                .0,
            404
        );

        // Reorder: the named items first, the rest after them as they were.
        let it = id_of(&api, "industry", "it").await;
        let order = api
            .ok(
                "PUT",
                "/api/v1/dictionary/industry/order",
                Some(json!({"ids": [agri, it]})),
            )
            .await;
        let codes: Vec<&str> = order
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["code"].as_str().unwrap())
            .collect();
        assert_eq!(&codes[..4], ["agri", "it", "manufacturing", "retail"]);
        let now = items(&api, "industry").await;
        assert_eq!(
            now.iter().map(|i| i.2).collect::<Vec<_>>(),
            (1..=10).collect::<Vec<_>>()
        );
        let gender_id = id_of(&api, "gender", "male").await;
        let (s, _) = api
            .call(
                "PUT",
                "/api/v1/dictionary/industry/order",
                Some(json!({"ids": [gender_id]})),
            )
            .await;
        assert_eq!(s, 422, "an item of another list");
        let (s, _) = api
            .call(
                "PUT",
                "/api/v1/dictionary/industry/order",
                Some(json!({"ids": [it, it]})),
            )
            .await;
        assert_eq!(s, 422, "an item twice");
        // An explicit order through PATCH.
        api.ok(
            "PATCH",
            &format!("/api/v1/dictionary/industry/{agri}"),
            Some(json!({"sort_order": 99})),
        )
        .await;
        assert_eq!(items(&api, "industry").await.last().unwrap().0, "agri");

        // Disable and enable again.
        let v = api
            .ok(
                "PATCH",
                &format!("/api/v1/dictionary/industry/{agri}"),
                Some(json!({"active": false})),
            )
            .await;
        assert_eq!(
            (v["active"].as_bool(), v["label_zh"].as_str()),
            (Some(false), Some("农林牧渔"))
        );

        let actions = audit_actions(&api).await;
        for a in ["create", "update", "reorder"] {
            assert!(
                actions.contains(&format!("dictionary.{a}")),
                "{a}: {actions:?}"
            );
        }
        app.finish().await;
    }
}

#[tokio::test]
async fn disabled_options_are_refused_for_new_records_but_kept_by_old_ones() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let api = app.admin().await;
        let (s, old) = api
            .post(
                "/api/v1/customers",
                json!({"name": "旧客户", "industry": "it"}),
            )
            .await;
        assert_eq!(s, 201, "{old}");
        let it = id_of(&api, "industry", "it").await;
        api.ok(
            "PATCH",
            &format!("/api/v1/dictionary/industry/{it}"),
            Some(json!({"active": false})),
        )
        .await;
        let (s, v) = api
            .post("/api/v1/customers", json!({"name": "x", "industry": "it"}))
            .await;
        assert_eq!(s, 422, "{v}");
        assert!(v["error"]["fields"]["industry"].is_string(), "{v}");
        // The existing record keeps its value, and its page still shows the label.
        let id = old["id"].as_i64().unwrap();
        let rec = api
            .ok("GET", &format!("/api/v1/customers/{id}"), None)
            .await;
        assert_eq!(rec["industry"], "it", "{rec}");
        let web = login(&app).await;
        let page = html(&web, app.url(&format!("/customers/{id}"))).await;
        assert!(page.contains("信息技术"), "label shown on the detail page");
        // Enabled again, it is offered and accepted.
        api.ok(
            "PATCH",
            &format!("/api/v1/dictionary/industry/{it}"),
            Some(json!({"active": true})),
        )
        .await;
        let (s, _) = api
            .post("/api/v1/customers", json!({"name": "y", "industry": "it"}))
            .await;
        assert_eq!(s, 201);
        app.finish().await;
    }
}

#[tokio::test]
async fn items_in_use_cannot_be_deleted() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let api = app.admin().await;
        let (s, c) = api
            .post(
                "/api/v1/customers",
                json!({"name": "金融客户", "industry": "finance"}),
            )
            .await;
        assert_eq!(s, 201, "{c}");
        let finance = id_of(&api, "industry", "finance").await;
        let (s, v) = api
            .call(
                "DELETE",
                &format!("/api/v1/dictionary/industry/{finance}"),
                None,
            )
            .await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (409, Some("conflict")),
            "{v}"
        );
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(msg.contains('1') && msg.contains("金融"), "{msg}");
        // A record in the recycle bin still holds the code (it can be restored).
        let cid = c["id"].as_i64().unwrap();
        api.ok("DELETE", &format!("/api/v1/customers/{cid}"), None)
            .await;
        let finance_path = format!("/api/v1/dictionary/industry/{finance}");
        assert_eq!(status(&api, "DELETE", &finance_path, None).await, 409);
        // The same code in another list is not "in use" through this one.
        let other = api
            .ok(
                "POST",
                "/api/v1/dictionary/customer_source",
                Some(json!({"code": "finance", "label_zh": "金融展", "label_en": "Finance fair"})),
            )
            .await["id"]
            .as_i64()
            .unwrap();
        let other = format!("/api/v1/dictionary/customer_source/{other}");
        assert_eq!(status(&api, "DELETE", &other, None).await, 204);
        assert_eq!(status(&api, "DELETE", &other, None).await, 404);
        let education = id_of(&api, "industry", "education").await;
        let education = format!("/api/v1/dictionary/industry/{education}");
        assert_eq!(status(&api, "DELETE", &education, None).await, 204);
        assert!(
            !items(&api, "industry")
                .await
                .iter()
                .any(|i| i.0 == "education")
        );
        assert!(
            audit_actions(&api)
                .await
                .contains(&"dictionary.delete".to_owned())
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn salespeople_read_but_cannot_change() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let admin = app.admin().await;
        let sales = admin.role_id("sales").await;
        admin.user("xiao.wang", None, &[sales]).await;
        let api = app.api("xiao.wang", "password-123").await;
        assert_eq!(api.get("/api/v1/dictionary").await.0, 200);
        let (s, v) = api.get("/api/v1/dictionary/industry").await;
        assert_eq!((s, v.as_array().map(Vec::len)), (200, Some(9)));
        let it = id_of(&admin, "industry", "it").await;
        let item = format!("/api/v1/dictionary/industry/{it}");
        let refused: [(&str, &str, Option<Value>); 4] = [
            (
                "POST",
                "/api/v1/dictionary/industry",
                Some(json!({"code": "x", "label_zh": "x", "label_en": "x"})),
            ),
            ("PATCH", &item, Some(json!({"active": false}))),
            ("DELETE", &item, None),
            (
                "PUT",
                "/api/v1/dictionary/industry/order",
                Some(json!({"ids": [it]})),
            ),
        ];
        for (m, path, body) in refused {
            let (s, v) = api.call(m, path, body).await;
            assert_eq!(
                (s, v["error"]["code"].as_str()),
                (403, Some("forbidden")),
                "{m} {path}"
            );
        }
        assert!(
            items(&admin, "industry").await.iter().all(|i| i.3),
            "nothing changed"
        );
        // The admin page is not theirs either.
        let web = app.browser_client();
        web.post(app.url("/login"))
            .form(&[("username", "xiao.wang"), ("password", "password-123")])
            .send()
            .await
            .unwrap();
        let r = web.get(app.url("/admin/dictionary")).send().await.unwrap();
        assert_eq!(r.status(), 403);
        let home = html(&web, app.url("/")).await;
        assert!(!home.contains("/admin/dictionary"), "no menu item");
        app.finish().await;
    }
}

/// A cookie session for the administrator.
async fn login(app: &TestApp) -> reqwest::Client {
    let web = app.browser_client();
    let r = web
        .post(app.url("/login"))
        .form(&[("username", "admin"), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    web
}

async fn post_form(
    web: &reqwest::Client,
    url: String,
    form: &[(&str, &str)],
) -> (u16, String, String) {
    let r = web.post(url).form(form).send().await.unwrap();
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, location, r.text().await.unwrap())
}

#[tokio::test]
async fn admin_page_works_without_javascript() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let api = app.admin().await;
        let web = login(&app).await;
        let home = html(&web, app.url("/")).await;
        assert!(home.contains("href=\"/admin/dictionary\""), "menu item");
        let r = web.get(app.url("/admin/dictionary")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let page = r.text().await.unwrap();
        for label in ["客户类型", "客户来源", "行业", "客户级别", "性别"] {
            assert!(page.contains(label), "tab {label}");
        }
        assert!(page.contains("A 类（重点）"), "the first list is shown");
        let page = html(&web, app.url("/admin/dictionary/industry")).await;
        assert!(page.contains("id=\"dictionary-items\"") && page.contains("data-confirm"));
        assert_eq!(
            web.get(app.url("/admin/dictionary/nonsense"))
                .send()
                .await
                .unwrap()
                .status(),
            404
        );

        // Add, then a refused duplicate re-shows the form with the error.
        let base = app.url("/admin/dictionary/industry");
        let (s, loc, _) = post_form(
            &web,
            base.clone(),
            &[
                ("code", "energy"),
                ("label_zh", "能源"),
                ("label_en", "Energy"),
                ("sort_order", ""),
            ],
        )
        .await;
        assert_eq!(
            (s, loc.as_str()),
            (303, "/admin/dictionary/industry?ok=flash-created")
        );
        let (s, _, body) = post_form(
            &web,
            base.clone(),
            &[
                ("code", "energy"),
                ("label_zh", "能源2"),
                ("label_en", "Energy 2"),
            ],
        )
        .await;
        assert_eq!(s, 422);
        assert!(
            body.contains("已有相同编码") && body.contains("value=\"能源2\""),
            "{body}"
        );
        let energy = id_of(&api, "industry", "energy").await;

        // Relabel in place, move up, disable.
        let (s, _, _) = post_form(
            &web,
            format!("{base}/{energy}"),
            &[
                ("label_zh", "能源电力"),
                ("label_en", "Energy and power"),
                ("sort_order", "10"),
            ],
        )
        .await;
        assert_eq!(s, 303);
        let (s, _, _) = post_form(&web, format!("{base}/{energy}/move"), &[("dir", "up")]).await;
        assert_eq!(s, 303);
        let list = items(&api, "industry").await;
        let pos = list.iter().position(|i| i.0 == "energy").unwrap();
        assert_eq!((pos, list[pos + 1].0.as_str()), (list.len() - 2, "other"));
        let (s, loc, _) = post_form(
            &web,
            format!("{base}/{energy}/active"),
            &[("active", "false")],
        )
        .await;
        assert_eq!(
            (s, loc.as_str()),
            (
                303,
                "/admin/dictionary/industry?ok=flash-dictionary-disabled"
            )
        );
        let page = html(&web, app.url(&loc)).await;
        assert!(page.contains("能源电力") && page.contains("选项已停用"));
        assert!(!items(&api, "industry").await[pos].3);

        // Delete: refused while in use (with the reason), done when unused.
        api.ok(
            "POST",
            "/api/v1/customers",
            Some(json!({"name": "物流客户", "industry": "logistics"})),
        )
        .await;
        let logistics = id_of(&api, "industry", "logistics").await;
        let (s, _, body) = post_form(&web, format!("{base}/{logistics}/delete"), &[]).await;
        assert_eq!(s, 409);
        assert!(body.contains("正被 1 条记录使用"), "{body}");
        let (s, loc, _) = post_form(&web, format!("{base}/{energy}/delete"), &[]).await;
        assert_eq!(
            (s, loc.as_str()),
            (303, "/admin/dictionary/industry?ok=flash-deleted")
        );
        app.finish().await;
    }
}
