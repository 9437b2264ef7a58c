//! 公海设置 (administrators of pools): the pools with their members and rules, and the form that
//! creates or changes one — fall-back after days without a follow-up or a deal, which customer
//! types and credit levels it covers, the warning, the claim limits, and its members.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use guanxi_core::validate::FieldError;
use guanxi_core::{Action, Module};
use guanxi_store::pools::{Member, Pool, PoolInput};

use super::{path_id, user_options};
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::services::pools as svc;
use crate::state::AppState;
use crate::ui::admin::field_error;
use crate::ui::pages::Flash;
use crate::ui::{RawForm, Shell, Tr};

/// The whole-number settings, in form order: (field, label key, help key).
const NUMBERS: [(&str, &str, &str); 6] = [
    (
        "fall_back_days",
        "pool-fall-back-days",
        "pool-fall-back-days-help",
    ),
    (
        "no_deal_days",
        "pool-no-deal-days",
        "pool-no-deal-days-help",
    ),
    ("warn_days", "pool-warn-days", "pool-warn-days-help"),
    ("max_owned", "pool-max-owned", "pool-max-owned-help"),
    (
        "max_claims_per_day",
        "pool-max-claims",
        "pool-max-claims-help",
    ),
    (
        "reclaim_cooldown_days",
        "pool-cooldown",
        "pool-cooldown-help",
    ),
];

pub struct Row {
    pub id: i64,
    pub name: String,
    pub members: String,
    pub rules: String,
    pub limits: String,
    pub active: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "pools_admin.html")]
pub struct ListPage {
    shell: Shell,
    rows: Vec<Row>,
}

/// A number setting as the form shows it.
pub struct NumberField {
    pub code: &'static str,
    pub label: String,
    pub help: String,
    pub value: String,
}

/// The form's values as entered (numbers as typed, so a refused one shows again).
#[derive(Default)]
pub struct PoolForm {
    pub name: String,
    pub numbers: Vec<(&'static str, String)>,
    pub only_types: Vec<String>,
    pub only_levels: Vec<String>,
    pub active: bool,
    pub departments: Vec<i64>,
    pub users: Vec<i64>,
    pub managers: Vec<i64>,
}

#[derive(Template, WebTemplate)]
#[template(path = "pool_form.html")]
pub struct FormPage {
    shell: Shell,
    id: Option<i64>,
    form: PoolForm,
    numbers: Vec<NumberField>,
    types: Vec<(String, String)>,
    levels: Vec<(String, String)>,
    departments: Vec<(i64, String)>,
    users: Vec<(i64, String)>,
    errors: Vec<(String, String)>,
}

impl FormPage {
    fn error(&self, field: &str) -> String {
        field_error(&self.errors, field)
    }
}

fn members_of(p: &Pool, kind: &str) -> Vec<i64> {
    p.members
        .iter()
        .filter(|m| m.kind == kind)
        .map(|m| m.ref_id)
        .collect()
}

fn number(v: Option<i64>) -> String {
    v.map(|n| n.to_string()).unwrap_or_default()
}

impl PoolForm {
    fn of(p: &Pool) -> PoolForm {
        let values = [
            p.fall_back_days,
            p.no_deal_days,
            p.warn_days,
            p.max_owned,
            p.max_claims_per_day,
            p.reclaim_cooldown_days,
        ];
        PoolForm {
            name: p.name.clone(),
            numbers: NUMBERS
                .iter()
                .zip(values)
                .map(|((code, _, _), v)| (*code, number(v)))
                .collect(),
            only_types: p.only_types.clone(),
            only_levels: p.only_levels.clone(),
            active: p.active,
            departments: members_of(p, "department"),
            users: members_of(p, "user"),
            managers: members_of(p, "manager"),
        }
    }

    fn read(form: &RawForm) -> PoolForm {
        let ids = |k: &str| form.all(k).iter().filter_map(|v| v.parse().ok()).collect();
        let codes = |k: &str| form.all(k).iter().map(|v| (*v).to_owned()).collect();
        PoolForm {
            name: form.get("name").trim().to_owned(),
            numbers: NUMBERS
                .iter()
                .map(|(code, _, _)| (*code, form.get(code).trim().to_owned()))
                .collect(),
            only_types: codes("only_types"),
            only_levels: codes("only_levels"),
            active: form.has("active"),
            departments: ids("departments"),
            users: ids("users"),
            managers: ids("managers"),
        }
    }

    fn value(&self, code: &str) -> &str {
        self.numbers
            .iter()
            .find(|(c, _)| *c == code)
            .map_or("", |(_, v)| v.as_str())
    }

    /// The service's input, or the fields that are not whole numbers.
    fn input(&self) -> Result<PoolInput, Vec<FieldError>> {
        let mut errors = vec![];
        let mut n = |code: &'static str| {
            let raw = self.value(code);
            if raw.is_empty() {
                return None;
            }
            raw.parse::<i64>()
                .map_err(|_| errors.push(FieldError::new(code, "error-number")))
                .ok()
        };
        let (fall_back_days, no_deal_days, warn_days) =
            (n("fall_back_days"), n("no_deal_days"), n("warn_days"));
        let (max_owned, max_claims_per_day, reclaim_cooldown_days) = (
            n("max_owned"),
            n("max_claims_per_day"),
            n("reclaim_cooldown_days"),
        );
        let members = [
            ("department", &self.departments),
            ("user", &self.users),
            ("manager", &self.managers),
        ]
        .into_iter()
        .flat_map(|(kind, ids)| {
            ids.iter().map(move |id| Member {
                kind: kind.to_owned(),
                ref_id: *id,
            })
        })
        .collect();
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(PoolInput {
            name: self.name.clone(),
            fall_back_days,
            no_deal_days,
            only_types: self.only_types.clone(),
            only_levels: self.only_levels.clone(),
            warn_days,
            max_owned,
            max_claims_per_day,
            reclaim_cooldown_days,
            active: self.active,
            members,
        })
    }
}

fn manage(auth: &Auth) -> AppResult<()> {
    auth.principal.authorize(Module::Pools, Action::Manage)?;
    Ok(())
}

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(f): Query<Flash>,
) -> AppResult<ListPage> {
    manage(&auth)?;
    let tr = Tr(auth.locale);
    let pools = svc::mine(&state, &auth).await?;
    let depts = guanxi_store::departments::list(&state.db).await?;
    let users = guanxi_store::users::list_all(&state.db).await?;
    let name_of = |m: &Member| match m.kind.as_str() {
        "department" => depts
            .iter()
            .find(|d| d.id == m.ref_id)
            .map(|d| d.name.clone()),
        _ => users
            .iter()
            .find(|u| u.id == m.ref_id)
            .map(|u| u.display_name.clone()),
    };
    let rows = pools
        .iter()
        .map(|p| {
            let group = |kind: &str, key: &str| {
                let names: Vec<String> = p
                    .members
                    .iter()
                    .filter(|m| m.kind == kind)
                    .filter_map(name_of)
                    .collect();
                (!names.is_empty()).then(|| format!("{}：{}", tr.t(key), names.join("、")))
            };
            let members = [
                group("department", "pool-departments"),
                group("user", "pool-users"),
                group("manager", "pool-managers"),
            ];
            let days =
                |v: Option<i64>, key: &'static str| v.map(|n| tr.t1(key, "n", &n.to_string()));
            let rules = [
                days(p.fall_back_days, "pool-rule-no-follow-up"),
                days(p.no_deal_days, "pool-rule-no-deal"),
            ];
            let limits = [
                days(p.max_owned, "pool-limit-owned"),
                days(p.max_claims_per_day, "pool-limit-claims"),
                days(p.reclaim_cooldown_days, "pool-limit-cooldown"),
            ];
            let join = |parts: &[Option<String>]| {
                parts
                    .iter()
                    .flatten()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("；")
            };
            Row {
                id: p.id,
                name: p.name.clone(),
                members: join(&members),
                rules: join(&rules),
                limits: join(&limits),
                active: p.active,
            }
        })
        .collect();
    let shell = Shell::new(&state, &auth, "/admin/pools", "pools-admin-title")
        .await
        .crumb("/admin/pools", "menu-admin")
        .flash(f.ok.as_deref());
    Ok(ListPage { shell, rows })
}

async fn render(
    state: &AppState,
    auth: &Auth,
    id: Option<i64>,
    form: PoolForm,
    errors: Vec<(String, String)>,
) -> AppResult<FormPage> {
    let tr = Tr(auth.locale);
    let dict = guanxi_store::dictionary::all(&state.db).await?;
    // A disabled option the pool still names stays choosable.
    let options = |list: &str, chosen: &[String]| {
        dict.iter()
            .filter(|i| i.dictionary == list && (i.active || chosen.contains(&i.code)))
            .map(|i| (i.code.clone(), i.label(auth.locale).to_owned()))
            .collect()
    };
    let departments = guanxi_store::departments::list(&state.db)
        .await?
        .into_iter()
        .map(|d| (d.id, format!("{}{}", "— ".repeat(d.depth()), d.name)))
        .collect();
    let title = match id {
        Some(_) => format!("{} · {}", tr.t("pools-admin-title"), form.name),
        None => tr.t("pool-new"),
    };
    let shell = Shell::new(state, auth, "/admin/pools", "pools-admin-title")
        .await
        .crumb("/admin/pools", "pools-admin-title")
        .title(title);
    Ok(FormPage {
        numbers: NUMBERS
            .iter()
            .map(|(code, label, help)| NumberField {
                code,
                label: tr.t(label),
                help: tr.t(help),
                value: form.value(code).to_owned(),
            })
            .collect(),
        types: options("customer_type", &form.only_types),
        levels: options("credit_level", &form.only_levels),
        departments,
        users: user_options(state).await?,
        shell,
        id,
        form,
        errors,
    })
}

pub async fn new_form(State(state): State<AppState>, auth: Auth) -> AppResult<FormPage> {
    manage(&auth)?;
    let form = PoolForm {
        active: true,
        numbers: NUMBERS
            .iter()
            .map(|(c, _, _)| (*c, String::new()))
            .collect(),
        ..PoolForm::default()
    };
    render(&state, &auth, None, form, vec![]).await
}

pub async fn edit_form(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<FormPage> {
    manage(&auth)?;
    let id = path_id(&id)?;
    let pool = guanxi_store::pools::get(&state.db, id).await?;
    render(&state, &auth, Some(id), PoolForm::of(&pool), vec![]).await
}

/// Saves, then back to the list; refused values show next to their fields.
async fn save(
    state: &AppState,
    auth: &Auth,
    id: Option<i64>,
    raw: &RawForm,
) -> AppResult<Response> {
    manage(auth)?;
    let form = PoolForm::read(raw);
    let r = match form.input() {
        Ok(input) => svc::save(state, auth, id, &input).await.map(drop),
        Err(errors) => Err(AppError::Validation(errors)),
    };
    match r {
        Ok(()) => {
            let ok = if id.is_some() {
                "flash-saved"
            } else {
                "flash-created"
            };
            Ok(Redirect::to(&format!("/admin/pools?ok={ok}")).into_response())
        }
        Err(e @ AppError::Validation(_)) => {
            let errors = e.fields(auth.locale);
            let page = render(state, auth, id, form, errors).await?;
            Ok((e.status(), page).into_response())
        }
        Err(e) => Err(e),
    }
}

pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    form: RawForm,
) -> AppResult<Response> {
    save(&state, &auth, None, &form).await
}

pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    form: RawForm,
) -> AppResult<Response> {
    save(&state, &auth, Some(path_id(&id)?), &form).await
}
