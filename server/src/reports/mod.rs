//! Staff's reports on the whole book, in the seller's days (its time zone, a setting).

pub mod aging;

use crate::Result;
use chrono::NaiveDate;
use sqlx::PgPool;

/// Today in the seller's time zone.
pub async fn today(pool: &PgPool) -> Result<NaiveDate> {
    Ok(sqlx::query_scalar!(r#"SELECT seller_today() AS "today!""#)
        .fetch_one(pool)
        .await?)
}

/// The seller's time zone (an IANA name such as `America/Chicago`).
pub async fn time_zone(pool: &PgPool) -> Result<String> {
    Ok(sqlx::query_scalar!("SELECT time_zone FROM seller_settings")
        .fetch_one(pool)
        .await?)
}

/// A cell safe to open in a spreadsheet (no formula injection).
pub(crate) fn defuse(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}
