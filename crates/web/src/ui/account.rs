//! The account pages: profile and language, password, API tokens, two-factor login.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use guanxi_core::Locale;
use guanxi_store::tokens::ApiToken;

use super::pages::{Flash, local_time};
use super::{RawForm, Shell};
use crate::api::Id;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::services::account::{self, PasswordChange, Preferences, TotpSetup};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me", get(me_page).post(save_preferences))
        .route("/me/locale", post(switch_locale))
        .route("/me/password", post(change_password))
        .route("/me/tokens", get(tokens_page).post(create_token))
        .route("/me/tokens/{id}/revoke", post(revoke_token))
        .route("/me/2fa", get(totp_page).post(totp_begin))
        .route("/me/2fa/confirm", post(totp_confirm))
        .route("/me/2fa/disable", post(totp_disable))
}

#[derive(Template, WebTemplate)]
#[template(path = "me.html")]
pub struct MePage {
    shell: Shell,
    display_name: String,
    locale: String,
    time_zone: String,
    locales: Vec<(String, String)>,
    errors: Vec<(String, String)>,
}

impl MePage {
    fn error(&self, field: &str) -> String {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.clone())
            .unwrap_or_default()
    }
}

fn locales() -> Vec<(String, String)> {
    Locale::ALL
        .iter()
        .map(|l| (l.code().to_owned(), l.native_name().to_owned()))
        .collect()
}

async fn me_page(State(state): State<AppState>, auth: Auth, Query(f): Query<Flash>) -> MePage {
    let p = &auth.principal;
    MePage {
        display_name: p.display_name.clone(),
        locale: p.locale.code().to_owned(),
        time_zone: p.time_zone.clone(),
        locales: locales(),
        errors: vec![],
        shell: Shell::new(&state, &auth, "/me", "me-title")
            .await
            .flash(f.ok.as_deref()),
    }
}

async fn save_preferences(
    State(state): State<AppState>,
    auth: Auth,
    form: RawForm,
) -> AppResult<Response> {
    let prefs = Preferences {
        display_name: Some(form.get("display_name").to_owned()),
        locale: Some(form.get("locale").to_owned()),
        time_zone: Some(form.get("time_zone").to_owned()),
    };
    match account::set_preferences(&state, &auth, &prefs).await {
        Ok(()) => Ok(Redirect::to("/me?ok=flash-saved").into_response()),
        Err(e @ AppError::Validation(_)) => {
            let errors = e.fields(auth.locale);
            let page = MePage {
                display_name: form.get("display_name").to_owned(),
                locale: form.get("locale").to_owned(),
                time_zone: form.get("time_zone").to_owned(),
                locales: locales(),
                errors,
                shell: Shell::new(&state, &auth, "/me", "me-title").await,
            };
            Ok((e.status(), page).into_response())
        }
        Err(e) => Err(e),
    }
}

/// The language switch in the user menu: remembered on the user's account.
async fn switch_locale(
    State(state): State<AppState>,
    auth: Auth,
    form: RawForm,
) -> AppResult<Response> {
    let prefs = Preferences {
        locale: Some(form.get("locale").to_owned()),
        ..Preferences::default()
    };
    account::set_preferences(&state, &auth, &prefs).await?;
    let back = form.get("next");
    let back = if back.starts_with('/') && !back.starts_with("//") {
        back
    } else {
        "/"
    };
    Ok(Redirect::to(back).into_response())
}

async fn change_password(
    State(state): State<AppState>,
    auth: Auth,
    form: RawForm,
) -> AppResult<Response> {
    let input = PasswordChange {
        current_password: form.get("current_password").to_owned(),
        new_password: form.get("new_password").to_owned(),
    };
    let result = if form.get("new_password") != form.get("confirm_password") {
        Err(
            guanxi_core::validate::FieldError::new("confirm_password", "error-password-mismatch")
                .into(),
        )
    } else {
        account::change_password(&state, &auth, &input).await
    };
    match result {
        Ok(()) => Ok(Redirect::to("/me?ok=flash-password-changed").into_response()),
        // Back to the account page with the message under the field.
        Err(e @ AppError::Validation(_)) => {
            let p = &auth.principal;
            let page = MePage {
                display_name: p.display_name.clone(),
                locale: p.locale.code().to_owned(),
                time_zone: p.time_zone.clone(),
                locales: locales(),
                errors: e.fields(auth.locale),
                shell: Shell::new(&state, &auth, "/me", "me-title").await,
            };
            Ok((e.status(), page).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "tokens.html")]
pub struct TokensPage {
    shell: Shell,
    tokens: Vec<(ApiToken, String, String)>,
    new_secret: Option<String>,
}

async fn render_tokens(
    state: &AppState,
    auth: &Auth,
    new_secret: Option<String>,
    ok: Option<&str>,
) -> AppResult<TokensPage> {
    let tz = &auth.principal.time_zone;
    let tokens = account::list_tokens(state, auth)
        .await?
        .into_iter()
        .map(|t| {
            let created = local_time(&t.created_at, tz);
            let used = t
                .last_used_at
                .as_ref()
                .map(|u| local_time(u, tz))
                .unwrap_or_default();
            (t, created, used)
        })
        .collect();
    Ok(TokensPage {
        shell: Shell::new(state, auth, "/me/tokens", "tokens-title")
            .await
            .crumb("/me", "me-title")
            .flash(ok),
        tokens,
        new_secret,
    })
}

async fn tokens_page(
    State(state): State<AppState>,
    auth: Auth,
    Query(f): Query<Flash>,
) -> AppResult<TokensPage> {
    render_tokens(&state, &auth, None, f.ok.as_deref()).await
}

async fn create_token(
    State(state): State<AppState>,
    auth: Auth,
    form: RawForm,
) -> AppResult<TokensPage> {
    let t = account::create_token(&state, &auth, form.get("name")).await?;
    render_tokens(&state, &auth, Some(t.secret), Some("flash-token-created")).await
}

async fn revoke_token(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> AppResult<Response> {
    account::revoke_token(&state, &auth, id).await?;
    Ok(Redirect::to("/me/tokens?ok=flash-token-revoked").into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "twofa.html")]
pub struct TotpPage {
    shell: Shell,
    enabled: bool,
    required: bool,
    setup: Option<TotpSetup>,
    qr_svg: String,
    error: Option<String>,
}

fn qr(uri: &str) -> String {
    qrcode::QrCode::new(uri.as_bytes())
        .map(|c| {
            c.render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(180, 180)
                .build()
        })
        .unwrap_or_default()
}

async fn render_totp(
    state: &AppState,
    auth: &Auth,
    error: Option<String>,
    ok: Option<&str>,
) -> AppResult<TotpPage> {
    let enabled = guanxi_store::users::credentials_by_id(&state.db, auth.principal.user_id)
        .await?
        .totp_enabled;
    let required =
        guanxi_store::roles::user_requires_totp(&state.db, auth.principal.user_id).await?;
    let setup = account::pending_totp(state, auth).await?;
    let qr_svg = setup
        .as_ref()
        .map(|s| qr(&s.otpauth_uri))
        .unwrap_or_default();
    Ok(TotpPage {
        shell: Shell::new(state, auth, "/me/2fa", "totp-title")
            .await
            .crumb("/me", "me-title")
            .flash(ok),
        enabled,
        required,
        setup,
        qr_svg,
        error,
    })
}

async fn totp_page(
    State(state): State<AppState>,
    auth: Auth,
    Query(f): Query<Flash>,
) -> AppResult<TotpPage> {
    render_totp(&state, &auth, None, f.ok.as_deref()).await
}

async fn totp_begin(State(state): State<AppState>, auth: Auth) -> AppResult<Response> {
    account::begin_totp(&state, &auth).await?;
    Ok(Redirect::to("/me/2fa").into_response())
}

async fn totp_confirm(
    State(state): State<AppState>,
    auth: Auth,
    form: RawForm,
) -> AppResult<Response> {
    match account::confirm_totp(&state, &auth, form.get("code")).await {
        Ok(()) => Ok(Redirect::to("/me/2fa?ok=flash-totp-on").into_response()),
        Err(e @ AppError::Validation(_)) => {
            let msg = e.fields(auth.locale).into_iter().next().map(|(_, m)| m);
            Ok((e.status(), render_totp(&state, &auth, msg, None).await?).into_response())
        }
        Err(e) => Err(e),
    }
}

async fn totp_disable(
    State(state): State<AppState>,
    auth: Auth,
    form: RawForm,
) -> AppResult<Response> {
    match account::disable_totp(&state, &auth, form.get("password")).await {
        Ok(()) => Ok(Redirect::to("/me/2fa?ok=flash-totp-off").into_response()),
        Err(e @ AppError::Validation(_)) => {
            let msg = e.fields(auth.locale).into_iter().next().map(|(_, m)| m);
            Ok((e.status(), render_totp(&state, &auth, msg, None).await?).into_response())
        }
        Err(e) => Err(e),
    }
}
