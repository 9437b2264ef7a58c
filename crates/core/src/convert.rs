//! Input values to stored values, kind by kind: the one conversion that forms, the API, imports
//! and scripts share. Pure: the data it needs from the database (dictionary options, regions,
//! users, departments) is handed in as [`Lookups`], loaded once per request or once per import.

use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};

use crate::engine::{FieldDef, FieldKind, valid_credit_code};
use crate::validate::{self, FieldError};

/// A dictionary option as the conversion sees it.
#[derive(Clone, Debug)]
pub struct Choice {
    pub code: String,
    pub label_zh: String,
    pub label_en: String,
    pub active: bool,
}

/// A user as the conversion sees it (owner columns of an import name users).
#[derive(Clone, Debug)]
pub struct UserRef {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub active: bool,
}

/// What converting values needs to know of the database. Sets that were not loaded are `None`;
/// a value that would need them is refused rather than let through unchecked.
#[derive(Clone, Debug, Default)]
pub struct Lookups {
    pub dictionaries: HashMap<String, Vec<Choice>>,
    pub regions: Option<HashSet<String>>,
    /// Region labels ("广东省 / 深圳市 / 南山区") to codes, for imports of exported files.
    pub region_labels: HashMap<String, String>,
    pub users: Option<Vec<UserRef>>,
    pub departments: Option<HashSet<i64>>,
}

impl Lookups {
    /// The active option whose code or label (either language) is `text`.
    pub fn choice(&self, dictionary: &str, text: &str) -> Option<&Choice> {
        let text = text.trim();
        self.dictionaries
            .get(dictionary)?
            .iter()
            .find(|c| c.code == text || c.label_zh == text || c.label_en.eq_ignore_ascii_case(text))
            .filter(|c| c.active)
    }

    /// An active user by id.
    pub fn user(&self, id: i64) -> Option<&UserRef> {
        self.users.as_ref()?.iter().find(|u| u.id == id && u.active)
    }

    /// An active user by user name or display name (imports name owners).
    pub fn user_named(&self, name: &str) -> Option<&UserRef> {
        let name = name.trim();
        let users = self.users.as_ref()?;
        users
            .iter()
            .find(|u| u.active && u.username.eq_ignore_ascii_case(name))
            .or_else(|| users.iter().find(|u| u.active && u.display_name == name))
    }
}

fn number(f: &FieldDef, v: &Value) -> Result<f64, FieldError> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s
            .trim()
            .replace([',', '，', '¥', '￥'], "")
            .trim_end_matches('%')
            .trim()
            .parse()
            .ok(),
        _ => None,
    }
    .filter(|n: &f64| n.is_finite())
    .ok_or_else(|| FieldError::new(f.code, "error-number"))
}

fn integer(f: &FieldDef, v: &Value) -> Result<i64, FieldError> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| FieldError::new(f.code, "error-integer"))
}

fn text(f: &FieldDef, v: &Value) -> Result<String, FieldError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(FieldError::new(f.code, "error-type")),
    }
}

/// Whether a value counts as "not given".
pub fn is_empty(v: &Value) -> bool {
    v.is_null() || v.as_str().is_some_and(|s| s.trim().is_empty())
}

/// Checks one value against its field and returns the value to store.
pub fn convert(f: &FieldDef, v: &Value, lk: &Lookups) -> Result<Value, FieldError> {
    if is_empty(v) {
        return if f.required {
            Err(FieldError::new(f.code, "error-required"))
        } else {
            Ok(Value::Null)
        };
    }
    let err = |key: &str| FieldError::new(f.code, key);
    Ok(match f.kind {
        FieldKind::Text => json!(validate::required_text(f.code, &text(f, v)?, f.max_len)?),
        FieldKind::LongText => {
            // Long texts may hold line breaks and tabs, not other control characters.
            let s = text(f, v)?;
            if s.chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
            {
                return Err(err("error-control-chars"));
            }
            if s.chars().count() > f.max_len {
                return Err(err("error-too-long").with_arg("max", f.max_len));
            }
            json!(s.trim())
        }
        FieldKind::Phone => {
            let n = validate::normalize_phone(&text(f, v)?);
            let digits = n.trim_start_matches('+');
            if n.len() < 5 || n.len() > 20 || !digits.chars().all(|c| c.is_ascii_digit()) {
                return Err(err("error-phone"));
            }
            json!(n)
        }
        FieldKind::Email => json!(validate::email(f.code, &text(f, v)?)?),
        FieldKind::Url => {
            let s = text(f, v)?.trim().to_owned();
            let s = if s.contains("://") {
                s
            } else {
                format!("https://{s}")
            };
            if !(s.starts_with("http://") || s.starts_with("https://"))
                || s.contains(char::is_whitespace)
                || s.chars().count() > f.max_len
            {
                return Err(err("error-url"));
            }
            json!(s)
        }
        FieldKind::CreditCode => {
            let s = text(f, v)?.trim().to_ascii_uppercase();
            if !valid_credit_code(&s) {
                return Err(err("error-credit-code"));
            }
            json!(s)
        }
        FieldKind::Select => {
            let t = text(f, v)?;
            let c = lk.choice(f.dictionary.unwrap_or_default(), &t);
            json!(
                c.ok_or_else(|| err("error-option").with_arg("value", t.trim()))?
                    .code
            )
        }
        FieldKind::MultiSelect => {
            let items: Vec<String> = match v {
                Value::Array(a) => a
                    .iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect(),
                Value::String(s) => s
                    .split([',', '，', ';', '；', '、'])
                    .map(|x| x.trim().to_owned())
                    .filter(|x| !x.is_empty())
                    .collect(),
                _ => return Err(err("error-type")),
            };
            let mut out: Vec<String> = vec![];
            for t in items {
                let c = lk.choice(f.dictionary.unwrap_or_default(), &t);
                let code = &c
                    .ok_or_else(|| err("error-option").with_arg("value", &t))?
                    .code;
                if !out.contains(code) {
                    out.push(code.clone());
                }
            }
            json!(out)
        }
        FieldKind::Decimal | FieldKind::Percent => json!(number(f, v)?),
        FieldKind::Money => {
            // Money arrives in yuan ("12,345.67") and is kept in cents.
            let cents = (number(f, v)? * 100.0).round();
            if cents.abs() > 9.0e15 {
                return Err(err("error-number"));
            }
            json!(cents as i64)
        }
        FieldKind::Region => {
            let t = text(f, v)?.trim().to_owned();
            let code = match lk.region_labels.get(&t) {
                Some(code) => code.clone(),
                None => t,
            };
            let known = lk.regions.as_ref().is_some_and(|r| r.contains(&code));
            if code.len() > 20 || !known {
                return Err(err("error-region"));
            }
            json!(code)
        }
        FieldKind::User => {
            let id = match integer(f, v) {
                Ok(id) => lk.user(id).map(|u| u.id),
                Err(_) => v.as_str().and_then(|s| lk.user_named(s)).map(|u| u.id),
            };
            json!(id.ok_or_else(|| err("error-user-missing"))?)
        }
        FieldKind::Department => {
            let n = integer(f, v)?;
            if !lk.departments.as_ref().is_some_and(|d| d.contains(&n)) {
                return Err(err("error-department-missing"));
            }
            json!(n)
        }
        FieldKind::Checkbox => match v {
            Value::Bool(b) => json!(b),
            Value::Number(n) if n.as_i64() == Some(1) => json!(true),
            Value::Number(n) if n.as_i64() == Some(0) => json!(false),
            Value::String(s) => match s.trim().to_lowercase().as_str() {
                "true" | "on" | "1" | "yes" | "y" | "是" | "√" => json!(true),
                "false" | "off" | "0" | "no" | "n" | "否" | "×" => json!(false),
                _ => return Err(err("error-type")),
            },
            _ => return Err(err("error-type")),
        },
        FieldKind::Date => {
            let s = text(f, v)?;
            let d = chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                .map_err(|_| err("error-date"))?;
            json!(d.format("%Y-%m-%d").to_string())
        }
        FieldKind::DateTime => {
            let s = text(f, v)?;
            let d =
                chrono::DateTime::parse_from_rfc3339(s.trim()).map_err(|_| err("error-date"))?;
            json!(d.with_timezone(&chrono::Utc).to_rfc3339())
        }
        FieldKind::Integer | FieldKind::Relation(_) => json!(integer(f, v)?),
    })
}
