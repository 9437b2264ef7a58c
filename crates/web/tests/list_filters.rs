//! List filters by kind (in, between, whole days, multi-select, owner and the created/updated
//! columns), sorting by dates with keyset pages, capped counts, and options of custom fields
//! counted as in use by the dictionary — on every database.

mod common;

use common::{ADMIN_PASSWORD, Api, TestApp, backends};
use serde_json::{Value, json};

/// The names of a list's records, in order.
async fn names(api: &Api, path: &str) -> Vec<String> {
    let v = api.ok("GET", path, None).await;
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Every record of a sorted list, read page by page through the cursors.
async fn walk(api: &Api, path: &str) -> Vec<String> {
    let mut out = vec![];
    let mut cursor = String::new();
    for _ in 0..20 {
        let v = api
            .ok("GET", &format!("{path}&limit=2{cursor}"), None)
            .await;
        for r in v["items"].as_array().unwrap() {
            out.push(r["name"].as_str().unwrap().to_owned());
        }
        match v["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => return out,
        }
    }
    panic!("{path}: the cursors never end");
}

fn error_message(v: &Value) -> String {
    v["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn filters_fit_the_kind_of_field() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let api = app.admin().await;
        let dept = api.department("华东", None).await;
        let sales = api.role_id("sales").await;
        let seller = api.user("s_filter", Some(dept), &[sales]).await;
        api.ok("POST", "/api/v1/custom-fields/customers", Some(json!({"label_zh": "员工数", "label_en": "Staff", "kind": "integer", "indexed": true}))).await;
        api.ok("POST", "/api/v1/custom-fields/customers", Some(json!({"label_zh": "关注行业", "label_en": "Interests", "kind": "multi_select", "dictionary": "industry"}))).await;
        api.ok(
            "POST",
            "/api/v1/custom-fields/customers",
            Some(json!({"label_zh": "签约日", "label_en": "Signed", "kind": "date"})),
        )
        .await;
        let rows = [
            (
                "甲",
                "manufacturing",
                10,
                json!(["it"]),
                json!("2026-03-01"),
            ),
            ("乙", "it", 20, json!(["it", "finance"]), Value::Null),
            ("丙", "finance", 30, json!([]), json!("2026-01-15")),
            ("丁", "retail", 40, Value::Null, json!("2026-02-10")),
        ];
        let mut ids = vec![];
        for (name, industry, staff, interests, signed) in rows {
            let c = api
                .ok(
                    "POST",
                    "/api/v1/customers",
                    Some(json!({"name": name, "industry": industry, "cf_staff": staff, "cf_interests": interests, "cf_signed": signed})),
                )
                .await;
            ids.push(c["id"].as_i64().unwrap());
        }
        api.ok(
            "POST",
            &format!("/api/v1/customers/{}/transfer", ids[1]),
            Some(json!({ "owner_id": seller })),
        )
        .await;
        let list = "/api/v1/customers?sort=name&order=asc";

        // in, between, ne (which keeps the empty ones), contains of a multi-select.
        assert_eq!(
            names(&api, &format!("{list}&f.industry.in=manufacturing,it")).await,
            ["乙", "甲"]
        );
        assert_eq!(
            names(&api, &format!("{list}&f.cf_staff.between=15,30")).await,
            ["丙", "乙"]
        );
        assert_eq!(
            names(&api, &format!("{list}&f.cf_interests.contains=it")).await,
            ["乙", "甲"]
        );
        assert_eq!(
            names(&api, &format!("{list}&f.cf_interests.empty=")).await,
            ["丁", "丙"]
        );
        assert_eq!(
            names(&api, &format!("{list}&f.cf_signed.ne=2026-03-01")).await,
            ["丁", "丙", "乙"]
        );
        assert_eq!(
            names(
                &api,
                &format!("{list}&f.cf_signed.between=2026-01-01,2026-02-28")
            )
            .await,
            ["丁", "丙"]
        );
        // OR instead of AND.
        assert_eq!(
            names(
                &api,
                &format!("{list}&match=any&f.industry.eq=retail&f.cf_staff.lt=15")
            )
            .await,
            ["丁", "甲"]
        );
        // The owner and the created/updated columns every record has.
        assert_eq!(
            names(&api, &format!("{list}&f.owner_id.eq={seller}")).await,
            ["乙"]
        );
        let today = chrono::Utc::now()
            .with_timezone(&chrono_tz::Asia::Shanghai)
            .format("%Y-%m-%d")
            .to_string();
        assert_eq!(
            names(&api, &format!("{list}&f.created_at.eq={today}"))
                .await
                .len(),
            4
        );
        assert!(
            names(&api, &format!("{list}&f.created_at.lt={today}"))
                .await
                .is_empty()
        );
        assert_eq!(
            names(&api, &format!("{list}&f.updated_at.lte={today}"))
                .await
                .len(),
            4
        );

        // Operators that do not fit, and malformed values, are refused in the user's language.
        for bad in [
            "f.industry.gt=it",
            "f.cf_staff.contains=1",
            "f.cf_staff.between=1",
            "f.cf_signed.eq=yesterday",
            "f.owner_id.eq=someone",
        ] {
            let (s, v) = api.get(&format!("/api/v1/customers?{bad}")).await;
            assert_eq!(s, 400, "{bad}: {v}");
            assert!(!error_message(&v).is_empty(), "{bad}: {v}");
        }

        // Sorting by dates: built-in, custom and created_at, both ways, through every cursor.
        let signed = walk(&api, "/api/v1/customers?sort=cf_signed&order=asc").await;
        assert_eq!(signed, ["乙", "丙", "丁", "甲"], "{b:?}");
        let signed = walk(&api, "/api/v1/customers?sort=cf_signed&order=desc").await;
        assert_eq!(signed, ["甲", "丁", "丙", "乙"], "{b:?}");
        let created = walk(&api, "/api/v1/customers?sort=created_at&order=asc").await;
        assert_eq!(created, ["甲", "乙", "丙", "丁"], "{b:?}");
        assert_eq!(
            walk(&api, "/api/v1/customers?sort=owner_id&order=desc").await[0],
            "乙"
        );
        let cid = ids[0];
        for (name, birthday) in [
            ("赵", json!("1990-05-01")),
            ("钱", Value::Null),
            ("孙", json!("1985-12-31")),
            ("李", json!("1990-05-01")),
        ] {
            api.ok(
                "POST",
                "/api/v1/contacts",
                Some(json!({"name": name, "birthday": birthday, "customer_id": cid})),
            )
            .await;
        }
        let contacts = walk(&api, "/api/v1/contacts?sort=birthday&order=asc").await;
        assert_eq!(contacts, ["钱", "孙", "赵", "李"], "{b:?}");
        let contacts = walk(&api, "/api/v1/contacts?sort=birthday&order=desc").await;
        assert_eq!(contacts, ["李", "赵", "孙", "钱"], "{b:?}");

        // Counts, only when asked for.
        let v = api
            .ok(
                "GET",
                "/api/v1/customers?f.cf_staff.gte=20&count=true",
                None,
            )
            .await;
        assert_eq!(
            (v["count"].as_i64(), v["count_more"].as_bool()),
            (Some(3), Some(false))
        );
        let v = api.ok("GET", "/api/v1/customers", None).await;
        assert!(v.get("count").is_none(), "{v}");

        // The list page shows the count, the builder's operators by field, and chips in words.
        let web = app.web_login("admin", ADMIN_PASSWORD).await;
        let page = web
            .get(app.url(
                "/customers?cond_field=industry&cond_op=in&cond_value=制造业,it&cond_field=cf_staff&cond_op=between&cond_value=5,25",
            ))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("共 2 条"), "{b:?}: count missing");
        assert!(page.contains("行业 属于 制造业、信息技术"), "{b:?}: chip");
        assert!(page.contains("员工数 介于 5 – 25"), "{b:?}: between chip");
        assert!(
            page.contains(r#"data-ops="eq,ne,in,empty,not_empty""#),
            "{b:?}: select ops"
        );
        assert!(
            page.contains(r#"data-filter-options="industry""#),
            "{b:?}: options"
        );
        assert!(
            page.contains(r#"value="owner_id" data-input="select""#),
            "{b:?}: owner"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn options_held_by_custom_fields_are_in_use() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let api = app.admin().await;
        api.ok("POST", "/api/v1/custom-fields/customers", Some(json!({"label_zh": "关注行业", "label_en": "Interests", "kind": "multi_select", "dictionary": "industry"}))).await;
        api.ok("POST", "/api/v1/custom-fields/contacts", Some(json!({"label_zh": "联系人行业", "label_en": "Contact industry", "kind": "select", "dictionary": "industry"}))).await;
        let agri = api
            .ok(
                "POST",
                "/api/v1/dictionary/industry",
                Some(json!({"code": "agri", "label_zh": "农业", "label_en": "Agriculture"})),
            )
            .await["id"]
            .as_i64()
            .unwrap();
        let mining = api
            .ok(
                "POST",
                "/api/v1/dictionary/industry",
                Some(json!({"code": "mining", "label_zh": "采矿", "label_en": "Mining"})),
            )
            .await["id"]
            .as_i64()
            .unwrap();
        let c = api
            .ok(
                "POST",
                "/api/v1/customers",
                Some(json!({"name": "农场", "cf_interests": ["agri", "it"]})),
            )
            .await;
        api.ok(
            "POST",
            "/api/v1/contacts",
            Some(json!({"name": "矿工", "cf_contact_industry": "mining", "customer_id": c["id"]})),
        )
        .await;
        for id in [agri, mining] {
            let (s, v) = api
                .call("DELETE", &format!("/api/v1/dictionary/industry/{id}"), None)
                .await;
            assert_eq!(s, 409, "{b:?}: {v}");
        }
        // Once no record holds it, it can go.
        api.ok(
            "PATCH",
            &format!("/api/v1/customers/{}", c["id"]),
            Some(json!({"version": 1, "cf_interests": ["it"]})),
        )
        .await;
        let (s, v) = api
            .call(
                "DELETE",
                &format!("/api/v1/dictionary/industry/{agri}"),
                None,
            )
            .await;
        assert!((200..300).contains(&s), "{b:?}: {s} {v}");
        // The follow-ups' behaviours (a list of codes kept in JSON) are counted too: the admin
        // page of that list opens.
        let web = app.web_login("admin", ADMIN_PASSWORD).await;
        let r = web
            .get(app.url("/admin/dictionary/behaviour"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{b:?}");
        app.finish().await;
    }
}

#[tokio::test]
async fn bulk_actions_are_all_or_nothing_and_export_the_selection() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let admin = app.admin().await;
        let east = admin.department("华东", None).await;
        let north = admin.department("华北", None).await;
        let manager = admin.role_id("sales_manager").await;
        admin.user("m_east", Some(east), &[manager]).await;
        let other = admin.user("m_north", Some(north), &[manager]).await;
        let boss = app.api("m_east", "password-123").await;
        let mut own = vec![];
        for name in ["东一", "东二", "东三"] {
            let c = boss
                .ok("POST", "/api/v1/customers", Some(json!({ "name": name })))
                .await;
            own.push(c["id"].as_i64().unwrap());
        }
        let foreign = admin
            .ok("POST", "/api/v1/customers", Some(json!({ "name": "北方" })))
            .await;
        let foreign_id = foreign["id"].as_i64().unwrap();
        admin
            .ok(
                "POST",
                &format!("/api/v1/customers/{foreign_id}/transfer"),
                Some(json!({ "owner_id": other })),
            )
            .await;
        let web = app.web_login("m_east", "password-123").await;
        let bulk = |pairs: Vec<(&'static str, String)>| {
            let web = web.clone();
            let url = app.url("/customers/bulk");
            async move { web.post(url).form(&pairs).send().await.unwrap() }
        };
        let v = boss.ok("GET", "/api/v1/customers", None).await;
        assert_eq!(v["items"].as_array().unwrap().len(), 3, "{b:?}: before {v}");
        // One record outside the scope among the selection: nothing is deleted.
        let mut pairs: Vec<(&str, String)> = own.iter().map(|id| ("ids", id.to_string())).collect();
        pairs.push(("ids", foreign_id.to_string()));
        pairs.push(("action", "delete".into()));
        let r = bulk(pairs).await;
        assert_eq!(r.status(), 404, "{b:?}");
        let v = boss.ok("GET", "/api/v1/customers", None).await;
        let bin = boss.ok("GET", "/api/v1/customers/recycle-bin", None).await;
        assert_eq!(
            v["items"].as_array().unwrap().len(),
            3,
            "{b:?}: half done {v} bin {bin}"
        );
        // The selection exported, in the list's columns.
        let mut pairs: Vec<(&str, String)> =
            own[..2].iter().map(|id| ("ids", id.to_string())).collect();
        pairs.push(("action", "export_csv".into()));
        pairs.push(("columns", "name,phone".into()));
        let r = bulk(pairs).await;
        assert_eq!(r.status(), 303, "{b:?}");
        let to = r.headers()["location"].to_str().unwrap().to_owned();
        assert!(
            to.starts_with("/api/v1/customers/export?format=csv"),
            "{to}"
        );
        let csv = web
            .get(app.url(&to))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let lines: Vec<&str> = csv.trim_end().lines().collect();
        assert_eq!(lines.len(), 3, "{b:?}: {csv}");
        assert!(
            csv.contains("东一") && csv.contains("东二") && !csv.contains("东三"),
            "{csv}"
        );
        // The exported selection never reaches outside the scope either.
        let r = web
            .get(app.url(&format!(
                "/api/v1/customers/export?format=csv&f.id.in={foreign_id}"
            )))
            .send()
            .await
            .unwrap();
        let csv = r.text().await.unwrap();
        assert!(!csv.contains("北方"), "{b:?}: {csv}");
        // All the selection deleted at once.
        let mut pairs: Vec<(&str, String)> = own.iter().map(|id| ("ids", id.to_string())).collect();
        pairs.push(("action", "delete".into()));
        assert_eq!(bulk(pairs).await.status(), 303);
        let v = boss.ok("GET", "/api/v1/customers", None).await;
        assert!(v["items"].as_array().unwrap().is_empty(), "{b:?}");
        app.finish().await;
    }
}

#[tokio::test]
async fn an_indexed_custom_field_is_filtered_and_sorted_through_its_index() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let api = app.admin().await;
        api.ok("POST", "/api/v1/custom-fields/customers", Some(json!({"label_zh": "员工数", "label_en": "Staff", "kind": "integer", "indexed": true}))).await;
        for i in 0..30 {
            api.ok(
                "POST",
                "/api/v1/customers",
                Some(json!({"name": format!("索引{i:02}"), "cf_staff": i})),
            )
            .await;
        }
        let fs = guanxi_store::custom_fields::fields(&app.db, &guanxi_core::engine::CUSTOMERS)
            .await
            .unwrap();
        let f = fs.field("cf_staff").unwrap();
        let value = guanxi_store::custom_fields::expr(app.db.backend(), f).replace("t.", "");
        let key = guanxi_store::custom_fields::sort_key(app.db.backend(), f).replace("t.", "");
        let filter = format!("SELECT id FROM customers WHERE {value} = 7");
        let sorted = format!("SELECT id FROM customers ORDER BY {key}, id LIMIT 5");
        let plans: Vec<String> = match &app.db {
            guanxi_store::Db::Sqlite { read, .. } => {
                let mut out = vec![];
                for q in [&filter, &sorted] {
                    let rows: Vec<(i64, i64, i64, String)> =
                        sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {q}")))
                            .fetch_all(read)
                            .await
                            .unwrap();
                    out.push(rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("; "));
                }
                out
            }
            guanxi_store::Db::Postgres(p) => {
                let mut c = p.acquire().await.unwrap();
                sqlx::query("SET enable_seqscan = off")
                    .execute(&mut *c)
                    .await
                    .unwrap();
                let mut out = vec![];
                for q in [&filter, &sorted] {
                    let rows: Vec<(String,)> =
                        sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN {q}")))
                            .fetch_all(&mut *c)
                            .await
                            .unwrap();
                    out.push(rows.into_iter().map(|r| r.0).collect::<Vec<_>>().join("; "));
                }
                sqlx::query("RESET enable_seqscan")
                    .execute(&mut *c)
                    .await
                    .unwrap();
                out
            }
        };
        assert!(
            plans[0].contains("cf_customers_staff"),
            "{b:?}: {}",
            plans[0]
        );
        assert!(
            plans[1].contains("cf_customers_staff_sort"),
            "{b:?}: {}",
            plans[1]
        );
        app.finish().await;
    }
}
