//! Public pools in headless chromium, on every database under test: an administrator sets up a
//! pool for a department in 公海设置 (a refused number shown next to its field first); salesperson
//! A releases a customer (放入公海) with a reason; salesperson B finds it in 公海, opens it (the
//! ownership timeline names the reason) and claims it with a check box and 领取 — and owns it;
//! a second claim breaks the pool's daily limit and says so.
//! B's appointment set through the API shows in 计划任务 on its day only, and the follow-up in
//! 新增来电.

mod common;

use std::time::Duration;

use chrono::{TimeZone, Utc};
use common::{ADMIN_PASSWORD, Api, TestApp, backends};
use guanxi_browser::{Browser, Page, artifacts_dir, find_chromium};
use guanxi_store::Backend;
use serde_json::json;
use tokio::runtime::Handle;

fn shot(page: &mut Page, backend: Backend, name: &str) {
    let db = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    page.screenshot(&artifacts_dir().join(format!("pools-{db}-{name}.png")))
        .unwrap();
}

fn login(page: &mut Page, base: &str, user: &str, password: &str) {
    page.clear_cookies().unwrap();
    page.sign_in(base, user, password).unwrap();
}

/// What the walk needs from the set-up done through the API.
struct Setup {
    backend: Backend,
    base: String,
    customer: i64,
    /// A second customer of A's, released through the API once the pool exists.
    second: i64,
    li_id: i64,
    li: Api,
    zhang: Api,
}

fn walk(s: Setup, rt: Handle) {
    let (base, backend, id) = (s.base.as_str(), s.backend, s.customer);
    let wait = Duration::from_secs(10);
    let mut browser = Browser::launch().unwrap();
    let mut page = browser.new_page().unwrap();

    // The administrator creates the pool; a negative number is refused next to its field.
    login(&mut page, base, "admin", ADMIN_PASSWORD);
    page.goto(&format!("{base}/admin/pools")).unwrap();
    assert!(page.exists("#sidebar a[href='/admin/pools']"));
    page.click_and_wait_navigation("#new-pool").unwrap();
    page.fill("#pool-form input[name=name]", "华东公海")
        .unwrap();
    page.fill("#pool-form input[name=fall_back_days]", "-5")
        .unwrap();
    page.eval(
        "const f = document.getElementById('pool-form'); f.noValidate = true;
         const d = [...f.querySelectorAll('select[name=departments] option')].find(o => o.textContent.includes('华东'));
         d.selected = true;",
    )
    .unwrap();
    page.submit_and_wait("#pool-form").unwrap();
    let refused = page
        .text("label:has(input[name=fall_back_days]) .field-error")
        .unwrap();
    assert!(refused.contains("数字"), "{refused}");
    assert!(
        page.eval("document.querySelector('select[name=departments] option:checked').textContent")
            .unwrap()
            .as_str()
            .unwrap()
            .contains("华东"),
        "the chosen department stays chosen"
    );
    page.fill("#pool-form input[name=fall_back_days]", "30")
        .unwrap();
    page.fill("#pool-form input[name=max_claims_per_day]", "1")
        .unwrap();
    page.submit_and_wait("#pool-form").unwrap();
    assert_eq!(page.text(".toast").unwrap(), "已创建");
    let row = page.text("#pool-list tbody tr").unwrap();
    assert!(
        row.contains("华东公海") && row.contains("华东") && row.contains("30 天未跟进"),
        "{row}"
    );
    shot(&mut page, backend, "01-settings");

    // Salesperson A releases the customer with a reason (the route the detail panel posts to).
    login(&mut page, base, "zhang", "password-123");
    assert!(
        !page.exists("#sidebar a[href='/admin/pools']"),
        "pool settings are for those who manage pools"
    );
    page.goto(&format!("{base}/customers/{id}")).unwrap();
    page.eval(&format!(
        "const f = document.createElement('form'); f.method = 'post'; f.action = '/customers/{id}/release';
         const i = document.createElement('input'); i.name = 'reason'; i.value = 'no_need';
         f.appendChild(i); document.body.appendChild(f); f.submit();"
    ))
    .unwrap();
    page.wait_for("location.pathname === '/customers'", wait)
        .unwrap();
    page.wait_for("document.readyState === 'complete'", wait)
        .unwrap();
    assert_eq!(page.text(".toast").unwrap(), "已放入公海");
    let path = format!("/api/v1/customers/{}/release", s.second);
    rt.block_on(
        s.zhang
            .ok("POST", &path, Some(json!({"reason": "workload"}))),
    );

    // Salesperson B sees it in the pool, opens it, and claims it.
    login(&mut page, base, "li", "password-123");
    page.click_and_wait_navigation("#sidebar a[href='/pools']")
        .unwrap();
    assert_eq!(
        page.text("#pool-tabs a[aria-current]").unwrap().trim(),
        "华东公海"
    );
    let row = format!("#pool-customers tr[data-id='{id}']");
    assert!(page.text(&row).unwrap().contains("公海测试客户"));
    page.click_and_wait_navigation(&format!("{row} td:nth-child(2) a"))
        .unwrap();
    assert_eq!(page.text("h1").unwrap(), "公海测试客户");
    let timeline = page.text("#ownership-timeline").unwrap();
    assert!(
        timeline.contains("放入公海") && timeline.contains("客户暂无需求"),
        "{timeline}"
    );
    shot(&mut page, backend, "02-pool-customer");
    page.goto(&format!("{base}/pools?q=公海测试")).unwrap();
    page.click(&format!("{row} input[name=ids]")).unwrap();
    page.wait_for(
        "document.getElementById('bulk-form').classList.contains('has-selection')",
        wait,
    )
    .unwrap();
    shot(&mut page, backend, "03-selected");
    page.click_and_wait_navigation("#claim-selected").unwrap();
    assert_eq!(page.text(".toast").unwrap(), "已领取 1 个客户");
    assert!(!page.exists(&row), "claimed: no longer in the pool");
    // A second claim the same day breaks the pool's limit: said above the list, in words.
    let second = format!("#pool-customers tr[data-id='{}']", s.second);
    page.click(&format!("{second} input[name=ids]")).unwrap();
    page.click_and_wait_navigation("#claim-selected").unwrap();
    let refused = page.text("#pool-error").unwrap();
    assert!(refused.contains("已达上限（1 个）"), "{refused}");
    assert!(page.exists(&second), "still in the pool");
    let owned = rt.block_on(s.li.ok("GET", &format!("/api/v1/customers/{id}"), None));
    assert_eq!(owned["owner_id"], s.li_id, "{owned}");

    // An appointment today (where li is) shows in 计划任务, not the day before.
    let tz = chrono_tz::Asia::Shanghai;
    let today = Utc::now().with_timezone(&tz).date_naive();
    let visit = tz
        .from_local_datetime(&today.and_hms_opt(10, 30, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc);
    let fu = rt.block_on(s.li.ok(
        "POST",
        "/api/v1/follow_ups",
        Some(
            json!({"customer_id": id, "kind": "call", "at": Utc::now().to_rfc3339(),
            "content": "约好上门演示", "next_visit_at": visit.to_rfc3339()}),
        ),
    ));
    page.click_and_wait_navigation("#sidebar a[href='/tasks']")
        .unwrap();
    let task = page
        .text(&format!("#task-list tr[data-follow-up='{}']", fu["id"]))
        .unwrap();
    assert!(
        task.contains("10:30") && task.contains("公海测试客户") && task.contains("待拜访"),
        "{task}"
    );
    shot(&mut page, backend, "04-tasks");
    page.click_and_wait_navigation("#prev-day").unwrap();
    assert!(page.exists("#no-tasks"), "nothing the day before");
    page.goto(&format!("{base}/incoming")).unwrap();
    assert!(
        page.text("#incoming-follow-ups")
            .unwrap()
            .contains("约好上门演示")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_set_up_release_claim_and_tasks() {
    if find_chromium().is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is required in CI"
        );
        return;
    }
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin().await;
        let sales = admin.role_id("sales").await;
        let east = admin.department("华东", None).await;
        admin.user("zhang", Some(east), &[sales]).await;
        let li_id = admin.user("li", Some(east), &[sales]).await;
        let zhang = app.api("zhang", "password-123").await;
        let customer = zhang
            .ok(
                "POST",
                "/api/v1/customers",
                Some(json!({"name": "公海测试客户", "phone": "13811112222"})),
            )
            .await["id"]
            .as_i64()
            .unwrap();
        let second = zhang
            .ok(
                "POST",
                "/api/v1/customers",
                Some(json!({"name": "公海测试二号"})),
            )
            .await["id"]
            .as_i64()
            .unwrap();
        let setup = Setup {
            backend,
            base: app.base.clone(),
            customer,
            li_id,
            li: app.api("li", "password-123").await,
            zhang,
            second,
        };
        let rt = Handle::current();
        tokio::task::spawn_blocking(move || walk(setup, rt))
            .await
            .unwrap();
        app.finish().await;
    }
}
