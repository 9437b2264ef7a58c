//! The server-rendered UI. Every page is a typed askama template (templates escape by default);
//! pages work without JavaScript, and `assets/app.js` adds dialogs, toasts and shortcuts.
//! Handlers are thin: they call [`crate::services`] and render the result.

mod account;
mod admin;
mod form;
mod imports;
mod login;
mod notifications;
pub mod pages;
pub mod pools;
mod records;
pub mod regions_picker;
mod search;
mod shell;
mod tasks;

use axum::Router;
use axum::routing::get;

pub use form::RawForm;
pub use shell::{MenuGroup, MenuItem, Shell, Tr};

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::home))
        .merge(login::router())
        .merge(account::router())
        .merge(admin::router())
        .merge(search::router())
        .merge(imports::router())
        .merge(records::router())
        .merge(notifications::router())
        .merge(pools::router())
        .merge(tasks::router())
}

/// Percent-encodes a query value.
pub fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
