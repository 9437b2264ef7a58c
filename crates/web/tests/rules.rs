//! Classification (客户自动分类) and credit (信用等级) rules on every database under test: CRUD
//! and validation through the API, `apply` in a transaction, priority order, a credit level set
//! by hand kept and handed back, explanations, and the pages without scripts. The background
//! re-evaluation of many customers is in `rules_reevaluation.rs`.

mod common;
mod rules_common;

use chrono::Utc;
use common::{ADMIN_PASSWORD, TestApp, backends};
use guanxi_web::services::rules;
use guanxi_web::{AppState, WebConfig};
use rules_common::{count, customer, exec, manufacturing_and_score, reevaluated, rule};
use serde_json::{Value, json};

#[tokio::test]
async fn rules_are_created_checked_ordered_and_deleted() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let api = app.admin().await;

        let f = api.ok("GET", "/api/v1/rules/fields", None).await;
        let industry = f["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["code"] == "industry")
            .unwrap();
        assert_eq!(industry["label"], "行业");
        assert!(
            industry["options"]
                .as_array()
                .unwrap()
                .iter()
                .any(|o| o["label"] == "制造业")
        );
        assert!(
            industry["ops"]
                .as_array()
                .unwrap()
                .iter()
                .any(|o| o["code"] == "in")
        );
        let age = f["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["code"] == "follow_up_age_days");
        assert_eq!(age.unwrap()["kind"], "days");
        assert_eq!(f["credit"].as_array().unwrap().len(), 5);
        assert!(
            f["classification"]
                .as_array()
                .unwrap()
                .iter()
                .any(|o| o["code"] == "a")
        );

        // Everything wrong at once: each problem named where it is.
        let (s, v) = api
            .post(
                "/api/v1/rules",
                json!({ "kind": "classification", "name": " ", "result": "zz", "conditions": { "all": [
                    { "field": "score", "op": "contains", "value": "1" },
                    { "any": [{ "field": "industry", "op": "eq", "value": "farming" }] },
                    { "field": "customer_type", "op": "eq", "value": "a" }
                ]}}),
            )
            .await;
        assert_eq!(s, 422, "{v}");
        let fields = &v["error"]["fields"];
        assert_eq!(fields["name"], "此项必填。");
        assert_eq!(fields["result"], "请选择规则的结果。");
        assert_eq!(
            fields["conditions.0"],
            "“评分”不能这样比较，请换一个比较方式。"
        );
        assert_eq!(fields["conditions.1.0"], "“行业”的值须从选项中选择。");
        assert!(
            fields["conditions.2"]
                .as_str()
                .unwrap()
                .contains("客户类型")
        );
        let (s, v) = api
            .post(
                "/api/v1/rules",
                json!({ "kind": "nope", "name": "x", "result": "a", "conditions": {} }),
            )
            .await;
        assert_eq!(
            (s, v["error"]["fields"]["kind"].is_string()),
            (422, true),
            "{v}"
        );
        let (s, v) = api
            .post(
                "/api/v1/rules",
                json!({ "kind": "credit", "name": "x", "result": "5", "conditions": [1] }),
            )
            .await;
        assert_eq!(s, 422, "{v}");
        assert_eq!(v["error"]["fields"]["conditions"], "条件格式不正确。");

        let a = rule(
            &api,
            "classification",
            "重点制造",
            manufacturing_and_score(50),
            "a",
        )
        .await;
        assert_eq!(a["priority"], 1);
        assert_eq!(a["result_label"], "A 类（重点）");
        assert_eq!(a["description"], "行业 = 制造业 且 评分 ≥ 50");
        let c = rule(&api, "classification", "其他", json!({ "all": [] }), "c").await;
        assert_eq!(c["priority"], 2);
        assert_eq!(c["description"], "所有客户");
        rule(&api, "credit", "优", json!({ "all": [] }), "5").await;
        let (a_id, c_id) = (a["id"].as_i64().unwrap(), c["id"].as_i64().unwrap());

        let list = api
            .ok("GET", "/api/v1/rules?kind=classification", None)
            .await;
        let names: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["重点制造", "其他"]);

        let p = api
            .ok(
                "PATCH",
                &format!("/api/v1/rules/{a_id}"),
                Some(json!({ "name": "重点", "active": false })),
            )
            .await;
        assert_eq!(
            (p["name"].as_str(), p["active"].as_bool()),
            (Some("重点"), Some(false))
        );
        assert_eq!(
            p["description"], "行业 = 制造业 且 评分 ≥ 50",
            "conditions kept"
        );
        let (s, _) = api
            .call(
                "PATCH",
                &format!("/api/v1/rules/{a_id}"),
                Some(json!({ "result": "5" })),
            )
            .await;
        assert_eq!(s, 422, "a level is no customer type");

        let (s, v) = api
            .post(
                "/api/v1/rules/reorder",
                json!({ "kind": "classification", "ids": [c_id] }),
            )
            .await;
        assert_eq!(
            (s, &v["error"]["fields"]["ids"]),
            (
                422,
                &json!("排序须列出此类别的全部规则，且每条只出现一次。")
            )
        );
        let list = api
            .ok(
                "POST",
                "/api/v1/rules/reorder",
                Some(json!({ "kind": "classification", "ids": [c_id, a_id] })),
            )
            .await;
        assert_eq!(list[0]["id"], c_id);
        assert_eq!(list[1]["priority"], 2);

        // Only administrators of the settings manage rules.
        let sales = api.role_id("sales").await;
        api.user("xiaoli", None, &[sales]).await;
        let li = app.api("xiaoli", "password-123").await;
        let (s, _) = li
            .post(
                "/api/v1/rules",
                json!({ "kind": "credit", "name": "x", "result": "1", "conditions": {} }),
            )
            .await;
        assert_eq!(s, 403);
        let (s, _) = li
            .call("DELETE", &format!("/api/v1/rules/{a_id}"), None)
            .await;
        assert_eq!(s, 403);

        let (s, _) = api
            .call("DELETE", &format!("/api/v1/rules/{a_id}"), None)
            .await;
        assert_eq!(s, 204);
        let (s, _) = api.get(&format!("/api/v1/rules/{a_id}")).await;
        assert_eq!(s, 404);
        for action in ["rule.create", "rule.update", "rule.reorder", "rule.delete"] {
            let n = count(
                &app.db,
                &format!("SELECT COUNT(*) FROM audit_log WHERE action = '{action}'"),
            )
            .await;
            assert!(n >= 1, "{action} audited");
        }
        // Each change queued a re-evaluation; they all end.
        reevaluated(&app.db).await;
        // The engine's own routes under /customers/{id} still answer.
        let id = customer(&api, "路由测试", "it").await;
        let (s, _) = api.get(&format!("/api/v1/customers/{id}/history")).await;
        assert_eq!(s, 200);
        app.finish().await;
    }
}

#[tokio::test]
async fn customers_are_classified_rated_explained_and_handed_back() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let api = app.admin().await;
        let state = AppState::new(app.db.clone(), WebConfig::default());
        let made = customer(&api, "宁波精工机械", "manufacturing").await;
        let soft = customer(&api, "杭州云峰科技", "it").await;
        exec(
            &app.db,
            &format!("UPDATE customers SET score = 60 WHERE id = {made}"),
        )
        .await;

        rule(
            &api,
            "classification",
            "重点制造",
            manufacturing_and_score(50),
            "a",
        )
        .await;
        let rest = rule(&api, "classification", "其他", json!({ "all": [] }), "c").await;
        rule(
            &api,
            "credit",
            "A 类优",
            json!({ "all": [{ "field": "customer_type", "op": "eq", "value": "a" }] }),
            "5",
        )
        .await;
        rule(
            &api,
            "credit",
            "久未跟进",
            json!({ "all": [{ "field": "follow_up_age_days", "op": "gte", "value": 30 }] }),
            "2",
        )
        .await;
        reevaluated(&app.db).await;

        let get = |id: i64| {
            let api = &api;
            async move {
                api.ok("GET", &format!("/api/v1/customers/{id}"), None)
                    .await
            }
        };
        let m = get(made).await;
        assert_eq!(
            (m["customer_type"].as_str(), m["credit_level"].as_str()),
            (Some("a"), Some("5"))
        );
        let s = get(soft).await;
        // Never followed up: infinitely long ago.
        assert_eq!(
            (s["customer_type"].as_str(), s["credit_level"].as_str()),
            (Some("c"), Some("2"))
        );

        let e = api
            .ok(
                "GET",
                &format!("/api/v1/customers/{made}/rules-explanation"),
                None,
            )
            .await;
        assert_eq!(
            e["customer_type"]["text"],
            "A 类（重点）: 行业 = 制造业 且 评分 ≥ 50"
        );
        assert_eq!(
            e["customer_type"]["reason"],
            "规则“重点制造”：行业 = 制造业 且 评分 ≥ 50"
        );
        assert_eq!(e["credit"]["text"], "5 级（优）: 客户类型 = A 类（重点）");
        assert_eq!(e["can_hand_back"], false);

        // apply() in the caller's transaction: the score drops, the customer moves down.
        exec(
            &app.db,
            &format!("UPDATE customers SET score = 10 WHERE id = {made}"),
        )
        .await;
        let mut tx = app.db.begin().await.unwrap();
        rules::apply(&state, &mut tx, made, Utc::now())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let m = get(made).await;
        assert_eq!(
            (m["customer_type"].as_str(), m["credit_level"].as_str()),
            (Some("c"), Some("2"))
        );
        let h = api
            .ok("GET", &format!("/api/v1/customers/{made}/history"), None)
            .await;
        let by_rule: Vec<&Value> = h
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["event"] == "rule")
            .collect();
        assert!(
            by_rule.iter().any(|x| x["field"] == "customer_type"
                && x["old_value"] == "\"a\""
                && x["new_value"] == "\"c\""),
            "{h}"
        );

        // A level set by hand stays until it is handed back.
        exec(
            &app.db,
            &format!("UPDATE customers SET score = 60 WHERE id = {made}"),
        )
        .await;
        let mut tx = app.db.begin().await.unwrap();
        rules::mark_manual(&mut tx, made).await.unwrap();
        tx.commit().await.unwrap();
        exec(
            &app.db,
            &format!("UPDATE customers SET credit_level = '3' WHERE id = {made}"),
        )
        .await;
        let mut tx = app.db.begin().await.unwrap();
        rules::apply(&state, &mut tx, made, Utc::now())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let m = get(made).await;
        assert_eq!(
            (m["customer_type"].as_str(), m["credit_level"].as_str()),
            (Some("a"), Some("3"))
        );
        let e = api
            .ok(
                "GET",
                &format!("/api/v1/customers/{made}/rules-explanation"),
                None,
            )
            .await;
        assert_eq!(e["credit"]["source"], "manual");
        assert_eq!(e["credit"]["text"], "3 级: 手动指定");
        assert_eq!(e["can_hand_back"], true);
        let e = api
            .ok(
                "POST",
                &format!("/api/v1/customers/{made}/credit/hand-back"),
                Some(json!({})),
            )
            .await;
        assert_eq!(e["credit"]["source"], "rule");
        assert_eq!(e["credit"]["code"], "5");
        assert_eq!(e["can_hand_back"], false);
        assert_eq!(
            count(
                &app.db,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'rule.hand_back'"
            )
            .await,
            1
        );

        // Priority: the catch-all first, and everyone is C.
        let ids: Vec<i64> = api
            .ok("GET", "/api/v1/rules?kind=classification", None)
            .await
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect();
        let reordered = [rest["id"].as_i64().unwrap(), ids[0]];
        api.ok(
            "POST",
            "/api/v1/rules/reorder",
            Some(json!({ "kind": "classification", "ids": reordered })),
        )
        .await;
        reevaluated(&app.db).await;
        assert_eq!(get(made).await["customer_type"], "c");
        let e = api
            .ok(
                "GET",
                &format!("/api/v1/customers/{made}/rules-explanation"),
                None,
            )
            .await;
        assert_eq!(e["customer_type"]["text"], "C 类（一般）: 所有客户");

        // The explanation in English, and the HTML fragment with the hand-back button.
        api.ok("PATCH", "/api/v1/me", Some(json!({ "locale": "en" })))
            .await;
        let e = api
            .ok(
                "GET",
                &format!("/api/v1/customers/{soft}/rules-explanation"),
                None,
            )
            .await;
        assert_eq!(
            e["credit"]["text"],
            "Level 2: Days since last follow-up ≥ 30"
        );
        let r = api
            .client
            .get(format!("{}/customers/{soft}/rules-explanation", api.base))
            .bearer_auth(&api.token)
            .send()
            .await
            .unwrap();
        let html = r.text().await.unwrap();
        assert!(
            html.contains("Days since last follow-up ≥ 30") && !html.contains("hand-back"),
            "{html}"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn the_pages_work_without_scripts() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let api = app.admin().await;
        let web = app.browser_client();
        let login = [("username", "admin"), ("password", ADMIN_PASSWORD)];
        let r = web
            .post(app.url("/login"))
            .form(&login)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let post = |path: &str, form: Vec<(&str, String)>| {
            let req = web.post(app.url(path)).form(&form);
            async move { req.send().await.unwrap() }
        };

        // A refused form shows every problem and keeps what was typed.
        let bad = r#"{"all": [{"field": "score", "op": "gte", "value": "x"}]}"#;
        let r = post(
            "/admin/rules",
            vec![
                ("kind", "credit".into()),
                ("name", "坏规则".into()),
                ("result", "9".into()),
                ("conditions", bad.into()),
            ],
        )
        .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        for text in ["请选择规则的结果。", "请为“评分”填写合适的值。", "坏规则"]
        {
            assert!(html.contains(text), "{text}: {html}");
        }
        let conditions = manufacturing_and_score(50).to_string();
        let form = vec![
            ("kind", "classification".to_owned()),
            ("name", "重点制造".into()),
            ("result", "a".into()),
            ("conditions", conditions),
            ("active", "true".into()),
        ];
        let r = post("/admin/rules", form).await;
        assert_eq!(r.status(), 303);
        assert_eq!(
            r.headers()["location"],
            "/admin/rules?kind=classification&ok=flash-rules-saved"
        );
        let other = rule(&api, "classification", "其他", json!({ "all": [] }), "c").await;
        let other = other["id"].as_i64().unwrap();
        let html = web
            .get(app.url("/admin/rules?kind=classification"))
            .send()
            .await
            .unwrap();
        let html = html.text().await.unwrap();
        assert!(
            html.contains("行业 = 制造业 且 评分 ≥ 50") && html.contains("其他"),
            "{html}"
        );

        // Move up, disable, delete: plain forms.
        let r = post(
            &format!("/admin/rules/{other}/move"),
            vec![("dir", "up".into())],
        )
        .await;
        assert_eq!(r.status(), 303);
        let list = api
            .ok("GET", "/api/v1/rules?kind=classification", None)
            .await;
        assert_eq!(list[0]["id"], other);
        let r = post(
            &format!("/admin/rules/{other}/active"),
            vec![("active", "false".into())],
        )
        .await;
        assert_eq!(
            r.headers()["location"],
            "/admin/rules?kind=classification&ok=flash-rules-disabled"
        );
        assert_eq!(
            api.ok("GET", &format!("/api/v1/rules/{other}"), None).await["active"],
            false
        );
        let r = post(&format!("/admin/rules/{other}/delete"), vec![]).await;
        assert_eq!(r.status(), 303);
        let first = list[1]["id"].as_i64().unwrap();
        let html = web
            .get(app.url(&format!("/admin/rules/{first}/edit")))
            .send()
            .await
            .unwrap();
        let html = html.text().await.unwrap();
        assert!(
            html.contains("id=\"rule-data\"") && html.contains("manufacturing"),
            "{html}"
        );

        // The customer's page says why, and hands a level set by hand back to the rules.
        let id = customer(&api, "宁波精工机械", "manufacturing").await;
        exec(&app.db, &format!("UPDATE customers SET score = 70, credit_manual = TRUE, credit_level = '3' WHERE id = {id}")).await;
        reevaluated(&app.db).await;
        let page = format!("/customers/{id}");
        let html = web
            .get(app.url(&page))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("id=\"rules-explanation\"")
                && html.contains("id=\"hand-back\"")
                && html.contains("手动指定"),
            "{html}"
        );
        let r = post(&format!("/customers/{id}/credit/hand-back"), vec![]).await;
        assert_eq!(
            r.headers()["location"],
            format!("/customers/{id}?ok=flash-credit-handed-back").as_str()
        );
        let html = web
            .get(app.url(&page))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            !html.contains("id=\"hand-back\"")
                && html.contains("A 类（重点）")
                && html.contains("规则“重点制造”：行业 = 制造业 且 评分 ≥ 50"),
            "{html}"
        );
        reevaluated(&app.db).await;
        app.finish().await;
    }
}
