//! Departments: the organisation tree.

use guanxi_core::validate::{FieldError, required_text};
use guanxi_core::{Action, Module};
use guanxi_store::audit::{self, Event};
use guanxi_store::departments::{self, Department, MoveError};
use serde::Deserialize;
use serde_json::json;

use super::unique_as;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct DepartmentInput {
    pub name: String,
    /// The parent department; absent or null for a top-level department.
    #[serde(default)]
    pub parent_id: Option<i64>,
}

pub async fn list(state: &AppState, auth: &Auth) -> AppResult<Vec<Department>> {
    auth.principal
        .authorize(Module::Departments, Action::View)?;
    Ok(departments::list(&state.db).await?)
}

pub async fn create(
    state: &AppState,
    auth: &Auth,
    input: &DepartmentInput,
) -> AppResult<Department> {
    auth.principal
        .authorize(Module::Departments, Action::Create)?;
    let name = required_text("name", &input.name, 50)?;
    if let Some(pid) = input.parent_id {
        departments::get(&state.db, pid)
            .await
            .map_err(|_| FieldError::new("parent_id", "error-department-missing"))?;
    }
    let mut tx = state.db.begin().await?;
    let d = departments::create(&mut tx, input.parent_id, &name)
        .await
        .map_err(unique_as("name", "error-department-name-taken"))?;
    audit::record(
        &mut tx,
        &auth.actor,
        Event::new("department.create", format!("created department {name}"))
            .module(Module::Departments)
            .target(d.id, &name)
            .details(json!({ "parent_id": input.parent_id })),
    )
    .await?;
    tx.commit().await?;
    Ok(d)
}

/// Renames and/or moves a department.
pub async fn update(
    state: &AppState,
    auth: &Auth,
    id: i64,
    input: &DepartmentInput,
) -> AppResult<Department> {
    auth.principal
        .authorize(Module::Departments, Action::Edit)?;
    let name = required_text("name", &input.name, 50)?;
    let before = departments::get(&state.db, id).await?;
    let mut tx = state.db.begin().await?;
    let mut d = departments::rename(&mut tx, id, &name)
        .await
        .map_err(unique_as("name", "error-department-name-taken"))?;
    if before.parent_id != input.parent_id {
        d = match departments::move_to(&mut tx, id, input.parent_id).await {
            Ok(Ok(d)) => d,
            Ok(Err(MoveError::IntoOwnSubtree)) => {
                return Err(FieldError::new("parent_id", "error-department-cycle").into());
            }
            Err(guanxi_store::StoreError::NotFound) => {
                return Err(FieldError::new("parent_id", "error-department-missing").into());
            }
            Err(e) => return Err(unique_as("name", "error-department-name-taken")(e)),
        };
    }
    audit::record(
        &mut tx,
        &auth.actor,
        Event::new("department.update", format!("updated department {name}"))
            .module(Module::Departments)
            .target(id, &name)
            .details(json!({
                "name": [before.name, name],
                "parent_id": [before.parent_id, input.parent_id],
            })),
    )
    .await?;
    tx.commit().await?;
    Ok(d)
}

pub async fn delete(state: &AppState, auth: &Auth, id: i64) -> AppResult<Department> {
    auth.principal
        .authorize(Module::Departments, Action::Delete)?;
    let mut tx = state.db.begin().await?;
    let d = match departments::delete(&mut tx, id).await? {
        Ok(d) => d,
        Err(occ) => {
            return Err(AppError::Conflict(
                "error-department-not-empty",
                vec![
                    ("children", occ.children.to_string()),
                    ("users", occ.users.to_string()),
                ],
            ));
        }
    };
    audit::record(
        &mut tx,
        &auth.actor,
        Event::new(
            "department.delete",
            format!("deleted department {}", d.name),
        )
        .module(Module::Departments)
        .target(id, &d.name),
    )
    .await?;
    tx.commit().await?;
    Ok(d)
}
