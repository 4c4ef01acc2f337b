//! Portal → Payments: the company's payments, who made them (the customer, or a named staff
//! member on their behalf), and each receipt, also at its own address.

use crate::api::payment_receipt;
use crate::components::{
    loading_page, use_id_param, CompanyPayments, ErrorView, Payer, ReceiptView,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn PortalPayments() -> impl IntoView {
    view! {
        <Title text="Payments"/>
        <div class="page-head">
            <h1>"Payments"</h1>
            <p class="subtitle">"Every payment on your invoices, made by you or by our staff on your behalf."</p>
        </div>
        <CompanyPayments payer=Payer::Customer version=RwSignal::new(0) empty="No payments yet."/>
    }
}

#[component]
pub fn PortalReceipt() -> impl IntoView {
    let id = use_id_param::<shared::PaymentId>();
    let receipt = Resource::new(move || id.get(), payment_receipt);
    view! {
        <nav class="breadcrumbs" aria-label="Breadcrumb">
            <A href="/portal/payments">"Payments"</A>
            <span aria-hidden="true">" / "</span>
            <span aria-current="page">"Receipt"</span>
        </nav>
        <Suspense fallback=loading_page>
            {move || Suspend::new(async move {
                match receipt.await {
                    Err(e) => {
                        #[cfg(feature = "ssr")]
                        crate::request::set_page_status(crate::request::status_for(e.app()));
                        view! { <Title text="Not found"/><ErrorView error=e/> }.into_any()
                    }
                    Ok(r) => view! {
                        <Title text=format!("Receipt {}", r.number)/>
                        <section class="card-panel"><ReceiptView receipt=r/></section>
                        <button type="button" class="btn" on:click=move |_| { let _ = window().print(); }>"Print receipt"</button>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
