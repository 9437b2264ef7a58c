//! The record pages over plain HTTP: titles of related records outside the user's scope stay
//! hidden on a full list page (their titles are read in one batch, in scope); the relation
//! picker and the column chooser work without JavaScript.

mod common;

use common::{ADMIN_PASSWORD, TestApp, backends};
use serde_json::json;

async fn web_login(app: &TestApp, user: &str, password: &str) -> reqwest::Client {
    app.web_login(user, password).await
}

async fn html(web: &reqwest::Client, url: String) -> String {
    let r = web.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200, "{url}");
    r.text().await.unwrap()
}

#[tokio::test]
async fn a_full_list_hides_titles_of_related_records_out_of_scope() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let admin = app.admin().await;
        let dept = admin.department("华东", None).await;
        let sales = admin.role_id("sales").await;
        let seller = admin.user("s_hz", Some(dept), &[sales]).await;
        // 50 contacts of the salesperson, each linked to a customer only the admin may see.
        for i in 0..50 {
            let c = admin
                .ok(
                    "POST",
                    "/api/v1/customers",
                    Some(json!({ "name": format!("机密客户{i:02}") })),
                )
                .await;
            let k = admin
                .ok(
                    "POST",
                    "/api/v1/contacts",
                    Some(json!({ "name": format!("联系人{i:02}"), "customer_id": c["id"] })),
                )
                .await;
            admin
                .ok(
                    "POST",
                    &format!("/api/v1/contacts/{}/transfer", k["id"]),
                    Some(json!({ "owner_id": seller })),
                )
                .await;
        }
        let web = web_login(&app, "s_hz", "password-123").await;
        let page = html(&web, app.url("/contacts")).await;
        for i in 0..50 {
            assert!(page.contains(&format!("联系人{i:02}")), "{b:?}: row {i}");
        }
        assert!(!page.contains("机密客户"), "{b:?}: a title leaked");
        // The same page for the administrator names every customer.
        let web_admin = web_login(&app, "admin", ADMIN_PASSWORD).await;
        let page = html(&web_admin, app.url("/contacts")).await;
        for i in 0..50 {
            assert!(page.contains(&format!("机密客户{i:02}")), "{b:?}: {i}");
        }
        // Nor does a contact's own page or its edit form name it.
        let first = admin.ok("GET", "/api/v1/contacts?limit=1", None).await;
        let id = first["items"][0]["id"].as_i64().unwrap();
        for path in [format!("/contacts/{id}"), format!("/contacts/{id}/edit")] {
            let page = html(&web, app.url(&path)).await;
            assert!(!page.contains("机密客户"), "{b:?}: {path}");
        }
        app.finish().await;
    }
}

#[tokio::test]
async fn the_picker_and_the_column_chooser_work_without_javascript() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let admin = app.admin().await;
        let c = admin
            .ok(
                "POST",
                "/api/v1/customers",
                Some(json!({ "name": "杭州云峰科技" })),
            )
            .await;
        let cid = c["id"].as_i64().unwrap();
        let web = web_login(&app, "admin", ADMIN_PASSWORD).await;

        // The form holds the id in a visible box, with the current name beside it.
        let form = html(&web, app.url(&format!("/contacts/new?customer_id={cid}"))).await;
        assert!(
            form.contains(&format!(
                r#"<input type="number" class="relation-id" name="customer_id" value="{cid}""#
            )),
            "{form}"
        );
        assert!(form.contains("杭州云峰科技 · "));
        assert!(!form.contains("<select name=\"customer_id\""));
        let r = web
            .post(app.url("/contacts"))
            .form(&[
                ("version", "0"),
                ("name", "孙八"),
                ("customer_id", &cid.to_string()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let to = r.headers()["location"].to_str().unwrap().to_owned();
        let detail = html(&web, app.url(to.split('?').next().unwrap())).await;
        assert!(detail.contains(&format!(r#"<a href="/customers/{cid}">杭州云峰科技</a>"#)));

        // ↑ submits the chooser; the list moves the column and shows it at a clean address.
        let r = web
            .get(
                app.url(
                    "/customers?q=&col=industry&col=level&col=phone&move=phone.up&cols=industry",
                ),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{b:?}");
        let to = r.headers()["location"].to_str().unwrap().to_owned();
        assert_eq!(to, "/customers?cols=industry%2Cphone%2Clevel");
        let list = html(&web, app.url(&to)).await;
        let (industry, phone, level) = (
            list.find(r#"value="industry" checked"#).unwrap(),
            list.find(r#"value="phone" checked"#).unwrap(),
            list.find(r#"value="level" checked"#).unwrap(),
        );
        assert!(industry < phone && phone < level, "{b:?}");
        assert!(list.contains("columns=name%2Cindustry%2Cphone%2Clevel"));
        app.finish().await;
    }
}

#[tokio::test]
async fn a_contact_form_names_a_new_organisation() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let admin = app.admin().await;
        let c = admin
            .ok(
                "POST",
                "/api/v1/customers",
                Some(json!({ "name": "表单客户" })),
            )
            .await;
        let web = web_login(&app, "admin", ADMIN_PASSWORD).await;
        let form = html(&web, app.url("/contacts/new")).await;
        assert!(
            form.contains(r#"name="organisation_name""#),
            "{b:?}: no name input"
        );
        let cid = c["id"].as_i64().unwrap().to_string();
        let post = |name: &'static str, org: &'static str| {
            let web = web.clone();
            let url = app.url("/contacts");
            let cid = cid.clone();
            async move {
                web.post(url)
                    .form(&[
                        ("name", name),
                        ("customer_id", cid.as_str()),
                        ("organisation_id", ""),
                        ("organisation_name", org),
                    ])
                    .send()
                    .await
                    .unwrap()
            }
        };
        assert_eq!(
            post("周一", "宁波新单位有限公司").await.status(),
            303,
            "{b:?}"
        );
        assert_eq!(
            post("周二", "宁波新单位有限公司").await.status(),
            303,
            "{b:?}"
        );
        let orgs = admin
            .ok(
                "GET",
                "/api/v1/organisations?q=%E5%AE%81%E6%B3%A2%E6%96%B0",
                None,
            )
            .await;
        let items = orgs["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{b:?}: created once, then linked: {orgs}");
        let oid = &items[0]["id"];
        let contacts = admin
            .ok(
                "GET",
                &format!("/api/v1/contacts?f.organisation_id.eq={oid}"),
                None,
            )
            .await;
        assert_eq!(contacts["items"].as_array().unwrap().len(), 2, "{b:?}");
        app.finish().await;
    }
}
