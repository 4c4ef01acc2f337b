//! Company → Payments: every payment with its status, method, amount, invoices, who took it
//! and on whose behalf, and its receipt, from which staff give money back.

use super::{use_company_code, CompanyVersion};
use crate::components::{CompanyPayments, Payer};
use leptos::prelude::*;

#[component]
pub fn PaymentsTab() -> impl IntoView {
    let code = use_company_code();
    let version = use_context::<CompanyVersion>().unwrap_or_default();
    let refunds = crate::ops::refunds::provide_refunds(version.0);
    view! {
        <h2 class="sr-only">"Payments"</h2>
        {refunds}
        {move || view! {
            <CompanyPayments payer=Payer::Staff(code.get()) version=version.0
                empty="No payments yet. Pay open invoices from the Open Invoices tab."/>
        }}
    }
}
