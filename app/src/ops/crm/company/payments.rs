//! Company → Payments: every payment with its status, method, amount, invoices, who took it
//! and on whose behalf, and its receipt.

use super::{use_company_code, CompanyVersion};
use crate::api::company_payments;
use crate::components::{loading_rows, ErrorView, PaymentsHistory};
use leptos::prelude::*;

#[component]
pub fn PaymentsTab() -> impl IntoView {
    let code = use_company_code();
    let version = use_context::<CompanyVersion>().unwrap_or_default();
    let payments = Resource::new(
        move || (code.get(), version.0.get()),
        |(c, _)| company_payments(c),
    );
    view! {
        <h2 class="sr-only">"Payments"</h2>
        <Transition fallback=move || loading_rows(7)>
            {move || Suspend::new(async move {
                match payments.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(list) => view! {
                        <PaymentsHistory payments=list empty="No payments yet. Pay open invoices from the Open Invoices tab."/>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
