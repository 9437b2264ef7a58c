//! Who is calling: the [`Auth`] extractor turns a session cookie or a bearer token into the
//! policy's `Principal`, plus the audit `Actor` and the user's language. Handlers that need a
//! signed-in user take `Auth`; the permission check itself is `auth.principal.authorize(..)`,
//! whose `Grant` the store demands.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use guanxi_core::security::token_digest;
use guanxi_core::{Locale, Principal};
use guanxi_store::audit::Actor;

use crate::error::AppError;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "gx_session";
pub const LANG_COOKIE: &str = "gx_lang";

/// The language chosen for this request, filled in by `Auth` once the user is known, so that
/// the error renderer speaks the user's language too.
#[derive(Clone, Default)]
pub struct LocaleSlot(pub Arc<OnceLock<Locale>>);

/// The client's address (from the socket, or `X-Forwarded-For` behind a declared proxy).
#[derive(Clone, Debug)]
pub struct ClientIp(pub Option<String>);

#[derive(Clone)]
pub struct Auth {
    pub principal: Principal,
    pub actor: Actor,
    pub locale: Locale,
    /// The digest of the session or token used, to end this session on logout.
    pub credential_digest: String,
    pub via_bearer: bool,
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// The language a visitor who is not signed in chose with the language link, if any.
pub fn chosen_locale(headers: &HeaderMap) -> Option<Locale> {
    cookie(headers, LANG_COOKIE).and_then(Locale::parse)
}

/// The language for a visitor who is not signed in: their choice, else zh-CN. (Pages that can
/// read the settings use the company's default language instead of zh-CN.)
pub fn anonymous_locale(headers: &HeaderMap) -> Locale {
    chosen_locale(headers).unwrap_or_default()
}

pub fn client_ip(parts: &Parts, trust_proxy: bool) -> Option<String> {
    if trust_proxy
        && let Some(xff) = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
        && let Some(first) = xff.split(',').next()
    {
        return Some(first.trim().to_owned());
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
}

pub fn session_cookie(token: &str, secure: bool) -> String {
    let max_age = guanxi_store::sessions::IDLE_LIFETIME.num_seconds();
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    )
}

pub fn clear_session_cookie(secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    )
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let (digest, via_bearer) = if let Some(t) = bearer(&parts.headers) {
            (token_digest(t), true)
        } else if let Some(c) = cookie(&parts.headers, SESSION_COOKIE).filter(|c| !c.is_empty()) {
            (token_digest(c), false)
        } else {
            return Err(AppError::Unauthorized);
        };
        // A bearer may be a login token (a session) or a personal API token.
        let mut principal = guanxi_store::principal::for_session(&state.db, &digest).await?;
        if principal.is_none() && via_bearer {
            principal = guanxi_store::principal::for_token(&state.db, &digest).await?;
        }
        let principal = principal.ok_or(AppError::Unauthorized)?;
        let locale = principal.locale;
        if let Some(slot) = parts.extensions.get::<LocaleSlot>() {
            let _ = slot.0.set(locale);
        }
        let path = parts.uri.path();
        if principal.needs_totp_setup
            && !path.starts_with("/me/2fa")
            && path != "/logout"
            && path != "/api/v1/auth/logout"
        {
            return Err(AppError::TotpSetupRequired);
        }
        let ip = parts.extensions.get::<ClientIp>().and_then(|c| c.0.clone());
        let actor = Actor {
            user_id: Some(principal.user_id),
            username: Some(principal.username.clone()),
            ip,
        };
        Ok(Auth {
            principal,
            actor,
            locale,
            credential_digest: digest,
            via_bearer,
        })
    }
}

/// The language and address of any request, signed in or not (login pages).
pub struct Visitor {
    pub locale: Locale,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let locale = match chosen_locale(&parts.headers) {
            Some(l) => l,
            None => guanxi_store::settings::load(&state.db)
                .await
                .ok()
                .and_then(|s| Locale::parse(&s.default_locale))
                .unwrap_or_default(),
        };
        Ok(Visitor {
            locale,
            ip: parts.extensions.get::<ClientIp>().and_then(|c| c.0.clone()),
            user_agent: parts
                .headers
                .get(axum::http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.chars().take(200).collect()),
        })
    }
}
