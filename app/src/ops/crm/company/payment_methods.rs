//! Company → Payment Methods: every saved card and bank account of the company, active and
//! inactive, and *Add a payment method* on the customer's behalf.

use super::{use_company_code, CompanyVersion};
use crate::api::company_payment_methods;
use crate::components::methods_table::{more_details, CompanyMethodsTable};
use crate::components::modal::Modal;
use crate::components::{loading_rows, AddMethodForm, ErrorView, Payer};
use leptos::prelude::*;

#[component]
pub fn PaymentMethodsTab() -> impl IntoView {
    let code = use_company_code();
    let version = use_context::<CompanyVersion>().unwrap_or_default();
    let methods = Resource::new(
        move || (code.get(), version.0.get()),
        |(c, _)| company_payment_methods(c),
    );
    let adding = RwSignal::new(false);
    let added = RwSignal::new(None::<String>);
    let on_added = Callback::new(move |m: shared::payment::MethodOption| {
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
        <Transition fallback=move || loading_rows(7)>
            {move || Suspend::new(async move {
                match methods.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <div class="empty-state">
                            <p>"This company has no saved payment methods."</p>
                            <button type="button" class="btn" on:click=move |_| adding.set(true)>"Add a payment method"</button>
                        </div>
                    }.into_any(),
                    Ok(list) => view! {
                        <CompanyMethodsTable testid="company-methods"
                            rows=list.into_iter().map(|m| { let a = more_details(&m); (m, a) }).collect()/>
                    }.into_any(),
                }
            })}
        </Transition>
        {move || adding.get().then(|| view! {
            <Modal title="Add a payment method" on_close=Callback::new(move |_| adding.set(false)) class="payment-dialog">
                <AddMethodForm payer=Payer::Staff(code.get_untracked()) on_added=on_added
                    on_cancel=Callback::new(move |_| adding.set(false))/>
            </Modal>
        })}
    }
}
