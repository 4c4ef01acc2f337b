//! Portal → Invoices: the customer's own open invoices, selected and paid as staff do.

use crate::api::{portal_company, portal_open_invoices};
use crate::components::{loading_rows, ErrorView, Figure, PayInvoices, Payer};
use leptos::prelude::*;
use leptos_meta::Title;
use shared::format::count;

#[component]
pub fn PortalInvoices() -> impl IntoView {
    // Bumped after a payment: the figures and the list load again.
    let version = RwSignal::new(0u32);
    let company = Resource::new(move || version.get(), |_| portal_company());
    let invoices = Resource::new(move || version.get(), |_| portal_open_invoices());
    let paid = Callback::new(move |_| version.update(|v| *v += 1));
    view! {
        <Title text="Invoices"/>
        <div class="page-head company-head">
            <div>
                <h1>"Open invoices"</h1>
                <p class="subtitle">"Select the invoices to pay; you can pay part of an invoice."</p>
            </div>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    company.await.ok().map(|c| view! {
                        <div class="figures">
                            <Figure label="Open balance" value=c.open_balance.display()/>
                            <Figure label="Overdue" value=c.overdue.display() tone={if c.overdue.is_positive() { "overdue" } else { "" }}/>
                            <Figure label="Open invoices" value=count(c.open_invoices)/>
                        </div>
                    })
                })}
            </Suspense>
        </div>
        <Transition fallback=move || loading_rows(7)>
            {move || Suspend::new(async move {
                match invoices.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(list) => view! {
                        <PayInvoices payer=Payer::Customer invoices=list empty="You have no open invoices. Thank you!"
                            invoice_base="/portal/invoices" on_paid=paid/>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
