//! The pools' fall-back deadlines of a chunk's new customers, computed before they are written
//! and stored with them: the values `pools::refresh` would set right after the insert, without
//! reading and rewriting every new row (two statements per customer).

use chrono::{DateTime, Utc};
use guanxi_store::Tx;
use guanxi_store::bulk::Val;
use guanxi_store::pools::{self, Standing};
use guanxi_store::records::{self, NewRecord};
use serde_json::Value;

use crate::error::AppResult;

/// Extra columns of new records, one value per record each.
pub type Columns = Vec<(&'static str, Vec<Val>)>;

/// The deadlines of new records: the `fall_back_at` column written with them, and each one's
/// warning time, stored (in `fall_back_warnings`) once the records have their ids.
#[derive(Clone, Debug, Default)]
pub struct Deadlines {
    pub columns: Columns,
    pub warnings: Vec<Option<DateTime<Utc>>>,
}

impl Deadlines {
    /// Stores the warnings of the records `ids`, created from the rows in order.
    pub async fn store_warnings(&self, tx: &mut Tx, ids: &[i64]) -> AppResult<()> {
        let rows: Vec<(i64, DateTime<Utc>)> = ids
            .iter()
            .zip(&self.warnings)
            .filter_map(|(id, w)| w.map(|w| (*id, w)))
            .collect();
        pools::add_warnings(tx, &rows).await?;
        Ok(())
    }
}

/// A select's code as stored, `Err` for anything but text.
fn text(r: &NewRecord, code: &str) -> Result<Option<String>, ()> {
    match r.values.get(code) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(()),
    }
}

/// A time as stored (RFC 3339), `Err` for anything else.
fn time(r: &NewRecord, code: &str) -> Result<Option<DateTime<Utc>>, ()> {
    match r.values.get(code) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => DateTime::parse_from_rfc3339(s)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(drop),
        Some(_) => Err(()),
    }
}

/// `fall_back_at` and the warning times of new customers written at `at` by
/// [`records::insert_records`]. `None` when the customers must go through
/// `hooks::customers_changed` one by one after the insert instead: active rules may change
/// a customer's type or credit level, on which its deadline depends.
pub async fn for_new(
    tx: &mut Tx,
    rows: &[NewRecord],
    at: DateTime<Utc>,
) -> AppResult<Option<Deadlines>> {
    if guanxi_store::rules::tx_list(tx)
        .await?
        .iter()
        .any(|r| r.active)
    {
        return Ok(None);
    }
    let pools = pools::tx_list(tx).await?;
    if pools
        .iter()
        .all(|p| !p.active || (p.fall_back_days.is_none() && p.no_deal_days.is_none()))
    {
        return Ok(Some(Deadlines::default()));
    }
    let paths = records::department_paths(tx).await?;
    let mut fall_back = Vec::with_capacity(rows.len());
    let mut warn = Vec::with_capacity(rows.len());
    for r in rows {
        let standing = (|| {
            Ok::<_, ()>(Standing {
                id: 0,
                name: String::new(),
                owner_id: r.owner_id,
                department_path: r.owner_id.and_then(|o| paths.get(&o).cloned().flatten()),
                locked: false,
                deleted: false,
                customer_type: text(r, "customer_type")?,
                credit_level: text(r, "credit_level")?,
                created_at: at,
                owned_at: None,
                last_follow_up_at: time(r, "last_follow_up_at")?,
                last_deal_at: time(r, "last_deal_at")?,
                pool_id: None,
            })
        })();
        let Ok(standing) = standing else {
            return Ok(None);
        };
        let (a, w) = pools::deadline(&pools, &standing);
        fall_back.push(a.map_or(Val::Null, Val::Time));
        warn.push(w);
    }
    Ok(Some(Deadlines {
        columns: vec![("fall_back_at", fall_back)],
        warnings: warn,
    }))
}
