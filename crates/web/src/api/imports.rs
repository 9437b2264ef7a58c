//! Import and export API: templates, upload (streamed to disk), mapping, dry run, start,
//! progress, failed rows with in-place fixes, the error file, cancel and revert; and the export
//! of any list (its filter and sort as query parameters, `columns=a,b,c`, `format=csv|xlsx`).

use axum::Router;
use axum::body::Body;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use guanxi_core::validate::FieldError;
use guanxi_io::Cell;
use guanxi_store::imports::{ErrorRow, Import};
use serde::Deserialize;
use tokio::io::AsyncWriteExt;

use super::Json;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::services::export::{self, Format};
use crate::services::imports::{self as svc, Target};
use crate::services::records::{fields, module};
use crate::state::AppState;

/// The largest import file accepted (a million rows of CSV take about 150 MB).
pub const MAX_IMPORT_BYTES: usize = 1 << 30;

/// Routes with a large body limit (the upload); merged outside the default 25 MB limit.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/{module}/imports", get(list).post(upload))
        .route("/api/v1/{module}/import-template", get(template))
        .route("/api/v1/{module}/import-targets", get(targets))
        .route("/api/v1/{module}/export", get(export_list))
        .route("/api/v1/imports/{id}", get(read))
        .route("/api/v1/imports/{id}/mapping", put(set_mapping))
        .route("/api/v1/imports/{id}/check", post(check))
        .route("/api/v1/imports/{id}/start", post(start))
        .route("/api/v1/imports/{id}/cancel", post(cancel))
        .route("/api/v1/imports/{id}/revert", post(revert))
        .route("/api/v1/imports/{id}/errors", get(errors))
        .route("/api/v1/imports/{id}/errors/{line}", put(fix_row))
        .route("/api/v1/imports/{id}/error-file", get(error_file))
        .layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES))
}

fn id(s: &str) -> AppResult<i64> {
    s.parse().map_err(|_| AppError::NotFound)
}

/// Progress of an import, with its rate and the time left while it runs.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ImportStatus {
    #[serde(flatten)]
    pub import: Import,
    /// Rows per second since the write started.
    pub rows_per_second: Option<f64>,
    /// Estimated seconds left.
    pub seconds_left: Option<f64>,
}

pub fn status(imp: Import) -> ImportStatus {
    let elapsed = imp
        .started_at
        .map(|s| {
            (imp.finished_at.unwrap_or_else(chrono::Utc::now) - s).num_milliseconds() as f64
                / 1000.0
        })
        .filter(|s| *s > 0.0);
    let rate = elapsed
        .map(|e| imp.position as f64 / e)
        .filter(|r| *r > 0.0);
    let left = match (rate, imp.state.as_str()) {
        (Some(r), "running") => Some(((imp.total_rows - imp.position).max(0)) as f64 / r),
        _ => None,
    };
    ImportStatus {
        import: imp,
        rows_per_second: rate,
        seconds_left: left,
    }
}

#[utoipa::path(get, path = "/api/v1/{module}/imports", tag = "imports",
    params(("module" = String, Path)), responses((status = 200, body = Vec<ImportStatus>)))]
pub async fn list(
    State(s): State<AppState>,
    auth: Auth,
    Path(m): Path<String>,
) -> AppResult<axum::Json<Vec<ImportStatus>>> {
    Ok(axum::Json(
        svc::list(&s, &auth, &m)
            .await?
            .into_iter()
            .map(status)
            .collect(),
    ))
}

/// The multipart body of an import upload (for the API documentation).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ImportForm {
    /// A CSV (UTF-8, GBK/GB18030 or UTF-16, any delimiter) or XLSX file.
    file: Vec<u8>,
    /// The XLSX sheet to read (default: the first).
    sheet: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/{module}/imports", tag = "imports",
    params(("module" = String, Path)),
    request_body(content = ImportForm, content_type = "multipart/form-data"),
    responses((status = 201, body = ImportStatus), (status = 422, description = "the file cannot be read: empty, binary, wrong encoding, zip bomb, too many columns, duplicate headers...")))]
pub async fn upload(
    State(s): State<AppState>,
    auth: Auth,
    Path(m): Path<String>,
    mp: Result<Multipart, MultipartRejection>,
) -> AppResult<(StatusCode, axum::Json<ImportStatus>)> {
    svc::may_import(&auth, &m)?;
    let mut mp = mp.map_err(|_| AppError::BadRequest("error-multipart"))?;
    let mut file = None;
    let mut sheet = None;
    while let Some(mut field) = mp
        .next_field()
        .await
        .map_err(|_| AppError::BadRequest("error-multipart"))?
    {
        match field.name() {
            Some("sheet") => {
                sheet = field.text().await.ok().filter(|t| !t.trim().is_empty());
            }
            Some("file") if file.is_none() => {
                let name = field.file_name().unwrap_or("upload").to_owned();
                let path = svc::new_upload_path(&s, &auth).await?;
                let mut out = tokio::fs::File::create(&path)
                    .await
                    .map_err(|e| AppError::Internal(e.into()))?;
                let mut size = 0usize;
                loop {
                    let chunk = match field.chunk().await {
                        Ok(Some(c)) => c,
                        Ok(None) => break,
                        Err(_) => {
                            let _ = tokio::fs::remove_file(&path).await;
                            return Err(AppError::Validation(vec![
                                FieldError::new("file", "import-error-too-large")
                                    .with_arg("max", MAX_IMPORT_BYTES),
                            ]));
                        }
                    };
                    size += chunk.len();
                    out.write_all(&chunk)
                        .await
                        .map_err(|e| AppError::Internal(e.into()))?;
                }
                out.flush()
                    .await
                    .map_err(|e| AppError::Internal(e.into()))?;
                if size == 0 {
                    let _ = tokio::fs::remove_file(&path).await;
                    return Err(FieldError::new("file", "import-error-empty").into());
                }
                file = Some((name, path));
            }
            _ => {}
        }
    }
    let (name, path) =
        file.ok_or_else(|| AppError::from(FieldError::new("file", "error-file-missing")))?;
    let imp = svc::upload(&s, &auth, &m, &name, path, sheet).await?;
    Ok((StatusCode::CREATED, axum::Json(status(imp))))
}

#[utoipa::path(get, path = "/api/v1/imports/{id}", tag = "imports",
    params(("id" = i64, Path)), responses((status = 200, body = ImportStatus), (status = 404)))]
pub async fn read(
    State(s): State<AppState>,
    auth: Auth,
    Path(i): Path<String>,
) -> AppResult<axum::Json<ImportStatus>> {
    Ok(axum::Json(status(svc::get(&s, &auth, id(&i)?).await?)))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct MappingInput {
    /// Per column of the file, in order: the field it fills, or null to ignore the column.
    pub mapping: Vec<Option<String>>,
    /// skip (default), update (fields present in the file only) or create (where the module's
    /// duplicate rule only warns).
    #[serde(default = "skip")]
    pub on_duplicate: String,
    /// Customers only: the public pool new customers go into, with no owner (an `import` entry
    /// on each one's ownership timeline). Only a pool the caller manages (its manager, or an
    /// administrator of pools); not together with an owner column. Absent or null: new records
    /// are owned by the importing user or the owner column's users.
    #[serde(default)]
    pub pool_id: Option<i64>,
}

fn skip() -> String {
    "skip".into()
}

#[utoipa::path(put, path = "/api/v1/imports/{id}/mapping", tag = "imports",
    params(("id" = i64, Path)), request_body = MappingInput,
    responses((status = 200, body = ImportStatus), (status = 409), (status = 422)))]
pub async fn set_mapping(
    State(s): State<AppState>,
    auth: Auth,
    Path(i): Path<String>,
    Json(input): Json<MappingInput>,
) -> AppResult<axum::Json<ImportStatus>> {
    let imp = svc::set_mapping(
        &s,
        &auth,
        id(&i)?,
        &input.mapping,
        &input.on_duplicate,
        input.pool_id,
    )
    .await?;
    Ok(axum::Json(status(imp)))
}

#[utoipa::path(post, path = "/api/v1/imports/{id}/check", tag = "imports",
    params(("id" = i64, Path)), responses((status = 202, body = ImportStatus), (status = 409)))]
pub async fn check(
    State(s): State<AppState>,
    auth: Auth,
    Path(i): Path<String>,
) -> AppResult<(StatusCode, axum::Json<ImportStatus>)> {
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(status(svc::start_check(&s, &auth, id(&i)?).await?)),
    ))
}

#[utoipa::path(post, path = "/api/v1/imports/{id}/start", tag = "imports",
    params(("id" = i64, Path)), responses((status = 202, body = ImportStatus), (status = 409)))]
pub async fn start(
    State(s): State<AppState>,
    auth: Auth,
    Path(i): Path<String>,
) -> AppResult<(StatusCode, axum::Json<ImportStatus>)> {
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(status(svc::start_write(&s, &auth, id(&i)?).await?)),
    ))
}

#[utoipa::path(post, path = "/api/v1/imports/{id}/cancel", tag = "imports",
    params(("id" = i64, Path)), responses((status = 200, body = ImportStatus), (status = 409)))]
pub async fn cancel(
    State(s): State<AppState>,
    auth: Auth,
    Path(i): Path<String>,
) -> AppResult<axum::Json<ImportStatus>> {
    Ok(axum::Json(status(svc::cancel(&s, &auth, id(&i)?).await?)))
}

#[utoipa::path(post, path = "/api/v1/imports/{id}/revert", tag = "imports",
    params(("id" = i64, Path)), responses((status = 202, body = ImportStatus), (status = 409)))]
pub async fn revert(
    State(s): State<AppState>,
    auth: Auth,
    Path(i): Path<String>,
) -> AppResult<(StatusCode, axum::Json<ImportStatus>)> {
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(status(svc::start_revert(&s, &auth, id(&i)?).await?)),
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ErrorsQuery {
    /// Rows after this line number (keyset paging).
    #[serde(default)]
    pub after: i64,
    #[serde(default = "hundred")]
    pub limit: i64,
    /// Only rows still failing (not fixed, not written).
    #[serde(default)]
    pub open: bool,
}

fn hundred() -> i64 {
    100
}

#[utoipa::path(get, path = "/api/v1/imports/{id}/errors", tag = "imports",
    params(("id" = i64, Path), ErrorsQuery), responses((status = 200, body = Vec<ErrorRow>)))]
pub async fn errors(
    State(s): State<AppState>,
    auth: Auth,
    Path(i): Path<String>,
    Query(q): Query<ErrorsQuery>,
) -> AppResult<axum::Json<Vec<ErrorRow>>> {
    Ok(axum::Json(
        svc::errors(&s, &auth, id(&i)?, q.after, q.limit, q.open).await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct FixInput {
    /// The row's cells, one per column of the file.
    pub cells: Vec<String>,
}

#[utoipa::path(put, path = "/api/v1/imports/{id}/errors/{line}", tag = "imports",
    params(("id" = i64, Path), ("line" = i64, Path)), request_body = FixInput,
    responses((status = 200, body = ErrorRow, description = "the row, checked again: fixed=true when it passes")))]
pub async fn fix_row(
    State(s): State<AppState>,
    auth: Auth,
    Path((i, line)): Path<(String, String)>,
    Json(input): Json<FixInput>,
) -> AppResult<axum::Json<ErrorRow>> {
    Ok(axum::Json(
        svc::fix_row(&s, &auth, id(&i)?, id(&line)?, input.cells).await?,
    ))
}

fn download(bytes: Vec<u8>, content_type: &'static str, name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                super::attachments::content_disposition(name),
            ),
        ],
        bytes,
    )
        .into_response()
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const CSV: &str = "text/csv; charset=utf-8";

#[utoipa::path(get, path = "/api/v1/imports/{id}/error-file", tag = "imports",
    params(("id" = i64, Path)),
    responses((status = 200, description = "the rows still failing, as XLSX with an error column; fix them in a spreadsheet and upload the file again", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))]
pub async fn error_file(
    State(s): State<AppState>,
    auth: Auth,
    Path(i): Path<String>,
) -> AppResult<Response> {
    let (name, bytes) = svc::error_file(&s, &auth, id(&i)?).await?;
    Ok(download(bytes, XLSX, &name))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct FormatQuery {
    /// xlsx (default) or csv.
    pub format: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/{module}/import-template", tag = "imports",
    params(("module" = String, Path), FormatQuery),
    responses((status = 200, description = "the template: headers in the user's language, required ones marked, options on a second sheet")))]
pub async fn template(
    State(s): State<AppState>,
    auth: Auth,
    Path(m): Path<String>,
    Query(q): Query<FormatQuery>,
) -> AppResult<Response> {
    let csv = q.format.as_deref() == Some("csv");
    let (name, bytes) = svc::template(&s, &auth, &m, csv).await?;
    Ok(download(bytes, if csv { CSV } else { XLSX }, &name))
}

#[utoipa::path(get, path = "/api/v1/{module}/import-targets", tag = "imports",
    params(("module" = String, Path)), responses((status = 200, body = Vec<Target>)))]
pub async fn targets(
    State(s): State<AppState>,
    auth: Auth,
    Path(m): Path<String>,
) -> AppResult<axum::Json<Vec<Target>>> {
    Ok(axum::Json(svc::targets(&s, &auth, &m).await?))
}

#[utoipa::path(get, path = "/api/v1/{module}/export", tag = "imports",
    params(("module" = String, Path), ("format" = Option<String>, Query, description = "csv (default) or xlsx"),
        ("columns" = Option<String>, Query, description = "field codes, comma-separated, in order; `owner` (the owner's name) and `updated_at` (last change) may be among them; default: every visible field and the owner"),
        ("q" = Option<String>, Query), ("sort" = Option<String>, Query), ("order" = Option<String>, Query)),
    responses((status = 200, description = "every record of the list in scope, streamed"), (status = 403)))]
pub async fn export_list(
    State(s): State<AppState>,
    auth: Auth,
    Path(m): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> AppResult<Response> {
    let def = module(&m)?;
    let fs = fields(&s, def).await?;
    let q = super::records::list_query(&fs, &pairs, &auth.principal.time_zone)?;
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let format = Format::parse(get("format").as_deref().unwrap_or("csv"))
        .ok_or(AppError::BadRequest("error-format"))?;
    let chosen: Option<Vec<String>> = get("columns").map(|c| {
        c.split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    });
    let mut ex = export::start(&s, &auth, def, q, chosen.as_deref(), format).await?;
    let name = ex.file_name.clone();
    match format {
        Format::Csv => {
            // Streamed: each page of rows is sent as soon as it is read.
            let mut head =
                guanxi_io::CsvWriter::new(Vec::new()).map_err(|e| AppError::Internal(e.into()))?;
            head.write_row(&ex.headers)
                .map_err(|e| AppError::Internal(e.into()))?;
            let first = head.finish().map_err(|e| AppError::Internal(e.into()))?;
            let stream = futures_util::stream::unfold(
                (Some(first), ex.rows),
                |(first, mut rx)| async move {
                    if let Some(b) = first {
                        return Some((Ok::<_, std::io::Error>(b), (None, rx)));
                    }
                    let page = rx.recv().await?;
                    let bytes = match page {
                        Ok(rows) => csv_bytes(&rows),
                        Err(e) => Err(std::io::Error::other(e.to_string())),
                    };
                    Some((bytes, (None, rx)))
                },
            );
            Ok((
                [
                    (header::CONTENT_TYPE, CSV.to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        super::attachments::content_disposition(&name),
                    ),
                ],
                Body::from_stream(stream),
            )
                .into_response())
        }
        Format::Xlsx => {
            let tmp = tempfile::Builder::new()
                .suffix(".xlsx")
                .tempfile()
                .map_err(|e| AppError::Internal(e.into()))?;
            let path = tmp.path().to_owned();
            let export = export::Export {
                headers: std::mem::take(&mut ex.headers),
                rows: ex.rows,
                file_name: name.clone(),
            };
            export::to_file(export, Format::Xlsx, &path).await?;
            let file = tokio::fs::File::open(&path)
                .await
                .map_err(|e| AppError::Internal(e.into()))?;
            // Sent from the finished file in pieces; the file goes when the stream ends.
            let stream = futures_util::stream::unfold(Some((file, tmp)), |st| async move {
                use tokio::io::AsyncReadExt;
                let (mut f, tmp) = st?;
                let mut buf = vec![0u8; 64 * 1024];
                match f.read(&mut buf).await {
                    Ok(0) => None,
                    Ok(n) => {
                        buf.truncate(n);
                        Some((Ok(buf), Some((f, tmp))))
                    }
                    Err(e) => Some((Err(e), None)),
                }
            });
            Ok((
                [
                    (header::CONTENT_TYPE, XLSX.to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        super::attachments::content_disposition(&name),
                    ),
                ],
                Body::from_stream(stream),
            )
                .into_response())
        }
    }
}

/// A page of rows as CSV, with the writer's quoting and formula neutralisation; the BOM went
/// out with the header, so the one the writer starts with is dropped.
fn csv_bytes(rows: &[Vec<Cell>]) -> Result<Vec<u8>, std::io::Error> {
    let mut w = guanxi_io::CsvWriter::new(Vec::with_capacity(rows.len() * 100))?;
    for r in rows {
        w.write_row(r.iter().map(export::csv_text))?;
    }
    let mut bytes = w.finish()?;
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        bytes.drain(..3);
    }
    Ok(bytes)
}
