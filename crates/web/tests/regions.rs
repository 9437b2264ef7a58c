//! Regions (地区): the built-in tree, custom regions for administrators, the admin page and the
//! cascading picker, on every database.

mod common;

use common::{ADMIN_PASSWORD, TestApp, backends};
use serde_json::{Value, json};

fn names(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn the_built_in_tree_is_there_for_every_user() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let api = app.admin().await;
        let sales = api.role_id("sales").await;
        api.user("xiao.wang", None, &[sales]).await;
        let user = app.api("xiao.wang", "password-123").await;

        let provinces = user.ok("GET", "/api/v1/regions", None).await;
        let list = provinces.as_array().unwrap();
        assert!(list.len() >= 31, "{} provinces", list.len());
        assert!(list.iter().all(|r| r["level"] == 1 && r["builtin"] == true));
        let zj = list.iter().find(|r| r["name"] == "浙江省").unwrap();
        assert_eq!(zj["code"], "330000");
        assert!(zj["parent_code"].is_null());

        let cities = user.ok("GET", "/api/v1/regions?parent=330000", None).await;
        assert!(names(&cities).contains(&"杭州市"));
        let districts = user.ok("GET", "/api/v1/regions?parent=330100", None).await;
        assert!(names(&districts).contains(&"西湖区"));
        let d = user.ok("GET", "/api/v1/regions/330106", None).await;
        assert_eq!(
            (d["code"].as_str(), d["level"].as_i64()),
            (Some("330106"), Some(3))
        );
        assert_eq!(names(&d["path"]), ["浙江省", "杭州市", "西湖区"]);
        assert_eq!(d["label"], "浙江省 / 杭州市 / 西湖区");

        assert_eq!(user.get("/api/v1/regions/999999").await.0, 404);
        let (s, v) = user.get("/api/v1/regions?parent=999999").await;
        assert_eq!((s, v["error"]["code"].as_str()), (404, Some("not_found")));
        let anonymous = reqwest::get(app.url("/api/v1/regions")).await.unwrap();
        assert_eq!(anonymous.status(), 401);
        app.finish().await;
    }
}

#[tokio::test]
async fn administrators_add_rename_and_delete_custom_regions() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let api = app.admin().await;
        let (s, v) = api
            .post(
                "/api/v1/regions",
                json!({"parent_code": "330100", "code": "A1", "name": "未来科技城"}),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        assert_eq!(v["code"], "330100A1");
        assert_eq!(
            (v["level"].as_i64(), v["builtin"].as_bool()),
            (Some(3), Some(false))
        );
        let districts = api.ok("GET", "/api/v1/regions?parent=330100", None).await;
        assert!(names(&districts).contains(&"未来科技城"));
        let d = api.ok("GET", "/api/v1/regions/330100A1", None).await;
        assert_eq!(d["label"], "浙江省 / 杭州市 / 未来科技城");

        // Refusals, each on its field.
        for (body, field) in [
            (
                json!({"parent_code": "330100", "code": "A1", "name": "别的"}),
                "code",
            ),
            (
                json!({"parent_code": "330100", "code": "A2", "name": "西湖区"}),
                "name",
            ),
            (
                json!({"parent_code": "330100", "code": "a-b", "name": "x"}),
                "code",
            ),
            (
                json!({"parent_code": "330100", "code": "A3", "name": " "}),
                "name",
            ),
            (
                json!({"parent_code": "330106", "code": "01", "name": "x"}),
                "parent_code",
            ),
            (
                json!({"parent_code": "999999", "code": "01", "name": "x"}),
                "parent_code",
            ),
        ] {
            let (s, v) = api.post("/api/v1/regions", body.clone()).await;
            assert_eq!(s, 422, "{body}: {v}");
            assert!(v["error"]["fields"][field].is_string(), "{body}: {v}");
        }

        let r = api
            .ok(
                "PATCH",
                "/api/v1/regions/330100A1",
                Some(json!({"name": "科技城"})),
            )
            .await;
        assert_eq!(r["name"], "科技城");
        let (s, _) = api
            .call(
                "PATCH",
                "/api/v1/regions/330100A1",
                Some(json!({"name": "西湖区"})),
            )
            .await;
        assert_eq!(s, 422, "a sibling's name");
        assert_eq!(
            api.call("PATCH", "/api/v1/regions/nope", Some(json!({"name": "x"})))
                .await
                .0,
            404
        );

        // A custom city with a district: not deletable until the district is gone.
        api.ok(
            "POST",
            "/api/v1/regions",
            Some(json!({"parent_code": "330000", "code": "X", "name": "新区"})),
        )
        .await;
        api.ok(
            "POST",
            "/api/v1/regions",
            Some(json!({"parent_code": "330000X", "code": "1", "name": "一区"})),
        )
        .await;
        let (s, v) = api.call("DELETE", "/api/v1/regions/330000X", None).await;
        assert_eq!((s, v["error"]["code"].as_str()), (409, Some("conflict")));
        for code in ["330000X1", "330000X", "330100A1"] {
            let (s, v) = api
                .call("DELETE", &format!("/api/v1/regions/{code}"), None)
                .await;
            assert_eq!(s, 204, "{code}: {v}");
        }
        assert_eq!(
            api.call("DELETE", "/api/v1/regions/330100A1", None).await.0,
            404
        );
        // Built-in regions stay.
        let (s, v) = api.call("DELETE", "/api/v1/regions/330106", None).await;
        assert_eq!(s, 409, "{v}");
        assert!(v["error"]["message"].as_str().unwrap().len() > 3);
        assert_eq!(api.get("/api/v1/regions/330106").await.0, 200);

        let log = api
            .ok("GET", "/api/v1/audit-log?module=settings", None)
            .await;
        let actions: Vec<&str> = log["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        for a in ["region.create", "region.update", "region.delete"] {
            assert!(actions.contains(&a), "{a} in {actions:?}");
        }
        app.finish().await;
    }
}

#[tokio::test]
async fn a_salesperson_cannot_change_regions() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let api = app.admin().await;
        let sales = api.role_id("sales").await;
        api.user("xiao.li", None, &[sales]).await;
        let user = app.api("xiao.li", "password-123").await;
        let (s, v) = user
            .post(
                "/api/v1/regions",
                json!({"parent_code": "330100", "code": "B1", "name": "某区"}),
            )
            .await;
        assert_eq!((s, v["error"]["code"].as_str()), (403, Some("forbidden")));
        let (s, _) = user
            .call(
                "PATCH",
                "/api/v1/regions/330106",
                Some(json!({"name": "改名"})),
            )
            .await;
        assert_eq!(s, 403);
        assert_eq!(
            user.call("DELETE", "/api/v1/regions/330106", None).await.0,
            403
        );
        let d = user.ok("GET", "/api/v1/regions/330106", None).await;
        assert_eq!(d["name"], "西湖区");
        app.finish().await;
    }
}

#[tokio::test]
async fn the_admin_page_browses_the_tree_and_the_picker_keeps_the_chain() {
    let app = TestApp::spawn(guanxi_store::Backend::Sqlite).await;
    let web = app.browser_client();
    web.post(app.url("/login"))
        .form(&[("username", "admin"), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    let page = |path: &'static str| {
        let web = web.clone();
        let url = app.url(path);
        async move {
            let r = web.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (s, html) = page("/admin/regions").await;
    assert_eq!(s, 200);
    assert!(
        html.contains("href=\"/admin/regions?parent=330000\""),
        "links down"
    );
    assert!(html.contains("href=\"/admin/regions\""), "in the menu");
    // The picker's drop-downs: province, city, district, all named after the field.
    let (s, html) = page("/admin/regions?parent=330100").await;
    assert_eq!(s, 200);
    assert!(html.contains("西湖区") && html.contains("<h1>杭州市</h1>"));
    assert!(
        html.contains("href=\"/admin/regions?parent=330000\">浙江省</a>"),
        "breadcrumb up"
    );
    assert_eq!(html.matches("<select name=\"parent\"").count(), 3);
    assert!(html.contains("<option value=\"330000\" selected>浙江省</option>"));
    assert!(html.contains("<option value=\"330100\" selected>杭州市</option>"));
    // Without JavaScript a stale city after a new province is ignored.
    let (_, html) = page("/admin/regions?parent=320000&parent=330100&parent=").await;
    assert!(
        html.contains("<h1>江苏省</h1>"),
        "the chain stops at the new province"
    );
    let (_, html) = page("/admin/regions?parent=330000&parent=330100&parent=330106").await;
    assert!(html.contains("<h1>西湖区</h1>"));
    assert_eq!(page("/admin/regions?parent=999999").await.0, 404);

    // Add, rename and delete through the forms.
    let post = |path: String, form: Vec<(&'static str, &'static str)>| {
        let web = web.clone();
        let url = app.url(&path);
        async move {
            let r = web.post(url).form(&form).send().await.unwrap();
            let loc = r
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_owned());
            (r.status().as_u16(), loc, r.text().await.unwrap())
        }
    };
    let (s, loc, _) = post(
        "/admin/regions".into(),
        vec![
            ("parent_code", "330100"),
            ("code", "Z9"),
            ("name", "测试区"),
        ],
    )
    .await;
    assert_eq!(
        (s, loc.as_deref()),
        (303, Some("/admin/regions?parent=330100&ok=flash-created"))
    );
    let (s, _, html) = post(
        "/admin/regions".into(),
        vec![("parent_code", "330100"), ("code", "Z9"), ("name", "别名")],
    )
    .await;
    assert_eq!(s, 422);
    assert!(html.contains("id=\"form-error\"") && html.contains("value=\"别名\""));
    let (s, loc, _) = post("/admin/regions/330100Z9".into(), vec![("name", "测试新区")]).await;
    assert_eq!(
        (s, loc.as_deref()),
        (303, Some("/admin/regions?parent=330100&ok=flash-saved"))
    );
    let (s, _, _) = post("/admin/regions/330106/delete".into(), vec![]).await;
    assert_eq!(s, 409, "built-in");
    let (s, loc, _) = post("/admin/regions/330100Z9/delete".into(), vec![]).await;
    assert_eq!(
        (s, loc.as_deref()),
        (303, Some("/admin/regions?parent=330100&ok=flash-deleted"))
    );
    app.finish().await;
}
