//! Roles and the permission matrix.

use std::collections::BTreeMap;

use guanxi_core::validate::{FieldError, optional_text};
use guanxi_core::{Action, I18n, Locale, Module, ModulePermission, Scope};
use guanxi_store::audit::{self, Event};
use guanxi_store::roles::{self, Permissions, Role, RoleInput};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::unique_as;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// One module's rights in a role, as the API speaks them.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ModuleGrant {
    /// Action codes: view, create, edit, delete, import, export, assign, manage.
    pub actions: Vec<String>,
    /// own, department, department_tree or all.
    pub scope: String,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct RoleBody {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub require_totp: bool,
    /// Module code → rights. Modules left out get no rights.
    #[serde(default)]
    pub permissions: BTreeMap<String, ModuleGrant>,
    /// How many pool customers' details a user of the role may open a day, a whole number
    /// from 0; `null`: no limit. Left out: unchanged (no limit for a new role).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, minimum = 0)]
    pub pool_daily_views: Option<Option<i64>>,
    /// Whether the role sees pool customers' phone numbers unmasked. Left out: unchanged
    /// (visible for a new role).
    #[serde(default)]
    pub pool_contacts_visible: Option<bool>,
}

/// Tells a member sent as `null` (`Some(None)`) from one left out (`None`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Option::<i64>::deserialize(d).map(Some)
}

/// The daily limit as typed in a form: empty for no limit, else a whole number from 0.
pub fn daily_views_from_text(text: &str) -> Result<Option<i64>, FieldError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<i64>() {
        Ok(n) if n >= 0 => Ok(Some(n)),
        _ => Err(FieldError::new(
            "pool_daily_views",
            "error-role-pool-daily-views",
        )),
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RoleDetail {
    #[serde(flatten)]
    pub role: Role,
    /// The name to show: the administrator's, or the built-in role's in the caller's language.
    pub display_name: String,
    pub permissions: BTreeMap<String, ModuleGrant>,
}

pub fn display_name(role: &Role, locale: Locale) -> String {
    match (&role.name, &role.code) {
        (Some(n), _) => n.clone(),
        (None, Some(code)) => I18n::global().t(locale, &format!("role-{}", code.replace('_', "-"))),
        (None, None) => format!("#{}", role.id),
    }
}

pub fn to_api(perms: &Permissions) -> BTreeMap<String, ModuleGrant> {
    perms
        .iter()
        .map(|(m, p)| {
            let actions = Action::ALL
                .iter()
                .filter(|a| p.allows(**a))
                .map(|a| a.code().to_owned())
                .collect();
            (
                m.code().to_owned(),
                ModuleGrant {
                    actions,
                    scope: p.scope.code().to_owned(),
                },
            )
        })
        .collect()
}

pub fn from_api(map: &BTreeMap<String, ModuleGrant>) -> Result<Permissions, FieldError> {
    let mut out = Permissions::new();
    for (code, g) in map {
        let module = Module::from_code(code).ok_or_else(|| {
            FieldError::new(&format!("permissions.{code}"), "error-unknown-module")
        })?;
        let mut actions = vec![];
        for a in &g.actions {
            let action = Action::from_code(a)
                .filter(|a| module.actions().contains(a))
                .ok_or_else(|| {
                    FieldError::new(
                        &format!("permissions.{code}.actions"),
                        "error-unknown-action",
                    )
                })?;
            actions.push(action);
        }
        let scope = if g.scope.is_empty() {
            Scope::Own
        } else {
            Scope::from_code(&g.scope).ok_or_else(|| {
                FieldError::new(&format!("permissions.{code}.scope"), "error-unknown-scope")
            })?
        };
        out.insert(module, ModulePermission::with(&actions, scope));
    }
    Ok(out)
}

pub async fn list(state: &AppState, auth: &Auth) -> AppResult<Vec<RoleDetail>> {
    auth.principal.authorize(Module::Roles, Action::View)?;
    let mut out = vec![];
    for role in roles::list(&state.db).await? {
        let perms = roles::permissions(&state.db, role.id).await?;
        out.push(RoleDetail {
            display_name: display_name(&role, auth.locale),
            permissions: to_api(&perms),
            role,
        });
    }
    Ok(out)
}

/// Roles for pickers (user form): any user who may assign roles sees their names.
pub async fn names(state: &AppState, auth: &Auth) -> AppResult<Vec<(i64, String)>> {
    Ok(roles::list(&state.db)
        .await?
        .iter()
        .map(|r| (r.id, display_name(r, auth.locale)))
        .collect())
}

pub async fn get(state: &AppState, auth: &Auth, id: i64) -> AppResult<RoleDetail> {
    auth.principal.authorize(Module::Roles, Action::View)?;
    let role = roles::get(&state.db, id).await?;
    let perms = roles::permissions(&state.db, id).await?;
    Ok(RoleDetail {
        display_name: display_name(&role, auth.locale),
        permissions: to_api(&perms),
        role,
    })
}

fn check(body: &RoleBody) -> AppResult<(Option<String>, Option<String>, Permissions)> {
    let name = optional_text("name", &body.name, 50)?;
    let description = optional_text("description", &body.description, 500)?;
    if let Some(Some(n)) = body.pool_daily_views
        && n < 0
    {
        return Err(FieldError::new("pool_daily_views", "error-role-pool-daily-views").into());
    }
    let perms = from_api(&body.permissions)?;
    Ok((name, description, perms))
}

/// The pool research limits after `body`: what it sends, else what the role had.
fn pool_limits(body: &RoleBody, before: Option<&Role>) -> (Option<i64>, bool) {
    (
        body.pool_daily_views
            .unwrap_or_else(|| before.and_then(|r| r.pool_daily_views)),
        body.pool_contacts_visible
            .unwrap_or_else(|| before.is_none_or(|r| r.pool_contacts_visible)),
    )
}

pub async fn create(state: &AppState, auth: &Auth, body: &RoleBody) -> AppResult<RoleDetail> {
    auth.principal.authorize(Module::Roles, Action::Create)?;
    let (name, description, perms) = check(body)?;
    let Some(name) = name else {
        return Err(FieldError::new("name", "error-required").into());
    };
    let mut tx = state.db.begin().await?;
    let input = RoleInput {
        code: None,
        name: Some(&name),
        description: description.as_deref(),
        require_totp: body.require_totp,
    };
    let id = roles::create(&mut tx, &input, &perms)
        .await
        .map_err(unique_as("name", "error-role-name-taken"))?;
    let (views, contacts) = pool_limits(body, None);
    roles::set_pool_limits(&mut tx, id, views, contacts).await?;
    audit::record(
        &mut tx,
        &auth.actor,
        Event::new("role.create", format!("created role {name}"))
            .module(Module::Roles)
            .target(id, &name)
            .details(json!({
                "permissions": to_api(&perms),
                "require_totp": body.require_totp,
                "pool_daily_views": views,
                "pool_contacts_visible": contacts,
            })),
    )
    .await?;
    tx.commit().await?;
    get(state, auth, id).await
}

pub async fn update(
    state: &AppState,
    auth: &Auth,
    id: i64,
    body: &RoleBody,
) -> AppResult<RoleDetail> {
    auth.principal.authorize(Module::Roles, Action::Edit)?;
    let before = get(state, auth, id).await?;
    let (name, description, perms) = check(body)?;
    if name.is_none() && before.role.code.is_none() {
        return Err(FieldError::new("name", "error-required").into());
    }
    // The administrator role keeps full rights, so nobody can lock everyone out.
    let perms = if before.role.code.as_deref() == Some("admin") {
        roles::builtin_roles()
            .into_iter()
            .find(|(c, _)| *c == "admin")
            .map(|(_, p)| p)
            .unwrap_or(perms)
    } else {
        perms
    };
    let mut tx = state.db.begin().await?;
    let input = RoleInput {
        code: None,
        name: name.as_deref(),
        description: description.as_deref(),
        require_totp: body.require_totp,
    };
    roles::update(&mut tx, id, &input, &perms)
        .await
        .map_err(unique_as("name", "error-role-name-taken"))?;
    let (views, contacts) = pool_limits(body, Some(&before.role));
    roles::set_pool_limits(&mut tx, id, views, contacts).await?;
    audit::record(
        &mut tx,
        &auth.actor,
        Event::new(
            "role.update",
            format!("changed role {}", before.display_name),
        )
        .module(Module::Roles)
        .target(id, &before.display_name)
        .details(json!({
            "permissions": { "before": before.permissions, "after": to_api(&perms) },
            "require_totp": [before.role.require_totp, body.require_totp],
            "pool_daily_views": [before.role.pool_daily_views, views],
            "pool_contacts_visible": [before.role.pool_contacts_visible, contacts],
        })),
    )
    .await?;
    tx.commit().await?;
    get(state, auth, id).await
}

pub async fn delete(state: &AppState, auth: &Auth, id: i64) -> AppResult<()> {
    auth.principal.authorize(Module::Roles, Action::Delete)?;
    let before = get(state, auth, id).await?;
    if before.role.code.as_deref() == Some("admin") {
        return Err(AppError::conflict("error-role-admin-builtin"));
    }
    if before.role.user_count > 0 {
        return Err(AppError::Conflict(
            "error-role-in-use",
            vec![("count", before.role.user_count.to_string())],
        ));
    }
    let mut tx = state.db.begin().await?;
    roles::delete(&mut tx, id).await?;
    audit::record(
        &mut tx,
        &auth.actor,
        Event::new(
            "role.delete",
            format!("deleted role {}", before.display_name),
        )
        .module(Module::Roles)
        .target(id, &before.display_name),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
