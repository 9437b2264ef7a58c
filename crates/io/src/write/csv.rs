//! CSV exports in the form Excel opens without an import dialog on any Windows locale.
//!
//! Excel reads a CSV as the ANSI code page (GBK on Chinese Windows) unless it starts with a
//! UTF-8 BOM, so the BOM is always written; lines end in CRLF and fields are quoted per
//! RFC 4180. A hand-written writer is a dozen lines, which beats a dependency.

use std::io::{self, Write};

use super::neutralise;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Writes rows of text cells as CSV: 450,000–570,000 rows/s for 12 columns in a release
/// build (`examples/io_speed.rs`), in constant memory.
pub struct CsvWriter<W: Write> {
    inner: W,
    line: Vec<u8>,
}

impl<W: Write> CsvWriter<W> {
    /// Starts a CSV by writing the UTF-8 BOM. Wrap a file in a `BufWriter`: each row is one
    /// `write_all`.
    pub fn new(mut inner: W) -> io::Result<Self> {
        inner.write_all(BOM)?;
        Ok(Self {
            inner,
            line: Vec::with_capacity(256),
        })
    }

    /// Writes one row; every cell is neutralised and quoted if it needs to be.
    pub fn write_row<I, S>(&mut self, cells: I) -> io::Result<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.line.clear();
        for (index, cell) in cells.into_iter().enumerate() {
            if index > 0 {
                self.line.push(b',');
            }
            push_field(&mut self.line, &neutralise(cell.as_ref()));
        }
        self.line.extend_from_slice(b"\r\n");
        self.inner.write_all(&self.line)
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.inner.flush()?;
        Ok(self.inner)
    }
}

/// Appends `field`, quoted when it holds a delimiter, quote or line break. Leading or trailing
/// spaces are quoted too, so that no reader trims them away.
fn push_field(line: &mut Vec<u8>, field: &str) {
    let needs_quotes =
        field.contains([',', '"', '\r', '\n']) || field.starts_with(' ') || field.ends_with(' ');
    if !needs_quotes {
        line.extend_from_slice(field.as_bytes());
        return;
    }
    line.push(b'"');
    for part in field.split_inclusive('"') {
        line.extend_from_slice(part.as_bytes());
        if part.ends_with('"') {
            line.push(b'"');
        }
    }
    line.push(b'"');
}

/// A CSV import template: BOM and the header row.
pub fn template_csv(columns: &[super::TemplateColumn]) -> String {
    let mut line = Vec::new();
    for (index, column) in columns.iter().enumerate() {
        if index > 0 {
            line.push(b',');
        }
        push_field(&mut line, &neutralise(&column.header));
    }
    line.extend_from_slice(b"\r\n");
    format!("\u{FEFF}{}", String::from_utf8_lossy(&line))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(rows: &[&[&str]]) -> String {
        let result = (|| {
            let mut writer = CsvWriter::new(Vec::new())?;
            for row in rows {
                writer.write_row(row.iter())?;
            }
            writer.finish()
        })();
        String::from_utf8(result.unwrap_or_default()).unwrap_or_default()
    }

    #[test]
    fn quotes_and_neutralises() {
        assert_eq!(
            csv(&[
                &["a", "b,c", "say \"hi\"", "two\nlines"],
                &["=1+2", "-3", " x"]
            ]),
            "\u{FEFF}a,\"b,c\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n'=1+2,-3,\" x\"\r\n"
        );
    }

    #[test]
    fn template_is_the_header_row() {
        let columns = [
            super::super::TemplateColumn {
                header: "姓名".into(),
                required: true,
                note: None,
                options: Vec::new(),
            },
            super::super::TemplateColumn {
                header: "电话, 手机".into(),
                required: false,
                note: None,
                options: Vec::new(),
            },
        ];
        assert_eq!(template_csv(&columns), "\u{FEFF}姓名,\"电话, 手机\"\r\n");
    }
}
