//! NACHA files Settle writes, read back by an independent parser and validator (PyPI achkit,
//! through scripts/nacha-check.py, installed by `make tools`): every file parses, its records,
//! blocking, routing checksums, entry hashes and batch and file totals hold, and the totals and
//! trace numbers it reads are the ones written.

use chrono::NaiveDate;
use serde_json::Value;
use server::ach_files::nacha::{self, Batch, Entry, FileHeader, Sec};
use shared::bank::{AccountType, RoutingNumber};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn routing(r: &str) -> RoutingNumber {
    RoutingNumber::parse(r).unwrap()
}

/// Banks whose routing numbers pass the checksum, for the customers' accounts.
const RDFIS: [&str; 5] = [
    "110000000",
    "021000021",
    "026009593",
    "121000248",
    "011000015",
];

fn header(modifier: char) -> FileHeader {
    FileHeader {
        destination: routing("021000021"),
        destination_name: "JPMorgan Chase Bank".into(),
        origin: "1234567890".into(),
        origin_name: "Northwind Supply Co".into(),
        created: NaiveDate::from_ymd_opt(2026, 12, 7)
            .unwrap()
            .and_hms_opt(14, 30, 0)
            .unwrap(),
        modifier,
    }
}

fn batch(number: u32, sec: Sec, entries: u32, first_sequence: u32) -> Batch {
    Batch {
        company_name: "Northwind Supply".into(),
        company_id: "1234567890".into(),
        sec,
        description: "Invoices".into(),
        effective: NaiveDate::from_ymd_opt(2026, 12, 8).unwrap(),
        odfi: routing("021000021"),
        number,
        entries: (0..entries)
            .map(|i| Entry {
                credit: false,
                rdfi: routing(RDFIS[i as usize % RDFIS.len()]),
                account: format!("{:012}", 4_000_000 + i),
                account_type: if i % 3 == 0 {
                    AccountType::Savings
                } else {
                    AccountType::Checking
                },
                cents: 1 + u64::from(i) * 12_345,
                reference: format!("P-{}", 100_000 + first_sequence + i),
                name: format!("Customer {i} Ümlaut & Co"),
                sequence: first_sequence + i,
            })
            .collect(),
    }
}

/// The checker's verdict per file.
fn check(files: &[PathBuf]) -> Vec<Value> {
    let python = root().join(".data/venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `make tools` (it installs achkit)",
        python.display()
    );
    let out = Command::new(python)
        .arg(root().join("scripts/nacha-check.py"))
        .args(files)
        .output()
        .expect("the checker runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the independent parser refused a file: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn every_file_settle_writes_is_read_back_whole_by_an_independent_parser() {
    let dir = tempfile_dir();
    let files = [
        ("one-batch", vec![batch(1, Sec::Ccd, 2, 1)]),
        (
            "three-sec-codes",
            vec![
                batch(1, Sec::Ccd, 7, 1),
                batch(2, Sec::Ppd, 12, 8),
                batch(3, Sec::Web, 9, 20),
            ],
        ),
        ("a-thousand", vec![batch(1, Sec::Ccd, 1_000, 1)]),
    ];
    let mut paths = Vec::new();
    let mut expected = Vec::new();
    for (i, (name, batches)) in files.iter().enumerate() {
        let text = nacha::write(&header((b'A' + i as u8) as char), batches).unwrap();
        let path = dir.join(format!("{name}.ach"));
        std::fs::write(&path, &text).unwrap();
        paths.push(path);
        let entries: Vec<&Entry> = batches.iter().flat_map(|b| &b.entries).collect();
        let traces: Vec<String> = batches
            .iter()
            .flat_map(|b| b.entries.iter().map(|e| e.trace(&b.odfi)))
            .collect();
        expected.push((
            batches.len() as u64,
            entries.len() as u64,
            entries.iter().map(|e| e.cents).sum::<u64>(),
            text.lines().count() as u64 / 10,
            traces,
        ));
    }
    let verdicts = check(&paths);
    assert_eq!(verdicts.len(), files.len());
    for (v, (batches, entries, debit, blocks, traces)) in verdicts.iter().zip(expected) {
        assert_eq!(v["ok"], true, "{v}");
        assert_eq!(v["batches"], batches, "{v}");
        assert_eq!(v["entries"], entries, "{v}");
        assert_eq!(v["total_debit"], debit, "{v}");
        assert_eq!(v["total_credit"], 0, "{v}");
        assert_eq!(v["block_count"], blocks, "{v}");
        let read: Vec<String> = v["traces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_string())
            .collect();
        assert_eq!(read, traces, "trace numbers read back as written");
    }
}

#[test]
fn the_independent_parser_would_catch_a_wrong_total() {
    // The check is not a formality: one digit changed in the batch control's total debit.
    let text = nacha::write(&header('A'), &[batch(1, Sec::Ccd, 3, 1)]).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let control = lines.iter().position(|l| l.starts_with('8')).unwrap();
    let digit = lines[control].as_bytes()[31];
    let other = if digit == b'9' { '8' } else { '9' };
    lines[control].replace_range(31..32, &other.to_string());
    let dir = tempfile_dir();
    let path = dir.join("tampered.ach");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let out = Command::new(root().join(".data/venv/bin/python"))
        .arg(root().join("scripts/nacha-check.py"))
        .arg(&path)
        .output()
        .expect("the checker runs");
    assert!(!out.status.success(), "a wrong total is refused");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("BAD_BATCH_DEBIT"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// A fresh folder under the system's temporary directory (kept for a look after a failure).
fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "settle-nacha-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
