//! The searching relation picker in headless chromium: a contact's customer is found by typing
//! part of its name (the server is asked, nothing is preloaded), chosen with the keyboard and
//! saved; the in-place editor on the detail page changes and clears it; a related record's form
//! starts with the parent's name.

mod common;

use std::time::Duration;

use common::{ADMIN_PASSWORD, TestApp, backends};
use guanxi_browser::{Browser, Page, artifacts_dir, find_chromium};
use serde_json::json;

const PICKER: &str = ".relation-picker[data-module=customers]";

fn shot(page: &mut Page, name: &str) {
    page.screenshot(&artifacts_dir().join(format!("engine-ui-picker-{name}.png")))
        .unwrap();
}

/// Types into the picker's search box and waits for the options the server found.
fn search(page: &mut Page, scope: &str, text: &str) -> Vec<String> {
    page.fill(&format!("{scope} {PICKER} .relation-search"), text)
        .unwrap();
    let options = format!("{scope} {PICKER} [role=listbox]:not([hidden]) [role=option]");
    page.wait_for(
        &format!("document.querySelector('{options}') !== null"),
        Duration::from_secs(10),
    )
    .unwrap();
    let found = page
        .eval(&format!(
            "[...document.querySelectorAll('{options}')].map(o => o.textContent)"
        ))
        .unwrap();
    serde_json::from_value(found).unwrap()
}

fn key(page: &mut Page, scope: &str, key: &str) {
    page.eval(&format!(
        "document.querySelector('{scope} {PICKER} .relation-search').dispatchEvent(new KeyboardEvent('keydown', {{ key: '{key}', bubbles: true, cancelable: true }}))"
    ))
    .unwrap();
}

fn hidden_id(page: &mut Page, scope: &str) -> String {
    let v = page
        .eval(&format!(
            "document.querySelector('{scope} {PICKER} input[name=customer_id]').type + ':' + document.querySelector('{scope} {PICKER} input[name=customer_id]').value"
        ))
        .unwrap();
    v.as_str().unwrap().to_owned()
}

fn walk(base: &str, yunfeng: i64, haigang: i64) {
    let mut browser = Browser::launch().unwrap();
    let mut page = browser.new_page().unwrap();
    page.sign_in(base, "admin", ADMIN_PASSWORD).unwrap();

    // The full form: part of the name finds the customer among many; Enter chooses it.
    page.goto(&format!("{base}/contacts/new")).unwrap();
    assert!(
        !page.exists("select[name=customer_id]"),
        "no preloaded list"
    );
    assert_eq!(hidden_id(&mut page, "#record-form"), "hidden:");
    page.fill("input[name=name]", "孙八").unwrap();
    let found = search(&mut page, "#record-form", "云峰");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("杭州云峰科技"), "{found:?}");
    assert_eq!(
        page.eval(&format!(
            "document.querySelector('#record-form {PICKER} .relation-search').getAttribute('aria-expanded')"
        ))
        .unwrap(),
        "true"
    );
    shot(&mut page, "01-search");
    key(&mut page, "#record-form", "Enter");
    assert_eq!(
        hidden_id(&mut page, "#record-form"),
        format!("hidden:{yunfeng}")
    );
    assert!(page.exists(&format!("#record-form {PICKER} [role=listbox][hidden]")));
    page.submit_and_wait("#record-form").unwrap();
    assert_eq!(page.text("h1").unwrap(), "孙八");
    assert_eq!(
        page.text("#field-customer_id .value").unwrap(),
        "杭州云峰科技"
    );
    let contact_url = page.url();

    // In place: the editor starts with the current name; arrows and Enter choose another.
    page.eval("document.querySelector('#field-customer_id details').open = true")
        .unwrap();
    let scope = "#field-customer_id";
    assert_eq!(
        page.eval(&format!(
            "document.querySelector('{scope} {PICKER} .relation-search').value"
        ))
        .unwrap(),
        "杭州云峰科技"
    );
    let found = search(&mut page, scope, "物流");
    assert!(
        found.iter().any(|f| f.starts_with("宁波海港物流")),
        "{found:?}"
    );
    key(&mut page, scope, "ArrowDown");
    key(&mut page, scope, "ArrowUp");
    key(&mut page, scope, "Enter");
    assert_eq!(hidden_id(&mut page, scope), format!("hidden:{haigang}"));
    shot(&mut page, "02-inline");
    page.submit_and_wait("#field-customer_id form").unwrap();
    assert_eq!(
        page.text("#field-customer_id .value").unwrap(),
        "宁波海港物流"
    );

    // Typing without choosing blocks the save with a message; Esc brings the name back.
    page.eval("document.querySelector('#field-customer_id details').open = true")
        .unwrap();
    page.fill(
        &format!("{scope} {PICKER} .relation-search"),
        "不存在的客户",
    )
    .unwrap();
    let invalid = page
        .eval(&format!(
            "!document.querySelector('{scope} {PICKER} .relation-search').checkValidity()"
        ))
        .unwrap();
    assert_eq!(invalid, true);
    page.wait_for(
        &format!("document.querySelector('{scope} [role=option][aria-disabled]') !== null"),
        Duration::from_secs(10),
    )
    .unwrap();
    key(&mut page, scope, "Escape");
    key(&mut page, scope, "Escape");
    assert_eq!(
        page.eval(&format!(
            "document.querySelector('{scope} {PICKER} .relation-search').value"
        ))
        .unwrap(),
        "宁波海港物流"
    );
    assert_eq!(hidden_id(&mut page, scope), format!("hidden:{haigang}"));

    // Clearing the text clears the link.
    page.fill(&format!("{scope} {PICKER} .relation-search"), "")
        .unwrap();
    assert_eq!(hidden_id(&mut page, scope), "hidden:");
    page.submit_and_wait("#field-customer_id form").unwrap();
    assert_eq!(page.text("#field-customer_id .value").unwrap(), "");
    assert_eq!(page.url().split('?').next(), contact_url.split('?').next());

    // A contact made from the customer's page starts linked to it, by name.
    page.goto(&format!("{base}/customers/{yunfeng}")).unwrap();
    page.click_and_wait_navigation("#related-contacts .card-head a")
        .unwrap();
    assert_eq!(
        page.eval(&format!(
            "document.querySelector('#record-form {PICKER} .relation-search').value"
        ))
        .unwrap(),
        "杭州云峰科技"
    );
    assert_eq!(
        hidden_id(&mut page, "#record-form"),
        format!("hidden:{yunfeng}")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relation_picker_searches_the_server_and_saves_the_choice() {
    if find_chromium().is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is required in CI"
        );
        return;
    }
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let admin = app.admin().await;
        let mut ids = vec![];
        for name in ["杭州云峰科技", "宁波海港物流"] {
            let c = admin
                .ok("POST", "/api/v1/customers", Some(json!({ "name": name })))
                .await;
            ids.push(c["id"].as_i64().unwrap());
        }
        // More customers than any preloaded list would hold.
        for i in 0..210 {
            admin
                .ok(
                    "POST",
                    "/api/v1/customers",
                    Some(json!({ "name": format!("填充客户{i:03}") })),
                )
                .await;
        }
        let base = app.base.clone();
        let (yunfeng, haigang) = (ids[0], ids[1]);
        tokio::task::spawn_blocking(move || walk(&base, yunfeng, haigang))
            .await
            .unwrap();
        app.finish().await;
    }
}
