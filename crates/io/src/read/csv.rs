//! Opening a delimited text file: encoding, delimiter, then a record stream.

use std::io::{Cursor, Read};

use encoding_rs::{UTF_16BE, UTF_16LE};

use super::decode::Decode;
use super::sniff;
use super::tokenize::Tokenizer;
use super::{Limits, RawRecord, ReadError};

/// The byte source behind a CSV reader: a file or an in-memory upload.
pub(crate) type ByteSource = Box<dyn Read + Send>;

/// A CSV file being read.
pub(crate) struct CsvSource {
    tokenizer: Tokenizer<Decode<ByteSource>>,
    delimiter: u8,
}

impl CsvSource {
    /// Opens a text file whose first bytes are `head` and the rest `rest`; `complete` says
    /// that `head` is the whole file.
    pub(crate) fn open(
        head: Vec<u8>,
        complete: bool,
        rest: ByteSource,
        limits: &Limits,
    ) -> Result<Self, ReadError> {
        let (encoding, bom_len) = match sniff::bom(&head) {
            Some((encoding, len)) => (Some(encoding), len),
            None => (None, 0),
        };
        let utf16 = encoding.is_some_and(|e| e == UTF_16LE || e == UTF_16BE);
        if !utf16 {
            if sniff::is_ole(&head) {
                return Err(ReadError::LegacyXls);
            }
            if sniff::looks_binary(&head[bom_len..]) {
                return Err(ReadError::Binary);
            }
        }
        let preview = sniff::preview_text(&head[bom_len..], encoding, complete);
        let delimiter = sniff::sniff_delimiter(&preview, complete, limits.max_cell_chars);
        let mut head = Cursor::new(head);
        head.set_position(bom_len as u64);
        let stream: ByteSource = Box::new(head.chain(rest));
        Ok(Self {
            tokenizer: Tokenizer::new(
                Decode::new(stream, encoding),
                delimiter,
                limits.max_cell_chars,
            ),
            delimiter,
        })
    }

    pub(crate) fn encoding(&self) -> &'static str {
        self.tokenizer.get_ref().encoding_name()
    }

    pub(crate) fn delimiter(&self) -> u8 {
        self.delimiter
    }

    pub(crate) fn next_record(&mut self, keep: usize) -> Result<Option<RawRecord>, ReadError> {
        self.tokenizer.next_record(keep)
    }
}
