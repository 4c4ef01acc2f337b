//! The bank's answers: return and notification-of-change (NOC) files dropped into the inbox
//! folder. Each file is read once (by its SHA-256) in one transaction. A return (addenda 99,
//! any R code, late ones too) ends its debit as returned through the same path as a gateway's
//! return — its invoices reopen, the receipt email, webhook and API event follow; a NOC
//! (addenda 98, C01–C13) corrects the saved account with an audit row; a trace number Settle
//! never sent is kept and shown to staff. A file that cannot be read is kept with the reason
//! and changes nothing.

use super::settings::NachaSettings;
use super::vault;
use crate::audit::{self, Action, Actor, Entity, Event};
use crate::payments::{end_debit, DebitEnd};
use crate::tokens::sha256_hex;
use crate::{Error, Result};
use serde_json::json;
use shared::bank::{AccountType, RoutingNumber};
use shared::payment::PaymentStatus;
use shared::PaymentId;
use sqlx::{PgConnection, PgPool};
use std::path::Path;

/// Return reason codes as the NACHA Operating Rules name them.
const RETURN_REASONS: [(&str, &str); 40] = [
    ("R01", "Insufficient funds"),
    ("R02", "Account closed"),
    ("R03", "No account / unable to locate account"),
    ("R04", "Invalid account number structure"),
    (
        "R05",
        "Unauthorized debit to consumer account using corporate SEC code",
    ),
    ("R06", "Returned per ODFI's request"),
    ("R07", "Authorization revoked by customer"),
    ("R08", "Payment stopped"),
    ("R09", "Uncollected funds"),
    (
        "R10",
        "Customer advises originator is not known to receiver and/or not authorized",
    ),
    (
        "R11",
        "Customer advises entry not in accordance with the terms of the authorization",
    ),
    ("R12", "Account sold to another DFI"),
    ("R13", "Invalid ACH routing number"),
    (
        "R14",
        "Representative payee deceased or unable to continue in that capacity",
    ),
    ("R15", "Beneficiary or account holder deceased"),
    (
        "R16",
        "Account frozen / entry returned per OFAC instruction",
    ),
    (
        "R17",
        "File record edit criteria / entry with invalid account number",
    ),
    ("R18", "Improper effective entry date"),
    ("R19", "Amount field error"),
    ("R20", "Non-transaction account"),
    ("R21", "Invalid company identification"),
    ("R22", "Invalid individual ID number"),
    ("R23", "Credit entry refused by receiver"),
    ("R24", "Duplicate entry"),
    ("R25", "Addenda error"),
    ("R26", "Mandatory field error"),
    ("R27", "Trace number error"),
    ("R28", "Routing number check digit error"),
    ("R29", "Corporate customer advises not authorized"),
    ("R30", "RDFI not participant in check truncation program"),
    ("R31", "Permissible return entry (CCD and CTX only)"),
    ("R32", "RDFI non-settlement"),
    ("R33", "Return of XCK entry"),
    ("R34", "Limited participation DFI"),
    ("R35", "Return of improper debit entry"),
    ("R36", "Return of improper credit entry"),
    ("R37", "Source document presented for payment"),
    ("R38", "Stop payment on source document"),
    (
        "R39",
        "Improper source document / source document presented for payment",
    ),
    (
        "R51",
        "Item related to RCK entry is ineligible or RCK entry is improper",
    ),
];

/// What a return code means, fit to show; a code the table lacks still reads clearly.
pub fn return_reason(code: &str) -> &'static str {
    RETURN_REASONS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, r)| *r)
        .unwrap_or("Returned by the customer's bank")
}

/// Change codes as the NACHA Operating Rules name them.
pub fn change_reason(code: &str) -> &'static str {
    match code {
        "C01" => "Incorrect DFI account number",
        "C02" => "Incorrect routing number",
        "C03" => "Incorrect routing number and incorrect DFI account number",
        "C04" => "Incorrect individual name / receiving company name",
        "C05" => "Incorrect transaction code",
        "C06" => "Incorrect DFI account number and incorrect transaction code",
        "C07" => "Incorrect routing number, DFI account number and transaction code",
        "C08" => "Incorrect receiving DFI identification (IAT only)",
        "C09" => "Incorrect individual identification number",
        "C10" => "Incorrect company name",
        "C11" => "Incorrect company identification",
        "C12" => "Incorrect company name and company identification",
        "C13" => "Addenda format error",
        _ => "Notification of change",
    }
}

/// One return or NOC as the file states it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub kind: Kind,
    pub code: String,
    pub original_trace: String,
    /// A NOC's corrected data (positions 36–64), trimmed.
    pub corrected: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Return,
    Change,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Return => "return",
            Kind::Change => "change",
        }
    }
}

/// Reads a return or NOC file: every record 94 characters, entries each with its 99 or 98
/// addenda, the file control's counts, entry hash and totals matching the entries.
pub fn parse(body: &str) -> std::result::Result<Vec<Notice>, String> {
    let mut notices = Vec::new();
    let (mut header, mut control) = (false, None);
    let (mut count, mut hash, mut debits, mut credits) = (0u64, 0u64, 0u64, 0u64);
    let mut entry_open = false;
    for (i, line) in body.lines().enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let at = i + 1;
        if line.is_empty() {
            continue;
        }
        if line.len() != 94 || !line.is_ascii() {
            return Err(format!("line {at} is not a 94-character record"));
        }
        let n = |a: usize, b: usize| {
            line[a..b]
                .trim()
                .parse::<u64>()
                .map_err(|_| format!("line {at}: positions {}–{b} are not a number", a + 1))
        };
        match &line[..1] {
            "1" => header = true,
            "5" | "8" => {}
            "6" => {
                if entry_open {
                    return Err(format!(
                        "line {at}: the entry before has no return or change addenda"
                    ));
                }
                count += 1;
                hash += n(3, 11)?;
                let amount = n(29, 39)?;
                match &line[1..3] {
                    // Returns and NOCs of debits (26, 36), prenotes and zero entries (28, 38);
                    // of credits (21, 31; 23, 33).
                    "26" | "36" | "28" | "38" | "27" | "37" | "29" | "39" => debits += amount,
                    "21" | "31" | "22" | "32" | "23" | "33" | "24" | "34" => credits += amount,
                    other => {
                        return Err(format!(
                            "line {at}: transaction code {other} is not an ACH one"
                        ))
                    }
                }
                if &line[78..79] != "1" {
                    return Err(format!("line {at}: the entry has no addenda"));
                }
                entry_open = true;
            }
            "7" => {
                if !entry_open {
                    return Err(format!("line {at}: an addenda without its entry"));
                }
                entry_open = false;
                count += 1;
                let kind = match &line[1..3] {
                    "99" => Kind::Return,
                    "98" => Kind::Change,
                    other => return Err(format!("line {at}: addenda type {other} is neither a return (99) nor a change (98)")),
                };
                let code = line[3..6].to_string();
                let valid = match kind {
                    Kind::Return => code.starts_with('R'),
                    Kind::Change => code.starts_with('C'),
                } && code[1..].bytes().all(|b| b.is_ascii_digit());
                if !valid {
                    return Err(format!(
                        "line {at}: {code:?} is not a {} code",
                        kind.as_str()
                    ));
                }
                let original_trace = line[6..21].to_string();
                if !original_trace.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(format!(
                        "line {at}: the original trace number is not 15 digits"
                    ));
                }
                notices.push(Notice {
                    kind,
                    code,
                    original_trace,
                    corrected: (kind == Kind::Change).then(|| line[35..64].trim().to_string()),
                });
            }
            "9" if line.bytes().all(|b| b == b'9') => {}
            "9" => control = Some((n(13, 21)?, n(21, 31)?, n(31, 43)?, n(43, 55)?)),
            other => {
                return Err(format!(
                    "line {at}: record type {other:?} is not a NACHA one"
                ))
            }
        }
    }
    if !header {
        return Err("the file has no file header".into());
    }
    if entry_open {
        return Err("the last entry has no return or change addenda".into());
    }
    let Some((c_count, c_hash, c_debits, c_credits)) = control else {
        return Err("the file has no file control".into());
    };
    let hash = hash % 10_000_000_000;
    if (c_count, c_hash, c_debits, c_credits) != (count, hash, debits, credits) {
        return Err(format!(
            "the file control says {c_count} entries and addenda, hash {c_hash}, debits {c_debits}, credits {c_credits}; \
             the file has {count}, {hash}, {debits}, {credits}"
        ));
    }
    Ok(notices)
}

/// A file's notices as columns, written at once.
#[derive(Default)]
struct NoticeRows {
    kinds: Vec<&'static str>,
    codes: Vec<String>,
    traces: Vec<String>,
    entries: Vec<Option<i64>>,
    payments: Vec<Option<i64>>,
    corrected: Vec<Option<String>>,
    outcomes: Vec<String>,
}

/// What reading one file did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Read {
    /// False when the file had been read before (nothing changed).
    pub new: bool,
    pub error: Option<String>,
    pub returned: usize,
    pub changed: usize,
    pub unknown: usize,
}

/// Reads one file's bytes: once per content, whatever its name.
pub async fn read_file(
    pool: &PgPool,
    settings: &NachaSettings,
    name: &str,
    bytes: &[u8],
) -> Result<Read> {
    let sha = sha256_hex(bytes);
    let body = String::from_utf8_lossy(bytes).into_owned();
    let mut tx = pool.begin().await?;
    let id = sqlx::query_scalar!(
        "INSERT INTO ach_inbox_files (name, sha256, body) VALUES ($1, $2, $3) \
         ON CONFLICT (sha256) DO NOTHING RETURNING id",
        name,
        sha,
        body
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = id else {
        return Ok(Read::default());
    };
    let mut read = Read {
        new: true,
        ..Read::default()
    };
    match parse(&body) {
        Err(e) => {
            sqlx::query!("UPDATE ach_inbox_files SET error = $2 WHERE id = $1", id, e)
                .execute(&mut *tx)
                .await?;
            tracing::warn!(file = name, error = %e, "ACH inbox: a file could not be read; nothing in it was applied");
            read.error = Some(e);
        }
        Ok(notices) => {
            let mut rows = NoticeRows::default();
            for n in &notices {
                let (entry, payment, outcome) = apply(&mut tx, settings, name, n).await?;
                match (entry, n.kind) {
                    (None, _) => read.unknown += 1,
                    (Some(_), Kind::Return) => read.returned += 1,
                    (Some(_), Kind::Change) => read.changed += 1,
                }
                rows.kinds.push(n.kind.as_str());
                rows.codes.push(n.code.clone());
                rows.traces.push(n.original_trace.clone());
                rows.entries.push(entry);
                rows.payments.push(payment.map(|p| p.0));
                rows.corrected.push(n.corrected.clone());
                rows.outcomes.push(outcome);
            }
            // Every notice of the file in one statement, in the file's order.
            sqlx::query!(
                "INSERT INTO ach_notices (inbox_file_id, kind, code, original_trace, entry_id, payment_id, corrected_data, outcome) \
                 SELECT $1, n.kind, n.code, n.trace, n.entry, n.payment, n.corrected, n.outcome \
                 FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::text[], $8::text[]) \
                      WITH ORDINALITY AS n(kind, code, trace, entry, payment, corrected, outcome, at) ORDER BY n.at",
                id,
                &rows.kinds as &[&str],
                &rows.codes,
                &rows.traces,
                &rows.entries as &[Option<i64>],
                &rows.payments as &[Option<i64>],
                &rows.corrected as &[Option<String>],
                &rows.outcomes
            )
            .execute(&mut *tx)
            .await?;
        }
    }
    audit::record(
        &mut tx,
        Event {
            actor: Actor::SYSTEM,
            on_behalf_of: None,
            action: Action::AchFileRead,
            entity: Entity::AchFile,
            entity_id: Some(name.to_string()),
            details: json!({ "sha256": sha, "returned": read.returned, "changed": read.changed,
                             "unknown": read.unknown, "error": read.error }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(read)
}

/// Applies one notice; returns the entry and payment it concerned and what was done.
async fn apply(
    conn: &mut PgConnection,
    settings: &NachaSettings,
    file: &str,
    n: &Notice,
) -> Result<(Option<i64>, Option<PaymentId>, String)> {
    // The entry, locked, and for a return marked returned unless it was already: one statement.
    let entry = sqlx::query!(
        r#"WITH before AS (SELECT id, return_code FROM ach_entries WHERE trace = $1 FOR UPDATE)
           UPDATE ach_entries e
              SET return_code = CASE WHEN $2 THEN COALESCE(e.return_code, $3) ELSE e.return_code END,
                  returned_at = CASE WHEN $2 THEN COALESCE(e.returned_at, now()) ELSE e.returned_at END
           FROM before WHERE e.id = before.id
           RETURNING e.id, e.token, before.return_code::text AS "returned_before?",
                  e.payment_id AS "payment?: PaymentId""#,
        n.original_trace,
        n.kind == Kind::Return,
        n.code
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(entry) = entry else {
        return Ok((
            None,
            None,
            format!(
                "No debit Settle sent has trace number {}: look into it with the bank",
                n.original_trace
            ),
        ));
    };
    let outcome = match n.kind {
        Kind::Return => {
            if let Some(code) = &entry.returned_before {
                format!("Already returned ({code}); nothing changed")
            } else {
                let reason = return_reason(&n.code);
                match entry.payment {
                    None => format!("Returned ({} {reason}); no payment has this debit", n.code),
                    Some(payment) => {
                        let ended = end_debit(
                            conn,
                            payment,
                            &[PaymentStatus::Processing, PaymentStatus::Pending, PaymentStatus::Settled],
                            DebitEnd {
                                status: PaymentStatus::Returned,
                                code: Some(&n.code),
                                message: Some(reason),
                                details: json!({ "code": n.code, "trace": n.original_trace, "file": file }),
                                actor: crate::audit::Actor::SYSTEM,
                            },
                        )
                        .await?;
                        match ended {
                            Some((number, PaymentStatus::Settled)) => format!(
                                "{number} returned late ({} {reason}) after it had settled; its invoices reopened",
                                n.code
                            ),
                            Some((number, _)) => {
                                format!("{number} returned ({} {reason}); its invoices reopened", n.code)
                            }
                            None => format!("Returned ({} {reason}); the payment was already ended", n.code),
                        }
                    }
                }
            }
        }
        Kind::Change => correct(conn, settings, &entry.token, n).await?,
    };
    Ok((Some(entry.id), entry.payment, outcome))
}

/// A NOC's corrected data, by change code: routing number, account number, account type.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Correction {
    pub routing: Option<RoutingNumber>,
    pub account: Option<String>,
    pub account_type: Option<AccountType>,
}

fn account_type_of(code: &str) -> Option<AccountType> {
    match code {
        "22" | "23" | "27" | "28" => Some(AccountType::Checking),
        "32" | "33" | "37" | "38" => Some(AccountType::Savings),
        _ => None,
    }
}

/// Reads the corrected data as the Rules lay it out per change code (positions 36–64).
pub fn correction(code: &str, data: &str) -> Option<Correction> {
    let part = |a: usize, b: usize| {
        data.get(a..b.min(data.len()))
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let account = |a: usize, b: usize| part(a, b).map(str::to_string);
    let routing = |a: usize, b: usize| part(a, b).and_then(|r| RoutingNumber::parse(r).ok());
    let c = match code {
        "C01" => Correction {
            account: Some(account(0, 17)?),
            ..Default::default()
        },
        "C02" => Correction {
            routing: Some(routing(0, 9)?),
            ..Default::default()
        },
        "C03" => Correction {
            routing: Some(routing(0, 9)?),
            account: Some(account(12, 29)?),
            ..Default::default()
        },
        "C05" => Correction {
            account_type: Some(account_type_of(part(0, 2)?)?),
            ..Default::default()
        },
        "C06" => Correction {
            account: Some(account(0, 17)?),
            account_type: Some(account_type_of(part(20, 22)?)?),
            ..Default::default()
        },
        "C07" => Correction {
            routing: Some(routing(0, 9)?),
            account: Some(account(9, 26)?),
            account_type: Some(account_type_of(part(26, 28)?)?),
        },
        _ => return None,
    };
    Some(c)
}

async fn correct(
    conn: &mut PgConnection,
    settings: &NachaSettings,
    token: &str,
    n: &Notice,
) -> Result<String> {
    let reason = change_reason(&n.code);
    let data = n.corrected.as_deref().unwrap_or("");
    let Some(c) = correction(&n.code, data) else {
        return Ok(match n.code.as_str() {
            "C01" | "C02" | "C03" | "C05" | "C06" | "C07" => {
                format!(
                    "{} {reason}: the corrected data {data:?} cannot be read; nothing changed",
                    n.code
                )
            }
            _ => format!(
                "{} {reason}: recorded for staff to update by hand ({data})",
                n.code
            ),
        });
    };
    let last4 = c
        .account
        .as_deref()
        .map(|a| a[a.len().saturating_sub(4)..].to_string());
    let sealed = c
        .account
        .as_deref()
        .map(|a| vault::seal(&settings.vault_key, token, a));
    sqlx::query!(
        "UPDATE ach_vault SET routing_number = COALESCE($2, routing_number), \
             account_sealed = COALESCE($3, account_sealed), last4 = COALESCE($4, last4), \
             account_type = COALESCE($5, account_type), updated_at = now() WHERE token = $1",
        token,
        c.routing.as_ref().map(|r| r.as_str()),
        sealed,
        last4,
        c.account_type.map(|t| t.as_str())
    )
    .execute(&mut *conn)
    .await?;
    let method = sqlx::query!(
        r#"UPDATE payment_methods SET routing_number = COALESCE($2, routing_number),
               last4 = COALESCE($3, last4), account_type = COALESCE($4, account_type),
               bank_name = CASE WHEN $2::text IS NULL THEN bank_name ELSE $5 END, updated_at = now()
           WHERE gateway_token = $1 RETURNING id, company_id"#,
        token,
        c.routing.as_ref().map(|r| r.as_str()),
        last4,
        c.account_type.map(|t| t.as_str()),
        c.routing.as_ref().and_then(|r| r.bank_name())
    )
    .fetch_optional(&mut *conn)
    .await?;
    let mut changed = Vec::new();
    if let Some(r) = &c.routing {
        changed.push(format!("routing number {}", r.as_str()));
    }
    if let Some(l) = &last4 {
        changed.push(format!("account ending {l}"));
    }
    if let Some(t) = c.account_type {
        changed.push(format!("{} account", t.as_str()));
    }
    let what = changed.join(", ");
    if let Some(m) = &method {
        audit::record(
            &mut *conn,
            Event {
                actor: Actor::SYSTEM,
                on_behalf_of: Some(shared::CompanyId(m.company_id)),
                action: Action::MethodCorrected,
                entity: Entity::PaymentMethod,
                entity_id: Some(m.id.to_string()),
                details: json!({ "code": n.code, "reason": reason, "now": what, "trace": n.original_trace }),
            },
        )
        .await?;
    }
    Ok(format!(
        "{} {reason}: the saved account now has {what}",
        n.code
    ))
}

/// Reads every file in the inbox folder (not its sub-folders or hidden files), oldest name
/// first, and moves each to `read/` once its content is recorded. Returns what was read.
pub async fn read_inbox(pool: &PgPool, settings: &NachaSettings) -> Result<Vec<(String, Read)>> {
    let dir = &settings.inbox;
    let Ok(list) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut names: Vec<String> = list
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    let mut done = Vec::new();
    for name in names {
        let path = dir.join(&name);
        let bytes =
            std::fs::read(&path).map_err(|e| Error::Other(format!("{}: {e}", path.display())))?;
        let read = read_file(pool, settings, &name, &bytes).await?;
        move_read(dir, &name)?;
        done.push((name, read));
    }
    Ok(done)
}

fn move_read(dir: &Path, name: &str) -> Result<()> {
    let read = dir.join("read");
    std::fs::create_dir_all(&read).map_err(|e| Error::Other(format!("{}: {e}", read.display())))?;
    let mut target = read.join(name);
    let mut n = 1;
    while target.exists() {
        n += 1;
        target = read.join(format!("{name}.{n}"));
    }
    std::fs::rename(dir.join(name), &target).map_err(|e| Error::Other(format!("{name}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrected_data_by_change_code() {
        assert_eq!(
            correction("C01", "000987654321     "),
            Some(Correction {
                account: Some("000987654321".into()),
                ..Default::default()
            })
        );
        assert_eq!(
            correction("C02", "021000021")
                .unwrap()
                .routing
                .unwrap()
                .as_str(),
            "021000021"
        );
        let c03 = correction("C03", &format!("021000021   {:<17}", "12345678")).unwrap();
        assert_eq!(c03.account.as_deref(), Some("12345678"));
        assert_eq!(
            correction("C05", "37").unwrap().account_type,
            Some(AccountType::Savings)
        );
        let c06 = correction("C06", &format!("{:<17}   32", "55555")).unwrap();
        assert_eq!(
            (c06.account.as_deref(), c06.account_type),
            (Some("55555"), Some(AccountType::Savings))
        );
        let c07 = correction("C07", &format!("021000021{:<17}22", "12345678")).unwrap();
        assert_eq!(c07.routing.unwrap().as_str(), "021000021");
        assert_eq!(c07.account.as_deref(), Some("12345678"));
        assert_eq!(c07.account_type, Some(AccountType::Checking));
        // A routing number failing its check digit is not applied.
        assert_eq!(correction("C02", "021000022"), None);
        assert_eq!(correction("C04", "NEW NAME"), None);
    }

    #[test]
    fn a_file_whose_control_disagrees_is_refused() {
        let r = |s: String| format!("{s:<94}");
        let entry = format!(
            "626{}{}{:<17}{:010}{:<15}{:<22}  1{}",
            "02100002", "1", "000123456789", 1000, "P-100001", "NAME", "021000020000001"
        );
        let addenda = format!("799R01{}{:6}{}", "021000020000001", "", "02100002");
        let body = [
            r("101 0210000211234567890261207".into()),
            r("5225".into()),
            r(entry),
            r(addenda),
            r("8225".into()),
            r(format!(
                "9{:06}{:06}{:08}{:010}{:012}{:012}",
                1, 1, 2, 2100002, 1000, 0
            )),
        ]
        .join("\n");
        assert_eq!(parse(&body).unwrap().len(), 1);
        let n = &parse(&body).unwrap()[0];
        assert_eq!(
            (n.kind, n.code.as_str(), n.original_trace.as_str()),
            (Kind::Return, "R01", "021000020000001")
        );
        let tampered = body.replace("0000001000P", "0000002000P");
        assert!(parse(&tampered).unwrap_err().contains("file control"));
        assert!(parse("101 short").unwrap_err().contains("94-character"));
    }
}
