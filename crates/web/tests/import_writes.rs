//! Import writes through the API on every database, and how an import ends: duplicates
//! skipped or updated (and another owner's record left alone, as exports keep to the data
//! scope), a cancel at any moment of the start, and a revert that puts back what the import did
//! and nothing more.

mod common;
mod imports_common;

use common::{TestApp, backends};
use imports_common::{bytes, map, names, upload, wait};
use serde_json::{Value, json};

#[tokio::test]
async fn duplicates_update_own_records_but_not_someone_elses() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin().await;
        let manager_role = admin.role_id("sales_manager").await;
        let sales_role = admin.role_id("sales").await;
        let east = admin.department("华东", None).await;
        let west = admin.department("西南", None).await;
        admin.user("boss", Some(east), &[manager_role]).await;
        admin.user("other", Some(west), &[sales_role]).await;
        let boss = app.api("boss", "password-123").await;
        let other = app.api("other", "password-123").await;
        let mine = boss
            .ok(
                "POST",
                "/api/v1/customers",
                Some(json!({"name": "自己的客户", "address": "旧地址", "notes": "留着"})),
            )
            .await;
        other
            .ok(
                "POST",
                "/api/v1/customers",
                Some(json!({"name": "别人的客户", "address": "别人的地址"})),
            )
            .await;
        let csv = "客户名称,详细地址\n自己的客户,新地址\n别人的客户,改掉\n";
        let (_, imp) = upload(&boss, "customers", "u.csv", csv.as_bytes().to_vec()).await;
        let id = imp["id"].as_i64().unwrap();
        map(&boss, id, json!(["name", "address"]), "update").await;
        boss.ok("POST", &format!("/api/v1/imports/{id}/start"), None)
            .await;
        let done = wait(&boss, id, &["done", "failed"]).await;
        assert_eq!(done["updated_rows"], 1, "{done}");
        assert_eq!(done["error_rows"], 1, "{done}");
        let after = boss
            .ok("GET", &format!("/api/v1/customers/{}", mine["id"]), None)
            .await;
        assert_eq!(after["address"], "新地址");
        assert_eq!(after["notes"], "留着", "fields not in the file are kept");
        let errs = boss
            .ok("GET", &format!("/api/v1/imports/{id}/errors"), None)
            .await;
        assert_eq!(
            errs[0]["errors"][0]["message"],
            "import-error-duplicate-existing"
        );
        let theirs = other
            .ok("GET", "/api/v1/customers?q=别人的客户", None)
            .await;
        assert_eq!(theirs["items"][0]["address"], "别人的地址");
        // Someone else's imports are not visible; a salesperson may not import at all.
        assert_eq!(other.get(&format!("/api/v1/imports/{id}")).await.0, 404);
        let (s, _) = upload(&other, "customers", "x.csv", b"a\n1\n".to_vec()).await;
        assert_eq!(s, 403);
        // Revert puts the old value back through the history.
        boss.ok("POST", &format!("/api/v1/imports/{id}/revert"), None)
            .await;
        wait(&boss, id, &["reverted"]).await;
        let back = boss
            .ok("GET", &format!("/api/v1/customers/{}", mine["id"]), None)
            .await;
        assert_eq!(back["address"], "旧地址");
        // Exports keep to the data scope; a role without the export right gets 403.
        let (_, csv) = bytes(&other, "/api/v1/customers/export?format=csv").await;
        let text = String::from_utf8(csv).unwrap();
        assert!(
            text.contains("别人的客户") && !text.contains("自己的客户"),
            "{text}"
        );
        let service_role = admin.role_id("service").await;
        admin.user("svc", Some(west), &[service_role]).await;
        let svc = app.api("svc", "password-123").await;
        assert_eq!(
            bytes(&svc, "/api/v1/customers/export?format=csv").await.0,
            403
        );
        app.finish().await;
    }
}

/// A cancel at any moment of a write's start (queued, just claimed, writing) leaves the import
/// cancelled for good, and the job queue goes on: the next import's dry run finishes.
#[tokio::test]
async fn a_cancel_right_after_the_start_stops_the_import_and_the_queue_goes_on() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin().await;
        let mut csv = String::from("姓名,手机\n");
        for i in 0..6_000 {
            csv += &format!("取消{i},137{i:08}\n");
        }
        for pause in [0u64, 20, 60, 150, 400] {
            let (s, imp) = upload(&admin, "contacts", "cancel.csv", csv.clone().into_bytes()).await;
            assert_eq!(s, 201, "{imp}");
            let id = imp["id"].as_i64().unwrap();
            map(&admin, id, json!(["name", "mobile"]), "create").await;
            admin
                .ok("POST", &format!("/api/v1/imports/{id}/start"), None)
                .await;
            tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
            let (s, v) = admin
                .call("POST", &format!("/api/v1/imports/{id}/cancel"), None)
                .await;
            if s == 409 {
                // Too late: the write was already done.
                let v = wait(&admin, id, &["done"]).await;
                assert_eq!(v["created_rows"], 6_000, "{v}");
                continue;
            }
            assert_eq!(s, 200, "{backend:?} after {pause} ms: {v}");
            // Whatever the job was doing, it stops, and nothing brings the import back.
            tokio::time::sleep(std::time::Duration::from_millis(800)).await;
            let (_, v) = admin.get(&format!("/api/v1/imports/{id}")).await;
            assert_eq!(v["state"], "cancelled", "{backend:?} after {pause} ms: {v}");
            let (s, v) = admin
                .call("POST", &format!("/api/v1/imports/{id}/start"), None)
                .await;
            assert_eq!(s, 409, "a cancelled import is not started again: {v}");
            // The queue is free: another import's dry run is done.
            let (s, next) = upload(&admin, "contacts", "next.csv", "姓名\n下一位\n".into()).await;
            assert_eq!(s, 201, "{next}");
            let next = next["id"].as_i64().unwrap();
            map(&admin, next, json!(["name"]), "skip").await;
            admin
                .ok("POST", &format!("/api/v1/imports/{next}/check"), None)
                .await;
            let v = wait(&admin, next, &["validated", "failed"]).await;
            assert_eq!(v["state"], "validated", "{backend:?} after {pause} ms: {v}");
        }
        app.finish().await;
    }
}

/// A revert puts back what the import did and nothing more: records someone changed since the
/// import wrote them keep that change (neither deleted nor overwritten), and are counted.
#[tokio::test]
async fn a_revert_leaves_records_changed_since_the_import_as_they_are() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin().await;
        let mut existing = vec![];
        for name in ["已有甲", "已有乙"] {
            let v = admin
                .ok(
                    "POST",
                    "/api/v1/customers",
                    Some(json!({"name": name, "notes": "原备注"})),
                )
                .await;
            existing.push(v["id"].as_i64().unwrap());
        }
        let csv = "客户名称,备注\n已有甲,导入备注\n已有乙,导入备注\n新建甲,新\n新建乙,新\n";
        let (s, imp) = upload(&admin, "customers", "rv.csv", csv.into()).await;
        assert_eq!(s, 201, "{imp}");
        let id = imp["id"].as_i64().unwrap();
        map(&admin, id, json!(["name", "notes"]), "update").await;
        admin
            .ok("POST", &format!("/api/v1/imports/{id}/start"), None)
            .await;
        let done = wait(&admin, id, &["done", "failed"]).await;
        assert_eq!(
            (done["created_rows"].clone(), done["updated_rows"].clone()),
            (json!(2), json!(2)),
            "{done}"
        );
        // After the import, a user edits one updated and one created record.
        let edit = |id: i64| {
            let admin = &admin;
            async move {
                let v = admin
                    .ok("GET", &format!("/api/v1/customers/{id}"), None)
                    .await;
                admin
                    .ok(
                        "PATCH",
                        &format!("/api/v1/customers/{id}"),
                        Some(json!({"version": v["version"], "notes": "用户后来修改"})),
                    )
                    .await;
            }
        };
        edit(existing[0]).await;
        let created = admin.ok("GET", "/api/v1/customers?q=新建甲", None).await;
        let created = created["items"][0]["id"].as_i64().unwrap();
        edit(created).await;
        admin
            .ok("POST", &format!("/api/v1/imports/{id}/revert"), None)
            .await;
        let v = wait(&admin, id, &["reverted", "failed"]).await;
        assert_eq!(v["state"], "reverted", "{v}");
        assert_eq!(v["reverted_rows"], 2, "{v}");
        assert_eq!(v["kept_rows"], 2, "{v}");
        let notes = |v: Value| v["notes"].as_str().unwrap_or_default().to_owned();
        let get = |id: i64| {
            let path = format!("/api/v1/customers/{id}");
            let admin = &admin;
            async move { admin.ok("GET", &path, None).await }
        };
        assert_eq!(notes(get(existing[0]).await), "用户后来修改");
        assert_eq!(notes(get(existing[1]).await), "原备注", "put back");
        assert_eq!(notes(get(created).await), "用户后来修改", "kept");
        assert_eq!(
            names(&admin, "customers").await,
            ["已有乙", "已有甲", "新建甲"],
            "新建乙 is in the recycle bin"
        );
        app.finish().await;
    }
}
