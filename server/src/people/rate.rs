//! Hourly windows of counted attempts (`rate_windows`), kept in PostgreSQL so every instance
//! counts together: reset requests per address and client, failed sign-ins per client, links
//! that opened nothing per client. A window is a key and the hour it counts in.

use crate::Result;
use sqlx::{PgExecutor, PgPool};

/// Counts one attempt against `key`'s window for this hour; how many it now holds.
pub(crate) async fn count(conn: impl PgExecutor<'_>, key: &str) -> Result<i32> {
    Ok(sqlx::query_scalar!(
        "INSERT INTO rate_windows (key, window_start, used) VALUES ($1, date_trunc('hour', now()), 1) \
         ON CONFLICT (key, window_start) DO UPDATE SET used = rate_windows.used + 1 RETURNING used",
        key
    )
    .fetch_one(conn)
    .await?)
}

/// What `key`'s window holds this hour, and the minutes left until it ends (at least 1);
/// `None` when nothing was counted this hour.
pub(crate) async fn held(pool: &PgPool, key: &str) -> Result<Option<(i32, i64)>> {
    let row = sqlx::query!(
        r#"SELECT used, extract(epoch FROM date_trunc('hour', now()) + interval '1 hour' - now())::float8 AS "left!"
           FROM rate_windows WHERE key = $1 AND window_start = date_trunc('hour', now())"#,
        key
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| (r.used, ((r.left / 60.0).ceil() as i64).max(1))))
}

/// Drops windows older than a day.
pub async fn forget_old(pool: &PgPool) -> Result<u64> {
    Ok(
        sqlx::query!("DELETE FROM rate_windows WHERE window_start < now() - interval '1 day'")
            .execute(pool)
            .await?
            .rows_affected(),
    )
}
