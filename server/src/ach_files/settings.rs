//! The NACHA rail's settings (`SETTLE_ACH_RAIL=nacha`): who the seller is at its bank, when
//! files are cut, where they are written and read, and the key that seals account numbers.

use crate::config_error::ConfigError;
use chrono::NaiveTime;
use shared::bank::RoutingNumber;
use std::fmt;
use std::path::PathBuf;

/// How ACH debits leave Settle.
#[derive(Clone, Debug)]
pub struct NachaSettings {
    /// `SETTLE_NACHA_ODFI_ROUTING`: the seller's bank (the immediate destination, and the first
    /// eight digits of every trace number).
    pub odfi: RoutingNumber,
    /// `SETTLE_NACHA_ODFI_NAME`: its name in the file header.
    pub odfi_name: String,
    /// `SETTLE_NACHA_ORIGIN` (ten characters the bank assigned, often "1" and a tax id).
    pub origin: String,
    /// `SETTLE_NACHA_COMPANY_ID` (ten characters; default: the origin).
    pub company_id: String,
    /// `SETTLE_NACHA_COMPANY_NAME` (default: the seller's name): on the customer's statement.
    pub company_name: String,
    /// `SETTLE_NACHA_ENTRY_DESCRIPTION` (default `INVOICES`).
    pub description: String,
    /// `SETTLE_NACHA_CUTOFFS` (default `14:00`): the times of day (UTC) a file is cut, on
    /// banking days.
    pub cutoffs: Vec<NaiveTime>,
    /// `SETTLE_NACHA_SAME_DAY_UNTIL` (default none): a cut-off at or before this time of a
    /// banking day makes a same-day file (entries up to $1,000,000; larger ones go next day).
    pub same_day_until: Option<NaiveTime>,
    /// `SETTLE_NACHA_OUTBOX` (default `.data/ach/outbox`): where files for the bank are written.
    pub outbox: PathBuf,
    /// `SETTLE_NACHA_INBOX` (default `.data/ach/inbox`): where the bank's return and
    /// notification-of-change files are dropped; each is moved to `read/` once read.
    pub inbox: PathBuf,
    /// `SETTLE_ACH_VAULT_KEY` (64 hex digits): seals account numbers at rest.
    pub vault_key: VaultKey,
}

/// A 256-bit key, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct VaultKey(pub [u8; 32]);

impl fmt::Debug for VaultKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VaultKey(hidden)")
    }
}

impl VaultKey {
    pub fn parse(hex: &str) -> Option<VaultKey> {
        let hex = hex.trim();
        if hex.len() != 64 {
            return None;
        }
        let mut key = [0u8; 32];
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(VaultKey(key))
    }
}

fn invalid(name: &'static str, expected: &'static str, value: &str) -> ConfigError {
    ConfigError::Invalid {
        name,
        expected,
        value: value.to_string(),
    }
}

impl NachaSettings {
    /// A seller banking with JPMorgan Chase (021000021), origin and company id 1234567890,
    /// one cut-off at 14:00, no same day, its folders under `dir` and a fixed vault key: for
    /// tests and benchmarks.
    pub fn example(dir: &std::path::Path) -> NachaSettings {
        NachaSettings {
            odfi: RoutingNumber::parse("021000021").expect("a valid routing number"),
            odfi_name: "JPMorgan Chase Bank".into(),
            origin: "1234567890".into(),
            company_id: "1234567890".into(),
            company_name: "Northwind Supply".into(),
            description: "INVOICES".into(),
            cutoffs: vec![NaiveTime::from_hms_opt(14, 0, 0).expect("a time of day")],
            same_day_until: None,
            outbox: dir.join("outbox"),
            inbox: dir.join("inbox"),
            vault_key: VaultKey([42; 32]),
        }
    }

    /// The settings when `SETTLE_ACH_RAIL` is `nacha`; `None` for `gateway` (the default).
    pub fn from_lookup(
        get: &impl Fn(&str) -> Option<String>,
        seller_name: &str,
    ) -> Result<Option<NachaSettings>, ConfigError> {
        let value = |name: &str| {
            get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        match value("SETTLE_ACH_RAIL").as_deref() {
            None | Some("gateway") => return Ok(None),
            Some("nacha") => {}
            Some(other) => return Err(invalid("SETTLE_ACH_RAIL", "gateway or nacha", other)),
        }
        let required = |name: &'static str| {
            value(name).ok_or(ConfigError::Invalid {
                name,
                expected: "set when SETTLE_ACH_RAIL=nacha",
                value: String::new(),
            })
        };
        let odfi_raw = required("SETTLE_NACHA_ODFI_ROUTING")?;
        let odfi = RoutingNumber::parse(&odfi_raw).map_err(|_| {
            invalid(
                "SETTLE_NACHA_ODFI_ROUTING",
                "a 9-digit routing number",
                &odfi_raw,
            )
        })?;
        let origin = required("SETTLE_NACHA_ORIGIN")?;
        if origin.len() != 10 || !origin.is_ascii() {
            return Err(invalid(
                "SETTLE_NACHA_ORIGIN",
                "the ten characters the bank assigned",
                &origin,
            ));
        }
        let company_id = value("SETTLE_NACHA_COMPANY_ID").unwrap_or_else(|| origin.clone());
        if company_id.len() != 10 || !company_id.is_ascii() {
            return Err(invalid(
                "SETTLE_NACHA_COMPANY_ID",
                "ten characters",
                &company_id,
            ));
        }
        let time = |name: &'static str, raw: &str| {
            NaiveTime::parse_from_str(raw.trim(), "%H:%M")
                .map_err(|_| invalid(name, "times of day as HH:MM (UTC)", raw))
        };
        let mut cutoffs = value("SETTLE_NACHA_CUTOFFS")
            .unwrap_or_else(|| "14:00".into())
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| time("SETTLE_NACHA_CUTOFFS", s))
            .collect::<Result<Vec<_>, _>>()?;
        cutoffs.sort();
        cutoffs.dedup();
        if cutoffs.is_empty() {
            return Err(invalid(
                "SETTLE_NACHA_CUTOFFS",
                "at least one time of day",
                "",
            ));
        }
        let same_day_until = value("SETTLE_NACHA_SAME_DAY_UNTIL")
            .map(|v| time("SETTLE_NACHA_SAME_DAY_UNTIL", &v))
            .transpose()?;
        let key_raw = required("SETTLE_ACH_VAULT_KEY")?;
        let vault_key = VaultKey::parse(&key_raw).ok_or(ConfigError::Invalid {
            name: "SETTLE_ACH_VAULT_KEY",
            expected: "64 hex digits (32 random bytes)",
            value: "(hidden)".into(),
        })?;
        Ok(Some(NachaSettings {
            odfi,
            odfi_name: value("SETTLE_NACHA_ODFI_NAME").unwrap_or_default(),
            origin,
            company_id,
            company_name: value("SETTLE_NACHA_COMPANY_NAME")
                .unwrap_or_else(|| seller_name.to_string()),
            description: value("SETTLE_NACHA_ENTRY_DESCRIPTION")
                .unwrap_or_else(|| "INVOICES".into()),
            cutoffs,
            same_day_until,
            outbox: value("SETTLE_NACHA_OUTBOX")
                .unwrap_or_else(|| ".data/ach/outbox".into())
                .into(),
            inbox: value("SETTLE_NACHA_INBOX")
                .unwrap_or_else(|| ".data/ach/inbox".into())
                .into(),
            vault_key,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read(pairs: &[(&str, &str)]) -> Result<Option<NachaSettings>, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        NachaSettings::from_lookup(&|k: &str| map.get(k).cloned(), "Northwind Supply")
    }

    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn the_gateway_rail_needs_nothing() {
        assert!(read(&[]).unwrap().is_none());
        assert!(read(&[("SETTLE_ACH_RAIL", "gateway")]).unwrap().is_none());
        assert!(read(&[("SETTLE_ACH_RAIL", "bank")]).is_err());
    }

    #[test]
    fn the_nacha_rail_reads_its_bank_and_cutoffs() {
        let s = read(&[
            ("SETTLE_ACH_RAIL", "nacha"),
            ("SETTLE_NACHA_ODFI_ROUTING", "021000021"),
            ("SETTLE_NACHA_ORIGIN", "1234567890"),
            ("SETTLE_NACHA_CUTOFFS", "20:00, 14:30"),
            ("SETTLE_NACHA_SAME_DAY_UNTIL", "19:00"),
            ("SETTLE_ACH_VAULT_KEY", KEY),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(s.company_id, "1234567890");
        assert_eq!(s.company_name, "Northwind Supply");
        assert_eq!(s.cutoffs.len(), 2);
        assert!(s.cutoffs[0] < s.cutoffs[1]);
        assert_eq!(s.vault_key.0[31], 0x1f);
        assert_eq!(format!("{:?}", s.vault_key), "VaultKey(hidden)");
    }

    #[test]
    fn each_missing_or_wrong_setting_is_named() {
        let base = [
            ("SETTLE_ACH_RAIL", "nacha"),
            ("SETTLE_NACHA_ODFI_ROUTING", "021000021"),
            ("SETTLE_NACHA_ORIGIN", "1234567890"),
            ("SETTLE_ACH_VAULT_KEY", KEY),
        ];
        for (name, bad) in [
            ("SETTLE_NACHA_ODFI_ROUTING", "021000022"),
            ("SETTLE_NACHA_ORIGIN", "123"),
            ("SETTLE_ACH_VAULT_KEY", "abc"),
            ("SETTLE_NACHA_CUTOFFS", "2pm"),
        ] {
            let pairs: Vec<(&str, &str)> = base
                .iter()
                .filter(|(k, _)| *k != name)
                .copied()
                .chain([(name, bad)])
                .collect();
            match read(&pairs) {
                Err(ConfigError::Invalid { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{name}: {other:?}"),
            }
        }
    }
}
