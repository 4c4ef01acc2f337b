//! Paging of server-side lists.

use serde::{Deserialize, Serialize};

/// Rows per page on list screens.
pub const PAGE_SIZE: i64 = 50;

/// How far a page's total can be trusted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Total {
    /// Counted.
    #[default]
    Exact,
    /// At least this many: counting stopped there ("1,000+").
    AtLeast,
    /// The database's estimate of a large table ("about 100,040").
    About,
}

impl Total {
    /// `n` as a person reads it: "1,234", "1,000+" or "about 100,040".
    pub fn describe(self, n: i64) -> String {
        match self {
            Total::Exact => crate::format::count(n),
            Total::AtLeast => format!("{}+", crate::format::count(n)),
            Total::About => format!("about {}", crate::format::count(n)),
        }
    }
}

/// One page of a server-side list, with the total count for "1–50 of 1,234".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Rows matching the query, across all pages (see `total_is`).
    pub total: i64,
    #[serde(default)]
    pub total_is: Total,
    /// 1-based page number actually served (clamped to the last page).
    pub page: i64,
    pub per_page: i64,
}

impl<T> Page<T> {
    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.per_page
    }

    pub fn last_page(&self) -> i64 {
        last_page(self.total, self.per_page)
    }

    pub fn has_prev(&self) -> bool {
        self.page > 1
    }

    pub fn has_next(&self) -> bool {
        self.page < self.last_page()
    }
}

/// The last 1-based page for `total` rows (1 when there are none).
pub fn last_page(total: i64, per_page: i64) -> i64 {
    ((total + per_page - 1) / per_page).max(1)
}

/// `1–50 of 1,234` for a page of a list; `0 of 0` when empty.
pub fn range_of(offset: i64, shown: i64, total: i64, total_is: Total) -> String {
    if shown == 0 {
        return format!("0 of {}", total_is.describe(total));
    }
    format!(
        "{}–{} of {}",
        crate::format::count(offset + 1),
        crate::format::count(offset + shown),
        total_is.describe(total)
    )
}

/// Parses a page number from a URL: anything missing or invalid is page 1.
pub fn parse_page(raw: Option<&str>) -> i64 {
    raw.and_then(|s| s.trim().parse::<i64>().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_ranges() {
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

    #[test]
    fn pages() {
        assert_eq!(last_page(0, 50), 1);
        assert_eq!(last_page(50, 50), 1);
        assert_eq!(last_page(51, 50), 2);
        assert_eq!(parse_page(Some("3")), 3);
        assert_eq!(parse_page(Some("0")), 1);
        assert_eq!(parse_page(Some("-2")), 1);
        assert_eq!(parse_page(Some("x")), 1);
        assert_eq!(parse_page(None), 1);
    }
}
