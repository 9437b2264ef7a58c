use super::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
}

fn dt(y: i32, m: u32, day: u32, h: u32, min: u32, s: u32) -> NaiveDateTime {
    d(y, m, day)
        .and_hms_opt(h, min, s)
        .expect("valid test time")
}

#[test]
fn iso_and_separator_forms() {
    for s in [
        "2024-01-31",
        "2024/1/31",
        "2024.1.31",
        "2024/01/31",
        " 2024-01-31 ",
    ] {
        assert_eq!(parse_date(s), Some(d(2024, 1, 31)), "{s}");
    }
    assert_eq!(parse_date("2024-1-5"), Some(d(2024, 1, 5)));
}

#[test]
fn chinese_form() {
    assert_eq!(parse_date("2024年1月31日"), Some(d(2024, 1, 31)));
    assert_eq!(parse_date("2024年01月05日"), Some(d(2024, 1, 5)));
    assert_eq!(parse_date("2024年1月"), None);
}

#[test]
fn compact_form() {
    assert_eq!(parse_date("20240131"), Some(d(2024, 1, 31)));
    assert_eq!(parse_date("20241331"), None);
}

#[test]
fn us_month_first_form() {
    assert_eq!(parse_date("1/31/2024"), Some(d(2024, 1, 31)));
    assert_eq!(parse_date("12/5/2024"), Some(d(2024, 12, 5)));
    assert_eq!(parse_date("31/1/2024"), None);
}

#[test]
fn ambiguous_day_first_forms_are_refused() {
    assert_eq!(parse_date("31.01.2024"), None);
    assert_eq!(parse_date("31-01-2024"), None);
    assert_eq!(parse_date("24-01-31"), None);
}

#[test]
fn iso_with_time_keeps_the_written_date() {
    assert_eq!(parse_date("2024-01-31T08:30:15"), Some(d(2024, 1, 31)));
    assert_eq!(parse_date("2024-01-31 23:30"), Some(d(2024, 1, 31)));
    assert_eq!(
        parse_date("2024-01-31T23:30:00+08:00"),
        Some(d(2024, 1, 31))
    );
    assert_eq!(parse_date("2024-01-31 25:00"), None);
    assert_eq!(parse_date("2024-01-31 soon"), None);
}

#[test]
fn excel_serials() {
    assert_eq!(parse_date("45322"), Some(d(2024, 1, 31)));
    assert_eq!(parse_date("45322.75"), Some(d(2024, 1, 31)));
    assert_eq!(parse_date("1"), Some(d(1900, 1, 1)));
    assert_eq!(parse_date("59"), Some(d(1900, 2, 28)));
    assert_eq!(parse_date("60"), None, "Excel's fictitious 1900-02-29");
    assert_eq!(parse_date("61"), Some(d(1900, 3, 1)));
    assert_eq!(parse_date("2958465"), Some(d(9999, 12, 31)));
    assert_eq!(parse_date("2958466"), None);
    assert_eq!(parse_date("0"), None);
}

#[test]
fn invalid_inputs() {
    for s in [
        "",
        "abc",
        "2024-02-30",
        "2024-13-01",
        "2024-01",
        "2024/1-31",
        "-5",
        "1e5",
        "12345678901",
    ] {
        assert_eq!(parse_date(s), None, "{s}");
        assert_eq!(parse_datetime(s), None, "{s}");
    }
}

#[test]
fn datetime_forms() {
    let expected = dt(2024, 1, 31, 8, 30, 0);
    for s in [
        "2024-01-31 08:30",
        "2024/1/31 8:30",
        "2024年1月31日 8:30",
        "2024年1月31日8:30",
        "1/31/2024 8:30",
        "1/31/2024 8:30 AM",
        "2024/1/31 上午 8:30",
    ] {
        assert_eq!(parse_datetime(s), Some(expected), "{s}");
    }
    assert_eq!(
        parse_datetime("2024-01-31 08:30:15"),
        Some(dt(2024, 1, 31, 8, 30, 15))
    );
    assert_eq!(
        parse_datetime("2024-01-31T08:30:15"),
        Some(dt(2024, 1, 31, 8, 30, 15))
    );
    assert_eq!(
        parse_datetime("1/31/2024 12:05 PM"),
        Some(dt(2024, 1, 31, 12, 5, 0))
    );
    assert_eq!(
        parse_datetime("1/31/2024 12:05 am"),
        Some(dt(2024, 1, 31, 0, 5, 0))
    );
    assert_eq!(
        parse_datetime("2024/1/31 下午 3:30"),
        Some(dt(2024, 1, 31, 15, 30, 0))
    );
    assert_eq!(parse_datetime("1/31/2024 13:05 PM"), None);
}

#[test]
fn date_only_is_midnight() {
    assert_eq!(parse_datetime("2024-01-31"), Some(dt(2024, 1, 31, 0, 0, 0)));
    assert_eq!(parse_datetime("20240131"), Some(dt(2024, 1, 31, 0, 0, 0)));
}

#[test]
fn rfc3339_offsets_become_utc() {
    assert_eq!(
        parse_datetime("2024-01-31T08:30:15+08:00"),
        Some(dt(2024, 1, 31, 0, 30, 15))
    );
    assert_eq!(
        parse_datetime("2024-01-31T08:30:15Z"),
        Some(dt(2024, 1, 31, 8, 30, 15))
    );
    assert_eq!(
        parse_datetime("2024-01-31T02:00:00+0800"),
        Some(dt(2024, 1, 30, 18, 0, 0))
    );
    assert_eq!(
        parse_datetime("2024-01-31T22:00:00-05:00"),
        Some(dt(2024, 2, 1, 3, 0, 0))
    );
    let with_fraction = parse_datetime("2024-01-31T08:30:15.250Z").map(|t| t.and_utc());
    assert_eq!(
        with_fraction.map(|t| t.timestamp_subsec_millis()),
        Some(250)
    );
    assert_eq!(parse_datetime("2024-01-31T08:30:15+25:00"), None);
}

#[test]
fn serial_fractions_round_to_the_second() {
    assert_eq!(parse_datetime("45322.75"), Some(dt(2024, 1, 31, 18, 0, 0)));
    assert_eq!(
        parse_datetime("45322.5000001"),
        Some(dt(2024, 1, 31, 12, 0, 0))
    );
    assert_eq!(
        parse_datetime("45322.999999999"),
        Some(dt(2024, 2, 1, 0, 0, 0))
    );
    assert_eq!(parse_datetime("2958465.9999999999"), None);
}

#[test]
fn serial_round_trip() {
    for date in [
        d(1900, 1, 1),
        d(1900, 2, 28),
        d(1900, 3, 1),
        d(2024, 1, 31),
        d(9999, 12, 31),
    ] {
        let serial = date_to_serial(date).expect("in range");
        assert_eq!(serial_to_datetime(serial).map(|t| t.date()), Some(date));
    }
    assert_eq!(date_to_serial(d(2024, 1, 31)), Some(45322.0));
    assert_eq!(date_to_serial(d(1899, 12, 31)), None);
    let noon = dt(2024, 1, 31, 12, 0, 0);
    assert_eq!(datetime_to_serial(noon), Some(45322.5));
}

#[test]
fn the_1904_system() {
    assert_eq!(day_to_date(0, true), Some(d(1904, 1, 1)));
    assert_eq!(day_to_date(43860, true), Some(d(2024, 1, 31)));
}
