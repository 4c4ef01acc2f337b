//! Company → Open Invoices: every invoice with a balance, oldest due first.

use super::use_company_code;
use crate::api::company_open_invoices;
use crate::components::{loading_rows, ErrorView, InvoiceTable};
use leptos::prelude::*;

#[component]
pub fn OpenInvoicesTab() -> impl IntoView {
    let code = use_company_code();
    let invoices = Resource::new(move || code.get(), company_open_invoices);
    view! {
        <h2 class="sr-only">"Open invoices"</h2>
        <Transition fallback=move || loading_rows(7)>
            {move || Suspend::new(async move {
                match invoices.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(list) => view! { <InvoiceTable invoices=list empty="This company has no open invoices."/> }.into_any(),
                }
            })}
        </Transition>
    }
}
