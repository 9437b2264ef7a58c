//! Splitting decoded CSV text into records, the way Excel reads it back.
//!
//! Written here rather than taken from the `csv` crate for three reasons: row numbers must be
//! the ones Excel shows (the `csv` crate skips blank lines, which would shift every later row
//! number in an error message), a cell must be refused as soon as it passes the length limit
//! instead of after a 200 MB cell has been buffered, and cells past the header width must be
//! checked for content without being stored.
//!
//! Quoting follows RFC 4180 with Excel's leniency: a field is quoted only if it starts with
//! `"`, a `""` inside quotes is one quote, text after a closing quote is kept, and a quote in
//! the middle of an unquoted field is an ordinary character. CRLF, LF and a lone CR all end a
//! record outside quotes; inside quotes they are part of the cell.

use std::io::{self, BufRead};

use super::RawRecord;
use super::ReadError;
use super::decode::is_encoding_failure;

/// Where the parser is inside the current field.
#[derive(Clone, Copy)]
enum State {
    FieldStart,
    Unquoted,
    Quoted,
    /// Just saw a `"` inside a quoted field: a second one is a literal quote, anything else
    /// closes the quotes.
    QuoteInQuoted,
}

/// Reads records one at a time from UTF-8 text.
pub(crate) struct Tokenizer<R> {
    inner: R,
    delimiter: u8,
    max_cell_chars: usize,
    /// Excel row number of the last record returned.
    row: u64,
    /// The last record ended with CR: a LF right after it belongs to the same line end.
    skip_lf: bool,
    done: bool,
}

impl<R: BufRead> Tokenizer<R> {
    pub(crate) fn new(inner: R, delimiter: u8, max_cell_chars: usize) -> Self {
        Self {
            inner,
            delimiter,
            max_cell_chars,
            row: 0,
            skip_lf: false,
            done: false,
        }
    }

    pub(crate) fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The next record, storing at most `keep` cells; cells past `keep` are only checked for
    /// length and content. Blank lines come back as records without content, so the row
    /// numbers stay right.
    pub(crate) fn next_record(&mut self, keep: usize) -> Result<Option<RawRecord>, ReadError> {
        if self.done {
            return Ok(None);
        }
        let mut record = RecordBuilder::new(self.row + 1, keep, self.max_cell_chars);
        let result = self.fill_record(&mut record);
        match result {
            Ok(true) => {
                self.row += 1;
                Ok(Some(record.finish()))
            }
            Ok(false) => {
                self.done = true;
                Ok(None)
            }
            Err(error) => {
                self.done = true;
                Err(error)
            }
        }
    }

    /// Feeds bytes into `record` until it ends; false if the input ended before any byte.
    fn fill_record(&mut self, record: &mut RecordBuilder) -> Result<bool, ReadError> {
        let mut state = State::FieldStart;
        let mut started = false;
        loop {
            let buf = match self.inner.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_error(&e)),
            };
            if buf.is_empty() {
                self.done = true;
                return Ok(started);
            }
            let mut consumed = 0;
            let mut complete = false;
            for &b in buf {
                consumed += 1;
                if self.skip_lf {
                    self.skip_lf = false;
                    if b == b'\n' {
                        continue;
                    }
                }
                started = true;
                state = match state {
                    State::FieldStart | State::Unquoted | State::QuoteInQuoted
                        if b == self.delimiter =>
                    {
                        record.end_field();
                        State::FieldStart
                    }
                    State::FieldStart | State::Unquoted | State::QuoteInQuoted
                        if b == b'\r' || b == b'\n' =>
                    {
                        self.skip_lf = b == b'\r';
                        complete = true;
                        break;
                    }
                    State::FieldStart if b == b'"' => State::Quoted,
                    State::Quoted if b == b'"' => State::QuoteInQuoted,
                    State::Quoted => {
                        record.push(b)?;
                        State::Quoted
                    }
                    State::QuoteInQuoted if b == b'"' => {
                        record.push(b)?;
                        State::Quoted
                    }
                    State::FieldStart | State::Unquoted | State::QuoteInQuoted => {
                        record.push(b)?;
                        State::Unquoted
                    }
                };
            }
            self.inner.consume(consumed);
            if complete {
                return Ok(true);
            }
        }
    }
}

fn io_error(error: &io::Error) -> ReadError {
    if is_encoding_failure(error) {
        ReadError::Encoding
    } else {
        ReadError::Io(error.to_string())
    }
}

/// One record being assembled.
struct RecordBuilder {
    row: u64,
    keep: usize,
    max_cell_chars: usize,
    cells: Vec<String>,
    /// 0-based index of the field being read.
    column: usize,
    field: Vec<u8>,
    chars: usize,
    blank: bool,
    last_non_empty: Option<usize>,
}

impl RecordBuilder {
    fn new(row: u64, keep: usize, max_cell_chars: usize) -> Self {
        Self {
            row,
            keep,
            max_cell_chars,
            cells: Vec::new(),
            column: 0,
            field: Vec::new(),
            chars: 0,
            blank: true,
            last_non_empty: None,
        }
    }

    fn push(&mut self, b: u8) -> Result<(), ReadError> {
        // Count characters, not bytes: UTF-8 continuation bytes are 0b10xx_xxxx.
        if b & 0xC0 != 0x80 {
            self.chars += 1;
            if self.chars > self.max_cell_chars {
                return Err(ReadError::CellTooLong {
                    row: self.row,
                    column: self.column + 1,
                    max: self.max_cell_chars,
                });
            }
        }
        if !b.is_ascii_whitespace() {
            self.blank = false;
        }
        if self.column < self.keep {
            self.field.push(b);
        }
        Ok(())
    }

    fn end_field(&mut self) {
        if self.column < self.keep {
            let bytes = std::mem::take(&mut self.field);
            // Fields split only at ASCII bytes, which never occur inside a UTF-8 sequence, so
            // decoded input always gives valid UTF-8 here.
            let text = String::from_utf8(bytes)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
            self.blank = text.trim().is_empty();
            self.cells.push(text);
        }
        if !self.blank {
            self.last_non_empty = Some(self.column);
        }
        self.column += 1;
        self.chars = 0;
        self.blank = true;
    }

    fn finish(mut self) -> RawRecord {
        self.end_field();
        RawRecord {
            row: self.row,
            cells: self.cells,
            last_non_empty: self.last_non_empty,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(text: &str, delimiter: u8) -> Vec<(u64, Vec<String>)> {
        let mut tokenizer = Tokenizer::new(text.as_bytes(), delimiter, 100);
        let mut out = Vec::new();
        while let Ok(Some(record)) = tokenizer.next_record(10) {
            out.push((record.row, record.cells));
        }
        out
    }

    fn row(n: u64, cells: &[&str]) -> (u64, Vec<String>) {
        (n, cells.iter().map(|c| (*c).to_owned()).collect())
    }

    #[test]
    fn quotes_newlines_and_line_ends() {
        let text = "a,b\r\n\"x, \"\"y\"\"\",\"two\nlines\"\r\n\r\nlast,1";
        assert_eq!(
            records(text, b','),
            vec![
                row(1, &["a", "b"]),
                row(2, &["x, \"y\"", "two\nlines"]),
                row(3, &[""]),
                row(4, &["last", "1"]),
            ]
        );
    }

    #[test]
    fn lone_cr_and_trailing_newline() {
        assert_eq!(
            records("a\rb\n", b','),
            vec![row(1, &["a"]), row(2, &["b"])]
        );
    }

    #[test]
    fn excel_leniency() {
        assert_eq!(
            records("ab\"c,\"q\"x\n", b','),
            vec![row(1, &["ab\"c", "qx"])]
        );
    }

    #[test]
    fn cells_past_keep_are_checked_not_stored() {
        let mut tokenizer = Tokenizer::new(&b"a,b,,c\n"[..], b',', 100);
        let record = tokenizer.next_record(1).ok().flatten();
        assert_eq!(record.as_ref().map(|r| r.cells.len()), Some(1));
        assert_eq!(record.and_then(|r| r.last_non_empty), Some(3));
    }

    #[test]
    fn long_cell_stops_early() {
        let text = format!("a,b\nok,{}\n", "长".repeat(101));
        let mut tokenizer = Tokenizer::new(text.as_bytes(), b',', 100);
        assert!(matches!(tokenizer.next_record(2), Ok(Some(_))));
        assert_eq!(
            tokenizer.next_record(2),
            Err(ReadError::CellTooLong {
                row: 2,
                column: 2,
                max: 100
            })
        );
        assert_eq!(tokenizer.next_record(2), Ok(None));
    }
}
