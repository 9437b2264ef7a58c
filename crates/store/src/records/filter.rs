//! List filters: the operators that fit each kind of field, and the SQL of one condition.
//! Conditions compare the same expression the expression indexes of custom fields cover
//! ([`crate::custom_fields::expr`]), so a filter on an indexed field reads its index.

use guanxi_core::engine::{FieldDef, FieldKind};
use serde_json::Value;

use super::{Bind, Sql, to_bind};
use crate::Backend;
use crate::custom_fields::expr;

/// Comparison operators of list filters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Eq,
    Ne,
    Contains,
    StartsWith,
    Gt,
    Gte,
    Lt,
    Lte,
    /// One of several values (a JSON list).
    In,
    /// Between two values, both included (a JSON list of two).
    Between,
    Empty,
    NotEmpty,
}

use Op::*;

impl Op {
    /// The operators that fit a kind of field, in the order a filter builder offers them.
    pub fn for_kind(kind: FieldKind) -> &'static [Op] {
        match kind {
            FieldKind::Select
            | FieldKind::User
            | FieldKind::Department
            | FieldKind::Region
            | FieldKind::Relation(_) => &[Eq, Ne, In, Empty, NotEmpty],
            k if k.is_numeric() => &[Eq, Ne, Gt, Gte, Lt, Lte, Between, In, Empty, NotEmpty],
            FieldKind::Date => &[Eq, Ne, Lt, Gt, Lte, Gte, Between, Empty, NotEmpty],
            // A moment is compared with days, where "not on that day" is not one comparison.
            FieldKind::DateTime => &[Eq, Lt, Gt, Lte, Gte, Between, Empty, NotEmpty],
            FieldKind::MultiSelect => &[Contains, Empty, NotEmpty],
            FieldKind::Checkbox => &[Eq],
            _ => &[Eq, Ne, Contains, StartsWith, In, Empty, NotEmpty],
        }
    }

    /// Whether the operator takes a list of values (`in`, `between`).
    pub fn takes_list(self) -> bool {
        matches!(self, In | Between)
    }

    /// The operator's name in URLs (`f.<field>.<op>`) and in messages (`op-<name>`).
    pub fn code(self) -> &'static str {
        match self {
            Eq => "eq",
            Ne => "ne",
            Contains => "contains",
            StartsWith => "starts_with",
            Gt => "gt",
            Gte => "gte",
            Lt => "lt",
            Lte => "lte",
            In => "in",
            Between => "between",
            Empty => "empty",
            NotEmpty => "not_empty",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Condition {
    pub field: &'static FieldDef,
    pub op: Op,
    /// A single value, or a list for `in` and `between`.
    pub value: Value,
}

/// The bind value for comparing a field: typed columns take their type; custom values compare
/// as SQLite's `json_extract` or PostgreSQL's `->>` yields them.
fn bind(backend: Backend, f: &FieldDef, v: &Value) -> Bind {
    if !f.custom {
        return to_bind(f.kind, v).unwrap_or(Bind::Text(None));
    }
    match (f.kind, backend) {
        (k, _) if k.is_integer() => Bind::Int(v.as_i64()),
        (k, _) if k.is_numeric() => Bind::Float(v.as_f64()),
        (FieldKind::Checkbox, Backend::Sqlite) => {
            Bind::Int(Some(i64::from(v.as_bool() == Some(true))))
        }
        (FieldKind::Checkbox, Backend::Postgres) => {
            Bind::Text(Some((v.as_bool() == Some(true)).to_string()))
        }
        _ => Bind::Text(v.as_str().map(str::to_owned)),
    }
}

/// Whether the field holds text, where an empty string counts as empty.
fn textual(kind: FieldKind) -> bool {
    matches!(
        kind,
        FieldKind::Text
            | FieldKind::LongText
            | FieldKind::Phone
            | FieldKind::Email
            | FieldKind::Url
            | FieldKind::CreditCode
    )
}

/// The SQL of one condition over `t`, its values added to `sql`'s binds.
pub(super) fn condition_sql(backend: Backend, c: &Condition, sql: &mut Sql) -> String {
    let f = c.field;
    let col = expr(backend, f);
    let list = || c.value.as_array().cloned().unwrap_or_default();
    match c.op {
        Empty if f.kind == FieldKind::MultiSelect => {
            format!("({col} IS NULL OR {} = 0)", array_length(backend, f))
        }
        NotEmpty if f.kind == FieldKind::MultiSelect => {
            format!("{} > 0", array_length(backend, f))
        }
        Empty if textual(f.kind) => format!("({col} IS NULL OR {col} = '')"),
        NotEmpty if textual(f.kind) => format!("({col} IS NOT NULL AND {col} <> '')"),
        Empty => format!("{col} IS NULL"),
        NotEmpty => format!("{col} IS NOT NULL"),
        Contains if f.kind == FieldKind::MultiSelect => {
            let p = sql.param(Bind::Text(c.value.as_str().map(str::to_owned)));
            match backend {
                Backend::Sqlite => format!(
                    "EXISTS (SELECT 1 FROM json_each(t.custom, '$.{}') j WHERE j.value = {p})",
                    f.code
                ),
                Backend::Postgres => {
                    format!("(t.custom->'{}') @> jsonb_build_array({p}::text)", f.code)
                }
            }
        }
        Contains | StartsWith => {
            let s = c.value.as_str().unwrap_or_default().to_lowercase();
            let pat = if c.op == Contains {
                format!("%{s}%")
            } else {
                format!("{s}%")
            };
            let p = sql.param(Bind::Text(Some(pat)));
            format!("LOWER({col}) LIKE {p}")
        }
        In => {
            let values = list();
            if values.is_empty() {
                return "1 = 0".into();
            }
            let ps: Vec<String> = values
                .iter()
                .map(|v| sql.param(bind(backend, f, v)))
                .collect();
            format!("{col} IN ({})", ps.join(", "))
        }
        Between => {
            let values = list();
            let (Some(lo), Some(hi)) = (values.first(), values.get(1)) else {
                return "1 = 0".into();
            };
            let (lo, hi) = (
                sql.param(bind(backend, f, lo)),
                sql.param(bind(backend, f, hi)),
            );
            format!("({col} >= {lo} AND {col} <= {hi})")
        }
        // "Not X" and "unchecked" include the records that hold nothing.
        Ne => {
            let p = sql.param(bind(backend, f, &c.value));
            format!("({col} IS NULL OR {col} <> {p})")
        }
        Eq if f.kind == FieldKind::Checkbox && c.value.as_bool() != Some(true) => {
            let p = sql.param(bind(backend, f, &Value::Bool(false)));
            format!("({col} IS NULL OR {col} = {p})")
        }
        op => {
            let p = sql.param(bind(backend, f, &c.value));
            let sym = match op {
                Eq => "=",
                Gt => ">",
                Gte => ">=",
                Lt => "<",
                _ => "<=",
            };
            format!("{col} {sym} {p}")
        }
    }
}

/// The number of codes in a multi-select value kept in the `custom` JSON.
fn array_length(backend: Backend, f: &FieldDef) -> String {
    match backend {
        Backend::Sqlite => format!("COALESCE(json_array_length(t.custom, '$.{}'), 0)", f.code),
        Backend::Postgres => format!(
            "(CASE WHEN jsonb_typeof(t.custom->'{0}') = 'array' \
             THEN jsonb_array_length(t.custom->'{0}') ELSE 0 END)",
            f.code
        ),
    }
}
