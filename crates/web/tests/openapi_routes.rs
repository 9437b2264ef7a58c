//! The OpenAPI document and the router agree: every `/api/v1/...` route the router's source
//! declares is documented, every documented path and method is a route, and the server answers
//! every documented operation, called with real ids, with something other than 404 or 405.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Api, TestApp};
use guanxi_core::engine::{MODULES, def_of, module_def};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Every `.rs` file under `dir`.
fn sources(dir: &std::path::Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(std::fs::read_to_string(&p).unwrap());
        }
    }
}

/// The text inside the parentheses that open at `start` (just after the `(`).
fn inside(text: &str, start: usize) -> &str {
    let (mut depth, mut in_str, mut prev) = (1, false, ' ');
    for (i, c) in text[start..].char_indices() {
        match c {
            '"' if prev != '\\' => in_str = !in_str,
            '(' if !in_str => depth += 1,
            ')' if !in_str => {
                depth -= 1;
                if depth == 0 {
                    return &text[start..start + i];
                }
            }
            _ => {}
        }
        prev = c;
    }
    &text[start..]
}

/// (method, path) of every `.route("/api/v1/...", get(..).post(..))` in the web crate's source.
fn routed() -> BTreeSet<(String, String)> {
    let mut files = vec![];
    sources(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut out = BTreeSet::new();
    for text in &files {
        for (at, _) in text.match_indices(".route(") {
            let args = inside(text, at + ".route(".len());
            let Some(path) = args.split('"').nth(1).filter(|p| p.starts_with("/api/v1")) else {
                continue;
            };
            let handlers = &args[args.find(path).unwrap_or(0) + path.len()..];
            for m in METHODS {
                let called = handlers.match_indices(&format!("{m}(")).any(|(i, _)| {
                    !handlers[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
                });
                if called {
                    out.insert((m.to_owned(), path.to_owned()));
                }
            }
        }
    }
    out
}

/// A path with its parameters blanked and an engine module (named or `{module}`) as `{module}`.
fn normal(path: &str) -> String {
    path.split('/')
        .enumerate()
        .map(|(i, s)| match s {
            _ if i == 3 && (s == "{module}" || module_def(s).is_some()) => "{module}".to_owned(),
            _ if s.starts_with('{') => "{}".to_owned(),
            _ => s.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for m in METHODS.iter().filter(|m| ops.get(**m).is_some()) {
            out.insert(((*m).to_owned(), path.clone()));
        }
    }
    out
}

/// Real ids for every path parameter.
#[derive(Default)]
struct Ids {
    /// Per engine module: a live record, one in the recycle bin to restore, one to purge, and
    /// a change in the live record's history.
    live: BTreeMap<&'static str, i64>,
    restore: BTreeMap<&'static str, i64>,
    purge: BTreeMap<&'static str, i64>,
    entry: BTreeMap<&'static str, i64>,
    by_collection: BTreeMap<&'static str, i64>,
    attachment: i64,
    pool_customer: i64,
    item: i64,
}

async fn id_of(api: &Api, method: &str, path: &str, body: Value) -> i64 {
    api.ok(method, path, Some(body)).await["id"]
        .as_i64()
        .unwrap()
}

async fn multipart(api: &Api, path: &str, name: &str, bytes: &[u8]) -> Value {
    let form = Form::new().part(
        "file",
        Part::bytes(bytes.to_vec()).file_name(name.to_owned()),
    );
    let r = api
        .client
        .post(format!("{}{path}", api.base))
        .bearer_auth(&api.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "upload {path}: {}", r.status());
    r.json().await.unwrap()
}

async fn fixtures(app: &TestApp, api: &Api) -> Ids {
    let mut ids = Ids::default();
    let me = api.ok("GET", "/api/v1/me", None).await["id"]
        .as_i64()
        .unwrap();
    let customer = |n: &str| json!({ "name": n });
    let made = |m: &'static str, c: i64| match m {
        "customers" => customer(&format!("客户{c}")),
        "contacts" => json!({ "name": format!("联系人{c}") }),
        "organisations" => json!({ "name": format!("单位{c}") }),
        _ => json!({ "customer_id": c, "kind": "call", "content": "电话沟通" }),
    };
    let anchor = id_of(api, "POST", "/api/v1/customers", customer("锚点客户")).await;
    for def in MODULES {
        let m = def.code;
        let mut three = [0; 3];
        for (i, slot) in three.iter_mut().enumerate() {
            let mut body = made(m, anchor);
            if m != "follow_ups" {
                body["name"] = json!(format!("{m}-{i}"));
            }
            *slot = id_of(api, "POST", &format!("/api/v1/{m}"), body).await;
        }
        for gone in &three[1..] {
            api.ok("DELETE", &format!("/api/v1/{m}/{gone}"), None).await;
        }
        let field = if m == "follow_ups" { "content" } else { "name" };
        api.ok(
            "PATCH",
            &format!("/api/v1/{m}/{}", three[0]),
            Some(json!({ "version": 1, field: format!("{m} 改名") })),
        )
        .await;
        let h = api
            .ok("GET", &format!("/api/v1/{m}/{}/history", three[0]), None)
            .await;
        ids.entry.insert(m, h[0]["id"].as_i64().unwrap());
        ids.live.insert(m, three[0]);
        ids.restore.insert(m, three[1]);
        ids.purge.insert(m, three[2]);
    }
    let c = ids.live["customers"];
    let a = multipart(
        api,
        &format!("/api/v1/customers/{c}/attachments"),
        "a.txt",
        b"hi",
    )
    .await;
    ids.attachment = a["id"].as_i64().unwrap();
    let imp = multipart(
        api,
        "/api/v1/customers/imports",
        "c.csv",
        "名称\n甲\n".as_bytes(),
    )
    .await;
    ids.by_collection
        .insert("imports", imp["id"].as_i64().unwrap());
    let dept = api.department("探针部", None).await;
    ids.by_collection.insert("departments", dept);
    ids.by_collection
        .insert("users", api.user("probe", Some(dept), &[]).await);
    let role = json!({ "name": "探针角色", "permissions": {} });
    ids.by_collection
        .insert("roles", id_of(api, "POST", "/api/v1/roles", role).await);
    let token = json!({ "name": "probe" });
    ids.by_collection
        .insert("me", id_of(api, "POST", "/api/v1/me/tokens", token).await);
    let field = json!({ "label_zh": "探针", "label_en": "Probe", "kind": "text" });
    ids.by_collection.insert(
        "custom-fields",
        id_of(api, "POST", "/api/v1/custom-fields/customers", field).await,
    );
    let rule = json!({ "kind": "classification", "name": "其他", "conditions": { "all": [] }, "result": "c" });
    ids.by_collection
        .insert("rules", id_of(api, "POST", "/api/v1/rules", rule).await);
    let pool = json!({ "name": "探针公海", "fall_back_days": 30, "warn_days": 5,
        "members": [{ "kind": "user", "ref_id": me }] });
    let pool = id_of(api, "POST", "/api/v1/pools", pool).await;
    ids.by_collection.insert("pools", pool);
    let released = id_of(api, "POST", "/api/v1/customers", customer("公海客户")).await;
    api.ok(
        "POST",
        &format!("/api/v1/customers/{released}/release"),
        Some(json!({ "reason": "no_need" })),
    )
    .await;
    ids.pool_customer = released;
    let items = api.ok("GET", "/api/v1/dictionary/industry", None).await;
    ids.item = items[0]["id"].as_i64().unwrap();
    let mut tx = app.db.begin().await.unwrap();
    let n = guanxi_store::notifications::add(&mut tx, me, "transfer", &json!({}), None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    ids.by_collection.insert("notifications", n);
    ids
}

/// The documented path with real values for its parameters.
fn concrete(path: &str, ids: &Ids) -> String {
    let segs: Vec<&str> = path.split('/').collect();
    let collection = segs.get(3).copied().unwrap_or_default();
    let module = module_def(collection).map_or("customers", |d| d.code);
    let last = segs.last().copied().unwrap_or_default();
    let record = if last == "purge" {
        ids.purge[module]
    } else if last == "restore" && !segs.contains(&"history") {
        ids.restore[module]
    } else {
        ids.live[module]
    };
    segs.iter()
        .enumerate()
        .map(|(i, s)| match *s {
            "{module}" => "customers".to_owned(),
            "{entry}" => ids.entry[module].to_string(),
            "{attachment}" => ids.attachment.to_string(),
            "{customer}" => ids.pool_customer.to_string(),
            "{list}" => "industry".to_owned(),
            "{code}" => "330106".to_owned(),
            "{line}" => "1".to_owned(),
            "{other}" => module_def(module)
                .and_then(|d| d.related.first())
                .and_then(|r| def_of(r.module))
                .map_or(String::new(), |d| d.code.to_owned()),
            "{id}" if segs[i - 1] == "{list}" => ids.item.to_string(),
            "{id}" if module_def(collection).is_some() || collection == "{module}" => {
                record.to_string()
            }
            "{id}" => ids
                .by_collection
                .get(collection)
                .copied()
                .unwrap_or(0)
                .to_string(),
            other => other.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_route_is_documented_and_every_documented_operation_answers() {
    let app = TestApp::spawn(guanxi_store::Backend::Sqlite).await;
    let api = app.admin().await;
    let doc: Value = reqwest::get(app.url("/api/v1/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Both directions, with engine modules and parameter names set aside.
    let routes: BTreeSet<(String, String)> = routed()
        .into_iter()
        .filter(|(_, p)| p != "/api/v1/openapi.json")
        .map(|(m, p)| (m, normal(&p)))
        .collect();
    assert!(
        routes.len() > 80,
        "the router's routes were read: {routes:?}"
    );
    let docs = documented(&doc);
    let in_doc: BTreeSet<(String, String)> =
        docs.iter().map(|(m, p)| (m.clone(), normal(p))).collect();
    let undocumented: Vec<_> = routes.difference(&in_doc).collect();
    let unrouted: Vec<_> = in_doc.difference(&routes).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from the document: {undocumented:?}"
    );
    assert!(
        unrouted.is_empty(),
        "documented but not routed: {unrouted:?}"
    );
    // The engine's record routes (`/api/v1/{module}/...`, not documented once with `{module}`)
    // are documented for every module (related lists and collaborators for those that have
    // them).
    let generic: BTreeSet<(String, String)> = routed()
        .into_iter()
        .filter(|(_, p)| p.starts_with("/api/v1/{module}"))
        .map(|(m, p)| (m, normal(&p)))
        .collect();
    let once: BTreeSet<(String, String)> = docs
        .iter()
        .filter(|(_, p)| p.contains("{module}"))
        .map(|(m, p)| (m.clone(), normal(p)))
        .collect();
    for def in MODULES {
        let mine: BTreeSet<(String, String)> = docs
            .iter()
            .filter(|(_, p)| p.split('/').nth(3) == Some(def.code))
            .map(|(m, p)| (m.clone(), normal(p)))
            .collect();
        let missing: Vec<_> = generic
            .difference(&once)
            .filter(|(_, p)| !p.contains("/related/") || !def.related.is_empty())
            .filter(|(_, p)| !p.ends_with("/collaborators") || def.collaborators)
            .filter(|r| !mine.contains(*r))
            .collect();
        assert!(missing.is_empty(), "{} lacks {missing:?}", def.code);
    }
    // Every documented operation, with real ids; deletions last (deepest first), sign-out at
    // the very end with a session of its own.
    let ids = fixtures(&app, &api).await;
    // A record's schema names everything the API returns for it (the custom field included).
    let doc: Value = reqwest::get(app.url("/api/v1/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for def in MODULES {
        let props = &doc["components"]["schemas"][format!("Record_{}", def.code)]["properties"];
        let rec = api
            .ok(
                "GET",
                &format!("/api/v1/{}/{}", def.code, ids.live[def.code]),
                None,
            )
            .await;
        for key in rec.as_object().unwrap().keys() {
            assert!(
                props.get(key).is_some(),
                "{}: {key} is not in the schema",
                def.code
            );
        }
    }
    let mut calls: Vec<(String, String)> = docs.into_iter().collect();
    calls.sort_by_key(|(m, p)| {
        let order = match (m.as_str(), p.as_str()) {
            (_, "/api/v1/auth/logout") => 2,
            ("delete", _) => 1,
            _ => 0,
        };
        (order, usize::MAX - p.matches('/').count())
    });
    let mut failures = vec![];
    for (method, path) in &calls {
        let url = app.url(&concrete(path, &ids));
        let token = if path == "/api/v1/auth/logout" {
            app.admin().await.token
        } else {
            api.token.clone()
        };
        let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let mut req = api.client.request(m, &url).bearer_auth(token);
        if method != "get" && method != "delete" {
            req = req.json(&json!({}));
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        if status == 404 || status == 405 {
            let body = r.text().await.unwrap_or_default();
            failures.push(format!("{method} {url} → {status} {body}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    app.finish().await;
}
