//! Portal → Payment methods: the company's saved cards and bank accounts; deactivate one,
//! activate it again, choose the default (pre-selected when paying), add a new one.

use crate::components::methods_table::SavedMethods;
use crate::components::modal::Modal;
use crate::components::{ErrorBanner, Payer};
use crate::server_fns::methods::{set_default_method, set_method_active};
use leptos::prelude::*;
use leptos_meta::Title;
use shared::method::{MethodOption, MethodStatus, MethodSummary};
use shared::MethodId;

/// A change waiting for the customer's confirmation.
#[derive(Clone)]
struct Pending {
    id: MethodId,
    label: String,
    active: bool,
}

#[component]
pub fn PortalPaymentMethods() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let adding = RwSignal::new(false);
    let message = RwSignal::new(None::<String>);
    let confirming = RwSignal::new(None::<Pending>);
    let reload = move |text: String| {
        message.set(Some(text));
        version.update(|v| *v += 1);
    };
    let set_active = Action::new(move |p: &Pending| {
        let p = p.clone();
        async move { set_method_active(p.id, p.active).await.map(|_| p) }
    });
    let set_default = Action::new(move |p: &Pending| {
        let p = p.clone();
        async move { set_default_method(p.id).await.map(|_| p) }
    });
    Effect::new(move |_| {
        if let Some(Ok(p)) = set_active.value().get() {
            confirming.set(None);
            reload(if p.active {
                format!("{} is active again and can be used to pay.", p.label)
            } else {
                format!(
                    "{} is deactivated. It is no longer offered when paying.",
                    p.label
                )
            });
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(p)) = set_default.value().get() {
            reload(format!("{} is now your default payment method.", p.label));
        }
    });
    let error = Signal::derive(move || {
        set_active
            .value()
            .get()
            .and_then(|r| r.err())
            .or_else(|| set_default.value().get().and_then(|r| r.err()))
            .map(|e| e.to_string())
    });
    let on_added = Callback::new(move |m: MethodOption| {
        adding.set(false);
        reload(format!("Added {}. You can pay with it now.", m.label()));
    });
    let actions = move |m: MethodSummary| {
        let pending = |active| Pending {
            id: m.method.id,
            label: m.method.label(),
            active,
        };
        let (deactivate, activate, default) = (pending(false), pending(true), pending(true));
        let can_default = m.status == MethodStatus::Active && !m.method.is_default;
        let label = m.method.label();
        view! {
            <div class="row-actions">
                {can_default.then(|| view! {
                    <button type="button" class="btn btn-small" aria-label=format!("Make {label} the default")
                        disabled=move || set_default.pending().get()
                        on:click=move |_| { message.set(None); set_default.dispatch(default.clone()); }>"Make default"</button>
                })}
                {if m.active {
                    view! {
                        <button type="button" class="btn btn-small" aria-label=format!("Deactivate {}", m.method.label())
                            on:click=move |_| { message.set(None); confirming.set(Some(deactivate.clone())); }>"Deactivate"</button>
                    }.into_any()
                } else {
                    view! {
                        <button type="button" class="btn btn-small" aria-label=format!("Activate {}", m.method.label())
                            on:click=move |_| { message.set(None); confirming.set(Some(activate.clone())); }>"Activate"</button>
                    }.into_any()
                }}
            </div>
        }
        .into_any()
    };
    view! {
        <Title text="Payment methods"/>
        <div class="page-head with-action">
            <div>
                <h1>"Payment methods"</h1>
                <p class="subtitle">"Cards and bank accounts saved for your company. The default is chosen first when you pay."</p>
            </div>
            <button type="button" class="btn btn-primary" on:click=move |_| { message.set(None); adding.set(true); }>"Add a payment method"</button>
        </div>
        <div role="status" aria-live="polite">
            {move || message.get().map(|m| view! { <div class="banner banner-success" data-testid="methods-message">{m}</div> })}
        </div>
        <ErrorBanner message=error/>
        <SavedMethods payer=Payer::Customer version=version testid="my-methods"
            empty="You have no saved payment methods."
            row_actions=Callback::new(actions) adding=adding on_added=on_added/>
        {move || confirming.get().map(|p| {
            let verb = if p.active { "Activate" } else { "Deactivate" };
            let consequence = if p.active {
                "It will be offered again when you pay, and our staff can use it for you."
            } else {
                "It will no longer be offered when you pay, and our staff cannot charge it."
            };
            let question = format!("{verb} {}?", p.label);
            let pending = p.clone();
            view! {
                <Modal title=format!("{verb} this payment method?") on_close=Callback::new(move |_| confirming.set(None))>
                    <div class="modal-body">
                        <p>{question}</p>
                        <p class="muted">{consequence}</p>
                        <div class="modal-actions">
                            <button type="button" class="btn" on:click=move |_| confirming.set(None)>"Cancel"</button>
                            <button type="button" class="btn btn-primary" disabled=move || set_active.pending().get()
                                on:click=move |_| { set_active.dispatch(pending.clone()); }>{verb}</button>
                        </div>
                    </div>
                </Modal>
            }
        })}
    }
}
