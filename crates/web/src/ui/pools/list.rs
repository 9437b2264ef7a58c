//! 公海: the pools the user belongs to as tabs, the chosen pool's customers (quick search, sortable
//! columns, keyset pages — all in the URL), claim and assign on the selected rows, and one pool
//! customer's details.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use guanxi_core::engine::CUSTOMERS;
use guanxi_core::{Action, Module};
use guanxi_store::pools::Pool;
use guanxi_store::records::Record;

use super::panel::{PoolPanel, build};
use super::{path_id, user_options};
use crate::api::records::{list_query, page as api_page};
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::services::pools as svc;
use crate::services::records::fields;
use crate::state::AppState;
use crate::ui::records::view::Lookups;
use crate::ui::{RawForm, Shell, Tr};

/// The columns after the name: what a salesperson needs to pick a customer.
const COLUMNS: [&str; 3] = ["customer_type", "industry", "phone"];

pub struct Tab {
    pub id: i64,
    pub name: String,
    pub current: bool,
}

pub struct Column {
    pub label: String,
    /// `asc`, `desc` or empty when the list is not sorted by this column.
    pub sorted: &'static str,
    pub sort_link: String,
}

pub struct Row {
    pub id: i64,
    pub name: String,
    pub cells: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "pools.html")]
pub struct PoolsPage {
    shell: Shell,
    tabs: Vec<Tab>,
    pool: Option<i64>,
    columns: Vec<Column>,
    rows: Vec<Row>,
    q: String,
    /// The list state besides the search text (sort, order), kept by the search form.
    keep: Vec<(String, String)>,
    /// The list's own query string, kept through claim and assign.
    query: String,
    next: Option<String>,
    can_assign: bool,
    can_manage: bool,
    users: Vec<(i64, String)>,
    error: Option<String>,
}

/// The list state a pool page understands; anything else in the URL is dropped.
fn list_pairs(raw: &[(String, String)]) -> Vec<(String, String)> {
    raw.iter()
        .filter(|(k, v)| ["q", "sort", "order", "cursor"].contains(&k.as_str()) && !v.is_empty())
        .cloned()
        .collect()
}

fn query_string(pairs: &[(String, String)], skip: &[&str]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs.iter().filter(|(k, _)| !skip.contains(&k.as_str())) {
        s.append_pair(k, v);
    }
    s.finish()
}

fn with_query(base: &str, query: &str) -> String {
    if query.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{query}")
    }
}

/// The success toast: the claim and assign messages carry how many customers moved.
fn flash(shell: Shell, raw: &[(String, String)]) -> Shell {
    let get = |key: &str| raw.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    let ok = get("ok");
    let n = get("n").and_then(|n| n.parse::<u32>().ok());
    match (ok, n) {
        (Some(key @ ("flash-pool-claimed" | "flash-pool-assigned")), Some(n)) => {
            let text = shell.tr.t1(key, "n", &n.to_string());
            let mut shell = shell;
            shell.flash = Some(text);
            shell
        }
        _ => shell.flash(ok),
    }
}

fn may_assign(auth: &Auth, pool: &Pool) -> bool {
    auth.principal.can(Module::Pools, Action::Manage)
        || guanxi_store::pools::is_manager(pool, auth.principal.user_id)
}

async fn render(
    state: &AppState,
    auth: &Auth,
    pool_id: Option<i64>,
    raw: &[(String, String)],
    error: Option<String>,
) -> AppResult<PoolsPage> {
    let pools = svc::mine(state, auth).await?;
    let pool_id = pool_id.or_else(|| pools.first().map(|p| p.id));
    let pool = match pool_id {
        Some(id) => Some(
            pools
                .iter()
                .find(|p| p.id == id)
                .ok_or(AppError::NotFound)?,
        ),
        None => None,
    };
    let tr = Tr(auth.locale);
    let tz = &auth.principal.time_zone;
    let fs = fields(state, &CUSTOMERS).await?;
    let pairs = list_pairs(raw);
    let q = list_query(&fs, &pairs, &auth.principal.time_zone)?;
    let items: Vec<Record> = match pool {
        Some(p) => svc::customers(state, auth, p.id, &q).await?,
        None => vec![],
    };
    let shown: Vec<_> = COLUMNS.iter().filter_map(|c| fs.field(c)).collect();
    let refs: Vec<&Record> = items.iter().collect();
    let look = Lookups::load_for(state, auth, &[(&shown, &refs)]).await;
    let base = format!("/pools/{}", pool_id.unwrap_or_default());
    let current_sort = pairs
        .iter()
        .find(|(k, _)| k == "sort")
        .map(|(_, v)| v.as_str());
    let desc = pairs.iter().any(|(k, v)| k == "order" && v == "desc");
    let rest = query_string(&pairs, &["sort", "order", "cursor"]);
    let columns = fs
        .field(CUSTOMERS.title)
        .into_iter()
        .chain(shown.iter().copied())
        .map(|f| {
            let sorted = match (current_sort == Some(f.code), desc) {
                (false, _) => "",
                (true, true) => "desc",
                (true, false) => "asc",
            };
            let order = if sorted == "asc" { "desc" } else { "asc" };
            let sep = if rest.is_empty() { "" } else { "&" };
            Column {
                label: f.label_in(&CUSTOMERS, tr.0),
                sorted,
                sort_link: format!("{base}?{rest}{sep}sort={}&order={order}", f.code),
            }
        })
        .collect();
    let rows = items
        .iter()
        .map(|r| Row {
            id: r.id,
            name: r.title(&CUSTOMERS),
            cells: shown
                .iter()
                .map(|f| look.display(f, r.values.get(f.code), tr, tz))
                .collect(),
        })
        .collect();
    let next = api_page(items, &q).next_cursor.map(|c| {
        let rest = query_string(&pairs, &["cursor"]);
        let sep = if rest.is_empty() { "" } else { "&" };
        format!("{base}?{rest}{sep}cursor={c}")
    });
    let can_assign = pool.is_some_and(|p| may_assign(auth, p));
    let users = if can_assign {
        user_options(state).await?
    } else {
        vec![]
    };
    let shell = Shell::new(state, auth, "/pools", "module-pools")
        .await
        .crumb("/pools", "menu-customers");
    let shell = match pool {
        Some(p) => {
            let title = format!("{} · {}", tr.t("module-pools"), p.name);
            flash(shell, raw).title(title)
        }
        None => flash(shell, raw),
    };
    Ok(PoolsPage {
        tabs: pools
            .iter()
            .map(|p| Tab {
                id: p.id,
                name: p.name.clone(),
                current: Some(p.id) == pool_id,
            })
            .collect(),
        pool: pool_id,
        columns,
        rows,
        q: q.q.clone().unwrap_or_default(),
        keep: pairs
            .iter()
            .filter(|(k, _)| k == "sort" || k == "order")
            .cloned()
            .collect(),
        query: query_string(&pairs, &["cursor"]),
        next,
        can_assign,
        can_manage: auth.principal.can(Module::Pools, Action::Manage),
        users,
        error,
        shell,
    })
}

/// `/pools`: the first of the user's pools (or a page saying they belong to none).
pub async fn first_page(
    State(state): State<AppState>,
    auth: Auth,
    Query(raw): Query<Vec<(String, String)>>,
) -> AppResult<PoolsPage> {
    render(&state, &auth, None, &raw, None).await
}

pub async fn page(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(raw): Query<Vec<(String, String)>>,
) -> AppResult<PoolsPage> {
    render(&state, &auth, Some(path_id(&id)?), &raw, None).await
}

/// The selected rows of the bulk form.
fn selected(form: &RawForm) -> AppResult<Vec<i64>> {
    let ids: Vec<i64> = form
        .all("ids")
        .iter()
        .filter_map(|s| s.parse().ok())
        .collect();
    if ids.is_empty() {
        return Err(AppError::BadRequest("error-nothing-selected"));
    }
    Ok(ids)
}

/// Back to the pool with a toast counting the customers moved, or the pool again with the
/// reason shown above the list (a limit, the cool-down, someone faster).
async fn respond(
    state: &AppState,
    auth: &Auth,
    pool_id: i64,
    form: &RawForm,
    r: AppResult<Vec<i64>>,
    ok: &str,
) -> AppResult<Response> {
    // The list state the bulk form carried (`list`, a query string).
    let kept: Vec<(String, String)> = form_urlencoded::parse(form.get("list").as_bytes())
        .into_owned()
        .collect();
    match r {
        Ok(got) => {
            let mut pairs = list_pairs(&kept);
            pairs.retain(|(k, _)| k != "cursor");
            pairs.push(("ok".into(), ok.into()));
            pairs.push(("n".into(), got.len().to_string()));
            let to = with_query(&format!("/pools/{pool_id}"), &query_string(&pairs, &[]));
            Ok(Redirect::to(&to).into_response())
        }
        Err(e @ (AppError::Conflict(..) | AppError::Validation(_) | AppError::BadRequest(_))) => {
            let msg = match e.fields(auth.locale).first() {
                Some((_, m)) => m.clone(),
                None => e.message(auth.locale),
            };
            let page = render(state, auth, Some(pool_id), &kept, Some(msg)).await?;
            Ok((e.status(), page).into_response())
        }
        Err(e) => Err(e),
    }
}

pub async fn claim(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    form: RawForm,
) -> AppResult<Response> {
    let pool_id = path_id(&id)?;
    let r = match selected(&form) {
        Ok(ids) => svc::claim(&state, &auth, pool_id, &ids).await,
        Err(e) => Err(e),
    };
    respond(&state, &auth, pool_id, &form, r, "flash-pool-claimed").await
}

pub async fn assign(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    form: RawForm,
) -> AppResult<Response> {
    let pool_id = path_id(&id)?;
    let r = match (selected(&form), form.opt_id("owner_id")) {
        (Ok(ids), Some(to)) => svc::assign(&state, &auth, pool_id, &ids, to).await,
        (Err(e), _) => Err(e),
        (_, None) => Err(AppError::BadRequest("error-user-missing")),
    };
    respond(&state, &auth, pool_id, &form, r, "flash-pool-assigned").await
}

#[derive(Template, WebTemplate)]
#[template(path = "pools_customer.html")]
pub struct CustomerPage {
    shell: Shell,
    pool_id: i64,
    customer_id: i64,
    /// (label, value) of every field a reader sees.
    fields: Vec<(String, String)>,
    pool_panel: Option<PoolPanel>,
}

/// One pool customer: counts against the caller's daily limit of opened details; over the
/// limit the error page says so in the user's language.
pub async fn customer(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, cid)): Path<(String, String)>,
) -> AppResult<CustomerPage> {
    let (pool_id, customer_id) = (path_id(&id)?, path_id(&cid)?);
    let rec = svc::customer(&state, &auth, pool_id, customer_id).await?;
    let pool = svc::mine(&state, &auth)
        .await?
        .into_iter()
        .find(|p| p.id == pool_id)
        .ok_or(AppError::NotFound)?;
    let fs = fields(&state, &CUSTOMERS).await?;
    let look = Lookups::load(&state, &auth, &fs, &[&rec]).await;
    let tr = Tr(auth.locale);
    let tz = &auth.principal.time_zone;
    let fields = fs
        .iter()
        .filter(|f| !f.hidden && f.code != "fall_back_at")
        .map(|f| {
            (
                f.label_in(&CUSTOMERS, tr.0),
                look.display(f, rec.values.get(f.code), tr, tz),
            )
        })
        .collect();
    let shell = Shell::new(&state, &auth, "/pools", "module-pools")
        .await
        .crumb("/pools", "module-pools")
        .crumb(&format!("/pools/{pool_id}"), "module-pools")
        .title(rec.title(&CUSTOMERS));
    let mut shell = shell;
    if let Some(c) = shell.crumbs.last_mut() {
        c.1 = pool.name.clone();
    }
    Ok(CustomerPage {
        pool_panel: build(&state, &rec, auth.locale, tz, false).await.ok(),
        shell,
        pool_id,
        customer_id,
        fields,
    })
}
