//! The list page of a module and its recycle bin.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use guanxi_core::Action;
use guanxi_core::engine::{Fields, ModuleDef};
use guanxi_store::records::Record;

use super::view::{Lookups, module_name};
use crate::api::records::{list_query, page as api_page};
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::services::records::{self as svc, module};
use crate::state::AppState;
use crate::ui::{RawForm, Shell, Tr};

pub struct Column {
    pub label: String,
    /// Whether this column is the current sort, and in which direction.
    pub sorted: &'static str,
    pub sort_link: String,
}

pub struct Row {
    pub id: i64,
    pub title: String,
    pub cells: Vec<String>,
    pub owner: String,
    pub updated: String,
    pub locked: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "record_list.html")]
pub struct ListPage {
    shell: Shell,
    module: &'static str,
    name: String,
    columns: Vec<Column>,
    rows: Vec<Row>,
    q: String,
    query: String,
    next: Option<String>,
    can_create: bool,
    can_assign: bool,
    can_delete: bool,
    bin: bool,
    users: Vec<(i64, String)>,
}

fn query_string(pairs: &[(String, String)], skip: &[&str]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs.iter().filter(|(k, _)| !skip.contains(&k.as_str())) {
        s.append_pair(k, v);
    }
    s.finish()
}

fn rows(fs: &Fields, items: &[Record], look: &Lookups, tr: Tr, tz: &str) -> Vec<Row> {
    items
        .iter()
        .map(|r| Row {
            id: r.id,
            title: r.title(fs.def),
            cells: fs
                .iter()
                .filter(|f| f.list && f.code != fs.def.title)
                .map(|f| look.display(f, r.values.get(f.code), tr, tz))
                .collect(),
            owner: r.owner_name.clone().unwrap_or_default(),
            updated: crate::ui::pages::local_time(&r.updated_at, tz),
            locked: r.locked,
        })
        .collect()
}

async fn render(
    state: &AppState,
    auth: &Auth,
    def: &'static ModuleDef,
    pairs: Vec<(String, String)>,
    bin: bool,
) -> AppResult<ListPage> {
    let fs = svc::fields(state, def).await?;
    let mut q = list_query(&fs, &pairs)?;
    q.deleted = bin;
    let items = svc::list(state, auth, def, &q).await?;
    let tr = Tr(auth.locale);
    let tz = auth.principal.time_zone.clone();
    let refs: Vec<&Record> = items.iter().collect();
    let look = Lookups::load(state, auth, &fs, &refs, false).await;
    let base = if bin {
        format!("/{}/recycle-bin", def.code)
    } else {
        format!("/{}", def.code)
    };
    let current_sort = pairs
        .iter()
        .find(|(k, _)| k == "sort")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let desc = pairs.iter().any(|(k, v)| k == "order" && v == "desc");
    let columns = fs
        .iter()
        .filter(|f| f.list)
        .map(|f| {
            let sorted = if current_sort == f.code {
                if desc { "desc" } else { "asc" }
            } else {
                ""
            };
            let order = if sorted == "asc" { "desc" } else { "asc" };
            let rest = query_string(&pairs, &["sort", "order", "cursor"]);
            let sep = if rest.is_empty() { "" } else { "&" };
            Column {
                label: f.label_in(def, tr.0),
                sorted,
                sort_link: format!("{base}?{rest}{sep}sort={}&order={order}", f.code),
            }
        })
        .collect();
    let p = api_page(items.clone(), &q);
    let next = p.next_cursor.map(|c| {
        let rest = query_string(&pairs, &["cursor"]);
        let sep = if rest.is_empty() { "" } else { "&" };
        format!("{base}?{rest}{sep}cursor={c}")
    });
    let can_assign = auth.principal.can(def.module, Action::Assign);
    let users = if can_assign {
        guanxi_store::users::list_all(&state.db)
            .await?
            .into_iter()
            .filter(|u| u.is_active)
            .map(|u| (u.id, u.display_name))
            .collect()
    } else {
        vec![]
    };
    let title_key = if bin {
        "record-recycle-bin"
    } else {
        "menu-customers"
    };
    let name = module_name(def, auth.locale);
    let mut shell = Shell::new(state, auth, &format!("/{}", def.code), title_key)
        .await
        .crumb(&format!("/{}", def.code), title_key);
    shell = shell.title(if bin {
        format!("{} · {}", name, tr.t("record-recycle-bin"))
    } else {
        name.clone()
    });
    Ok(ListPage {
        module: def.code,
        name,
        rows: rows(&fs, &items, &look, tr, &tz),
        columns,
        q: q.q.clone().unwrap_or_default(),
        query: query_string(&pairs, &["cursor", "ok"]),
        next,
        can_create: auth.principal.can(def.module, Action::Create),
        can_assign,
        can_delete: auth.principal.can(def.module, Action::Delete),
        bin,
        users,
        shell: shell.flash(
            pairs
                .iter()
                .find(|(k, _)| k == "ok")
                .map(|(_, v)| v.as_str()),
        ),
    })
}

pub async fn page(
    State(state): State<AppState>,
    auth: Auth,
    Path(m): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> AppResult<ListPage> {
    render(&state, &auth, module(&m)?, pairs, false).await
}

pub async fn recycle_bin(
    State(state): State<AppState>,
    auth: Auth,
    Path(m): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> AppResult<ListPage> {
    render(&state, &auth, module(&m)?, pairs, true).await
}

/// Bulk actions on the selected rows: transfer to an owner, or move to the recycle bin.
pub async fn bulk(
    State(state): State<AppState>,
    auth: Auth,
    Path(m): Path<String>,
    form: RawForm,
) -> AppResult<Response> {
    let def = module(&m)?;
    let ids: Vec<i64> = form
        .all("ids")
        .iter()
        .filter_map(|s| s.parse().ok())
        .collect();
    if ids.is_empty() {
        return Err(AppError::BadRequest("error-nothing-selected"));
    }
    let ok = match form.get("action") {
        "transfer" => {
            let owner = form
                .opt_id("owner_id")
                .ok_or(AppError::BadRequest("error-user-missing"))?;
            for id in &ids {
                svc::transfer(&state, &auth, def, *id, owner).await?;
            }
            "flash-transferred"
        }
        "delete" => {
            for id in &ids {
                svc::delete(&state, &auth, def, *id).await?;
            }
            "flash-deleted"
        }
        _ => return Err(AppError::BadRequest("error-bulk-action")),
    };
    Ok(Redirect::to(&format!("/{}?ok={ok}", def.code)).into_response())
}
