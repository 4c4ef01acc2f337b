//! Portal → Invoices: the customer's own open invoices, selected and paid as staff do.

use crate::components::{Figure, OpenInvoicesToPay, Payer, StatementForm};
use crate::server_fns::companies::get_company;
use leptos::prelude::*;
use leptos_meta::Title;
use shared::format::count;

#[component]
pub fn PortalInvoices() -> impl IntoView {
    // Bumped after a payment: the figures and the list load again.
    let version = RwSignal::new(0u32);
    // A customer's own company, whatever is named.
    let company = Resource::new(move || version.get(), |_| get_company(String::new()));
    view! {
        <Title text="Invoices"/>
        <div class="page-head company-head">
            <div>
                <h1>"Open invoices"</h1>
                <p class="subtitle">"Select the invoices to pay; you can pay part of an invoice."</p>
                <StatementForm action=shared::statement::PORTAL_STATEMENT_PATH/>
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
        <OpenInvoicesToPay payer=Payer::Customer version=version
            empty="You have no open invoices. Thank you!" invoice_base="/portal/invoices"/>
    }
}
