//! Browser tests in Debian's headless chromium: first login, switching language, creating a
//! department and a user with a role, signing in as that user and seeing only the allowed menu,
//! and a refused action with a clear message. Screenshots of each step go to `test-artifacts/`.
//! Under CI a missing browser fails the test; elsewhere it is skipped with a note.

mod common;

use std::time::Duration;

use common::{ADMIN_PASSWORD, TestApp, backends};
use guanxi_browser::{Browser, Page, artifacts_dir, find_chromium};

fn browser_available() -> bool {
    if find_chromium().is_some() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "chromium is required in CI: apt-get install -y chromium"
    );
    eprintln!(
        "note: chromium not found; browser tests skipped (install the Debian package chromium)"
    );
    false
}

fn shot(page: &mut Page, name: &str) {
    page.screenshot(&artifacts_dir().join(format!("{name}.png")))
        .unwrap();
}

fn menu_labels(page: &mut Page) -> Vec<String> {
    let v = page.eval("[...document.querySelectorAll('.sidebar .menu-item span')].map(e => e.textContent.trim())").unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_owned())
        .collect()
}

fn login(page: &mut Page, base: &str, user: &str, password: &str) {
    page.goto(&format!("{base}/")).unwrap();
    page.wait_for_selector("#login-form").unwrap();
    page.fill("input[name=username]", user).unwrap();
    page.fill("input[name=password]", password).unwrap();
    page.submit_and_wait("#login-form").unwrap();
}

fn walk(base: &str, tag: &str) {
    let mut browser = Browser::launch().unwrap();
    let mut page = browser.new_page().unwrap();
    let wait = Duration::from_secs(10);

    // First login: redirected to sign-in, in Chinese by default.
    page.goto(&format!("{base}/admin/users")).unwrap();
    assert!(page.url().contains("/login?next="), "{}", page.url());
    assert_eq!(page.text("button[type=submit]").unwrap(), "登录");
    page.fill("input[name=username]", "admin").unwrap();
    page.fill("input[name=password]", "wrong-password").unwrap();
    page.submit_and_wait("#login-form").unwrap();
    assert_eq!(page.text("#login-error").unwrap(), "用户名或密码不正确。");
    shot(&mut page, &format!("{tag}-01-login-error"));
    page.fill("input[name=password]", ADMIN_PASSWORD).unwrap();
    page.submit_and_wait("#login-form").unwrap();
    assert!(
        page.url().ends_with("/admin/users"),
        "back where the user was going: {}",
        page.url()
    );
    assert_eq!(page.text("h1").unwrap(), "用户管理");
    shot(&mut page, &format!("{tag}-02-users"));

    // Switching language, remembered for the user.
    page.click_and_wait_navigation(".lang-switch button[value=en]")
        .unwrap();
    assert_eq!(
        page.text("h1").unwrap(),
        "Users",
        "the switch returns to the same page"
    );
    page.goto(&format!("{base}/admin/departments")).unwrap();
    assert_eq!(page.text("h1").unwrap(), "Departments");
    shot(&mut page, &format!("{tag}-03-english"));
    page.click_and_wait_navigation(".lang-switch button[value=zh-CN]")
        .unwrap();
    assert_eq!(page.text("h1").unwrap(), "部门管理");

    // A department.
    page.goto(&format!("{base}/admin/departments")).unwrap();
    page.fill("#new-department input[name=name]", "华东销售部")
        .unwrap();
    page.submit_and_wait("#new-department").unwrap();
    page.wait_for("document.querySelector('.toast') !== null", wait)
        .unwrap();
    assert_eq!(page.text(".toast").unwrap(), "已创建");
    assert!(
        page.text("#department-tree")
            .unwrap()
            .contains("华东销售部")
    );
    shot(&mut page, &format!("{tag}-04-department"));

    // A user in it, with the salesperson role.
    page.goto(&format!("{base}/admin/users")).unwrap();
    page.click_and_wait_navigation("#new-user").unwrap();
    page.fill("input[name=username]", "wang.wu").unwrap();
    page.fill("input[name=display_name]", "王五").unwrap();
    page.fill("input[name=mobile]", "138 0013 8000").unwrap();
    page.fill("input[name=password]", "password-123").unwrap();
    page.eval(
        "const o = [...document.querySelectorAll('select[name=department_id] option')].find(o => o.textContent.includes('华东销售部'));
         document.querySelector('select[name=department_id]').value = o.value;
         [...document.querySelectorAll('fieldset.roles label')].find(l => l.textContent.trim() === '销售').querySelector('input').checked = true;",
    )
    .unwrap();
    shot(&mut page, &format!("{tag}-05-user-form"));
    page.submit_and_wait("#user-form").unwrap();
    assert_eq!(page.text(".toast").unwrap(), "已创建");
    assert_eq!(page.text("h1").unwrap(), "王五");
    page.goto(&format!("{base}/admin/users")).unwrap();
    assert!(page.text("#user-list").unwrap().contains("13800138000"));

    // Sign out; sign in as the new user: only the allowed menu.
    page.click_and_wait_navigation("#logout").unwrap();
    assert!(page.url().ends_with("/login"));
    login(&mut page, base, "wang.wu", "password-123");
    assert_eq!(page.text("h1").unwrap(), "首页");
    assert_eq!(
        menu_labels(&mut page),
        [
            "首页",
            "计划任务",
            "客户",
            "联系人",
            "单位",
            "跟进记录",
            "公海",
            "新增来电",
            "部门管理",
            "用户管理"
        ]
    );
    shot(&mut page, &format!("{tag}-06-salesperson-menu"));
    page.goto(&format!("{base}/admin/users")).unwrap();
    let rows = page
        .eval("document.querySelectorAll('#user-list tbody tr').length")
        .unwrap();
    assert_eq!(rows, 1, "a salesperson sees only their own account");

    // A refused action: a clear, localized message.
    page.goto(&format!("{base}/admin/roles")).unwrap();
    assert_eq!(page.text(".error-code").unwrap(), "403");
    assert_eq!(
        page.text(".error-message").unwrap(),
        "您没有“角色权限”的“查看”权限。如需开通，请联系系统管理员。"
    );
    shot(&mut page, &format!("{tag}-07-refused"));

    // A phone: the function tree becomes a drawer.
    page.set_viewport(390, 844, true).unwrap();
    page.goto(&format!("{base}/")).unwrap();
    let hidden = page
        .eval("document.getElementById('sidebar').getBoundingClientRect().right <= 0")
        .unwrap();
    assert_eq!(hidden, true, "drawer closed on a phone");
    page.click("#menu-toggle").unwrap();
    page.wait_for(
        "document.getElementById('sidebar').getBoundingClientRect().left >= 0",
        wait,
    )
    .unwrap();
    shot(&mut page, &format!("{tag}-08-phone-drawer"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_login_language_department_user_menu_and_refusal() {
    if !browser_available() {
        return;
    }
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let base = app.base.clone();
        let tag = format!("{b:?}").to_lowercase();
        tokio::task::spawn_blocking(move || walk(&base, &tag))
            .await
            .unwrap();
        app.finish().await;
    }
}
