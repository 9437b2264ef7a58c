mod common;
mod engine_paths_common;
use common::{ADMIN_PASSWORD, TestApp, backends};
use engine_paths_common::*;
use serde_json::json;

#[tokio::test]
async fn probe() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let api = app.admin().await;
        let c = api
            .ok(
                "POST",
                "/api/v1/customers",
                Some(json!({"name": "杭州云峰科技"})),
            )
            .await;
        let k = api.ok("POST", "/api/v1/contacts", Some(json!({"name": "孙八", "customer_id": c["id"], "birthday": "1990-05-01", "title": "经理"}))).await;
        let kid = id_of(&k);
        let web = web_login(&app, "admin", ADMIN_PASSWORD).await;
        let mut form = form_fields(
            &html(&web, app.url(&format!("/contacts/{kid}/edit"))).await,
            "record-form",
        );
        println!("FORM {form:?}");
        api.ok(
            "PATCH",
            &format!("/api/v1/contacts/{kid}"),
            Some(json!({"version": 1, "title": "总监"})),
        )
        .await;
        set(&mut form, "wechat", "wx1");
        let (s, _, page) = post(&web, app.url(&format!("/contacts/{kid}")), &form).await;
        println!(
            "STATUS {s} ROWS {:?}",
            table_rows(between(&page, "id=\"conflict\"", "</table>"))
        );
        // org side effect
        let (s, v) = api
            .post(
                "/api/v1/contacts",
                json!({"name": "x", "email": "bad", "organisation_name": "孤儿单位"}),
            )
            .await;
        println!("ORPHAN {s} {v}");
        println!(
            "ORGS {}",
            api.ok("GET", "/api/v1/organisations", None).await
        );
        // out-of-scope org by name
        let sales = api.role_id("sales").await;
        api.user("s1", None, &[sales]).await;
        api.ok(
            "POST",
            "/api/v1/organisations",
            Some(json!({"name": "别人的单位"})),
        )
        .await;
        let s1 = app.api("s1", "password-123").await;
        let (s, v) = s1
            .post(
                "/api/v1/contacts",
                json!({"name": "y", "organisation_name": "别人的单位"}),
            )
            .await;
        println!("SCOPE {s} {v}");
        app.finish().await;
        break;
    }
}
