//! Refusing zip bombs before anything is decompressed.
//!
//! An `.xlsx` is a zip archive, and a few kilobytes of deflate can expand to gigabytes of XML.
//! The central directory declares every entry's compressed and uncompressed size, and the zip
//! crate refuses to produce more bytes than an entry declares, so checking the declarations
//! up front bounds what the workbook reader can ever inflate.

use std::io::{Read, Seek};

use super::{Limits, ReadError};

/// Entries smaller than this are never called bombs for their ratio alone: small XML parts
/// (styles, a sheet of repeated blank cells) legitimately compress very well, and their size
/// is harmless.
const RATIO_FLOOR: u64 = 1024 * 1024;

/// Checks the archive's declared sizes against `limits` and returns the reader.
pub(crate) fn check<R: Read + Seek>(reader: R, limits: &Limits) -> Result<R, ReadError> {
    let archive = zip::ZipArchive::new(reader).map_err(|_| ReadError::NotXlsx)?;
    let mut total: u64 = 0;
    for index in 0..archive.len() {
        let entry = archive
            .by_index_data(index)
            .map_err(|_| ReadError::NotXlsx)?;
        let size = entry.size();
        total = total.saturating_add(size);
        if total > limits.max_uncompressed {
            return Err(ReadError::ZipBomb);
        }
        let compressed = entry.compressed_size().max(1);
        if size > RATIO_FLOOR && size / compressed > limits.max_ratio {
            return Err(ReadError::ZipBomb);
        }
    }
    Ok(archive.into_inner())
}
