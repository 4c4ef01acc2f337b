//! Formatting shared by every screen: counts, dates, ranges.

use chrono::NaiveDate;

/// Inserts a comma every three digits of a run of ASCII digits: `1234567` → `1,234,567`.
pub fn group_thousands(digits: &str) -> String {
    let len = digits.len();
    let mut out = String::with_capacity(len + len / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (len - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// A count with thousands separators.
pub fn count(n: i64) -> String {
    let grouped = group_thousands(&n.unsigned_abs().to_string());
    if n < 0 {
        format!("-{grouped}")
    } else {
        grouped
    }
}

/// `Nov 25, 2026`.
pub fn date(d: NaiveDate) -> String {
    d.format("%b %-d, %Y").to_string()
}

/// `1–50 of 1,234` for a page of a list; `0 of 0` when empty.
pub fn range_of(offset: i64, shown: i64, total: i64, total_is: crate::page::Total) -> String {
    if shown == 0 {
        return format!("0 of {}", total_is.describe(total));
    }
    format!(
        "{}–{} of {}",
        count(offset + 1),
        count(offset + shown),
        total_is.describe(total)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_digits() {
        assert_eq!(group_thousands("0"), "0");
        assert_eq!(group_thousands("999"), "999");
        assert_eq!(group_thousands("1000"), "1,000");
        assert_eq!(group_thousands("1234567"), "1,234,567");
        assert_eq!(count(-12345), "-12,345");
    }

    #[test]
    fn formats_dates_like_the_ui() {
        assert_eq!(
            date(NaiveDate::from_ymd_opt(2026, 11, 5).unwrap()),
            "Nov 5, 2026"
        );
        assert_eq!(
            date(NaiveDate::from_ymd_opt(2026, 1, 25).unwrap()),
            "Jan 25, 2026"
        );
    }

    #[test]
    fn formats_ranges() {
        use crate::page::Total;
        assert_eq!(range_of(0, 50, 1234, Total::Exact), "1–50 of 1,234");
        assert_eq!(
            range_of(1200, 34, 1234, Total::Exact),
            "1,201–1,234 of 1,234"
        );
        assert_eq!(range_of(0, 0, 0, Total::Exact), "0 of 0");
        assert_eq!(range_of(50, 50, 1000, Total::AtLeast), "51–100 of 1,000+");
        assert_eq!(
            range_of(0, 50, 100_040, Total::About),
            "1–50 of about 100,040"
        );
    }
}
