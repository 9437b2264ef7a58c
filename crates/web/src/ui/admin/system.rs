//! The audit log page (search, export) and the system settings page.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use guanxi_core::{Action, Locale, Module};
use guanxi_store::audit::Entry;
use serde::Deserialize;

use super::field_error;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::services::audit::{self, Format};
use crate::services::settings;
use crate::state::AppState;
use crate::ui::pages::{Flash, local_time};
use crate::ui::{RawForm, Shell};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/audit", get(audit_page))
        .route("/admin/audit/export", get(audit_export))
        .route("/admin/settings", get(settings_page).post(settings_save))
}

/// The audit filter as the page's form sends it (dates as YYYY-MM-DD in the user's zone).
#[derive(Debug, Default, Deserialize)]
pub struct AuditForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    q: String,
    cursor: Option<i64>,
    format: Option<String>,
}

impl AuditForm {
    fn filter(&self, tz: &str, limit: i64) -> guanxi_store::audit::Filter {
        let tz: chrono_tz::Tz = tz.parse().unwrap_or(chrono_tz::Asia::Shanghai);
        let day = |s: &str, plus: i64| {
            chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                .ok()
                .and_then(|d| {
                    (d + chrono::Duration::days(plus))
                        .and_hms_opt(0, 0, 0)
                        .and_then(|t| t.and_local_timezone(tz).earliest())
                        .map(|t| t.with_timezone(&chrono::Utc))
                })
        };
        let nonempty = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        guanxi_store::audit::Filter {
            username: nonempty(&self.username),
            action: nonempty(&self.action),
            module: None,
            from: day(&self.from, 0),
            to: day(&self.to, 1),
            q: nonempty(&self.q),
            before_id: self.cursor,
            limit,
        }
    }

    fn query(&self, cursor: Option<i64>) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("username", &self.username),
            ("action", &self.action),
            ("from", &self.from),
            ("to", &self.to),
            ("q", &self.q),
        ] {
            if !v.is_empty() {
                s.append_pair(k, v);
            }
        }
        if let Some(c) = cursor {
            s.append_pair("cursor", &c.to_string());
        }
        s.finish()
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "audit.html")]
pub struct AuditPage {
    shell: Shell,
    entries: Vec<(Entry, String)>,
    actions: Vec<String>,
    form: AuditForm,
    next: Option<String>,
    export_query: String,
    can_export: bool,
}

async fn audit_page(
    State(state): State<AppState>,
    auth: Auth,
    Query(form): Query<AuditForm>,
) -> AppResult<AuditPage> {
    let tz = auth.principal.time_zone.clone();
    let f = form.filter(&tz, 50);
    let entries = audit::search(&state, &auth, &f).await?;
    let next = (entries.len() as i64 == f.limit)
        .then(|| {
            entries
                .last()
                .map(|e| format!("/admin/audit?{}", form.query(Some(e.id))))
        })
        .flatten();
    Ok(AuditPage {
        shell: Shell::new(&state, &auth, "/admin/audit", "module-audit_log")
            .await
            .crumb("/admin/audit", "menu-admin"),
        entries: entries
            .into_iter()
            .map(|e| {
                let at = local_time(&e.at, &tz);
                (e, at)
            })
            .collect(),
        actions: guanxi_store::audit::actions(&state.db).await?,
        export_query: form.query(None),
        form,
        next,
        can_export: auth.principal.can(Module::AuditLog, Action::Export),
    })
}

async fn audit_export(
    State(state): State<AppState>,
    auth: Auth,
    Query(form): Query<AuditForm>,
) -> AppResult<Response> {
    let format = match form.format.as_deref() {
        Some("xlsx") => Format::Xlsx,
        Some("csv") | None => Format::Csv,
        Some(_) => return Err(AppError::BadRequest("error-export-format")),
    };
    let f = form.filter(&auth.principal.time_zone, 5000);
    let bytes = audit::export(&state, &auth, &f, format).await?;
    let (ctype, ext) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
        Format::Xlsx => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
    };
    let name = format!(
        "attachment; filename=\"audit-log-{}.{ext}\"",
        guanxi_store::now().format("%Y%m%d-%H%M%S")
    );
    Ok((
        [
            (header::CONTENT_TYPE, ctype.to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "settings.html")]
pub struct SettingsPage {
    shell: Shell,
    company_name: String,
    default_locale: String,
    default_time_zone: String,
    /// (module code, module name, mode)
    duplicates: Vec<(String, String, String)>,
    /// (module code, module name, [(related code, related name, shown)])
    related: Vec<RelatedRow>,
    locales: Vec<(String, String)>,
    errors: Vec<(String, String)>,
    can_manage: bool,
}

impl SettingsPage {
    fn error(&self, field: &str) -> String {
        field_error(&self.errors, field)
    }
}

async fn settings_page(
    State(state): State<AppState>,
    auth: Auth,
    Query(f): Query<Flash>,
) -> AppResult<SettingsPage> {
    let s = settings::get(&state, &auth).await?;
    Ok(SettingsPage {
        shell: Shell::new(&state, &auth, "/admin/settings", "module-settings")
            .await
            .crumb("/admin/settings", "menu-admin")
            .flash(f.ok.as_deref()),
        duplicates: duplicate_rows(&s, auth.locale),
        related: related_rows(&s, auth.locale),
        company_name: s.company_name,
        default_locale: s.default_locale,
        default_time_zone: s.default_time_zone,
        locales: Locale::ALL
            .iter()
            .map(|l| (l.code().to_owned(), l.native_name().to_owned()))
            .collect(),
        errors: vec![],
        can_manage: auth.principal.can(Module::Settings, Action::Manage),
    })
}

async fn settings_save(
    State(state): State<AppState>,
    auth: Auth,
    form: RawForm,
) -> AppResult<Response> {
    let input = guanxi_store::settings::Settings {
        company_name: form.get("company_name").to_owned(),
        default_locale: form.get("default_locale").to_owned(),
        default_time_zone: form.get("default_time_zone").to_owned(),
        duplicates: guanxi_core::engine::MODULES
            .iter()
            .filter(|m| form.has(&format!("duplicates.{}", m.code)))
            .map(|m| {
                (
                    m.code.to_owned(),
                    form.get(&format!("duplicates.{}", m.code)).to_owned(),
                )
            })
            .collect(),
        // Check boxes name the related lists to show; the rest are hidden.
        hidden_related: guanxi_core::engine::MODULES
            .iter()
            .filter(|m| !m.related.is_empty())
            .map(|m| {
                let shown = form.all(&format!("related.{}", m.code));
                let hidden = m
                    .related
                    .iter()
                    .map(|r| r.module.code().to_owned())
                    .filter(|c| !shown.contains(&c.as_str()))
                    .collect();
                (m.code.to_owned(), hidden)
            })
            .collect(),
    };
    match settings::save(&state, &auth, &input).await {
        Ok(_) => Ok(Redirect::to("/admin/settings?ok=flash-saved").into_response()),
        Err(e @ AppError::Validation(_)) => {
            let page = SettingsPage {
                shell: Shell::new(&state, &auth, "/admin/settings", "module-settings").await,
                duplicates: duplicate_rows(&input, auth.locale),
                related: related_rows(&input, auth.locale),
                company_name: input.company_name,
                default_locale: input.default_locale,
                default_time_zone: input.default_time_zone,
                locales: Locale::ALL
                    .iter()
                    .map(|l| (l.code().to_owned(), l.native_name().to_owned()))
                    .collect(),
                errors: e.fields(auth.locale),
                can_manage: true,
            };
            Ok((e.status(), page).into_response())
        }
        Err(e) => Err(e),
    }
}

fn duplicate_rows(
    s: &guanxi_store::settings::Settings,
    locale: Locale,
) -> Vec<(String, String, String)> {
    guanxi_core::engine::MODULES
        .iter()
        .map(|m| {
            (
                m.code.to_owned(),
                crate::ui::Tr(locale).module(m.code),
                s.duplicate_mode(m.code).to_owned(),
            )
        })
        .collect()
}

type RelatedRow = (String, String, Vec<(String, String, bool)>);

fn related_rows(s: &guanxi_store::settings::Settings, locale: Locale) -> Vec<RelatedRow> {
    let tr = crate::ui::Tr(locale);
    guanxi_core::engine::MODULES
        .iter()
        .filter(|m| !m.related.is_empty())
        .map(|m| {
            let hidden = s.hidden_related.get(m.code).cloned().unwrap_or_default();
            let lists = m
                .related
                .iter()
                .map(|r| {
                    let code = r.module.code().to_owned();
                    let shown = !hidden.contains(&code);
                    (code.clone(), tr.module(&code), shown)
                })
                .collect();
            (m.code.to_owned(), tr.module(m.code), lists)
        })
        .collect()
}
