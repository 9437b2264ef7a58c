//! Public pools (公海): members see a pool's customers (contact details masked for roles not
//! allowed to see them, and a daily limit on opened details), claim them (领取) within the
//! pool's limits, managers assign them, owners release theirs (放入公海) with a reason; the
//! sweep (a recurring job) puts customers past their deadline back and warns owners before.
//! Every move is in the change history, the ownership timeline and the audit log.

use chrono::{DateTime, Duration, Utc};
use guanxi_core::engine::CUSTOMERS;
use guanxi_core::validate::FieldError;
use guanxi_core::{Action, Module};
use guanxi_store::audit::{self, Event};
use guanxi_store::pools::{self, Pool, PoolInput};
use guanxi_store::records::{self, ListQuery, Record};
use serde_json::json;

use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::services::records::fields;
use crate::state::AppState;

/// The caller's department path (`/1/4/`), for membership by department.
async fn dept_path(state: &AppState, auth: &Auth) -> AppResult<String> {
    Ok(match auth.principal.department_id {
        Some(d) => guanxi_store::departments::get(&state.db, d).await?.path,
        None => String::new(),
    })
}

/// The pools the caller may see (member or manager); administrators of pools see all.
pub async fn mine(state: &AppState, auth: &Auth) -> AppResult<Vec<Pool>> {
    auth.principal.authorize(Module::Pools, Action::View)?;
    let all = pools::list(&state.db).await?;
    if auth
        .principal
        .authorize(Module::Pools, Action::Manage)
        .is_ok()
    {
        return Ok(all);
    }
    let path = dept_path(state, auth).await?;
    Ok(all
        .into_iter()
        .filter(|p| p.active && pools::is_member(p, auth.principal.user_id, &path))
        .collect())
}

async fn pool_of(state: &AppState, auth: &Auth, id: i64) -> AppResult<Pool> {
    mine(state, auth)
        .await?
        .into_iter()
        .find(|p| p.id == id)
        .ok_or(AppError::NotFound)
}

/// Masks a phone number: 138****1234.
pub fn mask(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() <= 7 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

/// Whether the caller's roles let them see contact details of pool customers.
async fn sees_contacts(state: &AppState, auth: &Auth) -> AppResult<bool> {
    Ok(pools::research_limits(&state.db, auth.principal.user_id)
        .await?
        .1)
}

/// A page of a pool's customers, contact details masked where the role says so.
pub async fn customers(
    state: &AppState,
    auth: &Auth,
    pool_id: i64,
    q: &ListQuery,
) -> AppResult<Vec<Record>> {
    pool_of(state, auth, pool_id).await?;
    let fs = fields(state, &CUSTOMERS).await?;
    let mut list = records::list_pool(&state.db, &fs, &[pool_id], q).await?;
    if !sees_contacts(state, auth).await? {
        for r in &mut list {
            if let Some(p) = r.values.get("phone").and_then(|v| v.as_str()).map(mask) {
                r.values.insert("phone".into(), json!(p));
            }
        }
    }
    Ok(list)
}

/// One pool customer's details: counts against the caller's daily limit of opened details.
pub async fn customer(state: &AppState, auth: &Auth, pool_id: i64, id: i64) -> AppResult<Record> {
    pool_of(state, auth, pool_id).await?;
    let (limit, contacts) = pools::research_limits(&state.db, auth.principal.user_id).await?;
    let day = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let fs = fields(state, &CUSTOMERS).await?;
    let q = ListQuery {
        limit: 1,
        ..ListQuery::default()
    };
    let mut rec = records::list_pool(
        &state.db,
        &fs,
        &[pool_id],
        &ListQuery {
            related: Some(("id", id)),
            ..q
        },
    )
    .await?
    .pop()
    .ok_or(AppError::NotFound)?;
    let mut tx = state.db.begin().await?;
    let seen = pools::viewed(&mut tx, auth.principal.user_id, &day, id).await?;
    if let Some(max) = limit
        && seen > max
    {
        return Err(AppError::Conflict(
            "pool-error-view-limit",
            vec![("max", max.to_string())],
        ));
    }
    tx.commit().await?;
    if !contacts && let Some(p) = rec.values.get("phone").and_then(|v| v.as_str()).map(mask) {
        rec.values.insert("phone".into(), json!(p));
    }
    Ok(rec)
}

fn limit_error(key: &'static str, max: i64) -> AppError {
    AppError::Conflict(key, vec![("max", max.to_string())])
}

/// Claims (领取) pool customers for the caller. Each claim is its own check: the first that
/// breaks a limit stops the rest with a clear message; of two users claiming the same customer
/// at once exactly one gets it.
pub async fn claim(
    state: &AppState,
    auth: &Auth,
    pool_id: i64,
    ids: &[i64],
) -> AppResult<Vec<i64>> {
    let pool = pool_of(state, auth, pool_id).await?;
    let me = auth.principal.user_id;
    let mut got = vec![];
    for id in ids {
        let t = guanxi_store::now();
        let mut tx = state.db.begin().await?;
        if let Some(max) = pool.max_owned
            && pools::owned_count(&mut tx, me).await? >= max
        {
            return Err(limit_error("pool-error-max-owned", max));
        }
        if let Some(max) = pool.max_claims_per_day {
            let day_start = t
                .date_naive()
                .and_hms_opt(0, 0, 0)
                .map_or(t, |d| d.and_utc());
            if pools::claims_since(&mut tx, me, day_start).await? >= max {
                return Err(limit_error("pool-error-claims-per-day", max));
            }
        }
        if let Some(days) = pool.reclaim_cooldown_days
            && let Some(last) = pools::last_given_up(&mut tx, me, *id).await?
            && t < last + Duration::days(days)
        {
            return Err(limit_error("pool-error-cooldown", days));
        }
        let Some(from_pool) = pools::take(&mut tx, *id, me, t).await? else {
            return Err(AppError::conflict("pool-error-taken"));
        };
        if from_pool != pool_id {
            return Err(AppError::NotFound);
        }
        let told = moved(
            state,
            auth,
            &mut tx,
            *id,
            "claim",
            None,
            Some(me),
            Some(pool_id),
            None,
            t,
        )
        .await?;
        tx.commit().await?;
        wake(state, told);
        got.push(*id);
    }
    Ok(got)
}

/// A pool manager gives pool customers to a user.
pub async fn assign(
    state: &AppState,
    auth: &Auth,
    pool_id: i64,
    ids: &[i64],
    to: i64,
) -> AppResult<Vec<i64>> {
    let pool = pool_of(state, auth, pool_id).await?;
    let admin = auth
        .principal
        .authorize(Module::Pools, Action::Manage)
        .is_ok();
    if !pools::is_manager(&pool, auth.principal.user_id) && !admin {
        return Err(AppError::conflict("pool-error-not-manager"));
    }
    let user = guanxi_store::users::credentials_by_id(&state.db, to).await;
    if !user.is_ok_and(|u| u.is_active) {
        return Err(AppError::Validation(vec![FieldError::new(
            "owner_id",
            "error-user-missing",
        )]));
    }
    let mut got = vec![];
    for id in ids {
        let t = guanxi_store::now();
        let mut tx = state.db.begin().await?;
        if pools::take(&mut tx, *id, to, t).await? != Some(pool_id) {
            return Err(AppError::conflict("pool-error-taken"));
        }
        let told = moved(
            state,
            auth,
            &mut tx,
            *id,
            "assign",
            None,
            Some(to),
            Some(pool_id),
            None,
            t,
        )
        .await?;
        tx.commit().await?;
        wake(state, told);
        got.push(*id);
    }
    Ok(got)
}

/// The owner (or someone who may edit the customer) puts it into the owner's pool with a reason.
pub async fn release(state: &AppState, auth: &Auth, id: i64, reason: &str) -> AppResult<i64> {
    let g = auth.principal.authorize(Module::Customers, Action::Edit)?;
    let fs = fields(state, &CUSTOMERS).await?;
    let rec = records::get(&state.db, &fs, &g, id).await?;
    // Giving a customer up is the owner's side's decision, not a collaborator's.
    if !g.covers(rec.owner_id, rec.department_id) {
        return Err(AppError::NotFound);
    }
    if rec.locked {
        return Err(AppError::conflict("error-record-locked"));
    }
    let reasons = guanxi_store::dictionary::list(&state.db, "release_reason").await?;
    if !reasons.iter().any(|r| r.code == reason && r.active) {
        return Err(AppError::Validation(vec![FieldError::new(
            "reason",
            "error-option",
        )]));
    }
    let owner = rec.owner_id.ok_or(AppError::NotFound)?;
    let pool = owner_pool(state, owner)
        .await?
        .ok_or_else(|| AppError::conflict("pool-error-no-pool"))?;
    let t = guanxi_store::now();
    let mut tx = state.db.begin().await?;
    if !pools::put_in_pool(&mut tx, id, pool.id, auth.actor.user_id, t).await? {
        return Err(AppError::conflict("pool-error-taken"));
    }
    let told = moved(
        state,
        auth,
        &mut tx,
        id,
        "release",
        Some(owner),
        None,
        Some(pool.id),
        Some(reason),
        t,
    )
    .await?;
    tx.commit().await?;
    wake(state, told);
    Ok(pool.id)
}

/// The pool a user's customers fall back into.
async fn owner_pool(state: &AppState, user_id: i64) -> AppResult<Option<Pool>> {
    let user = guanxi_store::users::list_all(&state.db)
        .await?
        .into_iter()
        .find(|u| u.id == user_id)
        .ok_or(AppError::NotFound)?;
    let path = match user.department_id {
        Some(d) => guanxi_store::departments::get(&state.db, d).await?.path,
        None => String::new(),
    };
    let all = pools::list(&state.db).await?;
    Ok(pools::pool_for(&all, user_id, &path).cloned())
}

/// The bookkeeping of every move: history line, timeline, deadline, audit, notification.
/// Returns the user it notified, whom the caller wakes after the commit ([`wake`]).
#[expect(clippy::too_many_arguments, reason = "one move's whole description")]
async fn moved(
    state: &AppState,
    auth: &Auth,
    tx: &mut guanxi_store::Tx,
    id: i64,
    event: &'static str,
    from: Option<i64>,
    to: Option<i64>,
    pool: Option<i64>,
    reason: Option<&str>,
    at: DateTime<Utc>,
) -> AppResult<Option<i64>> {
    let s = pools::standing(tx, id).await?;
    let fs = crate::services::records::fields(state, &CUSTOMERS).await?;
    let version: i32 = records::tx_fetch(tx, &fs, id)
        .await?
        .map_or(1, |r| r.version);
    records::history_line(
        tx,
        &CUSTOMERS,
        id,
        version,
        &auth.actor,
        event,
        "owner_id",
        &json!(from),
        &json!(to),
    )
    .await?;
    pools::record_event(
        tx,
        id,
        at,
        event,
        from,
        to,
        pool,
        reason,
        auth.actor.user_id,
    )
    .await?;
    crate::services::hooks::customer_changed(state, tx, id).await?;
    audit::record(
        tx,
        &auth.actor,
        Event::new(
            match event {
                "claim" => "pool.claim",
                "assign" => "pool.assign",
                _ => "pool.release",
            },
            format!("{event} customer {id} (pool {})", pool.unwrap_or_default()),
        )
        .module(Module::Customers)
        .target(id, &s.name),
    )
    .await?;
    let told = to.filter(|t| Some(*t) != auth.actor.user_id);
    if let Some(to) = told {
        guanxi_store::notifications::add(
            tx,
            to,
            "transfer",
            &json!({"customer": s.name, "by": auth.principal.display_name}),
            Some(&format!("/customers/{id}")),
        )
        .await?;
    }
    Ok(told)
}

/// Shows the notification of a committed move on the user's open pages at once.
fn wake(state: &AppState, told: Option<i64>) {
    if let Some(user) = told {
        crate::services::notifications::wake(state, user);
    }
}

/// Creates or changes a pool (administrators of pools).
pub async fn save(
    state: &AppState,
    auth: &Auth,
    id: Option<i64>,
    input: &PoolInput,
) -> AppResult<Pool> {
    auth.principal.authorize(Module::Pools, Action::Manage)?;
    let mut errors = vec![];
    if input.name.trim().is_empty() || input.name.chars().count() > 50 {
        errors.push(FieldError::new("name", "error-required"));
    }
    for (code, v) in [
        ("fall_back_days", input.fall_back_days),
        ("no_deal_days", input.no_deal_days),
        ("warn_days", input.warn_days),
        ("max_owned", input.max_owned),
        ("max_claims_per_day", input.max_claims_per_day),
        ("reclaim_cooldown_days", input.reclaim_cooldown_days),
    ] {
        if v.is_some_and(|v| !(0..=100_000).contains(&v)) {
            errors.push(FieldError::new(code, "error-number"));
        }
    }
    if input
        .members
        .iter()
        .any(|m| !matches!(m.kind.as_str(), "user" | "department" | "manager"))
    {
        errors.push(FieldError::new("members", "error-option"));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let mut tx = state.db.begin().await?;
    let id = match id {
        Some(id) => {
            pools::update(&mut tx, id, input).await?;
            id
        }
        None => pools::create(&mut tx, input).await.map_err(|e| match e {
            guanxi_store::StoreError::Unique(_) => {
                AppError::Validation(vec![FieldError::new("name", "error-pool-name-taken")])
            }
            other => other.into(),
        })?,
    };
    audit::record(
        &mut tx,
        &auth.actor,
        Event::new("pool.save", format!("saved pool {}", input.name)).target(id, &input.name),
    )
    .await?;
    // A changed rule moves deadlines: recomputed by the next sweep's refresh job.
    guanxi_store::jobs::enqueue(
        &mut tx,
        JOB_REFRESH,
        &json!({}),
        Some(auth.principal.user_id),
    )
    .await?;
    tx.commit().await?;
    state.jobs.notify_one();
    Ok(pools::get(&state.db, id).await?)
}

/// The job kinds of pools.
pub const JOB_SWEEP: &str = "pools.sweep";
pub const JOB_REFRESH: &str = "pools.refresh";

/// 计划任务: the appointments of a day (in the user's time zone) among follow-ups the user may
/// see — their own, their departments', or everyone's, as their scope says.
pub async fn appointments(
    state: &AppState,
    auth: &Auth,
    date: Option<&str>,
) -> AppResult<Vec<guanxi_store::follow_ups::Appointment>> {
    use chrono::TimeZone;
    let g = auth.principal.authorize(Module::FollowUps, Action::View)?;
    let tz: chrono_tz::Tz = auth
        .principal
        .time_zone
        .parse()
        .unwrap_or(chrono_tz::Asia::Shanghai);
    let day = match date {
        Some(d) => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| AppError::Validation(vec![FieldError::new("date", "error-date")]))?,
        None => Utc::now().with_timezone(&tz).date_naive(),
    };
    let start = tz
        .from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
        .earliest()
        .map_or_else(Utc::now, |t| t.with_timezone(&Utc));
    Ok(
        guanxi_store::follow_ups::appointments(&state.db, start, start + Duration::days(1), &g)
            .await?,
    )
}
