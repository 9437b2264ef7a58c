//! The cross-record change history query (客户资料修改历史查询) for administrators: who changed
//! which field of which record, when, from what to what. It needs the audit log's view right
//! and the module's view right, and shows only records inside the caller's data scope.

use std::collections::HashMap;

use guanxi_core::engine::{self, FieldDef, FieldKind, Fields, ModuleDef};
use guanxi_core::{Action, I18n, Locale, Module};
use guanxi_store::audit::{self, Event};
use guanxi_store::history::{self, HistoryFilter, HistoryItem};
use serde_json::Value;

use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::services::audit::safe_cell;
use crate::state::AppState;

/// Every event a history line can have, in the order filters offer them.
pub const EVENTS: [&str; 7] = [
    "create", "update", "delete", "restore", "lock", "unlock", "transfer",
];

/// The engine modules whose records the caller may view.
pub fn modules(auth: &Auth) -> Vec<&'static ModuleDef> {
    engine::MODULES
        .iter()
        .copied()
        .filter(|d| auth.principal.can(d.module, Action::View))
        .collect()
}

/// The module a query names; without one, the first the caller may view (customers usually).
pub fn module(auth: &Auth, code: Option<&str>) -> AppResult<&'static ModuleDef> {
    match code.map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => engine::module_def(c).ok_or(AppError::BadRequest("error-unknown-module")),
        None => Ok(modules(auth).first().copied().unwrap_or(&engine::CUSTOMERS)),
    }
}

/// One page of history, newest first.
pub async fn search(
    state: &AppState,
    auth: &Auth,
    filter: &HistoryFilter,
) -> AppResult<Vec<HistoryItem>> {
    auth.principal.authorize(Module::AuditLog, Action::View)?;
    let grant = auth
        .principal
        .authorize(filter.module.module, Action::View)?;
    Ok(history::search_history(&state.db, &grant, filter).await?)
}

/// The label of a history line's field: the field's, the owner's for transfers, else the code.
pub fn field_label(def: &ModuleDef, fs: &Fields, code: Option<&str>, locale: Locale) -> String {
    match code {
        None => String::new(),
        Some("owner_id") => I18n::global().t(locale, "record-owner"),
        Some(c) => fs
            .field(c)
            .map(|f| f.label_in(def, locale))
            .unwrap_or_else(|| c.to_owned()),
    }
}

/// Names for the codes and ids in exported values: dictionary labels and user names.
struct Names {
    dict: HashMap<(String, String), String>,
    users: HashMap<i64, String>,
    locale: Locale,
}

impl Names {
    fn code(&self, f: &FieldDef, c: &str) -> String {
        self.dict
            .get(&(f.dictionary.unwrap_or_default().to_owned(), c.to_owned()))
            .cloned()
            .unwrap_or_else(|| c.to_owned())
    }

    fn user(&self, v: &Value) -> String {
        v.as_i64()
            .and_then(|id| self.users.get(&id).cloned())
            .unwrap_or_else(|| v.to_string())
    }

    /// A stored value (JSON text) as a spreadsheet cell.
    fn value(&self, field: Option<&str>, f: Option<&FieldDef>, text: Option<&str>) -> String {
        let Some(v) = text.and_then(|t| serde_json::from_str::<Value>(t).ok()) else {
            return String::new();
        };
        if v.is_null() {
            return String::new();
        }
        let plain = |v: Value| match v {
            Value::String(s) => s,
            other => other.to_string(),
        };
        let Some(f) = f else {
            return if field == Some("owner_id") {
                self.user(&v)
            } else {
                plain(v)
            };
        };
        match f.kind {
            FieldKind::User => self.user(&v),
            FieldKind::Select => self.code(f, v.as_str().unwrap_or_default()),
            FieldKind::MultiSelect => v
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(|c| self.code(f, c))
                        .collect::<Vec<_>>()
                        .join("、")
                })
                .unwrap_or_default(),
            FieldKind::Checkbox => I18n::global().t(
                self.locale,
                if v.as_bool() == Some(true) {
                    "yes"
                } else {
                    "no"
                },
            ),
            FieldKind::Money => v
                .as_i64()
                .map(|c| {
                    let (sign, c) = (if c < 0 { "-" } else { "" }, c.unsigned_abs());
                    format!("{sign}{}.{:02}", c / 100, c % 100)
                })
                .unwrap_or_default(),
            _ => plain(v),
        }
    }
}

/// A CSV field: formulas neutralised, quoted when needed.
fn csv(s: &str) -> String {
    let s = safe_cell(s);
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// Up to 100,000 matching lines as CSV (UTF-8 with a BOM, so that Excel reads Chinese text),
/// newest first; the export is recorded in the audit log.
pub async fn export(state: &AppState, auth: &Auth, filter: &HistoryFilter) -> AppResult<Vec<u8>> {
    auth.principal.authorize(Module::AuditLog, Action::Export)?;
    let mut f = filter.clone();
    f.limit = 5000;
    let mut rows: Vec<HistoryItem> = vec![];
    loop {
        let page = search(state, auth, &f).await?;
        let done = page.len() < f.limit as usize || rows.len() + page.len() >= 100_000;
        f.before_id = page.last().map(|e| e.id);
        rows.extend(page);
        if done {
            break;
        }
    }
    let def = filter.module;
    let fs = guanxi_store::custom_fields::fields(&state.db, def).await?;
    let locale = auth.locale;
    let i = I18n::global();
    let names = Names {
        dict: guanxi_store::dictionary::all(&state.db)
            .await?
            .into_iter()
            .map(|d| {
                let label = d.label(locale).to_owned();
                ((d.dictionary, d.code), label)
            })
            .collect(),
        users: guanxi_store::users::list_all(&state.db)
            .await?
            .into_iter()
            .map(|u| (u.id, u.display_name))
            .collect(),
        locale,
    };
    let tz: chrono_tz::Tz = auth
        .principal
        .time_zone
        .parse()
        .unwrap_or(chrono_tz::Asia::Shanghai);
    let mut out = String::from("\u{feff}");
    let headers = [
        "audit-at",
        "audit-user",
        "history-record-id",
        "history-record",
        "audit-action",
        "history-field",
        "history-old",
        "history-new",
    ];
    out += &headers
        .iter()
        .map(|k| csv(&i.t(locale, k)))
        .collect::<Vec<_>>()
        .join(",");
    out += "\r\n";
    for e in &rows {
        let field = e.field.as_deref();
        let fd = field.and_then(|c| fs.field(c));
        let cells = [
            e.at.with_timezone(&tz)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string(),
            e.username.clone().unwrap_or_default(),
            e.record_id.to_string(),
            e.record_name.clone().unwrap_or_default(),
            i.t(locale, &format!("history-event-{}", e.event)),
            field_label(def, &fs, field, locale),
            names.value(field, fd, e.old_value.as_deref()),
            names.value(field, fd, e.new_value.as_deref()),
        ];
        out += &cells.iter().map(|c| csv(c)).collect::<Vec<_>>().join(",");
        out += "\r\n";
    }
    audit::record_now(
        &state.db,
        &auth.actor,
        Event::new(
            "history.export",
            format!("exported {} history entries of {}", rows.len(), def.code),
        )
        .module(Module::AuditLog),
    )
    .await?;
    Ok(out.into_bytes())
}

/// The file name of an export.
pub fn export_name(def: &ModuleDef) -> String {
    format!(
        "attachment; filename=\"{}-history-{}.csv\"",
        def.code,
        guanxi_store::now().format("%Y%m%d-%H%M%S")
    )
}
