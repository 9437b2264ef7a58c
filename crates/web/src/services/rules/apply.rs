//! Running the rules: on one customer inside the caller's transaction (every save calls
//! [`apply`]), on every customer in a background job after a rule changes ([`reevaluate_all`]),
//! and saying why a customer has its type and level ([`explain`]).
//!
//! The compiled rule set is cached per database, keyed by a fingerprint of the `rules` and
//! custom field tables read in the caller's transaction, so a save costs one small query for
//! the key, one read of the customer and a write only when a result changed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, Utc};
use guanxi_core::engine::{CUSTOMERS, FieldDef, FieldKind};
use guanxi_core::rules::{self, FOLLOW_UP_AGE, Kind, Node, RuleKind, RuleSet};
use guanxi_core::{Action, I18n, Module};
use guanxi_store::Tx;
use guanxi_store::audit::{self, Actor, Event};
use guanxi_store::records;
use guanxi_store::rules::{self as store, Change, Rule};
use serde::Serialize;

use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::services::imports::run::Lease;
use crate::state::AppState;

/// The job that re-evaluates every customer.
pub const JOB_REEVALUATE: &str = "rules.reevaluate";
/// Customers per transaction of the re-evaluation.
const PAGE: i64 = 2_000;
const LEASE_SECS: i64 = 120;

/// The active rules compiled, and the fields they read.
struct Prepared {
    set: RuleSet,
    fields: Vec<&'static FieldDef>,
}

type Cache = Mutex<HashMap<String, (String, Arc<Prepared>)>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

fn prepare(all: &[Rule], fs: &guanxi_core::engine::Fields) -> Prepared {
    let kind_of = |code: &str| -> Option<(Kind, bool)> {
        if code == FOLLOW_UP_AGE {
            return Some((Kind::Days, false));
        }
        fs.field(code)
            .filter(|f| !f.hidden)
            .map(|f| (Kind::of(f.kind), f.kind == FieldKind::Money))
    };
    let parsed: Vec<(i64, RuleKind, Node, &str)> = all
        .iter()
        .filter(|r| r.active)
        .filter_map(|r| {
            Some((
                r.id,
                RuleKind::from_code(&r.kind)?,
                Node::parse(&r.conditions).ok()?,
                r.result.as_str(),
            ))
        })
        .collect();
    let set = RuleSet::new(
        parsed.iter().map(|(id, k, n, res)| (*id, *k, n, *res)),
        &kind_of,
    );
    let fields = set
        .sources()
        .iter()
        .filter(|c| !matches!(c.as_str(), "customer_type" | "credit_level"))
        .filter_map(|c| fs.field(c))
        .collect();
    Prepared { set, fields }
}

/// The rule set for this database as the transaction sees it: from the cache when the rules
/// and custom fields are unchanged.
async fn prepared(state: &AppState, tx: &mut Tx) -> AppResult<Arc<Prepared>> {
    let key = store::fingerprint(tx).await?;
    let db = store::identity(&state.db);
    if let Ok(c) = cache().lock()
        && let Some((k, p)) = c.get(&db)
        && *k == key
    {
        return Ok(p.clone());
    }
    let all = store::tx_list(tx).await?;
    let fs = guanxi_store::custom_fields::tx_fields(tx, &CUSTOMERS).await?;
    let p = Arc::new(prepare(&all, &fs));
    if let Ok(mut c) = cache().lock() {
        c.insert(db, (key, p.clone()));
    }
    Ok(p)
}

/// Classifies and rates one customer by the active rules, inside the caller's transaction, as
/// of `now`. A credit level set by hand is kept; nothing is written when nothing changed.
pub async fn apply(
    state: &AppState,
    tx: &mut Tx,
    customer_id: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let p = prepared(state, tx).await?;
    if p.set.is_empty() {
        return Ok(());
    }
    let s = store::standing(tx, &p.fields, customer_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if s.deleted {
        return Ok(());
    }
    let out = p.set.evaluate(&s.values, now);
    if let Some(ch) = store::change_of(&s, out.customer_type, out.credit) {
        store::write(tx, &[ch]).await?;
    }
    Ok(())
}

/// [`apply`] for many customers at once (an import chunk): one read, one write for all.
/// Returns how many changed.
pub async fn apply_many(
    state: &AppState,
    tx: &mut Tx,
    customer_ids: &[i64],
    now: DateTime<Utc>,
) -> AppResult<u64> {
    let p = prepared(state, tx).await?;
    if p.set.is_empty() {
        return Ok(0);
    }
    let mut changes = vec![];
    for ids in customer_ids.chunks(PAGE as usize) {
        for s in store::standings(tx, &p.fields, ids).await? {
            let out = p.set.evaluate(&s.values, now);
            if !s.deleted
                && let Some(ch) = store::change_of(&s, out.customer_type, out.credit)
            {
                changes.push(ch);
            }
        }
    }
    store::write(tx, &changes).await?;
    Ok(changes.len() as u64)
}

/// The user set the credit level by hand: the rules keep off it until it is handed back. Call
/// in the transaction of the edit, before [`apply`].
pub async fn mark_manual(tx: &mut Tx, customer_id: i64) -> AppResult<()> {
    Ok(store::set_manual(tx, customer_id, true).await?)
}

async fn renew(tx: &mut Tx, lease: Option<&Lease>) -> AppResult<()> {
    if let Some(l) = lease {
        guanxi_store::jobs::renew(
            tx,
            l.job_id,
            &l.worker,
            chrono::Duration::seconds(LEASE_SECS),
        )
        .await
        .map_err(|_| AppError::conflict("error-conflict"))?;
    }
    Ok(())
}

/// Re-evaluates every live customer, 2,000 per transaction (renewing the job's lease in each),
/// writing only those whose results changed. `auth`: the user who changed the rules (`None`
/// for the system's own runs). Returns the customers changed.
pub async fn reevaluate_all(
    state: &AppState,
    auth: Option<&Auth>,
    lease: Option<&Lease>,
) -> AppResult<u64> {
    if let Some(a) = auth {
        a.principal.authorize(Module::Settings, Action::Manage)?;
    }
    let now = guanxi_store::now();
    let started = std::time::Instant::now();
    let (mut after, mut seen, mut changed) = (0_i64, 0_u64, 0_u64);
    let mut rules: Option<Arc<Prepared>> = None;
    loop {
        let mut tx = state.db.begin().await?;
        // Each page can be done again (the job starts over after a crash): no WAL flush wait.
        tx.relax_durability().await?;
        renew(&mut tx, lease).await?;
        let p = match &rules {
            Some(p) => p.clone(),
            None => rules.insert(prepared(state, &mut tx).await?).clone(),
        };
        let page = store::page(&mut tx, &p.fields, after, PAGE).await?;
        let changes: Vec<Change> = page
            .iter()
            .filter_map(|s| {
                let out = p.set.evaluate(&s.values, now);
                store::change_of(s, out.customer_type, out.credit)
            })
            .collect();
        store::write(&mut tx, &changes).await?;
        tx.commit().await?;
        seen += page.len() as u64;
        changed += changes.len() as u64;
        match page.last() {
            Some(last) if page.len() as i64 == PAGE => after = last.id,
            _ => break,
        }
    }
    let actor = auth.map_or_else(Actor::system, |a| a.actor.clone());
    let e = Event::new(
        "rule.reevaluate",
        format!("re-evaluated {seen} customers, {changed} changed"),
    )
    .module(Module::Settings)
    .details(serde_json::json!({ "customers": seen, "changed": changed,
        "seconds": started.elapsed().as_secs_f64() }));
    audit::record_now(&state.db, &actor, e).await?;
    Ok(changed)
}

/// Why a customer holds its type or level.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Verdict {
    /// The code held now (a `customer_type` or `credit_level` code).
    pub code: Option<String>,
    /// Its label, or "未设定".
    pub label: String,
    /// rule, manual (credit only) or none.
    pub source: String,
    pub rule_id: Option<i64>,
    pub rule_name: Option<String>,
    /// Why, in words: the rule's conditions, "手动指定" or "没有适用的规则".
    pub why: String,
    /// The why with the rule's name: "规则“重点制造”：行业 = 制造业 且 评分 ≥ 50".
    pub reason: String,
    /// The whole line: "A 类（重点）: 行业 = 制造业 且 评分 ≥ 50".
    pub text: String,
}

/// Why a customer has its type and its credit level.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Explanation {
    pub customer_id: i64,
    pub customer_type: Verdict,
    pub credit: Verdict,
    /// The level was set by hand and the caller may hand it back to the rules.
    pub can_hand_back: bool,
}

impl Explanation {
    /// Whether the credit level was set by hand.
    pub fn credit_manual(&self) -> bool {
        self.credit.source == "manual"
    }
}

/// Why this customer has its type and level. Needs the right to view the customer.
pub async fn explain(state: &AppState, auth: &Auth, customer_id: i64) -> AppResult<Explanation> {
    let g = auth.principal.authorize(Module::Customers, Action::View)?;
    let fs = guanxi_store::custom_fields::fields(&state.db, &CUSTOMERS).await?;
    let rec = records::get(&state.db, &fs, &g, customer_id).await?;
    let s = store::read_standing(&state.db, customer_id).await?;
    let all = store::list(&state.db, None).await?;
    let (cat, fields) = super::catalog(state, auth.locale).await?;
    let i = I18n::global();
    let verdict = |kind: RuleKind, code: &Option<String>, rule_id: Option<i64>, manual: bool| {
        let results = match kind {
            RuleKind::Classification => &fields.classification,
            RuleKind::Credit => &fields.credit,
        };
        let label = match code {
            Some(c) => results
                .iter()
                .find(|r| r.code == *c)
                .map_or_else(|| c.clone(), |r| r.label.clone()),
            None => i.t(auth.locale, "rules-unset"),
        };
        let rule = rule_id.and_then(|id| all.iter().find(|r| r.id == id));
        let (source, why) = match (manual, rule) {
            (true, _) => ("manual", i.t(auth.locale, "rules-why-manual")),
            (false, Some(r)) => {
                let words = Node::parse(&r.conditions)
                    .map(|n| rules::describe(&n, &cat, auth.locale))
                    .unwrap_or_default();
                ("rule", words)
            }
            (false, None) => ("none", i.t(auth.locale, "rules-why-none")),
        };
        let text = i.t_args(
            auth.locale,
            "rule-explain",
            &[("result", label.clone()), ("why", why.clone())],
        );
        let reason = match rule {
            Some(r) if !manual => i.t_args(
                auth.locale,
                "rules-why-rule",
                &[("name", r.name.clone()), ("why", why.clone())],
            ),
            _ => why.clone(),
        };
        Verdict {
            code: code.clone(),
            label,
            source: source.to_owned(),
            rule_id: rule.map(|r| r.id),
            rule_name: rule.map(|r| r.name.clone()),
            why,
            reason,
            text,
        }
    };
    let customer_type = verdict(
        RuleKind::Classification,
        &s.customer_type,
        s.type_rule_id,
        false,
    );
    let credit = verdict(
        RuleKind::Credit,
        &s.credit_level,
        s.credit_rule_id,
        s.credit_manual,
    );
    Ok(Explanation {
        customer_id: rec.id,
        customer_type,
        credit,
        can_hand_back: s.credit_manual
            && !rec.locked
            && auth.principal.can(Module::Customers, Action::Edit),
    })
}

/// 交还规则: the credit level set by hand goes back to the rules, which rate the customer again
/// at once. Needs the right to edit the customer.
pub async fn hand_back(state: &AppState, auth: &Auth, customer_id: i64) -> AppResult<Explanation> {
    let g = auth.principal.authorize(Module::Customers, Action::Edit)?;
    let fs = guanxi_store::custom_fields::fields(&state.db, &CUSTOMERS).await?;
    let rec = records::get(&state.db, &fs, &g, customer_id).await?;
    if rec.locked {
        return Err(AppError::conflict("error-record-locked"));
    }
    let mut tx = state.db.begin().await?;
    store::set_manual(&mut tx, customer_id, false).await?;
    apply(state, &mut tx, customer_id, guanxi_store::now()).await?;
    let e = Event::new(
        "rule.hand_back",
        format!("handed the credit level of customer {customer_id} back to the rules"),
    )
    .module(Module::Customers)
    .target(rec.id, rec.title(&CUSTOMERS));
    audit::record(&mut tx, &auth.actor, e).await?;
    tx.commit().await?;
    explain(state, auth, customer_id).await
}
