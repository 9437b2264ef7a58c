//! Import and export through the API on every database, the files: real ones (a GBK CSV as
//! Excel writes it, an XLSX saved by LibreOffice, the project's own template), the dry run,
//! failed rows fixed in place, the error file, unreadable files refused with a reason, and
//! exports that neutralise formulas and come back in unchanged.

mod common;
mod imports_common;

use common::{TestApp, backends};
use imports_common::{FIXTURES, bytes, map, names, upload, wait};
use serde_json::json;

#[tokio::test]
async fn gbk_csv_of_contacts_checked_written_and_reverted() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin().await;
        let file = std::fs::read(format!("{FIXTURES}/customers_gbk.csv")).unwrap();
        let (s, imp) = upload(&admin, "contacts", "客户.csv", file).await;
        assert_eq!(s, 201, "{imp}");
        assert_eq!(imp["encoding"], "GB18030");
        assert_eq!(imp["format"], "csv");
        assert_eq!(imp["headers"][0], "姓名");
        let id = imp["id"].as_i64().unwrap();
        // 姓名, 手机, 邮箱, 公司, 备注, 创建日期
        map(
            &admin,
            id,
            json!(["name", "mobile", "email", "organisation_name", null, null]),
            "skip",
        )
        .await;
        admin
            .ok("POST", &format!("/api/v1/imports/{id}/check"), None)
            .await;
        let checked = wait(&admin, id, &["validated", "failed"]).await;
        assert_eq!(checked["state"], "validated", "{checked}");
        assert_eq!(checked["total_rows"], 3);
        assert_eq!(checked["error_rows"], 0, "{checked}");
        assert!(
            names(&admin, "contacts").await.is_empty(),
            "a dry run writes nothing"
        );
        admin
            .ok("POST", &format!("/api/v1/imports/{id}/start"), None)
            .await;
        let done = wait(&admin, id, &["done", "failed"]).await;
        assert_eq!(done["state"], "done", "{done}");
        assert_eq!(done["created_rows"], 3);
        assert_eq!(names(&admin, "contacts").await, ["张三", "李四", "王五"]);
        // Organisations named in the file were created and linked.
        let orgs = names(&admin, "organisations").await;
        assert!(
            orgs.contains(&"深圳前海物流, 南山分公司".to_owned()),
            "{orgs:?}"
        );
        let list = admin.ok("GET", "/api/v1/contacts?q=张三", None).await;
        let zhang = &list["items"][0];
        assert!(zhang["organisation_id"].as_i64().is_some());
        assert_eq!(zhang["mobile"], "13800138000");
        let hist = admin
            .ok(
                "GET",
                &format!("/api/v1/contacts/{}/history", zhang["id"]),
                None,
            )
            .await;
        assert_eq!(hist[0]["event"], "create", "{hist}");
        // Quick search finds imported rows from the index.
        let found = admin.ok("GET", "/api/v1/contacts?q=0138", None).await;
        assert_eq!(found["items"].as_array().unwrap().len(), 1);
        let audit = admin
            .ok("GET", "/api/v1/audit-log?action=import.finish", None)
            .await;
        assert!(audit.to_string().contains("3 created"), "{audit}");
        // Revert: every created record goes to the recycle bin.
        admin
            .ok("POST", &format!("/api/v1/imports/{id}/revert"), None)
            .await;
        let reverted = wait(&admin, id, &["reverted", "failed"]).await;
        assert_eq!(reverted["state"], "reverted", "{reverted}");
        assert_eq!(reverted["reverted_rows"], 3);
        assert!(names(&admin, "contacts").await.is_empty());
        let bin = admin.ok("GET", "/api/v1/contacts/recycle-bin", None).await;
        assert_eq!(bin["items"].as_array().unwrap().len(), 3);
        app.finish().await;
    }
}

#[tokio::test]
async fn failed_rows_are_fixed_in_place_and_the_import_continues() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin().await;
        admin
            .ok(
                "POST",
                "/api/v1/customers",
                Some(json!({"name": "已有公司", "phone": "01088886666"})),
            )
            .await;
        let csv = "客户名称,客户类型,电话,备注\n\
                   甲公司,,13800000001,好\n\
                   乙公司,,12ab,电话错\n\
                   丙公司,不存在的类型,13800000003,\n\
                   甲公司,,13800000004,文件内重复\n\
                   已有公司,,,已有\n\
                   =HYPERLINK(\"x\"),,13800000006,\n";
        let (s, imp) = upload(&admin, "customers", "c.csv", csv.as_bytes().to_vec()).await;
        assert_eq!(s, 201, "{imp}");
        let id = imp["id"].as_i64().unwrap();
        // Headers in Chinese map themselves.
        assert_eq!(
            imp["mapping"],
            json!(["name", "customer_type", "phone", "notes"])
        );
        admin
            .ok("POST", &format!("/api/v1/imports/{id}/check"), None)
            .await;
        let checked = wait(&admin, id, &["validated"]).await;
        assert_eq!(checked["total_rows"], 6);
        assert_eq!(checked["error_rows"], 3, "{checked}");
        assert_eq!(checked["duplicate_rows"], 1, "{checked}");
        let errors = admin
            .ok(
                "GET",
                &format!("/api/v1/imports/{id}/errors?open=true"),
                None,
            )
            .await;
        let errors = errors.as_array().unwrap();
        assert_eq!(
            errors
                .iter()
                .map(|e| e["line"].as_i64().unwrap())
                .collect::<Vec<_>>(),
            [3, 4, 5]
        );
        assert_eq!(errors[0]["errors"][0]["message"], "error-phone");
        assert_eq!(errors[0]["errors"][0]["column"], "电话");
        assert_eq!(errors[1]["errors"][0]["message"], "error-option");
        assert_eq!(
            errors[2]["errors"][0]["message"],
            "import-error-duplicate-in-file"
        );
        assert_eq!(errors[2]["errors"][0]["args"]["line"], "2");
        // A correction that is still wrong stays open with the new reason.
        let still = admin
            .ok(
                "PUT",
                &format!("/api/v1/imports/{id}/errors/3"),
                Some(json!({"cells": ["乙公司", "", "12ac", "电话错"]})),
            )
            .await;
        assert_eq!(still["fixed"], false);
        let fixed = admin
            .ok(
                "PUT",
                &format!("/api/v1/imports/{id}/errors/3"),
                Some(json!({"cells": ["乙公司", "", "13800000002", "电话已改"]})),
            )
            .await;
        assert_eq!(fixed["fixed"], true, "{fixed}");
        let fixed = admin
            .ok(
                "PUT",
                &format!("/api/v1/imports/{id}/errors/4"),
                Some(json!({"cells": ["丙公司", "A 类（重点）", "13800000003", ""]})),
            )
            .await;
        assert_eq!(fixed["fixed"], true, "{fixed}");
        admin
            .ok("POST", &format!("/api/v1/imports/{id}/start"), None)
            .await;
        let done = wait(&admin, id, &["done", "failed"]).await;
        assert_eq!(done["state"], "done", "{done}");
        assert_eq!(done["created_rows"], 4, "{done}");
        assert_eq!(done["skipped_rows"], 1, "{done}");
        assert_eq!(done["error_rows"], 1, "{done}");
        let list = names(&admin, "customers").await;
        assert!(
            list.contains(&"乙公司".to_owned()) && list.contains(&"丙公司".to_owned()),
            "{list:?}"
        );
        let yi = admin.ok("GET", "/api/v1/customers?q=乙公司", None).await;
        assert_eq!(yi["items"][0]["notes"], "电话已改");
        assert_eq!(yi["items"][0]["pinyin"], "ygs");
        // The error file holds the row still failing, with its reason.
        let (s, file) = bytes(&admin, &format!("/api/v1/imports/{id}/error-file")).await;
        assert_eq!(s, 200);
        let reader = guanxi_io::open_bytes(file, None, &guanxi_io::Limits::default()).unwrap();
        assert_eq!(reader.headers().last().unwrap(), "错误原因");
        let rows: Vec<_> = reader.map(Result::unwrap).collect();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].cells[0], "甲公司");
        assert!(rows[0].cells[4].contains("第 2 行"), "{:?}", rows[0].cells);
        // An error file imported again brings its error column: its own error file has one.
        let csv = "客户名称,电话,错误原因\n坏电话公司,12ab,电话号码格式不正确。\n";
        let (s, again) = upload(&admin, "customers", "errors.csv", csv.into()).await;
        assert_eq!(s, 201, "{again}");
        assert_eq!(again["mapping"], json!(["name", "phone", null]), "{again}");
        let again = again["id"].as_i64().unwrap();
        admin
            .ok("POST", &format!("/api/v1/imports/{again}/check"), None)
            .await;
        let v = wait(&admin, again, &["validated", "failed"]).await;
        assert_eq!(v["error_rows"], 1, "{v}");
        let (_, file) = bytes(&admin, &format!("/api/v1/imports/{again}/error-file")).await;
        let reader = guanxi_io::open_bytes(file, None, &guanxi_io::Limits::default()).unwrap();
        assert_eq!(reader.headers(), ["客户名称", "电话", "错误原因"]);
        let rows: Vec<_> = reader.map(Result::unwrap).collect();
        assert_eq!(rows[0].cells[..2], ["坏电话公司", "12ab"]);
        assert!(
            rows[0].cells[2].contains("电话号码格式不正确"),
            "{:?}",
            rows[0].cells
        );
        // Continue after the fix of the last row.
        let fixed = admin
            .ok(
                "PUT",
                &format!("/api/v1/imports/{id}/errors/5"),
                Some(json!({"cells": ["甲公司二部", "", "13800000004", ""]})),
            )
            .await;
        assert_eq!(fixed["fixed"], true);
        admin
            .ok("POST", &format!("/api/v1/imports/{id}/start"), None)
            .await;
        let done = wait(&admin, id, &["done", "failed"]).await;
        assert!(
            names(&admin, "customers")
                .await
                .contains(&"甲公司二部".to_owned()),
            "{done}"
        );
        // Exports neutralise cells that a spreadsheet would run as formulas.
        let (s, csv) = bytes(
            &admin,
            "/api/v1/customers/export?format=csv&columns=name,phone&sort=name",
        )
        .await;
        assert_eq!(s, 200);
        let text = String::from_utf8(csv).unwrap();
        assert!(text.starts_with('\u{feff}'), "BOM");
        assert!(text.contains("\"'=HYPERLINK(\"\"x\"\")\""), "{text}");
        assert!(!text.contains("\n=HYPERLINK"), "{text}");
        // The export imported again changes nothing: the quotes it added come off.
        let formula = admin
            .ok(
                "POST",
                "/api/v1/customers",
                Some(json!({"name": "@公式公司", "notes": "-2+3"})),
            )
            .await;
        let (_, csv) = bytes(
            &admin,
            "/api/v1/customers/export?format=csv&columns=name,notes&sort=name",
        )
        .await;
        assert!(
            String::from_utf8_lossy(&csv).contains("'@公式公司,'-2+3"),
            "{}",
            String::from_utf8_lossy(&csv)
        );
        let before = names(&admin, "customers").await;
        let (s, again) = upload(&admin, "customers", "export.csv", csv).await;
        assert_eq!(s, 201, "{again}");
        let again = again["id"].as_i64().unwrap();
        map(&admin, again, json!(["name", "notes"]), "update").await;
        admin
            .ok("POST", &format!("/api/v1/imports/{again}/start"), None)
            .await;
        let done = wait(&admin, again, &["done", "failed"]).await;
        assert_eq!(done["created_rows"], 0, "{done}");
        assert_eq!(names(&admin, "customers").await, before);
        let id = formula["id"].as_i64().unwrap();
        let v = admin
            .ok("GET", &format!("/api/v1/customers/{id}"), None)
            .await;
        assert_eq!(v["notes"], "-2+3", "{v}");
        app.finish().await;
    }
}

#[tokio::test]
async fn templates_round_trip_with_custom_fields_and_xlsx_from_libreoffice() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin().await;
        admin
            .ok(
                "POST",
                "/api/v1/custom-fields/customers",
                Some(json!({"module": "customers", "code": "cf_budget", "kind": "money", "label_zh": "预算", "label_en": "Budget"})),
            )
            .await;
        let (s, file) = bytes(&admin, "/api/v1/customers/import-template?format=xlsx").await;
        assert_eq!(s, 200);
        let reader = guanxi_io::open_bytes(file, None, &guanxi_io::Limits::default()).unwrap();
        let headers = reader.headers().to_vec();
        assert_eq!(headers[0], "客户名称");
        assert!(headers.contains(&"预算".to_owned()), "{headers:?}");
        assert!(headers.contains(&"负责人".to_owned()), "{headers:?}");
        assert_eq!(reader.sheets().len(), 2, "options on a second sheet");
        // Fill the template as a user would and import it: every column maps itself.
        let mut w = guanxi_io::XlsxWriter::new("数据").unwrap();
        w.header(&headers).unwrap();
        let row: Vec<guanxi_io::Cell> = headers
            .iter()
            .map(|h| match h.as_str() {
                "客户名称" => guanxi_io::Cell::Text("模板公司".into()),
                "客户类型" => guanxi_io::Cell::Text("A 类（重点）".into()),
                "电话" => guanxi_io::Cell::Int(13900001111),
                "预算" => guanxi_io::Cell::Number(12345.5),
                "负责人" => guanxi_io::Cell::Text("admin".into()),
                _ => guanxi_io::Cell::Empty,
            })
            .collect();
        w.write_row(&row).unwrap();
        let filled = w.save_to_buffer().unwrap();
        let (s, imp) = upload(&admin, "customers", "模板.xlsx", filled).await;
        assert_eq!(s, 201, "{imp}");
        assert!(
            imp["mapping"]
                .as_array()
                .unwrap()
                .iter()
                .all(|m| !m.is_null()),
            "{imp}"
        );
        let id = imp["id"].as_i64().unwrap();
        admin
            .ok("POST", &format!("/api/v1/imports/{id}/start"), None)
            .await;
        let done = wait(&admin, id, &["done", "failed"]).await;
        assert_eq!(done["created_rows"], 1, "{done}");
        let c = admin.ok("GET", "/api/v1/customers?q=模板公司", None).await;
        assert_eq!(c["items"][0]["cf_budget"], 1234550);
        assert_eq!(c["items"][0]["phone"], "13900001111");
        // The export comes back in through the import unchanged (labels, yuan, names).
        let (s, xlsx) = bytes(&admin, "/api/v1/customers/export?format=xlsx").await;
        assert_eq!(s, 200);
        let back = guanxi_io::open_bytes(xlsx, None, &guanxi_io::Limits::default()).unwrap();
        let rows: Vec<_> = back.map(Result::unwrap).collect();
        assert_eq!(rows.len(), 1);
        assert!(
            rows[0].cells.contains(&"A 类（重点）".to_owned()),
            "{:?}",
            rows[0].cells
        );
        assert!(
            rows[0].cells.contains(&"12345.5".to_owned()),
            "{:?}",
            rows[0].cells
        );
        // An XLSX saved by LibreOffice (numbers, dates, formulas, a second sheet).
        let lo = std::fs::read(format!("{FIXTURES}/customers_libreoffice.xlsx")).unwrap();
        let (s, imp) = upload(&admin, "contacts", "lo.xlsx", lo).await;
        assert_eq!(s, 201, "{imp}");
        assert_eq!(imp["format"], "xlsx");
        app.finish().await;
    }
}

#[tokio::test]
async fn unreadable_files_are_refused_with_a_reason() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin().await;
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("empty.csv", vec![], "import-error-empty"),
            (
                "png.csv",
                b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01".to_vec(),
                "import-error-binary",
            ),
            (
                "dup.csv",
                "名称,名称\n1,2\n".as_bytes().to_vec(),
                "import-error-duplicate-header",
            ),
            (
                "zip.xlsx",
                b"PK\x03\x04garbage that is not a zip".to_vec(),
                "import-error-not-xlsx",
            ),
            (
                "wide.csv",
                format!(
                    "{}\n",
                    (0..10_000)
                        .map(|i| format!("c{i}"))
                        .collect::<Vec<_>>()
                        .join(",")
                )
                .into_bytes(),
                "import-error-too-many-columns",
            ),
        ];
        for (name, content, key) in cases {
            let (s, v) = upload(&admin, "customers", name, content).await;
            assert_eq!(s, 422, "{name}: {v}");
            assert!(v.to_string().contains("file"), "{name}: {v}");
            assert!(
                !v["error"]["message"]
                    .as_str()
                    .unwrap_or_default()
                    .is_empty()
            );
            let _ = key;
        }
        let list = admin.ok("GET", "/api/v1/customers/imports", None).await;
        assert_eq!(
            list.as_array().unwrap().len(),
            0,
            "nothing kept of refused files"
        );
        // A mapping naming unknown fields or one field twice is refused.
        let (_, imp) = upload(
            &admin,
            "customers",
            "ok.csv",
            "a,b\n1,2\n".as_bytes().to_vec(),
        )
        .await;
        let id = imp["id"].as_i64().unwrap();
        let (s, _) = admin
            .call(
                "PUT",
                &format!("/api/v1/imports/{id}/mapping"),
                Some(json!({"mapping": ["name", "name"]})),
            )
            .await;
        assert_eq!(s, 422);
        let (s, _) = admin
            .call(
                "PUT",
                &format!("/api/v1/imports/{id}/mapping"),
                Some(json!({"mapping": ["nope", null]})),
            )
            .await;
        assert_eq!(s, 422);
        assert_eq!(
            admin
                .post(&format!("/api/v1/imports/{id}/check"), json!({}))
                .await
                .0,
            409,
            "nothing mapped"
        );
        // A row the file cannot give (more cells than headers) stops the dry run, and the
        // message names its row, in the API and on the page.
        let ragged = "客户名称,电话\n甲,021-1\n乙,021-2,多余\n丙,021-3\n";
        let (s, imp) = upload(&admin, "customers", "ragged.csv", ragged.into()).await;
        assert_eq!(s, 201, "{imp}");
        let id = imp["id"].as_i64().unwrap();
        map(&admin, id, json!(["name", "phone"]), "skip").await;
        admin
            .ok("POST", &format!("/api/v1/imports/{id}/check"), None)
            .await;
        let v = wait(&admin, id, &["validated", "failed"]).await;
        assert_eq!(v["state"], "failed", "{v}");
        assert_eq!(v["message"], "import-error-malformed", "{v}");
        assert_eq!(v["message_args"]["row"], "3", "{v}");
        let page = app
            .web_login("admin", common::ADMIN_PASSWORD)
            .await
            .get(app.url(&format!("/imports/{id}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("第 3 行无法读取"), "{page}");
        app.finish().await;
    }
}

/// An import checks the next chunk while it writes this one: organisations named again in a
/// later chunk, before the chunk that creates them is written, are still created once.
#[tokio::test]
async fn organisations_named_across_chunks_are_created_once() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin().await;
        let mut csv = String::from("姓名,手机,公司\n");
        for i in 0..12_000 {
            let org = ["甲机构", "乙机构", "丙机构"][i % 3];
            csv += &format!("联系人{i},139{i:08},{org}\n");
        }
        let (s, imp) = upload(&admin, "contacts", "contacts.csv", csv.into_bytes()).await;
        assert_eq!(s, 201, "{imp}");
        let id = imp["id"].as_i64().unwrap();
        map(
            &admin,
            id,
            json!(["name", "mobile", "organisation_name"]),
            "skip",
        )
        .await;
        admin
            .ok("POST", &format!("/api/v1/imports/{id}/start"), None)
            .await;
        let done = wait(&admin, id, &["done", "failed"]).await;
        assert_eq!(done["state"], "done", "{done}");
        assert_eq!(done["created_rows"], 12_000, "{done}");
        assert_eq!(
            names(&admin, "organisations").await,
            ["丙机构", "乙机构", "甲机构"],
            "{backend:?}"
        );
        let v = admin
            .ok("GET", "/api/v1/contacts?q=联系人11999", None)
            .await;
        assert!(v["items"][0]["organisation_id"].as_i64().is_some(), "{v}");
        app.finish().await;
    }
}
