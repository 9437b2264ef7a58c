//! The detail page's collaborators form (协作人): the chosen users replace the record's
//! collaborators at the version the page showed.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};

use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::services::records::{collaborators as svc, module};
use crate::state::AppState;
use crate::ui::RawForm;

pub async fn save(
    State(state): State<AppState>,
    auth: Auth,
    Path((m, id)): Path<(String, String)>,
    form: RawForm,
) -> AppResult<Response> {
    let def = module(&m)?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let version: i32 = form
        .get("version")
        .parse()
        .map_err(|_| AppError::BadRequest("error-version-required"))?;
    let users: Vec<i64> = form
        .all("user_ids")
        .iter()
        .filter_map(|s| s.parse().ok())
        .collect();
    svc::set(&state, &auth, def, id, version, &users).await?;
    Ok(Redirect::to(&format!("/{}/{id}?ok=flash-saved", def.code)).into_response())
}
