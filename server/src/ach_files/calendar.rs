//! Banking days as the ACH network keeps them: Monday to Friday except the holidays the
//! Federal Reserve Banks close on. The Fed's rule for a holiday on a weekend: on a Sunday the
//! banks close the Monday after; on a Saturday they stay open the Friday before (the Board
//! closes, the Reserve Banks do not), so no banking day is lost.
//!
//! Holidays: New Year's Day, Martin Luther King Jr.'s Birthday (3rd Monday of January),
//! Washington's Birthday (3rd Monday of February), Memorial Day (last Monday of May),
//! Juneteenth (June 19, from 2022), Independence Day, Labor Day (1st Monday of September),
//! Columbus Day (2nd Monday of October), Veterans Day (November 11), Thanksgiving (4th Thursday
//! of November), Christmas Day.

use chrono::{Datelike, Duration, NaiveDate, Weekday};

/// The `n`-th (1-based) `weekday` of a month.
fn nth(year: i32, month: u32, weekday: Weekday, n: u32) -> NaiveDate {
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, n as u8).expect("a valid weekday")
}

/// The last `weekday` of a month.
fn last(year: i32, month: u32, weekday: Weekday) -> NaiveDate {
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    }
    .expect("a valid month");
    let mut d = next - Duration::days(1);
    while d.weekday() != weekday {
        d -= Duration::days(1);
    }
    d
}

/// The holidays of `year` as they fall, before the weekend rule.
fn holidays(year: i32) -> Vec<NaiveDate> {
    let day = |m, d| NaiveDate::from_ymd_opt(year, m, d).expect("a valid date");
    let mut out = vec![
        day(1, 1),
        nth(year, 1, Weekday::Mon, 3),
        nth(year, 2, Weekday::Mon, 3),
        last(year, 5, Weekday::Mon),
        day(7, 4),
        nth(year, 9, Weekday::Mon, 1),
        nth(year, 10, Weekday::Mon, 2),
        day(11, 11),
        nth(year, 11, Weekday::Thu, 4),
        day(12, 25),
    ];
    if year >= 2022 {
        out.push(day(6, 19));
    }
    out
}

/// Whether the Federal Reserve Banks are closed on `d` for a holiday (a Sunday's holiday closes
/// the Monday after).
pub fn is_holiday(d: NaiveDate) -> bool {
    holidays(d.year())
        .into_iter()
        .any(|h| h == d || (h.weekday() == Weekday::Sun && h + Duration::days(1) == d))
}

/// Whether entries settle on `d`.
pub fn is_banking_day(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !is_holiday(d)
}

/// The first banking day after `d`.
pub fn next_banking_day(d: NaiveDate) -> NaiveDate {
    let mut next = d + Duration::days(1);
    while !is_banking_day(next) {
        next += Duration::days(1);
    }
    next
}

/// `n` banking days after `d`.
pub fn banking_days_after(d: NaiveDate, n: u32) -> NaiveDate {
    (0..n).fold(d, |d, _| next_banking_day(d))
}

/// The effective entry date of a file sent on `day`: the next banking day, or `day` itself
/// when it is a banking day and the file makes a same-day window.
pub fn effective_date(day: NaiveDate, same_day: bool) -> NaiveDate {
    if same_day && is_banking_day(day) {
        day
    } else {
        next_banking_day(day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_federal_reserve_holidays_of_2026_and_2027() {
        // As the Federal Reserve publishes them, with the weekend rule applied.
        let closed_2026 = [
            "2026-01-01",
            "2026-01-19",
            "2026-02-16",
            "2026-05-25",
            "2026-06-19",
            "2026-09-07",
            "2026-10-12",
            "2026-11-11",
            "2026-11-26",
            "2026-12-25",
        ];
        let closed_2027 = [
            "2027-01-01",
            "2027-01-18",
            "2027-02-15",
            "2027-05-31",
            "2027-07-05",
            "2027-09-06",
            "2027-10-11",
            "2027-11-11",
            "2027-11-25",
        ];
        for year in [2026, 2027] {
            let expected: Vec<NaiveDate> = closed_2026
                .iter()
                .chain(&closed_2027)
                .map(|s| d(s))
                .filter(|h| h.year() == year)
                .collect();
            let mut found = Vec::new();
            let mut day = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
            while day.year() == year {
                if is_holiday(day) && !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
                    found.push(day);
                }
                day += Duration::days(1);
            }
            assert_eq!(found, expected, "{year}");
        }
    }

    #[test]
    fn a_saturday_holiday_closes_no_banking_day() {
        // Independence Day 2026 and Juneteenth and Christmas 2027 fall on a Saturday.
        assert!(is_banking_day(d("2026-07-03")));
        assert!(is_banking_day(d("2027-06-18")));
        assert!(is_banking_day(d("2027-12-24")));
        // New Year's Day 2028 is a Saturday: December 31, 2027 is a banking day.
        assert!(is_banking_day(d("2027-12-31")));
        // Independence Day 2027 is a Sunday: Monday the 5th is closed.
        assert!(!is_banking_day(d("2027-07-05")));
    }

    #[test]
    fn effective_dates_skip_weekends_and_holidays() {
        // Friday → Monday.
        assert_eq!(effective_date(d("2026-12-04"), false), d("2026-12-07"));
        // Thursday before Christmas 2026 (a Friday) → the Monday after.
        assert_eq!(effective_date(d("2026-12-24"), false), d("2026-12-28"));
        // The Wednesday before Thanksgiving → the Friday.
        assert_eq!(effective_date(d("2026-11-25"), false), d("2026-11-27"));
        // Same day within a window, on a banking day only.
        assert_eq!(effective_date(d("2026-12-07"), true), d("2026-12-07"));
        assert_eq!(effective_date(d("2026-12-05"), true), d("2026-12-07"));
        assert_eq!(effective_date(d("2026-11-26"), true), d("2026-11-27"));
        // Two banking days after a Friday: Tuesday.
        assert_eq!(banking_days_after(d("2026-12-04"), 2), d("2026-12-08"));
        assert_eq!(banking_days_after(d("2026-12-04"), 0), d("2026-12-04"));
    }
}
