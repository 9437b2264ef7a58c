//! Attachments (资料上传) on any record of the engine. Permission follows the record: listing and
//! downloading need View on the module and the record in the caller's data scope (else 404);
//! uploading and deleting need Edit and refuse a locked record, like every other edit.

use guanxi_core::Action;
use guanxi_core::engine::ModuleDef;
use guanxi_core::validate::FieldError;
use guanxi_store::attachments::{self as store, Attachment, NewAttachment};
use guanxi_store::audit::{self, Event};
use guanxi_store::records::{self, Record};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::services::records::fields;
use crate::state::AppState;

/// The largest file accepted, in bytes.
pub const MAX_FILE_SIZE: usize = 20 * 1024 * 1024;

/// The largest upload request (the file plus the multipart framing); the global body limit in
/// the middleware is the same.
pub const MAX_UPLOAD_BODY: usize = 25 * 1024 * 1024;

/// The longest file name kept, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// The record, if the caller may do `action` on its module and it is in the caller's scope.
async fn record_for(
    state: &AppState,
    auth: &Auth,
    def: &'static ModuleDef,
    id: i64,
    action: Action,
) -> AppResult<Record> {
    let g = auth.principal.authorize(def.module, action)?;
    let fs = fields(state, def).await?;
    Ok(records::get(&state.db, &fs, &g, id).await?)
}

/// The same record, for a change: a locked record refuses it.
async fn record_for_change(
    state: &AppState,
    auth: &Auth,
    def: &'static ModuleDef,
    id: i64,
) -> AppResult<Record> {
    let rec = record_for(state, auth, def, id, Action::Edit).await?;
    if rec.locked {
        return Err(AppError::conflict("error-record-locked"));
    }
    Ok(rec)
}

pub async fn list(
    state: &AppState,
    auth: &Auth,
    def: &'static ModuleDef,
    id: i64,
) -> AppResult<Vec<Attachment>> {
    record_for(state, auth, def, id, Action::View).await?;
    Ok(store::list(&state.db, def, id).await?)
}

/// The metadata and content of one attachment, for a download.
pub async fn download(
    state: &AppState,
    auth: &Auth,
    def: &'static ModuleDef,
    id: i64,
    attachment: i64,
) -> AppResult<(Attachment, Vec<u8>)> {
    record_for(state, auth, def, id, Action::View).await?;
    let meta = store::get_meta(&state.db, def, id, attachment).await?;
    let content = store::content(&state.db, def, id, attachment).await?;
    Ok((meta, content))
}

/// Stores a file on a record: refuses empty and oversize files, cleans the name, and types the
/// content by its extension.
pub async fn upload(
    state: &AppState,
    auth: &Auth,
    def: &'static ModuleDef,
    id: i64,
    file_name: &str,
    content: &[u8],
) -> AppResult<Attachment> {
    let rec = record_for_change(state, auth, def, id).await?;
    check_size(content.len())?;
    let name = sanitize_file_name(file_name);
    let digest = sha256_hex(content);
    let file = NewAttachment {
        file_name: &name,
        content_type: content_type_for(&name),
        sha256: &digest,
        content,
    };
    let title = rec.title(def);
    let mut tx = state.db.begin().await?;
    let a = store::insert(&mut tx, def, id, &file, &auth.actor).await?;
    audit::record(
        &mut tx,
        &auth.actor,
        Event::new(
            "attachment.upload",
            format!("uploaded {} to {} {title}", a.file_name, def.code),
        )
        .module(def.module)
        .target(rec.id, title.as_str())
        .details(json!({
            "attachment_id": a.id, "file_name": a.file_name, "size": a.size, "sha256": a.sha256,
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(a)
}

pub async fn delete(
    state: &AppState,
    auth: &Auth,
    def: &'static ModuleDef,
    id: i64,
    attachment: i64,
) -> AppResult<Attachment> {
    let rec = record_for_change(state, auth, def, id).await?;
    let title = rec.title(def);
    let mut tx = state.db.begin().await?;
    let a = store::delete(&mut tx, def, id, attachment).await?;
    audit::record(
        &mut tx,
        &auth.actor,
        Event::new(
            "attachment.delete",
            format!("deleted {} from {} {title}", a.file_name, def.code),
        )
        .module(def.module)
        .target(rec.id, title.as_str())
        .details(json!({ "attachment_id": a.id, "file_name": a.file_name })),
    )
    .await?;
    tx.commit().await?;
    Ok(a)
}

/// Refuses an empty file and one over [`MAX_FILE_SIZE`].
pub fn check_size(len: usize) -> AppResult<()> {
    if len == 0 {
        return Err(FieldError::new("file", "error-file-empty").into());
    }
    if len > MAX_FILE_SIZE {
        return Err(FieldError::new("file", "error-file-too-large")
            .with_arg("max", human_size(MAX_FILE_SIZE as i64))
            .into());
    }
    Ok(())
}

fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A safe file name: the last component of what the client sent (no path separators), without
/// control characters or characters that file systems refuse, at most [`MAX_NAME_CHARS`]
/// characters (the extension is kept when shortening). Never empty.
pub fn sanitize_file_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim();
    let name = if trimmed.is_empty() { "file" } else { trimmed };
    if name.chars().count() <= MAX_NAME_CHARS {
        return name.to_owned();
    }
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e)
        .filter(|e| !e.is_empty() && e.chars().count() <= 16);
    match ext {
        Some(ext) => {
            let keep = MAX_NAME_CHARS - ext.chars().count() - 1;
            let stem: String = name.chars().take(keep).collect();
            format!("{}.{ext}", stem.trim_end())
        }
        None => name.chars().take(MAX_NAME_CHARS).collect(),
    }
}

/// The content type for a file name's extension; unknown ones are `application/octet-stream`.
pub fn content_type_for(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "ppt" => "application/vnd.ms-powerpoint",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "odt" => "application/vnd.oasis.opendocument.text",
        "ods" => "application/vnd.oasis.opendocument.spreadsheet",
        "odp" => "application/vnd.oasis.opendocument.presentation",
        "wps" => "application/vnd.ms-works",
        "rtf" => "application/rtf",
        "txt" | "log" => "text/plain; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "md" => "text/markdown; charset=utf-8",
        "json" => "application/json",
        "xml" => "application/xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "bmp" => "image/bmp",
        "tif" | "tiff" => "image/tiff",
        "heic" => "image/heic",
        "svg" => "image/svg+xml",
        "ico" => "image/vnd.microsoft.icon",
        "zip" => "application/zip",
        "rar" => "application/vnd.rar",
        "7z" => "application/x-7z-compressed",
        "gz" | "tgz" => "application/gzip",
        "tar" => "application/x-tar",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "m4a" => "audio/mp4",
        "mp4" => "video/mp4",
        "mov" => "video/quicktime",
        "eml" => "message/rfc822",
        "ofd" => "application/ofd",
        _ => "application/octet-stream",
    }
}

/// A size for people: 512 B, 3.4 KB, 20 MB (units of 1024).
pub fn human_size(bytes: i64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut unit = UNITS[0];
    for u in &UNITS[1..] {
        if v < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    let s = format!("{v:.1}");
    format!("{} {unit}", s.strip_suffix(".0").unwrap_or(&s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_cleaned() {
        assert_eq!(sanitize_file_name("../../etc/passwd"), "passwd");
        assert_eq!(
            sanitize_file_name("C:\\Users\\张三\\合同.docx"),
            "合同.docx"
        );
        assert_eq!(sanitize_file_name("a\u{0}b?.txt"), "a_b_.txt");
        assert_eq!(sanitize_file_name(".."), "file");
        assert_eq!(sanitize_file_name("  "), "file");
        assert_eq!(sanitize_file_name(".bashrc"), "bashrc");
        let long = format!("{}.pdf", "报".repeat(300));
        let s = sanitize_file_name(&long);
        assert_eq!(s.chars().count(), MAX_NAME_CHARS);
        assert!(s.ends_with(".pdf"));
    }

    #[test]
    fn types_and_sizes() {
        assert_eq!(content_type_for("报价单.PDF"), "application/pdf");
        assert_eq!(content_type_for("x.tar.gz"), "application/gzip");
        assert_eq!(content_type_for("noext"), "application/octet-stream");
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1536), "1.5 KB");
        assert_eq!(human_size(MAX_FILE_SIZE as i64), "20 MB");
        assert!(check_size(0).is_err());
        assert!(check_size(MAX_FILE_SIZE).is_ok());
        assert!(check_size(MAX_FILE_SIZE + 1).is_err());
    }
}
