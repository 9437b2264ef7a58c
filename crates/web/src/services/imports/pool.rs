//! Imports straight into a public pool (导入公海): new customers get no owner and land in the
//! pool the user chose, each with an `import` entry on its ownership timeline. Only the pools
//! the user may manage are offered — a manager of the pool, or an administrator of pools, as
//! for assigning from a pool — and the choice is checked again when the write starts, since
//! rights may change while an import waits.

use chrono::{DateTime, Utc};
use guanxi_core::validate::FieldError;
use guanxi_core::{Action, Module};
use guanxi_store::Tx;
use guanxi_store::audit::{self, Event};
use guanxi_store::imports::Import;
use guanxi_store::pools::{self, Pool};

use super::plan::OWNER;
use crate::auth::Auth;
use crate::error::AppResult;
use crate::state::AppState;

/// Whether the caller may import into a pool: an administrator of pools may into any active
/// one, else a user who may see pools and is named as one of this pool's managers.
fn may_manage(auth: &Auth, pool: &Pool) -> bool {
    if !pool.active
        || auth
            .principal
            .authorize(Module::Pools, Action::View)
            .is_err()
    {
        return false;
    }
    auth.principal
        .authorize(Module::Pools, Action::Manage)
        .is_ok()
        || pools::is_manager(pool, auth.principal.user_id)
}

/// The pools the caller may import into.
pub async fn manageable(state: &AppState, auth: &Auth) -> AppResult<Vec<Pool>> {
    Ok(pools::list(&state.db)
        .await?
        .into_iter()
        .filter(|p| may_manage(auth, p))
        .collect())
}

/// Why a pool cannot be the target of this import, as field errors (none: it can).
pub async fn problems(
    state: &AppState,
    auth: &Auth,
    module: Module,
    pool_id: i64,
    mapping: &[Option<String>],
) -> AppResult<Vec<FieldError>> {
    if module != Module::Customers {
        return Ok(vec![FieldError::new("pool_id", "import-error-pool-module")]);
    }
    let mut errors = vec![];
    match pools::list(&state.db)
        .await?
        .into_iter()
        .find(|p| p.id == pool_id && p.active)
    {
        None => errors.push(FieldError::new("pool_id", "import-error-pool-unknown")),
        Some(p) if !may_manage(auth, &p) => {
            errors.push(FieldError::new("pool_id", "import-error-pool-not-allowed"));
        }
        Some(_) => {}
    }
    // A customer in a pool has no owner: an owner column would contradict the target.
    if mapping.iter().flatten().any(|c| c == OWNER) {
        errors.push(FieldError::new("pool_id", "import-error-pool-and-owner"));
    }
    Ok(errors)
}

/// The pool of an import, checked again before its rows are read: `Err` holds the message key
/// the import stops with (nothing written).
pub async fn recheck(
    state: &AppState,
    auth: &Auth,
    imp: &Import,
) -> AppResult<Result<Option<i64>, String>> {
    let Some(pool_id) = imp.pool_id else {
        return Ok(Ok(None));
    };
    let def = crate::services::records::module(&imp.module)?;
    let mapping = imp.mapping.clone().unwrap_or_default();
    let problems = problems(state, auth, def.module, pool_id, &mapping).await?;
    Ok(match problems.into_iter().next() {
        Some(e) => Err(e.message),
        None => Ok(Some(pool_id)),
    })
}

/// Puts a chunk's new customers into the pool, in the chunk's transaction: the customers'
/// columns and their timeline entries in one statement each, and one audit line.
pub async fn put_in(
    auth: &Auth,
    tx: &mut Tx,
    imp: &Import,
    pool_id: i64,
    ids: &[i64],
    at: DateTime<Utc>,
) -> AppResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let n = pools::import_into_pool(tx, ids, pool_id, auth.actor.user_id, at).await?;
    audit::record(
        tx,
        &auth.actor,
        Event::new(
            "pool.import",
            format!(
                "import {} put {n} new customers into pool {pool_id}",
                imp.id
            ),
        )
        .module(Module::Customers)
        .target(imp.id, &imp.file_name),
    )
    .await?;
    Ok(())
}
