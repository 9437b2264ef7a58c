//! Collaborators (协作人) of a record, for modules that have them (customers): anyone who may see
//! the record lists them; anyone who may edit it changes them. Collaborators then see and edit
//! the record as if it were in their own scope (see `guanxi_store::records::collaborators`).

use guanxi_core::Action;
use guanxi_core::engine::ModuleDef;
use guanxi_core::validate::FieldError;
use guanxi_store::audit;
use guanxi_store::records::collaborators::{self, Collaborator};
use guanxi_store::records::{self, Record};

use super::{event, fields};
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The collaborators of a record the user may see.
pub async fn list(
    state: &AppState,
    auth: &Auth,
    def: &'static ModuleDef,
    id: i64,
) -> AppResult<Vec<Collaborator>> {
    if !def.collaborators {
        return Err(AppError::NotFound);
    }
    super::get(state, auth, def, id).await?;
    Ok(collaborators::of(&state.db, def, id).await?)
}

/// Replaces the collaborators of a record at `version`; the owner is never one of them.
pub async fn set(
    state: &AppState,
    auth: &Auth,
    def: &'static ModuleDef,
    id: i64,
    version: i32,
    user_ids: &[i64],
) -> AppResult<(Record, Vec<Collaborator>)> {
    if !def.collaborators {
        return Err(AppError::NotFound);
    }
    let g = auth.principal.authorize(def.module, Action::Edit)?;
    let users = guanxi_store::users::list_all(&state.db).await?;
    if user_ids
        .iter()
        .any(|u| !users.iter().any(|x| x.id == *u && x.is_active))
    {
        return Err(AppError::Validation(vec![FieldError::new(
            "user_ids",
            "error-user-missing",
        )]));
    }
    let fs = fields(state, def).await?;
    let mut tx = state.db.begin().await?;
    let (rec, after) =
        records::collaborators::set(&mut tx, &fs, &g, id, version, user_ids, &auth.actor).await?;
    let names: Vec<&str> = after.iter().map(|c| c.display_name.as_str()).collect();
    let summary = format!(
        "collaborators of {} {}: {}",
        def.code,
        rec.title(def),
        names.join(", ")
    );
    audit::record(
        &mut tx,
        &auth.actor,
        event(def, "record.collaborators", &rec, summary),
    )
    .await?;
    tx.commit().await?;
    Ok((rec, after))
}
