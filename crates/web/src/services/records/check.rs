//! Checking record input against the module's fields, kind by kind.

use guanxi_core::Action;
use guanxi_core::engine::{self, FieldDef, FieldKind, Fields};
use guanxi_core::validate::{self, FieldError};
use guanxi_store::records::{self, Values};
use serde_json::{Value, json};

use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

fn number(f: &FieldDef, v: &Value) -> Result<f64, FieldError> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().replace(',', "").trim_end_matches('%').parse().ok(),
        _ => None,
    }
    .filter(|n: &f64| n.is_finite())
    .ok_or_else(|| FieldError::new(f.code, "error-number"))
}

async fn dictionary_code(state: &AppState, f: &FieldDef, code: &str) -> Result<String, FieldError> {
    let items = guanxi_store::dictionary::list(&state.db, f.dictionary.unwrap_or_default())
        .await
        .map_err(|_| FieldError::new(f.code, "error-option"))?;
    // Accept the code or a label in either language (imports and scripts use labels).
    items
        .iter()
        .find(|i| i.code == code || i.label_zh == code || i.label_en.eq_ignore_ascii_case(code))
        .filter(|i| i.active)
        .map(|i| i.code.clone())
        .ok_or_else(|| FieldError::new(f.code, "error-option"))
}

/// Checks one value against its field; returns the value to store.
async fn check_value(state: &AppState, f: &FieldDef, v: &Value) -> Result<Value, FieldError> {
    let text = |v: &Value| -> Result<String, FieldError> {
        match v {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            _ => Err(FieldError::new(f.code, "error-type")),
        }
    };
    let empty = v.is_null() || v.as_str().is_some_and(|s| s.trim().is_empty());
    if empty {
        return if f.required {
            Err(FieldError::new(f.code, "error-required"))
        } else {
            Ok(Value::Null)
        };
    }
    Ok(match f.kind {
        FieldKind::Text | FieldKind::LongText => json!(
            validate::required_text(f.code, &text(v)?, f.max_len).or_else(|e| {
                // Long texts may hold line breaks.
                if f.kind == FieldKind::LongText && e.message == "error-control-chars" {
                    let s = text(v)?;
                    if s.chars().count() > f.max_len {
                        Err(FieldError::new(f.code, "error-too-long").with_arg("max", f.max_len))
                    } else {
                        Ok(s.trim().to_owned())
                    }
                } else {
                    Err(e)
                }
            })?
        ),
        FieldKind::Phone => {
            let n = validate::normalize_phone(&text(v)?);
            if n.len() < 5
                || n.len() > 20
                || !n
                    .trim_start_matches('+')
                    .chars()
                    .all(|c| c.is_ascii_digit())
            {
                return Err(FieldError::new(f.code, "error-phone"));
            }
            json!(n)
        }
        FieldKind::Email => json!(validate::email(f.code, &text(v)?)?),
        FieldKind::Url => {
            let s = text(v)?.trim().to_owned();
            let s = if s.contains("://") {
                s
            } else {
                format!("https://{s}")
            };
            if !(s.starts_with("http://") || s.starts_with("https://"))
                || s.contains(char::is_whitespace)
                || s.len() > f.max_len
            {
                return Err(FieldError::new(f.code, "error-url"));
            }
            json!(s)
        }
        FieldKind::CreditCode => {
            let s = text(v)?.trim().to_ascii_uppercase();
            if !engine::valid_credit_code(&s) {
                return Err(FieldError::new(f.code, "error-credit-code"));
            }
            json!(s)
        }
        FieldKind::Select => json!(dictionary_code(state, f, &text(v)?).await?),
        FieldKind::MultiSelect => {
            let codes: Vec<String> = match v {
                Value::Array(a) => a
                    .iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect(),
                Value::String(s) => s
                    .split([',', '，', ';'])
                    .map(|x| x.trim().to_owned())
                    .filter(|x| !x.is_empty())
                    .collect(),
                _ => return Err(FieldError::new(f.code, "error-type")),
            };
            let mut out = vec![];
            for c in codes {
                let code = dictionary_code(state, f, &c).await?;
                if !out.contains(&code) {
                    out.push(code);
                }
            }
            json!(out)
        }
        FieldKind::Decimal | FieldKind::Percent => json!(number(f, v)?),
        FieldKind::Money => {
            // Money arrives in yuan ("12,345.67") and is kept in cents.
            let yuan = number(f, v)?;
            json!((yuan * 100.0).round() as i64)
        }
        FieldKind::Region => {
            let code = text(v)?.trim().to_owned();
            if code.len() > 20 || guanxi_store::regions::get(&state.db, &code).await.is_err() {
                return Err(FieldError::new(f.code, "error-region"));
            }
            json!(code)
        }
        FieldKind::User => {
            let n = integer(f, v)?;
            let ok = guanxi_store::users::credentials_by_id(&state.db, n)
                .await
                .is_ok_and(|u| u.is_active);
            if !ok {
                return Err(FieldError::new(f.code, "error-user-missing"));
            }
            json!(n)
        }
        FieldKind::Department => {
            let n = integer(f, v)?;
            if guanxi_store::departments::get(&state.db, n).await.is_err() {
                return Err(FieldError::new(f.code, "error-department-missing"));
            }
            json!(n)
        }
        FieldKind::Checkbox => match v {
            Value::Bool(b) => json!(b),
            Value::String(s) if ["true", "on", "1", "是"].contains(&s.as_str()) => json!(true),
            Value::String(s) if ["false", "off", "0", "否"].contains(&s.as_str()) => json!(false),
            _ => return Err(FieldError::new(f.code, "error-type")),
        },
        FieldKind::Date => {
            let s = text(v)?;
            let d = chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                .map_err(|_| FieldError::new(f.code, "error-date"))?;
            json!(d.format("%Y-%m-%d").to_string())
        }
        FieldKind::DateTime => {
            let s = text(v)?;
            let d = chrono::DateTime::parse_from_rfc3339(s.trim())
                .map_err(|_| FieldError::new(f.code, "error-date"))?;
            json!(d.with_timezone(&chrono::Utc).to_rfc3339())
        }
        FieldKind::Integer | FieldKind::Relation(_) => json!(integer(f, v)?),
    })
}

fn integer(f: &FieldDef, v: &Value) -> Result<i64, FieldError> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| FieldError::new(f.code, "error-integer"))
}

/// Validates an input object: unknown and read-only fields are refused; on create every
/// required field must be present.
pub async fn check(
    state: &AppState,
    auth: &Auth,
    fs: &Fields,
    input: &Values,
    create: bool,
) -> AppResult<Values> {
    let mut errors = vec![];
    let mut out = Values::new();
    for (k, v) in input {
        match fs.field(k) {
            Some(f) if !f.read_only => match check_value(state, f, v).await {
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
