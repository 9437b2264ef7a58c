//! One import's page, driven by its state: the mapping of the file's columns (uploaded,
//! validated, failed), live progress (validating, queued, running, reverting) and the results
//! with the grid of failed rows, 100 at a time, each correctable in place.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use guanxi_core::{Action, I18n, Locale};
use guanxi_store::imports::{ErrorRow, Import};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Step, state_label, state_tone, steps};
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::services::imports as svc;
use crate::services::records::module;
use crate::state::AppState;
use crate::ui::{RawForm, Shell, Tr};

/// Failed rows per page of the grid.
const PAGE: i64 = 100;

pub struct MapColumn {
    pub header: String,
    pub selected: String,
    /// The choices of the field the column fills, offered while correcting a cell.
    pub options: Vec<String>,
}

pub struct GridCell {
    pub value: String,
    pub errors: Vec<String>,
}

pub struct GridRow {
    pub line: i64,
    pub cells: Vec<GridCell>,
    /// Reasons that belong to no column of the file (e.g. a duplicate of a whole record).
    pub errors: Vec<String>,
    pub fixed: bool,
    pub done: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "import_status.html")]
pub struct ImportPage {
    shell: Shell,
    imp: Import,
    module: &'static str,
    steps: Vec<Step>,
    state_label: String,
    state_tone: &'static str,
    message: String,
    /// Which parts show.
    mapping_open: bool,
    running: bool,
    results: bool,
    can_cancel: bool,
    can_revert: bool,
    can_continue: bool,
    columns: Vec<MapColumn>,
    /// (code, label, required).
    targets: Vec<(String, String, bool)>,
    grid: Vec<GridRow>,
    after: i64,
    next_after: Option<i64>,
    /// Rows corrected since the last write, waiting for 继续导入.
    fixed_waiting: usize,
    percent: i64,
    /// (value, label, chosen) of the duplicate handling.
    dup_options: Vec<(&'static str, String, bool)>,
    /// (id, name, chosen) of the pools new customers may go into; empty: no choice offered.
    pools: Vec<(i64, String, bool)>,
    /// The pool this import puts new customers into.
    pool_name: Option<String>,
    /// What the script needs: the mapping, the headers and the messages, as JSON.
    data_json: String,
    error: String,
}

impl ImportPage {
    fn ready_rows(&self) -> i64 {
        (self.imp.total_rows - self.imp.error_rows - self.imp.duplicate_rows).max(0)
    }
}

#[derive(Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    after: i64,
    ok: Option<String>,
}

fn translate(locale: Locale, e: &Value) -> String {
    let key = e.get("message").and_then(Value::as_str).unwrap_or("error");
    let args: Vec<(String, String)> = e
        .get("args")
        .and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                    (k.clone(), v)
                })
                .collect()
        })
        .unwrap_or_default();
    let args: Vec<(&str, String)> = args.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    I18n::global().t_args(locale, key, &args)
}

/// A failed row with each reason put under the cell it is about.
fn grid_row(locale: Locale, imp: &Import, row: ErrorRow) -> GridRow {
    let mapping = imp.mapping.clone().unwrap_or_default();
    let mut cells: Vec<GridCell> = (0..imp.headers.len())
        .map(|i| GridCell {
            value: row.cells.get(i).cloned().unwrap_or_default(),
            errors: vec![],
        })
        .collect();
    let mut errors = vec![];
    for e in row.errors.as_array().into_iter().flatten() {
        let field = e.get("field").and_then(Value::as_str).unwrap_or_default();
        let column = e.get("column").and_then(Value::as_str);
        let at = mapping
            .iter()
            .position(|m| m.as_deref() == Some(field))
            .or_else(|| column.and_then(|c| imp.headers.iter().position(|h| h == c)));
        let text = translate(locale, e);
        match at.and_then(|i| cells.get_mut(i)) {
            Some(c) => c.errors.push(text),
            None => errors.push(text),
        }
    }
    GridRow {
        line: row.line,
        cells,
        errors,
        fixed: row.fixed,
        done: row.done,
    }
}

/// The messages the script may need to show: every error and import message, Fluent
/// placeholders left as `{$name}` for it to fill.
fn messages(locale: Locale) -> serde_json::Map<String, Value> {
    let i18n = I18n::global();
    I18n::keys(locale)
        .into_iter()
        .filter(|k| k.starts_with("error-") || k.starts_with("import-") || k == "save")
        .map(|k| {
            let text = i18n.t(locale, &k);
            (k, Value::String(text))
        })
        .collect()
}

async fn render(
    state: &AppState,
    auth: &Auth,
    id: i64,
    after: i64,
    error: String,
    ok: Option<&str>,
) -> AppResult<ImportPage> {
    let imp = svc::get(state, auth, id).await?;
    let def = module(&imp.module)?;
    let tr = Tr(auth.locale);
    let st = imp.state.as_str();
    let mapping_open = matches!(st, "uploaded" | "validated" | "failed");
    let running = matches!(st, "validating" | "queued" | "running" | "reverting");
    let results = matches!(
        st,
        "validated" | "done" | "cancelled" | "failed" | "reverted"
    );
    let targets = svc::targets(state, auth, def.code).await?;
    let mapping = imp
        .mapping
        .clone()
        .unwrap_or_else(|| vec![None; imp.headers.len()]);
    let columns = imp
        .headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let selected = mapping.get(i).cloned().flatten().unwrap_or_default();
            let options = targets
                .iter()
                .find(|t| t.code == selected)
                .map(|t| t.options.clone())
                .unwrap_or_default();
            MapColumn {
                header: h.clone(),
                selected,
                options,
            }
        })
        .collect();
    let (grid, next_after, fixed_waiting) = if results {
        let rows = svc::errors(state, auth, id, after, PAGE, false).await?;
        let next = (rows.len() as i64 == PAGE)
            .then(|| rows.last().map(|r| r.line))
            .flatten();
        let grid = rows
            .into_iter()
            .map(|r| grid_row(auth.locale, &imp, r))
            .collect();
        let waiting = guanxi_store::imports::error_lines(&state.db, id)
            .await?
            .iter()
            .filter(|(_, fixed, done)| *fixed && !*done)
            .count();
        (grid, next, waiting)
    } else {
        (vec![], None, 0)
    };
    let pools = if def.module == guanxi_core::Module::Customers && mapping_open {
        svc::pool::manageable(state, auth).await?
    } else {
        vec![]
    };
    let pool_name = match imp.pool_id {
        Some(p) => guanxi_store::pools::list(&state.db)
            .await?
            .into_iter()
            .find(|x| x.id == p)
            .map(|x| x.name),
        None => None,
    };
    let percent = match st {
        "running" | "queued" if imp.total_rows > 0 => imp.position * 100 / imp.total_rows,
        "reverting" if imp.created_rows + imp.updated_rows > 0 => {
            imp.reverted_rows * 100 / (imp.created_rows + imp.updated_rows)
        }
        _ => -1,
    };
    let data = json!({
        "id": imp.id,
        "state": imp.state,
        "headers": imp.headers,
        "mapping": mapping,
        "t": messages(auth.locale),
    });
    // A JSON data block is never executed; `<` escaped keeps `</script>` out of it.
    let data_json = data.to_string().replace('<', "\\u003c");
    let written = imp.created_rows + imp.updated_rows > 0;
    let step = match st {
        "uploaded" => 1,
        "validating" | "validated" => 2,
        "failed" if !written => 2,
        _ => 3,
    };
    let shell = Shell::new(state, auth, &format!("/{}", def.code), "import-ui-title")
        .await
        .crumb(&format!("/{}", def.code), &format!("module-{}", def.code))
        .crumb(&format!("/{}/import", def.code), "import-ui-title")
        .title(tr.t1("import-ui-title-file", "name", &imp.file_name))
        .flash(ok);
    Ok(ImportPage {
        module: def.code,
        steps: steps(tr, step),
        state_label: state_label(tr, st),
        state_tone: state_tone(st),
        message: svc::message(&imp, auth.locale).unwrap_or_default(),
        mapping_open,
        running,
        results,
        can_cancel: matches!(st, "queued" | "running" | "validating"),
        can_revert: matches!(st, "done" | "cancelled" | "failed")
            && written
            && auth.principal.can(def.module, Action::Delete),
        can_continue: st == "validated" || (st == "done" && fixed_waiting > 0),
        columns,
        targets: targets
            .into_iter()
            .map(|t| (t.code, t.label, t.required))
            .collect(),
        grid,
        after,
        next_after,
        fixed_waiting,
        percent,
        dup_options: ["skip", "update", "create"]
            .into_iter()
            .map(|v| {
                (
                    v,
                    tr.t(&format!("import-ui-dup-{v}")),
                    imp.on_duplicate == v,
                )
            })
            .collect(),
        pools: pools
            .into_iter()
            .map(|p| (p.id, p.name, imp.pool_id == Some(p.id)))
            .collect(),
        pool_name,
        data_json,
        error,
        shell,
        imp,
    })
}

fn id(s: &str) -> AppResult<i64> {
    s.parse().map_err(|_| AppError::NotFound)
}

pub async fn page(
    State(state): State<AppState>,
    auth: Auth,
    Path(i): Path<String>,
    Query(q): Query<PageQuery>,
) -> AppResult<ImportPage> {
    render(
        &state,
        &auth,
        id(&i)?,
        q.after.max(0),
        String::new(),
        q.ok.as_deref(),
    )
    .await
}

fn back(id: i64, ok: &str) -> Response {
    Redirect::to(&format!("/imports/{id}?ok={ok}")).into_response()
}

/// The mapping form: saves the mapping, then starts the dry run (`go=check`) or the import.
pub async fn mapping(
    State(state): State<AppState>,
    auth: Auth,
    Path(i): Path<String>,
    form: RawForm,
) -> AppResult<Response> {
    let id = id(&i)?;
    let mapping: Vec<Option<String>> = form
        .all("col")
        .into_iter()
        .map(|c| Some(c.to_owned()).filter(|c| !c.is_empty()))
        .collect();
    let on_dup = match form.get("on_duplicate") {
        "" => "skip",
        other => other,
    };
    let pool = form.opt_id("pool_id");
    let result = match svc::set_mapping(&state, &auth, id, &mapping, on_dup, pool).await {
        Ok(_) if form.get("go") == "start" => svc::start_write(&state, &auth, id).await,
        Ok(_) => svc::start_check(&state, &auth, id).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(back(id, "flash-import-queued")),
        Err(e @ (AppError::Validation(_) | AppError::Conflict(..))) => {
            let message = e
                .fields(auth.locale)
                .into_iter()
                .map(|(_, m)| m)
                .collect::<Vec<_>>()
                .join(" ");
            let message = if message.is_empty() {
                e.message(auth.locale)
            } else {
                message
            };
            Ok(render(&state, &auth, id, 0, message, None)
                .await?
                .into_response())
        }
        Err(e) => Err(e),
    }
}

/// 开始导入 after a dry run, or 继续导入 with the rows fixed since.
pub async fn start(
    State(state): State<AppState>,
    auth: Auth,
    Path(i): Path<String>,
) -> AppResult<Response> {
    let id = id(&i)?;
    svc::start_write(&state, &auth, id).await?;
    Ok(back(id, "flash-import-queued"))
}

pub async fn cancel(
    State(state): State<AppState>,
    auth: Auth,
    Path(i): Path<String>,
) -> AppResult<Response> {
    let id = id(&i)?;
    svc::cancel(&state, &auth, id).await?;
    Ok(back(id, "flash-import-cancelled"))
}

pub async fn revert(
    State(state): State<AppState>,
    auth: Auth,
    Path(i): Path<String>,
) -> AppResult<Response> {
    let id = id(&i)?;
    svc::start_revert(&state, &auth, id).await?;
    Ok(back(id, "flash-import-reverting"))
}

/// A corrected row without JavaScript (the script saves through the API and stays in place).
pub async fn fix_row(
    State(state): State<AppState>,
    auth: Auth,
    Path((i, line)): Path<(String, String)>,
    form: RawForm,
) -> AppResult<Response> {
    let (id, line) = (id(&i)?, id(&line)?);
    let cells: Vec<String> = form.all("cell").into_iter().map(str::to_owned).collect();
    let row = svc::fix_row(&state, &auth, id, line, cells).await?;
    let ok = if row.fixed {
        "flash-import-row-fixed"
    } else {
        "flash-import-row-failing"
    };
    let after = form.opt_id("after").unwrap_or(0);
    Ok(Redirect::to(&format!("/imports/{id}?after={after}&ok={ok}#row-{line}")).into_response())
}
