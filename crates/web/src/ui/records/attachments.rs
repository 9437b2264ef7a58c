//! The attachments section of the detail page (`record_attachments.html`): upload through a
//! multipart form, download through the browser session, delete with a confirmation.

use askama::Template;
use axum::Router;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use guanxi_core::engine::ModuleDef;

use crate::api::attachments::{file_response, read_upload};
use crate::auth::Auth;
use crate::error::{AppError, AppResult, field_message};
use crate::services::attachments::{self as svc, MAX_FILE_SIZE, MAX_UPLOAD_BODY, human_size};
use crate::services::records::module;
use crate::state::AppState;
use crate::ui::pages::{ErrorPage, local_time};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/{module}/{id}/attachments",
            post(upload).layer(DefaultBodyLimit::max(MAX_UPLOAD_BODY)),
        )
        .route("/{module}/{id}/attachments/{attachment}", get(download))
        .route(
            "/{module}/{id}/attachments/{attachment}/delete",
            post(delete),
        )
}

/// One row of the attachments section.
pub struct AttachmentView {
    pub id: i64,
    pub name: String,
    pub size: String,
    pub uploader: String,
    pub at: String,
}

/// The largest file, for people ("20 MB"), for the hint under the upload form.
pub fn max_size() -> String {
    human_size(MAX_FILE_SIZE as i64)
}

/// The rows of a record's attachments section (the record has been read by the caller).
pub async fn views(
    state: &AppState,
    auth: &Auth,
    def: &'static ModuleDef,
    id: i64,
) -> AppResult<Vec<AttachmentView>> {
    let tz = &auth.principal.time_zone;
    Ok(svc::list(state, auth, def, id)
        .await?
        .into_iter()
        .map(|a| AttachmentView {
            id: a.id,
            size: human_size(a.size),
            uploader: a.uploader_name.unwrap_or_default(),
            at: local_time(&a.uploaded_at, tz),
            name: a.file_name,
        })
        .collect())
}

fn ids(m: &str, id: &str) -> AppResult<(&'static ModuleDef, i64)> {
    Ok((module(m)?, id.parse().map_err(|_| AppError::NotFound)?))
}

fn back(def: &ModuleDef, id: i64, ok: &str) -> Response {
    Redirect::to(&format!("/{}/{id}?ok={ok}#attachments", def.code)).into_response()
}

pub async fn upload(
    State(state): State<AppState>,
    auth: Auth,
    Path((m, id)): Path<(String, String)>,
    mp: Result<Multipart, MultipartRejection>,
) -> AppResult<Response> {
    let (def, id) = ids(&m, &id)?;
    let result = match read_upload(mp).await {
        Ok(u) => svc::upload(&state, &auth, def, id, &u.file_name, &u.content).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(back(def, id, "flash-uploaded")),
        // The error page would only say "some fields need attention": say what is wrong.
        Err(AppError::Validation(errors)) => {
            let message = errors
                .iter()
                .map(|e| field_message(e, auth.locale))
                .collect::<Vec<_>>()
                .join(" ");
            let page = ErrorPage::new(auth.locale, 422, message.clone());
            let html = page.render().unwrap_or(message);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response())
        }
        Err(e) => Err(e),
    }
}

pub async fn download(
    State(state): State<AppState>,
    auth: Auth,
    Path((m, id, a)): Path<(String, String, String)>,
) -> AppResult<Response> {
    let (def, id) = ids(&m, &id)?;
    let a: i64 = a.parse().map_err(|_| AppError::NotFound)?;
    let (meta, content) = svc::download(&state, &auth, def, id, a).await?;
    Ok(file_response(&meta, content))
}

pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    Path((m, id, a)): Path<(String, String, String)>,
) -> AppResult<Response> {
    let (def, id) = ids(&m, &id)?;
    let a: i64 = a.parse().map_err(|_| AppError::NotFound)?;
    svc::delete(&state, &auth, def, id, a).await?;
    Ok(back(def, id, "flash-attachment-deleted"))
}
