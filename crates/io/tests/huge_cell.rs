//! A 200 MB cell is refused after its first 32,767 characters, without buffering the rest.
//! Kept alone in its own test binary so that the peak-memory reading is this test's own.

use std::fs::File;
use std::io::{BufWriter, Write};

use guanxi_io::{Limits, ReadError, open};

const CELL_BYTES: usize = 200 << 20;

fn write_file(path: &std::path::Path, prefix: &[u8]) {
    let file = File::create(path).unwrap_or_else(|e| panic!("{e}"));
    let mut out = BufWriter::new(file);
    let chunk = vec![b'a'; 1 << 20];
    out.write_all(prefix).unwrap_or_else(|e| panic!("{e}"));
    for _ in 0..CELL_BYTES / chunk.len() {
        out.write_all(&chunk).unwrap_or_else(|e| panic!("{e}"));
    }
    out.write_all(b"\"\n").unwrap_or_else(|e| panic!("{e}"));
    out.flush().unwrap_or_else(|e| panic!("{e}"));
}

/// Peak resident memory of this process in KiB, from /proc (Linux only).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn two_hundred_megabyte_cell() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("huge.csv");

    write_file(&path, b"name,note\r\nLi,\"");
    let mut reader = open(&path, None, &Limits::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        reader.next_row(),
        Some(Err(ReadError::CellTooLong {
            row: 2,
            column: 2,
            max: 32_767
        }))
    );
    assert_eq!(reader.next_row(), None);

    write_file(&path, b"\"");
    let error = open(&path, None, &Limits::default()).err();
    assert_eq!(
        error,
        Some(ReadError::CellTooLong {
            row: 1,
            column: 1,
            max: 32_767
        })
    );

    if let Some(peak) = peak_rss_kib() {
        assert!(peak < 100 * 1024, "peak RSS {peak} KiB");
    }
}
