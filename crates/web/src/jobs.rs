//! The job runner inside `guanxi serve`: claims due jobs from the database (see
//! `guanxi_store::jobs`) and runs them, one at a time per server, acting for the user who
//! queued them. Failed runs are retried with backoff; errors of the work itself end the job.

use std::time::Duration;

use guanxi_store::audit::Actor;
use guanxi_store::jobs::{self, Job};
use serde_json::Value;

use crate::auth::Auth;
use crate::error::AppError;
use crate::services::imports::{self, revert, run};
use crate::services::rules;
use crate::state::AppState;

const MAX_ATTEMPTS: i32 = 5;

/// A name for this runner: host, process and a random part (several instances may share a
/// PostgreSQL database).
fn worker_name() -> String {
    format!(
        "{}-{}-{}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "guanxi".into()),
        std::process::id(),
        guanxi_core::security::random_token(6)
    )
}

/// The user a job acts for, as if signed in.
pub async fn acting_for(state: &AppState, user_id: i64) -> Result<Auth, AppError> {
    let principal = guanxi_store::principal::for_user(&state.db, user_id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    Ok(Auth {
        actor: Actor {
            user_id: Some(principal.user_id),
            username: Some(principal.username.clone()),
            ip: None,
        },
        locale: principal.locale,
        principal,
        credential_digest: String::new(),
        via_bearer: true,
    })
}

/// Recurring jobs: kind and period in seconds. The rules run again every day because results
/// that depend on time ("days since the last follow-up", dates) change without any save.
pub const SCHEDULES: &[(&str, i64)] = &[
    (crate::services::pools::JOB_SWEEP, 60),
    (rules::JOB_REEVALUATE, 86_400),
];

/// Queues the recurring jobs that are due (one server does, whatever the number of servers).
pub async fn schedule(state: &AppState) -> Result<(), AppError> {
    for (kind, every) in SCHEDULES {
        let mut tx = state.db.begin().await?;
        if guanxi_store::pools::schedule_due(&mut tx, kind, *every, guanxi_store::now()).await? {
            if *kind == rules::JOB_REEVALUATE {
                queue_reevaluation(&mut tx).await?;
            } else {
                jobs::enqueue(&mut tx, kind, &serde_json::json!({}), None).await?;
            }
        }
        tx.commit().await?;
    }
    Ok(())
}

/// The daily re-evaluation, as the system: nothing at all without an active rule (every rule
/// change queues its own run, which clears what a deactivated rule left), and no second run
/// while one waits.
async fn queue_reevaluation(tx: &mut guanxi_store::Tx) -> Result<(), AppError> {
    let rules_on = guanxi_store::rules::tx_list(tx)
        .await?
        .iter()
        .any(|r| r.active);
    if rules_on {
        guanxi_store::rules::queue_reevaluation(tx, rules::JOB_REEVALUATE, None).await?;
    }
    Ok(())
}

async fn execute(state: &AppState, job: &Job, lease: &run::Lease) -> Result<(), AppError> {
    match job.kind.as_str() {
        crate::services::pools::JOB_SWEEP => {
            let r = crate::services::sweep::sweep(state, guanxi_store::now(), false).await?;
            if !r.fell_back.is_empty() || !r.warned.is_empty() {
                tracing::info!(
                    fell_back = r.fell_back.len(),
                    warned = r.warned.len(),
                    "pool sweep"
                );
            }
            return Ok(());
        }
        crate::services::pools::JOB_REFRESH => {
            crate::services::sweep::refresh_all(state).await?;
            return Ok(());
        }
        _ => {}
    }
    if job.kind == rules::JOB_REEVALUATE {
        let auth = match job.created_by {
            Some(user) => Some(acting_for(state, user).await?),
            None => None,
        };
        return rules::reevaluate_all(state, auth.as_ref(), Some(lease))
            .await
            .map(drop);
    }
    let user = job.created_by.ok_or(AppError::Unauthorized)?;
    let auth = acting_for(state, user).await?;
    let id = job
        .payload
        .get("import_id")
        .and_then(Value::as_i64)
        .ok_or(AppError::NotFound)?;
    match job.kind.as_str() {
        imports::JOB_CHECK => run::check(state, &auth, id, Some(lease)).await.map(drop),
        imports::JOB_WRITE => run::write(state, &auth, id, Some(lease)).await.map(drop),
        imports::JOB_REVERT => revert::revert(state, &auth, id, Some(lease))
            .await
            .map(drop),
        _ => Err(AppError::NotFound),
    }
}

/// Whether trying again later may help (the database was unreachable, not the work wrong).
fn transient(e: &AppError) -> bool {
    matches!(e, AppError::Internal(_))
}

async fn run_one(state: &AppState, job: Job, worker: &str) {
    let lease = run::Lease {
        job_id: job.id,
        worker: worker.to_owned(),
    };
    tracing::info!(job = job.id, kind = %job.kind, attempt = job.attempts, "job started");
    let result = execute(state, &job, &lease).await;
    let outcome = match &result {
        Ok(()) => jobs::finish(&state.db, job.id, worker, "done", None, None).await,
        Err(e) if transient(e) && job.attempts < MAX_ATTEMPTS => {
            let backoff = chrono::Duration::seconds(2_i64.pow(job.attempts.clamp(0, 10) as u32));
            tracing::warn!(job = job.id, error = %e, "job failed, retrying");
            jobs::finish(
                &state.db,
                job.id,
                worker,
                "queued",
                Some(&e.to_string()),
                Some(guanxi_store::now() + backoff),
            )
            .await
        }
        Err(e) => {
            tracing::warn!(job = job.id, error = %e, "job failed");
            if let Some(id) = job.payload.get("import_id").and_then(Value::as_i64) {
                mark_import_failed(state, id, e).await;
            }
            jobs::finish(
                &state.db,
                job.id,
                worker,
                "failed",
                Some(&e.to_string()),
                None,
            )
            .await
        }
    };
    if let Err(e) = outcome {
        tracing::warn!(job = job.id, error = %e, "recording the job's end failed");
    }
}

/// An import whose job gave up shows why (unless a user cancelled it meanwhile).
async fn mark_import_failed(state: &AppState, id: i64, e: &AppError) {
    let Ok(imp) = guanxi_store::imports::get(&state.db, id).await else {
        return;
    };
    if imp.state == "cancelled" {
        return;
    }
    let key = match e {
        AppError::Conflict(key, _) => *key,
        AppError::Forbidden(_) => "error-forbidden",
        _ => "import-error-internal",
    };
    if let Ok(mut tx) = state.db.begin().await {
        let _ = guanxi_store::imports::set_state(&mut tx, id, "failed", Some(key), true).await;
        let _ = tx.commit().await;
    }
}

/// Runs jobs until the process ends: woken when a job is queued here, and every second for
/// jobs queued by other instances or due later.
pub async fn runner(state: AppState) {
    let worker = worker_name();
    if let Err(e) = jobs::release_orphans(&state.db).await {
        tracing::warn!(error = %e, "releasing interrupted jobs failed");
    }
    loop {
        if let Err(e) = schedule(&state).await {
            tracing::warn!(error = %e, "queuing recurring jobs failed");
        }
        match jobs::claim(&state.db, &worker, chrono::Duration::seconds(120)).await {
            Ok(Some(job)) => {
                run_one(&state, job, &worker).await;
                continue;
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "claiming a job failed"),
        }
        tokio::select! {
            () = state.jobs.notified() => {}
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}
