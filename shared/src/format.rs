//! Formatting shared by every screen: counts, dates, ranges.

use chrono::NaiveDate;

/// The query string of a request's fields as typed, empty ones left out (`as_of=…&q=…`).
pub fn query_string(fields: &[(&str, &Option<String>)]) -> String {
    fields
        .iter()
        .filter_map(|(k, v)| {
            v.as_deref()
                .filter(|v| !v.is_empty())
                .map(|v| format!("{k}={}", url_encode(v)))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A day typed as `YYYY-MM-DD` for `field` (none when empty), refused at the field otherwise.
pub fn parse_day(field: &str, raw: Option<&str>) -> Result<Option<NaiveDate>, crate::FieldError> {
    match raw {
        None | Some("") => Ok(None),
        Some(r) => Some(r)
            .filter(|r| r.len() == 10)
            .and_then(|r| NaiveDate::parse_from_str(r, "%Y-%m-%d").ok())
            .map(Some)
            .ok_or_else(|| {
                crate::FieldError::new(field, "Enter the day as YYYY-MM-DD, e.g. 2026-11-30.")
            }),
    }
}

/// Encodes a query-string value (a space as `+`).
pub fn url_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Text on one line, one space between its words: what a person typed, tidied.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

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
}
