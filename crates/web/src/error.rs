//! One error type for the API and the UI. Handlers return `AppError`; the response carries the
//! error as an extension and [`crate::middleware`] renders it in the request's language, as JSON
//! `{ "error": { "code", "message", "fields"? } }` under `/api/` and as an HTML page elsewhere.
//! Internal causes are logged, never shown.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use guanxi_core::validate::FieldError;
use guanxi_core::{Denied, I18n, Locale};
use guanxi_store::StoreError;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not signed in")]
    Unauthorized,
    /// Wrong user name or password (never says which).
    #[error("bad credentials")]
    BadCredentials,
    #[error("second factor required")]
    TotpRequired,
    /// A role demands two-factor login that the user has not set up yet.
    #[error("two-factor set-up required")]
    TotpSetupRequired,
    #[error("{0}")]
    Forbidden(Denied),
    #[error("not found")]
    NotFound,
    #[error("invalid input")]
    Validation(Vec<FieldError>),
    /// A request that cannot be done in the current state; the key is an i18n message.
    #[error("conflict: {0}")]
    Conflict(&'static str, Vec<(&'static str, String)>),
    /// A record with the same key exists (查重). `warn`: the user may confirm and go on.
    #[error("duplicate")]
    Duplicate {
        warn: bool,
        args: Vec<(&'static str, String)>,
    },
    /// The record changed since the caller read it; carries the current record.
    #[error("version conflict")]
    VersionConflict(Box<serde_json::Value>),
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    #[error("too many requests")]
    TooManyRequests(&'static str),
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            other => AppError::Internal(other.into()),
        }
    }
}

impl From<Denied> for AppError {
    fn from(d: Denied) -> Self {
        AppError::Forbidden(d)
    }
}

impl From<Vec<FieldError>> for AppError {
    fn from(v: Vec<FieldError>) -> Self {
        AppError::Validation(v)
    }
}

impl From<FieldError> for AppError {
    fn from(v: FieldError) -> Self {
        AppError::Validation(vec![v])
    }
}

impl AppError {
    pub fn conflict(key: &'static str) -> AppError {
        AppError::Conflict(key, vec![])
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthorized | AppError::BadCredentials | AppError::TotpRequired => {
                StatusCode::UNAUTHORIZED
            }
            AppError::Forbidden(_) | AppError::TotpSetupRequired => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(..) | AppError::VersionConflict(_) | AppError::Duplicate { .. } => {
                StatusCode::CONFLICT
            }
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthorized => "unauthorized",
            AppError::BadCredentials => "bad_credentials",
            AppError::TotpRequired => "totp_required",
            AppError::TotpSetupRequired => "totp_setup_required",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound => "not_found",
            AppError::Validation(_) => "validation",
            AppError::Conflict(..) => "conflict",
            AppError::VersionConflict(_) => "version_conflict",
            AppError::Duplicate { warn: false, .. } => "duplicate",
            AppError::Duplicate { warn: true, .. } => "duplicate_warning",
            AppError::BadRequest(_) => "bad_request",
            AppError::TooManyRequests(_) => "too_many_requests",
            AppError::Internal(_) => "internal",
        }
    }

    /// The message in the user's language.
    pub fn message(&self, locale: Locale) -> String {
        let i = I18n::global();
        match self {
            AppError::Forbidden(d) => i.t_args(
                locale,
                "error-forbidden",
                &[
                    (
                        "action",
                        i.t(locale, &format!("action-{}", d.action.code())),
                    ),
                    (
                        "module",
                        i.t(locale, &format!("module-{}", d.module.code())),
                    ),
                ],
            ),
            AppError::Conflict(key, args) => i.t_args(locale, key, args),
            AppError::Duplicate { warn, args } => {
                let mut args = args.clone();
                if let Some(f) = args.iter_mut().find(|(k, _)| *k == "module") {
                    f.1 = i.t(locale, &format!("module-{}", f.1));
                }
                let key = if *warn {
                    "error-duplicate-warn"
                } else {
                    "error-duplicate"
                };
                i.t_args(locale, key, &args)
            }
            AppError::BadRequest(key) | AppError::TooManyRequests(key) => i.t(locale, key),
            other => i.t(locale, &format!("error-{}", other.code().replace('_', "-"))),
        }
    }

    /// Field messages in the user's language.
    pub fn fields(&self, locale: Locale) -> Vec<(String, String)> {
        match self {
            AppError::Validation(v) => v
                .iter()
                .map(|e| (e.field.clone(), field_message(e, locale)))
                .collect(),
            _ => vec![],
        }
    }

    pub fn to_json(&self, locale: Locale) -> serde_json::Value {
        let mut err = json!({ "code": self.code(), "message": self.message(locale) });
        if let AppError::VersionConflict(current) = self {
            err["current"] = (**current).clone();
        }
        if let AppError::Validation(_) = self {
            let fields: serde_json::Map<String, serde_json::Value> = self
                .fields(locale)
                .into_iter()
                .map(|(f, m)| (f, serde_json::Value::String(m)))
                .collect();
            err["fields"] = fields.into();
        }
        json!({ "error": err })
    }
}

pub fn field_message(e: &FieldError, locale: Locale) -> String {
    I18n::global().t_args(locale, &e.message, &e.args)
}

/// The error, carried on the response until the middleware renders it.
#[derive(Clone)]
pub struct PendingError(pub std::sync::Arc<AppError>);

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(e) = &self {
            tracing::error!(error = ?e, "internal error");
        }
        let mut resp = self.status().into_response();
        resp.extensions_mut()
            .insert(PendingError(std::sync::Arc::new(self)));
        resp
    }
}

pub type AppResult<T> = Result<T, AppError>;
