//! The pool research limits of a role on every database: an administrator sets the daily limit
//! of opened pool customers and the visibility of their phone numbers through the roles API and
//! through the role form; a user of the role opens as many as allowed and is refused the next in
//! their language, and sees phone numbers once the role allows it. Every change is audited.

mod common;

use common::{ADMIN_PASSWORD, Api, TestApp, backends};
use serde_json::{Value, json};

/// The role form as the browser posts it: the role's current matrix and the given pool limits.
fn role_form(role: &Value, views: &str, contacts: bool) -> Vec<(String, String)> {
    let mut form = vec![
        (
            "name".to_owned(),
            role["display_name"].as_str().unwrap().to_owned(),
        ),
        ("pool_daily_views".to_owned(), views.to_owned()),
    ];
    if contacts {
        form.push(("pool_contacts_visible".to_owned(), "on".to_owned()));
    }
    for (module, grant) in role["permissions"].as_object().unwrap() {
        for a in grant["actions"].as_array().unwrap() {
            form.push((format!("perm.{module}"), a.as_str().unwrap().to_owned()));
        }
        form.push((
            format!("scope.{module}"),
            grant["scope"].as_str().unwrap().to_owned(),
        ));
    }
    form
}

/// Opens a pool customer's details through the API.
async fn open(api: &Api, pool: i64, customer: i64) -> (u16, Value) {
    api.get(&format!("/api/v1/pools/{pool}/customers/{customer}"))
        .await
}

#[tokio::test]
async fn a_role_limits_opened_pool_customers_and_hides_phones() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin().await;
        let sales = admin.role_id("sales").await;
        let east = admin.department("华东", None).await;
        admin.user("zhang", Some(east), &[sales]).await;
        admin.user("li", Some(east), &[sales]).await;
        let pool = admin
            .ok(
                "POST",
                "/api/v1/pools",
                Some(json!({"name": "华东公海", "fall_back_days": 30,
                    "members": [{"kind": "department", "ref_id": east}]})),
            )
            .await["id"]
            .as_i64()
            .unwrap();
        let zhang = app.api("zhang", "password-123").await;
        let mut ids = vec![];
        for (name, phone) in [
            ("研究一", "13811110001"),
            ("研究二", "13811110002"),
            ("研究三", "13811110003"),
        ] {
            let c = zhang
                .ok(
                    "POST",
                    "/api/v1/customers",
                    Some(json!({"name": name, "phone": phone})),
                )
                .await;
            let id = c["id"].as_i64().unwrap();
            zhang
                .ok(
                    "POST",
                    &format!("/api/v1/customers/{id}/release"),
                    Some(json!({"reason": "other"})),
                )
                .await;
            ids.push(id);
        }

        // The API: a limit that is no whole number from 0 is refused next to its field.
        let role = admin
            .ok("GET", &format!("/api/v1/roles/{sales}"), None)
            .await;
        assert_eq!(role["pool_daily_views"], Value::Null, "{role}");
        assert_eq!(role["pool_contacts_visible"], true, "{role}");
        let put = |views: Value| {
            json!({ "name": "", "permissions": role["permissions"], "pool_daily_views": views,
                    "pool_contacts_visible": false })
        };
        let path = format!("/api/v1/roles/{sales}");
        let (s, e) = admin.call("PUT", &path, Some(put(json!(-1)))).await;
        assert_eq!(s, 422, "{e}");
        assert_eq!(
            e["error"]["fields"]["pool_daily_views"], "须为不小于 0 的整数，留空表示不限制。",
            "{e}"
        );
        let saved = admin.ok("PUT", &path, Some(put(json!(2)))).await;
        assert_eq!(saved["pool_daily_views"], 2, "{saved}");
        assert_eq!(saved["pool_contacts_visible"], false, "{saved}");
        // Left out, the limits stay as they are.
        let kept = admin
            .ok(
                "PUT",
                &path,
                Some(json!({ "name": "", "permissions": role["permissions"] })),
            )
            .await;
        assert_eq!(kept["pool_daily_views"], 2, "{kept}");
        assert_eq!(kept["pool_contacts_visible"], false, "{kept}");

        // Two opened (one of them twice), the third refused in the user's language.
        let li = app.api("li", "password-123").await;
        for id in [ids[0], ids[1], ids[0]] {
            let (s, c) = open(&li, pool, id).await;
            assert_eq!(s, 200, "{c}");
            assert!(c["phone"].as_str().unwrap().contains("****"), "{c}");
        }
        let (s, e) = open(&li, pool, ids[2]).await;
        assert_eq!(s, 409, "{e}");
        assert_eq!(
            e["error"]["message"],
            "今天查看公海客户详情已达上限（2 个）。"
        );
        let page = li
            .client
            .get(app.url(&format!("/pools/{pool}/customers/{}", ids[2])))
            .bearer_auth(&li.token)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 409);
        let html = page.text().await.unwrap();
        assert!(
            html.contains("今天查看公海客户详情已达上限（2 个）。"),
            "{html}"
        );
        let list = li
            .ok("GET", &format!("/api/v1/pools/{pool}/customers"), None)
            .await;
        assert!(
            list["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["phone"].as_str().unwrap().contains("****")),
            "{list}"
        );

        // The role form: a bad limit is refused and kept as typed; a good one saved.
        let web = app.browser_client();
        let login = [("username", "admin"), ("password", ADMIN_PASSWORD)];
        let r = web
            .post(app.url("/login"))
            .form(&login)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let role = admin.ok("GET", &path, None).await;
        let form_path = app.url(&format!("/admin/roles/{sales}"));
        let r = web
            .post(&form_path)
            .form(&role_form(&role, "两个", true))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("须为不小于 0 的整数，留空表示不限制。")
                && html.contains("value=\"两个\""),
            "{html}"
        );
        let r = web
            .post(&form_path)
            .form(&role_form(&role, "3", true))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let html = web
            .get(&form_path)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("每天可查看的公海客户详情数")
                && html.contains("id=\"pool-daily-views\" value=\"3\""),
            "{html}"
        );
        let saved = admin.ok("GET", &path, None).await;
        assert_eq!(saved["pool_daily_views"], 3, "{saved}");
        assert_eq!(saved["pool_contacts_visible"], true, "{saved}");
        assert_eq!(saved["permissions"], role["permissions"], "the matrix kept");

        // Now the third opens, with its phone number in full, and the list shows them all.
        let (s, c) = open(&li, pool, ids[2]).await;
        assert_eq!(s, 200, "{c}");
        assert_eq!(c["phone"], "13811110003");
        let list = li
            .ok("GET", &format!("/api/v1/pools/{pool}/customers"), None)
            .await;
        assert!(
            list["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| !c["phone"].as_str().unwrap().contains("****")),
            "{list}"
        );

        // Each change is in the audit log with the limits before and after.
        let log = admin
            .ok("GET", "/api/v1/audit-log?action=role.update", None)
            .await;
        let limits: Vec<(Value, Value)> = log["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["details"]["pool_daily_views"].clone(),
                    e["details"]["pool_contacts_visible"].clone(),
                )
            })
            .collect();
        assert_eq!(
            limits,
            [
                (json!([2, 3]), json!([false, true])),
                (json!([2, 2]), json!([false, false])),
                (json!([null, 2]), json!([true, false])),
            ],
            "{log}"
        );
        app.finish().await;
    }
}
