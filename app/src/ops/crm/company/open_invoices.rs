//! Company → Open Invoices: every invoice with a balance, oldest due first. Staff select
//! invoices (all or some, lowering an amount for a partial payment) and pay them on the
//! customer's behalf.

use super::{use_company_code, CompanyVersion};
use crate::api::company_open_invoices;
use crate::components::payment_dialog::PayLine;
use crate::components::{loading_rows, ErrorView, InvoiceTable, PaymentDialog, Selection};
use leptos::prelude::*;
use shared::invoice::OpenInvoice;
use shared::money::Currency;

#[component]
pub fn OpenInvoicesTab() -> impl IntoView {
    let code = use_company_code();
    let version = use_context::<CompanyVersion>().unwrap_or_default();
    let invoices = Resource::new(
        move || (code.get(), version.0.get()),
        |(c, _)| company_open_invoices(c),
    );
    let selection = Selection::new();
    let paying = RwSignal::new(None::<Vec<PayLine>>);
    let loaded = move || invoices.get().and_then(Result::ok).unwrap_or_default();
    let open_dialog = move |_| {
        let list: Vec<OpenInvoice> = loaded();
        match selection.lines(&list) {
            Ok(lines) if !lines.is_empty() => paying.set(Some(
                lines
                    .into_iter()
                    .map(|(invoice, line)| PayLine { invoice, line })
                    .collect(),
            )),
            Ok(_) => {}
            Err(e) => {
                if let Some(el) = document()
                    .query_selector(&format!("[name={}]", e.field))
                    .ok()
                    .flatten()
                {
                    use wasm_bindgen::JsCast;
                    if let Ok(el) = el.dyn_into::<web_sys::HtmlElement>() {
                        let _ = el.focus();
                    }
                }
            }
        }
    };
    let closed = Callback::new(move |paid: bool| {
        paying.set(None);
        if paid {
            selection.clear();
            version.0.update(|v| *v += 1);
        }
    });
    view! {
        <h2 class="sr-only">"Open invoices"</h2>
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
        <Transition fallback=move || loading_rows(8)>
            {move || Suspend::new(async move {
                match invoices.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(list) => view! { <InvoiceTable invoices=list empty="This company has no open invoices." selection=selection/> }.into_any(),
                }
            })}
        </Transition>
        {move || paying.get().map(|lines| view! { <PaymentDialog company=code.get_untracked() lines=lines on_close=closed/> })}
    }
}
