//! Classification (客户自动分类) and credit (信用等级) rules: managing them (系统设置 + 管理,
//! audited; every change queues the re-evaluation of every customer in the same transaction),
//! the fields and operators a condition may use, and — in [`apply`] — running them.

mod apply;

use std::collections::HashMap;

use guanxi_core::engine::CUSTOMERS;
use guanxi_core::rules::{self, Catalog, Kind, Node, RuleKind};
use guanxi_core::validate::{Checker, FieldError, required_text};
use guanxi_core::{Action, Locale, Module};
use guanxi_store::audit::{self, Event};
use guanxi_store::rules::{self as store, Rule};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub use apply::{
    Explanation, JOB_REEVALUATE, Verdict, apply, apply_many, explain, hand_back, mark_manual,
    reevaluate_all,
};

use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// A new rule.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct RuleInput {
    /// classification or credit.
    pub kind: String,
    pub name: String,
    /// The condition tree: `{"all": [...]}` / `{"any": [...]}` groups and
    /// `{"field", "op", "value"}` leaves. An empty top group matches every customer.
    #[schema(value_type = Object)]
    pub conditions: Value,
    /// A `customer_type` code (classification) or a `credit_level` code 1–5 (credit).
    pub result: String,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// Changes to a rule; absent fields stay.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct RulePatch {
    pub name: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub conditions: Option<Value>,
    pub result: Option<String>,
    pub active: Option<bool>,
}

/// A rule, with its result and conditions in the caller's words.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RuleView {
    pub id: i64,
    pub kind: String,
    pub name: String,
    /// 1 is tried first.
    pub priority: i64,
    #[schema(value_type = Object)]
    pub conditions: Value,
    pub result: String,
    pub result_label: String,
    /// The conditions in words: "行业 = 制造业 且 评分 ≥ 50".
    pub description: String,
    pub active: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Choice {
    pub code: String,
    pub label: String,
}

/// A field a condition may use: its kind, the operators that fit it, its options.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct FieldChoice {
    pub code: String,
    pub label: String,
    /// text, number, select, multi, date, bool, days or ref.
    pub kind: String,
    /// Money: entered and compared in yuan.
    pub money: bool,
    pub ops: Vec<Choice>,
    pub options: Vec<Choice>,
    /// The rule kinds that may use the field.
    pub kinds: Vec<String>,
}

/// What the condition builder needs.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RuleFields {
    pub fields: Vec<FieldChoice>,
    /// The results of classification rules (customer types).
    pub classification: Vec<Choice>,
    /// The results of credit rules (levels 1–5).
    pub credit: Vec<Choice>,
}

fn kind_of(code: &str) -> AppResult<RuleKind> {
    RuleKind::from_code(code)
        .ok_or_else(|| AppError::Validation(vec![FieldError::new("kind", "rule-error-kind")]))
}

/// The options of every dictionary list, in one language.
async fn options(state: &AppState, locale: Locale) -> AppResult<HashMap<String, Vec<Choice>>> {
    let mut by_list: HashMap<String, Vec<Choice>> = HashMap::new();
    for i in guanxi_store::dictionary::all(&state.db).await? {
        if i.active {
            by_list
                .entry(i.dictionary.clone())
                .or_default()
                .push(Choice {
                    label: i.label(locale).to_owned(),
                    code: i.code,
                });
        }
    }
    Ok(by_list)
}

/// The fields conditions may use, labelled in `locale`, and the results of each kind.
pub async fn catalog(state: &AppState, locale: Locale) -> AppResult<(Catalog, RuleFields)> {
    let fs = guanxi_store::custom_fields::fields(&state.db, &CUSTOMERS).await?;
    let opts = options(state, locale).await?;
    let pairs = |list: &str| -> Vec<(String, String)> {
        opts.get(list)
            .map(|v| {
                v.iter()
                    .map(|c| (c.code.clone(), c.label.clone()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let cat = Catalog::build(&fs, locale, pairs);
    let fields = cat
        .fields
        .iter()
        .map(|f| FieldChoice {
            code: f.code.clone(),
            label: f.label.clone(),
            kind: kind_code(f.kind).to_owned(),
            money: f.money,
            ops: f
                .kind
                .ops()
                .iter()
                .map(|o| Choice {
                    code: o.code().to_owned(),
                    label: o.label(locale),
                })
                .collect(),
            options: f
                .options
                .iter()
                .map(|(code, label)| Choice {
                    code: code.clone(),
                    label: label.clone(),
                })
                .collect(),
            kinds: RuleKind::ALL
                .into_iter()
                .filter(|k| k.may_read(&f.code))
                .map(|k| k.code().to_owned())
                .collect(),
        })
        .collect();
    let results = |k: RuleKind| opts.get(k.target()).cloned().unwrap_or_default();
    let out = RuleFields {
        fields,
        classification: results(RuleKind::Classification),
        credit: results(RuleKind::Credit),
    };
    Ok((cat, out))
}

fn kind_code(k: Kind) -> &'static str {
    match k {
        Kind::Text => "text",
        Kind::Number => "number",
        Kind::Select => "select",
        Kind::Multi => "multi",
        Kind::Date => "date",
        Kind::Bool => "bool",
        Kind::Days => "days",
        Kind::Ref => "ref",
    }
}

/// The label of a result code, or the code when the option is gone.
fn result_label(fields: &RuleFields, kind: &str, code: &str) -> String {
    let list = match RuleKind::from_code(kind) {
        Some(RuleKind::Credit) => &fields.credit,
        _ => &fields.classification,
    };
    list.iter()
        .find(|c| c.code == code)
        .map_or_else(|| code.to_owned(), |c| c.label.clone())
}

fn view(r: Rule, cat: &Catalog, fields: &RuleFields, locale: Locale) -> RuleView {
    let description = Node::parse(&r.conditions)
        .map(|n| rules::describe(&n, cat, locale))
        .unwrap_or_default();
    RuleView {
        result_label: result_label(fields, &r.kind, &r.result),
        description,
        id: r.id,
        kind: r.kind,
        name: r.name,
        priority: r.priority,
        conditions: r.conditions,
        result: r.result,
        active: r.active,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

/// The condition builder's fields and results.
pub async fn fields(state: &AppState, auth: &Auth) -> AppResult<RuleFields> {
    auth.principal.authorize(Module::Settings, Action::View)?;
    Ok(catalog(state, auth.locale).await?.1)
}

pub async fn list(state: &AppState, auth: &Auth, kind: Option<&str>) -> AppResult<Vec<RuleView>> {
    auth.principal.authorize(Module::Settings, Action::View)?;
    if let Some(k) = kind {
        kind_of(k)?;
    }
    let (cat, fields) = catalog(state, auth.locale).await?;
    Ok(store::list(&state.db, kind)
        .await?
        .into_iter()
        .map(|r| view(r, &cat, &fields, auth.locale))
        .collect())
}

pub async fn get(state: &AppState, auth: &Auth, id: i64) -> AppResult<RuleView> {
    auth.principal.authorize(Module::Settings, Action::View)?;
    let (cat, fields) = catalog(state, auth.locale).await?;
    let r = store::get(&state.db, id).await?;
    Ok(view(r, &cat, &fields, auth.locale))
}

/// A checked rule: trimmed name, a valid tree for its kind, a result of its kind.
fn check(
    kind: RuleKind,
    name: &str,
    conditions: &Value,
    result: &str,
    cat: &Catalog,
    fields: &RuleFields,
) -> AppResult<(String, Value)> {
    let mut c = Checker::default();
    let name = c.check(required_text("name", name, 100));
    let results = match kind {
        RuleKind::Classification => &fields.classification,
        RuleKind::Credit => &fields.credit,
    };
    if !results.iter().any(|r| r.code == result) {
        c.push(FieldError::new("result", "rule-error-result"));
    }
    let node = c.check(Node::parse(conditions));
    if let Some(n) = &node
        && let Err(errors) = rules::validate(kind, n, cat)
    {
        errors.into_iter().for_each(|e| c.push(e));
    }
    c.finish()?;
    match (name, node) {
        (Some(name), Some(node)) => Ok((name, node.to_value())),
        _ => Err(AppError::Validation(vec![])),
    }
}

/// Queues the re-evaluation in the transaction of the change, and wakes the runner after it.
async fn queue(tx: &mut guanxi_store::Tx, auth: &Auth) -> AppResult<()> {
    store::queue_reevaluation(tx, JOB_REEVALUATE, Some(auth.principal.user_id)).await?;
    Ok(())
}

fn event(action: &'static str, r: &Rule, summary: String) -> Event {
    Event::new(action, summary)
        .module(Module::Settings)
        .target(r.id, &r.name)
        .details(json!({ "kind": r.kind, "conditions": r.conditions, "result": r.result, "active": r.active }))
}

pub async fn create(state: &AppState, auth: &Auth, input: &RuleInput) -> AppResult<RuleView> {
    auth.principal.authorize(Module::Settings, Action::Manage)?;
    let kind = kind_of(&input.kind)?;
    let (cat, fields) = catalog(state, auth.locale).await?;
    let (name, conditions) = check(
        kind,
        &input.name,
        &input.conditions,
        &input.result,
        &cat,
        &fields,
    )?;
    let mut tx = state.db.begin().await?;
    let r = store::RuleInput {
        kind: kind.code(),
        name: &name,
        conditions: &conditions,
        result: &input.result,
        active: input.active,
    };
    let id = store::create(&mut tx, &r).await?;
    let rule = store::tx_get(&mut tx, id).await?;
    let summary = format!("created {} rule {}", rule.kind, rule.name);
    audit::record(&mut tx, &auth.actor, event("rule.create", &rule, summary)).await?;
    queue(&mut tx, auth).await?;
    tx.commit().await?;
    state.jobs.notify_one();
    Ok(view(rule, &cat, &fields, auth.locale))
}

pub async fn update(
    state: &AppState,
    auth: &Auth,
    id: i64,
    patch: &RulePatch,
) -> AppResult<RuleView> {
    auth.principal.authorize(Module::Settings, Action::Manage)?;
    let old = store::get(&state.db, id).await?;
    let kind = kind_of(&old.kind)?;
    let (cat, fields) = catalog(state, auth.locale).await?;
    let result = patch.result.as_deref().unwrap_or(&old.result);
    let (name, conditions) = check(
        kind,
        patch.name.as_deref().unwrap_or(&old.name),
        patch.conditions.as_ref().unwrap_or(&old.conditions),
        result,
        &cat,
        &fields,
    )?;
    let mut tx = state.db.begin().await?;
    let r = store::RuleInput {
        kind: kind.code(),
        name: &name,
        conditions: &conditions,
        result,
        active: patch.active.unwrap_or(old.active),
    };
    store::update(&mut tx, id, &r).await?;
    let rule = store::tx_get(&mut tx, id).await?;
    let summary = format!("changed {} rule {}", rule.kind, rule.name);
    let e = event("rule.update", &rule, summary)
        .details(json!({ "before": event_details(&old), "after": event_details(&rule) }));
    audit::record(&mut tx, &auth.actor, e).await?;
    queue(&mut tx, auth).await?;
    tx.commit().await?;
    state.jobs.notify_one();
    Ok(view(rule, &cat, &fields, auth.locale))
}

fn event_details(r: &Rule) -> Value {
    json!({ "name": r.name, "conditions": r.conditions, "result": r.result, "active": r.active })
}

pub async fn delete(state: &AppState, auth: &Auth, id: i64) -> AppResult<()> {
    auth.principal.authorize(Module::Settings, Action::Manage)?;
    let mut tx = state.db.begin().await?;
    let rule = store::tx_get(&mut tx, id).await?;
    store::delete(&mut tx, id).await?;
    let summary = format!("deleted {} rule {}", rule.kind, rule.name);
    audit::record(&mut tx, &auth.actor, event("rule.delete", &rule, summary)).await?;
    queue(&mut tx, auth).await?;
    tx.commit().await?;
    state.jobs.notify_one();
    Ok(())
}

/// Puts the rules of a kind in the order given; `ids` must list each of them once.
pub async fn reorder(
    state: &AppState,
    auth: &Auth,
    kind: &str,
    ids: &[i64],
) -> AppResult<Vec<RuleView>> {
    auth.principal.authorize(Module::Settings, Action::Manage)?;
    let kind = kind_of(kind)?;
    let mut tx = state.db.begin().await?;
    let mut current: Vec<i64> = store::tx_list(&mut tx)
        .await?
        .into_iter()
        .filter(|r| r.kind == kind.code())
        .map(|r| r.id)
        .collect();
    let mut given = ids.to_vec();
    current.sort_unstable();
    given.sort_unstable();
    if current != given {
        return Err(FieldError::new("ids", "rule-error-reorder").into());
    }
    store::reorder(&mut tx, kind.code(), ids).await?;
    let e = Event::new(
        "rule.reorder",
        format!("reordered {} rules: {ids:?}", kind.code()),
    )
    .module(Module::Settings)
    .details(json!({ "kind": kind.code(), "ids": ids }));
    audit::record(&mut tx, &auth.actor, e).await?;
    queue(&mut tx, auth).await?;
    tx.commit().await?;
    state.jobs.notify_one();
    list(state, auth, Some(kind.code())).await
}

/// Moves a rule one place up or down among those of its kind.
pub async fn move_rule(state: &AppState, auth: &Auth, id: i64, up: bool) -> AppResult<()> {
    auth.principal.authorize(Module::Settings, Action::Manage)?;
    let rule = store::get(&state.db, id).await?;
    let mut ids: Vec<i64> = store::list(&state.db, Some(&rule.kind))
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    let Some(pos) = ids.iter().position(|i| *i == id) else {
        return Err(AppError::NotFound);
    };
    let other = if up {
        pos.checked_sub(1)
    } else {
        Some(pos + 1).filter(|p| *p < ids.len())
    };
    if let Some(o) = other {
        ids.swap(pos, o);
        reorder(state, auth, &rule.kind, &ids).await?;
    }
    Ok(())
}
