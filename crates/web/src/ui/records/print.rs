//! The print view of a list (打印): the list's filter, sort and columns as a plain table of up
//! to 1,000 rows on a bare page, with a print stylesheet.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use guanxi_store::records::Record;

use super::list::{Row, canonical, query_string, rows, shown_fields};
use super::view::{Lookups, module_name};
use crate::api::records::list_query;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::services::records::{self as svc, module};
use crate::state::AppState;
use crate::ui::Tr;

/// The most rows a print view shows.
const MAX_ROWS: usize = 1_000;

#[derive(Template, WebTemplate)]
#[template(path = "record_print.html")]
pub struct PrintPage {
    tr: Tr,
    company: String,
    name: String,
    columns: Vec<String>,
    rows: Vec<Row>,
    truncated: bool,
    printed_at: String,
    printed_by: String,
    /// The list page this view came from.
    back: String,
}

pub async fn page(
    State(state): State<AppState>,
    auth: Auth,
    Path(m): Path<String>,
    Query(raw): Query<Vec<(String, String)>>,
) -> AppResult<PrintPage> {
    let def = module(&m)?;
    let fs = svc::fields(&state, def).await?;
    let view_id = raw
        .iter()
        .find(|(k, _)| k == "view")
        .and_then(|(_, v)| v.parse::<i64>().ok());
    let views = guanxi_store::views::visible(&state.db, def.code, auth.principal.user_id).await?;
    let view = view_id.and_then(|id| views.iter().find(|v| v.id == id));
    let pairs = canonical(&raw, view);
    let mut q = list_query(&fs, &pairs, &auth.principal.time_zone)?;
    q.after = None;
    q.limit = MAX_ROWS as i64 + 1;
    let mut items = svc::list(&state, &auth, def, &q).await?;
    let truncated = items.len() > MAX_ROWS;
    items.truncate(MAX_ROWS);
    let tr = Tr(auth.locale);
    let tz = auth.principal.time_zone.clone();
    let refs: Vec<&Record> = items.iter().collect();
    let shown = shown_fields(&fs, &pairs);
    let look = Lookups::load_for(&state, &auth, &[(&shown, &refs)]).await;
    let title = fs.field(def.title).ok_or(AppError::NotFound)?;
    let columns = std::iter::once(title)
        .chain(shown.iter().copied())
        .map(|f| f.label_in(def, tr.0))
        .collect();
    let company = guanxi_store::settings::load(&state.db)
        .await
        .map(|s| s.company_name)
        .unwrap_or_else(|_| tr.t("app-name"));
    let rest = query_string(&raw, &["cursor"]);
    Ok(PrintPage {
        tr,
        company,
        name: module_name(def, auth.locale),
        columns,
        rows: rows(&fs, &shown, &items, &look, tr, &tz),
        truncated,
        printed_at: crate::ui::pages::local_time(&chrono::Utc::now(), &tz),
        printed_by: auth.principal.display_name.clone(),
        back: if rest.is_empty() {
            format!("/{}", def.code)
        } else {
            format!("/{}?{rest}", def.code)
        },
    })
}
