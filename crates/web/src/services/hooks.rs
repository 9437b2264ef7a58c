//! The business rules of the engine's modules, run inside the transaction of every write the
//! engine makes (form, API, import, restore...): a follow-up scores its customer and moves its
//! last follow-up time; anything that changes a customer's owner, lock or follow-ups moves its
//! fall-back deadline. The generic record code calls [`after_write`] and knows nothing more.

use chrono::{DateTime, Utc};
use guanxi_core::Module;
use guanxi_core::engine::ModuleDef;
use guanxi_store::Tx;
use guanxi_store::records::Record;
use serde_json::{Value, json};

use crate::auth::Auth;
use crate::error::AppResult;
use crate::state::AppState;

/// What happened to the record.
pub enum Change<'a> {
    Created,
    Updated { before: &'a Record },
    Deleted,
    Restored,
    Locked,
    Transferred { from: Option<i64> },
}

fn customer_of(rec: &Record) -> Option<i64> {
    rec.values.get("customer_id").and_then(Value::as_i64)
}

fn time_of(rec: &Record) -> DateTime<Utc> {
    rec.values
        .get("at")
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map_or(rec.created_at, |t| t.with_timezone(&Utc))
}

pub async fn after_write(
    state: &AppState,
    auth: &Auth,
    tx: &mut Tx,
    def: &ModuleDef,
    rec: &Record,
    change: Change<'_>,
) -> AppResult<()> {
    match def.module {
        Module::FollowUps => {
            let mut customers = vec![];
            if let Some(c) = customer_of(rec) {
                customers.push(c);
            }
            if let Change::Updated { before } = &change
                && let Some(old) = customer_of(before)
                && !customers.contains(&old)
            {
                customers.push(old);
            }
            if let (Some(c), Change::Created | Change::Updated { .. }) = (customer_of(rec), &change)
            {
                let points = guanxi_store::follow_ups::points(tx).await?;
                let named: Vec<(String, i64)> = rec
                    .values
                    .get("behaviours")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(|code| {
                                let p = points
                                    .iter()
                                    .find(|(c, _)| c == code)
                                    .map_or(0, |(_, p)| *p);
                                (code.to_owned(), p)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                guanxi_store::follow_ups::set_behaviours(tx, rec.id, c, time_of(rec), &named)
                    .await?;
            }
            for c in customers {
                guanxi_store::follow_ups::refresh_customer(tx, c).await?;
                customer_changed(state, tx, c).await?;
            }
        }
        Module::Customers => {
            // A credit level set by hand is kept until the user hands it back to the rules.
            if let Change::Updated { before } = &change
                && before.values.get("credit_level") != rec.values.get("credit_level")
            {
                crate::services::rules::mark_manual(tx, rec.id).await?;
            }
            if let Change::Transferred { from } = change {
                let t = guanxi_store::now();
                guanxi_store::pools::take_over(tx, rec.id, t).await?;
                guanxi_store::pools::record_event(
                    tx,
                    rec.id,
                    t,
                    "transfer",
                    from,
                    rec.owner_id,
                    None,
                    None,
                    auth.actor.user_id,
                )
                .await?;
                if let Some(to) = rec.owner_id.filter(|to| Some(*to) != auth.actor.user_id) {
                    guanxi_store::notifications::add(
                        tx,
                        to,
                        "transfer",
                        &json!({"customer": rec.title(def), "by": auth.principal.display_name}),
                        Some(&format!("/customers/{}", rec.id)),
                    )
                    .await?;
                }
            }
            if let Change::Created = change {
                guanxi_store::pools::record_event(
                    tx,
                    rec.id,
                    rec.created_at,
                    "create",
                    None,
                    rec.owner_id,
                    None,
                    None,
                    auth.actor.user_id,
                )
                .await?;
            }
            customer_changed(state, tx, rec.id).await?;
        }
        _ => {}
    }
    Ok(())
}

/// A customer's standing changed: the classification and credit rules run again, and its
/// fall-back deadline follows (a rule may have changed its type or level).
pub async fn customer_changed(state: &AppState, tx: &mut Tx, customer_id: i64) -> AppResult<()> {
    crate::services::rules::apply(state, tx, customer_id, guanxi_store::now()).await?;
    let pools = guanxi_store::pools::tx_list(tx).await?;
    guanxi_store::pools::refresh(tx, &pools, customer_id).await?;
    Ok(())
}

/// Many customers changed at once (an import chunk): their deadlines follow, with the pools read
/// once — and nothing to do at all while no pool has a fall-back rule.
pub async fn customers_changed(state: &AppState, tx: &mut Tx, ids: &[i64]) -> AppResult<()> {
    // One look at the rules for the whole chunk: most databases have none.
    if guanxi_store::rules::tx_list(tx)
        .await?
        .iter()
        .any(|r| r.active)
    {
        let now = guanxi_store::now();
        for id in ids {
            crate::services::rules::apply(state, tx, *id, now).await?;
        }
    }
    let pools = guanxi_store::pools::tx_list(tx).await?;
    if pools
        .iter()
        .all(|p| !p.active || (p.fall_back_days.is_none() && p.no_deal_days.is_none()))
    {
        return Ok(());
    }
    for id in ids {
        guanxi_store::pools::refresh(tx, &pools, *id).await?;
    }
    Ok(())
}
