//! Import and export in headless chromium, on every database under test: a CSV of customers
//! with bad rows is uploaded, mapped, checked, corrected in the grid, imported and reverted; the
//! list's export link carries its filter, and its print view shows the same rows.

mod common;

use std::time::Duration;

use common::{ADMIN_PASSWORD, TestApp};
use guanxi_browser::{Browser, Page, artifacts_dir, find_chromium};
use guanxi_store::Backend;
use serde_json::json;

fn shot(page: &mut Page, backend: Backend, name: &str) {
    let db = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    page.screenshot(&artifacts_dir().join(format!("import-{db}-{name}.png")))
        .unwrap();
}

/// The application (its job runner runs the imports in the background).
struct WithJobs {
    app: TestApp,
}

async fn spawn(backend: Backend) -> WithJobs {
    WithJobs {
        app: TestApp::spawn(backend).await,
    }
}

impl WithJobs {
    async fn finish(self) {
        self.app.finish().await;
    }
}

fn chromium_missing() -> bool {
    if find_chromium().is_some() {
        return false;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "chromium is required in CI"
    );
    true
}

fn sign_in(base: &str) -> (Browser, Page) {
    let mut browser = Browser::launch().unwrap();
    let mut page = browser.new_page().unwrap();
    page.sign_in(base, "admin", ADMIN_PASSWORD).unwrap();
    (browser, page)
}

const CSV: &str = "客户名称,客户类型,电话,地址
导入测试甲公司,潜在客户,0571-88880001,杭州市西湖区
导入测试乙公司,,0571-88880002,
导入测试丙公司,A 类（重点）,0571-88880003,
导入测试丁公司,,12ab,
导入测试戊公司,不存在的类型,0571-88880005,
导入测试甲公司,,0571-88880006,
";

fn row_text(page: &mut Page, line: i64) -> String {
    page.text(&format!("#row-{line}")).unwrap()
}

fn state_is(state: &str) -> String {
    format!(
        "document.getElementById('import-state') && document.getElementById('import-state').dataset.state === '{state}'"
    )
}

fn import_walk(base: &str, backend: Backend, csv_path: &std::path::Path) {
    let long = Duration::from_secs(30);
    let (_browser, mut page) = sign_in(base);

    // From the list to the import page; upload the file.
    page.goto(&format!("{base}/customers")).unwrap();
    page.click_and_wait_navigation("#import-records").unwrap();
    assert_eq!(page.text("h1").unwrap(), "导入客户");
    assert!(page.exists("#template-xlsx") && page.exists("#template-csv"));
    shot(&mut page, backend, "01-upload");

    // A file that cannot be read is refused next to the file input.
    let empty = csv_path.with_file_name("empty.csv");
    std::fs::write(&empty, "").unwrap();
    page.set_input_files("#import-upload input[type=file]", &[&empty])
        .unwrap();
    page.click("#upload-button").unwrap();
    page.wait_for(
        "document.getElementById('upload-error').textContent !== ''",
        long,
    )
    .unwrap();
    assert_eq!(
        page.text("#upload-error").unwrap(),
        "文件是空的，或者没有表头行。"
    );
    assert!(page.exists("#import-upload input[type=file][aria-invalid=true]"));
    shot(&mut page, backend, "01b-upload-error");

    page.set_input_files("#import-upload input[type=file]", &[csv_path])
        .unwrap();
    page.click("#upload-button").unwrap();
    page.wait_for(
        "location.pathname.startsWith('/imports/') && document.readyState === 'complete' && !!document.getElementById('mapping-table')",
        long,
    )
    .unwrap();
    let import_url = page.url();

    // The headers are the fields' labels, so the mapping is already there.
    let mapping = page
        .eval("[...document.querySelectorAll('#mapping-table select')].map(s => s.value)")
        .unwrap();
    assert_eq!(
        mapping,
        json!(["name", "customer_type", "phone", "address"])
    );
    assert!(page.exists("#mapping[open]"), "mapping shows first");
    shot(&mut page, backend, "02-mapping");

    // The dry run: three rows fail, each reason under its cell.
    page.click_and_wait_navigation("#run-check").unwrap();
    page.wait_for(&state_is("validated"), long).unwrap();
    assert_eq!(page.text("#count-total").unwrap(), "6");
    assert_eq!(page.text("#count-errors").unwrap(), "3");
    assert_eq!(
        page.eval("document.querySelectorAll('#error-grid tbody tr').length")
            .unwrap(),
        json!(3)
    );
    let bad_phone = row_text(&mut page, 5);
    assert!(bad_phone.contains("电话号码格式不正确"), "{bad_phone}");
    assert!(page.exists("#row-5 td.bad input[value='12ab']"));
    let bad_type = row_text(&mut page, 6);
    assert!(bad_type.contains("不是可选的值"), "{bad_type}");
    let twice = row_text(&mut page, 7);
    assert!(twice.contains("与文件第 2 行重复"), "{twice}");
    shot(&mut page, backend, "03-check");
    page.set_viewport(390, 844, true).unwrap();
    page.wait_for(
        "getComputedStyle(document.getElementById('sidebar')).visibility === 'hidden'",
        long,
    )
    .unwrap();
    shot(&mut page, backend, "03b-check-phone");
    page.set_viewport(1280, 800, false).unwrap();

    // Two rows corrected in the grid, saved in place.
    page.fill("#row-5 td.bad input", "0571-88880004").unwrap();
    page.click("#row-5 .row-fix button").unwrap();
    page.wait_for(
        "document.querySelector('#row-5 .row-status').textContent === '已修正'",
        long,
    )
    .unwrap();
    assert!(!page.exists("#row-5 td.bad"));
    // A wrong correction shows the reason again, a right one passes.
    page.fill("#row-6 td.bad input", "还是不存在").unwrap();
    page.click("#row-6 .row-fix button").unwrap();
    page.wait_for("document.querySelector('#row-6 td.bad .cell-error') !== null && document.querySelector('#row-6 input').form.querySelector('button').disabled === false", long)
        .unwrap();
    assert!(page.exists("#row-6 td.bad input[list]"), "options offered");
    page.fill("#row-6 td.bad input", "B 类（普通）").unwrap();
    page.click("#row-6 .row-fix button").unwrap();
    page.wait_for(
        "document.querySelector('#row-6 .row-status').textContent === '已修正'",
        long,
    )
    .unwrap();
    assert!(!row_text(&mut page, 7).contains("已修正"));
    shot(&mut page, backend, "04-fixed");

    // The import: live progress, then the results.
    page.click_and_wait_navigation("#continue-import").unwrap();
    page.wait_for(&state_is("done"), long).unwrap();
    assert_eq!(page.text("#count-created").unwrap(), "5");
    assert_eq!(page.text("#count-errors").unwrap(), "1");
    assert!(page.exists("#error-file"));
    let grid = page.text("#error-grid").unwrap();
    assert!(grid.contains("已导入"), "{grid}");
    shot(&mut page, backend, "05-done");

    page.goto(&format!("{base}/customers?q=导入测试")).unwrap();
    let names = page
        .eval("[...document.querySelectorAll('#record-list tbody tr td:nth-child(2) a')].map(a => a.textContent).sort()")
        .unwrap();
    assert_eq!(
        names,
        json!([
            "导入测试丁公司",
            "导入测试丙公司",
            "导入测试乙公司",
            "导入测试戊公司",
            "导入测试甲公司"
        ])
    );
    let list = page.text("#record-list").unwrap();
    assert!(list.contains("057188880004"), "{list}");
    assert!(list.contains("B 类（普通）"), "{list}");
    shot(&mut page, backend, "06-list");

    // Revert, after a confirmation naming the file.
    page.goto(&import_url).unwrap();
    page.click("#revert-import").unwrap();
    page.wait_for(
        "document.querySelector('dialog.confirm[open]') !== null",
        long,
    )
    .unwrap();
    assert!(
        page.text("dialog.confirm")
            .unwrap()
            .contains("customers.csv")
    );
    shot(&mut page, backend, "07-revert-confirm");
    page.click_and_wait_navigation("dialog.confirm [value=ok]")
        .unwrap();
    page.wait_for(&state_is("reverted"), long).unwrap();
    assert_eq!(page.text("#count-reverted").unwrap(), "5");
    assert!(!page.exists("#revert-import"));
    shot(&mut page, backend, "08-reverted");

    page.goto(&format!("{base}/customers?q=导入测试")).unwrap();
    assert!(!page.exists("#record-list"), "the list is empty again");
    page.goto(&format!("{base}/customers/recycle-bin?q=导入测试"))
        .unwrap();
    assert_eq!(
        page.eval("document.querySelectorAll('#record-list tbody tr').length")
            .unwrap(),
        json!(5)
    );

    // The import page lists the import with its figures.
    page.goto(&format!("{base}/customers/import")).unwrap();
    let recent = page.text("#recent-imports").unwrap();
    assert!(
        recent.contains("customers.csv") && recent.contains("已撤销"),
        "{recent}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn csv_upload_check_fix_import_and_revert() {
    if chromium_missing() {
        return;
    }
    for backend in common::backends() {
        let env = spawn(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("customers.csv");
        std::fs::write(&csv, CSV).unwrap();
        let base = env.app.base.clone();
        tokio::task::spawn_blocking(move || import_walk(&base, backend, &csv))
            .await
            .unwrap();
        env.finish().await;
    }
}

/// The list's export link and print view carry its filter, sort and columns.
fn export_walk(base: &str, backend: Backend) -> String {
    let (_browser, mut page) = sign_in(base);
    page.goto(&format!(
        "{base}/customers?f.customer_type.eq=a&sort=name&order=asc&cols=customer_type,phone"
    ))
    .unwrap();
    assert_eq!(
        page.eval("document.querySelectorAll('#record-list tbody tr').length")
            .unwrap(),
        json!(3)
    );
    page.click("#export-menu summary").unwrap();
    shot(&mut page, backend, "10-export-menu");
    let href = page
        .eval("document.getElementById('export-csv').getAttribute('href')")
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        page.eval(
            "document.getElementById('export-xlsx').getAttribute('href').includes('format=xlsx')"
        )
        .unwrap()
            == json!(true)
    );

    // The print view: the same three rows, the chosen columns, a print button.
    let print = page
        .eval("document.getElementById('print-list').href")
        .unwrap();
    page.goto(print.as_str().unwrap()).unwrap();
    assert_eq!(
        page.eval("document.querySelectorAll('#print-table tbody tr').length")
            .unwrap(),
        json!(3)
    );
    assert_eq!(
        page.eval(
            "[...document.querySelectorAll('#print-table thead th')].map(t => t.textContent)"
        )
        .unwrap(),
        json!(["客户名称", "客户类型", "电话", "负责人", "更新时间"])
    );
    assert!(!page.exists(".sidebar"));
    assert_eq!(
        page.eval("getComputedStyle(document.getElementById('print-now')).display !== 'none'")
            .unwrap(),
        json!(true)
    );
    shot(&mut page, backend, "11-print");

    // A record's page prints its detail zones; the button shows where the script runs.
    page.goto(&format!("{base}/customers?q=导出甲")).unwrap();
    page.click_and_wait_navigation("#record-list tbody tr td:nth-child(2) a")
        .unwrap();
    assert_eq!(
        page.eval("document.getElementById('print-record').hidden")
            .unwrap(),
        json!(false)
    );
    href
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn export_link_and_print_view_follow_the_list_filter() {
    if chromium_missing() {
        return;
    }
    for backend in common::backends() {
        let env = spawn(backend).await;
        let api = env.app.admin().await;
        for (name, kind) in [
            ("导出甲", "a"),
            ("导出乙", "a"),
            ("导出丙", "a"),
            ("导出丁", "b"),
            ("导出戊", "prospect"),
        ] {
            api.ok(
                "POST",
                "/api/v1/customers",
                Some(json!({ "name": name, "customer_type": kind })),
            )
            .await;
        }
        let base = env.app.base.clone();
        let href = tokio::task::spawn_blocking(move || export_walk(&base, backend))
            .await
            .unwrap();
        assert!(href.starts_with("/api/v1/customers/export?"), "{href}");
        assert!(href.contains("format=csv"), "{href}");
        assert!(href.contains("f.customer_type.eq=a"), "{href}");
        assert!(
            href.contains("columns=name%2Ccustomer_type%2Cphone"),
            "{href}"
        );

        let r = api
            .client
            .get(format!("{}{href}", env.app.base))
            .bearer_auth(&api.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let bytes = r.bytes().await.unwrap();
        assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "a BOM for Excel");
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        // The list's columns, then the owner and the time of the last change it always shows.
        assert_eq!(lines[0], "客户名称,客户类型,电话,负责人,更新时间", "{text}");
        assert_eq!(lines.len(), 4, "{text}");
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("导出丙,A 类（重点）,,系统管理员,")),
            "{text}"
        );
        env.finish().await;
    }
}

/// Without JavaScript: the upload, a refused file, the mapping (a column mapped twice is refused
/// on the page), the dry run and a corrected row, all as plain forms.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn import_forms_work_without_javascript() {
    for backend in common::backends() {
        let env = spawn(backend).await;
        let app = &env.app;
        let api = app.admin().await;
        let web = app.browser_client();
        let r = web
            .post(app.url("/login"))
            .form(&[("username", "admin"), ("password", ADMIN_PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let upload = |name: &'static str, body: &'static str| {
            let part = reqwest::multipart::Part::bytes(body.as_bytes().to_vec()).file_name(name);
            web.post(app.url("/customers/import"))
                .multipart(reqwest::multipart::Form::new().part("file", part))
                .send()
        };

        let r = upload("empty.csv", "").await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.text().await.unwrap().contains("文件是空的"));

        let r = upload("customers.csv", CSV).await.unwrap();
        assert_eq!(r.status(), 303);
        let page = r.headers()["location"].to_str().unwrap().to_owned();
        let id: i64 = page.trim_start_matches("/imports/").parse().unwrap();
        let html = web
            .get(app.url(&page))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains(r#"<option value="customer_type" selected>"#),
            "{html}"
        );

        let mapping = |cols: [&'static str; 4]| {
            let mut form: Vec<(&str, &str)> = cols.iter().map(|c| ("col", *c)).collect();
            form.extend([("on_duplicate", "skip"), ("go", "check")]);
            web.post(app.url(&format!("/imports/{id}/mapping")))
                .form(&form)
                .send()
        };
        let r = mapping(["name", "name", "phone", ""]).await.unwrap();
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(
            html.contains(r#"id="import-error""#) && html.contains("对应了多列"),
            "{html}"
        );

        let r = mapping(["name", "customer_type", "phone", "address"])
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let mut state = String::new();
        for _ in 0..300 {
            state = api.ok("GET", &format!("/api/v1/imports/{id}"), None).await["state"]
                .as_str()
                .unwrap()
                .to_owned();
            if state == "validated" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(state, "validated");
        let html = web
            .get(app.url(&page))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(html.matches(r#"class="row-fix""#).count(), 3, "{html}");
        assert!(html.contains("电话号码格式不正确"));

        let cells = [
            ("cell", "导入测试丁公司"),
            ("cell", ""),
            ("cell", "0571-88880004"),
            ("cell", ""),
            ("after", "0"),
        ];
        let r = web
            .post(app.url(&format!("/imports/{id}/rows/5")))
            .form(&cells)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let back = r.headers()["location"].to_str().unwrap().to_owned();
        assert!(back.contains("ok=flash-import-row-fixed"), "{back}");
        let html = web
            .get(app.url(&back))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains(r#"<tr id="row-5" data-line="5" class="fixed">"#),
            "{html}"
        );
        env.finish().await;
    }
}
