//! Portal → Payments: the company's payments, who made them (the customer, or a named staff
//! member on their behalf), and each receipt, also at its own address.

use crate::components::receipt::ReceiptPage;
use crate::components::{use_id_param, CompanyPayments, Payer};
use crate::server_fns::payments::payment_receipt;
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
        <ReceiptPage receipt=receipt/>
    }
}
