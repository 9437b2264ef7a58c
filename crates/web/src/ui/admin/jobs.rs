//! The background jobs page for administrators (后台任务): the recurring schedules and the most
//! recent jobs with their state, attempts and last error. Read-only.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use guanxi_core::{Action, Module};

use crate::auth::Auth;
use crate::error::AppResult;
use crate::state::AppState;
use crate::ui::pages::local_time;
use crate::ui::{Shell, Tr};

/// How many recent jobs the page lists.
const RECENT: i64 = 100;

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/jobs", get(page))
}

pub struct ScheduleRow {
    pub name: String,
    pub label: String,
    pub every: String,
    pub next_run: String,
    pub last_run: String,
    pub last_job_id: Option<i64>,
}

pub struct JobRow {
    pub id: i64,
    pub kind: String,
    pub label: String,
    pub state: String,
    pub state_label: String,
    /// The badge colour of the state.
    pub tone: &'static str,
    pub attempts: i32,
    pub last_error: String,
    pub created: String,
    pub started: String,
    pub finished: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "jobs.html")]
pub struct JobsPage {
    shell: Shell,
    schedules: Vec<ScheduleRow>,
    jobs: Vec<JobRow>,
}

/// The label of a job kind (`import.check` → `job-kind-import-check`), or the kind itself.
fn kind_label(tr: Tr, kind: &str) -> String {
    let key = format!("job-kind-{}", kind.replace(['.', '_'], "-"));
    let label = tr.t(&key);
    if label == key { kind.to_owned() } else { label }
}

/// "every 10 minutes" in the largest whole unit.
fn every(tr: Tr, seconds: i64) -> String {
    let (key, n) = match seconds {
        s if s > 0 && s % 86_400 == 0 => ("job-every-days", s / 86_400),
        s if s > 0 && s % 3600 == 0 => ("job-every-hours", s / 3600),
        s if s > 0 && s % 60 == 0 => ("job-every-minutes", s / 60),
        s => ("job-every-seconds", s),
    };
    tr.t1(key, "n", &n.to_string())
}

async fn page(State(state): State<AppState>, auth: Auth) -> AppResult<JobsPage> {
    auth.principal.authorize(Module::Settings, Action::View)?;
    let tr = Tr(auth.locale);
    let tz = auth.principal.time_zone.clone();
    let time = |t: &Option<chrono::DateTime<chrono::Utc>>| {
        t.as_ref().map(|t| local_time(t, &tz)).unwrap_or_default()
    };
    let schedules = guanxi_store::jobs::list_schedules(&state.db)
        .await?
        .into_iter()
        .map(|s| ScheduleRow {
            label: kind_label(tr, &s.name),
            every: every(tr, s.every_seconds),
            next_run: local_time(&s.next_run_at, &tz),
            last_run: time(&s.last_run_at),
            last_job_id: s.last_job_id,
            name: s.name,
        })
        .collect();
    let jobs = guanxi_store::jobs::recent(&state.db, RECENT)
        .await?
        .into_iter()
        .map(|j| JobRow {
            label: kind_label(tr, &j.kind),
            state_label: tr.t(&format!("job-state-{}", j.state)),
            tone: match j.state.as_str() {
                "done" => "ok",
                "failed" => "danger",
                "running" => "warn",
                "cancelled" => "muted",
                _ => "",
            },
            created: local_time(&j.created_at, &tz),
            started: time(&j.started_at),
            finished: time(&j.finished_at),
            last_error: j.last_error.unwrap_or_default(),
            id: j.id,
            kind: j.kind,
            state: j.state,
            attempts: j.attempts,
        })
        .collect();
    Ok(JobsPage {
        shell: Shell::new(&state, &auth, "/admin/jobs", "jobs-title")
            .await
            .crumb("/admin/jobs", "menu-admin"),
        schedules,
        jobs,
    })
}
