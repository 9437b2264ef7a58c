//! Worksheet cell values as the text an importer compares and stores.
//!
//! The rules aim at what the user sees in Excel, not at the stored representation: a phone
//! number typed into a numeric cell is `13800138000`, not `1.3800138e10`; a date-formatted
//! cell is `2024-01-31`, not the serial `45322`; an `#N/A` is an empty cell.

use calamine::DataRef;

use crate::dates::{day_to_date, parse_datetime, split_serial};

/// The text of one cell; `is_1904` is the workbook's date system.
pub(crate) fn cell_text(value: DataRef<'_>, is_1904: bool) -> String {
    match value {
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => number_text(f),
        DataRef::String(s) | DataRef::DurationIso(s) => s,
        DataRef::SharedString(s) => s.to_owned(),
        DataRef::Bool(true) => "TRUE".to_owned(),
        DataRef::Bool(false) => "FALSE".to_owned(),
        DataRef::DateTime(dt) if dt.is_duration() => duration_text(dt.as_f64()),
        DataRef::DateTime(dt) => serial_text(dt.as_f64(), is_1904),
        DataRef::DateTimeIso(s) => iso_text(s),
        DataRef::Error(_) | DataRef::Empty => String::new(),
    }
}

/// Integers without a fraction (up to 2^53, where every integer is exact), anything else in
/// the shortest form that reads back to the same number.
pub(crate) fn number_text(f: f64) -> String {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if f.fract() == 0.0 && f.abs() <= EXACT {
        // Exact: an integral value of at most 2^53 converts without rounding.
        (f as i64).to_string()
    } else if f.is_finite() {
        f.to_string()
    } else {
        String::new()
    }
}

/// A date-formatted serial as `YYYY-MM-DD`, with ` HH:MM:SS` when it has a time part, or
/// `HH:MM:SS` alone for a time-only cell (serial below 1).
fn serial_text(serial: f64, is_1904: bool) -> String {
    let Some((days, seconds)) = split_serial(serial) else {
        return number_text(serial);
    };
    let time = format!(
        "{:02}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    );
    if days == 0 {
        return time;
    }
    let date = if days == 60 && !is_1904 {
        // Excel shows its fictitious leap day; so do we, rather than a neighbouring date.
        "1900-02-29".to_owned()
    } else {
        match day_to_date(days, is_1904) {
            Some(date) => date.format("%Y-%m-%d").to_string(),
            None => return number_text(serial),
        }
    };
    if seconds == 0 {
        date
    } else {
        format!("{date} {time}")
    }
}

/// A duration (`[h]:mm:ss` format) as hours, minutes and seconds; hours may exceed 24.
fn duration_text(days: f64) -> String {
    if !days.is_finite() || days.abs() > 1e9 {
        return number_text(days);
    }
    // Bounded above, so the product fits an i64.
    let total = (days * 86_400.0).round() as i64;
    let sign = if total < 0 { "-" } else { "" };
    let total = total.unsigned_abs();
    format!(
        "{sign}{}:{:02}:{:02}",
        total / 3600,
        total / 60 % 60,
        total % 60
    )
}

/// An ISO 8601 date cell (`t="d"`) in the same form as serial dates.
fn iso_text(s: String) -> String {
    match parse_datetime(&s) {
        Some(dt) if dt.time() == chrono::NaiveTime::MIN => dt.format("%Y-%m-%d").to_string(),
        Some(dt) => dt.format("%Y-%m-%d %H:%M:%S").to_string(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(number_text(13_800_138_000.0), "13800138000");
        assert_eq!(number_text(-3.0), "-3");
        assert_eq!(number_text(-0.0), "0");
        assert_eq!(number_text(12.5), "12.5");
        assert_eq!(number_text(0.1), "0.1");
        assert_eq!(number_text(f64::NAN), "");
    }

    #[test]
    fn serials() {
        assert_eq!(serial_text(45322.0, false), "2024-01-31");
        assert_eq!(serial_text(45322.75, false), "2024-01-31 18:00:00");
        assert_eq!(serial_text(0.5, false), "12:00:00");
        assert_eq!(serial_text(60.0, false), "1900-02-29");
        assert_eq!(serial_text(43860.0, true), "2024-01-31");
        assert_eq!(serial_text(-1.0, false), "-1");
    }

    #[test]
    fn durations() {
        assert_eq!(duration_text(1.5), "36:00:00");
        assert_eq!(duration_text(-0.25), "-6:00:00");
    }

    #[test]
    fn iso_dates() {
        assert_eq!(iso_text("2024-01-31T00:00:00".into()), "2024-01-31");
        assert_eq!(
            iso_text("2024-01-31T08:30:00".into()),
            "2024-01-31 08:30:00"
        );
        assert_eq!(iso_text("08:30:00".into()), "08:30:00");
    }
}
