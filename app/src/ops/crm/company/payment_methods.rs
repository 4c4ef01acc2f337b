//! Company → Payment Methods: every saved card and bank account of the company, active and
//! inactive, and *Add a payment method* on the customer's behalf.

use super::{use_company_code, CompanyVersion};
use crate::components::methods_table::{more_details, SavedMethods};
use crate::components::Payer;
use leptos::prelude::*;
use shared::method::{MethodOption, MethodSummary};

#[component]
pub fn PaymentMethodsTab() -> impl IntoView {
    let code = use_company_code();
    let version = use_context::<CompanyVersion>().unwrap_or_default();
    let adding = RwSignal::new(false);
    let added = RwSignal::new(None::<String>);
    let on_added = Callback::new(move |m: MethodOption| {
        adding.set(false);
        added.set(Some(format!(
            "Added {}. It can be used at once, by staff and by the customer.",
            m.label()
        )));
        version.0.update(|v| *v += 1);
    });
    view! {
        <div class="tab-head">
            <h2>"Payment methods"</h2>
            <button type="button" class="btn btn-primary" on:click=move |_| { added.set(None); adding.set(true); }>
                "Add a payment method"
            </button>
        </div>
        <div role="status" aria-live="polite">
            {move || added.get().map(|m| view! { <div class="banner banner-success" data-testid="method-added">{m}</div> })}
        </div>
        {move || view! {
            <SavedMethods payer=Payer::Staff(code.get()) version=version.0 testid="company-methods"
                empty="This company has no saved payment methods."
                row_actions=Callback::new(|m: MethodSummary| more_details(&m))
                adding=adding on_added=on_added/>
        }}
    }
}
