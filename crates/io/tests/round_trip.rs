//! What the writers produce, the reader reads back.

use std::io::{Cursor, Read};

use chrono::NaiveDate;
use guanxi_io::{
    Cell, CsvWriter, Format, Limits, Row, TemplateColumn, XlsxError, XlsxWriter, open, open_bytes,
    template_csv, write::MAX_DATA_ROWS, write_template,
};

fn ok<T, E: std::fmt::Display>(result: Result<T, E>) -> T {
    result.unwrap_or_else(|e| panic!("{e}"))
}

fn read_all(bytes: Vec<u8>, sheet: Option<&str>) -> (Vec<String>, Vec<Row>) {
    let reader = ok(open_bytes(bytes, sheet, &Limits::default()));
    let headers = reader.headers().to_vec();
    (headers, reader.map(ok).collect())
}

fn strings(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| (*c).to_owned()).collect()
}

#[test]
fn xlsx_round_trip() {
    let date = ok(NaiveDate::from_ymd_opt(2024, 1, 31).ok_or("date"));
    let datetime = ok(date.and_hms_opt(8, 30, 15).ok_or("time"));
    let mut writer = ok(XlsxWriter::new("客户"));
    ok(writer.header(&strings(&[
        "姓名",
        "手机",
        "金额",
        "生日",
        "最近联系",
        "VIP",
        "备注",
        "身份证",
    ])));
    ok(writer.write_row(&[
        Cell::Text("张三".into()),
        Cell::Int(13_800_138_000),
        Cell::Number(1200.5),
        Cell::Date(date),
        Cell::DateTime(datetime),
        Cell::Bool(true),
        Cell::Text("=1+2".into()),
        Cell::Int(110_101_199_003_074_514),
    ]));
    ok(writer.write_row(&vec![Cell::Empty; 8]));
    ok(writer.write_row(&[
        Cell::Text("李四".into()),
        Cell::Empty,
        Cell::Number(-0.25),
        Cell::Empty,
        Cell::Empty,
        Cell::Bool(false),
        Cell::Text("-3".into()),
    ]));
    let bytes = ok(writer.save_to_buffer());

    let reader = ok(open_bytes(bytes.clone(), None, &Limits::default()));
    assert_eq!(reader.format(), Format::Xlsx);
    assert_eq!(reader.sheets(), ["客户"]);
    let (headers, rows) = read_all(bytes, None);
    assert_eq!(
        headers,
        [
            "姓名",
            "手机",
            "金额",
            "生日",
            "最近联系",
            "VIP",
            "备注",
            "身份证"
        ]
    );
    assert_eq!(
        rows,
        vec![
            Row {
                line: 2,
                cells: strings(&[
                    "张三",
                    "13800138000",
                    "1200.5",
                    "2024-01-31",
                    "2024-01-31 08:30:15",
                    "TRUE",
                    "'=1+2",
                    "110101199003074514"
                ])
            },
            Row {
                line: 4,
                cells: strings(&["李四", "", "-0.25", "", "", "FALSE", "-3", ""])
            },
        ]
    );
}

#[test]
fn xlsx_to_file_and_back() {
    let dir = ok(tempfile::tempdir());
    let path = dir.path().join("export.xlsx");
    let mut writer = ok(XlsxWriter::new("Export"));
    ok(writer.header(&strings(&["id"])));
    for i in 0..1000 {
        ok(writer.write_row(&[Cell::Int(i)]));
    }
    ok(writer.save(&path));
    let reader = ok(open(&path, Some("Export"), &Limits::default()));
    let rows: Vec<Row> = reader.map(ok).collect();
    assert_eq!(rows.len(), 1000);
    assert_eq!(rows[999].line, 1001);
    assert_eq!(rows[999].cells, ["999"]);
}

#[test]
fn writers_and_errors_cross_threads() {
    fn assert_send<T: Send>() {}
    fn assert_error<T: std::error::Error + Send + Sync + 'static>() {}
    assert_send::<XlsxWriter>();
    assert_send::<CsvWriter<Vec<u8>>>();
    assert_error::<XlsxError>();
    assert_error::<guanxi_io::ReadError>();
}

#[test]
fn header_must_come_first() {
    let mut writer = ok(XlsxWriter::new("S"));
    ok(writer.write_row(&[Cell::Int(1)]));
    assert!(matches!(
        writer.header(&strings(&["a"])),
        Err(XlsxError::HeaderNotFirst)
    ));
    assert_eq!(MAX_DATA_ROWS, 1_048_575);
}

#[test]
fn csv_round_trip() {
    let rows = [
        strings(&["姓名", "备注", "金额"]),
        strings(&["张三", "说\"你好\", 再见\n第二行", "-12.5"]),
        strings(&["李四", "@SUM(A1)", " 7 "]),
    ];
    let mut writer = ok(CsvWriter::new(Vec::new()));
    for row in &rows {
        ok(writer.write_row(row));
    }
    let bytes = ok(writer.finish());
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let (headers, read) = read_all(bytes, None);
    assert_eq!(headers, rows[0]);
    assert_eq!(read[0].cells, rows[1]);
    assert_eq!(read[1].cells, strings(&["李四", "'@SUM(A1)", " 7 "]));
}

fn columns() -> Vec<TemplateColumn> {
    vec![
        TemplateColumn {
            header: "客户名称".into(),
            required: true,
            note: None,
            options: Vec::new(),
        },
        TemplateColumn {
            header: "客户等级".into(),
            required: false,
            note: Some("从下拉列表选择".into()),
            options: strings(&["A 重点", "B 普通", "C 潜在"]),
        },
        TemplateColumn {
            header: "来源".into(),
            required: true,
            note: Some("必填：客户来源".into()),
            options: strings(&["展会", "转介绍"]),
        },
        TemplateColumn {
            header: "-备注".into(),
            required: false,
            note: None,
            options: Vec::new(),
        },
    ]
}

/// The text of one entry of an `.xlsx` archive.
fn entry_text(bytes: &[u8], name: &str) -> String {
    let mut archive = ok(zip::ZipArchive::new(Cursor::new(bytes)));
    let mut text = String::new();
    ok(ok(archive.by_name(name)).read_to_string(&mut text));
    text
}

#[test]
fn template_reads_back() {
    let dir = ok(tempfile::tempdir());
    let path = dir.path().join("template.xlsx");
    let example = strings(&["星辰科技", "A 重点", "展会", "老客户"]);
    ok(write_template(
        &path,
        "客户",
        "选项",
        &columns(),
        Some(&example),
    ));

    let bytes = ok(std::fs::read(&path));
    let (headers, rows) = read_all(bytes.clone(), None);
    assert_eq!(headers, ["客户名称", "客户等级", "来源", "-备注"]);
    assert_eq!(
        rows,
        vec![Row {
            line: 2,
            cells: example
        }]
    );

    let reader = ok(open_bytes(bytes.clone(), None, &Limits::default()));
    assert_eq!(reader.sheets(), ["客户", "选项"]);
    let (option_headers, option_rows) = read_all(bytes.clone(), Some("选项"));
    assert_eq!(option_headers, ["客户等级", "来源"]);
    let cells: Vec<Vec<String>> = option_rows.into_iter().map(|r| r.cells).collect();
    assert_eq!(
        cells,
        vec![
            strings(&["A 重点", "展会"]),
            strings(&["B 普通", "转介绍"]),
            strings(&["C 潜在", ""]),
        ]
    );

    let sheet = entry_text(&bytes, "xl/worksheets/sheet1.xml");
    assert!(
        sheet.contains("<formula1>'选项'!$A$2:$A$4</formula1>"),
        "{sheet}"
    );
    assert!(
        sheet.contains("<formula1>'选项'!$B$2:$B$3</formula1>"),
        "{sheet}"
    );
    assert!(sheet.contains("sqref=\"B2:B1048576\""), "{sheet}");
    let notes = entry_text(&bytes, "xl/comments1.xml");
    assert!(notes.contains("必填 / required"), "{notes}");
    assert!(notes.contains("从下拉列表选择"), "{notes}");
}

#[test]
fn template_without_options_has_one_sheet() {
    let dir = ok(tempfile::tempdir());
    let path = dir.path().join("plain.xlsx");
    let plain: Vec<TemplateColumn> = columns()
        .into_iter()
        .map(|c| TemplateColumn {
            options: Vec::new(),
            ..c
        })
        .collect();
    ok(write_template(&path, "Data", "Options", &plain, None));
    let reader = ok(open(&path, None, &Limits::default()));
    assert_eq!(reader.sheets(), ["Data"]);
    assert_eq!(reader.count(), 0);
}

#[test]
fn csv_template() {
    let text = template_csv(&columns());
    let (headers, rows) = read_all(text.into_bytes(), None);
    assert_eq!(headers, ["客户名称", "客户等级", "来源", "'-备注"]);
    assert!(rows.is_empty());
}
