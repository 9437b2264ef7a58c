//! The change history query page (客户资料修改历史查询): who changed which field of which record,
//! filtered by module, user, field, event and days, with keyset pages and a CSV export.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use guanxi_core::engine::{FieldDef, Fields, ModuleDef};
use guanxi_core::{Action, Module};
use guanxi_store::history::{HistoryFilter, HistoryItem};
use guanxi_store::records::{Record, Values};
use serde::Deserialize;
use serde_json::Value;

use crate::auth::Auth;
use crate::error::AppResult;
use crate::services::history::{self, EVENTS, field_label};
use crate::state::AppState;
use crate::ui::records::view::{Lookups, module_name};
use crate::ui::{Shell, Tr};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/history", get(page))
        .route("/admin/history/export", get(export))
}

/// The filter as the page's form sends it (days as YYYY-MM-DD in the user's time zone).
#[derive(Debug, Default, Deserialize)]
pub struct HistoryForm {
    #[serde(default)]
    module: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    field: String,
    #[serde(default)]
    event: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    record_id: String,
    cursor: Option<i64>,
}

impl HistoryForm {
    /// Drops what does not belong to the chosen module (a field of the module shown before).
    fn settle(&mut self, def: &ModuleDef, fs: &Fields) {
        self.module = def.code.to_owned();
        let field = self.field.trim();
        if !(field == "owner_id" || fs.field(field).is_some_and(|f| !f.hidden)) {
            self.field.clear();
        }
        if !EVENTS.contains(&self.event.trim()) {
            self.event.clear();
        }
        if self.record_id.trim().parse::<i64>().is_err() {
            self.record_id.clear();
        }
    }

    fn filter(&self, def: &'static ModuleDef, tz: &str, limit: i64) -> HistoryFilter {
        let tz: chrono_tz::Tz = tz.parse().unwrap_or(chrono_tz::Asia::Shanghai);
        // The start of a day (plus some days) in the user's zone, in UTC.
        let day = |s: &str, plus: i64| {
            let d = chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()?;
            let start = (d + chrono::Duration::days(plus)).and_hms_opt(0, 0, 0)?;
            let local = start.and_local_timezone(tz).earliest()?;
            Some(local.with_timezone(&chrono::Utc))
        };
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        HistoryFilter {
            username: text(&self.username),
            from: day(&self.from, 0),
            to: day(&self.to, 1),
            field: text(&self.field),
            event: text(&self.event),
            record_id: self.record_id.trim().parse().ok(),
            before_id: self.cursor,
            ..HistoryFilter::new(def, limit)
        }
    }

    /// The query string of this filter, optionally at a page.
    fn query(&self, cursor: Option<i64>) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("module", &self.module),
            ("username", &self.username),
            ("field", &self.field),
            ("event", &self.event),
            ("from", &self.from),
            ("to", &self.to),
            ("record_id", &self.record_id),
        ] {
            if !v.trim().is_empty() {
                s.append_pair(k, v.trim());
            }
        }
        if let Some(c) = cursor {
            s.append_pair("cursor", &c.to_string());
        }
        s.finish()
    }
}

/// An option of a filter drop-down: value, label, whether it is selected.
pub type Choice = (&'static str, String, bool);

pub struct Row {
    pub at: String,
    pub user: String,
    pub href: String,
    pub record_name: String,
    pub deleted: bool,
    pub event: String,
    pub field: String,
    pub old: String,
    pub new: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "history.html")]
pub struct HistoryPage {
    shell: Shell,
    rows: Vec<Row>,
    /// (code, name, chosen) of the modules the user may view.
    modules: Vec<Choice>,
    /// (code, label, chosen) of the chosen module's fields.
    fields: Vec<Choice>,
    /// (code, label, chosen) of the events.
    events: Vec<Choice>,
    form: HistoryForm,
    next: Option<String>,
    export_query: String,
    can_export: bool,
}

/// A record carrying one value, so that [`Lookups`] loads the title of a related record.
fn carrier(field: &'static str, v: Value) -> Record {
    let now = guanxi_store::now();
    let mut values = Values::new();
    values.insert(field.to_owned(), v);
    Record {
        id: 0,
        version: 0,
        owner_id: None,
        owner_name: None,
        department_id: None,
        locked: false,
        deleted_at: None,
        created_by: None,
        created_at: now,
        updated_by: None,
        updated_at: now,
        values,
    }
}

fn json(v: &Option<String>) -> Option<Value> {
    v.as_deref()
        .and_then(|s| serde_json::from_str::<Value>(s).ok())
        .filter(|v| !v.is_null())
}

/// Turns history lines into what the table shows, the way the record's own history page does.
async fn rows(
    state: &AppState,
    auth: &Auth,
    def: &'static ModuleDef,
    fs: &Fields,
    items: Vec<HistoryItem>,
) -> AppResult<Vec<Row>> {
    let tr = Tr(auth.locale);
    let tz = auth.principal.time_zone.clone();
    let field = |e: &HistoryItem| e.field.as_deref().and_then(|c| fs.field(c));
    // Values of relation fields need the related records' titles.
    let carriers: Vec<Record> = items
        .iter()
        .filter_map(|e| Some((field(e)?, e)))
        .filter(|(f, _)| matches!(f.kind, guanxi_core::engine::FieldKind::Relation(_)))
        .flat_map(|(f, e)| {
            [json(&e.old_value), json(&e.new_value)]
                .into_iter()
                .flatten()
                .map(move |v| carrier(f.code, v))
        })
        .collect();
    let refs: Vec<&Record> = carriers.iter().collect();
    let look = Lookups::load(state, auth, fs, &refs).await;
    let owners: HashMap<i64, String> =
        if items.iter().any(|e| e.field.as_deref() == Some("owner_id")) {
            guanxi_store::users::list_all(&state.db)
                .await?
                .into_iter()
                .map(|u| (u.id, u.display_name))
                .collect()
        } else {
            HashMap::new()
        };
    let show = |f: Option<&FieldDef>, code: Option<&str>, v: &Option<String>| -> String {
        let val = json(v);
        match (f, code) {
            (Some(f), _) => look.display(f, val.as_ref(), tr, &tz),
            (None, Some("owner_id")) => val
                .and_then(|v| v.as_i64())
                .map(|id| owners.get(&id).cloned().unwrap_or_else(|| format!("#{id}")))
                .unwrap_or_default(),
            (None, _) => val.map(|v| v.to_string()).unwrap_or_default(),
        }
    };
    Ok(items
        .iter()
        .map(|e| {
            let f = field(e);
            let code = e.field.as_deref();
            Row {
                at: crate::ui::pages::local_time(&e.at, &tz),
                user: e.username.clone().unwrap_or_default(),
                href: if e.record_deleted {
                    format!("/{}/recycle-bin", def.code)
                } else {
                    format!("/{}/{}", def.code, e.record_id)
                },
                record_name: e
                    .record_name
                    .clone()
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| format!("#{}", e.record_id)),
                deleted: e.record_deleted,
                event: tr.t(&format!("history-event-{}", e.event)),
                field: field_label(def, fs, code, auth.locale),
                old: show(f, code, &e.old_value),
                new: show(f, code, &e.new_value),
            }
        })
        .collect())
}

async fn page(
    State(state): State<AppState>,
    auth: Auth,
    Query(mut form): Query<HistoryForm>,
) -> AppResult<HistoryPage> {
    let def = history::module(&auth, Some(&form.module))?;
    let fs = guanxi_store::custom_fields::fields(&state.db, def).await?;
    form.settle(def, &fs);
    let f = form.filter(def, &auth.principal.time_zone, 50);
    let items = history::search(&state, &auth, &f).await?;
    let next = (items.len() as i64 == f.limit)
        .then(|| {
            items
                .last()
                .map(|e| format!("/admin/history?{}", form.query(Some(e.id))))
        })
        .flatten();
    let tr = Tr(auth.locale);
    let rows = rows(&state, &auth, def, &fs, items).await?;
    let mut fields: Vec<Choice> = fs
        .iter()
        .filter(|f| !f.hidden)
        .map(|f| (f.code, f.label_in(def, auth.locale), form.field == f.code))
        .collect();
    fields.push(("owner_id", tr.t("record-owner"), form.field == "owner_id"));
    Ok(HistoryPage {
        shell: Shell::new(&state, &auth, "/admin/history", "history-title")
            .await
            .crumb("/admin/history", "menu-admin"),
        rows,
        modules: history::modules(&auth)
            .into_iter()
            .map(|d| (d.code, module_name(d, auth.locale), d.code == def.code))
            .collect(),
        fields,
        events: EVENTS
            .iter()
            .map(|e| (*e, tr.t(&format!("history-event-{e}")), form.event == *e))
            .collect(),
        export_query: form.query(None),
        form,
        next,
        can_export: auth.principal.can(Module::AuditLog, Action::Export),
    })
}

async fn export(
    State(state): State<AppState>,
    auth: Auth,
    Query(mut form): Query<HistoryForm>,
) -> AppResult<Response> {
    let def = history::module(&auth, Some(&form.module))?;
    let fs = guanxi_store::custom_fields::fields(&state.db, def).await?;
    form.settle(def, &fs);
    let f = form.filter(def, &auth.principal.time_zone, 5000);
    let bytes = history::export(&state, &auth, &f).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, history::export_name(def)),
        ],
        bytes,
    )
        .into_response())
}
