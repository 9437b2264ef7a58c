//! 计划任务 (the day's appointed visits, in the user's time zone, day by day) and 新增来电 (the
//! newest customers and the latest follow-ups with their customers), both within the user's data
//! scope.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use chrono::{Duration, NaiveDate, Utc};
use guanxi_core::engine::{CUSTOMERS, FOLLOW_UPS, ModuleDef};
use guanxi_core::{Action, Module};
use guanxi_store::records::{ListQuery, Record};
use serde::Deserialize;

use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::services::{pools, records};
use crate::state::AppState;
use crate::ui::pages::local_time;
use crate::ui::records::view::Lookups;
use crate::ui::{Shell, Tr};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tasks", get(tasks))
        .route("/incoming", get(incoming))
}

pub struct Task {
    pub time: String,
    pub customer_id: i64,
    pub customer: String,
    pub follow_up_id: i64,
    pub owner: String,
    pub done: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "tasks.html")]
pub struct TasksPage {
    shell: Shell,
    date: String,
    prev: String,
    next: String,
    is_today: bool,
    tasks: Vec<Task>,
    error: String,
}

#[derive(Deserialize, Default)]
pub struct DayQuery {
    date: Option<String>,
}

fn time_zone(auth: &Auth) -> chrono_tz::Tz {
    auth.principal
        .time_zone
        .parse()
        .unwrap_or(chrono_tz::Asia::Shanghai)
}

async fn user_names(state: &AppState) -> AppResult<Vec<(i64, String)>> {
    Ok(guanxi_store::users::list_all(&state.db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.display_name))
        .collect())
}

fn name_of(users: &[(i64, String)], id: Option<i64>) -> String {
    id.and_then(|id| users.iter().find(|u| u.0 == id))
        .map(|u| u.1.clone())
        .unwrap_or_default()
}

/// `/tasks?date=YYYY-MM-DD` (default: today where the user is).
pub async fn tasks(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<DayQuery>,
) -> AppResult<TasksPage> {
    auth.principal.authorize(Module::FollowUps, Action::View)?;
    let tz = time_zone(&auth);
    let today = Utc::now().with_timezone(&tz).date_naive();
    let asked = q.date.as_deref().map(str::trim).filter(|d| !d.is_empty());
    let (day, error) = match asked.map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d")) {
        None => (today, String::new()),
        Some(Ok(d)) => (d, String::new()),
        Some(Err(_)) => (today, Tr(auth.locale).t("error-date")),
    };
    let date = day.format("%Y-%m-%d").to_string();
    let list = match pools::appointments(&state, &auth, Some(&date)).await {
        Ok(l) => l,
        Err(AppError::Validation(_)) => vec![],
        Err(e) => return Err(e),
    };
    let users = user_names(&state).await?;
    let tasks = list
        .into_iter()
        .map(|a| Task {
            time: a
                .next_visit_at
                .with_timezone(&tz)
                .format("%H:%M")
                .to_string(),
            customer_id: a.customer_id,
            customer: a.customer_name,
            follow_up_id: a.follow_up_id,
            owner: name_of(&users, a.owner_id),
            done: a.done,
        })
        .collect();
    let shell = Shell::new(&state, &auth, "/tasks", "tasks-title")
        .await
        .crumb("/tasks", "menu-office");
    let title = format!("{} · {date}", shell.tr.t("tasks-title"));
    let fmt = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    Ok(TasksPage {
        shell: shell.title(title),
        prev: fmt(day - Duration::days(1)),
        next: fmt(day + Duration::days(1)),
        is_today: day == today,
        date,
        tasks,
        error,
    })
}

pub struct CustomerRow {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub phone: String,
    pub owner: String,
    pub created: String,
}

pub struct FollowUpRow {
    pub id: i64,
    pub at: String,
    pub kind: String,
    pub content: String,
    pub customer_id: Option<i64>,
    pub customer: String,
    pub owner: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "incoming.html")]
pub struct IncomingPage {
    shell: Shell,
    customers: Vec<CustomerRow>,
    follow_ups: Option<Vec<FollowUpRow>>,
}

/// The newest records of a module the user may see.
async fn newest(state: &AppState, auth: &Auth, def: &'static ModuleDef) -> AppResult<Vec<Record>> {
    let q = ListQuery {
        limit: 20,
        ..ListQuery::default()
    };
    records::list(state, auth, def, &q).await
}

fn short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

/// `/incoming`: new customers, and the latest follow-ups with their customers.
pub async fn incoming(State(state): State<AppState>, auth: Auth) -> AppResult<IncomingPage> {
    let customers = newest(&state, &auth, &CUSTOMERS).await?;
    let follow_ups = if auth.principal.can(Module::FollowUps, Action::View) {
        Some(newest(&state, &auth, &FOLLOW_UPS).await?)
    } else {
        None
    };
    let (cfs, ffs) = (
        records::fields(&state, &CUSTOMERS).await?,
        records::fields(&state, &FOLLOW_UPS).await?,
    );
    let c_shown: Vec<_> = ["customer_type", "phone"]
        .iter()
        .filter_map(|c| cfs.field(c))
        .collect();
    let f_shown: Vec<_> = ["customer_id", "kind", "at"]
        .iter()
        .filter_map(|c| ffs.field(c))
        .collect();
    let c_refs: Vec<&Record> = customers.iter().collect();
    let f_refs: Vec<&Record> = follow_ups.iter().flatten().collect();
    let look = Lookups::load_for(&state, &auth, &[(&c_shown, &c_refs), (&f_shown, &f_refs)]).await;
    let (tr, tz) = (Tr(auth.locale), auth.principal.time_zone.as_str());
    let show = |r: &Record, f: Option<&&'static guanxi_core::engine::FieldDef>| {
        f.map(|f| look.display(f, r.values.get(f.code), tr, tz))
            .unwrap_or_default()
    };
    let customers = customers
        .iter()
        .map(|r| CustomerRow {
            id: r.id,
            name: r.title(&CUSTOMERS),
            kind: show(r, c_shown.first()),
            phone: show(r, c_shown.get(1)),
            owner: r.owner_name.clone().unwrap_or_default(),
            created: local_time(&r.created_at, tz),
        })
        .collect();
    let follow_ups = follow_ups.map(|list| {
        list.iter()
            .map(|r| FollowUpRow {
                id: r.id,
                at: show(r, f_shown.get(2)),
                kind: show(r, f_shown.get(1)),
                content: short(&r.title(&FOLLOW_UPS), 60),
                customer_id: r.values.get("customer_id").and_then(|v| v.as_i64()),
                customer: show(r, f_shown.first()),
                owner: r.owner_name.clone().unwrap_or_default(),
            })
            .collect()
    });
    let shell = Shell::new(&state, &auth, "/incoming", "incoming-title")
        .await
        .crumb("/incoming", "menu-customers");
    Ok(IncomingPage {
        shell,
        customers,
        follow_ups,
    })
}
