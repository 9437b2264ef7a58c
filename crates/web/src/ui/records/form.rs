//! Creating and editing records: the full form (also for copies and for related records made
//! from a detail page) and in-place edits of one field.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use guanxi_core::convert::convert;
use guanxi_core::engine::{FieldKind, Fields, ModuleDef};
use guanxi_store::records::Values;
use serde_json::{Value, json};

use super::view::{FieldView, Lookups, module_name};
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::services::records::{self as svc, module};
use crate::state::AppState;
use crate::ui::{RawForm, Shell, Tr};

#[derive(Template, WebTemplate)]
#[template(path = "record_form.html")]
pub struct FormPage {
    shell: Shell,
    module: &'static str,
    id: Option<i64>,
    version: i32,
    fields: Vec<FieldView>,
    /// The other person's version when a save met a newer one.
    conflict: Option<Vec<(String, String, String)>>,
    /// A duplicate was found: the message, and whether the user may confirm and go on.
    duplicate: Option<(String, bool)>,
    back: String,
}

impl FormPage {
    fn has_errors(&self) -> bool {
        self.fields.iter().any(|f| !f.error.is_empty())
    }
}

/// Form values from a submitted form: every editable field is present (an empty input clears).
async fn values_from(state: &AppState, fs: &Fields, form: &RawForm) -> AppResult<Values> {
    let mut v = Values::new();
    for f in fs.editable() {
        let raw = form.get(f.code);
        let val = match f.kind {
            FieldKind::Checkbox => json!(form.has(f.code)),
            FieldKind::MultiSelect => json!(
                form.all(f.code)
                    .into_iter()
                    .filter(|x| !x.is_empty())
                    .collect::<Vec<_>>()
            ),
            // The picker sends one value per level; the deepest consistent one counts.
            FieldKind::Region => {
                json!(crate::ui::regions_picker::submitted(&state.db, &form.all(f.code)).await?)
            }
            _ if raw.trim().is_empty() => Value::Null,
            _ => json!(raw),
        };
        if form.has(f.code) || matches!(f.kind, FieldKind::Checkbox | FieldKind::MultiSelect) {
            v.insert(f.code.to_owned(), val);
        }
    }
    // A contact naming a new organisation (单位) instead of picking one: created on save.
    let new_organisation = form.get("organisation_name").trim();
    if fs.def.module == guanxi_core::Module::Contacts && !new_organisation.is_empty() {
        v.insert("organisation_name".into(), json!(new_organisation));
    }
    Ok(v)
}

async fn render(
    state: &AppState,
    auth: &Auth,
    def: &'static ModuleDef,
    id: Option<i64>,
    version: i32,
    values: &Values,
    errors: Vec<(String, String)>,
) -> FormPage {
    let tr = Tr(auth.locale);
    let tz = auth.principal.time_zone.clone();
    let rec = guanxi_store::records::Record {
        id: 0,
        version,
        owner_id: None,
        owner_name: None,
        department_id: None,
        locked: false,
        deleted_at: None,
        created_by: None,
        created_at: chrono::Utc::now(),
        updated_by: None,
        updated_at: chrono::Utc::now(),
        values: values.clone(),
    };
    let fs = svc::fields(state, def)
        .await
        .unwrap_or_else(|_| std::sync::Arc::new(Fields::builtin(def)));
    let look = Lookups::load(state, auth, &fs, &[&rec]).await;
    let fields = fs
        .editable()
        .map(|f| {
            let mut v = look.field_view(def, f, values.get(f.code), tr, &tz);
            v.error = errors
                .iter()
                .find(|(k, _)| k == f.code)
                .map(|(_, m)| m.clone())
                .unwrap_or_default();
            v
        })
        .collect();
    let fields = super::view::with_pickers(state, fields).await;
    let name = module_name(def, auth.locale);
    let title = match id {
        Some(_) => format!(
            "{} · {}",
            tr.t("record-edit"),
            values
                .get(def.title)
                .and_then(Value::as_str)
                .unwrap_or_default()
        ),
        None => format!("{} · {name}", tr.t("record-new")),
    };
    let shell = Shell::new(state, auth, &format!("/{}", def.code), "record-new")
        .await
        .crumb(&format!("/{}", def.code), &format!("module-{}", def.code))
        .title(title);
    let back = match id {
        Some(id) => format!("/{}/{id}", def.code),
        None => format!("/{}", def.code),
    };
    FormPage {
        shell,
        module: def.code,
        id,
        version,
        fields,
        conflict: None,
        duplicate: None,
        back,
    }
}

/// A new record; `?copy=ID` starts from an existing one, `?<field>=<value>` presets a field
/// (e.g. `/contacts/new?customer_id=7` from a customer's page).
pub async fn new_form(
    State(state): State<AppState>,
    auth: Auth,
    Path(m): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> AppResult<FormPage> {
    let def = module(&m)?;
    auth.principal
        .authorize(def.module, guanxi_core::Action::Create)?;
    let fs = svc::fields(&state, def).await?;
    let mut values = Values::new();
    if let Some(copy) = pairs
        .iter()
        .find(|(k, _)| k == "copy")
        .and_then(|(_, v)| v.parse::<i64>().ok())
    {
        let src = svc::get(&state, &auth, def, copy).await?;
        for f in fs.editable() {
            if let Some(v) = src.values.get(f.code) {
                values.insert(f.code.to_owned(), v.clone());
            }
        }
    }
    for (k, v) in &pairs {
        if let Some(f) = fs.field(k).filter(|f| !f.read_only) {
            let val = if f.kind.is_integer() {
                v.parse::<i64>().map(|n| json!(n)).unwrap_or(Value::Null)
            } else {
                json!(v)
            };
            values.insert(f.code.to_owned(), val);
        }
    }
    Ok(render(&state, &auth, def, None, 0, &values, vec![]).await)
}

pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Path(m): Path<String>,
    form: RawForm,
) -> AppResult<Response> {
    let def = module(&m)?;
    let values = values_from(&state, &*svc::fields(&state, def).await?, &form).await?;
    let input: Values = values
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let confirmed = form.has("confirm_duplicate");
    match svc::create_confirmed(&state, &auth, def, &input, None, confirmed).await {
        Ok(rec) => {
            Ok(Redirect::to(&format!("/{}/{}?ok=flash-created", def.code, rec.id)).into_response())
        }
        Err(e @ AppError::Validation(_)) => {
            let errors = e.fields(auth.locale);
            Ok((
                e.status(),
                render(&state, &auth, def, None, 0, &values, errors).await,
            )
                .into_response())
        }
        Err(e @ AppError::Duplicate { .. }) => {
            let mut page = render(&state, &auth, def, None, 0, &values, vec![]).await;
            page.duplicate = Some((
                e.message(auth.locale),
                matches!(e, AppError::Duplicate { warn: true, .. }),
            ));
            Ok((e.status(), page).into_response())
        }
        Err(e) => Err(e),
    }
}

pub async fn edit_form(
    State(state): State<AppState>,
    auth: Auth,
    Path((m, id)): Path<(String, String)>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> AppResult<Response> {
    let def = module(&m)?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let rec = svc::get(&state, &auth, def, id).await?;
    auth.principal
        .authorize(def.module, guanxi_core::Action::Edit)?;
    if rec.locked {
        return Err(AppError::conflict("error-record-locked"));
    }
    let mut page = render(
        &state,
        &auth,
        def,
        Some(id),
        rec.version,
        &rec.values,
        vec![],
    )
    .await;
    let back = RawForm(pairs);
    if let Some(b) = super::detail::back_to(&back) {
        page.back = b;
    }
    Ok(page.into_response())
}

/// What a save sends: the changes, what the form showed, and whether a duplicate warning was
/// confirmed.
struct Submission {
    values: Values,
    shown: Values,
    confirmed: bool,
    /// Where to go after saving (the page the edit was started from).
    back: Option<String>,
}

async fn save(
    state: &AppState,
    auth: &Auth,
    def: &'static ModuleDef,
    id: i64,
    version: i32,
    sub: Submission,
) -> AppResult<Response> {
    let Submission {
        values,
        shown,
        confirmed,
        back,
    } = sub;
    match svc::update_confirmed(state, auth, def, id, version, &values, confirmed).await {
        Ok(_) => {
            let to = back.unwrap_or_else(|| format!("/{}/{id}", def.code));
            Ok(Redirect::to(&format!("{to}?ok=flash-saved")).into_response())
        }
        Err(e @ AppError::Duplicate { .. }) => {
            let mut page = render(state, auth, def, Some(id), version, &shown, vec![]).await;
            page.duplicate = Some((
                e.message(auth.locale),
                matches!(e, AppError::Duplicate { warn: true, .. }),
            ));
            Ok((e.status(), page).into_response())
        }
        Err(e @ AppError::Validation(_)) => {
            let errors = e.fields(auth.locale);
            Ok((
                e.status(),
                render(state, auth, def, Some(id), version, &shown, errors).await,
            )
                .into_response())
        }
        Err(AppError::VersionConflict(current)) => {
            // Show what the other person saved next to what this user typed; saving again
            // applies this user's values on top of the newer version.
            let tr = Tr(auth.locale);
            let current_version =
                current.get("version").and_then(Value::as_i64).unwrap_or(0) as i32;
            let mut page =
                render(state, auth, def, Some(id), current_version, &shown, vec![]).await;
            let rec = svc::get(state, auth, def, id).await?;
            let fs = svc::fields(state, def).await?;
            // The form's text as the record would hold it (ids as numbers...), so that only
            // real differences are shown.
            let mine = guanxi_store::records::Record {
                values: stored(state, &fs, &shown).await,
                ..rec.clone()
            };
            let look = Lookups::load(state, auth, &fs, &[&rec, &mine]).await;
            let diffs = fs
                .editable()
                .filter(|f| {
                    mine.values
                        .get(f.code)
                        .is_some_and(|v| !same(v, current.get(f.code)))
                })
                .map(|f| {
                    let tz = &auth.principal.time_zone;
                    (
                        f.label_in(def, tr.0),
                        look.display(f, current.get(f.code), tr, tz),
                        look.display(f, mine.values.get(f.code), tr, tz),
                    )
                })
                .collect();
            page.conflict = Some(diffs);
            Ok((axum::http::StatusCode::CONFLICT, page).into_response())
        }
        Err(e) => Err(e),
    }
}

/// Submitted values converted as a save would store them; one that does not convert stays as
/// typed.
async fn stored(state: &AppState, fs: &Fields, shown: &Values) -> Values {
    let Ok(lk) = crate::services::lookups::for_input(state, fs, shown).await else {
        return shown.clone();
    };
    shown
        .iter()
        .map(|(k, v)| {
            let f = fs.field(k);
            let v = f.and_then(|f| convert(f, v, &lk).ok()).unwrap_or(v.clone());
            (k.clone(), v)
        })
        .collect()
}

/// Whether a submitted value is the stored one; nothing, an unticked box and no choice are the
/// same.
fn same(mine: &Value, theirs: Option<&Value>) -> bool {
    let blank = |v: Option<&Value>| match v {
        None | Some(Value::Null | Value::Bool(false)) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        _ => false,
    };
    Some(mine) == theirs || (blank(Some(mine)) && blank(theirs))
}

pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path((m, id)): Path<(String, String)>,
    form: RawForm,
) -> AppResult<Response> {
    let def = module(&m)?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let version: i32 = form
        .get("version")
        .parse()
        .map_err(|_| AppError::BadRequest("error-version-required"))?;
    let values = values_from(&state, &*svc::fields(&state, def).await?, &form).await?;
    let confirmed = form.has("confirm_duplicate");
    save(
        &state,
        &auth,
        def,
        id,
        version,
        Submission {
            values: values.clone(),
            shown: values,
            confirmed,
            back: super::detail::back_to(&form),
        },
    )
    .await
}

/// In-place edit of one field from the detail page.
pub async fn update_field(
    State(state): State<AppState>,
    auth: Auth,
    Path((m, id, field)): Path<(String, String, String)>,
    form: RawForm,
) -> AppResult<Response> {
    let def = module(&m)?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    // Custom fields too: the module's fields as they are now, not only its declaration.
    let fs = svc::fields(&state, def).await?;
    let f = fs
        .field(&field)
        .filter(|f| !f.read_only && !f.hidden)
        .ok_or(AppError::NotFound)?;
    let version: i32 = form
        .get("version")
        .parse()
        .map_err(|_| AppError::BadRequest("error-version-required"))?;
    let mut values = values_from(&state, &fs, &form).await?;
    // A contact's organisation edited in place may name a new one.
    values.retain(|k, _| k == f.code || (f.code == "organisation_id" && k == "organisation_name"));
    if values.is_empty() {
        values.insert(f.code.to_owned(), Value::Null);
    }
    let rec = svc::get(&state, &auth, def, id).await?;
    let mut shown = rec.values.clone();
    shown.extend(values.clone());
    save(
        &state,
        &auth,
        def,
        id,
        version,
        Submission {
            values,
            shown,
            confirmed: false,
            back: None,
        },
    )
    .await
}
