//! Writing exports and import templates that open cleanly in Excel and WPS.
//!
//! Every text cell an export writes is user data, and a spreadsheet program executes cells
//! that look like formulas. So all writers pass text through [`neutralise`] (OWASP's "CSV
//! injection" defence) and no writer takes a formula.

mod csv;
mod template;
mod xlsx;

use std::borrow::Cow;

pub use csv::{CsvWriter, template_csv};
pub use template::{TemplateColumn, write_template};
pub use xlsx::{Cell, MAX_DATA_ROWS, XlsxError, XlsxWriter};

/// Prefixes `'` to a cell that a spreadsheet would run as a formula: one starting with `=`,
/// `+`, `-`, `@`, tab or CR.
///
/// Plain numbers keep their sign, so `-12.5`, `-3` and the phone number `+8613800138000` stay
/// as they are; `=1+2`, `-2+3`, `@SUM(A1)` and `+A1` get the quote.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    let Some(first) = cell.chars().next() else {
        return Cow::Borrowed(cell);
    };
    let risky = matches!(first, '=' | '+' | '-' | '@' | '\t' | '\r');
    if !risky || (matches!(first, '+' | '-') && is_plain_number(&cell[1..])) {
        Cow::Borrowed(cell)
    } else {
        Cow::Owned(format!("'{cell}"))
    }
}

/// Undoes [`neutralise`] on a cell read back from a file (an export re-imported): `'=1+2` is
/// `=1+2` again. Only the quote `neutralise` would have added goes: `'abc` and `'123` stay.
pub fn unneutralise(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if neutralise(rest).len() == cell.len() => rest,
        _ => cell,
    }
}

/// Digits with at most one decimal point and at least one digit: nothing a formula needs.
fn is_plain_number(s: &str) -> bool {
    let mut digits = 0;
    let mut points = 0;
    for b in s.bytes() {
        match b {
            b'0'..=b'9' => digits += 1,
            b'.' => points += 1,
            _ => return false,
        }
    }
    digits > 0 && points <= 1
}

/// Display width of `text` in Excel's column units, counting CJK and other wide characters
/// as two: a column sized by `len()` would cut Chinese labels short.
pub(crate) fn display_width(text: &str) -> usize {
    text.chars()
        .map(|c| if (c as u32) >= 0x1100 { 2 } else { 1 })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neutralises_formulas_only() {
        for (input, expected) in [
            ("=1+2", "'=1+2"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("+A1", "'+A1"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("-", "'-"),
            ("+", "'+"),
            ("-1.2.3", "'-1.2.3"),
            ("-12.5", "-12.5"),
            ("-3", "-3"),
            ("+8613800138000", "+8613800138000"),
            ("张三", "张三"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(neutralise(input), expected, "{input:?}");
            assert_eq!(unneutralise(&neutralise(input)), input, "{input:?}");
        }
        for kept in ["'abc", "'123", "'-3", "'", "''=1", "'张三"] {
            assert_eq!(unneutralise(kept), kept);
        }
    }

    #[test]
    fn wide_characters_count_double() {
        assert_eq!(display_width("abc"), 3);
        assert_eq!(display_width("客户"), 4);
    }
}
