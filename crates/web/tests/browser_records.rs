//! The record engine in headless chromium: a customer with two contacts, an in-place edit, the
//! full form, lock refusing edits, history with a restored value, the recycle bin, and previous /
//! next inside a filtered list.

mod common;

use std::time::Duration;

use common::{ADMIN_PASSWORD, TestApp};
use guanxi_browser::{Browser, Page, artifacts_dir, find_chromium};

fn shot(page: &mut Page, name: &str) {
    page.screenshot(&artifacts_dir().join(format!("records-{name}.png")))
        .unwrap();
}

fn walk(base: &str) {
    let wait = Duration::from_secs(10);
    let mut browser = Browser::launch().unwrap();
    let mut page = browser.new_page().unwrap();
    page.sign_in(base, "admin", ADMIN_PASSWORD).unwrap();

    // A customer.
    page.goto(&format!("{base}/customers")).unwrap();
    page.click_and_wait_navigation("#new-record").unwrap();
    page.fill("input[name=name]", "杭州云峰科技").unwrap();
    page.fill("select[name=industry]", "it").unwrap();
    page.fill("input[name=phone]", "0571-8888 6666").unwrap();
    shot(&mut page, "01-form");
    page.submit_and_wait("#record-form").unwrap();
    assert_eq!(page.text("h1").unwrap(), "杭州云峰科技");
    assert_eq!(page.text("#field-phone .value").unwrap(), "057188886666");
    assert_eq!(page.text("#field-industry .value").unwrap(), "信息技术");
    let customer_url = page.url();

    // Two contacts from the customer's page.
    for (name, mobile) in [("赵六", "13700000001"), ("钱七", "13700000002")] {
        page.goto(&customer_url).unwrap();
        page.click_and_wait_navigation("#related-contacts .card-head a")
            .unwrap();
        page.fill("input[name=name]", name).unwrap();
        page.fill("input[name=mobile]", mobile).unwrap();
        page.submit_and_wait("#record-form").unwrap();
        assert_eq!(
            page.text("#field-customer_id .value").unwrap(),
            "杭州云峰科技"
        );
    }
    page.goto(&customer_url).unwrap();
    let contacts = page.text("#related-contacts").unwrap();
    assert!(
        contacts.contains("赵六") && contacts.contains("钱七"),
        "{contacts}"
    );
    shot(&mut page, "02-detail");

    // One field in place.
    page.eval("document.querySelector('#field-address details').open = true")
        .unwrap();
    page.fill("#field-address input[name=address]", "杭州市余杭区文一西路")
        .unwrap();
    page.submit_and_wait("#field-address form").unwrap();
    assert_eq!(
        page.text("#field-address .value").unwrap(),
        "杭州市余杭区文一西路"
    );
    assert_eq!(page.text(".toast").unwrap(), "已保存");

    // The whole form.
    page.click_and_wait_navigation("#edit-record").unwrap();
    page.fill("select[name=level]", "vip").unwrap();
    page.fill("textarea[name=notes]", "年度框架合同客户")
        .unwrap();
    page.submit_and_wait("#record-form").unwrap();
    assert_eq!(page.text("#field-level .value").unwrap(), "重点");

    // Lock: edits refused until unlocked.
    // Locking asks first, in a dialog that names the record.
    page.click("#lock-record").unwrap();
    page.wait_for(
        "document.querySelector('dialog.confirm[open]') !== null",
        wait,
    )
    .unwrap();
    assert!(
        page.text("dialog.confirm")
            .unwrap()
            .contains("杭州云峰科技")
    );
    page.click_and_wait_navigation("dialog.confirm [value=ok]")
        .unwrap();
    page.wait_for("document.getElementById('locked-badge') !== null", wait)
        .unwrap();
    assert!(!page.exists("#edit-record"));
    assert!(!page.exists("#field-notes details"));
    shot(&mut page, "03-locked");
    let edit = format!("{customer_url}/edit");
    page.goto(&edit).unwrap();
    assert!(page.text(".error-message").unwrap().contains("锁定"));
    page.goto(&customer_url).unwrap();
    page.submit_and_wait("#record-actions form[action$='/unlock']")
        .unwrap();
    assert!(page.exists("#edit-record"));

    // History: restore the old value of the address.
    page.click_and_wait_navigation("#view-history").unwrap();
    shot(&mut page, "04-history");
    let rows = page
        .eval("document.querySelectorAll('#history-list tbody tr').length")
        .unwrap();
    assert!(rows.as_i64().unwrap() >= 6, "{rows}");
    page.eval(
        "const row = [...document.querySelectorAll('#history-list tbody tr')].find(r => r.textContent.includes('余杭区'));
         row.querySelector('form').dataset.confirmed = '1';
         row.querySelector('form').requestSubmit();",
    )
    .unwrap();
    page.wait_for("document.querySelector('.toast') && document.querySelector('.toast').textContent.includes('恢复')", wait).unwrap();
    assert_eq!(page.text("#field-address .value").unwrap(), "");

    // Recycle bin: delete, then restore.
    page.eval("const f = document.querySelector('form[action$=\"/delete\"]'); f.dataset.confirmed = '1'; f.requestSubmit();").unwrap();
    page.wait_for("location.pathname === '/customers'", wait)
        .unwrap();
    page.wait_for("document.readyState === 'complete'", wait)
        .unwrap();
    assert!(!page.text("body").unwrap().contains("杭州云峰科技"));
    page.goto(&format!("{base}/customers/recycle-bin")).unwrap();
    assert!(page.text("#record-list").unwrap().contains("杭州云峰科技"));
    shot(&mut page, "05-recycle-bin");
    page.click_and_wait_navigation("#record-list button[formaction$='/restore']")
        .unwrap();
    assert_eq!(page.text("h1").unwrap(), "杭州云峰科技");

    // Previous / next inside a filtered, sorted list.
    for name in ["甲方一号", "甲方二号", "甲方三号", "乙方"] {
        page.goto(&format!("{base}/customers/new")).unwrap();
        page.fill("input[name=name]", name).unwrap();
        page.submit_and_wait("#record-form").unwrap();
    }
    page.goto(&format!("{base}/customers?q=甲方&sort=name&order=asc"))
        .unwrap();
    let names = page.eval("[...document.querySelectorAll('#record-list tbody tr td:nth-child(2) a')].map(a => a.textContent)").unwrap();
    assert_eq!(
        names,
        serde_json::json!(["甲方一号", "甲方三号", "甲方二号"])
    );
    page.click_and_wait_navigation("#record-list tbody tr:first-child td:nth-child(2) a")
        .unwrap();
    assert_eq!(page.text("h1").unwrap(), "甲方一号");
    assert!(!page.exists("#prev-record"), "first of the list");
    page.click_and_wait_navigation("#next-record").unwrap();
    assert_eq!(page.text("h1").unwrap(), "甲方三号");
    page.click_and_wait_navigation("#next-record").unwrap();
    assert_eq!(page.text("h1").unwrap(), "甲方二号");
    assert!(!page.exists("#next-record"), "乙方 is outside the filter");
    page.click_and_wait_navigation("#prev-record").unwrap();
    assert_eq!(page.text("h1").unwrap(), "甲方三号");
    shot(&mut page, "06-prev-next");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_with_contacts_edit_lock_history_bin_and_navigation() {
    if find_chromium().is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is required in CI"
        );
        return;
    }
    let app = TestApp::spawn(guanxi_store::Backend::Sqlite).await;
    let base = app.base.clone();
    tokio::task::spawn_blocking(move || walk(&base))
        .await
        .unwrap();
    app.finish().await;
}

/// An administrator adds a custom field; it shows in the form, the list, a filter and the detail
/// page at once; the list is filtered, its columns chosen and the view saved.
fn custom_field_walk(base: &str) {
    let wait = Duration::from_secs(10);
    let mut browser = Browser::launch().unwrap();
    let mut page = browser.new_page().unwrap();
    page.sign_in(base, "admin", ADMIN_PASSWORD).unwrap();

    page.goto(&format!("{base}/admin/fields?module=customers"))
        .unwrap();
    page.fill("#new-field input[name=label_zh]", "合同编号")
        .unwrap();
    page.fill("#new-field input[name=label_en]", "Contract no")
        .unwrap();
    page.fill("#new-field select[name=kind]", "text").unwrap();
    page.eval("document.querySelector('#new-field input[name=indexed]').checked = true")
        .unwrap();
    page.submit_and_wait("#new-field").unwrap();
    assert!(page.text("#field-list").unwrap().contains("cf_contract_no"));
    shot(&mut page, "07-custom-field");

    for (name, no) in [
        ("宁波一号", "HT-001"),
        ("宁波二号", "HT-002"),
        ("宁波三号", ""),
    ] {
        page.goto(&format!("{base}/customers/new")).unwrap();
        assert!(
            page.exists("input[name=cf_contract_no]"),
            "the new field is in the form"
        );
        page.fill("input[name=name]", name).unwrap();
        page.fill("input[name=cf_contract_no]", no).unwrap();
        page.submit_and_wait("#record-form").unwrap();
    }
    assert_eq!(page.text("#field-cf_contract_no dt").unwrap(), "合同编号");
    page.goto(&format!("{base}/customers")).unwrap();
    let head = page.text("#record-list thead").unwrap();
    assert!(
        head.contains("合同编号"),
        "the new field is a list column: {head}"
    );

    // Filter on the custom field through the filter builder; a chip shows the condition.
    page.eval("document.querySelector('.filter-builder').open = true")
        .unwrap();
    page.fill(
        ".filter-row:first-child select[name=cond_field]",
        "cf_contract_no",
    )
    .unwrap();
    // The operators follow the field's kind: a text field cannot be "greater than".
    let gt = page
        .eval("document.querySelector('.filter-row:first-child select[name=cond_op] option[value=gt]').disabled")
        .unwrap();
    assert_eq!(gt, serde_json::json!(true));
    page.fill(".filter-row:first-child select[name=cond_op]", "eq")
        .unwrap();
    page.fill(".filter-row:first-child .filter-value input", "HT-002")
        .unwrap();
    page.submit_and_wait("#list-filter").unwrap();
    let rows = page
        .eval("[...document.querySelectorAll('#record-list tbody tr')].map(r => r.textContent)")
        .unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
    assert!(
        page.text("#filter-chips")
            .unwrap()
            .contains("合同编号 等于 HT-002")
    );
    shot(&mut page, "08-filtered");

    // Save it as a view; it becomes a tab.
    page.eval("document.querySelector('.save-view').open = true")
        .unwrap();
    page.fill("#save-view input[name=view_name]", "二号合同")
        .unwrap();
    page.submit_and_wait("#save-view").unwrap();
    page.wait_for(
        "document.querySelector('.tabs.views a.active') !== null",
        wait,
    )
    .unwrap();
    assert_eq!(
        page.text(".tabs.views a.active").unwrap().trim(),
        "二号合同"
    );
    assert_eq!(
        page.eval("document.querySelectorAll('#record-list tbody tr').length")
            .unwrap(),
        1
    );
    page.goto(&format!("{base}/customers")).unwrap();
    assert_eq!(
        page.eval("document.querySelectorAll('#record-list tbody tr').length")
            .unwrap(),
        3
    );
    page.click_and_wait_navigation(".tabs.views a:nth-child(2)")
        .unwrap();
    assert_eq!(
        page.eval("document.querySelectorAll('#record-list tbody tr').length")
            .unwrap(),
        1
    );
    shot(&mut page, "09-view");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_field_in_form_list_filter_detail_and_saved_view() {
    if find_chromium().is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is required in CI"
        );
        return;
    }
    let app = TestApp::spawn(guanxi_store::Backend::Sqlite).await;
    let base = app.base.clone();
    tokio::task::spawn_blocking(move || custom_field_walk(&base))
        .await
        .unwrap();
    app.finish().await;
}
