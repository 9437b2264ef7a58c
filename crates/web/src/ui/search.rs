//! Global search (the top bar's box, `/` to focus): one query across every module the user may
//! view, each result list already limited to the user's data scope.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use guanxi_core::{Action, Module};
use guanxi_store::departments::Department;
use guanxi_store::users::{User, UserFilter};
use serde::Deserialize;

use super::Shell;
use crate::auth::Auth;
use crate::error::AppResult;
use crate::services::{departments, users};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/search", get(search))
}

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "search.html")]
pub struct SearchPage {
    shell: Shell,
    q: String,
    users: Vec<User>,
    departments: Vec<Department>,
    searched: bool,
}

const LIMIT: usize = 20;

async fn search(
    State(state): State<AppState>,
    auth: Auth,
    Query(sq): Query<SearchQuery>,
) -> AppResult<SearchPage> {
    let q: String = sq.q.trim().chars().take(100).collect();
    let p = &auth.principal;
    let mut page = SearchPage {
        shell: Shell::new(&state, &auth, "/search", "search-title").await,
        q: q.clone(),
        users: vec![],
        departments: vec![],
        searched: !q.is_empty(),
    };
    if q.is_empty() {
        return Ok(page);
    }
    if p.can(Module::Users, Action::View) {
        let f = UserFilter {
            q: Some(q.clone()),
            limit: LIMIT as i64,
            ..UserFilter::default()
        };
        page.users = users::list(&state, &auth, &f).await?;
    }
    if p.can(Module::Departments, Action::View) {
        let needle = q.to_lowercase();
        page.departments = departments::list(&state, &auth)
            .await?
            .into_iter()
            .filter(|d| d.name.to_lowercase().contains(&needle))
            .take(LIMIT)
            .collect();
    }
    Ok(page)
}
