//! Company → Open Invoices: every invoice with a balance, oldest due first. Staff select
//! invoices (all or some, lowering an amount for a partial payment) and pay them on the
//! customer's behalf.

use super::{use_company_code, CompanyVersion};
use crate::api::company_open_invoices;
use crate::components::{loading_rows, ErrorView, PayInvoices, Payer};
use leptos::prelude::*;

#[component]
pub fn OpenInvoicesTab() -> impl IntoView {
    let code = use_company_code();
    let version = use_context::<CompanyVersion>().unwrap_or_default();
    let invoices = Resource::new(
        move || (code.get(), version.0.get()),
        |(c, _)| company_open_invoices(c),
    );
    let paid = Callback::new(move |_| version.0.update(|v| *v += 1));
    view! {
        <h2 class="sr-only">"Open invoices"</h2>
        <Transition fallback=move || loading_rows(8)>
            {move || Suspend::new(async move {
                match invoices.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(list) => view! {
                        <PayInvoices payer=Payer::Staff(code.get_untracked()) invoices=list
                            empty="This company has no open invoices." on_paid=paid/>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
