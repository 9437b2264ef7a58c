//! Pages that belong to no module: the home page and the error page.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use guanxi_core::Locale;
use serde::Deserialize;

use super::{Shell, Tr};
use crate::auth::Auth;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub tr: Tr,
    pub status: u16,
    pub message: String,
}

impl ErrorPage {
    pub fn new(locale: Locale, status: u16, message: String) -> ErrorPage {
        ErrorPage {
            tr: Tr(locale),
            status,
            message,
        }
    }
}

#[derive(Deserialize, Default)]
pub struct Flash {
    pub ok: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub struct HomePage {
    pub shell: Shell,
    pub last_login: Option<String>,
    pub greeting: String,
}

pub async fn home(State(state): State<AppState>, auth: Auth, Query(f): Query<Flash>) -> HomePage {
    let shell = Shell::new(&state, &auth, "/", "menu-home")
        .await
        .flash(f.ok.as_deref());
    let greeting = shell.tr.t1("welcome", "name", &auth.principal.display_name);
    let tz: chrono_tz::Tz = auth
        .principal
        .time_zone
        .parse()
        .unwrap_or(chrono_tz::Asia::Shanghai);
    let last_login = guanxi_store::users::get_self(&state.db, &auth.principal)
        .await
        .ok()
        .and_then(|u| u.last_login_at)
        .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string());
    HomePage {
        shell,
        last_login,
        greeting,
    }
}

/// A whole number with thousands separators (1,000).
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// Formats a UTC time in the user's time zone.
pub fn local_time(t: &chrono::DateTime<chrono::Utc>, tz: &str) -> String {
    let tz: chrono_tz::Tz = tz.parse().unwrap_or(chrono_tz::Asia::Shanghai);
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string()
}
