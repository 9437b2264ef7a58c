//! Attachments (资料上传) on every database: upload, list, byte-identical download and delete
//! through the API and the HTML pages; permission following the record (404 outside the scope);
//! locked records; empty, missing and oversize files.

mod common;

use common::{ADMIN_PASSWORD, Api, TestApp, backends};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

const MAX: usize = guanxi_web::services::attachments::MAX_FILE_SIZE;

fn form(name: &str, content: Vec<u8>) -> Form {
    Form::new().part("file", Part::bytes(content).file_name(name.to_owned()))
}

/// Sends a multipart upload through the API; returns the status and the JSON answer.
async fn upload(api: &Api, path: &str, form: Form) -> (u16, Value) {
    let r = api
        .client
        .post(format!("{}{path}", api.base))
        .bearer_auth(&api.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn download(api: &Api, path: &str) -> reqwest::Response {
    api.client
        .get(format!("{}{path}", api.base))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap()
}

async fn customer(api: &Api, name: &str) -> i64 {
    api.ok("POST", "/api/v1/customers", Some(json!({ "name": name })))
        .await["id"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn upload_list_download_delete() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let api = app.admin().await;
        let id = customer(&api, "附件客户").await;
        let base = format!("/api/v1/customers/{id}/attachments");
        let content: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 251) as u8).collect();
        let name = "报价单 2026（终版）.pdf";
        let (s, a) = upload(&api, &base, form(name, content.clone())).await;
        assert_eq!(s, 201, "{b:?} {a}");
        assert_eq!(a["file_name"], name);
        assert_eq!(a["size"], content.len());
        assert_eq!(a["content_type"], "application/pdf");
        assert_eq!(a["record_id"], id);
        assert!(a["uploader_name"].is_string(), "{a}");
        assert_eq!(a["sha256"].as_str().unwrap().len(), 64);
        let att = a["id"].as_i64().unwrap();

        // A name with a path is cut to its last part; an unknown type is a plain download.
        let (s, b2) = upload(&api, &base, form("..\\../etc/passwd", b"x".to_vec())).await;
        assert_eq!(s, 201, "{b2}");
        assert_eq!(b2["file_name"], "passwd");
        assert_eq!(b2["content_type"], "application/octet-stream");

        let list = api.ok("GET", &base, None).await;
        let items = list.as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[1]["file_name"], name, "newest first");
        assert!(items.iter().all(|i| i.get("content").is_none()));

        let r = download(&api, &format!("{base}/{att}")).await;
        assert_eq!(r.status(), 200);
        let h = r.headers().clone();
        assert_eq!(h["content-type"], "application/pdf");
        assert_eq!(h["x-content-type-options"], "nosniff");
        let cd = h["content-disposition"].to_str().unwrap();
        assert!(cd.starts_with("attachment;"), "{cd}");
        assert!(
            cd.contains("filename*=UTF-8''%E6%8A%A5%E4%BB%B7%E5%8D%95%202026"),
            "{cd}"
        );
        assert_eq!(r.bytes().await.unwrap().to_vec(), content, "byte-identical");

        // The HTML detail page lists it, offers upload, and serves it through the session.
        let web = app.browser_client();
        let r = web
            .post(app.url("/login"))
            .form(&[("username", "admin"), ("password", ADMIN_PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let html = web
            .get(app.url(&format!("/customers/{id}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("id=\"attachments\""));
        assert!(html.contains(name));
        assert!(html.contains("4.9 KB"), "human-readable size");
        assert!(html.contains("enctype=\"multipart/form-data\""));
        assert!(html.contains(&format!("/customers/{id}/attachments/{att}/delete")));
        let r = web
            .get(app.url(&format!("/customers/{id}/attachments/{att}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.bytes().await.unwrap().to_vec(), content);
        let r = web
            .post(app.url(&format!("/customers/{id}/attachments")))
            .multipart(form("会议纪要.docx", b"PK\x03\x04 minutes".to_vec()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let to = r.headers()["location"].to_str().unwrap().to_owned();
        assert!(to.contains("ok=flash-uploaded"), "{to}");
        let html = web
            .get(app.url(&to))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("会议纪要.docx"));
        // An empty file from the page says what is wrong.
        let r = web
            .post(app.url(&format!("/customers/{id}/attachments")))
            .multipart(form("空.txt", vec![]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("文件是空的"));

        // Delete through the page, then through the API.
        let r = web
            .post(app.url(&format!("/customers/{id}/attachments/{att}/delete")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(download(&api, &format!("{base}/{att}")).await.status(), 404);
        let other = b2["id"].as_i64().unwrap();
        assert_eq!(
            api.call("DELETE", &format!("{base}/{other}"), None).await.0,
            204
        );
        assert_eq!(
            api.call("DELETE", &format!("{base}/{other}"), None).await.0,
            404
        );
        assert_eq!(
            api.ok("GET", &base, None).await.as_array().unwrap().len(),
            1
        );
        // An attachment is reachable only through its own record.
        let id2 = customer(&api, "另一个客户").await;
        let third = api.ok("GET", &base, None).await[0]["id"].as_i64().unwrap();
        let r = download(
            &api,
            &format!("/api/v1/customers/{id2}/attachments/{third}"),
        )
        .await;
        assert_eq!(r.status(), 404);
        let r = download(&api, &format!("/api/v1/contacts/{id}/attachments/{third}")).await;
        assert_eq!(r.status(), 404);

        let log = api
            .ok("GET", "/api/v1/audit-log?action=attachment.upload", None)
            .await;
        assert_eq!(log["items"].as_array().unwrap().len(), 3, "{log}");
        let log = api
            .ok("GET", "/api/v1/audit-log?action=attachment.delete", None)
            .await;
        assert_eq!(log["items"].as_array().unwrap().len(), 2, "{log}");
        app.finish().await;
    }
}

#[tokio::test]
async fn attachments_follow_the_record_scope() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let admin = app.admin().await;
        let east = admin.department("华东", None).await;
        let north = admin.department("华北", None).await;
        let sales = admin.role_id("sales").await;
        admin.user("s_east", Some(east), &[sales]).await;
        admin.user("s_north", Some(north), &[sales]).await;
        let se = app.api("s_east", "password-123").await;
        let sn = app.api("s_north", "password-123").await;
        let id = customer(&se, "东方客户").await;
        let base = format!("/api/v1/customers/{id}/attachments");
        let (s, a) = upload(&se, &base, form("合同.pdf", b"%PDF-1.7 contract".to_vec())).await;
        assert_eq!(s, 201, "the owner may upload: {a}");
        let att = a["id"].as_i64().unwrap();
        assert_eq!(se.ok("GET", &base, None).await.as_array().unwrap().len(), 1);
        // Another department's salesperson sees nothing, not even that it exists.
        assert_eq!(sn.get(&base).await.0, 404, "{b:?} list");
        assert_eq!(
            download(&sn, &format!("{base}/{att}")).await.status(),
            404,
            "{b:?} download"
        );
        let (s, _) = upload(&sn, &base, form("x.txt", b"x".to_vec())).await;
        assert_eq!(s, 404, "{b:?} upload");
        assert_eq!(
            sn.call("DELETE", &format!("{base}/{att}"), None).await.0,
            404
        );
        // Nor through the HTML pages.
        let web = app.browser_client();
        web.post(app.url("/login"))
            .form(&[("username", "s_north"), ("password", "password-123")])
            .send()
            .await
            .unwrap();
        let r = web
            .get(app.url(&format!("/customers/{id}/attachments/{att}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        let r = web
            .post(app.url(&format!("/customers/{id}/attachments/{att}/delete")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        // The administrator (scope: all) may.
        let r = download(&admin, &format!("{base}/{att}")).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.bytes().await.unwrap().as_ref(), b"%PDF-1.7 contract");
        // Unknown modules and ids are 404 too.
        assert_eq!(admin.get("/api/v1/nope/1/attachments").await.0, 404);
        assert_eq!(admin.get("/api/v1/customers/x/attachments").await.0, 404);
        assert_eq!(download(&admin, &format!("{base}/x")).await.status(), 404);
        app.finish().await;
    }
}

#[tokio::test]
async fn locked_records_and_refused_files() {
    for b in backends() {
        let app = TestApp::spawn(b).await;
        let api = app.admin().await;
        let id = customer(&api, "锁定客户").await;
        let base = format!("/api/v1/customers/{id}/attachments");

        // Empty, missing and oversize files are refused with a message on the field.
        let (s, v) = upload(&api, &base, form("空.txt", vec![])).await;
        assert_eq!(s, 422, "{v}");
        assert!(v["error"]["fields"]["file"].is_string(), "{v}");
        let (s, v) = upload(&api, &base, Form::new().text("note", "no file")).await;
        assert_eq!(s, 422, "{v}");
        assert!(v["error"]["fields"]["file"].is_string(), "{v}");
        let (s, v) = api.post(&base, json!({"file": "not multipart"})).await;
        assert_eq!((s, v["error"]["code"].as_str()), (400, Some("bad_request")));
        let (s, v) = upload(&api, &base, form("big.zip", vec![7u8; MAX + 1])).await;
        assert_eq!(s, 422, "{v}");
        let msg = v["error"]["fields"]["file"].as_str().unwrap();
        assert!(msg.contains("20 MB"), "{msg}");
        let (s, v) = upload(&api, &base, form("exact.bin", vec![1u8; MAX])).await;
        assert_eq!(s, 201, "exactly the limit fits: {v}");
        let att = v["id"].as_i64().unwrap();
        assert_eq!(v["size"], MAX);

        // A locked record keeps its list but refuses uploads and deletes.
        api.ok("POST", &format!("/api/v1/customers/{id}/lock"), None)
            .await;
        let (s, v) = upload(&api, &base, form("late.txt", b"late".to_vec())).await;
        assert_eq!(s, 409, "{v}");
        assert_eq!(v["error"]["code"], "conflict");
        assert_eq!(
            api.call("DELETE", &format!("{base}/{att}"), None).await.0,
            409
        );
        assert_eq!(
            api.ok("GET", &base, None).await.as_array().unwrap().len(),
            1
        );
        assert_eq!(download(&api, &format!("{base}/{att}")).await.status(), 200);
        let web = app.browser_client();
        web.post(app.url("/login"))
            .form(&[("username", "admin"), ("password", ADMIN_PASSWORD)])
            .send()
            .await
            .unwrap();
        let html = web
            .get(app.url(&format!("/customers/{id}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("exact.bin"), "the list stays");
        assert!(
            !html.contains("id=\"upload-form\""),
            "no upload when locked"
        );
        assert!(!html.contains(&format!("/attachments/{att}/delete")));
        app.finish().await;
    }
}
