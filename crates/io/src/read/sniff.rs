//! Telling what an upload is from its first bytes: file names lie ("客户.csv" is often an
//! `.xlsx` renamed by hand, or a screenshot), content does not.

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE};

use super::Format;
use super::decode::choose_encoding;
use super::tokenize::Tokenizer;

/// How much of the start of a file the binary check looks at.
pub(crate) const BINARY_WINDOW: usize = 8 * 1024;

/// Records looked at when choosing a delimiter.
const SNIFF_RECORDS: usize = 50;

/// Local file header and empty-archive signatures of a zip file (every `.xlsx` is one).
const ZIP_MAGIC: [&[u8]; 2] = [b"PK\x03\x04", b"PK\x05\x06"];

/// The OLE compound file signature of `.xls` workbooks and of password-protected `.xlsx`.
const OLE_MAGIC: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

impl Format {
    /// The format of a file starting with `prefix` (a few KB suffice), or `None` when it is
    /// empty or binary.
    pub fn detect(prefix: &[u8]) -> Option<Format> {
        if prefix.is_empty() {
            None
        } else if is_zip(prefix) {
            Some(Format::Xlsx)
        } else if matches!(bom(prefix), Some((e, _)) if e != UTF_8) || !looks_binary(prefix) {
            Some(Format::Csv)
        } else {
            None
        }
    }
}

pub(crate) fn is_zip(prefix: &[u8]) -> bool {
    ZIP_MAGIC.iter().any(|magic| prefix.starts_with(magic))
}

pub(crate) fn is_ole(prefix: &[u8]) -> bool {
    prefix.starts_with(OLE_MAGIC)
}

/// The encoding named by a byte order mark at the start of `prefix`, and the mark's length.
pub(crate) fn bom(prefix: &[u8]) -> Option<(&'static Encoding, usize)> {
    if prefix.starts_with(b"\xEF\xBB\xBF") {
        Some((UTF_8, 3))
    } else if prefix.starts_with(b"\xFF\xFE") {
        Some((UTF_16LE, 2))
    } else if prefix.starts_with(b"\xFE\xFF") {
        Some((UTF_16BE, 2))
    } else {
        None
    }
}

/// True if the first [`BINARY_WINDOW`] bytes hold a NUL or a control character no text
/// export contains. Tab, line ends, form feed and the DOS end-of-file mark (0x1A) are text.
pub(crate) fn looks_binary(prefix: &[u8]) -> bool {
    prefix
        .iter()
        .take(BINARY_WINDOW)
        .any(|&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1A)) || b == 0x7F)
}

/// Decodes the start of a CSV (without BOM) well enough to look at its structure: lossy, as
/// the real decoding later reports any bad bytes with their position in the stream.
pub(crate) fn preview_text(
    body: &[u8],
    encoding: Option<&'static Encoding>,
    complete: bool,
) -> String {
    let encoding = encoding.unwrap_or_else(|| match body.iter().position(|b| !b.is_ascii()) {
        Some(first) => choose_encoding(&body[first..], complete),
        None => UTF_8,
    });
    encoding.decode_without_bom_handling(body).0.into_owned()
}

/// Picks the delimiter among `,` `;` tab `|` from the start of a file.
///
/// Each candidate splits the header (first non-blank record, quotes respected) into some
/// number of columns; a candidate is consistent when no following record has a value beyond
/// that width. The winner is the consistent candidate with the most header columns, then the
/// inconsistent one with the most; a file where no candidate gives two columns is a
/// one-column comma file. `complete` says whether `text` is the whole file: if not, its last
/// record may be cut short and is not judged.
pub(crate) fn sniff_delimiter(text: &str, complete: bool, max_cell_chars: usize) -> u8 {
    let mut best = (b',', (false, false, 0));
    for delimiter in [b',', b';', b'\t', b'|'] {
        let score = score_delimiter(text, delimiter, complete, max_cell_chars);
        // A candidate that does not split the header is no evidence for it.
        if score.0 && score > best.1 {
            best = (delimiter, score);
        }
    }
    best.0
}

/// (splits the header at all, consistent, header width) for one candidate.
fn score_delimiter(
    text: &str,
    delimiter: u8,
    complete: bool,
    max_cell_chars: usize,
) -> (bool, bool, usize) {
    let mut tokenizer = Tokenizer::new(text.as_bytes(), delimiter, max_cell_chars);
    let mut widths = Vec::new();
    while widths.len() < SNIFF_RECORDS {
        match tokenizer.next_record(0) {
            Ok(Some(record)) => {
                if let Some(last) = record.last_non_empty {
                    widths.push(last + 1);
                }
            }
            // A cell over the limit ends the sample; the real read reports it.
            Ok(None) | Err(_) => break,
        }
    }
    if !complete && widths.len() > 1 && widths.len() < SNIFF_RECORDS {
        widths.pop();
    }
    let Some((&header, rest)) = widths.split_first() else {
        return (false, false, 0);
    };
    let consistent = rest.iter().all(|&width| width <= header);
    (header > 1, consistent, header)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_formats() {
        assert_eq!(Format::detect(b""), None);
        assert_eq!(Format::detect(b"PK\x03\x04rest"), Some(Format::Xlsx));
        assert_eq!(Format::detect(b"a,b\r\n1,2\r\n"), Some(Format::Csv));
        assert_eq!(Format::detect(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), None);
        assert_eq!(Format::detect(b"\xFF\xFEa\0,\0"), Some(Format::Csv));
        assert_eq!(Format::detect(OLE_MAGIC), None);
    }

    #[test]
    fn sniffs_delimiters() {
        assert_eq!(sniff_delimiter("a,b,c\n1,2,3\n", true, 100), b',');
        assert_eq!(sniff_delimiter("a;b;c\n1;2,5;3\n", true, 100), b';');
        assert_eq!(sniff_delimiter("a\tb\n1\t2\n", true, 100), b'\t');
        assert_eq!(sniff_delimiter("a|b|c\n1|2|3\n", true, 100), b'|');
        assert_eq!(sniff_delimiter("name\nLi\n", true, 100), b',');
        // Delimiters inside quotes do not count.
        assert_eq!(
            sniff_delimiter("\"a;b;c\",d\n\"1;2;3\",4\n", true, 100),
            b','
        );
        // A semicolon inside a header name loses to the consistent comma split.
        assert_eq!(
            sniff_delimiter("name,phone;mobile,note\na,b,c\n", true, 100),
            b','
        );
    }
}
