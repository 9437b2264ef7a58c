//! Guanxi's import and export formats: reading uploaded CSV and `.xlsx` files as a stream of
//! rows, writing CSV and `.xlsx` exports and import templates, and parsing the dates people
//! put in spreadsheets.
//!
//! Everything here is pure (no database, no HTTP, no network), deterministic and bounded in
//! memory whatever the input: uploads are untrusted, run to a million rows, and are read on a
//! blocking thread of a small server. The database side lives in `guanxi-store` and calls in.

pub mod dates;
pub mod read;
pub mod write;

pub use read::{Format, Limits, ReadError, Reader, Row, open, open_bytes};
pub use write::{
    Cell, CsvWriter, TemplateColumn, XlsxError, XlsxWriter, neutralise, template_csv, unneutralise,
    write_template,
};

/// Runs the whole parsing path over arbitrary bytes: open, headers, every row, and both date
/// parsers on every cell. The fuzz target and a corpus test call it; it must never panic.
pub fn fuzz_one(data: &[u8]) {
    let limits = Limits {
        max_bytes: 4 << 20,
        max_columns: 64,
        max_cell_chars: 1024,
        max_rows: 10_000,
        max_uncompressed: 16 << 20,
        max_ratio: 200,
    };
    let Ok(reader) = open_bytes(data.to_vec(), None, &limits) else {
        return;
    };
    let _ = (
        reader.format(),
        reader.encoding(),
        reader.delimiter(),
        reader.sheets(),
    );
    for header in reader.headers() {
        let _ = (dates::parse_date(header), dates::parse_datetime(header));
    }
    for row in reader.flatten() {
        for cell in &row.cells {
            let _ = (dates::parse_date(cell), dates::parse_datetime(cell));
        }
    }
}
