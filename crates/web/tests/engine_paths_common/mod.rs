//! Helpers of the engine path tests: a browser session, forms submitted as a browser would,
//! and pieces of pages.

#![allow(dead_code)]

use crate::common::TestApp;
use serde_json::Value;

pub async fn web_login(app: &TestApp, user: &str, password: &str) -> reqwest::Client {
    app.web_login(user, password).await
}

/// Status and body of a GET.
pub async fn get(web: &reqwest::Client, url: String) -> (u16, String) {
    let r = web.get(&url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

pub async fn html(web: &reqwest::Client, url: String) -> String {
    let (s, body) = get(web, url.clone()).await;
    assert_eq!(s, 200, "{url}: {body}");
    body
}

/// Posts a form as a browser would: status, `Location`, body.
pub async fn post<T: serde::Serialize + ?Sized>(
    web: &reqwest::Client,
    url: String,
    form: &T,
) -> (u16, String, String) {
    let r = web.post(&url).form(form).send().await.unwrap();
    let to = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (r.status().as_u16(), to, r.text().await.unwrap())
}

/// The text from `start` (included) to the next `end` after it.
pub fn between<'a>(s: &'a str, start: &str, end: &str) -> &'a str {
    let i = s.find(start).unwrap_or_else(|| panic!("{start} missing"));
    let rest = &s[i..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

/// Text of HTML with its character references decoded (askama writes `&#60;`, `&#34;`...).
pub fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest.find(';').filter(|e| *e < 10).unwrap_or(0);
        let c = match &rest[1..end.max(1)] {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "amp" => Some('&'),
            n if n.starts_with("#x") => u32::from_str_radix(&n[2..], 16)
                .ok()
                .and_then(char::from_u32),
            n if n.starts_with('#') => n[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out + rest
}

pub fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let i = tag.find(&key)? + key.len();
    Some(unescape(&tag[i..i + tag[i..].find('"')?]))
}

/// What a browser submits from the form with this id: named inputs (checked boxes only),
/// textareas, and the selected options of selects (a single select without one sends its
/// first option).
pub fn form_fields(page: &str, id: &str) -> Vec<(String, String)> {
    let form = between(page, &format!("id=\"{id}\""), "</form>");
    let mut out = vec![];
    let mut rest = form;
    while let Some(i) = rest.find('<') {
        rest = &rest[i..];
        let tag = &rest[..rest.find('>').unwrap() + 1];
        let Some(name) = attr(tag, "name") else {
            rest = &rest[1..];
            continue;
        };
        if tag.starts_with("<input") {
            let checkable = tag.contains("type=\"checkbox\"");
            if !checkable || tag.contains(" checked") {
                out.push((name, attr(tag, "value").unwrap_or_default()));
            }
        } else if tag.starts_with("<textarea") {
            let body = &rest[tag.len()..];
            out.push((name, unescape(&body[..body.find("</textarea>").unwrap()])));
        } else if tag.starts_with("<select") {
            let body = &rest[..rest.find("</select>").unwrap()];
            let options: Vec<&str> = body.split("<option").skip(1).collect();
            let chosen: Vec<&&str> = options
                .iter()
                .filter(|o| o[..o.find('>').unwrap()].contains(" selected"))
                .collect();
            let value = |o: &str| attr(&format!("<option{o}"), "value").unwrap_or_default();
            match (chosen.is_empty(), tag.contains(" multiple")) {
                (false, _) => out.extend(chosen.iter().map(|o| (name.clone(), value(o)))),
                (true, false) => out.extend(options.first().map(|o| (name.clone(), value(o)))),
                (true, true) => {}
            }
        }
        rest = &rest[1..];
    }
    out
}

pub fn set(form: &mut [(String, String)], name: &str, value: &str) {
    form.iter_mut().find(|(k, _)| k == name).unwrap().1 = value.to_owned();
}

/// The cells of a table's body rows, as text.
pub fn table_rows(table: &str) -> Vec<Vec<String>> {
    let body = between(table, "<tbody>", "</tbody>");
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            row.split("<td>")
                .skip(1)
                .map(|c| unescape(&c[..c.find("</td>").unwrap()]))
                .collect()
        })
        .collect()
}

pub fn id_of(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}
