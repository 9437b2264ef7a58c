//! Reading files written by real spreadsheet programs (see `fixtures/make_fixtures.py`).

use std::path::PathBuf;

use guanxi_io::{Format, Limits, ReadError, Reader, Row, open};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn open_fixture(name: &str, sheet: Option<&str>) -> Reader {
    match open(&fixture(name), sheet, &Limits::default()) {
        Ok(reader) => reader,
        Err(error) => panic!("{name}: {error}"),
    }
}

fn rows(reader: Reader) -> Vec<Row> {
    reader
        .map(|row| row.unwrap_or_else(|e| panic!("row error: {e}")))
        .collect()
}

fn row(line: u64, cells: &[&str]) -> Row {
    Row {
        line,
        cells: cells.iter().map(|c| (*c).to_owned()).collect(),
    }
}

fn chinese_customers() -> Vec<Row> {
    vec![
        row(
            2,
            &[
                "张三",
                "13800138000",
                "zhangsan@example.com",
                "北京星辰科技有限公司",
                "重要客户\n需要每周回访",
                "2024/1/31",
            ],
        ),
        row(
            3,
            &[
                "李四",
                "13912345678",
                "",
                "上海海纳贸易有限公司",
                "说\"你好\"",
                "2024/2/1",
            ],
        ),
        row(
            4,
            &[
                "王五",
                "+8613700000000",
                "wangwu@example.cn",
                "深圳前海物流, 南山分公司",
                "",
                "2023/12/15",
            ],
        ),
    ]
}

const CHINESE_HEADERS: [&str; 6] = ["姓名", "手机", "邮箱", "公司", "备注", "创建日期"];

#[test]
fn gbk_csv_from_excel_on_chinese_windows() {
    let reader = open_fixture("customers_gbk.csv", None);
    assert_eq!(reader.format(), Format::Csv);
    assert_eq!(reader.encoding(), "GB18030");
    assert_eq!(reader.delimiter(), Some(b','));
    assert_eq!(reader.headers(), CHINESE_HEADERS);
    assert!(reader.sheets().is_empty());
    assert_eq!(reader.sheet(), None);
    assert_eq!(rows(reader), chinese_customers());
}

#[test]
fn utf16_unicode_text() {
    let reader = open_fixture("customers_utf16.txt", None);
    assert_eq!(reader.encoding(), "UTF-16LE");
    assert_eq!(reader.delimiter(), Some(b'\t'));
    assert_eq!(reader.headers(), CHINESE_HEADERS);
    assert_eq!(rows(reader), chinese_customers());
}

#[test]
fn utf8_bom_with_semicolons() {
    let reader = open_fixture("customers_utf8_bom_semicolon.csv", None);
    assert_eq!(reader.encoding(), "UTF-8");
    assert_eq!(reader.delimiter(), Some(b';'));
    assert_eq!(reader.headers(), ["name", "phone", "amount", "note"]);
    assert_eq!(
        rows(reader),
        vec![
            row(2, &["Müller", "+49301234567", "1,5", "VIP; pays late"]),
            row(3, &["Łukasz", "0048221234567", "12,75", ""]),
        ]
    );
}

#[test]
fn xlsx_from_libreoffice() {
    let reader = open_fixture("customers_libreoffice.xlsx", None);
    assert_eq!(reader.format(), Format::Xlsx);
    assert_eq!(reader.encoding(), "");
    assert_eq!(reader.delimiter(), None);
    assert_eq!(reader.sheets(), ["客户", "说明"]);
    assert_eq!(reader.sheet(), Some("客户"));
    assert_eq!(
        reader.headers(),
        [
            "姓名",
            "手机",
            "生日",
            "金额",
            "双倍金额",
            "VIP",
            "最近联系"
        ]
    );
    assert_eq!(
        rows(reader),
        vec![
            row(
                2,
                &[
                    "张三",
                    "13800138000",
                    "1990-05-17",
                    "1200.5",
                    "2401",
                    "TRUE",
                    "2024-01-31 08:30:00"
                ]
            ),
            // Row 3 is empty and skipped.
            row(
                4,
                &[
                    "李四",
                    "13912345678",
                    "1985-12-01",
                    "300",
                    "600",
                    "FALSE",
                    "2024-02-01 14:05:09"
                ]
            ),
            row(5, &["王五", "+8613700000000", "", "0.1", "0.2", "TRUE", ""]),
        ]
    );
}

#[test]
fn xlsx_second_sheet_by_name() {
    let reader = open_fixture("customers_libreoffice.xlsx", Some("说明"));
    assert_eq!(reader.sheet(), Some("说明"));
    assert_eq!(reader.headers(), ["字段", "说明"]);
    assert_eq!(rows(reader), vec![row(2, &["手机", "11位数字"])]);
}

#[test]
fn xlsx_missing_sheet() {
    let error = open(
        &fixture("customers_libreoffice.xlsx"),
        Some("Sheet9"),
        &Limits::default(),
    )
    .err();
    assert_eq!(
        error,
        Some(ReadError::NoSuchSheet {
            name: "Sheet9".into()
        })
    );
}

#[test]
fn format_is_told_by_content_not_name() {
    // The workbook copied to a .csv name still opens as a workbook.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let renamed = dir.path().join("客户.csv");
    std::fs::copy(fixture("customers_libreoffice.xlsx"), &renamed)
        .unwrap_or_else(|e| panic!("{e}"));
    let reader = open(&renamed, None, &Limits::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(reader.format(), Format::Xlsx);
}
