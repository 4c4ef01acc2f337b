//! Portal → Invoices: the customer's own open invoices.

use crate::api::{portal_company, portal_open_invoices};
use crate::components::{loading_rows, ErrorView, Figure, InvoiceTable};
use leptos::prelude::*;
use leptos_meta::Title;
use shared::format::count;

#[component]
pub fn PortalInvoices() -> impl IntoView {
    let company = Resource::new(|| (), |_| portal_company());
    let invoices = Resource::new(|| (), |_| portal_open_invoices());
    view! {
        <Title text="Invoices"/>
        <div class="page-head company-head">
            <div>
                <h1>"Open invoices"</h1>
                <p class="subtitle">"Invoices of your company that still have a balance."</p>
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
                    Ok(list) => view! { <InvoiceTable invoices=list empty="You have no open invoices. Thank you!"/> }.into_any(),
                }
            })}
        </Transition>
    }
}
