//! Company → Open Invoices: every invoice with a balance, oldest due first. Staff select
//! invoices (all or some, lowering an amount for a partial payment) and pay them on the
//! customer's behalf.

use super::send_pay_link::SendPayLink;
use super::{use_company_code, CompanyVersion};
use crate::components::payment_dialog::{Alternative, AlternativeToPaying};
use crate::components::{OpenInvoicesToPay, Payer};
use leptos::prelude::*;

#[component]
pub fn OpenInvoicesTab() -> impl IntoView {
    let code = use_company_code();
    let version = use_context::<CompanyVersion>().unwrap_or_default();
    // The payment dialog offers to send the invoices as a pay link instead.
    provide_context(AlternativeToPaying(Callback::new(|a: Alternative| {
        view! { <SendPayLink code=a.code invoices=a.invoices on_back=a.on_back on_done=a.on_done/> }
            .into_any()
    })));
    view! {
        <h2 class="sr-only">"Open invoices"</h2>
        {move || view! {
            <OpenInvoicesToPay payer=Payer::Staff(code.get()) version=version.0
                empty="This company has no open invoices."/>
        }}
    }
}
