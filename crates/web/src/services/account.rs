//! Self-service: one's own password, language and time zone, API tokens and two-factor login.

use guanxi_core::Module;
use guanxi_core::security;
use guanxi_core::validate::{self, Checker, FieldError};
use guanxi_store::audit::{self, Event};
use guanxi_store::tokens::{self, ApiToken};
use guanxi_store::users;
use serde::{Deserialize, Serialize};

use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

pub async fn change_password(
    state: &AppState,
    auth: &Auth,
    input: &PasswordChange,
) -> AppResult<()> {
    let creds = users::credentials_by_id(&state.db, auth.principal.user_id).await?;
    if !security::verify_password(&input.current_password, &creds.password_hash) {
        return Err(FieldError::new("current_password", "error-current-password").into());
    }
    let new = validate::password("new_password", &input.new_password)?;
    if new == input.current_password {
        return Err(FieldError::new("new_password", "error-password-same").into());
    }
    let hash = security::hash_password(&new);
    let mut tx = state.db.begin().await?;
    users::set_own_password(&mut tx, auth.principal.user_id, &hash).await?;
    audit::record(
        &mut tx,
        &auth.actor,
        Event::new("user.change_password", "changed own password")
            .module(Module::Users)
            .target(auth.principal.user_id, &auth.principal.username),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct Preferences {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub locale: Option<String>,
    #[serde(default)]
    pub time_zone: Option<String>,
}

pub async fn set_preferences(state: &AppState, auth: &Auth, input: &Preferences) -> AppResult<()> {
    let p = &auth.principal;
    let mut c = Checker::default();
    let name = c.check(validate::required_text(
        "display_name",
        input.display_name.as_deref().unwrap_or(&p.display_name),
        50,
    ));
    let locale = c.check(validate::locale(
        "locale",
        input.locale.as_deref().unwrap_or(p.locale.code()),
    ));
    let tz = c.check(validate::time_zone(
        "time_zone",
        input.time_zone.as_deref().unwrap_or(&p.time_zone),
    ));
    c.finish()?;
    let (Some(name), Some(locale), Some(tz)) = (name, locale, tz) else {
        return Err(AppError::BadRequest("error-validation"));
    };
    let mut tx = state.db.begin().await?;
    users::set_own_preferences(&mut tx, p.user_id, &name, locale.code(), &tz).await?;
    audit::record(
        &mut tx,
        &auth.actor,
        Event::new(
            "user.preferences",
            format!("set language {} and time zone {tz}", locale.code()),
        )
        .module(Module::Users)
        .target(p.user_id, &p.username),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NewToken {
    #[serde(flatten)]
    pub token: ApiToken,
    /// The secret, shown only now. Send it as `Authorization: Bearer <secret>`.
    pub secret: String,
}

pub async fn list_tokens(state: &AppState, auth: &Auth) -> AppResult<Vec<ApiToken>> {
    Ok(tokens::list(&state.db, auth.principal.user_id).await?)
}

pub async fn create_token(state: &AppState, auth: &Auth, name: &str) -> AppResult<NewToken> {
    let name = validate::required_text("name", name, 50)?;
    let secret = format!("gx_{}", security::random_token(30));
    let prefix: String = secret.chars().take(8).collect();
    let mut tx = state.db.begin().await?;
    let id = tokens::create(
        &mut tx,
        auth.principal.user_id,
        &name,
        &prefix,
        &security::token_digest(&secret),
    )
    .await?;
    audit::record(
        &mut tx,
        &auth.actor,
        Event::new("token.create", format!("created API token {name}"))
            .module(Module::Users)
            .target(id, &name),
    )
    .await?;
    tx.commit().await?;
    let token = tokens::list(&state.db, auth.principal.user_id)
        .await?
        .into_iter()
        .find(|t| t.id == id)
        .ok_or(AppError::NotFound)?;
    Ok(NewToken { token, secret })
}

pub async fn revoke_token(state: &AppState, auth: &Auth, id: i64) -> AppResult<ApiToken> {
    let mut tx = state.db.begin().await?;
    let t = tokens::revoke(&mut tx, auth.principal.user_id, id).await?;
    audit::record(
        &mut tx,
        &auth.actor,
        Event::new("token.revoke", format!("revoked API token {}", t.name))
            .module(Module::Users)
            .target(id, &t.name),
    )
    .await?;
    tx.commit().await?;
    Ok(t)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TotpSetup {
    pub secret: String,
    pub otpauth_uri: String,
}

/// Starts two-factor set-up: a new secret, not active until confirmed with a code.
pub async fn begin_totp(state: &AppState, auth: &Auth) -> AppResult<TotpSetup> {
    let creds = users::credentials_by_id(&state.db, auth.principal.user_id).await?;
    if creds.totp_enabled {
        return Err(AppError::conflict("error-totp-already-on"));
    }
    let secret = security::new_totp_secret();
    let mut tx = state.db.begin().await?;
    users::set_own_totp(&mut tx, auth.principal.user_id, Some(&secret), false).await?;
    tx.commit().await?;
    let company = guanxi_store::settings::load(&state.db).await?.company_name;
    Ok(TotpSetup {
        otpauth_uri: security::totp_uri(&company, &auth.principal.username, &secret),
        secret,
    })
}

/// The secret being set up, if set-up has begun.
pub async fn pending_totp(state: &AppState, auth: &Auth) -> AppResult<Option<TotpSetup>> {
    let creds = users::credentials_by_id(&state.db, auth.principal.user_id).await?;
    if creds.totp_enabled {
        return Ok(None);
    }
    let Some(secret) = users::totp_secret(&state.db, auth.principal.user_id).await? else {
        return Ok(None);
    };
    let company = guanxi_store::settings::load(&state.db).await?.company_name;
    Ok(Some(TotpSetup {
        otpauth_uri: security::totp_uri(&company, &auth.principal.username, &secret),
        secret,
    }))
}

pub async fn confirm_totp(state: &AppState, auth: &Auth, code: &str) -> AppResult<()> {
    let secret = users::totp_secret(&state.db, auth.principal.user_id)
        .await?
        .ok_or(AppError::conflict("error-totp-not-started"))?;
    if !security::verify_totp(&secret, code, guanxi_store::now().timestamp()) {
        return Err(FieldError::new("code", "error-totp-code").into());
    }
    let mut tx = state.db.begin().await?;
    users::set_own_totp(&mut tx, auth.principal.user_id, Some(&secret), true).await?;
    audit::record(
        &mut tx,
        &auth.actor,
        Event::new("user.totp_enable", "turned on two-factor login")
            .module(Module::Users)
            .target(auth.principal.user_id, &auth.principal.username),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn disable_totp(state: &AppState, auth: &Auth, password: &str) -> AppResult<()> {
    let creds = users::credentials_by_id(&state.db, auth.principal.user_id).await?;
    if !security::verify_password(password, &creds.password_hash) {
        return Err(FieldError::new("password", "error-current-password").into());
    }
    if guanxi_store::roles::user_requires_totp(&state.db, auth.principal.user_id).await? {
        return Err(AppError::conflict("error-totp-required-by-role"));
    }
    let mut tx = state.db.begin().await?;
    users::set_own_totp(&mut tx, auth.principal.user_id, None, false).await?;
    audit::record(
        &mut tx,
        &auth.actor,
        Event::new("user.totp_disable", "turned off two-factor login")
            .module(Module::Users)
            .target(auth.principal.user_id, &auth.principal.username),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Validation helper for forms that check several fields at once.
pub fn check_all(c: Checker) -> AppResult<()> {
    c.finish().map_err(AppError::Validation)
}
