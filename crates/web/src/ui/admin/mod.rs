//! Administration pages: departments, users, roles, audit log, settings.

mod departments;
mod dictionary;
mod fields;
mod history;
mod jobs;
mod regions;
mod roles;
mod rules;
mod system;
mod users;

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(departments::router())
        .merge(fields::router())
        .merge(regions::router())
        .merge(dictionary::router())
        .merge(users::router())
        .merge(roles::router())
        .merge(rules::router())
        .merge(system::router())
        .merge(history::router())
        .merge(jobs::router())
}

/// The message for one field from a list of (field, message).
pub fn field_error(errors: &[(String, String)], field: &str) -> String {
    errors
        .iter()
        .find(|(f, _)| f == field)
        .map(|(_, m)| m.clone())
        .unwrap_or_default()
}
