//! Customers imported straight into a public pool, on every database: no owner, listed in the
//! pool, an `import` entry on each timeline, claimable by a member, removed again by a revert;
//! only a manager of the pool (or an administrator of pools) may choose it, never together with
//! an owner column, and another owner's customer is still not touched (防撞单).

mod common;

use chrono::{DateTime, Duration, Utc};
use common::{Api, TestApp, backends};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

async fn upload(api: &Api, csv: &str) -> i64 {
    let form = Form::new().part(
        "file",
        Part::bytes(csv.as_bytes().to_vec()).file_name("公海客户.csv"),
    );
    let r = api
        .client
        .post(format!("{}/api/v1/customers/imports", api.base))
        .bearer_auth(&api.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// Waits until the import reaches one of `states` (the job runner works in the background).
async fn wait(api: &Api, id: i64, states: &[&str]) -> Value {
    for _ in 0..300 {
        let v = api.ok("GET", &format!("/api/v1/imports/{id}"), None).await;
        if states.contains(&v["state"].as_str().unwrap_or_default()) {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("import {id} never reached {states:?}");
}

async fn map(api: &Api, id: i64, mapping: Value, pool: Option<i64>) -> (u16, Value) {
    api.call(
        "PUT",
        &format!("/api/v1/imports/{id}/mapping"),
        Some(json!({"mapping": mapping, "on_duplicate": "update", "pool_id": pool})),
    )
    .await
}

async fn run(api: &Api, id: i64) -> Value {
    api.ok("POST", &format!("/api/v1/imports/{id}/start"), None)
        .await;
    wait(api, id, &["done", "failed"]).await
}

async fn pool_customers(api: &Api, pool: i64) -> Vec<Value> {
    api.ok("GET", &format!("/api/v1/pools/{pool}/customers"), None)
        .await["items"]
        .as_array()
        .unwrap()
        .clone()
}

const CSV: &str =
    "客户名称,电话\n公海导入一,13900000001\n公海导入二,13900000002\n公海导入三,13900000003\n";

#[tokio::test]
async fn an_administrator_imports_customers_into_a_pool() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin().await;
        let sales = admin.role_id("sales").await;
        let east = admin.department("华东", None).await;
        admin.user("li", Some(east), &[sales]).await;
        let pool = admin
            .ok(
                "POST",
                "/api/v1/pools",
                Some(
                    json!({"name": "华东公海", "fall_back_days": 30, "warn_days": 5,
                    "members": [{"kind": "department", "ref_id": east}]}),
                ),
            )
            .await["id"]
            .as_i64()
            .unwrap();
        let li = app.api("li", "password-123").await;

        let id = upload(&admin, CSV).await;
        // The options step offers the pool.
        let (s, page) = admin.get(&format!("/imports/{id}")).await;
        assert_eq!(s, 200);
        let page = page.as_str().unwrap_or_default().to_owned();
        assert!(page.contains("id=\"pool-target\""), "{page}");
        assert!(page.contains("华东公海"), "{page}");
        let (s, imp) = map(&admin, id, json!(["name", "phone"]), Some(pool)).await;
        assert_eq!(s, 200, "{imp}");
        assert_eq!(imp["pool_id"], pool, "the import remembers the pool");
        let done = run(&admin, id).await;
        assert_eq!(done["state"], "done", "{done}");
        assert_eq!(done["created_rows"], 3, "{done}");

        let listed = pool_customers(&li, pool).await;
        assert_eq!(listed.len(), 3, "{listed:?}");
        assert!(listed.iter().all(|c| c["owner_id"].is_null()), "{listed:?}");
        let first = listed.iter().find(|c| c["name"] == "公海导入一").unwrap()["id"]
            .as_i64()
            .unwrap();
        let c = admin
            .ok("GET", &format!("/api/v1/customers/{first}"), None)
            .await;
        assert!(c["owner_id"].is_null(), "{c}");
        assert!(c["fall_back_at"].is_null(), "no deadline in a pool: {c}");
        assert_eq!(
            guanxi_store::pools::warning_at(&app.db, first)
                .await
                .unwrap(),
            None,
            "no warning in a pool"
        );
        let timeline = admin
            .ok("GET", &format!("/api/v1/customers/{first}/ownership"), None)
            .await;
        assert_eq!(timeline[0]["event"], "import", "{timeline}");
        assert_eq!(timeline[0]["pool_id"], pool, "{timeline}");
        assert!(timeline[0]["to_user"].is_null(), "{timeline}");
        let audit = admin
            .ok("GET", "/api/v1/audit-log?action=pool.import", None)
            .await;
        assert!(audit.to_string().contains("3 new customers"), "{audit}");
        // The import page names the pool; the customer's page shows the timeline entry.
        let (_, page) = admin.get(&format!("/imports/{id}")).await;
        assert!(
            page.as_str()
                .unwrap_or_default()
                .contains("导入公海：华东公海"),
            "{page}"
        );
        let (_, page) = admin.get(&format!("/customers/{first}")).await;
        assert!(
            page.as_str().unwrap_or_default().contains("导入公海"),
            "{page}"
        );

        // A member claims one: theirs now, with a deadline from their pool's rule.
        li.ok(
            "POST",
            &format!("/api/v1/pools/{pool}/claim"),
            Some(json!({"ids": [first]})),
        )
        .await;
        let mine = li
            .ok("GET", &format!("/api/v1/customers/{first}"), None)
            .await;
        assert!(mine["fall_back_at"].is_string(), "{mine}");
        assert_eq!(pool_customers(&li, pool).await.len(), 2);

        // Revert: the created customers still in the pool go, as for any import; the one a
        // member claimed since is theirs now, and stays.
        admin
            .ok("POST", &format!("/api/v1/imports/{id}/revert"), None)
            .await;
        let reverted = wait(&admin, id, &["reverted", "failed"]).await;
        assert_eq!(reverted["state"], "reverted", "{reverted}");
        assert_eq!(reverted["kept_rows"], 1, "{reverted}");
        assert!(pool_customers(&li, pool).await.is_empty());
        assert_eq!(li.get(&format!("/api/v1/customers/{first}")).await.0, 200);

        // The API documents the option.
        let doc = admin.ok("GET", "/api/v1/openapi.json", None).await;
        let input = &doc["components"]["schemas"]["MappingInput"]["properties"];
        assert!(input["pool_id"].is_object(), "{input}");
        // Imported for an owner in the pool's department: a deadline, and its warning five
        // days before, written with the new customer.
        let id = upload(&admin, "客户名称,负责人\n李的新客户,li\n").await;
        let (s, e) = map(&admin, id, json!(["name", "owner"]), None).await;
        assert_eq!(s, 200, "{e}");
        let done = run(&admin, id).await;
        assert_eq!(done["created_rows"], 1, "{done}");
        let found = admin
            .ok("GET", "/api/v1/customers?q=李的新客户", None)
            .await;
        let cid = found["items"][0]["id"].as_i64().unwrap();
        let c = &admin
            .ok("GET", &format!("/api/v1/customers/{cid}"), None)
            .await;
        let deadline = DateTime::parse_from_rfc3339(c["fall_back_at"].as_str().unwrap())
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            guanxi_store::pools::warning_at(&app.db, cid).await.unwrap(),
            Some(deadline - Duration::days(5)),
            "{c}"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn only_a_manager_of_the_pool_may_import_into_it() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin().await;
        let sales = admin.role_id("sales").await;
        let importer = admin
            .ok(
                "POST",
                "/api/v1/roles",
                Some(json!({"name": "导入销售", "permissions": {
                    "customers": {"actions": ["view", "create", "edit", "import"], "scope": "own"},
                    "pools": {"actions": ["view"], "scope": "all"}}})),
            )
            .await["id"]
            .as_i64()
            .unwrap();
        let east = admin.department("华东", None).await;
        let xiao = admin.user("xiao", Some(east), &[importer]).await;
        let lead = admin.user("lead", Some(east), &[importer]).await;
        admin.user("zhang", Some(east), &[sales]).await;
        let pool = admin
            .ok(
                "POST",
                "/api/v1/pools",
                Some(json!({"name": "华东公海", "members": [
                    {"kind": "department", "ref_id": east}, {"kind": "manager", "ref_id": lead}]})),
            )
            .await["id"]
            .as_i64()
            .unwrap();
        assert_ne!(xiao, lead);
        let zhang = app.api("zhang", "password-123").await;
        zhang
            .ok(
                "POST",
                "/api/v1/customers",
                Some(json!({"name": "公海导入二", "phone": "13700000000"})),
            )
            .await;

        // A salesperson who does not manage the pool is refused, and nothing is remembered.
        let x = app.api("xiao", "password-123").await;
        let id = upload(&x, CSV).await;
        let (s, e) = map(&x, id, json!(["name", "phone"]), Some(pool)).await;
        assert_eq!(s, 422, "{e}");
        assert!(
            e["error"]["fields"]["pool_id"]
                .as_str()
                .unwrap_or_default()
                .contains("管理员"),
            "{e}"
        );
        let (s, e) = map(&x, id, json!(["name", "phone"]), Some(pool + 1000)).await;
        assert_eq!(s, 422, "an unknown pool: {e}");
        let imp = x.ok("GET", &format!("/api/v1/imports/{id}"), None).await;
        assert!(imp["pool_id"].is_null(), "{imp}");
        assert!(pool_customers(&admin, pool).await.is_empty());

        // An owner column and a pool together: a clear error, for an administrator too.
        let id = upload(&admin, "客户名称,负责人\n甲,admin\n").await;
        let (s, e) = map(&admin, id, json!(["name", "owner"]), Some(pool)).await;
        assert_eq!(s, 422, "{e}");
        assert!(
            e["error"]["fields"]["pool_id"]
                .as_str()
                .unwrap_or_default()
                .contains("负责人"),
            "{e}"
        );

        // The pool's manager may; another owner's customer is still not touched (防撞单).
        let l = app.api("lead", "password-123").await;
        let id = upload(&l, CSV).await;
        let (s, e) = map(&l, id, json!(["name", "phone"]), Some(pool)).await;
        assert_eq!(s, 200, "{e}");
        let done = run(&l, id).await;
        assert_eq!(done["state"], "done", "{done}");
        assert_eq!(done["created_rows"], 2, "{done}");
        assert_eq!(done["error_rows"], 1, "{done}");
        let rows = l
            .ok("GET", &format!("/api/v1/imports/{id}/errors"), None)
            .await;
        assert_eq!(
            rows[0]["errors"][0]["message"], "import-error-duplicate-existing",
            "{rows}"
        );
        let names: Vec<String> = pool_customers(&admin, pool)
            .await
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(!names.contains(&"公海导入二".to_owned()), "{names:?}");
        let kept = zhang
            .ok("GET", "/api/v1/customers?q=公海导入二", None)
            .await;
        assert_eq!(kept["items"].as_array().unwrap().len(), 1, "{kept}");

        app.finish().await;
    }
}
