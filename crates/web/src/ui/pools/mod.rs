//! Public pool (公海) pages: the pools a user belongs to with their customers (search, keyset
//! pages, claim 领取 and assign 分配), one pool customer's details (counted against the daily
//! limit), the pool settings (公海设置) for administrators, and the customer's pool panel (score
//! explained, fall-back deadline, ownership timeline, 放入公海) for the customer detail page.

mod admin;
mod list;
mod panel;

use axum::Router;
use axum::routing::{get, post};

pub use panel::{PoolPanel, panel};

use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/pools", get(list::first_page))
        .route("/pools/{id}", get(list::page))
        .route("/pools/{id}/claim", post(list::claim))
        .route("/pools/{id}/assign", post(list::assign))
        .route("/pools/{id}/customers/{customer}", get(list::customer))
        .route("/admin/pools", get(admin::list).post(admin::create))
        .route("/admin/pools/new", get(admin::new_form))
        .route(
            "/admin/pools/{id}",
            get(admin::edit_form).post(admin::update),
        )
        .route("/customers/{id}/release", post(panel::release))
}

/// A numeric path segment; anything else is a page that does not exist.
fn path_id(s: &str) -> AppResult<i64> {
    s.parse().map_err(|_| AppError::NotFound)
}

/// Active users as (id, name), for the assign and member pickers.
async fn user_options(state: &AppState) -> AppResult<Vec<(i64, String)>> {
    Ok(guanxi_store::users::list_all(&state.db)
        .await?
        .into_iter()
        .filter(|u| u.is_active)
        .map(|u| (u.id, u.display_name))
        .collect())
}
