//! Sign-in, the second-factor step, sign-out and the language switch for visitors.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use guanxi_core::Locale;
use serde::Deserialize;

use super::{RawForm, Tr};
use crate::auth::{self, Auth, LANG_COOKIE, SESSION_COOKIE, Visitor};
use crate::error::{AppError, AppResult};
use crate::services::session::{self, LoginOutcome};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login_submit))
        .route("/login/2fa", get(totp_page).post(totp_submit))
        .route("/logout", post(logout))
        .route("/lang/{code}", get(set_language))
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
pub struct LoginPage {
    tr: Tr,
    company: String,
    username: String,
    next: String,
    error: Option<String>,
    other: Locale,
}

#[derive(Template, WebTemplate)]
#[template(path = "login_2fa.html")]
pub struct TotpPage {
    tr: Tr,
    company: String,
    next: String,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct Next {
    next: Option<String>,
}

/// Only local paths, so a link cannot send the user elsewhere after sign-in.
fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") {
        next.to_owned()
    } else {
        "/".to_owned()
    }
}

async fn company(state: &AppState) -> String {
    guanxi_store::settings::load(&state.db)
        .await
        .map(|s| s.company_name)
        .unwrap_or_default()
}

fn other(l: Locale) -> Locale {
    if l == Locale::ZhCn {
        Locale::En
    } else {
        Locale::ZhCn
    }
}

async fn login_page(State(state): State<AppState>, v: Visitor, Query(n): Query<Next>) -> LoginPage {
    LoginPage {
        tr: Tr(v.locale),
        company: company(&state).await,
        username: String::new(),
        next: safe_next(n.next.as_deref().unwrap_or("/")),
        error: None,
        other: other(v.locale),
    }
}

fn with_cookie(cookie: String, to: &str) -> Response {
    let mut r = Redirect::to(to).into_response();
    if let Ok(v) = cookie.parse() {
        r.headers_mut().append(SET_COOKIE, v);
    }
    r
}

async fn login_submit(
    State(state): State<AppState>,
    v: Visitor,
    form: RawForm,
) -> AppResult<Response> {
    let next = safe_next(form.get("next"));
    let secure = state.config.secure_cookies;
    match session::login(&state, &v, form.get("username"), form.get("password"), None).await {
        Ok(LoginOutcome::Session { token, .. }) => {
            Ok(with_cookie(auth::session_cookie(&token, secure), &next))
        }
        Ok(LoginOutcome::NeedTotp { pending_token }) => Ok(with_cookie(
            auth::session_cookie(&pending_token, secure),
            &format!("/login/2fa?next={}", super::urlencode(&next)),
        )),
        Err(e @ (AppError::BadCredentials | AppError::TooManyRequests(_))) => {
            let status = e.status();
            let page = LoginPage {
                tr: Tr(v.locale),
                company: company(&state).await,
                username: form.get("username").to_owned(),
                next,
                error: Some(e.message(v.locale)),
                other: other(v.locale),
            };
            Ok((status, page).into_response())
        }
        Err(e) => Err(e),
    }
}

async fn totp_page(State(state): State<AppState>, v: Visitor, Query(n): Query<Next>) -> TotpPage {
    TotpPage {
        tr: Tr(v.locale),
        company: company(&state).await,
        next: safe_next(n.next.as_deref().unwrap_or("/")),
        error: None,
    }
}

async fn totp_submit(
    State(state): State<AppState>,
    v: Visitor,
    headers: HeaderMap,
    form: RawForm,
) -> AppResult<Response> {
    let next = safe_next(form.get("next"));
    let pending = auth::cookie(&headers, SESSION_COOKIE)
        .unwrap_or("")
        .to_owned();
    match session::complete_totp(&state, &v, &pending, form.get("code")).await {
        Ok(LoginOutcome::Session { token, .. }) => Ok(with_cookie(
            auth::session_cookie(&token, state.config.secure_cookies),
            &next,
        )),
        Ok(LoginOutcome::NeedTotp { .. }) | Err(AppError::Unauthorized) => {
            Ok(Redirect::to("/login").into_response())
        }
        Err(e @ AppError::Validation(_)) => {
            let page = TotpPage {
                tr: Tr(v.locale),
                company: company(&state).await,
                next,
                error: Some(e.message(v.locale)),
            };
            Ok((e.status(), page).into_response())
        }
        Err(e) => Err(e),
    }
}

async fn logout(State(state): State<AppState>, auth: Auth) -> AppResult<Response> {
    session::logout(&state, &auth).await?;
    Ok(with_cookie(
        auth::clear_session_cookie(state.config.secure_cookies),
        "/login",
    ))
}

/// Sets the visitor's language cookie (signed-in users change theirs on the account page).
async fn set_language(
    axum::extract::Path(code): axum::extract::Path<String>,
    Query(n): Query<Next>,
) -> Response {
    let locale = Locale::parse(&code).unwrap_or_default();
    let cookie = format!(
        "{LANG_COOKIE}={}; Path=/; SameSite=Lax; Max-Age=31536000",
        locale.code()
    );
    with_cookie(cookie, &safe_next(n.next.as_deref().unwrap_or("/login")))
}
