//! Files an import must refuse, and the error each one gets.

use std::io::{Cursor, Write};

use guanxi_io::{Cell, Limits, ReadError, Reader, XlsxWriter, open_bytes};
use zip::write::SimpleFileOptions;

fn open_err(bytes: &[u8]) -> Option<ReadError> {
    open_bytes(bytes.to_vec(), None, &Limits::default()).err()
}

fn open_ok(bytes: &[u8]) -> Reader {
    open_bytes(bytes.to_vec(), None, &Limits::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// A zip archive of `entries`, deflated.
fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in entries {
        let options =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        writer
            .start_file(*name, options)
            .unwrap_or_else(|e| panic!("{e}"));
        writer.write_all(data).unwrap_or_else(|e| panic!("{e}"));
    }
    writer
        .finish()
        .unwrap_or_else(|e| panic!("{e}"))
        .into_inner()
}

/// A small real workbook written by this crate, as (entry name, contents) pairs.
fn workbook_entries() -> Vec<(String, Vec<u8>)> {
    let mut writer = XlsxWriter::new("Sheet1").unwrap_or_else(|e| panic!("{e}"));
    writer
        .header(&["name".to_owned()])
        .unwrap_or_else(|e| panic!("{e}"));
    writer
        .write_row(&[Cell::Text("Li".into())])
        .unwrap_or_else(|e| panic!("{e}"));
    let bytes = writer.save_to_buffer().unwrap_or_else(|e| panic!("{e}"));
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap_or_else(|e| panic!("{e}"));
    (0..archive.len())
        .map(|index| {
            let mut file = archive.by_index(index).unwrap_or_else(|e| panic!("{e}"));
            let mut data = Vec::new();
            std::io::copy(&mut file, &mut data).unwrap_or_else(|e| panic!("{e}"));
            let name = file.name().unwrap_or_else(|e| panic!("{e}")).into_owned();
            (name, data)
        })
        .collect()
}

#[test]
fn empty_file() {
    assert_eq!(open_err(b""), Some(ReadError::Empty));
    assert_eq!(open_err(b"\xEF\xBB\xBF"), Some(ReadError::Empty));
    assert_eq!(open_err(b"\r\n,,,\r\n"), Some(ReadError::Empty));
}

#[test]
fn header_only_is_fine() {
    let mut reader = open_ok(b"name,phone\r\n");
    assert_eq!(reader.headers(), ["name", "phone"]);
    assert_eq!(reader.next_row(), None);
}

#[test]
fn binary_files() {
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x06\0\0\0";
    assert_eq!(open_err(png), Some(ReadError::Binary));
    assert_eq!(open_err(b"name\x01,x\n"), Some(ReadError::Binary));
    let mut ole = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1".to_vec();
    ole.resize(512, 0);
    assert_eq!(open_err(&ole), Some(ReadError::LegacyXls));
}

#[test]
fn zip_that_is_not_a_workbook() {
    let archive = zip_of(&[("hello.txt", b"hello"), ("photo.jpg", b"\xff\xd8\xff")]);
    assert_eq!(open_err(&archive), Some(ReadError::NotXlsx));
    assert_eq!(open_err(b"PK\x03\x04truncated"), Some(ReadError::NotXlsx));
}

#[test]
fn zip_bomb_by_ratio() {
    // 8 MB of zeros deflate to a few KB: far over the 200:1 ratio.
    let zeros = vec![0u8; 8 << 20];
    let mut entries = workbook_entries();
    entries.push(("xl/media/padding.bin".to_owned(), zeros));
    let borrowed: Vec<(&str, &[u8])> = entries
        .iter()
        .map(|(name, data)| (name.as_str(), data.as_slice()))
        .collect();
    let bomb = zip_of(&borrowed);
    assert!(bomb.len() < 100_000, "{} bytes", bomb.len());
    assert_eq!(open_err(&bomb), Some(ReadError::ZipBomb));
}

#[test]
fn zip_bomb_by_declared_size() {
    let entries = workbook_entries();
    let borrowed: Vec<(&str, &[u8])> = entries
        .iter()
        .map(|(name, data)| (name.as_str(), data.as_slice()))
        .collect();
    let mut bomb = zip_of(&borrowed);
    assert!(open_bytes(bomb.clone(), None, &Limits::default()).is_ok());
    // Declare the sheet's uncompressed size as 3.9 GB in the central directory; the content
    // is never inflated, so it does not matter that it is really small.
    let name = b"xl/worksheets/sheet1.xml";
    let header = bomb
        .windows(4)
        .enumerate()
        .filter(|(_, w)| *w == b"PK\x01\x02")
        .map(|(at, _)| at)
        .find(|&at| bomb[at + 46..].starts_with(name))
        .unwrap_or_else(|| panic!("no central directory entry for the sheet"));
    bomb[header + 24..header + 28].copy_from_slice(&0xF000_0000u32.to_le_bytes());
    assert_eq!(open_err(&bomb), Some(ReadError::ZipBomb));
}

#[test]
fn ten_thousand_columns() {
    let header: Vec<String> = (0..10_000).map(|i| format!("c{i}")).collect();
    let csv = format!("{}\n", header.join(","));
    assert_eq!(
        open_err(csv.as_bytes()),
        Some(ReadError::TooManyColumns {
            found: 10_000,
            max: 500
        })
    );
}

#[test]
fn too_many_columns_in_a_workbook() {
    let header: Vec<String> = (0..600).map(|i| format!("c{i}")).collect();
    let mut writer = XlsxWriter::new("S").unwrap_or_else(|e| panic!("{e}"));
    writer.header(&header).unwrap_or_else(|e| panic!("{e}"));
    let bytes = writer.save_to_buffer().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        open_err(&bytes),
        Some(ReadError::TooManyColumns {
            found: 600,
            max: 500
        })
    );
}

#[test]
fn trailing_blank_headers_are_dropped() {
    let reader = open_ok(b"a,b,,, \r\n1,2\r\n");
    assert_eq!(reader.headers(), ["a", "b"]);
}

#[test]
fn header_problems() {
    assert_eq!(
        open_err("姓名,手机,姓名\n".as_bytes()),
        Some(ReadError::DuplicateHeader {
            name: "姓名".into()
        })
    );
    assert_eq!(
        open_err(b"a,,b\n"),
        Some(ReadError::EmptyHeader { column: 2 })
    );
}

#[test]
fn invalid_in_utf8_and_gb18030() {
    // 0xFF is invalid in both; so is a GB18030 lead byte followed by a space.
    assert_eq!(open_err(b"name\xff,x\n"), Some(ReadError::Encoding));
    assert_eq!(open_err(b"name\x81 x\n"), Some(ReadError::Encoding));
    // Past an ASCII header the error comes with the rows, and ends them.
    let mut reader = open_ok(b"name,phone\r\nLi,1\r\n\xff\xfe\xfd,2\r\nWang,3\r\n");
    assert_eq!(reader.next_row().map(|r| r.is_ok()), Some(true));
    assert_eq!(reader.next_row(), Some(Err(ReadError::Encoding)));
    assert_eq!(reader.next_row(), None);
}

#[test]
fn error_keys_and_args() {
    let error = ReadError::CellTooLong {
        row: 12,
        column: 3,
        max: 32_767,
    };
    assert_eq!(error.key(), "import-error-cell-too-long");
    assert_eq!(
        error.args(),
        vec![
            ("row", "12".to_owned()),
            ("column", "3".to_owned()),
            ("max", "32767".to_owned())
        ]
    );
    assert!(error.is_fatal());
    let malformed = ReadError::Malformed {
        row: 4,
        detail: String::new(),
    };
    assert!(!malformed.is_fatal());
    assert_eq!(ReadError::ZipBomb.key(), "import-error-zip-bomb");
}
