//! Attachments of any engine record: list, upload (multipart, field `file`), download and
//! delete under `/api/v1/{module}/{id}/attachments`. Permission follows the record; records
//! outside the caller's scope answer 404.

use axum::Router;
use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use guanxi_core::validate::FieldError;
use guanxi_store::attachments::Attachment;

use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::services::attachments::{self as svc, MAX_FILE_SIZE, MAX_UPLOAD_BODY};
use crate::services::records::module;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/{module}/{id}/attachments", get(list).post(upload))
        .route(
            "/api/v1/{module}/{id}/attachments/{attachment}",
            get(download).delete(delete),
        )
        .layer(DefaultBodyLimit::max(MAX_UPLOAD_BODY))
}

/// A file read from a multipart body. At most one byte more than [`MAX_FILE_SIZE`] is kept, so
/// an oversize file is recognised without holding all of it.
pub struct Upload {
    pub file_name: String,
    pub content: Vec<u8>,
}

fn multipart_error(e: MultipartError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        // Over the body limit: say so the way the size check does.
        return svc::check_size(MAX_FILE_SIZE + 1)
            .err()
            .unwrap_or(AppError::BadRequest("error-multipart"));
    }
    tracing::debug!(error = %e, "bad multipart body");
    AppError::BadRequest("error-multipart")
}

/// Reads the field `file` of a multipart body (other fields are skipped).
pub async fn read_upload(mp: Result<Multipart, MultipartRejection>) -> AppResult<Upload> {
    let mut mp = mp.map_err(|_| AppError::BadRequest("error-multipart"))?;
    let mut upload = None;
    while let Some(mut field) = mp.next_field().await.map_err(multipart_error)? {
        if field.name() != Some("file") || upload.is_some() {
            continue;
        }
        let file_name = field.file_name().unwrap_or_default().to_owned();
        let mut content = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
            // Keep reading (and dropping) past the limit, so the client hears our answer.
            let room = (MAX_FILE_SIZE + 1).saturating_sub(content.len());
            content.extend_from_slice(&chunk[..chunk.len().min(room)]);
        }
        upload = Some(Upload { file_name, content });
    }
    upload.ok_or_else(|| FieldError::new("file", "error-file-missing").into())
}

/// `attachment; filename="…"; filename*=UTF-8''…` (RFC 6266 with an RFC 5987 name, so Chinese
/// names survive; the plain name is an ASCII stand-in for old clients).
pub fn content_disposition(name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// The download response: the stored bytes as an attachment, never sniffed or cached shared.
pub fn file_response(a: &Attachment, content: Vec<u8>) -> Response {
    let mut resp = content.into_response();
    let h = resp.headers_mut();
    let value = |s: &str| {
        HeaderValue::from_str(s).unwrap_or(HeaderValue::from_static("application/octet-stream"))
    };
    h.insert(header::CONTENT_TYPE, value(&a.content_type));
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&content_disposition(&a.file_name))
            .unwrap_or(HeaderValue::from_static("attachment")),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    resp
}

fn ids(m: &str, id: &str) -> AppResult<(&'static guanxi_core::engine::ModuleDef, i64)> {
    Ok((module(m)?, id.parse().map_err(|_| AppError::NotFound)?))
}

/// The multipart body of an upload (for the API documentation).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The file; at most 20 MiB.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

#[utoipa::path(get, path = "/api/v1/{module}/{id}/attachments", tag = "attachments",
    params(("module" = String, Path, description = "customers, contacts, organisations, ..."), ("id" = i64, Path)),
    responses((status = 200, body = Vec<Attachment>), (status = 404)))]
pub async fn list(
    State(s): State<AppState>,
    auth: Auth,
    Path((m, i)): Path<(String, String)>,
) -> AppResult<axum::Json<Vec<Attachment>>> {
    let (def, id) = ids(&m, &i)?;
    Ok(axum::Json(svc::list(&s, &auth, def, id).await?))
}

#[utoipa::path(post, path = "/api/v1/{module}/{id}/attachments", tag = "attachments",
    params(("module" = String, Path), ("id" = i64, Path)),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, body = Attachment), (status = 404), (status = 409, description = "the record is locked"),
        (status = 422, description = "empty or larger than 20 MiB")))]
pub async fn upload(
    State(s): State<AppState>,
    auth: Auth,
    Path((m, i)): Path<(String, String)>,
    mp: Result<Multipart, MultipartRejection>,
) -> AppResult<(StatusCode, axum::Json<Attachment>)> {
    let (def, id) = ids(&m, &i)?;
    let u = read_upload(mp).await?;
    let a = svc::upload(&s, &auth, def, id, &u.file_name, &u.content).await?;
    Ok((StatusCode::CREATED, axum::Json(a)))
}

#[utoipa::path(get, path = "/api/v1/{module}/{id}/attachments/{attachment}", tag = "attachments",
    params(("module" = String, Path), ("id" = i64, Path), ("attachment" = i64, Path)),
    responses((status = 200, description = "the file, as an attachment", content_type = "application/octet-stream"), (status = 404)))]
pub async fn download(
    State(s): State<AppState>,
    auth: Auth,
    Path((m, i, a)): Path<(String, String, String)>,
) -> AppResult<Response> {
    let (def, id) = ids(&m, &i)?;
    let a: i64 = a.parse().map_err(|_| AppError::NotFound)?;
    let (meta, content) = svc::download(&s, &auth, def, id, a).await?;
    Ok(file_response(&meta, content))
}

#[utoipa::path(delete, path = "/api/v1/{module}/{id}/attachments/{attachment}", tag = "attachments",
    params(("module" = String, Path), ("id" = i64, Path), ("attachment" = i64, Path)),
    responses((status = 204), (status = 404), (status = 409, description = "the record is locked")))]
pub async fn delete(
    State(s): State<AppState>,
    auth: Auth,
    Path((m, i, a)): Path<(String, String, String)>,
) -> AppResult<StatusCode> {
    let (def, id) = ids(&m, &i)?;
    let a: i64 = a.parse().map_err(|_| AppError::NotFound)?;
    svc::delete(&s, &auth, def, id, a).await?;
    Ok(StatusCode::NO_CONTENT)
}
