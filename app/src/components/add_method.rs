//! *Add a payment method*: a card, or an ACH bank account with the customer's signed debit
//! authorization. Numbers go from the browser to the gateway's tokenizer; Settle's server
//! functions receive only the token and display fields. Every error shows beside its field.

use super::gateway_client::{today, tokenize, upload_document};
use super::{ErrorBanner, FieldMessage, Payer, TextField};
use crate::api::{add_bank_account, add_card, portal_add_bank_account, portal_add_card};
use crate::error::ApiError;
use leptos::prelude::*;
use shared::bank::{check_account_number, AccountType, HolderType, RoutingNumber};
use shared::card::{
    check_cvc, check_holder_name, check_postal_code, group_card_digits, CardBrand, CardExpiry,
    CardNumber,
};
use shared::document::{check_size, parse_signed_on, size_label, UploadedDocument, FIELD};
use shared::error::FieldError;
use shared::method::{
    ach_authorization_text, AuthorizedAccount, NewBankAccountInput, NewCardInput,
    PortalBankAccountInput, TokenizeRequest, ACH_AUTHORIZATION_VERSION,
};
use shared::payment::{brand_label, MethodOption};
use wasm_bindgen::JsCast;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Card,
    Ach,
}

/// `04/29` as typed: digits only, the slash added after the month.
fn format_expiry(raw: &str) -> String {
    let digits: String = raw.chars().filter(char::is_ascii_digit).take(4).collect();
    if digits.len() > 2 {
        format!("{}/{}", &digits[..2], &digits[2..])
    } else {
        digits
    }
}

fn digits_max(raw: &str, n: usize) -> String {
    raw.chars().filter(char::is_ascii_digit).take(n).collect()
}

fn format_cvc(raw: &str) -> String {
    digits_max(raw, 4)
}

fn format_routing(raw: &str) -> String {
    digits_max(raw, 9)
}

fn format_account(raw: &str) -> String {
    digits_max(raw, 17)
}

/// Puts focus on a field by its id.
fn focus(id: &str) {
    if let Some(el) = document()
        .get_element_by_id(id)
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = el.focus();
    }
}

/// Order of the fields on the form, for focusing the first with an error.
const FIELD_ORDER: [&str; 15] = [
    "holder_name",
    "card_number",
    "expiry",
    "cvc",
    "postal_code",
    "holder_type",
    "account_type",
    "routing_number",
    "account_number",
    "account_number_confirm",
    FIELD,
    "signed_on",
    "signed_name",
    "agreed",
    "token",
];

#[component]
pub fn AddMethodForm(
    /// Staff add on a company's behalf (the ACH authorization is an uploaded signed
    /// document); a customer adds for themselves (they authorize the debit in the form).
    payer: Payer,
    /// Called with the saved method.
    on_added: Callback<MethodOption>,
    on_cancel: Callback<()>,
    /// The cancel button's text ("Back" inside the payment dialog).
    #[prop(default = "Cancel")]
    cancel_label: &'static str,
) -> impl IntoView {
    let kind = RwSignal::new(Kind::Card);
    let holder_name = RwSignal::new(String::new());
    let number = RwSignal::new(String::new());
    let expiry = RwSignal::new(String::new());
    let cvc = RwSignal::new(String::new());
    let postal = RwSignal::new(String::new());
    let holder_type = RwSignal::new("business".to_string());
    let account_type = RwSignal::new("checking".to_string());
    let routing = RwSignal::new(String::new());
    let account = RwSignal::new(String::new());
    let account_confirm = RwSignal::new(String::new());
    let document = RwSignal::new(None::<UploadedDocument>);
    let uploading = RwSignal::new(false);
    let signed_on = RwSignal::new(String::new());
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let general = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let signed_name = RwSignal::new(String::new());
    let agreed = RwSignal::new(false);
    let staff = payer.is_staff();
    // The customer's company, for the authorization's wording (the portal provides the user).
    let company_name = StoredValue::new(
        use_context::<shared::auth::SessionUser>()
            .and_then(|u| u.company.map(|c| c.name))
            .unwrap_or_default(),
    );
    let company = StoredValue::new(match &payer {
        Payer::Staff(code) => Some(code.clone()),
        Payer::Customer => None,
    });

    let error_for = move |name: &'static str| {
        Signal::derive(move || {
            errors.with(|es| {
                es.iter()
                    .find(|e| e.field == name)
                    .map(|e| e.message.clone())
            })
        })
    };
    let clear = move |name: &'static str| errors.update(|es| es.retain(|e| e.field != name));
    // Editing a field clears its error.
    for (value, name) in [
        (holder_name, "holder_name"),
        (number, "card_number"),
        (expiry, "expiry"),
        (cvc, "cvc"),
        (postal, "postal_code"),
        (routing, "routing_number"),
        (account, "account_number"),
        (account_confirm, "account_number_confirm"),
        (signed_on, "signed_on"),
        (signed_name, "signed_name"),
    ] {
        Effect::new(move |seen: Option<()>| {
            value.track();
            if seen.is_some() {
                clear(name);
            }
        });
    }
    let show = move |mut found: Vec<FieldError>| {
        // Errors that belong to no visible field go to the banner.
        let (known, other): (Vec<_>, Vec<_>) = found
            .drain(..)
            .partition(|e| FIELD_ORDER.contains(&e.field.as_str()) && e.field != "token");
        general.set(other.first().map(|e| e.message.clone()));
        if let Some(first) = FIELD_ORDER
            .iter()
            .find(|f| known.iter().any(|e| e.field == **f))
        {
            focus(first);
        }
        errors.set(known);
    };
    let show_api = move |e: ApiError| match e.app().field() {
        Some(fe) => show(vec![fe.clone()]),
        None => {
            errors.set(Vec::new());
            general.set(Some(e.to_string()));
        }
    };

    // The brand as soon as the first digits tell; the Luhn check once the number is whole.
    let number_help = Signal::derive(move || {
        let digits: String = number.get().chars().filter(char::is_ascii_digit).collect();
        match CardBrand::detect(&digits) {
            None if digits.is_empty() => "Visa, Mastercard, American Express or Discover".into(),
            None => "Unknown card brand".into(),
            Some(brand) => {
                let whole = if brand == CardBrand::Amex { 15 } else { 16 };
                let name = brand_label(brand.as_db());
                if digits.len() >= whole {
                    match CardNumber::parse(&digits) {
                        Ok(_) => format!("{name} ✓"),
                        Err(_) => name.to_string(),
                    }
                } else {
                    name.to_string()
                }
            }
        }
    });
    // A whole number that fails its check says so at once.
    let number_error = Signal::derive(move || {
        error_for("card_number").get().or_else(|| {
            let digits: String = number.get().chars().filter(char::is_ascii_digit).collect();
            let whole = match CardBrand::detect(&digits) {
                Some(CardBrand::Amex) => 15,
                _ => 16,
            };
            (digits.len() >= whole)
                .then(|| CardNumber::parse(&digits).err().map(|e| e.message))
                .flatten()
        })
    });
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
        error_for("routing_number").get().or_else(|| {
            let r = routing.get();
            (r.len() == 9)
                .then(|| RoutingNumber::parse(&r).err().map(|e| e.message))
                .flatten()
        })
    });

    let on_file = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        clear(FIELD);
        document.set(None);
        if let Err(e) = check_size(file.size() as usize) {
            show(vec![e]);
            input.set_value("");
            return;
        }
        uploading.set(true);
        leptos::task::spawn_local(async move {
            let result = upload_document(company.get_value().as_deref(), &file).await;
            uploading.set(false);
            match result {
                Ok(doc) => document.set(Some(doc)),
                Err(e) => {
                    input.set_value("");
                    match e.app().field() {
                        Some(fe) => show(vec![fe.clone()]),
                        None => show(vec![FieldError::new(FIELD, e.to_string())]),
                    }
                }
            }
        });
    };

    let portal_authorization = move || PortalBankAccountInput {
        token: String::new(),
        holder_name: holder_name.get_untracked(),
        holder_type: holder_type.get_untracked(),
        account_type: account_type.get_untracked(),
        authorization_version: ACH_AUTHORIZATION_VERSION.to_string(),
        signed_name: signed_name.get_untracked(),
        agreed: agreed.get_untracked(),
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() || uploading.get_untracked() {
            return;
        }
        general.set(None);
        let today = today();
        let mut found = Vec::new();
        let mut keep = |r: Result<(), FieldError>| {
            if let Err(e) = r {
                found.push(e);
            }
        };
        keep(check_holder_name(&holder_name.get_untracked()).map(|_| ()));
        let request = match kind.get_untracked() {
            Kind::Card => {
                let parsed = CardNumber::parse(&number.get_untracked());
                let brand = parsed.as_ref().ok().map(CardNumber::brand);
                let exp = CardExpiry::parse(&expiry.get_untracked(), today);
                keep(parsed.as_ref().map(|_| ()).map_err(Clone::clone));
                keep(exp.as_ref().map(|_| ()).map_err(Clone::clone));
                keep(check_cvc(&cvc.get_untracked(), brand));
                keep(check_postal_code(&postal.get_untracked()).map(|_| ()));
                match (parsed, exp) {
                    (Ok(n), Ok(e)) => Some(TokenizeRequest::Card {
                        number: n.expose().to_string(),
                        exp_month: e.month,
                        exp_year: e.year,
                        cvc: cvc.get_untracked(),
                        postal_code: postal.get_untracked(),
                        holder_name: holder_name.get_untracked(),
                    }),
                    _ => None,
                }
            }
            Kind::Ach => {
                keep(HolderType::parse(&holder_type.get_untracked()).map(|_| ()));
                keep(AccountType::parse(&account_type.get_untracked()).map(|_| ()));
                keep(RoutingNumber::parse(&routing.get_untracked()).map(|_| ()));
                keep(
                    check_account_number(
                        &account.get_untracked(),
                        &account_confirm.get_untracked(),
                    )
                    .map(|_| ()),
                );
                if staff {
                    if document.get_untracked().is_none() {
                        keep(Err(FieldError::new(
                            FIELD,
                            "Upload the customer's signed debit authorization. ACH cannot be added without it.",
                        )));
                    }
                    keep(parse_signed_on(&signed_on.get_untracked(), today).map(|_| ()));
                } else {
                    keep(portal_authorization().check_authorization().map(|_| ()));
                }
                Some(TokenizeRequest::BankAccount {
                    routing_number: routing.get_untracked(),
                    account_number: account.get_untracked(),
                    holder_name: holder_name.get_untracked(),
                })
            }
        };
        let Some(request) = request.filter(|_| found.is_empty()) else {
            show(found);
            return;
        };
        errors.set(Vec::new());
        busy.set(true);
        let company_code = company.get_value().unwrap_or_default();
        leptos::task::spawn_local(async move {
            let token = match tokenize(&request).await {
                Ok(t) => t,
                Err(e) => {
                    busy.set(false);
                    show(vec![e]);
                    return;
                }
            };
            // The numbers have done their job: drop them from the form.
            number.set(String::new());
            cvc.set(String::new());
            account.set(String::new());
            account_confirm.set(String::new());
            let saved = match request {
                TokenizeRequest::Card { .. } => {
                    let card = NewCardInput {
                        company: company_code,
                        token: token.token,
                        holder_name: holder_name.get_untracked(),
                    };
                    if staff {
                        add_card(card).await
                    } else {
                        portal_add_card(card).await
                    }
                }
                TokenizeRequest::BankAccount { .. } if !staff => {
                    portal_add_bank_account(PortalBankAccountInput {
                        token: token.token,
                        ..portal_authorization()
                    })
                    .await
                }
                TokenizeRequest::BankAccount { .. } => {
                    add_bank_account(NewBankAccountInput {
                        company: company_code,
                        token: token.token,
                        holder_name: holder_name.get_untracked(),
                        holder_type: holder_type.get_untracked(),
                        account_type: account_type.get_untracked(),
                        document_id: document.get_untracked().map(|d| d.id),
                        signed_on: signed_on.get_untracked(),
                    })
                    .await
                }
            };
            busy.set(false);
            match saved {
                Ok(method) => on_added.run(method),
                Err(e) => show_api(e),
            }
        });
    };

    let kind_choice = move |value: Kind, label: &'static str, id: &'static str| {
        view! {
            <label class="method-option" class:chosen=move || kind.get() == value>
                <input
                    type="radio"
                    name="method_kind"
                    id=id
                    prop:checked=move || kind.get() == value
                    on:change=move |_| {
                        kind.set(value);
                        errors.set(Vec::new());
                        general.set(None);
                    }
                />
                <span class="method-label">{label}</span>
            </label>
        }
    };
    let select = move |name: &'static str,
                       label: &'static str,
                       value: RwSignal<String>,
                       options: [(&'static str, &'static str); 2]| {
        let error_id = format!("{name}-error");
        view! {
            <div class="field" class:has-error=move || error_for(name).get().is_some()>
                <label for=name>{label}</label>
                <select
                    id=name
                    name=name
                    aria-describedby=error_id.clone()
                    prop:value=move || value.get()
                    on:change=move |ev| {
                        value.set(event_target_value(&ev));
                        clear(name);
                    }
                >
                    {options.into_iter().map(|(v, l)| view! { <option value=v>{l}</option> }).collect_view()}
                </select>
                <FieldMessage id=error_id message=error_for(name)/>
            </div>
        }
    };

    view! {
        <form class="form add-method" on:submit=submit novalidate data-testid="add-method">
            <ErrorBanner message=general/>
            <fieldset class="kind-choice">
                <legend>"Type"</legend>
                <div class="kind-options">
                    {kind_choice(Kind::Card, "Credit card", "kind-card")}
                    {kind_choice(Kind::Ach, "ACH bank account", "kind-ach")}
                </div>
            </fieldset>
            {move || match kind.get() {
                Kind::Card => view! {
                    <TextField name="holder_name" label="Name on card" autocomplete="cc-name"
                        value=holder_name error=error_for("holder_name")/>
                    <TextField name="card_number" label="Card number" autocomplete="cc-number"
                        inputmode="numeric" placeholder="1234 1234 1234 1234" maxlength=23
                        value=number format=group_card_digits help=number_help error=number_error class="mono-input"/>
                    <div class="field-row">
                        <TextField name="expiry" label="Expiry (MM/YY)" autocomplete="cc-exp"
                            inputmode="numeric" placeholder="MM/YY" maxlength=5
                            value=expiry format=format_expiry error=error_for("expiry")/>
                        <TextField name="cvc" label="Security code" autocomplete="cc-csc"
                            inputmode="numeric" placeholder="CVC" maxlength=4
                            value=cvc format=format_cvc error=error_for("cvc")/>
                        <TextField name="postal_code" label="Billing postal code" autocomplete="postal-code"
                            maxlength=10 value=postal error=error_for("postal_code")/>
                    </div>
                }.into_any(),
                Kind::Ach => view! {
                    <TextField name="holder_name" label="Account holder name" autocomplete="name"
                        value=holder_name error=error_for("holder_name")/>
                    <div class="field-row">
                        {select("holder_type", "Holder type", holder_type, [("business", "Business"), ("personal", "Personal")])}
                        {select("account_type", "Account type", account_type, [("checking", "Checking"), ("savings", "Savings")])}
                    </div>
                    <TextField name="routing_number" label="Routing number" inputmode="numeric" maxlength=9
                        value=routing format=format_routing help=routing_help error=routing_error class="mono-input"/>
                    <div class="field-row">
                        <TextField name="account_number" label="Account number" inputmode="numeric" maxlength=17
                            autocomplete="off" value=account format=format_account error=error_for("account_number") class="mono-input"/>
                        <TextField name="account_number_confirm" label="Account number again" inputmode="numeric" maxlength=17
                            autocomplete="off" value=account_confirm format=format_account error=error_for("account_number_confirm") class="mono-input"/>
                    </div>
                    {if staff {
                        view! {
                    <div class="field" class:has-error=move || error_for(FIELD).get().is_some()>
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
                            {move || if uploading.get() {
                                "Uploading…".to_string()
                            } else {
                                match document.get() {
                                    Some(d) => format!("Uploaded {} · {} ✓", d.file_name, size_label(d.size_bytes)),
                                    None => "The customer's signed permission to debit this account: PDF, PNG or JPEG, up to 10 MB.".to_string(),
                                }
                            }}
                        </p>
                        <FieldMessage id="document-error" message=error_for(FIELD)/>
                    </div>
                    <TextField name="signed_on" label="Date signed" input_type="date" max=today_attr()
                        value=signed_on error=error_for("signed_on")/>
                        }.into_any()
                    } else {
                        view! {
                            <fieldset class="authorization">
                                <legend>"Debit authorization"</legend>
                                <p class="authorization-text" data-testid="authorization-text">
                                    // The same function writes the stored authorization document.
                                    {move || {
                                        let digits = |s: String| s.chars().filter(char::is_ascii_digit).collect::<String>();
                                        let (r, a) = (digits(routing.get()), digits(account.get()));
                                        let kind = AccountType::parse(&account_type.get()).unwrap_or(AccountType::Checking);
                                        company_name.with_value(|n| ach_authorization_text(AuthorizedAccount {
                                            company: n,
                                            routing_number: if r.is_empty() { "·········" } else { &r },
                                            account_type: kind,
                                            last4: if a.len() >= 4 { &a[a.len() - 4..] } else { "····" },
                                        }))
                                    }}
                                </p>
                                <p class="help">{format!("Version {ACH_AUTHORIZATION_VERSION}. We keep what you agree to, when, and from which address.")}</p>
                                <TextField name="signed_name" label="Your full name (signature)" autocomplete="name"
                                    value=signed_name error=error_for("signed_name")/>
                                <div class="field checkbox-field" class:has-error=move || error_for("agreed").get().is_some()>
                                    <label class="checkbox">
                                        <input type="checkbox" id="agreed" name="agreed" aria-describedby="agreed-error"
                                            prop:checked=move || agreed.get()
                                            on:change=move |ev| { agreed.set(event_target_checked(&ev)); clear("agreed"); }/>
                                        " I authorize these debits"
                                    </label>
                                    <FieldMessage id="agreed-error" message=error_for("agreed")/>
                                </div>
                            </fieldset>
                        }.into_any()
                    }}
                }.into_any(),
            }}
            <div class="modal-actions">
                <button type="button" class="btn" on:click=move |_| on_cancel.run(())>{cancel_label}</button>
                <button type="submit" class="btn btn-primary" disabled=move || busy.get() || uploading.get()>
                    <Show when=move || busy.get()>
                        <span class="spinner" aria-hidden="true"></span>
                    </Show>
                    {move || if busy.get() { "Adding…" } else { "Add" }}
                </button>
            </div>
        </form>
    }
}

/// Today as `YYYY-MM-DD` for a date input's `max`, on the server and in the browser.
fn today_attr() -> String {
    #[cfg(feature = "ssr")]
    {
        server::companies::today().to_string()
    }
    #[cfg(not(feature = "ssr"))]
    {
        today().to_string()
    }
}
