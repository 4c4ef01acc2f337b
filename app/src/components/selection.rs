//! Selecting open invoices to pay, with the amount to pay on each (its balance unless
//! lowered, with a reason) and a running total.

use leptos::prelude::*;
use shared::error::FieldError;
use shared::invoice::OpenInvoice;
use shared::money::{Currency, Money};
use shared::payment::{amount_field, check_line_against_balance, parse_amount, PaymentLine};
use shared::InvoiceId;
use std::collections::BTreeMap;

/// Which invoices are selected and what is typed for each. Cheap to copy into closures.
#[derive(Clone, Copy)]
pub struct Selection {
    /// Selected invoice id → amount as typed.
    pub amounts: RwSignal<BTreeMap<InvoiceId, String>>,
    /// Invoice id → short-pay reason as typed.
    pub reasons: RwSignal<BTreeMap<InvoiceId, String>>,
    /// Errors shown under the table's inputs after an attempt to pay.
    pub errors: RwSignal<Vec<FieldError>>,
}

impl Default for Selection {
    fn default() -> Self {
        Self::new()
    }
}

impl Selection {
    pub fn new() -> Self {
        Selection {
            amounts: RwSignal::new(BTreeMap::new()),
            reasons: RwSignal::new(BTreeMap::new()),
            errors: RwSignal::new(Vec::new()),
        }
    }

    pub fn is_selected(&self, id: InvoiceId) -> bool {
        self.amounts.with(|m| m.contains_key(&id))
    }

    pub fn toggle(&self, inv: &OpenInvoice) {
        let (id, balance) = (inv.id, inv.balance.amount().to_string());
        self.amounts.update(|m| {
            if m.remove(&id).is_none() {
                m.insert(id, balance);
            }
        });
        self.errors.set(Vec::new());
    }

    /// Selects all of `invoices`, or none when all are already selected.
    pub fn toggle_all(&self, invoices: &[OpenInvoice]) {
        let all = self
            .amounts
            .with(|m| invoices.iter().all(|i| m.contains_key(&i.id)));
        self.amounts.update(|m| {
            m.clear();
            if !all {
                m.extend(
                    invoices
                        .iter()
                        .map(|i| (i.id, i.balance.amount().to_string())),
                );
            }
        });
        self.errors.set(Vec::new());
    }

    pub fn clear(&self) {
        self.amounts.update(|m| m.clear());
        self.reasons.update(|m| m.clear());
        self.errors.set(Vec::new());
    }

    pub fn count(&self) -> usize {
        self.amounts.with(|m| m.len())
    }

    /// The total of the amounts typed so far (amounts that are not numbers count as zero).
    pub fn total(&self, currency: Currency) -> Money {
        self.amounts.with(|m| {
            m.iter()
                .filter_map(|(id, a)| parse_amount(&amount_field(*id), a, currency).ok())
                .fold(Money::zero(currency), |acc, x| {
                    acc.checked_add(x).unwrap_or(acc)
                })
        })
    }

    /// The selected lines, checked against the balances shown; the first error otherwise
    /// (also kept in `errors` for the inputs to show).
    pub fn lines(
        &self,
        invoices: &[OpenInvoice],
    ) -> Result<Vec<(OpenInvoice, PaymentLine)>, FieldError> {
        let amounts = self.amounts.get_untracked();
        let reasons = self.reasons.get_untracked();
        let mut out = Vec::new();
        let mut errors = Vec::new();
        for inv in invoices.iter().filter(|i| amounts.contains_key(&i.id)) {
            let typed = &amounts[&inv.id];
            let reason = reasons
                .get(&inv.id)
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty());
            match parse_amount(&amount_field(inv.id), typed, inv.balance.currency()) {
                Err(e) => errors.push(e),
                Ok(amount) => {
                    let line = PaymentLine {
                        invoice_id: inv.id,
                        amount,
                        short_pay_reason: reason,
                    };
                    match check_line_against_balance(&line, inv.balance) {
                        Err(e) => errors.push(e),
                        Ok(()) => out.push((inv.clone(), line)),
                    }
                }
            }
        }
        let first = errors.first().cloned();
        self.errors.set(errors);
        match first {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }

    /// The error for a field of the table, if any.
    pub fn error_for(&self, field: &str) -> Option<String> {
        self.errors.with(|es| {
            es.iter()
                .find(|e| e.field == field)
                .map(|e| e.message.clone())
        })
    }
}
