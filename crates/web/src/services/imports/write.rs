//! One chunk of the write inside the open transaction: its rows checked (reading through the
//! transaction, which sees what earlier chunks of it wrote), contacts' new organisations
//! created, records created in bulk (with their change history and search documents) or
//! updated one by one, and what was done recorded for a revert. The caller commits several
//! chunks together with the import's position.

use std::collections::{HashMap, HashSet};

use guanxi_core::Action;
use guanxi_store::Tx;
use guanxi_store::audit::{self, Event};
use guanxi_store::imports::{self, Import, Item, Progress};
use guanxi_store::records::{self, NewRecord, Values};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use super::chunk::{self, Outcome, Reads, Seen};
use super::plan::{Plan, Prepared};
use crate::auth::Auth;
use crate::error::AppResult;
use crate::state::AppState;

/// What the chunks of one transaction did so far.
#[derive(Default)]
pub struct Tally {
    pub progress: Progress,
    pub failed: i64,
    /// PostgreSQL: the writes of the new records' search documents, each in a transaction of
    /// its own on another connection, running while this one goes on; awaited before it
    /// commits, so that no committed record is left out of search.
    pub search: Vec<JoinHandle<guanxi_store::Result<()>>>,
}

/// The rows of one chunk, checked: what becomes of each, the organisations its contacts name
/// that did not exist when it was checked, and the users' corrections among its lines.
pub struct Checked {
    pub outcomes: Vec<Outcome>,
    pub orgs: HashSet<String>,
    pub fixed_lines: Vec<i64>,
}

/// Checks `rows` reading through `reads`: the readers ahead of the write, or its open
/// transaction (which sees what its earlier chunks wrote) for the rows users fixed after the
/// file went past them.
#[expect(
    clippy::too_many_arguments,
    reason = "one chunk's whole context, passed down once"
)]
pub async fn check(
    state: &AppState,
    auth: &Auth,
    plan: &Plan,
    reads: Reads<'_>,
    rows: Vec<Prepared>,
    fixed_lines: Vec<i64>,
    seen: &mut Seen,
    allow: bool,
) -> AppResult<Checked> {
    let mut orgs = HashSet::new();
    let outcomes = chunk::check(state, auth, plan, rows, seen, &mut orgs, allow, reads).await?;
    Ok(Checked {
        outcomes,
        orgs,
        fixed_lines,
    })
}

/// Writes one checked chunk in `tx`, adding to `tally`. `created_orgs` are the organisations
/// this import created so far (lower-case name → id): a name checked before its organisation
/// was written links to it rather than create it twice.
#[expect(
    clippy::too_many_arguments,
    reason = "one chunk's whole context, passed down once"
)]
pub async fn chunk(
    state: &AppState,
    auth: &Auth,
    plan: &Plan,
    imp: &Import,
    tx: &mut Tx,
    chunk: Checked,
    created_orgs: &mut HashMap<String, i64>,
    tally: &mut Tally,
) -> AppResult<()> {
    let Checked {
        outcomes,
        orgs,
        fixed_lines,
    } = chunk;
    // Contacts' organisations that do not exist yet are created first, then linked.
    let names: Vec<String> = orgs
        .into_iter()
        .filter(|n| !created_orgs.contains_key(&n.to_lowercase()))
        .collect();
    if !names.is_empty() {
        let ofs =
            guanxi_store::custom_fields::tx_fields(tx, &guanxi_core::engine::ORGANISATIONS).await?;
        let new: Vec<NewRecord> = names
            .iter()
            .map(|n| {
                let mut v = Values::new();
                v.insert("name".into(), json!(n));
                NewRecord {
                    owner_id: Some(auth.principal.user_id),
                    values: v,
                }
            })
            .collect();
        let ids = records::insert_many(tx, &ofs, &new, &auth.actor).await?;
        created_orgs.extend(names.into_iter().map(|n| n.to_lowercase()).zip(ids));
    }
    let org_ids = &*created_orgs;
    let p = &mut tally.progress;
    let mut creates = vec![];
    let mut failed = vec![];
    let mut items = vec![];
    let grant = auth
        .principal
        .authorize(plan.fs.def.module, Action::Edit)
        .ok();
    for o in outcomes {
        match o {
            Outcome::Create(mut row) => {
                if let Some(id) = row
                    .organisation
                    .as_ref()
                    .and_then(|o| org_ids.get(&o.to_lowercase()))
                {
                    row.values.insert("organisation_id".into(), json!(id));
                }
                crate::services::records::derive(plan.fs.def, &mut row.values);
                creates.push(NewRecord {
                    // Into a pool: nobody owns them (the pool's columns follow below).
                    owner_id: plan.pool_id.is_none().then_some(row.owner),
                    values: row.values,
                });
            }
            Outcome::Skip => p.skipped += 1,
            Outcome::Error(row) => failed.push(row),
            Outcome::Update(row, m) => {
                let (Some(g), Some(current)) =
                    (grant.as_ref(), records::tx_fetch(tx, &plan.fs, m.id).await?)
                else {
                    failed.push(row);
                    continue;
                };
                let mut changes: Values = row
                    .values
                    .iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                crate::services::records::derive(plan.fs.def, &mut changes);
                let before: Values = changes
                    .keys()
                    .map(|k| {
                        (
                            k.clone(),
                            current.values.get(k).cloned().unwrap_or(Value::Null),
                        )
                    })
                    .collect();
                match records::update(
                    tx,
                    &plan.fs,
                    g,
                    m.id,
                    current.version,
                    &changes,
                    &auth.actor,
                )
                .await
                {
                    Ok((_, changed)) if changed.is_empty() => p.skipped += 1,
                    Ok((after, _)) => {
                        p.updated += 1;
                        items.push(Item {
                            record_id: m.id,
                            action: "update",
                            before: Some(Value::Object(before)),
                            version: after.version,
                        });
                    }
                    Err(_) => {
                        let mut row = row;
                        row.errors.push(guanxi_core::validate::FieldError::new(
                            plan.fs.def.title,
                            "error-record-locked",
                        ));
                        failed.push(row);
                    }
                }
            }
        }
    }
    let customers = plan.fs.def.module == guanxi_core::Module::Customers;
    let at = guanxi_store::now();
    let deadlines = if customers {
        super::deadline::for_new(tx, &creates, at).await?
    } else {
        Some(super::deadline::Deadlines::default())
    };
    let extra = deadlines
        .as_ref()
        .map(|d| d.columns.clone())
        .unwrap_or_default();
    let (ids, docs) =
        records::insert_records_apart(tx, &plan.fs, creates, &auth.actor, at, extra).await?;
    let module = plan.fs.def.code;
    match &state.db {
        // The search documents (some forty rows of `search_grams` per record) take a
        // PostgreSQL connection longer than the rest of the chunk: another one writes them
        // meanwhile, on the machine's other core.
        db @ guanxi_store::Db::Postgres(_) if !docs.is_empty() => {
            let db = db.clone();
            tally.search.push(tokio::spawn(async move {
                let mut tx = db.begin().await?;
                guanxi_store::search::insert_docs(&mut tx, module, docs).await?;
                tx.commit().await
            }));
        }
        _ => guanxi_store::search::insert_docs(tx, module, docs).await?,
    }
    if let Some(d) = &deadlines {
        d.store_warnings(tx, &ids).await?;
    }
    p.created += ids.len() as i64;
    if let Some(pool_id) = plan.pool_id {
        super::pool::put_in(auth, tx, imp, pool_id, &ids, guanxi_store::now()).await?;
    }
    match plan.fs.def.module {
        // Deadlines not written with the records: rules first, then each customer's deadline.
        guanxi_core::Module::Customers if deadlines.is_none() => {
            crate::services::hooks::customers_changed(state, tx, &ids).await?
        }
        guanxi_core::Module::FollowUps => {
            for id in &ids {
                if let Some(rec) = records::tx_fetch(tx, &plan.fs, *id).await? {
                    let change = crate::services::hooks::Change::Created;
                    crate::services::hooks::after_write(state, auth, tx, plan.fs.def, &rec, change)
                        .await?;
                }
            }
        }
        _ => {}
    }
    items.extend(ids.iter().map(|id| Item {
        record_id: *id,
        action: "create",
        before: None,
        // New records start at version 1 (the rules and deadlines above write no version).
        version: 1,
    }));
    imports::add_items(tx, imp.id, &items).await?;
    let failed_refs: Vec<&Prepared> = failed.iter().collect();
    let failed_lines: HashSet<i64> = failed.iter().map(|r| r.line).collect();
    imports::put_errors(
        tx,
        imp.id,
        &super::run::error_rows(plan, &imp.headers, &failed_refs),
    )
    .await?;
    let done: Vec<i64> = fixed_lines
        .iter()
        .copied()
        .filter(|l| !failed_lines.contains(l))
        .collect();
    imports::mark_done(tx, imp.id, &done).await?;
    tally.failed += failed.len() as i64;
    Ok(())
}

/// Ends a transaction of the write: the import's position and counts, one audit line, commit.
pub async fn commit(
    auth: &Auth,
    plan: &Plan,
    imp: &Import,
    mut tx: Tx,
    tally: Tally,
    position: i64,
) -> AppResult<()> {
    for search in tally.search {
        search
            .await
            .map_err(|e| crate::error::AppError::Internal(e.into()))??;
    }
    let p = Progress {
        position,
        ..tally.progress
    };
    imports::advance(&mut tx, imp.id, &p).await?;
    audit::record(
        &mut tx,
        &auth.actor,
        Event::new(
            "import.chunk",
            format!(
                "import {} into {}: {} created, {} updated, {} skipped, {} failed (rows up to {position})",
                imp.id, imp.module, p.created, p.updated, p.skipped, tally.failed
            ),
        )
        .module(plan.fs.def.module)
        .target(imp.id, &imp.file_name),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
