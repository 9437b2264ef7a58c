//! Purging from the recycle bin (永久删除) on every database: administrators only; never a live
//! record; the record goes with its history, attachments and search document while the audit
//! log keeps an entry; records that still point at it refuse the purge with a message naming
//! them; the button on the recycle bin page is an administrator's.

mod common;

use common::{ADMIN_PASSWORD, Api, TestApp, backends};
use guanxi_store::Db;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

async fn create(api: &Api, module: &str, body: Value) -> i64 {
    api.ok("POST", &format!("/api/v1/{module}"), Some(body))
        .await["id"]
        .as_i64()
        .unwrap()
}

/// A count from the database itself, on either backend; `$1` is the id.
async fn count(db: &Db, sqlite: &str, postgres: &str, id: i64) -> i64 {
    match db {
        Db::Sqlite { read, .. } => sqlx::query_scalar(sqlx::AssertSqlSafe(sqlite))
            .bind(id)
            .fetch_one(read)
            .await
            .unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(postgres))
            .bind(id)
            .fetch_one(p)
            .await
            .unwrap(),
    }
}

/// The rows of a record's quick-search index.
async fn search_rows(db: &Db, id: i64) -> i64 {
    count(
        db,
        "SELECT COUNT(*) FROM search_customers WHERE search_customers MATCH '\"永删\"' AND rowid = $1",
        "SELECT COUNT(*) FROM search_grams WHERE module = 'customers' AND record_id = $1",
        id,
    )
    .await
}

async fn history_rows(db: &Db, id: i64) -> i64 {
    let sql = "SELECT COUNT(*) FROM record_history WHERE module = 'customers' AND record_id = $1";
    count(db, sql, sql, id).await
}

async fn attachment_rows(db: &Db, id: i64) -> i64 {
    let sql = "SELECT COUNT(*) FROM attachments WHERE module = 'customers' AND record_id = $1";
    count(db, sql, sql, id).await
}

fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect()
}

/// A browser session of a user.
async fn web(app: &TestApp, user: &str, password: &str) -> reqwest::Client {
    app.web_login(user, password).await
}

#[tokio::test]
async fn only_administrators_purge_and_only_from_the_recycle_bin() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let admin = app.admin().await;
        let dept = admin.department("华东", None).await;
        let sales = admin.role_id("sales").await;
        admin.user("s1", Some(dept), &[sales]).await;
        let s1 = app.api("s1", "password-123").await;
        let gone = create(
            &s1,
            "customers",
            json!({"name": "永删甲公司", "phone": "13800001234"}),
        )
        .await;
        let upload = s1
            .client
            .post(format!("{}/api/v1/customers/{gone}/attachments", s1.base))
            .bearer_auth(&s1.token)
            .multipart(Form::new().part(
                "file",
                Part::bytes(b"contract".to_vec()).file_name("合同.txt"),
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(upload.status(), 201, "{b:?}: upload");
        let attachment = upload.json::<Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap();
        s1.ok(
            "PATCH",
            &format!("/api/v1/customers/{gone}"),
            Some(json!({"version": 1, "notes": "备注"})),
        )
        .await;
        s1.ok("DELETE", &format!("/api/v1/customers/{gone}"), None)
            .await;
        assert!(
            search_rows(&app.db, gone).await > 0,
            "{b:?}: indexed before"
        );

        // A salesperson may delete, never purge — not even their own record.
        let (s, v) = s1
            .call("DELETE", &format!("/api/v1/customers/{gone}/purge"), None)
            .await;
        assert_eq!(s, 403, "{b:?}: salesperson purge: {v}");
        let bin = s1.ok("GET", "/api/v1/customers/recycle-bin", None).await;
        assert_eq!(ids(&bin), vec![gone], "{b:?}: still in the bin");

        // A live record: a clear refusal, and nothing changes.
        let live = create(&admin, "customers", json!({"name": "活着的客户"})).await;
        let before = admin
            .ok("GET", &format!("/api/v1/customers/{live}"), None)
            .await;
        let (s, v) = admin
            .call("DELETE", &format!("/api/v1/customers/{live}/purge"), None)
            .await;
        assert_eq!(s, 409, "{b:?}: live purge: {v}");
        assert_eq!(v["error"]["code"], "conflict");
        assert!(
            v["error"]["message"].as_str().unwrap().contains("回收站"),
            "{b:?}: {v}"
        );
        let after = admin
            .ok("GET", &format!("/api/v1/customers/{live}"), None)
            .await;
        assert_eq!(before, after, "{b:?}: the live record is unchanged");
        let (s, _) = admin
            .call("DELETE", "/api/v1/customers/999999/purge", None)
            .await;
        assert_eq!(s, 404, "{b:?}: no such record");

        // The administrator purges the deleted one.
        let (s, v) = admin
            .call("DELETE", &format!("/api/v1/customers/{gone}/purge"), None)
            .await;
        assert_eq!(s, 204, "{b:?}: purge: {v}");
        assert_eq!(admin.get(&format!("/api/v1/customers/{gone}")).await.0, 404);
        let bin = admin.ok("GET", "/api/v1/customers/recycle-bin", None).await;
        assert!(!ids(&bin).contains(&gone), "{b:?}: out of the bin");
        for path in [
            "/api/v1/customers?q=永删",
            "/api/v1/customers?q=0001234",
            "/api/v1/customers/recycle-bin?q=永删",
        ] {
            let found = admin.ok("GET", path, None).await;
            assert!(ids(&found).is_empty(), "{b:?}: {path}");
        }
        assert_eq!(
            search_rows(&app.db, gone).await,
            0,
            "{b:?}: search document"
        );
        assert_eq!(history_rows(&app.db, gone).await, 0, "{b:?}: history");
        assert_eq!(
            attachment_rows(&app.db, gone).await,
            0,
            "{b:?}: attachments"
        );
        let path = format!("/api/v1/customers/{gone}/attachments/{attachment}");
        assert_eq!(admin.get(&path).await.0, 404, "{b:?}: attachment download");
        // Purged twice: there is nothing left.
        let (s, _) = admin
            .call("DELETE", &format!("/api/v1/customers/{gone}/purge"), None)
            .await;
        assert_eq!(s, 404, "{b:?}: purge again");

        // The next record (SQLite may give it the same id) inherits nothing of the purged one.
        let next = create(&admin, "customers", json!({"name": "接任客户"})).await;
        let h = admin
            .ok("GET", &format!("/api/v1/customers/{next}/history"), None)
            .await;
        assert_eq!(
            h.as_array().unwrap().len(),
            1,
            "{b:?}: only its own creation"
        );
        let a = admin
            .ok(
                "GET",
                &format!("/api/v1/customers/{next}/attachments"),
                None,
            )
            .await;
        assert_eq!(a.as_array().unwrap().len(), 0, "{b:?}: no attachments");
        let found = admin.ok("GET", "/api/v1/customers?q=永删", None).await;
        assert!(ids(&found).is_empty(), "{b:?}: not found by the old name");

        let log = admin
            .ok("GET", "/api/v1/audit-log?action=record.purge", None)
            .await;
        let items = log["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{b:?}: {log}");
        assert!(items[0].to_string().contains("永删甲公司"), "{b:?}: {log}");
        app.finish().await;
    }
}

#[tokio::test]
async fn records_that_point_at_it_refuse_the_purge() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let admin = app.admin().await;
        let customer = create(&admin, "customers", json!({"name": "有联系人的客户"})).await;
        let contact = create(
            &admin,
            "contacts",
            json!({"name": "联系人甲", "customer_id": customer}),
        )
        .await;
        admin
            .ok("DELETE", &format!("/api/v1/customers/{customer}"), None)
            .await;
        let purge = format!("/api/v1/customers/{customer}/purge");
        let (s, v) = admin.call("DELETE", &purge, None).await;
        assert_eq!(s, 409, "{b:?}: live contact: {v}");
        let message = v["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("1 条") && message.contains("联系人"),
            "{b:?}: {message}"
        );
        let bin = admin.ok("GET", "/api/v1/customers/recycle-bin", None).await;
        assert_eq!(ids(&bin), vec![customer], "{b:?}: still in the bin");
        assert!(history_rows(&app.db, customer).await > 0);

        // A contact in the recycle bin loses its link, with a history line, and may come back.
        admin
            .ok("DELETE", &format!("/api/v1/contacts/{contact}"), None)
            .await;
        let (s, v) = admin.call("DELETE", &purge, None).await;
        assert_eq!(s, 204, "{b:?}: purge after the contact went: {v}");
        let back = admin
            .ok(
                "POST",
                &format!("/api/v1/contacts/{contact}/restore"),
                Some(json!({})),
            )
            .await;
        assert!(back["customer_id"].is_null(), "{b:?}: {back}");
        let h = admin
            .ok("GET", &format!("/api/v1/contacts/{contact}/history"), None)
            .await;
        assert!(
            h.as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"] == "customer_id" && e["new_value"].is_null()),
            "{b:?}: {h}"
        );

        // A follow-up needs its customer: even in the recycle bin it refuses until purged itself.
        let other = create(&admin, "customers", json!({"name": "有跟进的客户"})).await;
        let follow_up = create(
            &admin,
            "follow_ups",
            json!({"customer_id": other, "content": "电话沟通"}),
        )
        .await;
        admin
            .ok("DELETE", &format!("/api/v1/follow_ups/{follow_up}"), None)
            .await;
        admin
            .ok("DELETE", &format!("/api/v1/customers/{other}"), None)
            .await;
        let purge = format!("/api/v1/customers/{other}/purge");
        let (s, v) = admin.call("DELETE", &purge, None).await;
        assert_eq!(s, 409, "{b:?}: follow-up in the bin: {v}");
        let message = v["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("回收站") && message.contains("跟进记录"),
            "{b:?}: {message}"
        );
        admin
            .ok(
                "DELETE",
                &format!("/api/v1/follow_ups/{follow_up}/purge"),
                None,
            )
            .await;
        let (s, v) = admin.call("DELETE", &purge, None).await;
        assert_eq!(s, 204, "{b:?}: then the customer: {v}");
        app.finish().await;
    }
}

#[tokio::test]
async fn the_purge_button_is_an_administrators() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let admin = app.admin().await;
        let dept = admin.department("华东", None).await;
        let sales = admin.role_id("sales").await;
        admin.user("s1", Some(dept), &[sales]).await;
        let s1 = app.api("s1", "password-123").await;
        let id = create(&s1, "customers", json!({"name": "待清理客户"})).await;
        s1.ok("DELETE", &format!("/api/v1/customers/{id}"), None)
            .await;
        let marker = format!("data-purge=\"{id}\"");

        let sales_web = web(&app, "s1", "password-123").await;
        let page = sales_web
            .get(app.url("/customers/recycle-bin"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("待清理客户"), "{b:?}: the salesperson's bin");
        assert!(
            !page.contains(&marker) && !page.contains("永久删除"),
            "{b:?}"
        );
        let r = sales_web
            .post(app.url(&format!("/customers/{id}/purge")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{b:?}: salesperson's form post");

        let admin_web = web(&app, "admin", ADMIN_PASSWORD).await;
        let page = admin_web
            .get(app.url("/customers/recycle-bin"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains(&marker), "{b:?}: the administrator's button");
        assert!(
            page.contains(&format!("formaction=\"/customers/{id}/purge\""))
                && page.contains("确定永久删除“待清理客户”吗？"),
            "{b:?}: the button posts with a confirmation"
        );
        let live = admin_web.get(app.url("/customers")).send().await.unwrap();
        assert!(
            !live.text().await.unwrap().contains("data-purge="),
            "{b:?}: not on the list"
        );
        let r = admin_web
            .post(app.url(&format!("/customers/{id}/purge")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{b:?}: purged from the page");
        assert_eq!(
            r.headers()["location"],
            "/customers/recycle-bin?ok=flash-purged"
        );
        let page = admin_web
            .get(app.url("/customers/recycle-bin?ok=flash-purged"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("已永久删除") && !page.contains("待清理客户"),
            "{b:?}"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn a_custom_relation_points_at_it_too() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let admin = app.admin().await;
        let field = admin
            .ok(
                "POST",
                "/api/v1/custom-fields/organisations",
                Some(json!({"label_zh": "主要客户", "label_en": "Main customer", "kind": "relation:customers"})),
            )
            .await;
        let code = field["code"].as_str().unwrap().to_owned();
        let customer = create(&admin, "customers", json!({"name": "被单位引用的客户"})).await;
        let org = create(
            &admin,
            "organisations",
            json!({"name": "某单位", code.as_str(): customer}),
        )
        .await;
        admin
            .ok("DELETE", &format!("/api/v1/customers/{customer}"), None)
            .await;
        let purge = format!("/api/v1/customers/{customer}/purge");
        let (s, v) = admin.call("DELETE", &purge, None).await;
        assert_eq!(s, 409, "{b:?}: live organisation: {v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains("单位"),
            "{b:?}: {v}"
        );

        admin
            .ok("DELETE", &format!("/api/v1/organisations/{org}"), None)
            .await;
        let (s, v) = admin.call("DELETE", &purge, None).await;
        assert_eq!(s, 204, "{b:?}: {v}");
        let back = admin
            .ok(
                "POST",
                &format!("/api/v1/organisations/{org}/restore"),
                Some(json!({})),
            )
            .await;
        assert!(
            back[code.as_str()].is_null(),
            "{b:?}: the link is cleared: {back}"
        );
        assert_eq!(back["name"], "某单位", "{b:?}: the rest is kept");
        app.finish().await;
    }
}
