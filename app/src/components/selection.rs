//! Selecting open invoices to pay, with the amount to pay on each (its balance unless
//! lowered, with a reason) and a running total.

use super::payment_dialog::PayLine;
use crate::server_fns::reasons::offered_reasons;
use leptos::prelude::*;
use shared::error::FieldError;
use shared::invoice::OpenInvoice;
use shared::money::Money;
use shared::payment::{
    amount_field, check_line_against_balance, parse_amount, reason_field, reason_note_field,
    PaymentLine,
};
use shared::reason::{ReasonCode, ReasonKind};
use shared::InvoiceId;
use std::collections::BTreeMap;

/// Which invoices are selected (on any page of the list) and what is typed for each. Cheap to
/// copy into closures.
#[derive(Clone, Copy)]
pub struct Selection {
    /// Selected invoice id → amount as typed.
    pub amounts: RwSignal<BTreeMap<InvoiceId, String>>,
    /// Invoice id → short-pay reason code as chosen.
    pub codes: RwSignal<BTreeMap<InvoiceId, String>>,
    /// Invoice id → short-pay comment as typed.
    pub reasons: RwSignal<BTreeMap<InvoiceId, String>>,
    /// The short-pay reasons offered (loaded once the table is in the browser).
    pub offered: RwSignal<Option<Vec<ReasonCode>>>,
    /// Errors shown under the table's inputs after an attempt to pay.
    pub errors: RwSignal<Vec<FieldError>>,
    /// The selected invoices as they were listed when picked, so a selection outlives the
    /// page it was made on.
    picked: StoredValue<BTreeMap<InvoiceId, OpenInvoice>>,
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
            codes: RwSignal::new(BTreeMap::new()),
            reasons: RwSignal::new(BTreeMap::new()),
            offered: RwSignal::new(None),
            errors: RwSignal::new(Vec::new()),
            picked: StoredValue::new(BTreeMap::new()),
        }
    }

    /// Loads the short-pay reasons offered, for whoever pays (`link`: a pay link's token), once
    /// the page is in the browser.
    pub fn offer_reasons(&self, link: Option<String>) {
        let offered = self.offered;
        Effect::new(move |_| {
            let link = link.clone();
            leptos::task::spawn_local(async move {
                if let Ok(list) = offered_reasons(ReasonKind::ShortPay, link).await {
                    offered.set(Some(list));
                }
            });
        });
    }

    pub fn is_selected(&self, id: InvoiceId) -> bool {
        self.amounts.with(|m| m.contains_key(&id))
    }

    pub fn toggle(&self, inv: &OpenInvoice) {
        if self.is_selected(inv.id) {
            self.amounts.update(|m| {
                m.remove(&inv.id);
            });
            self.errors.set(Vec::new());
        } else {
            self.add(std::slice::from_ref(inv));
        }
    }

    /// Adds `invoices` (each at its balance), keeping what is typed on those already selected.
    pub fn add(&self, invoices: &[OpenInvoice]) {
        self.picked.update_value(|p| {
            p.extend(invoices.iter().map(|i| (i.id, i.clone())));
        });
        self.amounts.update(|m| {
            for i in invoices {
                m.entry(i.id)
                    .or_insert_with(|| i.balance.amount().to_string());
            }
        });
        self.errors.set(Vec::new());
    }

    /// Selects every invoice of a page, or unselects them when all already are; the other
    /// pages' selection stays.
    pub fn toggle_page(&self, page: &[OpenInvoice]) {
        if self.page_state(page).0 {
            self.amounts.update(|m| {
                for i in page {
                    m.remove(&i.id);
                }
            });
            self.errors.set(Vec::new());
        } else {
            self.add(page);
        }
    }

    /// (all of the page selected, some but not all of it).
    pub fn page_state(&self, page: &[OpenInvoice]) -> (bool, bool) {
        self.amounts.with(|m| {
            let n = page.iter().filter(|i| m.contains_key(&i.id)).count();
            (n > 0 && n == page.len(), n > 0 && n < page.len())
        })
    }

    pub fn clear(&self) {
        self.amounts.update(|m| m.clear());
        self.codes.update(|m| m.clear());
        self.reasons.update(|m| m.clear());
        self.picked.update_value(|p| p.clear());
        self.errors.set(Vec::new());
    }

    pub fn count(&self) -> usize {
        self.amounts.with(|m| m.len())
    }

    /// The total of the amounts typed so far, in the selected invoices' currency (amounts that
    /// are not numbers count as zero); `None` when nothing is selected.
    pub fn total(&self) -> Option<Money> {
        self.amounts.with(|m| {
            let first = m.keys().next()?;
            let currency = self
                .picked
                .with_value(|p| p.get(first).map(|i| i.balance.currency()))?;
            Some(
                m.iter()
                    .filter_map(|(id, a)| parse_amount(&amount_field(*id), a, currency).ok())
                    .fold(Money::zero(currency), |acc, x| {
                        acc.checked_add(x).unwrap_or(acc)
                    }),
            )
        })
    }

    /// "2 selected · $1,250.00", or "0 selected".
    pub fn summary(&self) -> String {
        let n = self.count();
        match self.total() {
            Some(total) => format!("{n} selected · {}", total.display()),
            None => format!("{n} selected"),
        }
    }

    /// The selected lines, oldest due first, checked against the balances listed; the first
    /// error otherwise (also kept in `errors` for the inputs to show).
    pub fn lines(&self) -> Result<Vec<PayLine>, FieldError> {
        let amounts = self.amounts.get_untracked();
        let codes = self.codes.get_untracked();
        let reasons = self.reasons.get_untracked();
        let mut invoices: Vec<OpenInvoice> = self
            .picked
            .with_value(|p| amounts.keys().filter_map(|id| p.get(id).cloned()).collect());
        invoices.sort_by(|a, b| (a.due_date, &a.number).cmp(&(b.due_date, &b.number)));
        let mut out = Vec::new();
        let mut errors = Vec::new();
        for inv in invoices {
            let typed = &amounts[&inv.id];
            let typed_of = |m: &BTreeMap<InvoiceId, String>| {
                m.get(&inv.id)
                    .map(|r| shared::format::one_line(r))
                    .filter(|r| !r.is_empty())
            };
            match parse_amount(&amount_field(inv.id), typed, inv.balance.currency()) {
                Err(e) => errors.push(e),
                Ok(amount) => {
                    // A reason goes with a short payment only.
                    let short = amount.amount() < inv.balance.amount();
                    let code = typed_of(&codes).filter(|_| short);
                    let reason = typed_of(&reasons).filter(|_| short);
                    let line = PaymentLine {
                        invoice_id: inv.id,
                        amount,
                        short_pay_code: code,
                        short_pay_reason: reason,
                    };
                    match check_line_against_balance(&line, inv.balance) {
                        Err(e) => errors.push(e),
                        Ok(()) => out.push(PayLine { invoice: inv, line }),
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

    /// The number of the selected invoice a table field (amount or reason) belongs to.
    pub fn number_of_field(&self, field: &str) -> Option<String> {
        self.picked.with_value(|p| {
            p.values()
                .find(|i| {
                    amount_field(i.id) == field
                        || reason_field(i.id) == field
                        || reason_note_field(i.id) == field
                })
                .map(|i| i.number.clone())
        })
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
