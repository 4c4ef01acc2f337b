//! The files for the seller's bank. At each cut-off (banking days only) one transaction takes
//! every debit made by then and not yet in a file, gives each its trace number, SEC code and
//! effective date, writes the file's bytes and keeps them: an entry is in exactly one file, and
//! a file asked for again is the same bytes. The file is then written into the outbox folder
//! (again after a crash, until it is there). A debit taken out before its file is never in one;
//! a credit reversing a debit goes in the next file, in a batch described `REVERSAL` with the
//! SEC code, account and reference of the debit it reverses.

use super::calendar::{banking_days_after, effective_date, is_banking_day, next_banking_day};
use super::nacha::{self, Batch, Entry, FileHeader, Sec, REVERSAL};
use super::settings::NachaSettings;
use super::vault;
use crate::audit::{self, Action, Actor, Entity, Event};
use crate::authority::Admin;
use crate::tokens::sha256_hex;
use crate::{Error, Result};
use chrono::{DateTime, Datelike, Days, NaiveTime, Utc};
use serde_json::json;
use shared::bank::{AccountType, RoutingNumber};
use sqlx::PgPool;
use std::collections::BTreeMap;
use std::path::Path;

/// The most one same-day entry may carry, in cents ($1,000,000); a larger one goes next day.
pub const SAME_DAY_LIMIT_CENTS: i64 = 100_000_000;
/// Banking days after the effective date before a debit counts as settled: the window in which
/// the receiving bank returns most entries (R01, R02, R03 …) for every SEC code Settle sends.
/// Later returns (a consumer's R10 within 60 days) are still read and applied.
pub const RETURN_WINDOW_DAYS: u32 = 2;

/// The latest cut-off at or before `now` on a banking day (within the last two weeks).
pub fn latest_cutoff(now: DateTime<Utc>, cutoffs: &[NaiveTime]) -> Option<DateTime<Utc>> {
    (0..14u64)
        .filter_map(|back| now.date_naive().checked_sub_days(Days::new(back)))
        .filter(|day| is_banking_day(*day))
        .flat_map(|day| {
            cutoffs
                .iter()
                .rev()
                .map(move |t| day.and_time(*t).and_utc())
        })
        .find(|at| *at <= now)
}

/// A file as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    pub id: i64,
    pub name: String,
    pub entries: i64,
    pub total_cents: i64,
}

/// The SEC code of a debit: a business account's is CCD; a consumer's is WEB when the
/// authorization was given on a web page (the portal or a pay link), PPD when it is a signed
/// document staff keep.
pub fn sec_for(business: bool, given_online: bool) -> Sec {
    match (business, given_online) {
        (true, _) => Sec::Ccd,
        (false, true) => Sec::Web,
        (false, false) => Sec::Ppd,
    }
}

fn sec_order(sec: Sec) -> u8 {
    match sec {
        Sec::Ccd => 0,
        Sec::Ppd => 1,
        Sec::Web => 2,
    }
}

fn bad(what: impl std::fmt::Display) -> Error {
    Error::Other(format!("ACH file: {what}"))
}

/// The file control's figures, as the file states them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Control {
    pub batches: i32,
    pub blocks: i32,
    pub entries: i32,
    pub hash: i64,
    pub debits: i64,
    pub credits: i64,
}

/// Reads the file control record (type 9, not a filler of nines).
pub fn control(body: &str) -> Option<Control> {
    let line = body
        .lines()
        .find(|l| l.starts_with('9') && !l.bytes().all(|b| b == b'9'))?;
    let n = |a: usize, b: usize| line.get(a..b)?.parse::<i64>().ok();
    Some(Control {
        batches: n(1, 7)? as i32,
        blocks: n(7, 13)? as i32,
        entries: n(13, 21)? as i32,
        hash: n(21, 31)?,
        debits: n(31, 43)?,
        credits: n(43, 55)?,
    })
}

/// Writes the file of the cut-off at `cutoff`: `None` when it was written already or no debit
/// made by then waits. Safe to run from several instances at once (one writer at a time).
pub async fn write_file(
    pool: &PgPool,
    settings: &NachaSettings,
    cutoff: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<Written>> {
    write_file_by(pool, settings, cutoff, now, Actor::SYSTEM).await
}

/// An admin's file of every debit waiting now, outside the set cut-offs (before a holiday, or
/// when the bank asks for one), copied to the outbox folder at once.
pub async fn write_now(
    pool: &PgPool,
    settings: &NachaSettings,
    admin: &Admin,
) -> Result<Option<Written>> {
    let now = Utc::now();
    let written = write_file_by(pool, settings, now, now, admin.actor()).await?;
    export(pool, &settings.outbox).await?;
    Ok(written)
}

async fn write_file_by(
    pool: &PgPool,
    settings: &NachaSettings,
    cutoff: DateTime<Utc>,
    now: DateTime<Utc>,
    actor: Actor,
) -> Result<Option<Written>> {
    let mut tx = pool.begin().await?;
    sqlx::query!("SELECT pg_advisory_xact_lock(hashtextextended('settle-ach-files', 0)) AS locked")
        .fetch_one(&mut *tx)
        .await?;
    let done = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM ach_files WHERE cutoff_at = $1) AS "done!""#,
        cutoff
    )
    .fetch_one(&mut *tx)
    .await?;
    if done {
        return Ok(None);
    }
    // A reversing credit carries the SEC code and reference of the debit it reverses.
    let rows = sqlx::query!(
        r#"SELECT e.id, e.token, e.cents, e.credit, o.sec AS "reversed_sec?",
                  v.routing_number AS "routing!", v.account_sealed,
                  COALESCE(v.account_type, m.account_type, 'checking') AS "account_type!",
                  COALESCE(m.holder_name, c.name, '') AS "name!",
                  COALESCE(m.holder_type = 'business', true) AS "business!",
                  COALESCE(m.pay_link_id IS NOT NULL OR u.role = 'customer', false) AS "online!",
                  COALESCE(p.number, 'E' || COALESCE(o.id, e.id)) AS "reference!"
           FROM ach_entries e
           JOIN ach_vault v ON v.token = e.token
           LEFT JOIN ach_entries o ON o.id = e.reverses
           LEFT JOIN payment_methods m ON m.gateway_token = e.token
           LEFT JOIN companies c ON c.id = m.company_id
           LEFT JOIN users u ON u.id = m.created_by
           LEFT JOIN payments p ON p.id = COALESCE(o.payment_id, e.payment_id)
           WHERE e.file_id IS NULL AND e.voided_at IS NULL AND e.created_at <= $1
           ORDER BY e.id
           FOR UPDATE OF e"#,
        cutoff
    )
    .fetch_all(&mut *tx)
    .await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let day = cutoff.date_naive();
    let same_day = settings
        .same_day_until
        .is_some_and(|until| cutoff.time() <= until && is_banking_day(day));
    let odfi = &settings.odfi;
    // Batches by effective date, SEC code and direction; entries in the order they were made.
    let mut batches: BTreeMap<(chrono::NaiveDate, u8, bool), Batch> = BTreeMap::new();
    let mut placed = Vec::with_capacity(rows.len());
    // Trace sequences for every entry in one round trip, in entry order.
    let sequences = sqlx::query_scalar!(
        r#"SELECT nextval('ach_trace_seq') AS "n!" FROM generate_series(1, $1::int)"#,
        rows.len() as i32
    )
    .fetch_all(&mut *tx)
    .await?;
    for (r, sequence) in rows.into_iter().zip(sequences) {
        let sequence = sequence as u32;
        let effective = effective_date(day, same_day && r.cents <= SAME_DAY_LIMIT_CENTS);
        let sec = match r.reversed_sec.as_deref() {
            Some("PPD") => Sec::Ppd,
            Some("WEB") => Sec::Web,
            Some(_) => Sec::Ccd,
            None => sec_for(r.business, r.online),
        };
        let account = vault::open(&settings.vault_key, &r.token, &r.account_sealed).map_err(bad)?;
        let debit = Entry {
            credit: r.credit,
            rdfi: RoutingNumber::parse(&r.routing).map_err(|e| bad(e.message))?,
            account,
            account_type: AccountType::parse(&r.account_type).map_err(|e| bad(e.message))?,
            cents: r.cents as u64,
            reference: r.reference,
            name: r.name,
            sequence,
        };
        placed.push((r.id, debit.trace(odfi), sec, effective));
        batches
            .entry((effective, sec_order(sec), r.credit))
            .or_insert_with(|| Batch {
                company_name: settings.company_name.clone(),
                company_id: settings.company_id.clone(),
                sec,
                description: if r.credit {
                    REVERSAL.to_string()
                } else {
                    settings.description.clone()
                },
                effective,
                odfi: odfi.clone(),
                number: 0,
                entries: Vec::new(),
            })
            .entries
            .push(debit);
    }
    let batches: Vec<Batch> = batches
        .into_values()
        .enumerate()
        .map(|(i, b)| Batch {
            number: i as u32 + 1,
            ..b
        })
        .collect();
    // Files cut the same day are told apart by their modifier: A, B, … Z, then 0 … 9.
    let earlier = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM ach_files
           WHERE cutoff_at >= $1 AND cutoff_at < $1 + interval '1 day'"#,
        day.and_time(NaiveTime::MIN).and_utc()
    )
    .fetch_one(&mut *tx)
    .await?;
    let modifier = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        .get(earlier as usize)
        .map(|b| *b as char)
        .ok_or_else(|| bad("more than 36 files in one day"))?;
    let header = FileHeader {
        destination: odfi.clone(),
        destination_name: settings.odfi_name.clone(),
        origin: settings.origin.clone(),
        origin_name: settings.company_name.clone(),
        created: now.naive_utc(),
        modifier,
    };
    let body = nacha::write(&header, &batches).map_err(bad)?;
    let c = control(&body).ok_or_else(|| bad("no file control"))?;
    let name = format!(
        "settle-{:04}{:02}{:02}-{}-{modifier}.ach",
        day.year(),
        day.month(),
        day.day(),
        cutoff.format("%H%M")
    );
    let sha = sha256_hex(body.as_bytes());
    let id = sqlx::query_scalar!(
        "INSERT INTO ach_files (cutoff_at, created_at, name, body, sha256, batch_count, entry_count, \
             total_cents, entry_hash, block_count, credit_cents) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        cutoff,
        now,
        name,
        body,
        sha,
        c.batches,
        c.entries,
        c.debits,
        c.hash,
        c.blocks,
        c.credits
    )
    .fetch_one(&mut *tx)
    .await?;
    let ids: Vec<i64> = placed.iter().map(|p| p.0).collect();
    let traces: Vec<String> = placed.iter().map(|p| p.1.clone()).collect();
    let secs: Vec<String> = placed.iter().map(|p| p.2.code().to_string()).collect();
    let effective: Vec<chrono::NaiveDate> = placed.iter().map(|p| p.3).collect();
    let settles: Vec<chrono::NaiveDate> = placed
        .iter()
        .map(|p| banking_days_after(p.3, RETURN_WINDOW_DAYS))
        .collect();
    sqlx::query!(
        "UPDATE ach_entries e SET file_id = $1, trace = n.trace, sec = n.sec, \
             effective_date = n.effective, settles_on = n.settles \
         FROM unnest($2::bigint[], $3::text[], $4::text[], $5::date[], $6::date[]) \
              AS n(id, trace, sec, effective, settles) \
         WHERE e.id = n.id",
        id,
        &ids,
        &traces,
        &secs,
        &effective,
        &settles
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        Event {
            actor,
            on_behalf_of: None,
            action: Action::AchFileWritten,
            entity: Entity::AchFile,
            entity_id: Some(name.clone()),
            details: json!({ "entries": c.entries, "total_cents": c.debits, "credit_cents": c.credits, "entry_hash": c.hash,
                             "sha256": sha, "cutoff_at": cutoff }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Some(Written {
        id,
        name,
        entries: c.entries as i64,
        total_cents: c.debits,
    }))
}

/// Writes the files not yet in the outbox folder into it (each whole, under its name, by a
/// rename) and marks them written. Returns how many.
pub async fn export(pool: &PgPool, outbox: &Path) -> Result<usize> {
    let due =
        sqlx::query!("SELECT id, name, body FROM ach_files WHERE exported_at IS NULL ORDER BY id")
            .fetch_all(pool)
            .await?;
    if due.is_empty() {
        return Ok(0);
    }
    std::fs::create_dir_all(outbox).map_err(|e| bad(format!("{}: {e}", outbox.display())))?;
    for f in &due {
        let part = outbox.join(format!(".{}.part", f.name));
        std::fs::write(&part, f.body.as_bytes())
            .and_then(|_| std::fs::rename(&part, outbox.join(&f.name)))
            .map_err(|e| bad(format!("{}: {e}", f.name)))?;
        sqlx::query!(
            "UPDATE ach_files SET exported_at = now() WHERE id = $1",
            f.id
        )
        .execute(pool)
        .await?;
    }
    Ok(due.len())
}

/// One pass at `now`: the file of the latest cut-off if it is due, then the outbox folder.
pub async fn run(pool: &PgPool, settings: &NachaSettings, now: DateTime<Utc>) -> Result<usize> {
    let mut written = 0;
    if let Some(cutoff) = latest_cutoff(now, &settings.cutoffs) {
        if write_file(pool, settings, cutoff, now).await?.is_some() {
            written += 1;
        }
    }
    export(pool, &settings.outbox).await?;
    Ok(written)
}

/// The next cut-off after `now`, for the screen.
pub fn next_cutoff(now: DateTime<Utc>, cutoffs: &[NaiveTime]) -> Option<DateTime<Utc>> {
    let mut day = now.date_naive();
    for _ in 0..14 {
        if is_banking_day(day) {
            if let Some(t) = cutoffs
                .iter()
                .map(|t| day.and_time(*t).and_utc())
                .find(|at| *at > now)
            {
                return Some(t);
            }
        }
        day = next_banking_day(day);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn t(s: &str) -> NaiveTime {
        NaiveTime::parse_from_str(s, "%H:%M").unwrap()
    }

    #[test]
    fn the_latest_cutoff_is_on_a_banking_day() {
        let cutoffs = [t("14:00"), t("20:00")];
        // Tuesday 2026-12-08.
        assert_eq!(
            latest_cutoff(at("2026-12-08T15:00:00Z"), &cutoffs),
            Some(at("2026-12-08T14:00:00Z"))
        );
        assert_eq!(
            latest_cutoff(at("2026-12-08T14:00:00Z"), &cutoffs),
            Some(at("2026-12-08T14:00:00Z"))
        );
        assert_eq!(
            latest_cutoff(at("2026-12-08T13:59:00Z"), &cutoffs),
            Some(at("2026-12-07T20:00:00Z"))
        );
        // Sunday: Friday's last cut-off. Christmas Day 2026 is a Friday: Thursday's.
        assert_eq!(
            latest_cutoff(at("2026-12-06T12:00:00Z"), &cutoffs),
            Some(at("2026-12-04T20:00:00Z"))
        );
        assert_eq!(
            latest_cutoff(at("2026-12-27T12:00:00Z"), &cutoffs),
            Some(at("2026-12-24T20:00:00Z"))
        );
        assert_eq!(
            next_cutoff(at("2026-12-24T21:00:00Z"), &cutoffs),
            Some(at("2026-12-28T14:00:00Z"))
        );
    }

    #[test]
    fn sec_codes_follow_the_account_and_the_authorization() {
        assert_eq!(sec_for(true, true), Sec::Ccd);
        assert_eq!(sec_for(true, false), Sec::Ccd);
        assert_eq!(sec_for(false, true), Sec::Web);
        assert_eq!(sec_for(false, false), Sec::Ppd);
    }
}
