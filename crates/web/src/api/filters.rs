//! One list filter from its query parameter, `f.<field>.<op>=<value>`: the field (a module's
//! field or a column every record has, such as `owner_id` or `created_at`), an operator that fits
//! its kind, and the value in the type the store compares. `in` and `between` take values
//! separated by commas. A date-time field filtered by a day (`2026-01-31`) compares with that day
//! in the user's time zone: `eq` is the whole day, `lte` its end, `gt` after it.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use guanxi_core::engine::{FieldDef, FieldKind, Fields};
use guanxi_store::records::{Condition, Op};
use serde_json::{Value, json};

use crate::error::{AppError, AppResult};

/// The most values one `in` takes (a statement's parameters are limited).
const MAX_VALUES: usize = 1_000;

fn bad() -> AppError {
    AppError::BadRequest("error-filter")
}

/// The condition of one `f.` parameter (`key` without the `f.`), or none for an empty value.
pub fn condition(fs: &Fields, key: &str, raw: &str, tz: &str) -> AppResult<Option<Condition>> {
    let (name, op) = key.split_once('.').unwrap_or((key, "eq"));
    let field = fs.filter_field(name).ok_or_else(bad)?;
    let op: Op = serde_json::from_value(json!(op)).map_err(|_| bad())?;
    if !Op::for_kind(field.kind).contains(&op) {
        return Err(AppError::BadRequest("error-filter-op"));
    }
    if matches!(op, Op::Empty | Op::NotEmpty) {
        return Ok(Some(Condition {
            field,
            op,
            value: Value::Null,
        }));
    }
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let tz: chrono_tz::Tz = tz.parse().unwrap_or(chrono_tz::Asia::Shanghai);
    if op.takes_list() {
        let parts: Vec<&str> = raw
            .split([',', '，'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if op == Op::Between && parts.len() != 2 {
            return Err(AppError::BadRequest("error-filter-between"));
        }
        if parts.len() > MAX_VALUES {
            return Err(AppError::BadRequest("error-filter-too-many"));
        }
        let mut values = vec![];
        for (i, p) in parts.iter().enumerate() {
            // The upper end of a range of days ends with its day.
            let end = op == Op::Between && i == 1;
            values.push(value(field, p, tz, end)?);
        }
        return Ok(Some(Condition {
            field,
            op,
            value: Value::Array(values),
        }));
    }
    if field.kind == FieldKind::DateTime
        && let Some(day) = day(raw)
    {
        // A day against a moment: widen or shift the comparison to the whole day.
        let (start, end) = (at(tz, day, false), at(tz, day, true));
        let (op, value) = match op {
            Op::Eq => (Op::Between, json!([start, end])),
            Op::Gt | Op::Lte => (op, json!(end)),
            _ => (op, json!(start)),
        };
        return Ok(Some(Condition { field, op, value }));
    }
    Ok(Some(Condition {
        field,
        op,
        value: value(field, raw, tz, false)?,
    }))
}

fn day(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// The first (or, with `end`, the last) microsecond of a day in a time zone, in RFC 3339.
fn at(tz: chrono_tz::Tz, day: NaiveDate, end: bool) -> String {
    let local = if end {
        day.succ_opt().unwrap_or(day).and_time(NaiveTime::MIN) - Duration::microseconds(1)
    } else {
        day.and_time(NaiveTime::MIN)
    };
    utc(tz, local).to_rfc3339()
}

fn utc(tz: chrono_tz::Tz, local: NaiveDateTime) -> DateTime<Utc> {
    tz.from_local_datetime(&local)
        .earliest()
        .map_or_else(|| local.and_utc(), |t| t.with_timezone(&Utc))
}

/// One value in the type the store compares the field with.
fn value(f: &FieldDef, s: &str, tz: chrono_tz::Tz, end: bool) -> AppResult<Value> {
    Ok(match f.kind {
        k if k.is_integer() => json!(s.parse::<i64>().map_err(|_| bad())?),
        k if k.is_numeric() => json!(s.parse::<f64>().map_err(|_| bad())?),
        FieldKind::Checkbox => json!(matches!(s, "true" | "1" | "on" | "是")),
        FieldKind::Date => json!(
            day(s)
                .ok_or(AppError::BadRequest("error-filter-date"))?
                .to_string()
        ),
        FieldKind::DateTime => {
            if let Some(d) = day(s) {
                json!(at(tz, d, end))
            } else if let Ok(t) = DateTime::parse_from_rfc3339(s) {
                json!(t.with_timezone(&Utc).to_rfc3339())
            } else if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M") {
                json!(utc(tz, t).to_rfc3339())
            } else {
                return Err(AppError::BadRequest("error-filter-date"));
            }
        }
        _ => json!(s),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use guanxi_core::engine::CUSTOMERS;

    fn cond(key: &str, raw: &str) -> AppResult<Option<Condition>> {
        condition(&Fields::builtin(&CUSTOMERS), key, raw, "Asia/Shanghai")
    }

    #[test]
    fn operators_must_fit_the_kind() {
        assert!(cond("industry.in", "it,finance").is_ok());
        assert!(matches!(
            cond("industry.gt", "it"),
            Err(AppError::BadRequest("error-filter-op"))
        ));
        assert!(matches!(
            cond("score.between", "1"),
            Err(AppError::BadRequest("error-filter-between"))
        ));
        assert!(cond("nope.eq", "1").is_err());
        assert!(cond("name.eq", "  ").is_ok_and(|c| c.is_none()));
    }

    #[test]
    fn lists_and_system_columns() {
        let c = cond("industry.in", "it， finance").ok().flatten();
        assert_eq!(c.map(|c| c.value), Some(json!(["it", "finance"])));
        let c = cond("owner_id.eq", "7").ok().flatten();
        assert_eq!(
            c.map(|c| (c.field.code, c.value)),
            Some(("owner_id", json!(7)))
        );
        assert!(cond("owner_id.eq", "me").is_err());
    }

    #[test]
    fn a_day_against_a_moment_is_the_whole_local_day() {
        let c = cond("created_at.eq", "2026-01-31").ok().flatten();
        let c = c.map(|c| (c.op, c.value));
        assert_eq!(
            c,
            Some((
                Op::Between,
                json!([
                    "2026-01-30T16:00:00+00:00",
                    "2026-01-31T15:59:59.999999+00:00"
                ])
            ))
        );
        let c = cond("created_at.gt", "2026-01-31").ok().flatten();
        assert_eq!(
            c.map(|c| c.value),
            Some(json!("2026-01-31T15:59:59.999999+00:00"))
        );
        let c = cond("created_at.between", "2026-01-01,2026-01-31")
            .ok()
            .flatten();
        assert_eq!(
            c.map(|c| c.value),
            Some(json!([
                "2025-12-31T16:00:00+00:00",
                "2026-01-31T15:59:59.999999+00:00"
            ]))
        );
        assert!(cond("last_follow_up_at.lt", "yesterday").is_err());
    }

    #[test]
    fn counts_stop_at_the_cap() {
        let q = guanxi_store::records::ListQuery::default();
        let p = crate::api::records::counted_page(vec![], Some(1_001), &q);
        assert_eq!((p.count, p.count_more), (Some(1_000), Some(true)));
        let p = crate::api::records::counted_page(vec![], Some(7), &q);
        assert_eq!((p.count, p.count_more), (Some(7), Some(false)));
        let p = crate::api::records::counted_page(vec![], None, &q);
        assert_eq!((p.count, p.count_more), (None, None));
    }
}
