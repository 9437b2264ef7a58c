//! Paths of the record engine that only a whole request shows, on every database: a stale form
//! meets the version conflict and overwrites nothing; shared and personal saved views; the
//! detail page's jump list, previous / next and related actions; copying a record. (Transfers,
//! organisations by name and e-mail search: `engine_paths_api.rs`.)

mod common;
mod engine_paths_common;

use common::{ADMIN_PASSWORD, TestApp, backends};
use engine_paths_common::*;
use serde_json::json;

#[tokio::test]
async fn a_stale_form_shows_what_changed_and_overwrites_nothing() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let api = app.admin().await;
        let c = api.ok("POST", "/api/v1/customers", Some(json!({"name": "冲突客户", "address": "旧地址", "phone": "13800000001", "industry": "it"}))).await;
        let id = id_of(&c);
        let web = web_login(&app, "admin", ADMIN_PASSWORD).await;
        let mut form = form_fields(
            &html(&web, app.url(&format!("/customers/{id}/edit"))).await,
            "record-form",
        );
        assert!(form.contains(&("version".into(), "1".into())), "{form:?}");
        assert!(form.contains(&("address".into(), "旧地址".into())));
        // Meanwhile someone else changes the address and the level.
        let theirs = api
            .ok(
                "PATCH",
                &format!("/api/v1/customers/{id}"),
                Some(json!({"version": 1, "address": "他的地址", "level": "vip"})),
            )
            .await;
        assert_eq!(theirs["version"], 2);
        set(&mut form, "address", "我的地址");
        let (s, _, page) = post(&web, app.url(&format!("/customers/{id}")), &form).await;
        assert_eq!(s, 409, "{b:?}: {page}");
        // Field, their value, your value: only the fields that differ, not the untouched ones.
        let rows = table_rows(between(&page, "id=\"conflict\"", "</table>"));
        assert_eq!(
            rows,
            [
                vec!["客户级别", "重点", ""],
                vec!["地址", "他的地址", "我的地址"]
            ],
            "{b:?}"
        );
        // The form keeps what the user typed, at the newer version.
        let again = form_fields(&page, "record-form");
        assert!(again.contains(&("version".into(), "2".into())), "{again:?}");
        assert!(again.contains(&("address".into(), "我的地址".into())));
        let now = api
            .ok("GET", &format!("/api/v1/customers/{id}"), None)
            .await;
        assert_eq!(
            (&now["version"], &now["address"], &now["level"]),
            (&json!(2), &json!("他的地址"), &json!("vip")),
            "{b:?}: nothing overwritten"
        );
        // Saving the re-rendered form applies the user's values on top of theirs.
        let (s, to, _) = post(&web, app.url(&format!("/customers/{id}")), &again).await;
        assert_eq!(
            (s, to.as_str()),
            (303, &*format!("/customers/{id}?ok=flash-saved"))
        );
        let now = api
            .ok("GET", &format!("/api/v1/customers/{id}"), None)
            .await;
        assert_eq!(
            (&now["version"], &now["address"]),
            (&json!(3), &json!("我的地址"))
        );
        assert!(now["level"].is_null(), "the user's empty level wins: {now}");
        // The API: a stale version is refused with the current record, which stays.
        let (s, v) = api
            .call(
                "PATCH",
                &format!("/api/v1/customers/{id}"),
                Some(json!({"version": 2, "address": "过时"})),
            )
            .await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (409, Some("version_conflict")),
            "{v}"
        );
        let cur = &v["error"]["current"];
        assert_eq!(
            (&cur["id"], &cur["version"], &cur["address"]),
            (&json!(id), &json!(3), &json!("我的地址"))
        );
        assert_eq!(cur["name"], "冲突客户");
        let now = api
            .ok("GET", &format!("/api/v1/customers/{id}"), None)
            .await;
        assert_eq!(
            (&now["version"], &now["address"]),
            (&json!(3), &json!("我的地址"))
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn a_conflict_lists_only_real_differences() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let api = app.admin().await;
        let mut customers = vec![];
        for name in ["杭州云峰科技", "宁波海港贸易"] {
            customers.push(id_of(
                &api.ok("POST", "/api/v1/customers", Some(json!({"name": name})))
                    .await,
            ));
        }
        let k = api.ok("POST", "/api/v1/contacts", Some(json!({"name": "孙八", "title": "经理", "birthday": "1990-05-01", "customer_id": customers[0]}))).await;
        let kid = id_of(&k);
        let web = web_login(&app, "admin", ADMIN_PASSWORD).await;
        let mut form = form_fields(
            &html(&web, app.url(&format!("/contacts/{kid}/edit"))).await,
            "record-form",
        );
        api.ok(
            "PATCH",
            &format!("/api/v1/contacts/{kid}"),
            Some(json!({"version": 1, "title": "总监"})),
        )
        .await;
        set(&mut form, "wechat", "wx_sun");
        set(&mut form, "customer_id", &customers[1].to_string());
        let (s, _, page) = post(&web, app.url(&format!("/contacts/{kid}")), &form).await;
        assert_eq!(s, 409, "{b:?}");
        // Not the relation kept as it was (sent as text), nor the unticked box (never set):
        // the relation the user chose is named, like theirs.
        let rows = table_rows(between(&page, "id=\"conflict\"", "</table>"));
        assert_eq!(
            rows,
            [
                vec!["职务", "总监", "经理"],
                vec!["微信", "", "wx_sun"],
                vec!["客户", "杭州云峰科技", "宁波海港贸易"]
            ],
            "{b:?}"
        );
        let now = api
            .ok("GET", &format!("/api/v1/contacts/{kid}"), None)
            .await;
        assert_eq!(
            (&now["wechat"], &now["customer_id"]),
            (&json!(null), &json!(customers[0]))
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn shared_views_reach_everyone_personal_views_stay_personal() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let admin = app.admin().await;
        let dept = admin.department("华东", None).await;
        let (sales, mgr) = (
            admin.role_id("sales").await,
            admin.role_id("sales_manager").await,
        );
        admin.user("m1", Some(dept), &[mgr]).await;
        admin.user("s1", Some(dept), &[sales]).await;
        admin.user("s2", Some(dept), &[sales]).await;
        let (s1, s2) = (
            app.api("s1", "password-123").await,
            app.api("s2", "password-123").await,
        );
        for (api, name, industry) in [
            (&s1, "视图甲IT", "it"),
            (&s1, "视图乙制造", "manufacturing"),
            (&s2, "视图丙IT", "it"),
        ] {
            api.ok(
                "POST",
                "/api/v1/customers",
                Some(json!({"name": name, "industry": industry})),
            )
            .await;
        }
        let wm = web_login(&app, "m1", "password-123").await;
        let w1 = web_login(&app, "s1", "password-123").await;
        let w2 = web_login(&app, "s2", "password-123").await;
        let views = app.url("/customers/views");
        let (s, to, _) = post(
            &wm,
            views.clone(),
            &[
                ("view_name", "IT客户"),
                ("shared", "on"),
                ("f.industry.eq", "it"),
            ],
        )
        .await;
        assert_eq!(s, 303, "{b:?}");
        let shared: i64 = view_id(&to);
        // Another user has it among his tabs; opening it applies the filter (in his scope).
        let tab = format!("href=\"/customers?view={shared}\"");
        let list = html(&w1, app.url("/customers")).await;
        assert!(
            between(&list, "class=\"tabs views\"", "</nav>").contains(&tab),
            "{b:?}"
        );
        assert!(list.contains("IT客户"));
        let list = html(&w1, app.url(&format!("/customers?view={shared}"))).await;
        assert!(
            list.contains("视图甲IT") && !list.contains("视图乙制造"),
            "{b:?}: filter applied"
        );
        assert!(!list.contains("视图丙IT"), "{b:?}: still his own scope");
        assert!(list.contains(&format!("{tab} class=\"active\"")));
        // A salesperson (no assign) may not share; his personal view is his alone.
        let (s, _, _) = post(
            &w1,
            views.clone(),
            &[
                ("view_name", "偷偷共享"),
                ("shared", "on"),
                ("f.industry.eq", "it"),
            ],
        )
        .await;
        assert_eq!(s, 403, "{b:?}");
        let (s, to, _) = post(
            &w1,
            views.clone(),
            &[
                ("view_name", "我的制造"),
                ("f.industry.eq", "manufacturing"),
            ],
        )
        .await;
        assert_eq!(s, 303);
        let personal: i64 = view_id(&to);
        let list = html(&w1, app.url(&format!("/customers?view={personal}"))).await;
        assert!(
            list.contains("视图乙制造") && !list.contains("视图甲IT"),
            "{b:?}"
        );
        for (who, web) in [("s2", &w2), ("m1", &wm)] {
            let list = html(web, app.url("/customers")).await;
            assert!(
                !list.contains("我的制造") && !list.contains("偷偷共享"),
                "{b:?}: {who} sees it"
            );
            assert!(list.contains("IT客户"), "{who}");
        }
        // Opening another's personal view by its id applies nothing of it.
        let list = html(&wm, app.url(&format!("/customers?view={personal}"))).await;
        assert!(
            list.contains("视图甲IT") && list.contains("视图乙制造"),
            "{b:?}"
        );
        // Nobody deletes a view that is not his: not another salesperson, not the manager,
        // not even the administrator for a personal one; nor s1 the manager's shared view.
        let wa = web_login(&app, "admin", ADMIN_PASSWORD).await;
        for web in [&w2, &wm, &wa] {
            let (s, _, _) = post(
                web,
                app.url(&format!("/customers/views/{personal}/delete")),
                &[("x", "")],
            )
            .await;
            assert_eq!(s, 404, "{b:?}");
        }
        let (s, _, _) = post(
            &w1,
            app.url(&format!("/customers/views/{shared}/delete")),
            &[("x", "")],
        )
        .await;
        assert_eq!(s, 404, "{b:?}");
        let list = html(&w1, app.url("/customers")).await;
        assert!(
            list.contains("我的制造") && list.contains("IT客户"),
            "{b:?}: both kept"
        );
        // Its owner may; an administrator may delete a shared one.
        for (web, id) in [(&w1, personal), (&wa, shared)] {
            let (s, _, _) = post(
                web,
                app.url(&format!("/customers/views/{id}/delete")),
                &[("x", "")],
            )
            .await;
            assert_eq!(s, 303, "{b:?}");
        }
        let list = html(&w1, app.url("/customers")).await;
        assert!(
            !list.contains("我的制造") && !list.contains("IT客户"),
            "{b:?}"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn the_detail_page_jumps_within_its_list_and_offers_related_records() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let api = app.admin().await;
        let mut ids = vec![];
        for i in 1..=5 {
            let c = api
                .ok(
                    "POST",
                    "/api/v1/customers",
                    Some(json!({"name": format!("跳转{i:02}"), "industry": "it"})),
                )
                .await;
            ids.push(id_of(&c));
        }
        api.ok(
            "POST",
            "/api/v1/customers",
            Some(json!({"name": "别的行业", "industry": "manufacturing"})),
        )
        .await;
        let web = web_login(&app, "admin", ADMIN_PASSWORD).await;
        // The list page links each row with its own query, as the detail page expects it.
        let query = "f.industry.eq=it&sort=name&order=desc";
        let list = html(&web, app.url(&format!("/customers?{query}"))).await;
        let list_q = "f.industry.eq=it&sort=name&order=desc";
        let enc: String = form_urlencoded::byte_serialize(list_q.as_bytes()).collect();
        assert!(
            list.contains(&format!("/customers/{}?list={enc}", ids[2])),
            "{b:?}: {list}"
        );
        let link = |id: i64| format!("/customers/{id}?list={enc}");
        let page = html(&web, app.url(&link(ids[2]))).await;
        let jump = between(&page, "<details class=\"jump\">", "</details>");
        let titles: Vec<&str> = jump
            .split("<a href=")
            .skip(1)
            .map(|a| &a[a.find('>').unwrap() + 1..a.find("</a>").unwrap()])
            .collect();
        assert_eq!(
            titles,
            ["跳转05", "跳转04", "跳转03", "跳转02", "跳转01"],
            "{b:?}: {jump}"
        );
        for id in &ids {
            assert!(jump.contains(&format!("href=\"{}\"", link(*id))), "{b:?}");
        }
        assert!(
            page.contains(&format!(
                "href=\"{}\" data-shortcut=\"k\" id=\"prev-record\"",
                link(ids[3])
            )),
            "{b:?}"
        );
        assert!(
            page.contains(&format!(
                "href=\"{}\" data-shortcut=\"j\" id=\"next-record\"",
                link(ids[1])
            )),
            "{b:?}"
        );
        // The ends of the list have no further neighbour.
        let first = html(&web, app.url(&link(ids[4]))).await;
        assert!(
            !first.contains("id=\"prev-record\"") && first.contains("id=\"next-record\""),
            "{b:?}"
        );
        let last = html(&web, app.url(&link(ids[0]))).await;
        assert!(
            last.contains("id=\"prev-record\"") && !last.contains("id=\"next-record\""),
            "{b:?}"
        );
        // The actions zone offers a new record of each related module, preset to this one.
        let id = ids[2];
        let actions = between(&page, "id=\"record-actions\"", "</section>");
        assert!(
            actions.contains(&format!(
                "<a class=\"btn\" href=\"/contacts/new?customer_id={id}\">+ 联系人</a>"
            )),
            "{b:?}: {actions}"
        );
        assert!(
            actions.contains(&format!(
                "<a class=\"btn\" href=\"/follow_ups/new?customer_id={id}\">+ 跟进记录</a>"
            )),
            "{actions}"
        );
        for m in ["contacts", "follow_ups"] {
            let form = form_fields(
                &html(&web, app.url(&format!("/{m}/new?customer_id={id}"))).await,
                "record-form",
            );
            assert!(
                form.contains(&("customer_id".into(), id.to_string())),
                "{b:?} {m}: {form:?}"
            );
        }
        app.finish().await;
    }
}

#[tokio::test]
async fn a_copy_starts_from_the_record_and_leaks_nothing_out_of_scope() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let admin = app.admin().await;
        let sales = admin.role_id("sales").await;
        admin.user("s1", None, &[sales]).await;
        let c = admin.ok("POST", "/api/v1/customers", Some(json!({"name": "复制源客户", "address": "杭州市滨江区", "phone": "057188886666", "industry": "it", "notes": "备注<一>"}))).await;
        let id = id_of(&c);
        let web = web_login(&app, "admin", ADMIN_PASSWORD).await;
        let page = html(&web, app.url(&format!("/customers/new?copy={id}"))).await;
        assert!(
            page.contains("action=\"/customers\""),
            "{b:?}: a new record"
        );
        let form = form_fields(&page, "record-form");
        assert!(form.contains(&("version".into(), "0".into())), "{form:?}");
        for k in ["name", "address", "phone", "industry", "notes"] {
            let v = c[k].as_str().unwrap().to_owned();
            assert!(form.contains(&(k.into(), v)), "{b:?} {k}: {form:?}");
        }
        // A record the user may not open: nothing of it reaches the page.
        let w1 = web_login(&app, "s1", "password-123").await;
        let (s, body) = get(&w1, app.url(&format!("/customers/new?copy={id}"))).await;
        assert_eq!(s, 404, "{b:?}");
        for leak in ["复制源客户", "滨江", "88886666"] {
            assert!(!body.contains(leak), "{b:?}: {leak}");
        }
        app.finish().await;
    }
}

/// The view a save redirected to (`/customers?view=7&ok=...`).
fn view_id(to: &str) -> i64 {
    let rest = to.strip_prefix("/customers?view=").unwrap();
    rest.split('&').next().unwrap().parse().unwrap()
}
