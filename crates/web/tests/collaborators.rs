//! Collaborators (协作人) of customers on every database: the owner adds a salesperson of
//! another department, who then sees and edits the customer (not deletes it) until removed;
//! the change is in the history and the audit log, and on the detail page.

mod common;

use common::{TestApp, backends};
use serde_json::json;

#[tokio::test]
async fn collaborators_see_and_edit_until_removed() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let admin = app.admin().await;
        let east = admin.department("华东", None).await;
        let north = admin.department("华北", None).await;
        let sales = admin.role_id("sales").await;
        admin.user("zhang", Some(east), &[sales]).await;
        let li_id = admin.user("li", Some(north), &[sales]).await;
        let zhang = app.api("zhang", "password-123").await;
        let li = app.api("li", "password-123").await;
        let c = zhang
            .ok(
                "POST",
                "/api/v1/customers",
                Some(json!({"name": "宁波协作机械"})),
            )
            .await;
        let id = c["id"].as_i64().unwrap();
        let path = format!("/api/v1/customers/{id}");
        let collab = format!("{path}/collaborators");
        assert_eq!(li.get(&path).await.0, 404, "{b:?}");
        assert_eq!(li.get(&collab).await.0, 404, "{b:?}");

        // Refused: an unknown user, a stale version; the module without collaborators.
        let (s, v) = zhang
            .call(
                "PUT",
                &collab,
                Some(json!({"version": 1, "user_ids": [9999]})),
            )
            .await;
        assert_eq!(s, 422, "{v}");
        let (s, _) = zhang
            .call(
                "PUT",
                &collab,
                Some(json!({"version": 7, "user_ids": [li_id]})),
            )
            .await;
        assert_eq!(s, 409);
        let k = zhang
            .ok(
                "POST",
                "/api/v1/contacts",
                Some(json!({"name": "联系人", "customer_id": id})),
            )
            .await;
        let (s, _) = zhang
            .get(&format!("/api/v1/contacts/{}/collaborators", k["id"]))
            .await;
        assert_eq!(s, 404);

        let v = zhang
            .ok(
                "PUT",
                &collab,
                Some(json!({"version": 1, "user_ids": [li_id]})),
            )
            .await;
        assert_eq!(v["record"]["version"], 2, "{v}");
        assert_eq!(v["collaborators"][0]["display_name"], "li", "{v}");
        // The collaborator sees it (by id and in his list) and edits it, but may not delete it.
        let got = li.ok("GET", &path, None).await;
        assert_eq!(got["name"], "宁波协作机械");
        let list = li.ok("GET", "/api/v1/customers", None).await;
        assert_eq!(list["items"].as_array().unwrap().len(), 1, "{b:?}: {list}");
        let found = li
            .ok("GET", "/api/v1/customers?q=%E5%8D%8F%E4%BD%9C", None)
            .await;
        assert_eq!(
            found["items"].as_array().unwrap().len(),
            1,
            "{b:?}: search {found}"
        );
        li.ok(
            "PATCH",
            &path,
            Some(json!({"version": 2, "address": "宁波市北仑区"})),
        )
        .await;
        assert_eq!(li.call("DELETE", &path, None).await.0, 404, "{b:?}");
        assert_eq!(li.ok("GET", &collab, None).await[0]["user_id"], li_id);
        // Locking, sharing further and giving the customer up stay with the owner's side.
        assert_eq!(
            li.call("POST", &format!("{path}/lock"), None).await.0,
            404,
            "{b:?}"
        );
        let (s, _) = li
            .call(
                "PUT",
                &collab,
                Some(json!({"version": 3, "user_ids": [li_id, 1]})),
            )
            .await;
        assert_eq!(s, 404, "{b:?}");
        let (s, _) = li
            .post(&format!("{path}/release"), json!({"reason": "no_need"}))
            .await;
        assert_eq!(s, 404, "{b:?}");
        assert_eq!(zhang.ok("GET", &path, None).await["version"], 3);

        // History and audit.
        let h = zhang.ok("GET", &format!("{path}/history"), None).await;
        let line = h
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["field"] == "collaborators")
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            (line["old_value"].as_str(), line["new_value"].as_str()),
            (Some("\"\""), Some("\"li\"")),
            "{h}"
        );
        let log = admin
            .ok("GET", "/api/v1/audit-log?action=record.collaborators", None)
            .await;
        assert_eq!(log["items"].as_array().unwrap().len(), 1, "{log}");

        // The detail page names them and offers the form to whoever may edit.
        let web = app.web_login("zhang", "password-123").await;
        let page = web
            .get(app.url(&format!("/customers/{id}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("id=\"collaborators-form\""), "{b:?}");
        assert!(page.contains("协作人"), "{b:?}");
        // Removed through the page's form: the customer is out of his reach again.
        let r = web
            .post(app.url(&format!("/customers/{id}/collaborators")))
            .form(&[("version", "3")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{b:?}");
        assert_eq!(li.get(&path).await.0, 404, "{b:?}");
        let list = li.ok("GET", "/api/v1/customers", None).await;
        assert!(list["items"].as_array().unwrap().is_empty(), "{b:?}");

        // A customer given back to its pool leaves its collaborators behind with its owner.
        admin
            .ok(
                "POST",
                "/api/v1/pools",
                Some(json!({"name": "公海", "fall_back_days": 30, "warn_days": 5,
                    "members": [{"kind": "department", "ref_id": east}, {"kind": "department", "ref_id": north}]})),
            )
            .await;
        zhang
            .ok(
                "PUT",
                &collab,
                Some(json!({"version": 4, "user_ids": [li_id]})),
            )
            .await;
        assert_eq!(li.get(&path).await.0, 200, "{b:?}");
        zhang
            .ok(
                "POST",
                &format!("{path}/release"),
                Some(json!({"reason": "no_need"})),
            )
            .await;
        let list = li.ok("GET", "/api/v1/customers", None).await;
        assert!(
            list["items"].as_array().unwrap().is_empty(),
            "{b:?}: {list}"
        );
        let left =
            guanxi_store::records::collaborators::of(&app.db, &guanxi_core::engine::CUSTOMERS, id)
                .await
                .unwrap();
        assert!(left.is_empty(), "{b:?}: {left:?}");
        app.finish().await;
    }
}
