//! Open invoices to pay: the selectable table, the selection bar with the running total,
//! and the payment dialog. The staff Open Invoices tab and the customer portal both use it;
//! they differ only by the [`Payer`].

use super::focus::focus_field;
use super::payment_dialog::PayLine;
use super::{loading_rows, ErrorView, InvoiceTable, Payer, PaymentDialog, Selection};
use crate::api::open_invoices;
use leptos::prelude::*;
use shared::invoice::OpenInvoice;
use shared::money::Currency;

/// The payer's company's open invoices, loaded and ready to select and pay. Bumping
/// `version` (a payment does) loads them again.
#[component]
pub fn OpenInvoicesToPay(
    payer: Payer,
    version: RwSignal<u32>,
    empty: &'static str,
    #[prop(optional)] invoice_base: Option<&'static str>,
) -> impl IntoView {
    let company = payer.company();
    let invoices = Resource::new(
        move || (company.clone(), version.get()),
        |(c, _)| open_invoices(c),
    );
    let paid = Callback::new(move |_| version.update(|v| *v += 1));
    let payer = StoredValue::new(payer);
    view! {
        <Transition fallback=move || loading_rows(8)>
            {move || Suspend::new(async move {
                match invoices.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(list) => view! {
                        <PayInvoices payer=payer.get_value() invoices=list empty=empty
                            invoice_base=invoice_base on_paid=paid/>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
pub fn PayInvoices(
    payer: Payer,
    invoices: Vec<OpenInvoice>,
    /// The sentence shown when there are none.
    #[prop(into)]
    empty: String,
    /// Where an invoice's own page is (`{base}/{id}`), if it has one.
    #[prop(default = None)]
    invoice_base: Option<&'static str>,
    /// Called after a payment went through, to load the balances again.
    on_paid: Callback<()>,
) -> impl IntoView {
    let selection = Selection::new();
    let paying = RwSignal::new(None::<Vec<PayLine>>);
    let all = StoredValue::new(invoices.clone());
    let open_dialog = move |_| match all.with_value(|list| selection.lines(list)) {
        Ok(lines) if !lines.is_empty() => paying.set(Some(
            lines
                .into_iter()
                .map(|(invoice, line)| PayLine { invoice, line })
                .collect(),
        )),
        Ok(_) => {}
        Err(e) => focus_field(&e.field),
    };
    let closed = Callback::new(move |paid: bool| {
        paying.set(None);
        if paid {
            selection.clear();
            on_paid.run(());
        }
    });
    let payer = StoredValue::new(payer);
    view! {
        <div class="selection-bar" role="region" aria-label="Selection">
            <span class="selection-summary" data-testid="selection-summary" aria-live="polite">
                {move || {
                    let n = selection.count();
                    format!("{n} selected · {}", selection.total(Currency::USD).display())
                }}
            </span>
            <button type="button" class="btn btn-ghost" on:click=move |_| selection.clear() disabled=move || selection.count() == 0>"Clear"</button>
            <button type="button" class="btn btn-primary" on:click=open_dialog disabled=move || selection.count() == 0>"Make Payment"</button>
        </div>
        <InvoiceTable invoices=invoices empty=empty selection=selection invoice_base=invoice_base/>
        {move || paying.get().map(|lines| view! { <PaymentDialog payer=payer.get_value() lines=lines on_close=closed/> })}
    }
}
