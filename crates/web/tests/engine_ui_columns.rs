//! Column order in headless chromium: the column chooser's ↑ / ↓ reorder the chosen columns, the
//! table and the export link follow that order, and a saved view brings exactly that order back.

mod common;

use common::{ADMIN_PASSWORD, TestApp, backends};
use guanxi_browser::{Browser, Page, artifacts_dir, find_chromium};
use serde_json::{Value, json};

fn shot(page: &mut Page, name: &str) {
    page.screenshot(&artifacts_dir().join(format!("engine-ui-columns-{name}.png")))
        .unwrap();
}

fn strings(v: Value) -> Vec<String> {
    serde_json::from_value(v).unwrap()
}

/// The chosen columns in the chooser, in order.
fn chosen(page: &mut Page) -> Vec<String> {
    strings(
        page.eval("[...document.querySelectorAll('#column-choices input[name=col]:checked')].map(i => i.value)")
            .unwrap(),
    )
}

/// The table's column headings between the title and the owner.
fn headings(page: &mut Page) -> Vec<String> {
    let all = strings(
        page.eval("[...document.querySelectorAll('#record-list thead th')].slice(2, -2).map(t => t.textContent.trim())")
            .unwrap(),
    );
    all.into_iter()
        .map(|h| h.trim_end_matches([' ', '↑', '↓']).to_owned())
        .collect()
}

/// The labels of the chooser's check boxes for `codes` (the chooser may be closed).
fn labels(page: &mut Page, codes: &[&str]) -> Vec<String> {
    let js = format!(
        "{codes:?}.map(c => document.querySelector(`#column-choices label:has(input[value=${{c}}])`).textContent.trim())"
    );
    strings(page.eval(&js).unwrap())
}

fn walk(base: &str) {
    let mut browser = Browser::launch().unwrap();
    let mut page = browser.new_page().unwrap();
    page.sign_in(base, "admin", ADMIN_PASSWORD).unwrap();

    page.goto(&format!("{base}/customers")).unwrap();
    let default = chosen(&mut page);
    assert!(
        default.iter().any(|c| c == "phone") && default.iter().any(|c| c == "industry"),
        "{default:?}"
    );
    page.eval("document.querySelector('.column-chooser').open = true")
        .unwrap();
    // Phone to the front, level before industry, the address added at the end, the type removed.
    for _ in 0..default.len() {
        page.click("button[value='phone.up']").unwrap();
    }
    let industry = default.iter().position(|c| c == "industry").unwrap();
    let level = default.iter().position(|c| c == "level").unwrap();
    for _ in 0..level.saturating_sub(industry) {
        page.click("button[value='level.up']").unwrap();
    }
    page.eval("document.querySelector('#column-choices input[value=address]').checked = true")
        .unwrap();
    page.eval("document.querySelectorAll('#column-choices input[name=col]:checked').forEach(i => { if (!['phone', 'level', 'industry', 'address'].includes(i.value)) i.checked = false; })")
        .unwrap();
    let want = ["phone", "level", "industry", "address"];
    assert_eq!(chosen(&mut page), want, "the chooser shows the new order");
    assert_eq!(
        page.eval("document.activeElement.value").unwrap(),
        "level.up",
        "focus stays on the moved column's button"
    );
    shot(&mut page, "01-chooser");
    page.click_and_wait_navigation("#column-choices > .btn.primary")
        .unwrap();
    let want_labels = labels(&mut page, &want);
    assert_eq!(chosen(&mut page), want);
    assert_eq!(headings(&mut page), want_labels);
    let export = page
        .eval("document.getElementById('export-csv').getAttribute('href')")
        .unwrap();
    assert!(
        export
            .as_str()
            .unwrap()
            .contains("columns=name%2Cphone%2Clevel%2Cindustry%2Caddress"),
        "{export}"
    );

    // Saved as a view, the order comes back exactly.
    page.eval("document.querySelector('.save-view').open = true")
        .unwrap();
    page.fill("#save-view input[name=view_name]", "电话优先")
        .unwrap();
    page.submit_and_wait("#save-view").unwrap();
    assert_eq!(headings(&mut page), want_labels);
    let view_url = page.url();
    page.goto(&format!("{base}/customers")).unwrap();
    assert_eq!(
        chosen(&mut page),
        default,
        "the plain list keeps its columns"
    );
    page.click_and_wait_navigation(".tabs.views a:nth-child(2)")
        .unwrap();
    assert_eq!(chosen(&mut page), want);
    assert_eq!(headings(&mut page), want_labels);
    shot(&mut page, "02-view");
    page.goto(view_url.split('&').next().unwrap()).unwrap();
    assert_eq!(headings(&mut page), want_labels);

    // Inside the view, moving again and applying keeps the new order.
    page.eval("document.querySelector('.column-chooser').open = true")
        .unwrap();
    page.click("button[value='address.up']").unwrap();
    page.click_and_wait_navigation("#column-choices > .btn.primary")
        .unwrap();
    assert_eq!(chosen(&mut page), ["phone", "level", "address", "industry"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_view_restores_the_users_column_order() {
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
        for (name, phone) in [
            ("杭州云峰科技", "057188886666"),
            ("宁波海港物流", "057487654321"),
        ] {
            admin
                .ok(
                    "POST",
                    "/api/v1/customers",
                    Some(json!({ "name": name, "phone": phone, "industry": "it", "address": "浙江" })),
                )
                .await;
        }
        let base = app.base.clone();
        tokio::task::spawn_blocking(move || walk(&base))
            .await
            .unwrap();
        app.finish().await;
    }
}
