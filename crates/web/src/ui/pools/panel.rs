//! The customer's pool panel (templates/customer_pool_panel.html), for the customer detail page:
//! the score with the behaviours that make it up, the fall-back deadline, the ownership timeline
//! and the "放入公海" form, whose route lives here too; below it, why the customer has its type
//! and credit level (templates/rules_explanation.html) with 交还规则.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use guanxi_core::engine::CUSTOMERS;
use guanxi_core::{Action, Locale, Module};
use guanxi_store::records::Record;
use serde_json::Value;

use super::path_id;
use crate::auth::Auth;
use crate::error::AppResult;
use crate::services::rules::Explanation;
use crate::services::{pools as svc, records, rules};
use crate::state::AppState;
use crate::ui::pages::local_time;
use crate::ui::{RawForm, Tr};

/// One behaviour behind the score.
pub struct ScoreLineView {
    pub follow_up_id: i64,
    pub behaviour: String,
    /// Signed: "+20", "-10".
    pub points: String,
    pub negative: bool,
    pub at: String,
}

/// One move of the customer between owners and pools.
pub struct EventView {
    pub event: String,
    pub from: String,
    pub to: String,
    pub by: String,
    pub reason: String,
    pub at: String,
}

/// What the panel shows; it carries its own translation handle, so the fragment needs nothing
/// from the page that includes it but `pool_panel: Option<PoolPanel>`.
pub struct PoolPanel {
    pub tr: Tr,
    pub customer_id: i64,
    pub name: String,
    pub score: i64,
    pub lines: Vec<ScoreLineView>,
    pub fall_back_at: Option<String>,
    pub timeline: Vec<EventView>,
    /// Release reasons (code, label) from the dictionary list `release_reason`.
    pub reasons: Vec<(String, String)>,
    pub can_release: bool,
    /// Why the customer has its type and credit level; only on the customer's own page.
    pub explanation: Option<Explanation>,
}

/// The panel for a customer the caller may see; `None` when they may not (or it is gone).
pub async fn panel(
    state: &AppState,
    auth: &Auth,
    customer_id: i64,
    locale: Locale,
) -> Option<PoolPanel> {
    let rec = records::get(state, auth, &CUSTOMERS, customer_id)
        .await
        .ok()?;
    // The owner's side releases, not a collaborator (see `services::pools::release`).
    let own_side = auth
        .principal
        .authorize(Module::Customers, Action::Edit)
        .is_ok_and(|g| g.covers(rec.owner_id, rec.department_id));
    let can_release = rec.owner_id.is_some() && !rec.locked && own_side;
    let mut p = build(state, &rec, locale, &auth.principal.time_zone, can_release)
        .await
        .ok()?;
    p.explanation = rules::explain(state, auth, customer_id).await.ok();
    Some(p)
}

/// The panel of a customer the caller has already been allowed to see.
pub(super) async fn build(
    state: &AppState,
    rec: &Record,
    locale: Locale,
    tz: &str,
    can_release: bool,
) -> AppResult<PoolPanel> {
    let tr = Tr(locale);
    let dict = guanxi_store::dictionary::all(&state.db).await?;
    let label = |list: &str, code: &str| {
        dict.iter()
            .find(|i| i.dictionary == list && i.code == code)
            .map_or_else(|| code.to_owned(), |i| i.label(locale).to_owned())
    };
    let lines = guanxi_store::follow_ups::score_lines(&state.db, rec.id)
        .await?
        .into_iter()
        .map(|l| ScoreLineView {
            follow_up_id: l.follow_up_id,
            behaviour: label("behaviour", &l.behaviour),
            points: format!("{:+}", l.points),
            negative: l.points < 0,
            at: local_time(&l.at, tz),
        })
        .collect::<Vec<_>>();
    // A side without a person is the pool the customer came from or went to.
    let pools = guanxi_store::pools::list(&state.db).await?;
    let pool_name = |id: Option<i64>| {
        id.and_then(|id| pools.iter().find(|p| p.id == id))
            .map_or_else(|| "—".to_owned(), |p| p.name.clone())
    };
    let timeline = guanxi_store::pools::timeline(&state.db, rec.id)
        .await?
        .into_iter()
        .map(|e| EventView {
            event: event_label(tr, &e.event),
            from: e.from_name.unwrap_or_else(|| pool_name(e.pool_id)),
            to: e.to_name.unwrap_or_else(|| pool_name(e.pool_id)),
            by: e.by_name.unwrap_or_default(),
            reason: e
                .reason
                .map(|r| label("release_reason", &r))
                .unwrap_or_default(),
            at: local_time(&e.at, tz),
        })
        .collect();
    let fall_back_at = rec
        .values
        .get("fall_back_at")
        .and_then(Value::as_str)
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| local_time(&t.with_timezone(&chrono::Utc), tz));
    Ok(PoolPanel {
        tr,
        customer_id: rec.id,
        name: rec.title(&CUSTOMERS),
        score: rec
            .values
            .get("score")
            .and_then(Value::as_i64)
            .unwrap_or_default(),
        lines,
        fall_back_at,
        timeline,
        reasons: dict
            .iter()
            .filter(|i| i.dictionary == "release_reason" && i.active)
            .map(|i| (i.code.clone(), i.label(locale).to_owned()))
            .collect(),
        can_release,
        explanation: None,
    })
}

/// The label of a timeline event, or its code when it has none.
fn event_label(tr: Tr, code: &str) -> String {
    let key = format!("pool-event-{}", code.replace('_', "-"));
    let label = tr.t(&key);
    if label == key { code.to_owned() } else { label }
}

/// 放入公海: into the owner's pool with a reason. Back to the customer while the caller may
/// still see it (their scope may cover only their own customers), else to the customer list.
pub async fn release(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    form: RawForm,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    svc::release(&state, &auth, id, form.get("reason")).await?;
    let to = if records::get(&state, &auth, &CUSTOMERS, id).await.is_ok() {
        format!("/customers/{id}?ok=flash-pool-released")
    } else {
        "/customers?ok=flash-pool-released".to_owned()
    };
    Ok(Redirect::to(&to).into_response())
}
