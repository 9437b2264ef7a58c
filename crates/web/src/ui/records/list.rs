//! The list page of a module and its recycle bin: quick search, filter conditions (AND / OR)
//! shown as chips, sortable columns, chosen columns, saved views (personal and shared), keyset
//! pages and bulk actions. All list state lives in the URL.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use guanxi_core::engine::{FieldDef, Fields, ModuleDef};
use guanxi_core::{Action, Module};
use guanxi_store::records::Record;
use guanxi_store::views::SavedView;

use super::count::Count;
use super::filters::{self, FilterField};
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

/// A filter condition as a removable chip.
pub struct Chip {
    pub text: String,
    pub remove: String,
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
    can_share: bool,
    can_import: bool,
    /// The export link's query: the list's filter and sort, and its columns as `columns`.
    export: Option<String>,
    /// The shown columns for exporting selected rows (with the `export` permission).
    export_columns: Option<String>,
    bin: bool,
    /// The recycle bin of an administrator: rows may be deleted for good.
    can_purge: bool,
    users: Vec<(i64, String)>,
    chips: Vec<Chip>,
    /// How many records the list holds.
    count: Count,
    any: bool,
    /// The fields that can be filtered, and (code, label, chosen) of those that can be columns.
    filter_fields: Vec<FilterField>,
    column_choices: Vec<(String, String, bool)>,
    ops: Vec<(&'static str, String)>,
    views: Vec<SavedView>,
    view: Option<i64>,
    /// The hidden inputs that keep the list state in forms: (name, value).
    keep: Vec<(String, String)>,
}

impl ListPage {
    /// The chosen columns as the `cols` parameter.
    fn cols(&self) -> String {
        self.column_choices
            .iter()
            .filter(|c| c.2)
            .map(|c| c.0.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

pub(super) fn query_string(pairs: &[(String, String)], skip: &[&str]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs.iter().filter(|(k, _)| !skip.contains(&k.as_str())) {
        s.append_pair(k, v);
    }
    s.finish()
}

/// The chosen columns after a column chooser's "move up / down" button (`move=<code>.up`), which
/// is how the chooser reorders columns without the script.
fn moved(mut cols: Vec<String>, how: Option<&str>) -> Vec<String> {
    let Some((code, dir)) = how.and_then(|m| m.rsplit_once('.')) else {
        return cols;
    };
    if let Some(i) = cols.iter().position(|c| c == code) {
        let j = if dir == "up" {
            i.checked_sub(1)
        } else {
            Some(i + 1)
        };
        if let Some(j) = j.filter(|j| *j < cols.len()) {
            cols.swap(i, j);
        }
    }
    cols
}

/// One canonical form of the list state: filter rows become `f.<field>.<op>`, chosen columns
/// `cols` (in the order the chooser sent them), empty values dropped, and a saved view's query
/// applied underneath explicit values.
pub(super) fn canonical(
    pairs: &[(String, String)],
    view: Option<&SavedView>,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = vec![];
    // The chooser's check boxes (`col`, in order) replace the `cols` the list had.
    let chooser = pairs.iter().any(|(k, _)| k == "col");
    if let Some(v) = view {
        let explicit: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
        for (k, val) in form_urlencoded::parse(v.query.as_bytes()).into_owned() {
            if !explicit.contains(&k.as_str()) {
                out.push((k, val));
            }
        }
        if !explicit.contains(&"cols") && !chooser && !v.columns.is_empty() {
            out.push(("cols".into(), v.columns.clone()));
        }
    }
    let get_all = |k: &str| {
        pairs
            .iter()
            .filter(|(x, _)| x == k)
            .map(|(_, v)| v.clone())
            .collect::<Vec<_>>()
    };
    let (fields, ops, vals) = (
        get_all("cond_field"),
        get_all("cond_op"),
        get_all("cond_value"),
    );
    for (i, f) in fields.iter().enumerate().filter(|(_, f)| !f.is_empty()) {
        let op = ops.get(i).cloned().unwrap_or_else(|| "eq".into());
        let val = vals.get(i).cloned().unwrap_or_default();
        if !val.is_empty() || op == "empty" || op == "not_empty" {
            out.push((format!("f.{f}.{op}"), val));
        }
    }
    let mut cols: Vec<String> = vec![];
    for c in get_all("col").into_iter().filter(|c| !c.is_empty()) {
        if !cols.contains(&c) {
            cols.push(c);
        }
    }
    let how = pairs
        .iter()
        .find(|(k, _)| k == "move")
        .map(|(_, v)| v.as_str());
    let cols = moved(cols, how);
    if !cols.is_empty() {
        out.push(("cols".into(), cols.join(",")));
    }
    for (k, v) in pairs {
        let skip = k.starts_with("cond_")
            || k == "col"
            || k == "ok"
            || k == "move"
            || (k == "cols" && chooser)
            || (v.is_empty() && !k.starts_with("f."));
        if !skip {
            out.push((k.clone(), v.clone()));
        }
    }
    out
}

pub(super) fn rows(
    fs: &Fields,
    shown: &[&'static FieldDef],
    items: &[Record],
    look: &Lookups,
    tr: Tr,
    tz: &str,
) -> Vec<Row> {
    items
        .iter()
        .map(|r| Row {
            id: r.id,
            title: r.title(fs.def),
            cells: shown
                .iter()
                .map(|f| look.display(f, r.values.get(f.code), tr, tz))
                .collect(),
            owner: r.owner_name.clone().unwrap_or_default(),
            updated: crate::ui::pages::local_time(&r.updated_at, tz),
            locked: r.locked,
        })
        .collect()
}

/// What an export of the list asks for: its filter, search and sort, and the columns shown
/// (the title first, the owner and the time of the last change last), in the export API's
/// terms.
pub(super) fn export_query(pairs: &[(String, String)], title: &str, shown: &[&str]) -> String {
    let mut keep: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, _)| {
            k.starts_with("f.") || ["q", "sort", "order", "match"].contains(&k.as_str())
        })
        .cloned()
        .collect();
    let columns: Vec<&str> = std::iter::once(title)
        .chain(shown.iter().copied())
        .chain([
            crate::services::export::OWNER,
            crate::services::export::UPDATED,
        ])
        .collect();
    keep.push(("columns".into(), columns.join(",")));
    query_string(&keep, &[])
}

/// The columns after the title: the chosen ones (`cols`) in their order, else the fields marked
/// for lists.
pub(super) fn shown_fields(fs: &Fields, pairs: &[(String, String)]) -> Vec<&'static FieldDef> {
    let Some((_, cols)) = pairs.iter().find(|(k, _)| k == "cols") else {
        return fs
            .iter()
            .filter(|f| f.list && f.code != fs.def.title)
            .collect();
    };
    let mut shown: Vec<&'static FieldDef> = vec![];
    for f in cols.split(',').filter_map(|code| fs.field(code)) {
        if f.code != fs.def.title && !f.hidden && !shown.iter().any(|s| s.code == f.code) {
            shown.push(f);
        }
    }
    shown
}

async fn render(
    state: &AppState,
    auth: &Auth,
    def: &'static ModuleDef,
    raw: Vec<(String, String)>,
    bin: bool,
) -> AppResult<ListPage> {
    let fs = svc::fields(state, def).await?;
    let view_id = raw
        .iter()
        .find(|(k, _)| k == "view")
        .and_then(|(_, v)| v.parse::<i64>().ok());
    let views = guanxi_store::views::visible(&state.db, def.code, auth.principal.user_id).await?;
    let view = view_id.and_then(|id| views.iter().find(|v| v.id == id));
    let tr = Tr(auth.locale);
    let filter_fields = filters::fields(state, def, &fs, tr).await?;
    let mut raw = raw;
    filters::normalise_rows(state, &fs, &filter_fields, &mut raw).await?;
    let pairs = canonical(&raw, view);
    let shown = shown_fields(&fs, &pairs);
    let mut q = list_query(&fs, &pairs, &auth.principal.time_zone)?;
    q.deleted = bin;
    q.fields = Some(shown.iter().map(|f| f.code).collect());
    let items = svc::list(state, auth, def, &q).await?;
    let tz = auth.principal.time_zone.clone();
    let refs: Vec<&Record> = items.iter().collect();
    // Lookups for the shown columns only (filter chips need no more than the dictionary).
    let look = Lookups::load_for(state, auth, &[(&shown, &refs)]).await;
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
    let title_field = fs.field(def.title).ok_or(AppError::NotFound)?;
    let columns = std::iter::once(title_field)
        .chain(shown.iter().copied())
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
    let count = Count::of(def, &pairs, &q, items.len(), bin, tr);
    let next = p.next_cursor.map(|c| {
        let rest = query_string(&pairs, &["cursor"]);
        let sep = if rest.is_empty() { "" } else { "&" };
        format!("{base}?{rest}{sep}cursor={c}")
    });
    let chips = filters::chips(def, &fs, &filter_fields, &pairs, &base, tr);
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
    let name = module_name(def, auth.locale);
    let shell = Shell::new(state, auth, &format!("/{}", def.code), "menu-customers")
        .await
        .crumb(&format!("/{}", def.code), &format!("module-{}", def.code))
        .title(if bin {
            format!("{} · {}", name, tr.t("record-recycle-bin"))
        } else {
            name.clone()
        })
        .flash(raw.iter().find(|(k, _)| k == "ok").map(|(_, v)| v.as_str()));
    let chosen_codes: Vec<&str> = shown.iter().map(|f| f.code).collect();
    Ok(ListPage {
        module: def.code,
        name,
        rows: rows(&fs, &shown, &items, &look, tr, &tz),
        columns,
        q: q.q.clone().unwrap_or_default(),
        query: query_string(&pairs, &["cursor"]),
        next,
        can_create: auth.principal.can(def.module, Action::Create),
        can_assign,
        can_delete: auth.principal.can(def.module, Action::Delete),
        can_share: can_assign || auth.principal.can(Module::Settings, Action::Manage),
        can_import: auth.principal.can(def.module, Action::Import)
            && auth.principal.can(def.module, Action::Create),
        export: auth
            .principal
            .can(def.module, Action::Export)
            .then(|| export_query(&pairs, def.title, &chosen_codes)),
        export_columns: auth.principal.can(def.module, Action::Export).then(|| {
            std::iter::once(def.title)
                .chain(chosen_codes.iter().copied())
                .collect::<Vec<_>>()
                .join(",")
        }),
        bin,
        can_purge: bin && svc::may_purge(auth),
        users,
        chips,
        count,
        any: q.any,
        filter_fields,
        // The chosen columns first, in their order (the order the check boxes send them in).
        column_choices: shown
            .iter()
            .copied()
            .chain(
                fs.iter().filter(|f| {
                    !f.hidden && f.code != def.title && !chosen_codes.contains(&f.code)
                }),
            )
            .map(|f| {
                (
                    f.code.to_owned(),
                    f.label_in(def, tr.0),
                    chosen_codes.contains(&f.code),
                )
            })
            .collect(),
        ops: filters::ops(tr),
        views,
        view: view_id,
        keep: pairs
            .iter()
            .filter(|(k, _)| {
                k.starts_with("f.")
                    || ["sort", "order", "match", "view", "cols"].contains(&k.as_str())
            })
            .cloned()
            .collect(),
        shell,
    })
}

pub async fn page(
    State(state): State<AppState>,
    auth: Auth,
    Path(m): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> AppResult<Response> {
    let def = module(&m)?;
    // A column moved without the script: show the list in its new order at its own address,
    // so a reload does not move it again.
    if pairs.iter().any(|(k, _)| k == "move") {
        let to = query_string(&canonical(&pairs, None), &["cursor"]);
        return Ok(Redirect::to(&format!("/{}?{to}", def.code)).into_response());
    }
    Ok(render(&state, &auth, def, pairs, false)
        .await?
        .into_response())
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
            svc::bulk::transfer_many(&state, &auth, def, &ids, owner).await?;
            "flash-transferred"
        }
        "delete" => {
            svc::bulk::delete_many(&state, &auth, def, &ids).await?;
            "flash-deleted"
        }
        // The selected rows through the list's export (its columns, scope and audit entry).
        "export_csv" | "export_xlsx" => {
            auth.principal.authorize(def.module, Action::Export)?;
            if ids.len() > svc::bulk::MAX {
                return Err(AppError::BadRequest("error-bulk-too-many"));
            }
            let format = form.get("action").trim_start_matches("export_");
            let list: Vec<String> = ids.iter().map(i64::to_string).collect();
            let query = query_string(
                &[
                    ("format".into(), format.into()),
                    ("f.id.in".into(), list.join(",")),
                    ("columns".into(), form.get("columns").into()),
                ],
                &[],
            );
            return Ok(
                Redirect::to(&format!("/api/v1/{}/export?{query}", def.code)).into_response(),
            );
        }
        _ => return Err(AppError::BadRequest("error-bulk-action")),
    };
    Ok(Redirect::to(&format!("/{}?ok={ok}", def.code)).into_response())
}

/// Saves the current list state as a named view.
pub async fn save_view(
    State(state): State<AppState>,
    auth: Auth,
    Path(m): Path<String>,
    form: RawForm,
) -> AppResult<Response> {
    let def = module(&m)?;
    auth.principal.authorize(def.module, Action::View)?;
    let name = guanxi_core::validate::required_text("view_name", form.get("view_name"), 30)?;
    let shared = form.has("shared");
    if shared
        && !(auth.principal.can(def.module, Action::Assign)
            || auth.principal.can(Module::Settings, Action::Manage))
    {
        return Err(guanxi_core::Denied {
            module: def.module,
            action: Action::Assign,
        }
        .into());
    }
    let keep: Vec<(String, String)> = form
        .0
        .iter()
        .filter(|(k, _)| {
            k.starts_with("f.") || ["q", "sort", "order", "match"].contains(&k.as_str())
        })
        .cloned()
        .collect();
    let query = query_string(&keep, &[]);
    let cols = form.get("cols").to_owned();
    let mut tx = state.db.begin().await?;
    let id = guanxi_store::views::insert(
        &mut tx,
        def.code,
        auth.principal.user_id,
        &name,
        &query,
        &cols,
        shared,
    )
    .await?;
    guanxi_store::audit::record(
        &mut tx,
        &auth.actor,
        guanxi_store::audit::Event::new(
            "view.create",
            format!("saved view {name} of {}", def.code),
        )
        .module(def.module)
        .target(id, &name),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/{}?view={id}&ok=flash-created", def.code)).into_response())
}

/// Deletes a view: its owner, or an administrator for shared views.
pub async fn delete_view(
    State(state): State<AppState>,
    auth: Auth,
    Path((m, id)): Path<(String, String)>,
) -> AppResult<Response> {
    let def = module(&m)?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let v = guanxi_store::views::get(&state.db, id).await?;
    let admin = auth.principal.can(Module::Settings, Action::Manage);
    if v.module != def.code || (v.owner_id != auth.principal.user_id && !(v.shared && admin)) {
        return Err(AppError::NotFound);
    }
    let mut tx = state.db.begin().await?;
    guanxi_store::views::delete(&mut tx, id).await?;
    guanxi_store::audit::record(
        &mut tx,
        &auth.actor,
        guanxi_store::audit::Event::new(
            "view.delete",
            format!("deleted view {} of {}", v.name, def.code),
        )
        .module(def.module)
        .target(id, &v.name),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/{}?ok=flash-deleted", def.code)).into_response())
}
