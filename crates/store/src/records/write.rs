//! Writes of the record engine: create, update with versions, soft delete and restore, lock,
//! transfer — each with its change-history lines, in the caller's transaction.

use guanxi_core::Grant;
use guanxi_core::engine::{Fields, ModuleDef};
use serde_json::{Value, json};

use super::{Bind, Record, RecordError, Result, Values, scope, to_bind, tx_fetch};
use crate::audit::Actor;
use crate::{Tx, now, on_tx};

/// One history line: an event, and for field changes the field with its old and new value.
struct Change<'a> {
    event: &'a str,
    field: Option<&'a str>,
    old: Option<&'a Value>,
    new: Option<&'a Value>,
}

impl<'a> Change<'a> {
    fn event(event: &'a str) -> Change<'a> {
        Change {
            event,
            field: None,
            old: None,
            new: None,
        }
    }

    fn field(event: &'a str, field: &'a str, old: &'a Value, new: &'a Value) -> Change<'a> {
        Change {
            event,
            field: Some(field),
            old: Some(old),
            new: Some(new),
        }
    }
}

/// Writes one history line for an event of the engine's own (claim, release, fall-back...):
/// `field` with its old and new value, at the record's new `version`.
#[expect(clippy::too_many_arguments, reason = "one history row")]
pub async fn history_line(
    tx: &mut Tx,
    def: &ModuleDef,
    id: i64,
    version: i32,
    actor: &Actor,
    event: &str,
    field: &str,
    old: &Value,
    new: &Value,
) -> Result<()> {
    history(
        tx,
        def,
        id,
        version,
        actor,
        Change::field(event, field, old, new),
    )
    .await
}

async fn history(
    tx: &mut Tx,
    def: &ModuleDef,
    id: i64,
    version: i32,
    actor: &Actor,
    change: Change<'_>,
) -> Result<()> {
    let Change {
        event,
        field,
        old,
        new,
    } = change;
    let t = now();
    let text = |v: Option<&Value>| v.filter(|v| !v.is_null()).map(Value::to_string);
    on_tx!(tx, |c| {
        sqlx::query(
            "INSERT INTO record_history (module, record_id, version, at, user_id, username, event, field, \
             old_value, new_value) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(def.code)
        .bind(id)
        .bind(version)
        .bind(t)
        .bind(actor.user_id)
        .bind(actor.username.as_deref())
        .bind(event)
        .bind(field)
        .bind(text(old))
        .bind(text(new))
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// The department of a user (a record's department is its owner's).
pub async fn department_of(tx: &mut Tx, user_id: i64) -> Result<Option<i64>> {
    let d: Option<Option<i64>> = on_tx!(tx, |c| {
        sqlx::query_scalar("SELECT department_id FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&mut *c)
            .await
    })?;
    d.ok_or(RecordError::NotFound)
}

/// Creates a record owned by `owner_id`. Values are already validated.
pub async fn insert(
    tx: &mut Tx,
    fs: &Fields,
    grant: &Grant,
    owner_id: Option<i64>,
    values: &Values,
    actor: &Actor,
) -> Result<Record> {
    let _ = scope(fs.def, grant);
    let department_id = match owner_id {
        Some(o) => department_of(tx, o).await?,
        None => None,
    };
    let t = now();
    let mut cols = vec![
        "owner_id",
        "department_id",
        "created_by",
        "created_at",
        "updated_by",
        "updated_at",
    ];
    let mut binds = vec![
        Bind::Int(owner_id),
        Bind::Int(department_id),
        Bind::Int(actor.user_id),
        Bind::Time(Some(t)),
        Bind::Int(actor.user_id),
        Bind::Time(Some(t)),
    ];
    let mut custom = Values::new();
    for f in fs.iter() {
        if let Some(v) = values.get(f.code) {
            if f.custom {
                custom.insert(f.code.to_owned(), v.clone());
            } else {
                cols.push(f.code);
                binds.push(to_bind(f.kind, v).ok_or(RecordError::NotFound)?);
            }
        }
    }
    if !custom.is_empty() {
        cols.push("custom");
        binds.push(Bind::Json(Some(Value::Object(custom))));
    }
    let params: Vec<String> = (1..=binds.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({}) RETURNING id",
        fs.def.table,
        cols.join(", "),
        params.join(", ")
    );
    let id: i64 = on_tx!(tx, |c| {
        bind_all!(
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str())),
            &binds
        )
        .fetch_one(&mut *c)
        .await
    })?;
    history(tx, fs.def, id, 1, actor, Change::event("create")).await?;
    crate::search::index_record(tx, fs.def, id, "", &crate::search::text_of(fs, values)).await?;
    tx_fetch(tx, fs, id).await?.ok_or(RecordError::NotFound)
}

/// Loads a record for a write and checks scope, deletion, lock and version.
pub(super) async fn for_write(
    tx: &mut Tx,
    fs: &Fields,
    grant: &Grant,
    id: i64,
    version: Option<i32>,
) -> Result<Record> {
    let rec = tx_fetch(tx, fs, id).await?.ok_or(RecordError::NotFound)?;
    let reached = grant.covers(rec.owner_id, rec.department_id)
        || super::collaborators::includes(tx, fs.def, grant, id).await?;
    if rec.deleted_at.is_some() || !reached {
        return Err(RecordError::NotFound);
    }
    if let Some(v) = version
        && v != rec.version
    {
        return Err(RecordError::Conflict(Box::new(rec)));
    }
    Ok(rec)
}

/// Applies changed fields at the given version; refuses a locked record or a stale version.
/// Returns the record after the change and the fields that really changed.
pub async fn update(
    tx: &mut Tx,
    fs: &Fields,
    grant: &Grant,
    id: i64,
    version: i32,
    changes: &Values,
    actor: &Actor,
) -> Result<(Record, Vec<String>)> {
    let before = for_write(tx, fs, grant, id, Some(version)).await?;
    if before.locked {
        return Err(RecordError::Locked);
    }
    let mut sets = vec![];
    let mut binds = vec![];
    let mut changed = vec![];
    let mut patch = Values::new();
    for f in fs.iter() {
        let Some(new) = changes.get(f.code) else {
            continue;
        };
        let old = before.values.get(f.code).cloned().unwrap_or(Value::Null);
        if *new == old {
            continue;
        }
        if f.custom {
            patch.insert(f.code.to_owned(), new.clone());
        } else {
            binds.push(to_bind(f.kind, new).ok_or(RecordError::NotFound)?);
            sets.push(format!("{} = ${}", f.code, binds.len()));
        }
        changed.push((f.code, old, new.clone()));
    }
    if changed.is_empty() {
        return Ok((before, vec![]));
    }
    if !patch.is_empty() {
        // Merge into the stored object, so values of retired or hidden fields are kept.
        binds.push(Bind::Json(Some(Value::Object(patch))));
        let p = binds.len();
        sets.push(match tx {
            Tx::Sqlite(_) => format!("custom = json_patch(COALESCE(custom, '{{}}'), ${p})"),
            Tx::Postgres(_) => format!("custom = COALESCE(custom, '{{}}'::jsonb) || ${p}"),
        });
    }
    let new_version = before.version + 1;
    binds.push(Bind::Int(actor.user_id));
    sets.push(format!("updated_by = ${}", binds.len()));
    binds.push(Bind::Time(Some(now())));
    sets.push(format!("updated_at = ${}", binds.len()));
    binds.push(Bind::Int(Some(id)));
    let pid = binds.len();
    binds.push(Bind::Int(Some(i64::from(version))));
    let pver = binds.len();
    let sql = format!(
        "UPDATE {} SET {}, version = version + 1 WHERE id = ${pid} AND version = ${pver}",
        fs.def.table,
        sets.join(", ")
    );
    let n = on_tx!(tx, |c| bind_all!(
        sqlx::query(sqlx::AssertSqlSafe(sql.as_str())),
        &binds
    )
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    if n == 0 {
        let current = tx_fetch(tx, fs, id).await?.ok_or(RecordError::NotFound)?;
        return Err(RecordError::Conflict(Box::new(current)));
    }
    for (field, old, new) in &changed {
        history(
            tx,
            fs.def,
            id,
            new_version,
            actor,
            Change::field("update", field, old, new),
        )
        .await?;
    }
    let after = tx_fetch(tx, fs, id).await?.ok_or(RecordError::NotFound)?;
    if changed
        .iter()
        .any(|(code, _, _)| fs.field(code).is_some_and(|f| f.searchable))
    {
        let (old, new) = (
            crate::search::text_of(fs, &before.values),
            crate::search::text_of(fs, &after.values),
        );
        crate::search::index_record(tx, fs.def, id, &old, &new).await?;
    }
    Ok((
        after,
        changed.into_iter().map(|(f, _, _)| f.to_owned()).collect(),
    ))
}

async fn set_flag(tx: &mut Tx, def: &ModuleDef, id: i64, set: &str, actor: &Actor) -> Result<()> {
    let sql = format!(
        "UPDATE {} SET {set}, version = version + 1, updated_by = $1, updated_at = $2 WHERE id = $3",
        def.table
    );
    on_tx!(tx, |c| sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(actor.user_id)
        .bind(now())
        .bind(id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Moves a record to the recycle bin. Locked records must be unlocked first.
pub async fn delete(
    tx: &mut Tx,
    fs: &Fields,
    grant: &Grant,
    id: i64,
    actor: &Actor,
) -> Result<Record> {
    let rec = for_write(tx, fs, grant, id, None).await?;
    if rec.locked {
        return Err(RecordError::Locked);
    }
    let t = now();
    let stmt = format!(
        "UPDATE {} SET deleted_at = $1, version = version + 1, updated_by = $2, updated_at = $1 WHERE id = $3",
        fs.def.table
    );
    on_tx!(tx, |c| sqlx::query(sqlx::AssertSqlSafe(stmt.as_str()))
        .bind(t)
        .bind(actor.user_id)
        .bind(id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    history(
        tx,
        fs.def,
        id,
        rec.version + 1,
        actor,
        Change::event("delete"),
    )
    .await?;
    Ok(rec)
}

/// Takes a record out of the recycle bin.
pub async fn restore(
    tx: &mut Tx,
    fs: &Fields,
    grant: &Grant,
    id: i64,
    actor: &Actor,
) -> Result<Record> {
    let rec = tx_fetch(tx, fs, id).await?.ok_or(RecordError::NotFound)?;
    if rec.deleted_at.is_none() || !grant.covers(rec.owner_id, rec.department_id) {
        return Err(RecordError::NotFound);
    }
    set_flag(tx, fs.def, id, "deleted_at = NULL", actor).await?;
    history(
        tx,
        fs.def,
        id,
        rec.version + 1,
        actor,
        Change::event("restore"),
    )
    .await?;
    tx_fetch(tx, fs, id).await?.ok_or(RecordError::NotFound)
}

/// Locks or unlocks a record (a locked record refuses every edit until unlocked).
pub async fn set_locked(
    tx: &mut Tx,
    fs: &Fields,
    grant: &Grant,
    id: i64,
    locked: bool,
    actor: &Actor,
) -> Result<Record> {
    let rec = for_write(tx, fs, grant, id, None).await?;
    // A collaborator edits; locking out the owner's side is not his to do.
    if !grant.covers(rec.owner_id, rec.department_id) {
        return Err(RecordError::NotFound);
    }
    if rec.locked != locked {
        set_flag(
            tx,
            fs.def,
            id,
            if locked {
                "locked = TRUE"
            } else {
                "locked = FALSE"
            },
            actor,
        )
        .await?;
        history(
            tx,
            fs.def,
            id,
            rec.version + 1,
            actor,
            Change::event(if locked { "lock" } else { "unlock" }),
        )
        .await?;
    }
    tx_fetch(tx, fs, id).await?.ok_or(RecordError::NotFound)
}

/// Gives a record to another owner (and so to that owner's department).
pub async fn transfer(
    tx: &mut Tx,
    fs: &Fields,
    grant: &Grant,
    id: i64,
    owner_id: i64,
    actor: &Actor,
) -> Result<Record> {
    let rec = for_write(tx, fs, grant, id, None).await?;
    if rec.locked {
        return Err(RecordError::Locked);
    }
    let department_id = department_of(tx, owner_id).await?;
    let sql = format!(
        "UPDATE {} SET owner_id = $1, department_id = $2, version = version + 1, updated_by = $3, updated_at = $4 WHERE id = $5",
        fs.def.table
    );
    on_tx!(tx, |c| sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(owner_id)
        .bind(department_id)
        .bind(actor.user_id)
        .bind(now())
        .bind(id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    history(
        tx,
        fs.def,
        id,
        rec.version + 1,
        actor,
        Change::field(
            "transfer",
            "owner_id",
            &json!(rec.owner_id),
            &json!(owner_id),
        ),
    )
    .await?;
    tx_fetch(tx, fs, id).await?.ok_or(RecordError::NotFound)
}
