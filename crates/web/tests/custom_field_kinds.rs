//! Every kind of custom field (扩展字段) end to end, on every database: defined through the API,
//! validated, read back, cleared, filtered, sorted over pages, documented in the OpenAPI
//! document, offered in the import template, exported as a person reads it, shown on the form
//! and the detail page, and edited in place from the detail page.
//!
//! The test is a table: one [`Case`] per kind. Failures are collected and reported together, so
//! one run names every kind that does not work.

mod common;

mod custom_field_kinds_cases;

use common::{ADMIN_PASSWORD, TestApp, backends};
use custom_field_kinds_cases::{Case, cases, fixtures};
use serde_json::{Value, json};

/// Percent-encodes a query value.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The rows of a CSV text (quoted fields may hold commas, quotes and line breaks).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut cell) = (vec![], vec![], String::new());
    let (mut quoted, mut chars) = (
        false,
        text.trim_start_matches('\u{feff}').chars().peekable(),
    );
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    if !cell.is_empty() || !row.is_empty() {
        row.push(cell);
        rows.push(row);
    }
    rows
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|r| r["id"].as_i64()).collect())
        .unwrap_or_default()
}

/// Collects a failure instead of stopping, so one run names every kind that fails.
macro_rules! expect {
    ($bad:expr, $cond:expr, $($msg:tt)+) => {
        if !$cond {
            $bad.push(format!($($msg)+));
        }
    };
}

async fn text_of(web: &reqwest::Client, url: String) -> (u16, String) {
    let r = web.get(&url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn every_custom_field_kind_works_end_to_end() {
    let mut failures: Vec<String> = vec![];
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let api = app.admin().await;
        let fx = fixtures(&api).await;
        let cases = cases(&fx);
        let mut bad: Vec<String> = vec![];
        // Definitions through the API, all list columns, some indexed.
        for c in &cases {
            let (s, v) = api
                .post(
                    "/api/v1/custom-fields/customers",
                    json!({ "code": c.code(), "kind": c.kind, "label_zh": c.label_zh(),
                            "label_en": format!("Extra {}", c.kind), "dictionary": c.dictionary,
                            "indexed": c.indexed, "list": true }),
                )
                .await;
            assert_eq!(s, 201, "{b:?} define {}: {v}", c.kind);
        }
        // Three records per kind, created and read back.
        let mut made: Vec<[i64; 3]> = vec![];
        for c in &cases {
            let code = c.code();
            let mut rec = [0; 3];
            for (i, (input, stored)) in c.inputs.iter().zip(&c.stored).enumerate() {
                let name = format!("{code}-{i}");
                let (s, v) = api
                    .post(
                        "/api/v1/customers",
                        json!({ "name": name, code.as_str(): input }),
                    )
                    .await;
                assert_eq!(s, 201, "{b:?} create {name}: {v}");
                expect!(
                    bad,
                    v[&code] == *stored,
                    "{code}: created {} ≠ {}",
                    v[&code],
                    stored
                );
                rec[i] = v["id"].as_i64().unwrap();
                let g = api
                    .ok("GET", &format!("/api/v1/customers/{}", rec[i]), None)
                    .await;
                expect!(
                    bad,
                    g[&code] == *stored,
                    "{code}: read {} ≠ {}",
                    g[&code],
                    stored
                );
            }
            made.push(rec);
        }
        // An invalid value is a field error, and nothing is written.
        for c in &cases {
            let (code, name) = (c.code(), format!("{}-bad", c.code()));
            let (s, v) = api
                .post(
                    "/api/v1/customers",
                    json!({ "name": name, code.as_str(): c.invalid }),
                )
                .await;
            expect!(
                bad,
                s == 422 && v["error"]["fields"][&code].is_string(),
                "{code}: invalid {} → {s} {v}",
                c.invalid
            );
            let found = api
                .ok(
                    "GET",
                    &format!("/api/v1/customers?f.name.eq={}", enc(&name)),
                    None,
                )
                .await;
            expect!(
                bad,
                ids(&found).is_empty(),
                "{code}: an invalid record was written"
            );
        }
        // Filters with eq (a multi-select's operator is `contains`: it holds the code), and
        // sorting the kind's three records over two pages each way.
        for (c, rec) in cases.iter().zip(&made) {
            let code = c.code();
            let op = if c.kind == "multi_select" {
                "contains"
            } else {
                "eq"
            };
            let (s, v) = api
                .get(&format!(
                    "/api/v1/customers?f.{code}.{op}={}",
                    enc(&c.filter)
                ))
                .await;
            let found = ids(&v);
            let ok = if c.kind == "checkbox" {
                found.contains(&rec[1]) && !found.contains(&rec[0])
            } else {
                found == [rec[1]]
            };
            expect!(
                bad,
                s == 200 && ok,
                "{code}: {op} {} → {s} {found:?} (want {})",
                c.filter,
                rec[1]
            );
            for (order, want) in [
                ("asc", [rec[0], rec[1], rec[2]]),
                ("desc", [rec[2], rec[1], rec[0]]),
            ] {
                let base = format!(
                    "/api/v1/customers?f.name.starts_with={code}-&sort={code}&order={order}&limit=2"
                );
                let (s, p1) = api.get(&base).await;
                if s != 200 {
                    bad.push(format!("{code}: sort {order} → {s} {p1}"));
                    continue;
                }
                let cursor = p1["next_cursor"].as_str().unwrap_or_default();
                let p2 = api.get(&format!("{base}&cursor={}", enc(cursor))).await.1;
                let (got1, got2) = (ids(&p1), ids(&p2));
                expect!(
                    bad,
                    got1 == want[..2] && got2 == want[2..] && p2["next_cursor"].is_null(),
                    "{code}: sort {order} pages {got1:?} {got2:?}, want {want:?}"
                );
            }
        }
        // The OpenAPI document types every field.
        let doc: Value = reqwest::get(app.url("/api/v1/openapi.json"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let props = &doc["components"]["schemas"]["Record_customers"]["properties"];
        for c in &cases {
            let p = &props[c.code()];
            let types = p["type"].as_array().cloned().unwrap_or_default();
            expect!(
                bad,
                types.contains(&json!(c.json_type)) && p["x-custom-field"] == true,
                "{}: OpenAPI schema {p}",
                c.code()
            );
            let format = match c.kind.as_str() {
                "date" => Some("date"),
                "date_time" => Some("date-time"),
                "email" => Some("email"),
                "url" => Some("uri"),
                _ => None,
            };
            if let Some(f) = format {
                expect!(bad, p["format"] == f, "{}: OpenAPI format {p}", c.code());
            }
        }
        // The import template names every field; an export shows values as people read them.
        let (s, template) = api
            .get("/api/v1/customers/import-template?format=csv")
            .await;
        assert_eq!(s, 200, "{b:?} import template: {template}");
        let template = template.as_str().unwrap_or_default().to_owned();
        let web = app.web_login("admin", ADMIN_PASSWORD).await;
        let header = parse_csv(&template).into_iter().next().unwrap_or_default();
        let codes: Vec<String> = cases.iter().map(Case::code).collect();
        let (s, csv) = text_of(
            &web,
            app.url(&format!(
                "/api/v1/customers/export?format=csv&columns=name,{}",
                codes.join(",")
            )),
        )
        .await;
        assert_eq!(s, 200, "{b:?} export: {csv}");
        let rows = parse_csv(&csv);
        for (i, c) in cases.iter().enumerate() {
            let code = c.code();
            expect!(
                bad,
                header.contains(&c.label_zh()),
                "{code}: not in the import template {header:?}"
            );
            expect!(
                bad,
                rows[0].get(i + 1) == Some(&c.label_zh()),
                "{code}: export header {:?}",
                rows[0]
            );
            let row = rows.iter().find(|r| r[0] == format!("{code}-1"));
            let cell = row.and_then(|r| r.get(i + 1)).cloned().unwrap_or_default();
            expect!(
                bad,
                cell == c.export,
                "{code}: exported {cell:?}, want {:?}",
                c.export
            );
        }
        // The form has an input for each; the detail page shows each value and offers its editor.
        let (_, new_form) = text_of(&web, app.url("/customers/new")).await;
        for (c, rec) in cases.iter().zip(&made) {
            let code = c.code();
            expect!(
                bad,
                new_form.contains(&format!("name=\"{code}\"")),
                "{code}: no input on /customers/new"
            );
            let (s, page) = text_of(&web, app.url(&format!("/customers/{}", rec[1]))).await;
            expect!(
                bad,
                s == 200 && page.contains(&html_escape(&c.detail)),
                "{code}: detail page does not show {:?}",
                c.detail
            );
            let action = format!("action=\"/customers/{}/field/{code}\"", rec[1]);
            expect!(
                bad,
                page.contains(&action),
                "{code}: no in-place editor on the detail page"
            );
        }
        // In-place edits post what the editor's form holds, from the same origin as a browser.
        let first = &cases[0];
        let cross = web
            .post(app.url(&format!("/customers/{}/field/{}", made[0][1], first.code())))
            .header("origin", "http://evil.example")
            .header("sec-fetch-site", "cross-site")
            .form(&[("version", "1"), ("cf_k_text", "X")])
            .send()
            .await
            .unwrap();
        assert_eq!(
            cross.status(),
            403,
            "{b:?}: a cross-site in-place edit is refused"
        );
        for (c, rec) in cases.iter().zip(&made) {
            let code = c.code();
            let before = api
                .ok("GET", &format!("/api/v1/customers/{}", rec[1]), None)
                .await;
            let version = before["version"].to_string();
            let mut fields: Vec<(&str, String)> = vec![("version", version)];
            fields.extend(c.inplace.iter().cloned());
            let r = web
                .post(app.url(&format!("/customers/{}/field/{code}", rec[1])))
                .header("origin", &app.base)
                .header("sec-fetch-site", "same-origin")
                .form(&fields)
                .send()
                .await
                .unwrap();
            let (s, loc) = (
                r.status().as_u16(),
                r.headers()
                    .get("location")
                    .map(|l| l.to_str().unwrap_or_default().to_owned()),
            );
            let after = api
                .ok("GET", &format!("/api/v1/customers/{}", rec[1]), None)
                .await;
            expect!(
                bad,
                s == 303 && after[&code] == c.edited,
                "{code}: in-place edit → {s} {loc:?}, value {} (want {})",
                after[&code],
                c.edited
            );
        }
        // PATCH with null clears a value.
        for (c, rec) in cases.iter().zip(&made) {
            let code = c.code();
            let cur = api
                .ok("GET", &format!("/api/v1/customers/{}", rec[0]), None)
                .await;
            let (s, v) = api
                .call(
                    "PATCH",
                    &format!("/api/v1/customers/{}", rec[0]),
                    Some(json!({ "version": cur["version"], code.as_str(): null })),
                )
                .await;
            let g = api
                .ok("GET", &format!("/api/v1/customers/{}", rec[0]), None)
                .await;
            expect!(
                bad,
                s == 200 && v[&code].is_null() && g[&code].is_null(),
                "{code}: PATCH null → {s} {v}"
            );
        }
        failures.extend(bad.into_iter().map(|m| format!("{b:?} {m}")));
        app.finish().await;
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
