//! The bank account fields, and the debit authorization: the signed document staff upload
//! ([`UploadedAuthorization`]), or the wording a customer agrees to in the portal
//! ([`PortalAuthorization`]), produced by the same function as the document kept.

use super::FormState;
use crate::components::gateway_client::upload_document;
use crate::components::{FieldMessage, TextField};
use leptos::prelude::*;
use shared::bank::{AccountType, RoutingNumber};
use shared::document::{check_size, size_label, FIELD};
use shared::error::FieldError;
use shared::method::{
    ach_authorization_text, AgreedOn, AuthorizedAccount, ACH_AUTHORIZATION_VERSION,
};

fn digits_max(raw: &str, n: usize) -> String {
    raw.chars().filter(char::is_ascii_digit).take(n).collect()
}

fn format_routing(raw: &str) -> String {
    digits_max(raw, 9)
}

fn format_account(raw: &str) -> String {
    digits_max(raw, 17)
}

/// A labelled select bound to a form value, with its error.
#[component]
fn Choice(
    state: FormState,
    name: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    options: [(&'static str, &'static str); 2],
) -> impl IntoView {
    let error_id = format!("{name}-error");
    view! {
        <div class="field" class:has-error=move || state.error_for(name).get().is_some()>
            <label for=name>{label}</label>
            <select
                id=name
                name=name
                aria-describedby=error_id.clone()
                prop:value=move || value.get()
                on:change=move |ev| {
                    value.set(event_target_value(&ev));
                    state.clear(name);
                }
            >
                {options.into_iter().map(|(v, l)| view! { <option value=v>{l}</option> }).collect_view()}
            </select>
            <FieldMessage id=error_id message=state.error_for(name)/>
        </div>
    }
}

#[component]
pub(super) fn AchFields(state: FormState) -> impl IntoView {
    let routing = state.routing;
    let routing_help = Signal::derive(move || {
        let r = routing.get();
        if r.len() < 9 {
            "9 digits, bottom left of a check".to_string()
        } else {
            match RoutingNumber::parse(&r) {
                Ok(n) => n.bank_name().unwrap_or("Bank not in our list").to_string(),
                Err(_) => String::new(),
            }
        }
    });
    let routing_error = Signal::derive(move || {
        state.error_for("routing_number").get().or_else(|| {
            let r = routing.get();
            (r.len() == 9)
                .then(|| RoutingNumber::parse(&r).err().map(|e| e.message))
                .flatten()
        })
    });
    view! {
        <TextField name="holder_name" label="Account holder name" autocomplete="name"
            value=state.holder_name error=state.error_for("holder_name")/>
        <div class="field-row">
            <Choice state=state name="holder_type" label="Holder type" value=state.holder_type
                options=[("business", "Business"), ("personal", "Personal")]/>
            <Choice state=state name="account_type" label="Account type" value=state.account_type
                options=[("checking", "Checking"), ("savings", "Savings")]/>
        </div>
        <TextField name="routing_number" label="Routing number" inputmode="numeric" maxlength=9
            value=routing format=format_routing help=routing_help error=routing_error class="mono-input"/>
        <div class="field-row">
            <TextField name="account_number" label="Account number" inputmode="numeric" maxlength=17
                autocomplete="off" value=state.account format=format_account
                error=state.error_for("account_number") class="mono-input"/>
            <TextField name="account_number_confirm" label="Account number again" inputmode="numeric" maxlength=17
                autocomplete="off" value=state.account_confirm format=format_account
                error=state.error_for("account_number_confirm") class="mono-input"/>
        </div>
    }
}

/// Staff: the customer's signed authorization, uploaded as soon as it is chosen, and the day
/// it was signed.
#[component]
pub(super) fn UploadedAuthorization(state: FormState, company: String) -> impl IntoView {
    let company = StoredValue::new(company);
    let on_file = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        state.clear(FIELD);
        state.document.set(None);
        if let Err(e) = check_size(file.size() as usize) {
            state.show(vec![e]);
            input.set_value("");
            return;
        }
        state.uploading.set(true);
        leptos::task::spawn_local(async move {
            let result = upload_document(Some(&company.get_value()), &file).await;
            state.uploading.set(false);
            match result {
                Ok(doc) => state.document.set(Some(doc)),
                Err(e) => {
                    input.set_value("");
                    match e.app().field() {
                        Some(fe) => state.show(vec![fe.clone()]),
                        None => state.show(vec![FieldError::new(FIELD, e.to_string())]),
                    }
                }
            }
        });
    };
    view! {
        <div class="field" class:has-error=move || state.error_for(FIELD).get().is_some()>
            <label for=FIELD>"Signed debit authorization"</label>
            <input
                type="file"
                id=FIELD
                name=FIELD
                accept="application/pdf,image/png,image/jpeg,.pdf,.png,.jpg,.jpeg"
                aria-describedby="document-help document-error"
                on:change=on_file
            />
            <p class="help" id="document-help">
                {move || if state.uploading.get() {
                    "Uploading…".to_string()
                } else {
                    match state.document.get() {
                        Some(d) => format!("Uploaded {} · {} ✓", d.file_name, size_label(d.size_bytes)),
                        None => "The customer's signed permission to debit this account: PDF, PNG or JPEG, up to 10 MB.".to_string(),
                    }
                }}
            </p>
            <FieldMessage id="document-error" message=state.error_for(FIELD)/>
        </div>
        <TextField name="signed_on" label="Date signed" input_type="date" max=today_attr()
            value=state.signed_on error=state.error_for("signed_on")/>
    }
}

/// A customer (in the portal) or a pay link's holder (on its page): the authorization's
/// wording for this account, their typed name and the box.
#[component]
pub(super) fn PortalAuthorization(state: FormState, on: AgreedOn) -> impl IntoView {
    // The company named in the wording: the portal's signed-in user's, or the pay link's.
    let company_name = StoredValue::new(
        use_context::<shared::auth::SessionUser>()
            .and_then(|u| u.company.map(|c| c.name))
            .or_else(|| use_context::<AuthorizingCompany>().map(|c| c.0.get_untracked()))
            .unwrap_or_default(),
    );
    let wording = move || {
        let digits = |s: String| s.chars().filter(char::is_ascii_digit).collect::<String>();
        let (r, a) = (digits(state.routing.get()), digits(state.account.get()));
        let kind = AccountType::parse(&state.account_type.get()).unwrap_or(AccountType::Checking);
        // The same function writes the stored authorization document.
        company_name.with_value(|n| {
            ach_authorization_text(AuthorizedAccount {
                on,
                company: n,
                routing_number: if r.is_empty() {
                    "·········"
                } else {
                    &r
                },
                account_type: kind,
                last4: if a.len() >= 4 {
                    &a[a.len() - 4..]
                } else {
                    "····"
                },
            })
        })
    };
    view! {
        <fieldset class="authorization">
            <legend>"Debit authorization"</legend>
            <p class="authorization-text" data-testid="authorization-text">{wording}</p>
            <p class="help">{format!("Version {ACH_AUTHORIZATION_VERSION}. We keep what you agree to, when, and from which address.")}</p>
            <TextField name="signed_name" label="Your full name (signature)" autocomplete="name"
                value=state.signed_name error=state.error_for("signed_name")/>
            <div class="field checkbox-field" class:has-error=move || state.error_for("agreed").get().is_some()>
                <label class="checkbox">
                    <input type="checkbox" id="agreed" name="agreed" aria-describedby="agreed-error"
                        prop:checked=move || state.agreed.get()
                        on:change=move |ev| { state.agreed.set(event_target_checked(&ev)); state.clear("agreed"); }/>
                    " I authorize these debits"
                </label>
                <FieldMessage id="agreed-error" message=state.error_for("agreed")/>
            </div>
        </fieldset>
    }
}

/// The company a pay link's page is for, provided by that page: its ACH wording names it.
#[derive(Clone, Copy)]
pub struct AuthorizingCompany(pub RwSignal<String>);

/// Today as `YYYY-MM-DD` for a date input's `max`, on the server and in the browser.
fn today_attr() -> String {
    #[cfg(feature = "ssr")]
    {
        server::companies::today().to_string()
    }
    #[cfg(not(feature = "ssr"))]
    {
        crate::components::gateway_client::today().to_string()
    }
}
