//! The engine's HTML pages, the same for every module: list (filters, sort, keyset pages, bulk
//! actions), detail (the seed's four zones: edit bar, basic information with in-place edits,
//! actions, related data), the full form, history, the recycle bin and the print view.

mod attachments;
mod collaborators;
mod count;
mod detail;
mod filters;
mod form;
mod list;
mod print;
pub(super) mod view;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/{module}", get(list::page).post(form::create))
        .route("/{module}/new", get(form::new_form))
        .route("/{module}/bulk", post(list::bulk))
        .route("/{module}/views", post(list::save_view))
        .route("/{module}/views/{id}/delete", post(list::delete_view))
        .route("/{module}/recycle-bin", get(list::recycle_bin))
        .route("/{module}/print", get(print::page))
        .route("/{module}/{id}", get(detail::page).post(form::update))
        .route("/{module}/{id}/edit", get(form::edit_form))
        .route("/{module}/{id}/field/{field}", post(form::update_field))
        .route("/{module}/{id}/delete", post(detail::delete))
        .route("/{module}/{id}/restore", post(detail::restore))
        .route("/{module}/{id}/purge", post(detail::purge))
        .route("/{module}/{id}/lock", post(detail::lock))
        .route("/{module}/{id}/unlock", post(detail::unlock))
        .route("/{module}/{id}/transfer", post(detail::transfer))
        .route("/{module}/{id}/collaborators", post(collaborators::save))
        .route("/{module}/{id}/history", get(detail::history))
        .route(
            "/{module}/{id}/history/{entry}/restore",
            post(detail::restore_value),
        )
        .merge(attachments::router())
}
