//! Loads the [`Lookups`] that value conversion needs: for one record only what its input
//! mentions, for an import everything at once.

use std::collections::HashSet;

use guanxi_core::convert::{Choice, Lookups, UserRef};
use guanxi_core::engine::{FieldKind, Fields};
use guanxi_store::records::Values;
use serde_json::Value;

use crate::error::AppResult;
use crate::state::AppState;

async fn dictionary(state: &AppState, lk: &mut Lookups, name: &str) -> AppResult<()> {
    if !lk.dictionaries.contains_key(name) {
        let items = guanxi_store::dictionary::list(&state.db, name).await?;
        let choices = items
            .into_iter()
            .map(|i| Choice {
                code: i.code,
                label_zh: i.label_zh,
                label_en: i.label_en,
                active: i.active,
            })
            .collect();
        lk.dictionaries.insert(name.to_owned(), choices);
    }
    Ok(())
}

async fn users(state: &AppState) -> AppResult<Vec<UserRef>> {
    Ok(guanxi_store::users::list_all(&state.db)
        .await?
        .into_iter()
        .map(|u| UserRef {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            active: u.is_active,
        })
        .collect())
}

async fn departments(state: &AppState) -> AppResult<HashSet<i64>> {
    Ok(guanxi_store::departments::list(&state.db)
        .await?
        .into_iter()
        .map(|d| d.id)
        .collect())
}

/// What checking `input` against `fs` needs.
pub async fn for_input(state: &AppState, fs: &Fields, input: &Values) -> AppResult<Lookups> {
    let mut lk = Lookups::default();
    let mut region_codes = vec![];
    for f in fs.iter() {
        let Some(v) = input
            .get(f.code)
            .filter(|v| !guanxi_core::convert::is_empty(v))
        else {
            continue;
        };
        match f.kind {
            FieldKind::Select | FieldKind::MultiSelect => {
                dictionary(state, &mut lk, f.dictionary.unwrap_or_default()).await?;
            }
            FieldKind::Region => {
                if let Value::String(s) = v {
                    region_codes.push(s.trim().to_owned());
                }
            }
            FieldKind::User if lk.users.is_none() => lk.users = Some(users(state).await?),
            FieldKind::Department if lk.departments.is_none() => {
                lk.departments = Some(departments(state).await?);
            }
            _ => {}
        }
    }
    if !region_codes.is_empty() {
        let found = guanxi_store::regions::existing(&state.db, &region_codes).await?;
        lk.regions = Some(found.into_iter().collect());
    }
    Ok(lk)
}

/// Everything a module's fields can refer to (imports), plus the users for owner columns.
pub async fn all(state: &AppState, fs: &Fields) -> AppResult<Lookups> {
    let mut lk = Lookups::default();
    for f in fs.iter() {
        if let Some(d) = f.dictionary {
            dictionary(state, &mut lk, d).await?;
        }
        if f.kind == FieldKind::Region && lk.regions.is_none() {
            let all = guanxi_store::regions::all_labels(&state.db).await?;
            lk.regions = Some(all.iter().map(|(c, _)| c.clone()).collect());
            lk.region_labels = all.into_iter().map(|(c, l)| (l, c)).collect();
        }
        if f.kind == FieldKind::Department && lk.departments.is_none() {
            lk.departments = Some(departments(state).await?);
        }
    }
    lk.users = Some(users(state).await?);
    Ok(lk)
}
