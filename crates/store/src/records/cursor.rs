//! Keyset positions of sorted lists: the sort key of a field, the cursor after a record, and
//! the bind value a cursor compares with the key (NULL sorts as '', 0, -1 or 0001-01-01, the
//! same on both databases, so pages never skip or repeat a row).

use chrono::NaiveDate;
use guanxi_core::engine::{FieldDef, FieldKind};
use serde_json::{Value, json};

use super::{Bind, Record, to_bind};
use crate::Backend;

/// Keyset position: the sort value and id of the last row of the previous page.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Cursor {
    pub value: Value,
    pub id: i64,
}

pub(super) fn sort_expr(backend: Backend, f: Option<&FieldDef>) -> String {
    match f {
        None => "t.id".into(),
        Some(f) => crate::custom_fields::sort_key(backend, f),
    }
}

pub(super) fn cursor_bind(backend: Backend, f: Option<&FieldDef>, v: &Value) -> Bind {
    let empty = v.is_null() || v.as_str() == Some("");
    match f {
        // Typed date columns (see `custom_fields::sort_key`): on PostgreSQL the empty value
        // is the sentinel date; SQLite stores the text sqlx writes and sorts '' first.
        Some(f) if !f.custom && matches!(f.kind, FieldKind::Date | FieldKind::DateTime) => {
            match (backend, f.kind, empty) {
                (Backend::Sqlite, _, true) => Bind::Text(Some(String::new())),
                (Backend::Postgres, FieldKind::Date, true) => {
                    Bind::Date(NaiveDate::from_ymd_opt(1, 1, 1))
                }
                (Backend::Postgres, _, true) => Bind::Time(
                    NaiveDate::from_ymd_opt(1, 1, 1)
                        .and_then(|d| d.and_hms_opt(0, 0, 0))
                        .map(|t| t.and_utc()),
                ),
                _ => to_bind(f.kind, v).unwrap_or(Bind::Text(None)),
            }
        }
        Some(f) if f.kind.is_integer() => Bind::Int(Some(v.as_i64().unwrap_or_default())),
        Some(f) if f.kind.is_numeric() => Bind::Float(Some(v.as_f64().unwrap_or_default())),
        // Checkboxes sort as 1, 0 and -1 for empty (see `custom_fields::sort_key`).
        Some(f) if f.kind == FieldKind::Checkbox => {
            Bind::Int(Some(v.as_bool().map_or(-1, i64::from)))
        }
        // A multi-select sorts by the text of its JSON list, as the database writes it.
        Some(f) if f.kind == FieldKind::MultiSelect => Bind::Text(Some(match v.as_array() {
            Some(items) => crate::custom_fields::list_text(backend, items),
            None => String::new(),
        })),
        Some(_) => Bind::Text(Some(v.as_str().unwrap_or_default().to_owned())),
        None => Bind::Int(Some(v.as_i64().unwrap_or_default())),
    }
}

/// The cursor after a record, for the next page of a list sorted by `sort`.
pub fn cursor_of(r: &Record, sort: Option<&FieldDef>) -> Cursor {
    let value = match sort {
        None => None,
        Some(f) if f.system => Some(match f.code {
            "id" => json!(r.id),
            "owner_id" => json!(r.owner_id),
            "department_id" => json!(r.department_id),
            "created_by" => json!(r.created_by),
            "updated_by" => json!(r.updated_by),
            "created_at" => json!(r.created_at),
            _ => json!(r.updated_at),
        }),
        Some(f) => r.values.get(f.code).cloned(),
    };
    cursor_after(r.id, sort, value)
}

/// The cursor after the record `id` whose sort field holds `value` (as a [`Record`] holds it):
/// an empty value becomes the key's empty value.
pub(super) fn cursor_after(id: i64, sort: Option<&FieldDef>, value: Option<Value>) -> Cursor {
    let value = match (sort, value) {
        (None, _) => json!(id),
        (Some(f), v) if f.system => v.filter(|v| !v.is_null()).unwrap_or(json!(0)),
        (Some(f), Some(Value::Null) | None) if f.kind.is_integer() => json!(0),
        (Some(_), Some(Value::Null) | None) => json!(""),
        (Some(_), Some(v)) => v,
    };
    Cursor { value, id }
}
