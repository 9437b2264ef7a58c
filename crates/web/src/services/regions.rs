//! Regions (地区): the built-in province / city / district tree, readable by every signed-in
//! user; custom regions are added, renamed and deleted by whoever may manage the settings.

use guanxi_core::validate::{Checker, FieldError, required_text};
use guanxi_core::{Action, Module};
use guanxi_store::audit::{self, Event};
use guanxi_store::regions::{self, Region, RegionError};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The longest region name.
pub const MAX_NAME: usize = 50;

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct RegionInput {
    /// The parent region's code; absent, null or empty for a top-level region.
    #[serde(default)]
    pub parent_code: Option<String>,
    /// The suffix that follows the parent's code in the new region's code: 1–20 letters or
    /// digits (`"01"` under `330100` makes `33010001`).
    pub code: String,
    pub name: String,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct RegionRename {
    pub name: String,
}

/// A region with its path from the province down, for display as "浙江省 / 杭州市 / 西湖区".
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegionDetail {
    #[serde(flatten)]
    pub region: Region,
    /// From the province down to this region (inclusive).
    pub path: Vec<Region>,
    /// The path as one line (placeholder levels such as 市辖区 left out).
    pub label: String,
}

/// The sub-regions of `parent`, or the provinces. An unknown parent is a 404.
pub async fn children(
    state: &AppState,
    _auth: &Auth,
    parent: Option<&str>,
) -> AppResult<Vec<Region>> {
    let parent = parent.map(str::trim).filter(|p| !p.is_empty());
    if let Some(p) = parent {
        regions::get(&state.db, p).await?;
    }
    Ok(regions::children(&state.db, parent).await?)
}

pub async fn get(state: &AppState, _auth: &Auth, code: &str) -> AppResult<RegionDetail> {
    let path = regions::path(&state.db, code).await?;
    let region = path.last().cloned().ok_or(AppError::NotFound)?;
    Ok(RegionDetail {
        label: regions::label(&path),
        region,
        path,
    })
}

fn refusal(e: RegionError) -> AppError {
    match e {
        RegionError::ParentMissing => FieldError::new("parent_code", "error-region-parent").into(),
        RegionError::TooDeep => FieldError::new("parent_code", "error-region-too-deep").into(),
        RegionError::CodeTaken => FieldError::new("code", "error-region-code-taken").into(),
        RegionError::NameTaken => FieldError::new("name", "error-region-name-taken").into(),
        RegionError::Builtin => AppError::conflict("error-region-builtin"),
        RegionError::HasChildren(n) => {
            AppError::Conflict("error-region-not-empty", vec![("count", n.to_string())])
        }
    }
}

pub async fn create(state: &AppState, auth: &Auth, input: &RegionInput) -> AppResult<Region> {
    auth.principal.authorize(Module::Settings, Action::Manage)?;
    let parent = input
        .parent_code
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    let suffix = input.code.trim();
    let mut check = Checker::default();
    if !regions::valid_suffix(suffix) {
        check.push(
            FieldError::new("code", "error-region-code").with_arg("max", regions::MAX_SUFFIX),
        );
    }
    let name = check.check(required_text("name", &input.name, MAX_NAME));
    check.finish()?;
    let name = name.unwrap_or_default();
    let mut tx = state.db.begin().await?;
    let r = regions::add(&mut tx, parent, suffix, &name)
        .await?
        .map_err(refusal)?;
    audit::record(
        &mut tx,
        &auth.actor,
        Event::new(
            "region.create",
            format!("created region {} ({})", r.name, r.code),
        )
        .module(Module::Settings)
        .target(&r.code, &r.name)
        .details(json!({ "parent_code": r.parent_code, "level": r.level })),
    )
    .await?;
    tx.commit().await?;
    Ok(r)
}

pub async fn rename(
    state: &AppState,
    auth: &Auth,
    code: &str,
    input: &RegionRename,
) -> AppResult<Region> {
    auth.principal.authorize(Module::Settings, Action::Manage)?;
    let name = required_text("name", &input.name, MAX_NAME)?;
    let before = regions::get(&state.db, code).await?;
    let mut tx = state.db.begin().await?;
    let r = regions::rename(&mut tx, code, &name)
        .await?
        .map_err(refusal)?;
    audit::record(
        &mut tx,
        &auth.actor,
        Event::new(
            "region.update",
            format!("renamed region {} to {name}", before.name),
        )
        .module(Module::Settings)
        .target(code, &name)
        .details(json!({ "name": [before.name, name], "builtin": r.builtin })),
    )
    .await?;
    tx.commit().await?;
    Ok(r)
}

/// Deletes a custom region without sub-regions (built-in ones: 409).
pub async fn delete(state: &AppState, auth: &Auth, code: &str) -> AppResult<Region> {
    auth.principal.authorize(Module::Settings, Action::Manage)?;
    let mut tx = state.db.begin().await?;
    let r = regions::delete(&mut tx, code).await?.map_err(refusal)?;
    audit::record(
        &mut tx,
        &auth.actor,
        Event::new(
            "region.delete",
            format!("deleted region {} ({})", r.name, r.code),
        )
        .module(Module::Settings)
        .target(&r.code, &r.name)
        .details(json!({ "parent_code": r.parent_code })),
    )
    .await?;
    tx.commit().await?;
    Ok(r)
}
