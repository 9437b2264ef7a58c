//! The detail page in the seed's four zones, and the actions it offers.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use guanxi_core::Action;
use guanxi_core::engine::{self, ModuleDef};
use guanxi_store::records::{HistoryEntry, ListQuery, Record, cursor_of};
use serde::Deserialize;

use super::view::{FieldView, Lookups, module_name};
use crate::api::records::list_query;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::services::records::{self as svc, module};
use crate::state::AppState;
use crate::ui::{RawForm, Shell, Tr};

#[derive(Deserialize, Default)]
pub struct DetailQuery {
    /// The list the user came from (its query string), for previous / next.
    #[serde(default)]
    list: String,
    ok: Option<String>,
}

pub struct RelatedView {
    pub module: &'static str,
    pub name: String,
    pub via: &'static str,
    pub columns: Vec<String>,
    pub rows: Vec<(i64, String, Vec<String>)>,
    pub can_create: bool,
    pub can_edit: bool,
    pub can_delete: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "record_detail.html")]
pub struct DetailPage {
    shell: Shell,
    module: &'static str,
    record: Record,
    title: String,
    fields: Vec<FieldView>,
    related: Vec<RelatedView>,
    attachments: Vec<super::attachments::AttachmentView>,
    prev: Option<String>,
    next: Option<String>,
    jump: Vec<(String, String)>,
    can_edit: bool,
    can_delete: bool,
    can_assign: bool,
    users: Vec<(i64, String)>,
    owner: String,
    created: String,
    updated: String,
}

fn link(def: &ModuleDef, id: i64, list: &str) -> String {
    if list.is_empty() {
        format!("/{}/{id}", def.code)
    } else {
        format!("/{}/{id}?list={}", def.code, crate::ui::urlencode(list))
    }
}

/// Previous and next record within the list the user came from, and a short jump list.
async fn neighbours(
    state: &AppState,
    auth: &Auth,
    def: &'static ModuleDef,
    rec: &Record,
    list: &str,
) -> AppResult<(Option<String>, Option<String>, Vec<(String, String)>)> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(list.as_bytes())
        .into_owned()
        .filter(|(k, _)| k != "cursor")
        .collect();
    let fs = svc::fields(state, def).await?;
    let base = list_query(&fs, &pairs).unwrap_or_default();
    let step = |reverse: bool| ListQuery {
        after: Some(cursor_of(rec, base.sort)),
        limit: 1,
        reverse,
        ..base.clone()
    };
    let next = svc::list(state, auth, def, &step(false))
        .await?
        .first()
        .map(|r| link(def, r.id, list));
    let prev = svc::list(state, auth, def, &step(true))
        .await?
        .first()
        .map(|r| link(def, r.id, list));
    let jump_q = ListQuery { limit: 20, ..base };
    let jump = svc::list(state, auth, def, &jump_q)
        .await?
        .iter()
        .map(|r| (link(def, r.id, list), r.title(def)))
        .collect();
    Ok((prev, next, jump))
}

pub async fn page(
    State(state): State<AppState>,
    auth: Auth,
    Path((m, id)): Path<(String, String)>,
    Query(dq): Query<DetailQuery>,
) -> AppResult<DetailPage> {
    let def = module(&m)?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let rec = svc::get(&state, &auth, def, id).await?;
    let tr = Tr(auth.locale);
    let tz = auth.principal.time_zone.clone();
    let fs = svc::fields(&state, def).await?;
    let look = Lookups::load(&state, &auth, &fs, &[&rec], true).await;
    let fields = fs
        .iter()
        .filter(|f| !f.hidden)
        .map(|f| look.field_view(def, f, rec.values.get(f.code), tr, &tz))
        .collect();
    let fields = super::view::with_pickers(&state, fields).await;
    let hidden = guanxi_store::settings::load(&state.db)
        .await?
        .hidden_related
        .remove(def.code)
        .unwrap_or_default();
    let mut related = vec![];
    for r in def
        .related
        .iter()
        .filter(|r| !hidden.iter().any(|h| h == r.module.code()))
    {
        let Some(odef) = engine::def_of(r.module) else {
            continue;
        };
        if !auth.principal.can(r.module, Action::View) {
            continue;
        }
        let q = ListQuery {
            related: Some((r.via, id)),
            limit: 50,
            ..ListQuery::default()
        };
        let items = svc::list(&state, &auth, odef, &q).await?;
        let refs: Vec<&Record> = items.iter().collect();
        let ofs = svc::fields(&state, odef).await?;
        let olook = Lookups::load(&state, &auth, &ofs, &refs, false).await;
        let cols: Vec<_> = ofs
            .iter()
            .filter(|f| f.list && f.code != odef.title && f.code != r.via)
            .collect();
        related.push(RelatedView {
            module: odef.code,
            name: module_name(odef, auth.locale),
            via: r.via,
            columns: std::iter::once(odef.title)
                .chain(cols.iter().map(|f| f.code))
                .filter_map(|c| ofs.field(c))
                .map(|f| f.label_in(odef, tr.0))
                .collect(),
            rows: items
                .iter()
                .map(|x| {
                    (
                        x.id,
                        x.title(odef),
                        cols.iter()
                            .map(|f| olook.display(f, x.values.get(f.code), tr, &tz))
                            .collect(),
                    )
                })
                .collect(),
            can_create: auth.principal.can(r.module, Action::Create),
            can_edit: auth.principal.can(r.module, Action::Edit),
            can_delete: auth.principal.can(r.module, Action::Delete),
        });
    }
    let (prev, next, jump) = neighbours(&state, &auth, def, &rec, &dq.list).await?;
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
    let title = rec.title(def);
    let shell = Shell::new(&state, &auth, &format!("/{}", def.code), "menu-customers")
        .await
        .crumb(&format!("/{}", def.code), &format!("module-{}", def.code))
        .title(title.clone())
        .flash(dq.ok.as_deref());
    Ok(DetailPage {
        shell,
        module: def.code,
        owner: rec.owner_name.clone().unwrap_or_default(),
        created: crate::ui::pages::local_time(&rec.created_at, &tz),
        updated: crate::ui::pages::local_time(&rec.updated_at, &tz),
        title,
        fields,
        related,
        attachments: super::attachments::views(&state, &auth, def, id).await?,
        prev,
        next,
        jump,
        can_edit: auth.principal.can(def.module, Action::Edit),
        can_delete: auth.principal.can(def.module, Action::Delete),
        can_assign,
        users,
        record: rec,
    })
}

fn back(def: &ModuleDef, id: i64, ok: &str) -> Response {
    Redirect::to(&format!("/{}/{id}?ok={ok}", def.code)).into_response()
}

fn ids(m: &str, id: &str) -> AppResult<(&'static ModuleDef, i64)> {
    Ok((module(m)?, id.parse().map_err(|_| AppError::NotFound)?))
}

/// A local page to return to after an action (e.g. the record a related row was deleted from).
pub fn back_to(form: &RawForm) -> Option<String> {
    let b = form.get("back");
    (b.starts_with('/') && !b.starts_with("//") && !b.contains('?')).then(|| b.to_owned())
}

pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    Path((m, id)): Path<(String, String)>,
    form: RawForm,
) -> AppResult<Response> {
    let (def, id) = ids(&m, &id)?;
    svc::delete(&state, &auth, def, id).await?;
    let back = back_to(&form).unwrap_or_else(|| format!("/{}", def.code));
    Ok(Redirect::to(&format!("{back}?ok=flash-deleted")).into_response())
}

pub async fn restore(
    State(state): State<AppState>,
    auth: Auth,
    Path((m, id)): Path<(String, String)>,
) -> AppResult<Response> {
    let (def, id) = ids(&m, &id)?;
    svc::restore(&state, &auth, def, id).await?;
    Ok(back(def, id, "flash-restored"))
}

pub async fn lock(
    State(state): State<AppState>,
    auth: Auth,
    Path((m, id)): Path<(String, String)>,
) -> AppResult<Response> {
    let (def, id) = ids(&m, &id)?;
    svc::set_locked(&state, &auth, def, id, true).await?;
    Ok(back(def, id, "flash-locked"))
}

pub async fn unlock(
    State(state): State<AppState>,
    auth: Auth,
    Path((m, id)): Path<(String, String)>,
) -> AppResult<Response> {
    let (def, id) = ids(&m, &id)?;
    svc::set_locked(&state, &auth, def, id, false).await?;
    Ok(back(def, id, "flash-unlocked"))
}

pub async fn transfer(
    State(state): State<AppState>,
    auth: Auth,
    Path((m, id)): Path<(String, String)>,
    form: RawForm,
) -> AppResult<Response> {
    let (def, id) = ids(&m, &id)?;
    let owner = form
        .opt_id("owner_id")
        .ok_or(AppError::BadRequest("error-user-missing"))?;
    svc::transfer(&state, &auth, def, id, owner).await?;
    Ok(back(def, id, "flash-transferred"))
}

pub struct HistoryRow {
    pub entry: HistoryEntry,
    pub at: String,
    pub event: String,
    pub field: String,
    pub old: String,
    pub new: String,
    pub restorable: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "record_history.html")]
pub struct HistoryPage {
    shell: Shell,
    module: &'static str,
    id: i64,
    rows: Vec<HistoryRow>,
    can_edit: bool,
}

pub async fn history(
    State(state): State<AppState>,
    auth: Auth,
    Path((m, id)): Path<(String, String)>,
) -> AppResult<HistoryPage> {
    let (def, id) = ids(&m, &id)?;
    let rec = svc::get(&state, &auth, def, id).await?;
    let entries = svc::history(&state, &auth, def, id).await?;
    let tr = Tr(auth.locale);
    let tz = auth.principal.time_zone.clone();
    let fs = svc::fields(&state, def).await?;
    let look = Lookups::load(&state, &auth, &fs, &[&rec], false).await;
    let show = |f: Option<&'static guanxi_core::engine::FieldDef>, v: &Option<String>| -> String {
        let val: Option<serde_json::Value> =
            v.as_deref().and_then(|s| serde_json::from_str(s).ok());
        match f {
            Some(f) => look.display(f, val.as_ref(), tr, &tz),
            None => val.map(|v| v.to_string()).unwrap_or_default(),
        }
    };
    let rows = entries
        .into_iter()
        .map(|e| {
            let f = e.field.as_deref().and_then(|c| fs.field(c));
            HistoryRow {
                at: crate::ui::pages::local_time(&e.at, &tz),
                event: tr.t(&format!("history-event-{}", e.event)),
                field: f
                    .map(|f| f.label_in(def, tr.0))
                    .or_else(|| e.field.as_ref().map(|_| tr.t("record-owner")))
                    .unwrap_or_default(),
                old: show(f, &e.old_value),
                new: show(f, &e.new_value),
                restorable: e.event == "update" && f.is_some_and(|f| !f.read_only),
                entry: e,
            }
        })
        .collect();
    let title = rec.title(def);
    let shell = Shell::new(&state, &auth, &format!("/{}", def.code), "record-history")
        .await
        .crumb(&format!("/{}", def.code), &format!("module-{}", def.code))
        .title(format!("{title} · {}", tr.t("record-history")));
    Ok(HistoryPage {
        shell,
        module: def.code,
        id,
        rows,
        can_edit: auth.principal.can(def.module, Action::Edit) && !rec.locked,
    })
}

pub async fn restore_value(
    State(state): State<AppState>,
    auth: Auth,
    Path((m, id, entry)): Path<(String, String, String)>,
) -> AppResult<Response> {
    let (def, id) = ids(&m, &id)?;
    let entry: i64 = entry.parse().map_err(|_| AppError::NotFound)?;
    svc::restore_value(&state, &auth, def, id, entry).await?;
    Ok(back(def, id, "flash-value-restored"))
}
