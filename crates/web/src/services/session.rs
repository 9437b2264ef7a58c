//! Signing in and out, with throttling per address and per account, and TOTP as a second step.

use chrono::Duration;
use guanxi_core::security::{self, token_digest};
use guanxi_store::audit::{self, Actor, Event};
use guanxi_store::{now, principal, roles, sessions, users};

use crate::auth::Visitor;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// How long an account stays locked after too many wrong passwords.
pub const LOCK_DURATION: Duration = Duration::minutes(15);

pub enum LoginOutcome {
    /// Signed in: the session token for the cookie or `Authorization: Bearer`.
    Session { token: String, user_id: i64 },
    /// The password was right; a TOTP code is needed. The token identifies the pending step.
    NeedTotp { pending_token: String },
}

fn actor_for(v: &Visitor, user_id: Option<i64>, username: &str) -> Actor {
    Actor {
        user_id,
        username: Some(username.to_owned()),
        ip: v.ip.clone(),
    }
}

/// Checks a user name and password (and a TOTP code when given).
pub async fn login(
    state: &AppState,
    v: &Visitor,
    username: &str,
    password: &str,
    totp: Option<&str>,
) -> AppResult<LoginOutcome> {
    let db = &state.db;
    let username = username.trim().to_lowercase();
    if let Some(ip) = &v.ip {
        let since = now() - LOCK_DURATION;
        if audit::failed_logins_from_ip(db, ip, since).await? >= state.config.max_failed_per_ip {
            return Err(AppError::TooManyRequests("error-login-throttled"));
        }
    }
    let creds = users::credentials_by_username(db, &username).await?;
    let Some(creds) = creds else {
        // Same work as a real check, so timing does not reveal unknown user names.
        let _ = security::verify_password(password, security::dummy_hash());
        fail(state, v, None, &username, "unknown user").await?;
        return Err(AppError::BadCredentials);
    };
    if creds.locked_until.is_some_and(|t| t > now()) {
        fail(state, v, Some(creds.id), &username, "account locked").await?;
        return Err(AppError::TooManyRequests("error-account-locked"));
    }
    let password_ok = security::verify_password(password, &creds.password_hash);
    if !password_ok || !creds.is_active {
        let reason = if password_ok {
            "account disabled"
        } else {
            "wrong password"
        };
        let lock = (!password_ok && creds.failed_logins + 1 >= state.config.max_failed_per_account)
            .then(|| now() + LOCK_DURATION);
        let mut tx = db.begin().await?;
        if !password_ok {
            users::record_failed_login(&mut tx, creds.id, lock).await?;
        }
        audit::record(
            &mut tx,
            &actor_for(v, Some(creds.id), &username),
            failed_event(reason),
        )
        .await?;
        tx.commit().await?;
        return Err(AppError::BadCredentials);
    }
    if creds.totp_enabled {
        let secret = creds.totp_secret.as_deref().unwrap_or("");
        match totp {
            Some(code) if security::verify_totp(secret, code, now().timestamp()) => {}
            Some(_) => {
                fail(state, v, Some(creds.id), &username, "wrong second factor").await?;
                return Err(AppError::BadCredentials);
            }
            None => {
                let pending_token = security::random_token(32);
                let mut tx = db.begin().await?;
                sessions::create(
                    &mut tx,
                    &token_digest(&pending_token),
                    creds.id,
                    true,
                    v.ip.as_deref(),
                    v.user_agent.as_deref(),
                )
                .await?;
                tx.commit().await?;
                return Ok(LoginOutcome::NeedTotp { pending_token });
            }
        }
    }
    start_session(state, v, creds.id, &username).await
}

async fn start_session(
    state: &AppState,
    v: &Visitor,
    user_id: i64,
    username: &str,
) -> AppResult<LoginOutcome> {
    let token = security::random_token(32);
    let mut tx = state.db.begin().await?;
    sessions::create(
        &mut tx,
        &token_digest(&token),
        user_id,
        false,
        v.ip.as_deref(),
        v.user_agent.as_deref(),
    )
    .await?;
    users::record_login(&mut tx, user_id).await?;
    audit::record(
        &mut tx,
        &actor_for(v, Some(user_id), username),
        Event::new("login", "signed in")
            .module(guanxi_core::Module::Users)
            .target(user_id, username),
    )
    .await?;
    tx.commit().await?;
    Ok(LoginOutcome::Session { token, user_id })
}

/// The second step: the pending token from [`login`] and a TOTP code.
pub async fn complete_totp(
    state: &AppState,
    v: &Visitor,
    pending_token: &str,
    code: &str,
) -> AppResult<LoginOutcome> {
    let digest = token_digest(pending_token);
    let user_id = sessions::pending_mfa_user(&state.db, &digest)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let creds = users::credentials_by_id(&state.db, user_id).await?;
    let secret = creds.totp_secret.as_deref().unwrap_or("");
    if !creds.is_active || !security::verify_totp(secret, code, now().timestamp()) {
        fail(
            state,
            v,
            Some(user_id),
            &creds.username,
            "wrong second factor",
        )
        .await?;
        return Err(AppError::Validation(vec![
            guanxi_core::validate::FieldError::new("code", "error-totp-code"),
        ]));
    }
    let mut tx = state.db.begin().await?;
    sessions::delete(&mut tx, &digest).await?;
    tx.commit().await?;
    start_session(state, v, user_id, &creds.username).await
}

fn failed_event(reason: &str) -> Event {
    Event::new("login.failed", format!("sign-in refused: {reason}"))
        .module(guanxi_core::Module::Users)
}

async fn fail(
    state: &AppState,
    v: &Visitor,
    user_id: Option<i64>,
    username: &str,
    reason: &str,
) -> AppResult<()> {
    let mut e = failed_event(reason);
    e.target_label = Some(username.chars().take(64).collect());
    audit::record_now(&state.db, &actor_for(v, user_id, username), e).await?;
    Ok(())
}

pub async fn logout(state: &AppState, auth: &crate::auth::Auth) -> AppResult<()> {
    let mut tx = state.db.begin().await?;
    sessions::delete(&mut tx, &auth.credential_digest).await?;
    audit::record(
        &mut tx,
        &auth.actor,
        Event::new("logout", "signed out")
            .module(guanxi_core::Module::Users)
            .target(auth.principal.user_id, &auth.principal.username),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Whether the signed-in user must still set up two-factor login (a role demands it).
pub async fn must_setup_totp(state: &AppState, user_id: i64) -> AppResult<bool> {
    if !roles::user_requires_totp(&state.db, user_id).await? {
        return Ok(false);
    }
    Ok(!users::credentials_by_id(&state.db, user_id)
        .await?
        .totp_enabled)
}

/// Re-reads a user's principal (after a language change, for example).
pub async fn reload(state: &AppState, user_id: i64) -> AppResult<guanxi_core::Principal> {
    principal::for_user(&state.db, user_id)
        .await?
        .ok_or(AppError::Unauthorized)
}
