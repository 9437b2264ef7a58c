//! System settings.

use guanxi_core::validate::{self, Checker};
use guanxi_core::{Action, Module};
use guanxi_store::audit::{self, Event};
use guanxi_store::settings::{self, Settings};
use serde_json::json;

use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub async fn get(state: &AppState, auth: &Auth) -> AppResult<Settings> {
    auth.principal.authorize(Module::Settings, Action::View)?;
    Ok(settings::load(&state.db).await?)
}

pub async fn save(state: &AppState, auth: &Auth, input: &Settings) -> AppResult<Settings> {
    auth.principal.authorize(Module::Settings, Action::Manage)?;
    let mut c = Checker::default();
    let company_name = c.check(validate::required_text(
        "company_name",
        &input.company_name,
        100,
    ));
    let locale = c.check(validate::locale("default_locale", &input.default_locale));
    let tz = c.check(validate::time_zone(
        "default_time_zone",
        &input.default_time_zone,
    ));
    c.finish()?;
    let (Some(company_name), Some(locale), Some(tz)) = (company_name, locale, tz) else {
        return Err(AppError::BadRequest("error-validation"));
    };
    let mut duplicates = std::collections::BTreeMap::new();
    for (module, mode) in &input.duplicates {
        if guanxi_core::engine::module_def(module).is_none()
            || !["warn", "block"].contains(&mode.as_str())
        {
            return Err(guanxi_core::validate::FieldError::new(
                &format!("duplicates.{module}"),
                "error-duplicate-mode",
            )
            .into());
        }
        duplicates.insert(module.clone(), mode.clone());
    }
    for (module, hidden) in &input.hidden_related {
        let ok = guanxi_core::engine::module_def(module).is_some_and(|d| {
            hidden
                .iter()
                .all(|h| d.related.iter().any(|r| r.module.code() == h))
        });
        if !ok {
            return Err(guanxi_core::validate::FieldError::new(
                &format!("hidden_related.{module}"),
                "error-related-list",
            )
            .into());
        }
    }
    let new = Settings {
        company_name,
        default_locale: locale.code().to_owned(),
        default_time_zone: tz,
        duplicates,
        hidden_related: input.hidden_related.clone(),
    };
    let before = settings::load(&state.db).await?;
    let mut tx = state.db.begin().await?;
    settings::save(&mut tx, &new).await?;
    audit::record(
        &mut tx,
        &auth.actor,
        Event::new("settings.update", "changed system settings")
            .module(Module::Settings)
            .details(json!({ "before": before, "after": new })),
    )
    .await?;
    tx.commit().await?;
    Ok(new)
}
