//! Dates and times as people type them into spreadsheets, and Excel's serial numbers.
//!
//! Imported files come from Excel and WPS on Chinese and English Windows, from other CRMs and
//! from hand-typed sheets, so one column can hold `2024-01-31`, `2024/1/31`, `2024年1月31日`,
//! `1/31/2024` and the raw serial `45322` side by side. The parsers here accept exactly those
//! unambiguous forms and refuse the rest: `31.01.2024` or `01/02/2024` in day-first order
//! cannot be told apart from month-first order, and a wrong date is worse than an error the user
//! can fix.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime};

/// The last serial Excel can show as a date: 9999-12-31.
pub const MAX_SERIAL: f64 = 2_958_465.0;

const SECONDS_PER_DAY: i64 = 86_400;

/// What may separate a date from its time: space, tab and the full-width space of Chinese IMEs.
const SPACES: [char; 3] = [' ', '\t', '\u{3000}'];

/// Parses a calendar date; a time part, if present, must be valid and is dropped.
///
/// With an offset (`2024-01-31T23:30:00+08:00`) the date is the one written, not the UTC one:
/// a date column means the day the user typed.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    if let Some(serial) = parse_serial(s) {
        return serial_to_datetime(serial.floor()).map(|dt| dt.date());
    }
    let (date, rest) = parse_date_prefix(s)?;
    if !rest.is_empty() {
        parse_time_suffix(rest)?;
    }
    Some(date)
}

/// Parses a date with an optional time of day; a bare date means midnight.
///
/// A UTC offset is applied, so the result is UTC; without one the time is taken as written.
/// Excel serials with fractions are rounded to the second, as Excel itself displays them.
pub fn parse_datetime(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    if let Some(serial) = parse_serial(s) {
        return serial_to_datetime(serial);
    }
    let (date, rest) = parse_date_prefix(s)?;
    if rest.is_empty() {
        return date.and_hms_opt(0, 0, 0);
    }
    let (time, offset_seconds) = parse_time_suffix(rest)?;
    date.and_time(time)
        .checked_sub_signed(Duration::seconds(i64::from(offset_seconds)))
}

/// Converts an Excel serial in the 1900 date system to a date and time, rounded to the second.
///
/// Excel counts 1900-02-29, a day that never existed (serial 60), so serials before it are one
/// day off from a plain day count. Serial 60 itself has no real date and gives `None`; the
/// accepted range is `1.0 ..< 2958466.0` (1900-01-01 to the end of 9999-12-31).
pub fn serial_to_datetime(serial: f64) -> Option<NaiveDateTime> {
    if !(1.0..MAX_SERIAL + 1.0).contains(&serial) {
        return None;
    }
    let (days, seconds) = split_serial(serial)?;
    let date = day_to_date(days, false)?;
    let time = NaiveTime::from_num_seconds_from_midnight_opt(seconds, 0)?;
    Some(date.and_time(time))
}

/// Converts a date to the Excel 1900-system serial, or `None` before 1900-01-01 or after
/// 9999-12-31 where Excel has no dates.
pub fn date_to_serial(date: NaiveDate) -> Option<f64> {
    let first = NaiveDate::from_ymd_opt(1900, 1, 1)?;
    let last = NaiveDate::from_ymd_opt(9999, 12, 31)?;
    if date < first || date > last {
        return None;
    }
    let march_first = NaiveDate::from_ymd_opt(1900, 3, 1)?;
    // Dates from 1900-03-01 on are counted past the fictitious 1900-02-29.
    let epoch = if date >= march_first {
        NaiveDate::from_ymd_opt(1899, 12, 30)?
    } else {
        NaiveDate::from_ymd_opt(1899, 12, 31)?
    };
    // At most ~3 million days: exact in an f64.
    Some(date.signed_duration_since(epoch).num_days() as f64)
}

/// Converts a date and time to an Excel serial (see [`date_to_serial`]).
pub fn datetime_to_serial(datetime: NaiveDateTime) -> Option<f64> {
    let day = date_to_serial(datetime.date())?;
    let seconds = datetime.time().signed_duration_since(NaiveTime::MIN);
    let fraction = seconds.num_milliseconds() as f64 / (SECONDS_PER_DAY as f64 * 1000.0);
    Some(day + fraction)
}

/// Splits a non-negative serial into whole days and seconds past midnight, rounding to the
/// nearest second first so that 0.99999999 of a day becomes the next midnight.
pub(crate) fn split_serial(serial: f64) -> Option<(i64, u32)> {
    if !(0.0..=MAX_SERIAL + 1.0).contains(&serial) {
        return None;
    }
    // Bounded above, so the product fits an i64 with room to spare.
    let total = (serial * SECONDS_PER_DAY as f64).round() as i64;
    let seconds = u32::try_from(total.rem_euclid(SECONDS_PER_DAY)).ok()?;
    Some((total.div_euclid(SECONDS_PER_DAY), seconds))
}

/// The date of whole-day serial `days`; `None` for day 0, Excel's fictitious 1900-02-29 (day 60
/// in the 1900 system) and anything past 9999-12-31.
pub(crate) fn day_to_date(days: i64, is_1904: bool) -> Option<NaiveDate> {
    let (epoch, offset) = if is_1904 {
        ((1904, 1, 1), days)
    } else {
        match days {
            1..=59 => ((1899, 12, 31), days),
            61.. => ((1899, 12, 30), days),
            _ => return None,
        }
    };
    let date = NaiveDate::from_ymd_opt(epoch.0, epoch.1, epoch.2)?
        .checked_add_signed(Duration::days(offset))?;
    (date.year() <= 9999).then_some(date)
}

/// A bare Excel serial: one to seven digits, optionally with a fraction. Eight digits are a
/// `yyyymmdd` date, never a serial.
fn parse_serial(s: &str) -> Option<f64> {
    let (whole, fraction) = match s.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (s, None),
    };
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if whole.len() > 7 || !digits(whole) || fraction.is_some_and(|f| !digits(f)) {
        return None;
    }
    s.parse::<f64>().ok()
}

/// Parses the date at the start of `s` and returns it with the unparsed rest, which is empty
/// or starts a time part.
fn parse_date_prefix(s: &str) -> Option<(NaiveDate, &str)> {
    let mut c = Scanner::new(s);
    let first = c.digits(1, 8)?;
    let mut chinese = false;
    let (year, month, day) = if first.len == 8 && c.at_time_boundary() {
        // yyyymmdd
        (
            first.value / 10_000,
            first.value / 100 % 100,
            first.value % 100,
        )
    } else if first.len == 4 && c.eat("年") {
        let month = c.digits(1, 2)?.value;
        if !c.eat("月") {
            return None;
        }
        let day = c.digits(1, 2)?.value;
        c.eat("日");
        chinese = true;
        (first.value, month, day)
    } else {
        let separator = c.one_of(&['-', '/', '.'])?;
        let second = c.digits(1, 2)?;
        if !c.eat_char(separator) {
            return None;
        }
        let third = c.digits(1, 4)?;
        match (first.len, third.len, separator) {
            (4, 1..=2, _) => (first.value, second.value, third.value),
            // m/d/yyyy is what Excel writes with an en-US locale; d.m.yyyy and d-m-yyyy are
            // refused as ambiguous.
            (1..=2, 4, '/') => (third.value, first.value, second.value),
            _ => return None,
        }
    };
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    let rest = c.rest();
    let rest = if rest.is_empty() || chinese {
        // Only the Chinese form may run straight into the time ("2024年1月31日8:30").
        rest.trim_start_matches(SPACES)
    } else if let Some(time) = rest.strip_prefix('T') {
        time
    } else if rest.starts_with(SPACES) {
        rest.trim_start_matches(SPACES)
    } else {
        return None;
    };
    Some((date, rest))
}

/// Parses `H:MM[:SS[.fff]]` with an optional AM/PM or 上午/下午 marker and UTC offset, and
/// returns the time with the offset in seconds east of UTC.
fn parse_time_suffix(s: &str) -> Option<(NaiveTime, i32)> {
    let (meridiem_prefix, s) = if let Some(rest) = s.strip_prefix("上午") {
        (Some(false), rest.trim_start())
    } else if let Some(rest) = s.strip_prefix("下午") {
        (Some(true), rest.trim_start())
    } else {
        (None, s)
    };
    let mut c = Scanner::new(s);
    let mut hour = c.digits(1, 2)?.value;
    if !c.eat(":") {
        return None;
    }
    let minute = c.digits(1, 2)?.value;
    let mut second = 0;
    let mut nanos = 0;
    if c.eat(":") {
        second = c.digits(1, 2)?.value;
        if c.eat(".") || c.eat(",") {
            let fraction = c.digits(1, 9)?;
            nanos = fraction.value * 10u32.pow(9 - u32::try_from(fraction.len).ok()?);
        }
    }
    let rest = c.rest().trim_start();
    let (meridiem, rest) = match meridiem_prefix {
        Some(pm) => (Some(pm), rest),
        None => split_meridiem(rest),
    };
    if let Some(pm) = meridiem {
        if !(1..=12).contains(&hour) {
            return None;
        }
        hour = hour % 12 + if pm { 12 } else { 0 };
    }
    let offset = parse_offset(rest.trim())?;
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?;
    Some((time, offset))
}

/// Splits a leading AM/PM marker off `s`: `(Some(is_pm), rest)`.
fn split_meridiem(s: &str) -> (Option<bool>, &str) {
    let upper = s.get(..2).map(str::to_ascii_uppercase);
    match upper.as_deref() {
        Some("AM") => (Some(false), &s[2..]),
        Some("PM") => (Some(true), &s[2..]),
        _ => (None, s),
    }
}

/// Parses `""`, `Z`, `+08:00`, `+0800` or `+08` into seconds east of UTC.
fn parse_offset(s: &str) -> Option<i32> {
    if s.is_empty() {
        return Some(0);
    }
    if s == "Z" || s == "z" {
        return Some(0);
    }
    let (sign, digits) = if let Some(rest) = s.strip_prefix('+') {
        (1, rest)
    } else {
        (-1, s.strip_prefix('-')?)
    };
    let digits = match digits.split_once(':') {
        Some((hours, minutes)) if hours.len() == 2 && minutes.len() == 2 => {
            format!("{hours}{minutes}")
        }
        Some(_) => return None,
        None => digits.to_owned(),
    };
    if !matches!(digits.len(), 2 | 4) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits
        .get(2..)
        .filter(|m| !m.is_empty())
        .map_or(Ok(0), str::parse)
        .ok()?;
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some(sign * (hours * 3600 + minutes * 60))
}

/// A run of ASCII digits: its value and how many digits it had (leading zeros count).
struct Digits {
    value: u32,
    len: usize,
}

/// A forward-only cursor over a string, just enough for the date grammar above.
struct Scanner<'a> {
    rest: &'a str,
}

impl<'a> Scanner<'a> {
    fn new(s: &'a str) -> Self {
        Self { rest: s }
    }

    fn rest(&self) -> &'a str {
        self.rest
    }

    /// Reads `min..=max` digits; more digits than `max` fail rather than split a number.
    fn digits(&mut self, min: usize, max: usize) -> Option<Digits> {
        let len = self.rest.bytes().take_while(u8::is_ascii_digit).count();
        if len < min || len > max {
            return None;
        }
        let value = self.rest[..len].parse().ok()?;
        self.rest = &self.rest[len..];
        Some(Digits { value, len })
    }

    fn eat(&mut self, token: &str) -> bool {
        match self.rest.strip_prefix(token) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    fn eat_char(&mut self, token: char) -> bool {
        match self.rest.strip_prefix(token) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    fn one_of(&mut self, tokens: &[char]) -> Option<char> {
        let first = self.rest.chars().next()?;
        if tokens.contains(&first) {
            self.rest = &self.rest[first.len_utf8()..];
            Some(first)
        } else {
            None
        }
    }

    /// True at the end of the input or where a time part may start.
    fn at_time_boundary(&self) -> bool {
        self.rest.is_empty() || self.rest.starts_with('T') || self.rest.starts_with(SPACES)
    }
}

#[cfg(test)]
#[path = "dates_tests.rs"]
mod tests;
