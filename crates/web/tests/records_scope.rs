//! The data-scope matrix of the record engine: a salesperson reaches their own customers and
//! nothing of another department's — not by list, search, detail URL, edit form, history,
//! related list, previous / next, jump list, API, nor by writing — 404 where the record is
//! outside the scope; the department's manager reaches both, the other department's manager
//! neither.

mod common;

use common::{TestApp, backends};
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
