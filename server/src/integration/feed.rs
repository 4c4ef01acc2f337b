//! The payments feed the ERP reads back (`GET /api/v1/payments?since=`): each time a Settle
//! payment is approved, pending, declined, settled or returned, an event with the payment as
//! it then stood (allocations, method, who took it, for whom). Written by the statement that
//! changed the payment (a trigger, migration 0009), so no code path can miss one.
//!
//! The cursor is (writing transaction, event id). A page holds only events of transactions
//! older than every transaction still running, in that order: an event committed later always
//! sorts after every cursor handed out before, so paging never skips or repeats one, however
//! payments are being written meanwhile.

use crate::{Error, Result};
use chrono::{DateTime, Utc};
use shared::event::Payment;
use shared::EventId;
use sqlx::PgPool;

/// Where a reader stands in the feed: opaque to it (`"<transaction>.<event>"`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cursor {
    xid: u64,
    id: i64,
}

impl Cursor {
    pub fn parse(raw: &str) -> Option<Cursor> {
        let (x, i) = raw.split_once('.')?;
        // At most 18 digits each: always within the transaction id's and the event id's range.
        let ok = |s: &str| !s.is_empty() && s.len() <= 18 && s.bytes().all(|b| b.is_ascii_digit());
        if !ok(x) || !ok(i) {
            return None;
        }
        Some(Cursor {
            xid: x.parse().ok()?,
            id: i.parse().ok()?,
        })
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.xid, self.id)
    }
}

/// One event as the API lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub id: EventId,
    pub event_type: String,
    pub created_at: DateTime<Utc>,
    pub data: Payment,
}

/// A page of the feed and where the next one starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    pub events: Vec<Event>,
    /// Pass it as `since` next time (the same cursor when nothing was new).
    pub next: Cursor,
    pub has_more: bool,
}

/// Payment events after `since` (from the start when `None`), at most `limit`.
pub async fn payments(pool: &PgPool, since: Option<Cursor>, limit: i64) -> Result<Page> {
    let since = since.unwrap_or_default();
    let rows = sqlx::query!(
        r#"SELECT id, xid::text AS "xid!", type AS event_type, created_at, data FROM events
           WHERE payment_id IS NOT NULL AND (xid, id) > ($1::text::xid8, $2)
             AND xid < pg_snapshot_xmin(pg_current_snapshot())
           ORDER BY xid, id LIMIT $3"#,
        since.xid.to_string(),
        since.id,
        limit + 1
    )
    .fetch_all(pool)
    .await?;
    let has_more = rows.len() as i64 > limit;
    let mut next = since;
    let events = rows
        .into_iter()
        .take(limit as usize)
        .map(|r| {
            let (id, event_type, created_at) = (r.id, r.event_type, r.created_at);
            next = Cursor {
                xid: r.xid.parse().unwrap_or(next.xid),
                id,
            };
            let data = serde_json::from_value(r.data).map_err(|e| {
                Error::Other(format!(
                    "payment event {id} does not read as a payment: {e}"
                ))
            })?;
            Ok(Event {
                id: EventId(id),
                event_type,
                created_at,
                data,
            })
        })
        .collect::<Result<_>>()?;
    Ok(Page {
        events,
        next,
        has_more,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_anything_else() {
        let c = Cursor::parse("123.45").unwrap();
        assert_eq!(c.to_string(), "123.45");
        for bad in [
            "",
            ".",
            "1.",
            ".1",
            "a.1",
            "1.2.3",
            "-1.2",
            "1 .2",
            "99999999999999999999999.1",
        ] {
            assert_eq!(Cursor::parse(bad), None, "{bad}");
        }
    }
}
