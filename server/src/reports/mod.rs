//! Staff's reports on the whole book, in the seller's days (its time zone, a setting).

pub mod aging;
pub mod authorizations;
pub mod dashboard;
pub mod deposits;
pub mod statements;

use crate::audit::{self, Action, Entity};
use crate::authority::Admin;
use crate::Result;
use chrono::NaiveDate;
use serde_json::json;
use shared::FieldError;
use sqlx::PgPool;

/// Today in the seller's time zone.
pub async fn today(pool: &PgPool) -> Result<NaiveDate> {
    Ok(sqlx::query_scalar!(r#"SELECT seller_today() AS "today!""#)
        .fetch_one(pool)
        .await?)
}

/// The seller's time zone (an IANA name such as `America/Chicago`; `UTC` until set).
pub async fn time_zone(pool: &PgPool) -> Result<String> {
    Ok(sqlx::query_scalar!("SELECT time_zone FROM seller_settings")
        .fetch_one(pool)
        .await?)
}

/// An export written to a file that is removed from the disk as soon as it is open (gone with
/// its handle however the export ends), so a large one never sits in memory: read it from its
/// start, `bytes` long.
pub struct Spooled {
    pub file: std::fs::File,
    pub bytes: u64,
}

/// A new file for an export, already removed from the disk.
pub(crate) fn spool(prefix: &str) -> Result<std::fs::File> {
    let path = std::env::temp_dir().join(format!("settle-{prefix}-{}", uuid::Uuid::new_v4()));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| crate::Error::Other(format!("a file for the export: {e}")))?;
    let _ = std::fs::remove_file(&path);
    Ok(file)
}

impl Spooled {
    /// The written file, rewound, with its size.
    pub(crate) fn rewound(mut file: std::fs::File) -> Result<Spooled> {
        use std::io::{Seek, SeekFrom};
        let io = |e: std::io::Error| crate::Error::Other(format!("reading the export back: {e}"));
        let bytes = file.seek(SeekFrom::End(0)).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        Ok(Spooled { file, bytes })
    }
}

/// A cell safe to open in a spreadsheet (no formula injection).
pub(crate) fn defuse(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

/// Sets the seller's time zone (admins): an IANA name PostgreSQL knows (`America/New_York`),
/// refused at the field `time_zone` otherwise; audited.
pub async fn set_time_zone(pool: &PgPool, admin: &Admin, name: &str) -> Result<()> {
    let name = name.trim();
    let known = !name.is_empty()
        && name.len() <= 64
        && sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1) AS "known!""#,
            name
        )
        .fetch_one(pool)
        .await?;
    if !known {
        return Err(FieldError::new(
            "time_zone",
            "Choose a time zone from the list, e.g. America/New_York.",
        )
        .into());
    }
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "UPDATE seller_settings SET time_zone = $1, updated_at = now()",
        name
    )
    .execute(&mut *tx)
    .await?;
    // The dashboard's days moved with the zone: its figures are made again.
    sqlx::query!("DELETE FROM dashboard_snapshot")
        .execute(&mut *tx)
        .await?;
    sqlx::query!("DELETE FROM receivables_month_ends")
        .execute(&mut *tx)
        .await?;
    audit::system_change(
        &mut tx,
        admin.actor(),
        Action::TimeZoneChanged,
        Entity::Settings,
        "time_zone",
        json!({ "time_zone": name }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The time zones an admin picks from: America's first, then the rest, by name.
pub async fn time_zones(pool: &PgPool) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT name AS "name!" FROM pg_timezone_names
           WHERE name ~ '^(America|Pacific|Europe|Asia|Africa|Australia|Atlantic|Indian)/' OR name = 'UTC'
           ORDER BY name !~ '^America/', name"#
    )
    .fetch_all(pool)
    .await?)
}
