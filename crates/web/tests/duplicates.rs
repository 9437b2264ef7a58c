//! The duplicate check (查重) on every database: block or warn per module, naming the existing
//! record and its owner.

mod common;

use common::{TestApp, backends};
use serde_json::json;

#[tokio::test]
async fn duplicates_are_blocked_or_warned_naming_the_owner() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let admin = app.admin().await;
        let east = admin.department("华东", None).await;
        let north = admin.department("华北", None).await;
        let sales = admin.role_id("sales").await;
        admin.user("zhang", Some(east), &[sales]).await;
        admin.user("li", Some(north), &[sales]).await;
        let zhang = app.api("zhang", "password-123").await;
        let li = app.api("li", "password-123").await;
        zhang
            .ok(
                "POST",
                "/api/v1/customers",
                Some(json!({"name": "宁波海天机械", "phone": "0574-8888 1234"})),
            )
            .await;
        // Customers block by default; the message names the record and its owner, even to a
        // user who may not open it.
        let (s, v) = li
            .post("/api/v1/customers", json!({"name": "宁波海天机械"}))
            .await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (409, Some("duplicate")),
            "{v}"
        );
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(
            msg.contains("宁波海天机械") && msg.contains("zhang"),
            "{msg}"
        );
        let (s, _) = li
            .post(
                "/api/v1/customers",
                json!({"name": "另一家", "phone": "+86 574 8888 1234"}),
            )
            .await;
        assert_eq!(s, 409, "the same landline written with the country code");
        let (s, _) = li
            .post(
                "/api/v1/customers",
                json!({"name": "另一家", "phone": "+86 574 8888 1235"}),
            )
            .await;
        assert_eq!(s, 201, "a different normalised phone is not a duplicate");
        let (s, _) = li
            .post(
                "/api/v1/customers",
                json!({"name": "第三家", "phone": "057488881234"}),
            )
            .await;
        assert_eq!(s, 409, "same phone after normalisation");
        let (s, _) = li
            .post(
                "/api/v1/customers",
                json!({"name": "宁波海天机械", "confirm_duplicate": true}),
            )
            .await;
        assert_eq!(s, 409, "a block cannot be confirmed away");
        // Contacts warn by default: confirm to go on.
        zhang
            .ok(
                "POST",
                "/api/v1/contacts",
                Some(json!({"name": "王工", "mobile": "13911112222"})),
            )
            .await;
        let (s, v) = li
            .post(
                "/api/v1/contacts",
                json!({"name": "王工", "mobile": "13911112222"}),
            )
            .await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (409, Some("duplicate_warning"))
        );
        let (s, _) = li
            .post(
                "/api/v1/contacts",
                json!({"name": "王工", "mobile": "13911112222", "confirm_duplicate": true}),
            )
            .await;
        assert_eq!(s, 201);
        // By e-mail too, whatever its case; the message names the record and its owner only.
        zhang
            .ok(
                "POST",
                "/api/v1/contacts",
                Some(json!({"name": "赵经理", "email": "Zhao.Jingli@Example.com", "mobile": "13922223333"})),
            )
            .await;
        let (s, v) = li
            .post(
                "/api/v1/contacts",
                json!({"name": "另一个人", "email": "zhao.jingli@example.com"}),
            )
            .await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (409, Some("duplicate_warning")),
            "{v}"
        );
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(msg.contains("赵经理") && msg.contains("zhang"), "{msg}");
        assert!(!msg.contains("13922223333"), "{msg}");
        // Switch customers to warn in the settings.
        let mut settings = admin.ok("GET", "/api/v1/settings", None).await;
        settings["duplicates"] = json!({"customers": "warn"});
        admin.ok("PUT", "/api/v1/settings", Some(settings)).await;
        let (s, _) = li
            .post(
                "/api/v1/customers",
                json!({"name": "宁波海天机械", "confirm_duplicate": true}),
            )
            .await;
        assert_eq!(s, 201);
        // Editing into a duplicate is checked too; the audit log shows the attempts.
        let c = li
            .ok("POST", "/api/v1/customers", Some(json!({"name": "临时名"})))
            .await;
        let (s, _) = li
            .call(
                "PATCH",
                &format!("/api/v1/customers/{}", c["id"]),
                Some(json!({"version": 1, "name": "宁波海天机械"})),
            )
            .await;
        assert_eq!(s, 409);
        let log = admin
            .ok("GET", "/api/v1/audit-log?action=record.duplicate", None)
            .await;
        assert!(log["items"].as_array().unwrap().len() >= 4);
        app.finish().await;
    }
}
