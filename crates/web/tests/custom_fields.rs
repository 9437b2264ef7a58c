//! Custom fields through the API on every database: definitions, validation, filters,
//! sorting, history, the OpenAPI document, relabelling, order, hiding, retirement and
//! permissions.

mod common;

use common::{TestApp, backends};
use serde_json::json;

#[tokio::test]
async fn custom_fields_appear_everywhere_at_once() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let api = app.admin().await;
        let (s, v) = api.post("/api/v1/custom-fields/customers", json!({"label_zh": "合同编号", "label_en": "Contract no", "kind": "text", "indexed": true, "list": true})).await;
        assert_eq!(s, 201, "{v}");
        assert_eq!(v["code"], "cf_contract_no");
        api.ok(
            "POST",
            "/api/v1/custom-fields/customers",
            Some(json!({"label_zh": "年营业额", "label_en": "Revenue", "kind": "money"})),
        )
        .await;
        api.ok("POST", "/api/v1/custom-fields/customers", Some(json!({"label_zh": "关注行业", "label_en": "Interests", "kind": "multi_select", "dictionary": "industry"}))).await;
        api.ok("POST", "/api/v1/custom-fields/customers", Some(json!({"label_zh": "员工数", "label_en": "Staff", "kind": "integer", "indexed": true}))).await;
        let (s, v) = api
            .post(
                "/api/v1/custom-fields/customers",
                json!({"label_zh": "x", "label_en": "Name", "kind": "text", "code": "name"}),
            )
            .await;
        assert_eq!(
            (s, v["error"]["fields"]["code"].is_string()),
            (422, true),
            "no clash with built-in fields"
        );
        let (s, _) = api
            .post(
                "/api/v1/custom-fields/customers",
                json!({"label_zh": "x", "label_en": "y", "kind": "select"}),
            )
            .await;
        assert_eq!(s, 422, "a select needs a dictionary");
        // Values: validated, stored, filtered, sorted.
        let c = api.ok("POST", "/api/v1/customers", Some(json!({"name": "甲", "cf_contract_no": "HT-2026-001", "cf_revenue": "12,345.67", "cf_interests": ["it", "金融"], "cf_staff": 120}))).await;
        assert_eq!(c["cf_revenue"], 1234567);
        assert_eq!(c["cf_interests"], json!(["it", "finance"]));
        api.ok(
            "POST",
            "/api/v1/customers",
            Some(json!({"name": "乙", "cf_contract_no": "HT-2026-002", "cf_staff": 15})),
        )
        .await;
        let (s, v) = api
            .post(
                "/api/v1/customers",
                json!({"name": "丙", "cf_staff": "many"}),
            )
            .await;
        assert_eq!(
            (s, v["error"]["fields"]["cf_staff"].is_string()),
            (422, true)
        );
        let r = api
            .ok(
                "GET",
                "/api/v1/customers?f.cf_contract_no.eq=HT-2026-002",
                None,
            )
            .await;
        assert_eq!(r["items"][0]["name"], "乙");
        let r = api
            .ok("GET", "/api/v1/customers?f.cf_staff.gt=100", None)
            .await;
        assert_eq!(r["items"].as_array().unwrap().len(), 1);
        let r = api
            .ok("GET", "/api/v1/customers?sort=cf_staff&order=asc", None)
            .await;
        let names: Vec<&str> = r["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["乙", "甲"]);
        // History and PATCH keep working for custom values.
        let id = c["id"].as_i64().unwrap();
        let u = api
            .ok(
                "PATCH",
                &format!("/api/v1/customers/{id}"),
                Some(json!({"version": 1, "cf_staff": 130})),
            )
            .await;
        assert_eq!(
            (u["cf_staff"].as_i64(), u["cf_contract_no"].as_str()),
            (Some(130), Some("HT-2026-001"))
        );
        let h = api
            .ok("GET", &format!("/api/v1/customers/{id}/history"), None)
            .await;
        assert_eq!(h[0]["field"], "cf_staff");
        // The OpenAPI document describes custom fields at once.
        let doc: serde_json::Value = reqwest::get(app.url("/api/v1/openapi.json"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            doc["components"]["schemas"]["Record_customers"]["properties"]["cf_contract_no"]["x-custom-field"],
            true
        );
        assert!(doc["paths"]["/api/v1/customers/{id}"]["patch"].is_object());
        // Retiring hides the field but keeps its value.
        let defs = api.ok("GET", "/api/v1/custom-fields/customers", None).await;
        let fid = defs
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["code"] == "cf_contract_no")
            .unwrap()["id"]
            .clone();
        api.ok(
            "PATCH",
            &format!("/api/v1/custom-fields/customers/{fid}"),
            Some(json!({"label_zh": "合同编号", "label_en": "Contract no", "retired": true})),
        )
        .await;
        let g = api
            .ok("GET", &format!("/api/v1/customers/{id}"), None)
            .await;
        assert!(g.get("cf_contract_no").is_none());
        api.ok(
            "PATCH",
            &format!("/api/v1/customers/{id}"),
            Some(json!({"version": 2, "cf_staff": 140})),
        )
        .await;
        api.ok("PATCH", &format!("/api/v1/custom-fields/customers/{fid}"), Some(json!({"label_zh": "合同编号", "label_en": "Contract no", "retired": false, "indexed": true}))).await;
        let g = api
            .ok("GET", &format!("/api/v1/customers/{id}"), None)
            .await;
        assert_eq!(
            g["cf_contract_no"], "HT-2026-001",
            "values of a retired field survive edits"
        );
        // A salesperson cannot define fields.
        let sales = api.role_id("sales").await;
        api.user("s1", None, &[sales]).await;
        let s1 = app.api("s1", "password-123").await;
        assert_eq!(
            s1.post(
                "/api/v1/custom-fields/customers",
                json!({"label_zh": "x", "label_en": "x", "kind": "text"})
            )
            .await
            .0,
            403
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn administrators_relabel_reorder_and_hide_fields() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let api = app.admin().await;
        let a = api.ok("POST", "/api/v1/custom-fields/customers", Some(json!({"label_zh": "甲字段", "label_en": "Field A", "kind": "text", "list": true}))).await;
        let z = api.ok("POST", "/api/v1/custom-fields/customers", Some(json!({"label_zh": "乙字段", "label_en": "Field B", "kind": "text", "list": true}))).await;
        let c = api
            .ok(
                "POST",
                "/api/v1/customers",
                Some(json!({"name": "排序客户", "cf_field_a": "一", "cf_field_b": "二"})),
            )
            .await;
        let web = app.web_login("admin", common::ADMIN_PASSWORD).await;
        let form = |web: reqwest::Client, url: String| async move {
            web.get(url).send().await.unwrap().text().await.unwrap()
        };
        let page = form(web.clone(), app.url("/customers/new")).await;
        let (pa, pb) = (page.find("甲字段").unwrap(), page.find("乙字段").unwrap());
        assert!(pa < pb, "{b:?}: declared order");
        // Relabel the first and move it after the second.
        let patch = |id: &serde_json::Value, body: serde_json::Value| {
            (format!("/api/v1/custom-fields/customers/{id}"), Some(body))
        };
        let (p, body) = patch(
            &a["id"],
            json!({"label_zh": "甲新名", "label_en": "Field A2", "sort_order": 9, "list": true}),
        );
        api.ok("PATCH", &p, body).await;
        let (p, body) = patch(
            &z["id"],
            json!({"label_zh": "乙字段", "label_en": "Field B", "sort_order": 1, "list": true}),
        );
        api.ok("PATCH", &p, body).await;
        let page = form(web.clone(), app.url("/customers/new")).await;
        assert!(!page.contains("甲字段"), "{b:?}: old label gone");
        let (pa, pb) = (page.find("甲新名").unwrap(), page.find("乙字段").unwrap());
        assert!(pb < pa, "{b:?}: new order in the form");
        let list = form(web.clone(), app.url("/customers")).await;
        let (pa, pb) = (list.find("甲新名").unwrap(), list.find("乙字段").unwrap());
        assert!(pb < pa, "{b:?}: new order in the list");
        // Hidden: out of forms, lists and the API, its values kept for when it comes back.
        let (p, body) = patch(
            &z["id"],
            json!({"label_zh": "乙字段", "label_en": "Field B", "sort_order": 1, "list": true, "hidden": true}),
        );
        api.ok("PATCH", &p, body).await;
        let id = c["id"].as_i64().unwrap();
        let g = api
            .ok("GET", &format!("/api/v1/customers/{id}"), None)
            .await;
        assert!(g.get("cf_field_b").is_none(), "{b:?}: {g}");
        assert!(
            !form(web.clone(), app.url("/customers/new"))
                .await
                .contains("乙字段")
        );
        let (p, body) = patch(
            &z["id"],
            json!({"label_zh": "乙字段", "label_en": "Field B", "sort_order": 1, "list": true, "hidden": false}),
        );
        api.ok("PATCH", &p, body).await;
        let g = api
            .ok("GET", &format!("/api/v1/customers/{id}"), None)
            .await;
        assert_eq!(g["cf_field_b"], "二", "{b:?}");
        app.finish().await;
    }
}
