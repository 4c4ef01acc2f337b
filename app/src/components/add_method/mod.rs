//! *Add a payment method*: a card, or an ACH bank account with the customer's debit
//! authorization. Numbers go from the browser to the gateway's tokenizer; Settle's server
//! functions receive only the token and display fields. Every error shows beside its field.
//!
//! One [`FormState`] holds what is typed; [`card::CardFields`] and [`ach::AchFields`] (with
//! [`ach::UploadedAuthorization`] for staff or [`ach::PortalAuthorization`] for a customer)
//! show it; [`AddMethodForm`] checks it, tokenizes and saves.

mod ach;
mod card;

pub use ach::AuthorizingCompany;

use super::focus::focus_field;
use super::gateway_client::{today, tokenize};
use super::{ErrorBanner, Payer};
use crate::server_fns::methods::{add_bank_account, add_card, card_entry};

use crate::error::ApiError;
use leptos::prelude::*;
use shared::bank::{check_account_number, AccountType, HolderType, RoutingNumber};
use shared::card::{check_cvc, check_postal_code, CardExpiry, CardNumber};
use shared::document::{parse_signed_on, UploadedDocument, FIELD};
use shared::error::FieldError;
use shared::method::{
    check_agreement, check_holder_name, AgreedOn, AuthorizationInput, CardEntry, MethodOption,
    NewBankAccountInput, NewCardInput, TokenizeRequest, ACH_AUTHORIZATION_VERSION,
};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Card,
    Ach,
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

/// Everything the form holds: what is typed, and what is wrong with it. Copy: signals.
#[derive(Clone, Copy)]
pub(super) struct FormState {
    holder_name: RwSignal<String>,
    number: RwSignal<String>,
    expiry: RwSignal<String>,
    cvc: RwSignal<String>,
    postal: RwSignal<String>,
    holder_type: RwSignal<String>,
    account_type: RwSignal<String>,
    routing: RwSignal<String>,
    account: RwSignal<String>,
    account_confirm: RwSignal<String>,
    document: RwSignal<Option<UploadedDocument>>,
    uploading: RwSignal<bool>,
    signed_on: RwSignal<String>,
    signed_name: RwSignal<String>,
    agreed: RwSignal<bool>,
    errors: RwSignal<Vec<FieldError>>,
    general: RwSignal<Option<String>>,
    /// How cards are entered (asked of the server when the form opens): the sandbox's
    /// tokenizer, or Stripe's own field with a SetupIntent's secret.
    entry: RwSignal<Option<CardEntry>>,
    /// Stripe's card field, once mounted.
    stripe: StoredValue<Option<super::stripe_js::StripeCard>, LocalStorage>,
}

impl FormState {
    fn new() -> Self {
        let text = || RwSignal::new(String::new());
        let state = FormState {
            holder_name: text(),
            number: text(),
            expiry: text(),
            cvc: text(),
            postal: text(),
            holder_type: RwSignal::new("business".into()),
            account_type: RwSignal::new("checking".into()),
            routing: text(),
            account: text(),
            account_confirm: text(),
            document: RwSignal::new(None),
            uploading: RwSignal::new(false),
            signed_on: text(),
            signed_name: text(),
            agreed: RwSignal::new(false),
            errors: RwSignal::new(Vec::new()),
            general: RwSignal::new(None),
            entry: RwSignal::new(None),
            stripe: StoredValue::new_local(None),
        };
        // Editing a field clears its error.
        for (value, name) in [
            (state.holder_name, "holder_name"),
            (state.number, "card_number"),
            (state.expiry, "expiry"),
            (state.cvc, "cvc"),
            (state.postal, "postal_code"),
            (state.routing, "routing_number"),
            (state.account, "account_number"),
            (state.account_confirm, "account_number_confirm"),
            (state.signed_on, "signed_on"),
            (state.signed_name, "signed_name"),
        ] {
            Effect::new(move |seen: Option<()>| {
                value.track();
                if seen.is_some() {
                    state.clear(name);
                }
            });
        }
        state
    }

    /// The message for one field.
    fn error_for(self, name: &'static str) -> Signal<Option<String>> {
        Signal::derive(move || {
            self.errors.with(|es| {
                es.iter()
                    .find(|e| e.field == name)
                    .map(|e| e.message.clone())
            })
        })
    }

    fn clear(self, name: &str) {
        self.errors.update(|es| es.retain(|e| e.field != name));
    }

    /// Shows errors beside their fields and focuses the first; the rest go to the banner.
    fn show(self, mut found: Vec<FieldError>) {
        let (known, other): (Vec<_>, Vec<_>) = found
            .drain(..)
            .partition(|e| FIELD_ORDER.contains(&e.field.as_str()) && e.field != "token");
        self.general.set(other.first().map(|e| e.message.clone()));
        if let Some(first) = FIELD_ORDER
            .iter()
            .find(|f| known.iter().any(|e| e.field == **f))
        {
            focus_field(first);
        }
        self.errors.set(known);
    }

    fn show_api(self, e: ApiError) {
        match e.app().field() {
            Some(fe) => self.show(vec![fe.clone()]),
            None => {
                self.errors.set(Vec::new());
                self.general.set(Some(e.to_string()));
            }
        }
    }

    /// Checks the card fields; the tokenizer's request when they hold.
    fn card_request(self, found: &mut Vec<FieldError>) -> Option<TokenizeRequest> {
        let parsed = CardNumber::parse(&self.number.get_untracked());
        let brand = parsed.as_ref().ok().map(CardNumber::brand);
        let exp = CardExpiry::parse(&self.expiry.get_untracked(), today());
        keep(found, parsed.as_ref().map(|_| ()).map_err(Clone::clone));
        keep(found, exp.as_ref().map(|_| ()).map_err(Clone::clone));
        keep(found, check_cvc(&self.cvc.get_untracked(), brand));
        keep(
            found,
            check_postal_code(&self.postal.get_untracked()).map(|_| ()),
        );
        match (parsed, exp) {
            (Ok(n), Ok(e)) => Some(TokenizeRequest::Card {
                number: n.expose().to_string(),
                exp_month: e.month,
                exp_year: e.year,
                cvc: self.cvc.get_untracked(),
                postal_code: self.postal.get_untracked(),
                holder_name: self.holder_name.get_untracked(),
            }),
            _ => None,
        }
    }

    /// Checks the bank account fields and the authorization the payer gives.
    fn bank_request(self, staff: bool, found: &mut Vec<FieldError>) -> TokenizeRequest {
        keep(
            found,
            HolderType::parse(&self.holder_type.get_untracked()).map(|_| ()),
        );
        keep(
            found,
            AccountType::parse(&self.account_type.get_untracked()).map(|_| ()),
        );
        keep(
            found,
            RoutingNumber::parse(&self.routing.get_untracked()).map(|_| ()),
        );
        keep(
            found,
            check_account_number(
                &self.account.get_untracked(),
                &self.account_confirm.get_untracked(),
            )
            .map(|_| ()),
        );
        if staff {
            if self.document.get_untracked().is_none() {
                keep(
                    found,
                    Err(FieldError::new(
                        FIELD,
                        "Upload the customer's signed debit authorization. ACH cannot be added without it.",
                    )),
                );
            }
            keep(
                found,
                parse_signed_on(&self.signed_on.get_untracked(), today()).map(|_| ()),
            );
        } else {
            keep(
                found,
                check_agreement(
                    ACH_AUTHORIZATION_VERSION,
                    &self.signed_name.get_untracked(),
                    self.agreed.get_untracked(),
                )
                .map(|_| ()),
            );
        }
        TokenizeRequest::BankAccount {
            routing_number: self.routing.get_untracked(),
            account_number: self.account.get_untracked(),
            holder_name: self.holder_name.get_untracked(),
            account_type: Some(self.account_type.get_untracked()),
        }
    }

    /// What the payer gives as the debit authorization.
    fn authorization(self, staff: bool) -> AuthorizationInput {
        if staff {
            AuthorizationInput::Uploaded {
                document_id: self.document.get_untracked().map(|d| d.id),
                signed_on: self.signed_on.get_untracked(),
            }
        } else {
            AuthorizationInput::InPortal {
                version: ACH_AUTHORIZATION_VERSION.to_string(),
                signed_name: self.signed_name.get_untracked(),
                agreed: self.agreed.get_untracked(),
            }
        }
    }

    /// The numbers have done their job once tokenized: drop them from the form.
    fn forget_numbers(self) {
        for n in [self.number, self.cvc, self.account, self.account_confirm] {
            n.set(String::new());
        }
    }
}

fn keep(found: &mut Vec<FieldError>, r: Result<(), FieldError>) {
    if let Err(e) = r {
        found.push(e);
    }
}

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
    let state = FormState::new();
    let busy = RwSignal::new(false);
    let staff = payer.is_staff();
    let company = StoredValue::new(payer.company());
    let link = StoredValue::new(payer.link());

    // How cards are entered here; asked again after a Stripe card was confirmed but not
    // saved (a SetupIntent is confirmed once).
    let ask_entry = move || {
        leptos::task::spawn_local(async move {
            match card_entry(company.get_value(), link.get_value()).await {
                Ok(entry) => state.entry.set(Some(entry)),
                Err(e) => state.show_api(e),
            }
        })
    };
    ask_entry();

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() || state.uploading.get_untracked() {
            return;
        }
        if kind.get_untracked() == Kind::Card {
            if let Some(CardEntry::Stripe { client_secret, .. }) = state.entry.get_untracked() {
                return card::submit_stripe(
                    state,
                    busy,
                    client_secret,
                    company,
                    link,
                    on_added,
                    ask_entry,
                );
            }
        }
        state.general.set(None);
        let mut found = Vec::new();
        keep(
            &mut found,
            check_holder_name(&state.holder_name.get_untracked()).map(|_| ()),
        );
        let request = match kind.get_untracked() {
            Kind::Card => state.card_request(&mut found),
            Kind::Ach => Some(state.bank_request(staff, &mut found)),
        };
        let Some(request) = request.filter(|_| found.is_empty()) else {
            state.show(found);
            return;
        };
        state.errors.set(Vec::new());
        busy.set(true);
        leptos::task::spawn_local(async move {
            let token = match tokenize(&request, link.get_value().as_deref()).await {
                Ok(t) => t.token,
                Err(e) => {
                    busy.set(false);
                    state.show(vec![e]);
                    return;
                }
            };
            state.forget_numbers();
            let (company, holder_name) = (company.get_value(), state.holder_name.get_untracked());
            let saved = match request {
                TokenizeRequest::Card { .. } => {
                    let card = NewCardInput {
                        company,
                        token,
                        holder_name,
                    };
                    add_card(card, link.get_value()).await
                }
                TokenizeRequest::BankAccount { .. } => {
                    let account = NewBankAccountInput {
                        company,
                        token,
                        holder_name,
                        holder_type: state.holder_type.get_untracked(),
                        account_type: state.account_type.get_untracked(),
                        authorization: state.authorization(staff),
                    };
                    add_bank_account(account, link.get_value()).await
                }
            };
            busy.set(false);
            match saved {
                Ok(method) => on_added.run(method),
                Err(e) => state.show_api(e),
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
                        state.errors.set(Vec::new());
                        state.general.set(None);
                    }
                />
                <span class="method-label">{label}</span>
            </label>
        }
    };

    view! {
        <form class="form add-method" on:submit=submit novalidate data-testid="add-method">
            <ErrorBanner message=state.general/>
            <fieldset class="kind-choice">
                <legend>"Type"</legend>
                <div class="kind-options">
                    {kind_choice(Kind::Card, "Credit card", "kind-card")}
                    {kind_choice(Kind::Ach, "ACH bank account", "kind-ach")}
                </div>
            </fieldset>
            {move || match kind.get() {
                Kind::Card => view! { <card::CardEntryFields state=state/> }.into_any(),
                Kind::Ach => view! {
                    <ach::AchFields state=state/>
                    {if staff {
                        view! { <ach::UploadedAuthorization state=state company=company.get_value()/> }.into_any()
                    } else {
                        let on = if link.with_value(Option::is_some) { AgreedOn::PayPage } else { AgreedOn::Portal };
                        view! { <ach::PortalAuthorization state=state on=on/> }.into_any()
                    }}
                }.into_any(),
            }}
            <div class="modal-actions">
                <button type="button" class="btn" on:click=move |_| on_cancel.run(())>{cancel_label}</button>
                <button type="submit" class="btn btn-primary" disabled=move || busy.get() || state.uploading.get()>
                    <Show when=move || busy.get()>
                        <span class="spinner" aria-hidden="true"></span>
                    </Show>
                    {move || if busy.get() { "Adding…" } else { "Add" }}
                </button>
            </div>
        </form>
    }
}
