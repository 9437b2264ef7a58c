//! `/api/v1/{module}/{id}/collaborators`: the collaborators (协作人) of a record. `GET` lists
//! them; `PUT {"version": n, "user_ids": [...]}` replaces them (a stale version is a 409).

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use guanxi_store::records::Record;
use guanxi_store::records::collaborators::Collaborator;
use serde::{Deserialize, Serialize};

use super::Json;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::services::records::{collaborators as svc, module};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/v1/{module}/{id}/collaborators",
        get(list).put(replace),
    )
}

fn id(s: &str) -> AppResult<i64> {
    s.parse().map_err(|_| AppError::NotFound)
}

async fn list(
    State(s): State<AppState>,
    auth: Auth,
    Path((m, i)): Path<(String, String)>,
) -> AppResult<axum::Json<Vec<Collaborator>>> {
    Ok(axum::Json(
        svc::list(&s, &auth, module(&m)?, id(&i)?).await?,
    ))
}

#[derive(Deserialize)]
struct Replace {
    version: i32,
    user_ids: Vec<i64>,
}

#[derive(Serialize)]
struct Replaced {
    record: Record,
    collaborators: Vec<Collaborator>,
}

async fn replace(
    State(s): State<AppState>,
    auth: Auth,
    Path((m, i)): Path<(String, String)>,
    Json(body): Json<Replace>,
) -> AppResult<axum::Json<Replaced>> {
    let (record, collaborators) = svc::set(
        &s,
        &auth,
        module(&m)?,
        id(&i)?,
        body.version,
        &body.user_ids,
    )
    .await?;
    Ok(axum::Json(Replaced {
        record,
        collaborators,
    }))
}
