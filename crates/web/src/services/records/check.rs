//! Checking record input against the module's fields: the conversion of `guanxi_core::convert`
//! over lookups loaded for this input, then the checks that need the caller (relations in scope).

use guanxi_core::Action;
use guanxi_core::convert::{Lookups, convert};
use guanxi_core::engine::{self, FieldKind, Fields};
use guanxi_core::validate::FieldError;
use guanxi_store::records::{self, Values};
use serde_json::Value;

use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Validates an input object: unknown and read-only fields are refused; on create every
/// required field must be present.
pub async fn check(
    state: &AppState,
    auth: &Auth,
    fs: &Fields,
    input: &Values,
    create: bool,
) -> AppResult<Values> {
    let lk = crate::services::lookups::for_input(state, fs, input).await?;
    check_with(state, auth, fs, input, create, &lk).await
}

/// [`check`] with lookups the caller already holds.
pub async fn check_with(
    state: &AppState,
    auth: &Auth,
    fs: &Fields,
    input: &Values,
    create: bool,
    lk: &Lookups,
) -> AppResult<Values> {
    let mut errors = vec![];
    let mut out = Values::new();
    for (k, v) in input {
        match fs.field(k) {
            Some(f) if !f.read_only => match convert(f, v, lk) {
                Ok(v) => {
                    out.insert(k.clone(), v);
                }
                Err(e) => errors.push(e),
            },
            _ => errors.push(FieldError::new(k, "error-unknown-field")),
        }
    }
    if create {
        for f in fs
            .iter()
            .filter(|f| f.required && !input.contains_key(f.code))
        {
            errors.push(FieldError::new(f.code, "error-required"));
        }
    }
    // Relations must point at a live record the caller may see.
    for f in fs.iter() {
        if let (FieldKind::Relation(target), Some(Value::Number(n))) = (f.kind, out.get(f.code)) {
            let ok = match (engine::def_of(target), n.as_i64()) {
                (Some(tdef), Some(id)) => match auth.principal.authorize(target, Action::View) {
                    Ok(g) => records::get(&state.db, &Fields::builtin(tdef), &g, id)
                        .await
                        .is_ok(),
                    Err(_) => false,
                },
                _ => false,
            };
            if !ok {
                errors.push(FieldError::new(f.code, "error-relation"));
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(AppError::Validation(errors))
    }
}
