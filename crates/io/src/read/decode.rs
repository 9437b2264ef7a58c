//! Streaming conversion of CSV bytes to UTF-8, so a 200 MB file is never one `String`.
//!
//! Excel on Chinese Windows saves "CSV" in GBK, "CSV UTF-8" with a BOM, and "Unicode text" in
//! UTF-16LE with a BOM; other tools write UTF-8 without one. BOMs are handled by the caller,
//! which passes the encoding they name. Without a BOM the encoding is decided at the first
//! non-ASCII byte (ASCII reads the same in every candidate): the rest of the buffered input is
//! UTF-8 if it validates as UTF-8, GB18030 (a superset of GBK) otherwise. Decoding never
//! substitutes U+FFFD: a byte sequence invalid in the chosen encoding stops the import with
//! [`ReadError::Encoding`](super::ReadError::Encoding) rather than storing mojibake.

use std::io::{self, BufRead, Read};

use encoding_rs::{Decoder, DecoderResult, Encoding, GB18030, UTF_8};

/// Bytes read from the source at a time; also the window the encoding is judged on.
const INPUT_CAPACITY: usize = 64 * 1024;
/// Room for the worst expansion of a full input buffer (a GB18030 or UTF-16 code unit pair is
/// at most 4 UTF-8 bytes, a two-byte unit at most 3), plus slack for a pending sequence.
const OUTPUT_CAPACITY: usize = 2 * INPUT_CAPACITY + 16;

/// The marker inside the `io::Error` a [`Decode`] returns for undecodable input.
#[derive(Debug)]
struct EncodingFailure;

impl std::fmt::Display for EncodingFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("input is not valid in the detected text encoding")
    }
}

impl std::error::Error for EncodingFailure {}

/// True if `error` came from a [`Decode`] meeting undecodable input.
pub(crate) fn is_encoding_failure(error: &io::Error) -> bool {
    error
        .get_ref()
        .is_some_and(|inner| inner.is::<EncodingFailure>())
}

fn encoding_failure() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, EncodingFailure)
}

/// A `Read` adapter yielding UTF-8 from UTF-8, GB18030/GBK or UTF-16 input.
pub(crate) struct Decode<R> {
    inner: R,
    input: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    /// `None` while everything so far was ASCII and no BOM named the encoding.
    decoder: Option<Decoder>,
    output: Vec<u8>,
    out_start: usize,
    out_end: usize,
    finished: bool,
    failed: bool,
}

impl<R: Read> Decode<R> {
    /// Decodes `inner`, which must not start with a BOM; `encoding` is the one a BOM named, or
    /// `None` to detect UTF-8 or GB18030.
    pub(crate) fn new(inner: R, encoding: Option<&'static Encoding>) -> Self {
        Self {
            inner,
            input: vec![0; INPUT_CAPACITY],
            start: 0,
            end: 0,
            eof: false,
            decoder: encoding.map(Encoding::new_decoder_without_bom_handling),
            output: vec![0; OUTPUT_CAPACITY],
            out_start: 0,
            out_end: 0,
            finished: false,
            failed: false,
        }
    }

    /// The encoding in use: "UTF-8" until a non-ASCII byte decides otherwise, then "UTF-8",
    /// "GB18030", "UTF-16LE" or "UTF-16BE".
    pub(crate) fn encoding_name(&self) -> &'static str {
        match self.decoder.as_ref().map(Decoder::encoding) {
            None => "UTF-8",
            Some(encoding) if encoding == GB18030 => "GB18030",
            Some(encoding) => encoding.name(),
        }
    }

    /// Reads until the input buffer is full or the source ends.
    fn fill(&mut self) -> io::Result<()> {
        if self.start > 0 {
            self.input.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        while self.end < self.input.len() && !self.eof {
            match self.inner.read(&mut self.input[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Refills the (empty) output buffer with the next decoded bytes.
    fn decode_more(&mut self) -> io::Result<()> {
        self.out_start = 0;
        self.out_end = 0;
        if self.start == self.end {
            self.fill()?;
        }
        let Some(decoder) = self.decoder.as_mut() else {
            return self.pass_ascii();
        };
        let (result, read, written) = decoder.decode_to_utf8_without_replacement(
            &self.input[self.start..self.end],
            &mut self.output,
            self.eof,
        );
        self.start += read;
        self.out_end = written;
        match result {
            DecoderResult::Malformed(_, _) => {
                self.failed = true;
                Err(encoding_failure())
            }
            DecoderResult::InputEmpty => {
                self.finished = self.eof;
                Ok(())
            }
            DecoderResult::OutputFull => Ok(()),
        }
    }

    /// Copies leading ASCII through unchanged, and picks the encoding at the first byte that
    /// is not ASCII.
    fn pass_ascii(&mut self) -> io::Result<()> {
        let pending = &self.input[self.start..self.end];
        let ascii = pending
            .iter()
            .position(|b| !b.is_ascii())
            .unwrap_or(pending.len());
        if ascii > 0 {
            self.output[..ascii].copy_from_slice(&pending[..ascii]);
            self.start += ascii;
            self.out_end = ascii;
            return Ok(());
        }
        if pending.is_empty() {
            self.finished = self.eof;
            return Ok(());
        }
        // Judge on as much as the buffer holds, not on the few bytes left of the last read.
        self.fill()?;
        let encoding = choose_encoding(&self.input[self.start..self.end], self.eof);
        self.decoder = Some(encoding.new_decoder_without_bom_handling());
        Ok(())
    }
}

/// UTF-8 if `window` (starting at a non-ASCII byte) is valid UTF-8, allowing a sequence cut
/// off by the end of the buffer; GB18030 otherwise.
pub(crate) fn choose_encoding(window: &[u8], eof: bool) -> &'static Encoding {
    match std::str::from_utf8(window) {
        Ok(_) => UTF_8,
        Err(e) if e.error_len().is_none() && !eof => UTF_8,
        Err(_) => GB18030,
    }
}

impl<R: Read> BufRead for Decode<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.out_start == self.out_end && !self.finished {
            if self.failed {
                return Err(encoding_failure());
            }
            self.decode_more()?;
        }
        Ok(&self.output[self.out_start..self.out_end])
    }

    fn consume(&mut self, amount: usize) {
        self.out_start = (self.out_start + amount).min(self.out_end);
    }
}

impl<R: Read> Read for Decode<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = buf.len().min(available.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(bytes: &[u8], encoding: Option<&'static Encoding>) -> io::Result<String> {
        let mut decode = Decode::new(bytes, encoding);
        let mut out = String::new();
        decode.read_to_string(&mut out)?;
        Ok(out)
    }

    #[test]
    fn ascii_and_utf8_pass_through() {
        assert_eq!(
            decode_all(b"a,b\r\n", None).ok().as_deref(),
            Some("a,b\r\n")
        );
        let text = "姓名,电话\n张三,138";
        assert_eq!(
            decode_all(text.as_bytes(), None).ok().as_deref(),
            Some(text)
        );
    }

    #[test]
    fn gbk_is_detected() {
        let (bytes, _, _) = GB18030.encode("姓名,电话\n张三,138");
        let mut decode = Decode::new(&bytes[..], None);
        let mut out = String::new();
        assert!(decode.read_to_string(&mut out).is_ok());
        assert_eq!(out, "姓名,电话\n张三,138");
        assert_eq!(decode.encoding_name(), "GB18030");
    }

    #[test]
    fn long_ascii_prefix_then_gbk() {
        let mut bytes = "x".repeat(200_000).into_bytes();
        bytes.extend_from_slice(&GB18030.encode("客户").0);
        let out = decode_all(&bytes, None).unwrap_or_default();
        assert!(out.ends_with("客户"));
        assert_eq!(out.len(), 200_000 + "客户".len());
    }

    #[test]
    fn invalid_everywhere_is_an_encoding_failure() {
        let error = decode_all(b"a,b\n\xff\xff\xff\n", None).err();
        assert!(error.as_ref().is_some_and(is_encoding_failure), "{error:?}");
    }

    #[test]
    fn utf16le() {
        let bytes: Vec<u8> = "名\tb".encode_utf16().flat_map(u16::to_le_bytes).collect();
        let out = decode_all(&bytes, Some(encoding_rs::UTF_16LE));
        assert_eq!(out.ok().as_deref(), Some("名\tb"));
    }
}
