//! NACHA files: how ACH debits reach the seller's own bank (the ODFI). A file is fixed
//! 94-character records — a file header (1), per batch a batch header (5), its entries (6) and a
//! batch control (8), then a file control (9) — padded with records of nines to a multiple of
//! ten (the blocking factor), every record ending in a line feed. Controls carry the entry and
//! addenda count, the entry hash (the sum of the entries' RDFI routing numbers without their
//! check digit, its last ten digits) and the total debits and credits in cents. Writing is pure:
//! the same file asks for the same bytes.
//!
//! Layouts as the NACHA Operating Rules (Appendix Three) give them; positions below are 1-based
//! as there. Text fields are upper case, left-justified and blank-filled; numbers are
//! right-justified and zero-filled. Settle writes debits (service class 225) and, for a debit it
//! reverses, a credit of the same amount in a batch of its own described `REVERSAL` (220).

use chrono::{NaiveDate, NaiveDateTime};
use shared::bank::{AccountType, RoutingNumber};
use std::fmt::Write;

/// Characters per record.
pub const RECORD: usize = 94;
/// Records per block.
pub const BLOCKING: usize = 10;
/// The largest amount one entry carries: ten digits of cents.
pub const MAX_ENTRY_CENTS: u64 = 9_999_999_999;

/// How the customer authorized the debit (Standard Entry Class).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sec {
    /// A business's account, under a written or recorded agreement.
    Ccd,
    /// A consumer's account, with their signed authorization.
    Ppd,
    /// A consumer's account, authorized on a web page (with a payment type: single or recurring).
    Web,
}

impl Sec {
    pub fn code(self) -> &'static str {
        match self {
            Sec::Ccd => "CCD",
            Sec::Ppd => "PPD",
            Sec::Web => "WEB",
        }
    }
}

/// Who sends the file, to whom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileHeader {
    /// The ODFI's routing number (the immediate destination).
    pub destination: RoutingNumber,
    /// The ODFI's name (23 characters are kept).
    pub destination_name: String,
    /// The immediate origin the ODFI assigned: ten characters, often "1" and a tax id.
    pub origin: String,
    /// The seller's name (23 characters are kept).
    pub origin_name: String,
    pub created: NaiveDateTime,
    /// Tells apart files made the same day: A–Z or 0–9.
    pub modifier: char,
}

/// One batch: the entries of one SEC code and effective date, all debits or all credits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    /// The seller as the customer's statement names it (16 characters are kept).
    pub company_name: String,
    /// The seller's company identification at the ODFI: ten characters.
    pub company_id: String,
    pub sec: Sec,
    /// What the statement says the debit is for ("INVOICES"; 10 characters are kept);
    /// `REVERSAL` for a batch of reversing credits, as the rules require.
    pub description: String,
    pub effective: NaiveDate,
    /// The ODFI (the first eight digits of its routing number go in the batch).
    pub odfi: RoutingNumber,
    /// 1, 2, … within the file.
    pub number: u32,
    pub entries: Vec<Entry>,
}

/// The description the rules require of a batch of reversing entries.
pub const REVERSAL: &str = "REVERSAL";

/// One debit of a customer's account, or a credit reversing one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// A credit (a reversal of an earlier debit) rather than a debit.
    pub credit: bool,
    /// The customer's bank.
    pub rdfi: RoutingNumber,
    /// The customer's account number (at most 17 characters).
    pub account: String,
    pub account_type: AccountType,
    pub cents: u64,
    /// Settle's reference for the entry (the payment number; at most 15 characters).
    pub reference: String,
    /// The account holder (22 characters are kept).
    pub name: String,
    /// The entry's sequence number at the ODFI (seven digits): with the ODFI's eight digits it
    /// makes the trace number.
    pub sequence: u32,
}

impl Entry {
    /// Checking debit 27, savings debit 37; checking credit 22, savings credit 32.
    pub fn transaction_code(&self) -> u8 {
        match (self.account_type, self.credit) {
            (AccountType::Checking, false) => 27,
            (AccountType::Savings, false) => 37,
            (AccountType::Checking, true) => 22,
            (AccountType::Savings, true) => 32,
        }
    }

    /// The fifteen-digit trace number: the ODFI's eight digits and the sequence.
    pub fn trace(&self, odfi: &RoutingNumber) -> String {
        format!("{}{:07}", &odfi.as_str()[..8], self.sequence)
    }
}

/// What a file cannot hold.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NachaError {
    #[error("{field} {value:?} is longer than its {max} characters")]
    TooLong {
        field: &'static str,
        value: String,
        max: usize,
    },
    #[error("{field} {value:?} must be exactly {len} characters")]
    WrongLength {
        field: &'static str,
        value: String,
        len: usize,
    },
    #[error("an entry of {0} cents is more than ten digits")]
    AmountTooLarge(u64),
    #[error("sequence {0} is more than seven digits")]
    SequenceTooLarge(u32),
    #[error("batch number {0} is more than seven digits")]
    BatchNumberTooLarge(u32),
    #[error("the file modifier must be A–Z or 0–9, not {0:?}")]
    BadModifier(char),
    #[error("a batch has no entries")]
    EmptyBatch,
}

/// Text as a NACHA field takes it: upper case, printable ASCII only (a Latin letter with an
/// accent loses it, anything else becomes a space), cut to `width`, blank-filled on the right.
fn alpha(value: &str, width: usize) -> String {
    let clean: String = value
        .chars()
        .map(|c| {
            let c = unaccented(c).to_ascii_uppercase();
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                ' '
            }
        })
        .take(width)
        .collect();
    format!("{clean:<width$}")
}

/// The letter without its accent, for the Latin-1 letters names use (`Ü` → `U`, `ñ` → `n`).
fn unaccented(c: char) -> char {
    const FROM: &str = "ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖØòóôõöøÙÚÛÜùúûüÝýÿ";
    const TO: &str = "AAAAAAaaaaaaCcEEEEeeeeIIIIiiiiNnOOOOOOooooooUUUUuuuuYyy";
    FROM.chars()
        .position(|f| f == c)
        .and_then(|i| TO.chars().nth(i))
        .unwrap_or(c)
}

/// Text that must fit whole (ids, account numbers): refused when longer.
fn exact_alpha(field: &'static str, value: &str, width: usize) -> Result<String, NachaError> {
    if value.chars().count() > width {
        return Err(NachaError::TooLong {
            field,
            value: value.to_string(),
            max: width,
        });
    }
    Ok(alpha(value, width))
}

fn num(value: u64, width: usize) -> String {
    format!("{value:0width$}")
}

/// The last ten digits of an entry hash.
fn hash10(sum: u64) -> String {
    num(sum % 10_000_000_000, 10)
}

fn yymmdd(d: NaiveDate) -> String {
    d.format("%y%m%d").to_string()
}

/// What one batch adds up to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub entries: u64,
    pub hash: u64,
    pub debits: u64,
    pub credits: u64,
}

impl Totals {
    fn add(&mut self, other: Totals) {
        self.entries += other.entries;
        self.hash += other.hash;
        self.debits += other.debits;
        self.credits += other.credits;
    }
}

fn push(out: &mut String, record: String) {
    debug_assert_eq!(record.len(), RECORD, "{record}");
    out.push_str(&record);
    out.push('\n');
}

/// The file, every record followed by a line feed.
pub fn write(header: &FileHeader, batches: &[Batch]) -> Result<String, NachaError> {
    if !header.modifier.is_ascii_uppercase() && !header.modifier.is_ascii_digit() {
        return Err(NachaError::BadModifier(header.modifier));
    }
    if header.origin.chars().count() != 10 {
        return Err(NachaError::WrongLength {
            field: "immediate origin",
            value: header.origin.clone(),
            len: 10,
        });
    }
    let mut out = String::new();
    let mut records = 0usize;
    // 1 File Header: type 1, priority 01, destination (blank + routing), origin, date, time,
    // modifier, record size 094, blocking factor 10, format code 1, names, reference code.
    push(
        &mut out,
        format!(
            "101 {}{}{}{}{}094101{}{}{}",
            header.destination.as_str(),
            alpha(&header.origin, 10),
            header.created.format("%y%m%d"),
            header.created.format("%H%M"),
            header.modifier,
            alpha(&header.destination_name, 23),
            alpha(&header.origin_name, 23),
            alpha("", 8),
        ),
    );
    records += 1;
    let mut file = Totals::default();
    for b in batches {
        let (lines, totals) = batch(b)?;
        for line in lines {
            push(&mut out, line);
            records += 1;
        }
        file.add(totals);
    }
    records += 1;
    let blocks = records.div_ceil(BLOCKING);
    // 9 File Control: batch count, block count, entry/addenda count, entry hash, total debit,
    // total credit, 39 reserved blanks.
    push(
        &mut out,
        format!(
            "9{}{}{}{}{}{}{}",
            num(batches.len() as u64, 6),
            num(blocks as u64, 6),
            num(file.entries, 8),
            hash10(file.hash),
            num(file.debits, 12),
            num(file.credits, 12),
            alpha("", 39),
        ),
    );
    for _ in records..blocks * BLOCKING {
        push(&mut out, "9".repeat(RECORD));
    }
    Ok(out)
}

/// What a file's control record (the first `9` record that is not block filler) says it holds:
/// its entry/addenda count, entry hash, total debits and total credits in cents.
pub fn control_totals(body: &str) -> Option<Totals> {
    let record = body
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .find(|l| l.len() == RECORD && l.starts_with('9') && l.bytes().any(|b| b != b'9'))?;
    let field = |from: usize, to: usize| record.get(from..to)?.trim().parse::<u64>().ok();
    Some(Totals {
        entries: field(13, 21)?,
        hash: field(21, 31)?,
        debits: field(31, 43)?,
        credits: field(43, 55)?,
    })
}

/// A batch's records and what it adds up to.
fn batch(b: &Batch) -> Result<(Vec<String>, Totals), NachaError> {
    if b.entries.is_empty() {
        return Err(NachaError::EmptyBatch);
    }
    if b.number > 9_999_999 {
        return Err(NachaError::BatchNumberTooLarge(b.number));
    }
    if b.company_id.chars().count() != 10 {
        return Err(NachaError::WrongLength {
            field: "company identification",
            value: b.company_id.clone(),
            len: 10,
        });
    }
    let odfi8 = &b.odfi.as_str()[..8];
    // Debits only 225, credits only 220, both 200.
    let class = match (
        b.entries.iter().any(|e| !e.credit),
        b.entries.iter().any(|e| e.credit),
    ) {
        (true, false) => "225",
        (false, true) => "220",
        _ => "200",
    };
    let mut lines = Vec::with_capacity(b.entries.len() + 2);
    // 5 Batch Header: service class, company name, discretionary data (20),
    // company id, SEC, entry description, descriptive date (6), effective date, settlement date
    // (3 blanks, the ACH operator's), originator status 1, ODFI, batch number.
    lines.push(format!(
        "5{class}{}{}{}{}{}{}{}   1{}{}",
        alpha(&b.company_name, 16),
        alpha("", 20),
        alpha(&b.company_id, 10),
        b.sec.code(),
        alpha(&b.description, 10),
        alpha("", 6),
        yymmdd(b.effective),
        odfi8,
        num(u64::from(b.number), 7),
    ));
    let mut totals = Totals::default();
    for e in &b.entries {
        if e.cents > MAX_ENTRY_CENTS {
            return Err(NachaError::AmountTooLarge(e.cents));
        }
        if e.sequence > 9_999_999 {
            return Err(NachaError::SequenceTooLarge(e.sequence));
        }
        // WEB debits name their payment type in the discretionary data: S, a single entry.
        let discretionary = match b.sec {
            Sec::Web => "S ",
            Sec::Ccd | Sec::Ppd => "  ",
        };
        // 6 Entry Detail: transaction code, RDFI (8 + check digit), account (17), amount (10),
        // individual id (15), name (22), discretionary data (2), addenda indicator, trace.
        let mut line = String::with_capacity(RECORD);
        let _ = write!(
            line,
            "6{}{}{}{}{}{}{}0{}",
            e.transaction_code(),
            e.rdfi.as_str(),
            exact_alpha("account number", &e.account, 17)?,
            num(e.cents, 10),
            exact_alpha("individual identification", &e.reference, 15)?,
            alpha(&e.name, 22),
            discretionary,
            e.trace(&b.odfi),
        );
        lines.push(line);
        totals.entries += 1;
        totals.hash += e.rdfi.as_str()[..8].parse::<u64>().expect("routing digits");
        if e.credit {
            totals.credits += e.cents;
        } else {
            totals.debits += e.cents;
        }
    }
    // 8 Batch Control: service class, entry/addenda count, entry hash, total debit, total
    // credit, company id, message authentication (19 blanks), reserved (6), ODFI, batch number.
    lines.push(format!(
        "8{class}{}{}{}{}{}{}{}{}{}",
        num(totals.entries, 6),
        hash10(totals.hash),
        num(totals.debits, 12),
        num(totals.credits, 12),
        alpha(&b.company_id, 10),
        alpha("", 19),
        alpha("", 6),
        odfi8,
        num(u64::from(b.number), 7),
    ));
    Ok((lines, totals))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routing(r: &str) -> RoutingNumber {
        RoutingNumber::parse(r).unwrap()
    }

    fn header() -> FileHeader {
        FileHeader {
            destination: routing("021000021"),
            destination_name: "JPMorgan Chase Bank".into(),
            origin: "1234567890".into(),
            origin_name: "Northwind Supply Co".into(),
            created: NaiveDate::from_ymd_opt(2026, 12, 7)
                .unwrap()
                .and_hms_opt(14, 30, 0)
                .unwrap(),
            modifier: 'A',
        }
    }

    fn one_batch() -> Batch {
        Batch {
            company_name: "Northwind Supply".into(),
            company_id: "1234567890".into(),
            sec: Sec::Ccd,
            description: "Invoices".into(),
            effective: NaiveDate::from_ymd_opt(2026, 12, 8).unwrap(),
            odfi: routing("021000021"),
            number: 1,
            entries: vec![
                Entry {
                    credit: false,
                    rdfi: routing("110000000"),
                    account: "000123456789".into(),
                    account_type: AccountType::Checking,
                    cents: 125_050,
                    reference: "P-100042".into(),
                    name: "Acme Tools & Co".into(),
                    sequence: 1,
                },
                Entry {
                    credit: false,
                    rdfi: routing("026009593"),
                    account: "987654321".into(),
                    account_type: AccountType::Savings,
                    cents: 9_999,
                    reference: "P-100043".into(),
                    name: "Cedar Creek Plumbing & Heating".into(),
                    sequence: 2,
                },
            ],
        }
    }

    /// A field at 1-based positions `from..=to`, as the Rules number them.
    fn at(record: &str, from: usize, to: usize) -> &str {
        &record[from - 1..to]
    }

    #[test]
    fn one_batch_field_by_field_against_the_nacha_layout() {
        let text = write(&header(), &[one_batch()]).unwrap();
        let r: Vec<&str> = text.lines().collect();
        assert_eq!(r.len(), 10, "5 records padded to one block of ten");
        assert!(r.iter().all(|l| l.len() == RECORD));
        assert!(text.ends_with('\n'));
        // File Header Record.
        let h = r[0];
        assert_eq!(at(h, 1, 1), "1", "record type");
        assert_eq!(at(h, 2, 3), "01", "priority code");
        assert_eq!(at(h, 4, 13), " 021000021", "immediate destination");
        assert_eq!(at(h, 14, 23), "1234567890", "immediate origin");
        assert_eq!(at(h, 24, 29), "261207", "file creation date");
        assert_eq!(at(h, 30, 33), "1430", "file creation time");
        assert_eq!(at(h, 34, 34), "A", "file id modifier");
        assert_eq!(at(h, 35, 37), "094", "record size");
        assert_eq!(at(h, 38, 39), "10", "blocking factor");
        assert_eq!(at(h, 40, 40), "1", "format code");
        assert_eq!(at(h, 41, 63), "JPMORGAN CHASE BANK    ", "destination name");
        assert_eq!(at(h, 64, 86), "NORTHWIND SUPPLY CO    ", "origin name");
        assert_eq!(at(h, 87, 94), "        ", "reference code");
        // Company/Batch Header Record.
        let b = r[1];
        assert_eq!(at(b, 1, 1), "5");
        assert_eq!(at(b, 2, 4), "225", "service class: debits only");
        assert_eq!(at(b, 5, 20), "NORTHWIND SUPPLY", "company name");
        assert_eq!(at(b, 21, 40), " ".repeat(20), "company discretionary data");
        assert_eq!(at(b, 41, 50), "1234567890", "company identification");
        assert_eq!(at(b, 51, 53), "CCD", "standard entry class");
        assert_eq!(at(b, 54, 63), "INVOICES  ", "company entry description");
        assert_eq!(at(b, 64, 69), "      ", "company descriptive date");
        assert_eq!(at(b, 70, 75), "261208", "effective entry date");
        assert_eq!(at(b, 76, 78), "   ", "settlement date (the operator's)");
        assert_eq!(at(b, 79, 79), "1", "originator status code");
        assert_eq!(at(b, 80, 87), "02100002", "originating DFI");
        assert_eq!(at(b, 88, 94), "0000001", "batch number");
        // Entry Detail Records.
        let e = r[2];
        assert_eq!(at(e, 1, 1), "6");
        assert_eq!(at(e, 2, 3), "27", "transaction code: checking debit");
        assert_eq!(at(e, 4, 11), "11000000", "receiving DFI");
        assert_eq!(at(e, 12, 12), "0", "check digit");
        assert_eq!(at(e, 13, 29), "000123456789     ", "DFI account number");
        assert_eq!(at(e, 30, 39), "0000125050", "amount");
        assert_eq!(
            at(e, 40, 54),
            "P-100042       ",
            "individual identification"
        );
        assert_eq!(at(e, 55, 76), "ACME TOOLS & CO       ", "individual name");
        assert_eq!(at(e, 77, 78), "  ", "discretionary data");
        assert_eq!(at(e, 79, 79), "0", "addenda record indicator");
        assert_eq!(at(e, 80, 94), "021000020000001", "trace number");
        let e2 = r[3];
        assert_eq!(at(e2, 2, 3), "37", "savings debit");
        assert_eq!(at(e2, 55, 76), "CEDAR CREEK PLUMBING &", "name cut to 22");
        assert_eq!(at(e2, 80, 94), "021000020000002");
        // Company/Batch Control Record.
        let c = r[4];
        assert_eq!(at(c, 1, 1), "8");
        assert_eq!(at(c, 2, 4), "225");
        assert_eq!(at(c, 5, 10), "000002", "entry/addenda count");
        // 11000000 + 02600959
        assert_eq!(at(c, 11, 20), "0013600959", "entry hash");
        assert_eq!(at(c, 21, 32), "000000135049", "total debit");
        assert_eq!(at(c, 33, 44), "000000000000", "total credit");
        assert_eq!(at(c, 45, 54), "1234567890", "company identification");
        assert_eq!(at(c, 55, 73), " ".repeat(19), "message authentication code");
        assert_eq!(at(c, 74, 79), " ".repeat(6), "reserved");
        assert_eq!(at(c, 80, 87), "02100002", "originating DFI");
        assert_eq!(at(c, 88, 94), "0000001", "batch number");
        // File Control Record.
        let f = r[5];
        assert_eq!(at(f, 1, 1), "9");
        assert_eq!(at(f, 2, 7), "000001", "batch count");
        assert_eq!(at(f, 8, 13), "000001", "block count");
        assert_eq!(at(f, 14, 21), "00000002", "entry/addenda count");
        assert_eq!(at(f, 22, 31), "0013600959", "entry hash");
        assert_eq!(at(f, 32, 43), "000000135049", "total debit");
        assert_eq!(at(f, 44, 55), "000000000000", "total credit");
        assert_eq!(at(f, 56, 94), " ".repeat(39), "reserved");
        // Block filler.
        assert!(r[6..].iter().all(|l| *l == "9".repeat(94)));
        // Read back: the control record, not the filler.
        assert_eq!(
            control_totals(&text),
            Some(Totals {
                entries: 2,
                hash: 13_600_959,
                debits: 135_049,
                credits: 0
            })
        );
        assert_eq!(control_totals(&"9".repeat(94)), None);
    }

    #[test]
    fn the_same_file_gives_the_same_bytes() {
        let a = write(&header(), &[one_batch()]).unwrap();
        assert_eq!(a, write(&header(), &[one_batch()]).unwrap());
    }

    #[test]
    fn web_debits_name_a_single_entry_and_hashes_keep_ten_digits() {
        let mut b = one_batch();
        b.sec = Sec::Web;
        // Enough entries for the hash to pass ten digits: 200 × 99,999,999 (the largest eight
        // digits a routing number starts with here: 999999992).
        b.entries = (1..=200)
            .map(|i| Entry {
                credit: false,
                rdfi: routing("999999992"),
                account: format!("{i}"),
                account_type: AccountType::Checking,
                cents: 100,
                reference: format!("P-{i}"),
                name: "Payer".into(),
                sequence: i,
            })
            .collect();
        let text = write(&header(), &[b]).unwrap();
        let r: Vec<&str> = text.lines().collect();
        assert_eq!(at(r[2], 77, 78), "S ");
        let control = r[202];
        assert_eq!(at(control, 1, 1), "8");
        // 200 × 99999999 = 19,999,999,800: the last ten digits.
        assert_eq!(at(control, 11, 20), "9999999800");
        assert_eq!(r.len() % BLOCKING, 0);
        let file_control = r[203];
        assert_eq!(at(file_control, 8, 13), format!("{:06}", r.len() / 10));
    }

    #[test]
    fn what_does_not_fit_is_refused_not_cut() {
        let mut b = one_batch();
        b.entries[0].account = "123456789012345678".into();
        assert!(matches!(
            write(&header(), &[b]),
            Err(NachaError::TooLong {
                field: "account number",
                ..
            })
        ));
        let mut b = one_batch();
        b.entries[0].cents = MAX_ENTRY_CENTS + 1;
        assert!(matches!(
            write(&header(), &[b]),
            Err(NachaError::AmountTooLarge(_))
        ));
        let mut b = one_batch();
        b.entries.clear();
        assert_eq!(write(&header(), &[b]), Err(NachaError::EmptyBatch));
        let mut h = header();
        h.modifier = 'a';
        assert!(write(&h, &[one_batch()]).is_err());
        let mut h = header();
        h.origin = "123".into();
        assert!(write(&h, &[one_batch()]).is_err());
    }

    #[test]
    fn names_are_upper_case_ascii() {
        assert_eq!(
            alpha("Müller & Söhne — Ñandú", 22),
            "MULLER & SOHNE   NANDU"
        );
        assert_eq!(alpha("ab", 4), "AB  ");
    }
}
