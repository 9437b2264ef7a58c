//! Validated input values. A failed check names the field and an i18n message key, so the web
//! layer can show it next to the field in the user's language.

use serde::Serialize;

/// One field's problem: `message` is an i18n key, `args` its arguments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
    #[serde(skip)]
    pub args: Vec<(&'static str, String)>,
}

impl FieldError {
    pub fn new(field: &str, message: &str) -> FieldError {
        FieldError {
            field: field.to_owned(),
            message: message.to_owned(),
            args: vec![],
        }
    }

    pub fn with_arg(mut self, name: &'static str, value: impl ToString) -> FieldError {
        self.args.push((name, value.to_string()));
        self
    }
}

/// Collects field errors while a form or JSON body is checked, so the user sees all at once.
#[derive(Debug, Default)]
pub struct Checker {
    pub errors: Vec<FieldError>,
}

impl Checker {
    pub fn push(&mut self, e: FieldError) {
        self.errors.push(e);
    }

    pub fn check<T>(&mut self, r: Result<T, FieldError>) -> Option<T> {
        r.map_err(|e| self.errors.push(e)).ok()
    }

    pub fn finish(self) -> Result<(), Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.errors)
        }
    }
}

fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// A required single-line text of 1..=max characters, trimmed.
pub fn required_text(field: &str, value: &str, max: usize) -> Result<String, FieldError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(FieldError::new(field, "error-required"));
    }
    if char_len(v) > max {
        return Err(FieldError::new(field, "error-too-long").with_arg("max", max));
    }
    if v.chars().any(char::is_control) {
        return Err(FieldError::new(field, "error-control-chars"));
    }
    Ok(v.to_owned())
}

/// An optional text: empty becomes `None`.
pub fn optional_text(field: &str, value: &str, max: usize) -> Result<Option<String>, FieldError> {
    if value.trim().is_empty() {
        Ok(None)
    } else {
        required_text(field, value, max).map(Some)
    }
}

/// User names: 2–32 of letters, digits and `_ . - @`, stored lower-case.
pub fn username(value: &str) -> Result<String, FieldError> {
    let v = value.trim().to_lowercase();
    if v.is_empty() {
        return Err(FieldError::new("username", "error-required"));
    }
    let ok_chars = v
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_.-@".contains(c));
    if !ok_chars || !(2..=32).contains(&v.len()) {
        return Err(FieldError::new("username", "error-username"));
    }
    Ok(v)
}

pub const MIN_PASSWORD_LEN: usize = 8;

pub fn password(field: &str, value: &str) -> Result<String, FieldError> {
    if char_len(value) < MIN_PASSWORD_LEN {
        return Err(
            FieldError::new(field, "error-password-short").with_arg("min", MIN_PASSWORD_LEN)
        );
    }
    if char_len(value) > 128 {
        return Err(FieldError::new(field, "error-too-long").with_arg("max", 128));
    }
    Ok(value.to_owned())
}

/// Normalises a phone number: spaces, dashes and brackets removed, a leading +86 / 0086 dropped.
/// A landline written with the country code gets its trunk 0 back, so `+86 574 8888 1234` and
/// `0574-8888 1234` are the same number (mobiles and 400/800 service numbers have none).
pub fn normalize_phone(value: &str) -> String {
    let digits: String = value
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect();
    let Some(d) = digits
        .strip_prefix("+86")
        .or_else(|| digits.strip_prefix("0086"))
    else {
        return digits;
    };
    let mobile = d.len() == 11 && d.starts_with('1') && d.as_bytes()[1] >= b'3';
    let service = d.len() == 10 && (d.starts_with("400") || d.starts_with("800"));
    if mobile || service || d.starts_with('0') || d.is_empty() {
        d.to_owned()
    } else {
        format!("0{d}")
    }
}

/// A mainland China mobile number (11 digits starting 13–19), optional.
pub fn mobile(field: &str, value: &str) -> Result<Option<String>, FieldError> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    let n = normalize_phone(value);
    let ok = n.len() == 11
        && n.starts_with('1')
        && n.as_bytes()[1].is_ascii_digit()
        && n.as_bytes()[1] >= b'3'
        && n.chars().all(|c| c.is_ascii_digit());
    if ok {
        Ok(Some(n))
    } else {
        Err(FieldError::new(field, "error-mobile"))
    }
}

pub fn email(field: &str, value: &str) -> Result<Option<String>, FieldError> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(None);
    }
    let valid = v.len() <= 254
        && !v.contains(char::is_whitespace)
        && v.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        });
    if valid {
        Ok(Some(v.to_lowercase()))
    } else {
        Err(FieldError::new(field, "error-email"))
    }
}

pub fn time_zone(field: &str, value: &str) -> Result<String, FieldError> {
    let v = value.trim();
    v.parse::<chrono_tz::Tz>()
        .map(|tz| tz.name().to_owned())
        .map_err(|_| FieldError::new(field, "error-time-zone"))
}

pub fn locale(field: &str, value: &str) -> Result<crate::Locale, FieldError> {
    crate::Locale::parse(value).ok_or_else(|| FieldError::new(field, "error-locale"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(username(" Zhang.San ").unwrap(), "zhang.san");
        assert!(username("张三").is_err());
        assert!(username("a").is_err());
        assert!(username("").is_err());
    }

    #[test]
    fn phones_with_the_country_code_keep_their_trunk_zero() {
        for (a, b) in [
            ("+86 574 8888 1234", "0574-8888 1234"),
            ("0086 10 8888 1234", "(010) 8888-1234"),
            ("+86 138 0013 8000", "138-0013-8000"),
            ("+86 400 123 4567", "400-123-4567"),
        ] {
            assert_eq!(normalize_phone(a), normalize_phone(b), "{a} / {b}");
        }
        assert_eq!(normalize_phone("+86 574 8888 1234"), "057488881234");
    }

    #[test]
    fn mobiles_are_normalised() {
        assert_eq!(
            mobile("m", "+86 138-0013-8000").unwrap().as_deref(),
            Some("13800138000")
        );
        assert_eq!(mobile("m", "").unwrap(), None);
        assert!(mobile("m", "12800138000").is_err());
        assert!(mobile("m", "1380013800").is_err());
    }

    #[test]
    fn texts_count_characters_not_bytes() {
        assert!(required_text("n", &"关".repeat(50), 50).is_ok());
        assert!(required_text("n", &"关".repeat(51), 50).is_err());
        assert!(required_text("n", "  ", 50).is_err());
    }

    #[test]
    fn emails_and_zones() {
        assert_eq!(
            email("e", "Li@Example.cn").unwrap().as_deref(),
            Some("li@example.cn")
        );
        assert!(email("e", "li@").is_err());
        assert!(time_zone("tz", "Asia/Shanghai").is_ok());
        assert!(time_zone("tz", "Mars/Olympus").is_err());
    }
}
