//! Live notifications in headless chromium, on every database under test: with a page open, a
//! notification written for the user (as another server instance would, straight into the
//! database) turns the bell's badge to 1 and shows a toast without a reload; the notifications
//! page marks it read.

mod common;

use std::time::Duration;

use common::{ADMIN_PASSWORD, TestApp, backends};
use guanxi_browser::{Browser, Page, artifacts_dir, find_chromium};
use guanxi_store::{Backend, Db};
use serde_json::json;

fn shot(page: &mut Page, backend: Backend, name: &str) {
    let db = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    page.screenshot(&artifacts_dir().join(format!("notifications-{db}-{name}.png")))
        .unwrap();
}

async fn add(db: &Db, user: i64, customer: &str) -> i64 {
    let mut tx = db.begin().await.unwrap();
    let id = guanxi_store::notifications::add(
        &mut tx,
        user,
        "transfer",
        &json!({ "customer": customer, "by": "王经理" }),
        Some("/customers"),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

fn walk(base: &str, db: Db, admin_id: i64, backend: Backend, rt: tokio::runtime::Handle) {
    let wait = Duration::from_secs(15);
    let mut browser = Browser::launch().unwrap();
    let mut page = browser.new_page().unwrap();
    page.sign_in(base, "admin", ADMIN_PASSWORD).unwrap();
    page.goto(&format!("{base}/customers")).unwrap();
    assert!(page.exists("#bell-count[hidden]"), "no unread yet");
    // The feed is open once the bell says so; what is written now must arrive live.
    page.wait_for("document.getElementById('bell').dataset.live === '1'", wait)
        .unwrap();

    let id = rt.block_on(add(&db, admin_id, "杭州云峰科技"));
    page.wait_for(
        "!document.getElementById('bell-count').hidden && document.getElementById('bell-count').textContent === '1'",
        wait,
    )
    .unwrap();
    page.wait_for("document.getElementById('notice-toast') !== null", wait)
        .unwrap();
    let toast = page.text("#notice-toast").unwrap();
    assert!(
        toast.contains("王经理 把客户“杭州云峰科技”转给了你。"),
        "{toast}"
    );
    let href = page
        .eval("document.querySelector('#notice-toast a').getAttribute('href')")
        .unwrap();
    assert_eq!(href, json!(format!("/notifications/{id}/open")));
    assert_eq!(
        page.eval("document.getElementById('bell').getAttribute('aria-label')")
            .unwrap(),
        json!("通知（1 条未读）")
    );
    assert_eq!(page.url(), format!("{base}/customers"), "no reload");
    shot(&mut page, backend, "01-toast");

    // The bell leads to the list, where it is unread; mark it read.
    page.click_and_wait_navigation("#bell").unwrap();
    assert!(page.exists(&format!("#notification-{id}.unread")));
    assert_eq!(page.text("#bell-count").unwrap(), "1");
    shot(&mut page, backend, "02-list");
    page.submit_and_wait(&format!("#notification-{id} form"))
        .unwrap();
    assert_eq!(page.text(".toast").unwrap(), "已标为已读");
    assert!(page.exists(&format!("#notification-{id}:not(.unread)")));
    assert!(page.exists("#bell-count[hidden]"));
    assert!(!page.exists("#read-all"), "nothing left to mark");

    // Two more arrive while the list is open; 全部标为已读 clears them.
    page.wait_for("document.getElementById('bell').dataset.live === '1'", wait)
        .unwrap();
    rt.block_on(add(&db, admin_id, "宁波海港"));
    rt.block_on(add(&db, admin_id, "温州鞋业"));
    page.wait_for(
        "document.getElementById('bell-count').textContent === '2'",
        wait,
    )
    .unwrap();
    page.goto(&format!("{base}/notifications")).unwrap();
    page.submit_and_wait("#read-all").unwrap();
    assert_eq!(page.text(".toast").unwrap(), "已全部标为已读");
    assert!(!page.exists(".notice.unread"));
    assert!(page.exists("#bell-count[hidden]"));
    shot(&mut page, backend, "03-all-read");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bell_badge_and_toast_update_live() {
    if find_chromium().is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is required in CI"
        );
        return;
    }
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let admin_id = app.admin().await.ok("GET", "/api/v1/me", None).await["id"]
            .as_i64()
            .unwrap();
        let (base, db) = (app.base.clone(), app.db.clone());
        let rt = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || walk(&base, db, admin_id, backend, rt))
            .await
            .unwrap();
        app.finish().await;
    }
}
