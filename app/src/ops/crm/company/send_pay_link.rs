//! "Send a pay link" in the staff payment dialog: the selected invoices go to one of the
//! company's AP contacts as a signed link they pay through themselves (no card numbers over
//! the phone). Offered to the dialog by the Open Invoices tab (see
//! [`crate::components::payment_dialog::AlternativeToPaying`]), so it stays out of the code a
//! customer downloads.

use crate::components::{ErrorBanner, FieldMessage};
use crate::server_fns::pay_links::{pay_link_contacts, send_pay_link};
use leptos::prelude::*;
use shared::email::PayLinkSummary;
use shared::InvoiceId;

#[component]
pub fn SendPayLink(
    code: String,
    invoices: Vec<InvoiceId>,
    on_back: Callback<()>,
    on_done: Callback<()>,
) -> impl IntoView {
    let contacts = Resource::new(
        {
            let code = code.clone();
            move || code.clone()
        },
        pay_link_contacts,
    );
    let chosen = RwSignal::new(None::<shared::ContactId>);
    let missing = RwSignal::new(None::<String>);
    let invoices = StoredValue::new(invoices);
    let send = Action::new(move |contact: &shared::ContactId| {
        let (code, contact) = (code.clone(), *contact);
        async move { send_pay_link(code, contact, invoices.get_value()).await }
    });
    let sent = move || send.value().get().and_then(Result::ok);
    let contact_error = Signal::derive(move || {
        missing.get().or_else(|| {
            send.value()
                .get()
                .and_then(|r| r.err())
                .and_then(|e| e.message_for("contact"))
        })
    });
    let general = Signal::derive(move || {
        send.value()
            .get()
            .and_then(|r| r.err())
            .filter(|e| e.message_for("contact").is_none())
            .map(|e| e.to_string())
    });
    let n = invoices.with_value(Vec::len);
    view! {
        {move || match sent() {
            Some(PayLinkSummary { email, contact_name, expires_at, .. }) => view! {
                <div class="modal-body" data-testid="pay-link-sent">
                    <div class="banner banner-success" role="status">{format!("Pay link sent to {contact_name} ({email}).")}</div>
                    <p>{format!("They can pay the {n} invoice{} with a saved method or a new card or bank account until {}. Its status shows on the company's Pay Links tab.", if n == 1 { "" } else { "s" }, expires_at.format("%B %-d, %Y"))}</p>
                    <div class="modal-actions">
                        <button type="button" class="btn btn-primary" on:click=move |_| on_done.run(())>"Done"</button>
                    </div>
                </div>
            }.into_any(),
            None => view! {
                <form class="form" novalidate on:submit=move |ev| {
                    ev.prevent_default();
                    match chosen.get_untracked() {
                        None => {
                            missing.set(Some("Choose who receives the link.".into()));
                            crate::components::focus::focus_field("contact");
                        }
                        Some(c) => if !send.pending().get_untracked() { send.dispatch(c); },
                    }
                }>
                    <p>{format!("Email a secure link to pay {n} invoice{}. The customer pays it themselves (part of an invoice too); no card numbers pass over the phone.", if n == 1 { "" } else { "s" })}</p>
                    <ErrorBanner message=general/>
                    <fieldset class="field methods" class:has-error=move || contact_error.get().is_some()>
                        <legend>"Send to"</legend>
                        <Suspense fallback=|| view! { <p class="loading">"Loading contacts…"</p> }>
                            {move || Suspend::new(async move {
                                match contacts.await {
                                    Err(e) => view! { <p class="field-error">{e.to_string()}</p> }.into_any(),
                                    Ok(list) if list.is_empty() => view! {
                                        <p class="muted">"This company has no contact with an email address. Add one on the Contacts tab (or in the ERP)."</p>
                                    }.into_any(),
                                    Ok(list) => list.into_iter().enumerate().map(|(i, c)| {
                                        let id = c.id;
                                        view! {
                                            <label class="method-option" class:chosen=move || chosen.get() == Some(id)>
                                                <input type="radio" name="contact" id=if i == 0 { "contact".to_string() } else { format!("contact-{id}") }
                                                    value=id.to_string() aria-describedby="contact-error"
                                                    prop:checked=move || chosen.get() == Some(id)
                                                    on:change=move |_| { chosen.set(Some(id)); missing.set(None); }/>
                                                <span class="method-label">{c.name.clone()}</span>
                                                <span class="method-detail muted">{match c.title.clone() { Some(t) => format!("{} · {t}", c.email), None => c.email.clone() }}</span>
                                            </label>
                                        }
                                    }).collect_view().into_any(),
                                }
                            })}
                        </Suspense>
                        <FieldMessage id="contact-error" message=contact_error/>
                    </fieldset>
                    <div class="modal-actions">
                        <button type="button" class="btn" on:click=move |_| on_back.run(())>"Back"</button>
                        <button type="submit" class="btn btn-primary" disabled=move || send.pending().get()>
                            <Show when=move || send.pending().get()><span class="spinner" aria-hidden="true"></span></Show>
                            "Send pay link"
                        </button>
                    </div>
                </form>
            }.into_any(),
        }}
    }
}
