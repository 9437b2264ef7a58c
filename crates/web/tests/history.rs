//! The cross-record change history query (客户资料修改历史查询) on every database: filters by
//! user, field, time and event, keyset pages, the administrators-only right, the data scope of
//! the caller, the CSV export and the HTML page.

mod common;

use common::{ADMIN_PASSWORD, Api, TestApp, backends};
use serde_json::{Value, json};

/// The items of one history query.
async fn items(api: &Api, query: &str) -> Vec<Value> {
    api.ok("GET", &format!("/api/v1/history?{query}"), None)
        .await["items"]
        .as_array()
        .unwrap()
        .clone()
}

/// (event, field) of each item, newest first.
fn events(items: &[Value]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|e| {
            (
                e["event"].as_str().unwrap().to_owned(),
                e["field"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

async fn patch(api: &Api, id: i64, body: Value) -> Value {
    api.ok("PATCH", &format!("/api/v1/customers/{id}"), Some(body))
        .await
}

/// A GET with the caller's token: status and body text.
async fn raw(api: &Api, path: &str) -> (u16, String) {
    let r = api
        .client
        .get(format!("{}{path}", api.base))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn administrators_query_every_change_of_a_module() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let admin = app.admin().await;
        let sales = admin.role_id("sales").await;
        admin.user("xiaowang", None, &[sales]).await;
        let sw = app.api("xiaowang", "password-123").await;
        // Two users change customers.
        let a = admin
            .ok(
                "POST",
                "/api/v1/customers",
                Some(json!({"name": "甲公司", "phone": "13800000001"})),
            )
            .await;
        let a_id = a["id"].as_i64().unwrap();
        patch(&admin, a_id, json!({"version": 1, "address": "杭州市"})).await;
        let b_rec = sw
            .ok(
                "POST",
                "/api/v1/customers",
                Some(json!({"name": "乙公司", "industry": "it"})),
            )
            .await;
        let b_id = b_rec["id"].as_i64().unwrap();
        patch(
            &sw,
            b_id,
            json!({"version": 1, "notes": "=1+1", "industry": "manufacturing"}),
        )
        .await;
        patch(&sw, b_id, json!({"version": 2, "address": "宁波市"})).await;
        // Another module's history stays apart.
        admin
            .ok(
                "POST",
                "/api/v1/organisations",
                Some(json!({"name": "丙机构"})),
            )
            .await;

        let all = items(&admin, "module=customers").await;
        assert_eq!(
            events(&all),
            [
                ("update", "address"),
                ("update", "notes"),
                ("update", "industry"),
                ("create", ""),
                ("update", "address"),
                ("create", ""),
            ]
            .map(|(e, f)| (e.to_owned(), f.to_owned())),
            "{b:?}"
        );
        let ids: Vec<i64> = all.iter().map(|e| e["id"].as_i64().unwrap()).collect();
        assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first");
        let first = &all[0];
        assert_eq!(first["record_id"], b_id);
        assert_eq!(first["record_name"], "乙公司");
        assert_eq!(first["username"], "xiaowang");
        assert_eq!(first["new_value"], "\"宁波市\"");
        assert!(first["old_value"].is_null());
        assert_eq!(first["version"], 3);
        assert!(first["at"].is_string());
        // The module defaults to the first one the caller may view: customers.
        assert_eq!(items(&admin, "").await.len(), all.len());
        assert_eq!(items(&admin, "module=organisations").await.len(), 1);
        assert_eq!(admin.get("/api/v1/history?module=bogus").await.0, 400);

        // By user.
        let mine = items(&admin, "module=customers&username=xiaowang").await;
        assert_eq!(mine.len(), 4, "{b:?}");
        assert!(mine.iter().all(|e| e["username"] == "xiaowang"));
        let uid = mine[0]["user_id"].as_i64().unwrap();
        let by_id = items(&admin, &format!("module=customers&user_id={uid}")).await;
        assert_eq!(by_id.len(), 4);
        assert_eq!(
            items(&admin, "module=customers&username=admin").await.len(),
            2
        );
        // By field.
        let addr = items(&admin, "module=customers&field=address").await;
        assert_eq!(
            addr.iter()
                .map(|e| e["record_id"].as_i64().unwrap())
                .collect::<Vec<_>>(),
            [b_id, a_id]
        );
        // By event and record.
        let created = items(&admin, "module=customers&event=create").await;
        assert_eq!(created.len(), 2);
        assert_eq!(
            items(&admin, &format!("module=customers&record_id={a_id}"))
                .await
                .len(),
            2
        );
        // By time: nothing before yesterday, everything since an hour ago.
        let fmt = |d: chrono::DateTime<chrono::Utc>| d.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let now = chrono::Utc::now();
        let past = fmt(now - chrono::Duration::days(1));
        assert!(
            items(&admin, &format!("module=customers&to={past}"))
                .await
                .is_empty()
        );
        let recent = fmt(now - chrono::Duration::hours(1));
        assert_eq!(
            items(&admin, &format!("module=customers&from={recent}"))
                .await
                .len(),
            6
        );
        let future = fmt(now + chrono::Duration::days(1));
        assert!(
            items(&admin, &format!("module=customers&from={future}"))
                .await
                .is_empty()
        );

        // Keyset pages of two, in order, without gaps or repeats.
        let mut seen = vec![];
        let mut cursor: Option<i64> = None;
        loop {
            let q = match cursor {
                Some(c) => format!("/api/v1/history?module=customers&limit=2&cursor={c}"),
                None => "/api/v1/history?module=customers&limit=2".to_owned(),
            };
            let p = admin.ok("GET", &q, None).await;
            let page = p["items"].as_array().unwrap();
            assert!(page.len() <= 2);
            seen.extend(page.iter().map(|e| e["id"].as_i64().unwrap()));
            match p["next_cursor"].as_i64() {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(seen, ids, "{b:?} pages");

        // A salesperson has no audit-log right: refused, list and export alike.
        assert_eq!(sw.get("/api/v1/history?module=customers").await.0, 403);
        assert_eq!(raw(&sw, "/api/v1/history/export").await.0, 403);
        assert_eq!(raw(&sw, "/admin/history").await.0, 403);

        // CSV: a BOM, a header in the caller's language, labels, and formulas neutralised.
        let (s, csv) = raw(&admin, "/api/v1/history/export?module=customers").await;
        assert_eq!(s, 200, "{csv}");
        assert!(csv.starts_with('\u{feff}'), "BOM");
        let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
        assert_eq!(lines.len(), 7, "{csv}");
        assert!(
            lines[0].contains("原值") && lines[0].contains("新值"),
            "{}",
            lines[0]
        );
        assert!(csv.contains(",'=1+1"), "formula neutralised: {csv}");
        assert!(!csv.contains(",=1+1"), "{csv}");
        assert!(
            csv.contains("信息技术") && csv.contains("制造业"),
            "labels: {csv}"
        );
        assert!(csv.contains("乙公司") && csv.contains("宁波市"));
        let (_, only) = raw(
            &admin,
            "/api/v1/history/export?module=customers&username=admin",
        )
        .await;
        assert_eq!(only.lines().count(), 3, "{only}");
        let log = admin
            .ok("GET", "/api/v1/audit-log?action=history.export", None)
            .await;
        assert_eq!(
            log["items"].as_array().unwrap().len(),
            2,
            "exports are logged"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn an_auditor_sees_only_history_of_records_in_scope() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let admin = app.admin().await;
        let role = admin
            .ok(
                "POST",
                "/api/v1/roles",
                Some(json!({"name": "审计员", "permissions": {
                    "audit_log": {"actions": ["view", "export"], "scope": "all"},
                    "customers": {"actions": ["view"], "scope": "own"}}})),
            )
            .await["id"]
            .as_i64()
            .unwrap();
        let auditor_id = admin.user("auditor", None, &[role]).await;
        let auditor = app.api("auditor", "password-123").await;
        let mut ids = vec![];
        for name in ["归我", "不归我"] {
            let c = admin
                .ok("POST", "/api/v1/customers", Some(json!({"name": name})))
                .await;
            let id = c["id"].as_i64().unwrap();
            patch(&admin, id, json!({"version": 1, "address": "上海市"})).await;
            ids.push(id);
        }
        admin
            .ok(
                "POST",
                &format!("/api/v1/customers/{}/transfer", ids[0]),
                Some(json!({"owner_id": auditor_id})),
            )
            .await;
        // A record in the recycle bin keeps its history.
        admin
            .ok("DELETE", &format!("/api/v1/customers/{}", ids[0]), None)
            .await;
        let seen = items(&auditor, "module=customers").await;
        assert_eq!(
            events(&seen),
            [
                ("delete", ""),
                ("transfer", "owner_id"),
                ("update", "address"),
                ("create", ""),
            ]
            .map(|(e, f)| (e.to_owned(), f.to_owned())),
            "{b:?}"
        );
        assert!(seen.iter().all(|e| e["record_id"] == ids[0]));
        assert_eq!(seen[0]["record_deleted"], true);
        assert_eq!(seen[0]["record_name"], "归我");
        assert!(
            items(&auditor, &format!("module=customers&record_id={}", ids[1]))
                .await
                .is_empty(),
            "outside the scope"
        );
        assert_eq!(items(&admin, "module=customers").await.len(), 6);
        // No right on the module at all: refused.
        assert_eq!(auditor.get("/api/v1/history?module=contacts").await.0, 403);
        let (s, csv) = raw(&auditor, "/api/v1/history/export?module=customers").await;
        assert_eq!(s, 200);
        assert_eq!(csv.lines().count(), 5, "{csv}");
        assert!(!csv.contains("不归我"));
        // The page shows the same, names the new owner, and links to the recycle bin.
        let (s, page) = raw(&auditor, "/admin/history").await;
        assert_eq!(s, 200);
        assert!(page.contains("归我") && !page.contains("不归我"), "{b:?}");
        assert!(page.contains("href=\"/customers/recycle-bin\""));
        assert!(page.contains(">auditor</td>"), "owner shown by name");
        app.finish().await;
    }
}

#[tokio::test]
async fn the_history_page_filters_and_pages_without_javascript() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let admin = app.admin().await;
        let custom = admin
            .ok(
                "POST",
                "/api/v1/custom-fields/customers",
                Some(json!({"label_zh": "合同编号", "label_en": "Contract no.", "kind": "text"})),
            )
            .await;
        let code = custom["code"].as_str().unwrap().to_owned();
        let mut last = 0;
        for i in 0..30 {
            let c = admin
                .ok(
                    "POST",
                    "/api/v1/customers",
                    Some(json!({"name": format!("客户{i:02}"), "industry": "it"})),
                )
                .await;
            last = c["id"].as_i64().unwrap();
            patch(&admin, last, json!({"version": 1, "level": "vip"})).await;
        }
        patch(&admin, last, json!({"version": 2, &code: "HT-001"})).await;
        let web = app.browser_client();
        web.post(app.url("/login"))
            .form(&[("username", "admin"), ("password", ADMIN_PASSWORD)])
            .send()
            .await
            .unwrap();
        let get = |path: String| {
            let web = web.clone();
            let url = app.url(&path);
            async move {
                let r = web.get(url).send().await.unwrap();
                (r.status().as_u16(), r.text().await.unwrap())
            }
        };
        let (s, page) = get("/admin/history".into()).await;
        assert_eq!(s, 200, "{page}");
        assert!(page.contains("客户资料修改历史查询"));
        assert!(page.contains("href=\"/admin/history\""), "menu entry");
        assert!(page.contains(&format!("href=\"/customers/{last}\"")));
        assert!(
            page.contains("合同编号"),
            "custom fields are offered and labelled"
        );
        assert!(page.contains("HT-001"));
        assert!(page.contains("重点"), "dictionary values shown by label");
        assert!(page.contains("id=\"export-csv\""));
        // 61 lines: a next page link carrying the filter.
        let next = page
            .split("id=\"next-page\"")
            .next()
            .and_then(|s| s.rsplit("href=\"").next())
            .and_then(|s| s.split('"').next())
            .unwrap()
            .replace("&#38;", "&")
            .replace("&amp;", "&");
        assert!(
            next.starts_with("/admin/history?module=customers&cursor="),
            "{next}"
        );
        let (s, second) = get(next).await;
        assert_eq!(s, 200);
        assert!(second.contains("客户00") && !second.contains("id=\"next-page\""));
        // Filters: by field, by event, an empty day range.
        let (_, by_field) = get(format!("/admin/history?module=customers&field={code}")).await;
        assert_eq!(by_field.matches("<tr>").count(), 2, "header + one line");
        let (_, by_event) = get("/admin/history?module=customers&event=create".into()).await;
        assert_eq!(by_event.matches("<tr>").count(), 31);
        assert!(!by_event.contains("id=\"next-page\""));
        let (_, none) = get("/admin/history?module=customers&to=2000-01-01".into()).await;
        assert!(none.contains("没有符合条件的修改记录"));
        // A field of another module is dropped when the module changes.
        let (s, other) = get("/admin/history?module=contacts&field=level".into()).await;
        assert_eq!(s, 200);
        assert!(other.contains("<option value=\"mobile\""));
        // The page's export keeps the filter.
        let r = web
            .get(app.url(&format!(
                "/admin/history/export?module=customers&field={code}"
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(
            r.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .contains("customers-history-")
        );
        let csv = r.text().await.unwrap();
        assert!(csv.starts_with('\u{feff}'));
        assert_eq!(csv.lines().count(), 2, "{csv}");
        assert!(csv.contains("HT-001") && csv.contains("合同编号"));
        app.finish().await;
    }
}
