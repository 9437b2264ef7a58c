//! The condition builder in headless chromium, on every database under test: an administrator
//! builds "行业 = 制造业 且 评分 ≥ 0 → A 类" with the keyboard-reachable controls, is told about
//! a condition left without a value, saves, and the background re-evaluation makes a
//! manufacturing customer an A customer, whose page then says why.

mod common;

use std::time::{Duration, Instant};

use common::{ADMIN_PASSWORD, TestApp, backends};
use guanxi_browser::{Browser, Page, artifacts_dir, find_chromium};
use guanxi_store::Backend;
use serde_json::json;

fn shot(page: &mut Page, backend: Backend, name: &str) {
    let db = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    page.screenshot(&artifacts_dir().join(format!("rules-{db}-{name}.png")))
        .unwrap();
}

/// The customer's page explains its type by the rule that gave it.
fn see_explanation(base: &str, backend: Backend, id: i64) {
    let mut browser = Browser::launch().unwrap();
    let mut page = browser.new_page().unwrap();
    page.sign_in(base, "admin", ADMIN_PASSWORD).unwrap();
    page.goto(&format!("{base}/customers/{id}")).unwrap();
    let why = page.text("#explain-type").unwrap();
    assert!(why.contains("A 类（重点）"), "{why}");
    assert!(why.contains("重点制造"), "{why}");
    assert!(why.contains("行业 = 制造业 且 评分 ≥ 0"), "{why}");
    shot(&mut page, backend, "04-explanation");
}

fn build_rule(base: &str, backend: Backend) {
    let wait = Duration::from_secs(10);
    let mut browser = Browser::launch().unwrap();
    let mut page = browser.new_page().unwrap();
    page.sign_in(base, "admin", ADMIN_PASSWORD).unwrap();

    page.goto(&format!("{base}/admin/rules")).unwrap();
    assert!(
        page.text("#tab-classification")
            .unwrap()
            .contains("分类规则")
    );
    page.click_and_wait_navigation("#new-rule").unwrap();
    page.wait_for("!document.getElementById('rule-builder').hidden", wait)
        .unwrap();
    assert!(
        page.eval("document.getElementById('rule-json').hidden")
            .unwrap()
            == json!(true),
        "the builder replaces the JSON text area"
    );
    page.fill("#rule-name", "重点制造").unwrap();
    page.fill("#rule-result", "a").unwrap();

    // 行业 = 制造业: adding a condition puts the focus on its field.
    page.click(".rule-group[data-path=''] > .rule-group-actions .rule-add")
        .unwrap();
    assert_eq!(
        page.eval("document.activeElement.closest('.rule-row').dataset.path")
            .unwrap(),
        json!("0")
    );
    page.fill(".rule-row[data-path='0'] .rule-field", "industry")
        .unwrap();
    assert_eq!(
        page.eval("document.querySelector(\".rule-row[data-path='0'] .rule-op\").value")
            .unwrap(),
        json!("eq")
    );
    page.fill(
        ".rule-row[data-path='0'] .rule-value select",
        "manufacturing",
    )
    .unwrap();

    // 评分 ≥ 0, then a nested group added and removed again.
    page.click(".rule-group[data-path=''] > .rule-group-actions .rule-add")
        .unwrap();
    page.fill(".rule-row[data-path='1'] .rule-field", "score")
        .unwrap();
    page.fill(".rule-row[data-path='1'] .rule-op", "gte")
        .unwrap();
    page.fill(".rule-row[data-path='1'] .rule-value input", "0")
        .unwrap();
    page.click(".rule-group[data-path=''] > .rule-group-actions .rule-add-group")
        .unwrap();
    assert!(page.exists(".rule-group[data-path='2'] .rule-row[data-path='2.0']"));
    page.fill(
        ".rule-group[data-path='2'] > .rule-group-head .rule-match",
        "any",
    )
    .unwrap();
    shot(&mut page, backend, "01-builder");
    page.click(".rule-group[data-path='2'] > .rule-group-head .rule-remove")
        .unwrap();
    assert!(!page.exists(".rule-group[data-path='2']"));
    assert_eq!(
        page.text("#rule-preview").unwrap(),
        "行业 等于 制造业 且 评分 大于等于 0"
    );

    // A condition without a value is refused next to it.
    page.click(".rule-group[data-path=''] > .rule-group-actions .rule-add")
        .unwrap();
    page.fill(".rule-row[data-path='2'] .rule-field", "score")
        .unwrap();
    page.click("#rule-save").unwrap();
    page.wait_for(
        "document.querySelector(\".rule-row[data-path='2'] .field-error\").textContent !== ''",
        wait,
    )
    .unwrap();
    assert_eq!(
        page.text(".rule-row[data-path='2'] .field-error").unwrap(),
        "请为“评分”填写合适的值。"
    );
    assert_eq!(
        page.eval("document.activeElement.closest('.rule-row').dataset.path")
            .unwrap(),
        json!("2"),
        "the focus goes to the condition at fault"
    );
    shot(&mut page, backend, "02-error");
    page.click(".rule-row[data-path='2'] .rule-remove").unwrap();

    page.click_and_wait_navigation("#rule-save").unwrap();
    assert!(page.url().contains("/admin/rules?kind=classification"));
    assert_eq!(
        page.text(".toast").unwrap(),
        "规则已保存，正在重新评估客户。"
    );
    let row = page.text("#rule-list tbody tr").unwrap();
    assert!(row.contains("重点制造"), "{row}");
    assert!(row.contains("行业 = 制造业 且 评分 ≥ 0"), "{row}");
    assert!(row.contains("A 类（重点）"), "{row}");
    shot(&mut page, backend, "03-list");

    // The saved rule opens in the builder again.
    page.click_and_wait_navigation("#rule-list tbody tr a")
        .unwrap();
    page.wait_for("document.querySelectorAll('.rule-row').length === 2", wait)
        .unwrap();
    assert_eq!(
        page.eval("document.querySelector(\".rule-row[data-path='1'] .rule-value input\").value")
            .unwrap(),
        json!("0")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_built_in_the_browser_classifies_a_customer() {
    if find_chromium().is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is required in CI"
        );
        return;
    }
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let api = app.admin().await;
        let made = api
            .ok(
                "POST",
                "/api/v1/customers",
                Some(json!({ "name": "宁波精工机械", "industry": "manufacturing" })),
            )
            .await["id"]
            .as_i64()
            .unwrap();
        let other = api
            .ok(
                "POST",
                "/api/v1/customers",
                Some(json!({ "name": "杭州云峰科技", "industry": "it" })),
            )
            .await["id"]
            .as_i64()
            .unwrap();
        let base = app.base.clone();
        tokio::task::spawn_blocking(move || build_rule(&base, backend))
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let c = api
                .ok("GET", &format!("/api/v1/customers/{made}"), None)
                .await;
            if c["customer_type"] == "a" {
                break;
            }
            assert!(Instant::now() < deadline, "not classified: {c}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let c = api
            .ok("GET", &format!("/api/v1/customers/{other}"), None)
            .await;
        assert!(c["customer_type"].is_null(), "{c}");
        let base = app.base.clone();
        tokio::task::spawn_blocking(move || see_explanation(&base, backend, made))
            .await
            .unwrap();
        app.finish().await;
    }
}
