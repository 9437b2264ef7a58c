//! The detail page in the seed's four zones, and the actions it offers.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use std::sync::Arc;

use guanxi_core::engine::{self, FieldDef, Fields, ModuleDef, RelatedList};
use guanxi_core::{Action, Grant};
use guanxi_store::records::{self, HistoryEntry, ListQuery, Record, cursor_of};
use serde::Deserialize;

use super::view::{FieldView, Lookups, Shown, module_name};
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
    /// Who created and last changed the record.
    created_by: String,
    updated_by: String,
    /// For modules with collaborators (协作人): (user id, name).
    collaborators: Option<Vec<(i64, String)>>,
    /// The users who could collaborate (not the owner): (id, name, chosen now).
    collaborator_choices: Vec<(i64, String, bool)>,
    /// The record is in the user's own scope (not reached only as a collaborator).
    own_side: bool,
    /// Customers: score, fall-back deadline, ownership timeline and the release form.
    pool_panel: Option<crate::ui::pools::PoolPanel>,
}

fn link(def: &ModuleDef, id: i64, list: &str) -> String {
    if list.is_empty() {
        format!("/{}/{id}", def.code)
    } else {
        format!("/{}/{id}?list={}", def.code, crate::ui::urlencode(list))
    }
}

/// Previous and next record within the list the user came from, and a short jump list (the
/// list's first records). For a record inside the jump list its neighbours are read from it; only
/// one further down asks the database again.
async fn neighbours(
    state: &AppState,
    def: &'static ModuleDef,
    fs: &Fields,
    grant: &Grant,
    rec: &Record,
    list: &str,
    tz: &str,
) -> AppResult<(Option<String>, Option<String>, Vec<(String, String)>)> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(list.as_bytes())
        .into_owned()
        .filter(|(k, _)| k != "cursor")
        .collect();
    let mut base = list_query(fs, &pairs, tz).unwrap_or_default();
    // Only ids and the sort key are needed here.
    base.fields = Some(vec![]);
    let jump_q = ListQuery {
        limit: 20,
        ..base.clone()
    };
    let top = records::list(&state.db, fs, grant, &jump_q).await?;
    let step = async |reverse: bool| -> AppResult<Option<String>> {
        let q = ListQuery {
            after: Some(cursor_of(rec, base.sort)),
            limit: 1,
            reverse,
            ..base.clone()
        };
        let found = records::list(&state.db, fs, grant, &q).await?;
        Ok(found.first().map(|r| link(def, r.id, list)))
    };
    let (prev, next) = match top.iter().position(|r| r.id == rec.id) {
        Some(i) => {
            let prev = i.checked_sub(1).map(|j| link(def, top[j].id, list));
            let next = match top.get(i + 1) {
                Some(r) => Some(link(def, r.id, list)),
                // The last of a short list has no next; the last of a full page may.
                None if (top.len() as i64) < jump_q.limit => None,
                None => step(false).await?,
            };
            (prev, next)
        }
        None => (step(true).await?, step(false).await?),
    };
    let jump = top
        .iter()
        .map(|r| (link(def, r.id, list), r.title(def)))
        .collect();
    Ok((prev, next, jump))
}

/// A related module's records on the detail page, before their values are shown.
struct RelatedItems {
    list: &'static RelatedList,
    def: &'static ModuleDef,
    fields: Arc<Fields>,
    columns: Vec<&'static FieldDef>,
    items: Vec<Record>,
}

/// The related lists the page shows (those not hidden in the settings, of modules the user may
/// view), with their records.
async fn related_items(
    state: &AppState,
    auth: &Auth,
    def: &'static ModuleDef,
    id: i64,
) -> AppResult<Vec<RelatedItems>> {
    let hidden = guanxi_store::settings::load(&state.db)
        .await?
        .hidden_related
        .remove(def.code)
        .unwrap_or_default();
    let mut out = vec![];
    for r in def
        .related
        .iter()
        .filter(|r| !hidden.iter().any(|h| h == r.module.code()))
    {
        let (Some(odef), Ok(grant)) = (
            engine::def_of(r.module),
            auth.principal.authorize(r.module, Action::View),
        ) else {
            continue;
        };
        let ofs = svc::fields(state, odef).await?;
        let columns: Vec<_> = ofs
            .iter()
            .filter(|f| f.list && f.code != odef.title && f.code != r.via)
            .collect();
        let q = ListQuery {
            related: Some((r.via, id)),
            limit: 50,
            fields: Some(columns.iter().map(|f| f.code).collect()),
            ..ListQuery::default()
        };
        let items = records::list(&state.db, &ofs, &grant, &q).await?;
        out.push(RelatedItems {
            list: r,
            def: odef,
            fields: ofs,
            columns,
            items,
        });
    }
    Ok(out)
}

impl RelatedItems {
    fn view(&self, auth: &Auth, look: &Lookups) -> RelatedView {
        let (odef, tr, tz) = (self.def, Tr(auth.locale), &auth.principal.time_zone);
        let m = self.list.module;
        RelatedView {
            module: odef.code,
            name: module_name(odef, auth.locale),
            via: self.list.via,
            columns: std::iter::once(odef.title)
                .chain(self.columns.iter().map(|f| f.code))
                .filter_map(|c| self.fields.field(c))
                .map(|f| f.label_in(odef, tr.0))
                .collect(),
            rows: self
                .items
                .iter()
                .map(|x| {
                    let cells = self.columns.iter();
                    let cells = cells.map(|f| look.display(f, x.values.get(f.code), tr, tz));
                    (x.id, x.title(odef), cells.collect())
                })
                .collect(),
            can_create: auth.principal.can(m, Action::Create),
            can_edit: auth.principal.can(m, Action::Edit),
            can_delete: auth.principal.can(m, Action::Delete),
        }
    }
}

pub async fn page(
    State(state): State<AppState>,
    auth: Auth,
    Path((m, id)): Path<(String, String)>,
    Query(dq): Query<DetailQuery>,
) -> AppResult<DetailPage> {
    let def = module(&m)?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let grant = auth.principal.authorize(def.module, Action::View)?;
    let fs = svc::fields(&state, def).await?;
    let rec = records::get(&state.db, &fs, &grant, id).await?;
    let tr = Tr(auth.locale);
    let tz = auth.principal.time_zone.clone();
    let related = related_items(&state, &auth, def, id).await?;
    // One set of lookups for the record and all its related lists.
    let shown: Vec<&'static FieldDef> = fs.iter().filter(|f| !f.hidden).collect();
    let refs: Vec<Vec<&Record>> = related.iter().map(|r| r.items.iter().collect()).collect();
    let main = [&rec];
    let mut sets: Vec<Shown> = vec![(&shown, &main)];
    sets.extend(
        related
            .iter()
            .zip(&refs)
            .map(|(r, x)| (&r.columns[..], &x[..])),
    );
    let look = Lookups::load_for(&state, &auth, &sets).await;
    let fields = shown
        .iter()
        .map(|f| look.field_view(def, f, rec.values.get(f.code), tr, &tz))
        .collect();
    let can_edit = auth.principal.can(def.module, Action::Edit);
    // Region pickers only serve the in-place editors, which a reader or a locked record lacks.
    let fields = if can_edit && !rec.locked {
        super::view::with_pickers(&state, fields).await
    } else {
        fields
    };
    let related = related.iter().map(|r| r.view(&auth, &look)).collect();
    let (prev, next, jump) = neighbours(&state, def, &fs, &grant, &rec, &dq.list, &tz).await?;
    let can_assign = auth.principal.can(def.module, Action::Assign);
    // Reached through the user's own scope, not only as a collaborator: locking and choosing
    // collaborators are the owner's side's.
    let own_side = grant.covers(rec.owner_id, rec.department_id);
    let people = guanxi_store::users::list_all(&state.db).await?;
    let name_of = |id: Option<i64>| {
        people
            .iter()
            .find(|u| Some(u.id) == id)
            .map(|u| u.display_name.clone())
            .unwrap_or_default()
    };
    let (created_by, updated_by) = (name_of(rec.created_by), name_of(rec.updated_by));
    let collaborators = if def.collaborators {
        let cs = guanxi_store::records::collaborators::of(&state.db, def, id).await?;
        Some(
            cs.into_iter()
                .map(|c| (c.user_id, c.display_name))
                .collect(),
        )
    } else {
        None
    };
    // Active users to choose from: a new owner, or collaborators.
    let users = if can_assign || (can_edit && def.collaborators) {
        people
            .iter()
            .filter(|u| u.is_active)
            .map(|u| (u.id, u.display_name.clone()))
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
    let pool_panel = if def.module == guanxi_core::Module::Customers {
        crate::ui::pools::panel(&state, &auth, rec.id, auth.locale).await
    } else {
        None
    };
    Ok(DetailPage {
        pool_panel,
        shell,
        module: def.code,
        owner: rec.owner_name.clone().unwrap_or_default(),
        created: crate::ui::pages::local_time(&rec.created_at, &tz),
        updated: crate::ui::pages::local_time(&rec.updated_at, &tz),
        created_by,
        updated_by,
        own_side,
        collaborator_choices: users
            .iter()
            .filter(|(u, _)| collaborators.is_some() && Some(*u) != rec.owner_id)
            .map(|(u, n)| {
                let on = collaborators
                    .as_ref()
                    .is_some_and(|cs: &Vec<(i64, String)>| cs.iter().any(|(c, _)| c == u));
                (*u, n.clone(), on)
            })
            .collect(),
        collaborators,
        title,
        fields,
        related,
        attachments: super::attachments::views(&state, &auth, def, id).await?,
        prev,
        next,
        jump,
        can_edit,
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

/// Deletes a record of the recycle bin for good (administrators), back to the recycle bin.
pub async fn purge(
    State(state): State<AppState>,
    auth: Auth,
    Path((m, id)): Path<(String, String)>,
) -> AppResult<Response> {
    let (def, id) = ids(&m, &id)?;
    svc::purge(&state, &auth, def, id).await?;
    Ok(Redirect::to(&format!("/{}/recycle-bin?ok=flash-purged", def.code)).into_response())
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
    let look = Lookups::load(&state, &auth, &fs, &[&rec]).await;
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
