//! The card fields: name, number (grouped as typed, its brand shown as soon as it is known,
//! checked once whole), expiry, security code and billing postal code.

use super::{keep, FormState};
use crate::components::stripe_js::{confirm_card, mount_card};
use crate::components::{FieldMessage, TextField};
use crate::server_fns::methods::add_card;
use leptos::prelude::*;
use shared::card::{group_card_digits, CardBrand, CardNumber};
use shared::error::FieldError;
use shared::method::{check_holder_name, CardEntry, MethodOption, NewCardInput};

/// `04/29` as typed: digits only, the slash added after the month.
fn format_expiry(raw: &str) -> String {
    let digits: String = raw.chars().filter(char::is_ascii_digit).take(4).collect();
    if digits.len() > 2 {
        format!("{}/{}", &digits[..2], &digits[2..])
    } else {
        digits
    }
}

fn format_cvc(raw: &str) -> String {
    raw.chars().filter(char::is_ascii_digit).take(4).collect()
}

/// The digits of a number as typed, and how many a whole one of its brand has.
fn digits_and_length(raw: &str) -> (String, Option<CardBrand>, usize) {
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    let brand = CardBrand::detect(&digits);
    let whole = if brand == Some(CardBrand::Amex) {
        15
    } else {
        16
    };
    (digits, brand, whole)
}

#[component]
pub(super) fn CardFields(state: FormState) -> impl IntoView {
    let number = state.number;
    // The brand as soon as the first digits tell; the Luhn check once the number is whole.
    let number_help = Signal::derive(move || {
        let (digits, brand, whole) = digits_and_length(&number.get());
        match brand {
            None if digits.is_empty() => "Visa, Mastercard, American Express or Discover".into(),
            None => "Unknown card brand".into(),
            Some(brand) if digits.len() >= whole && CardNumber::parse(&digits).is_ok() => {
                format!("{} ✓", brand.label())
            }
            Some(brand) => brand.label().to_string(),
        }
    });
    // A whole number that fails its check says so at once.
    let number_error = Signal::derive(move || {
        state.error_for("card_number").get().or_else(|| {
            let (digits, _, whole) = digits_and_length(&number.get());
            (digits.len() >= whole)
                .then(|| CardNumber::parse(&digits).err().map(|e| e.message))
                .flatten()
        })
    });
    view! {
        <TextField name="holder_name" label="Name on card" autocomplete="cc-name"
            value=state.holder_name error=state.error_for("holder_name")/>
        <TextField name="card_number" label="Card number" autocomplete="cc-number"
            inputmode="numeric" placeholder="1234 1234 1234 1234" maxlength=23
            value=number format=group_card_digits help=number_help error=number_error class="mono-input"/>
        <div class="field-row">
            <TextField name="expiry" label="Expiry (MM/YY)" autocomplete="cc-exp"
                inputmode="numeric" placeholder="MM/YY" maxlength=5
                value=state.expiry format=format_expiry error=state.error_for("expiry")/>
            <TextField name="cvc" label="Security code" autocomplete="cc-csc"
                inputmode="numeric" placeholder="CVC" maxlength=4
                value=state.cvc format=format_cvc error=state.error_for("cvc")/>
            <TextField name="postal_code" label="Billing postal code" autocomplete="postal-code"
                maxlength=10 value=state.postal error=state.error_for("postal_code")/>
        </div>
    }
}

/// The card fields for how this form takes cards: Settle's own (the sandbox tokenizer), or
/// Stripe's card field; nothing until the server has said which.
#[component]
pub(super) fn CardEntryFields(state: FormState) -> impl IntoView {
    // Which fields, not the SetupIntent's secret: a new secret keeps Stripe's field as it is.
    let fields = Memo::new(move |_| {
        state.entry.with(|e| match e {
            Some(CardEntry::Stripe {
                publishable_key, ..
            }) => Some(Some(publishable_key.clone())),
            Some(CardEntry::Sandbox) => Some(None),
            None => None,
        })
    });
    move || match fields.get() {
        Some(Some(publishable_key)) => {
            view! { <StripeCardFields state=state publishable_key=publishable_key/> }.into_any()
        }
        Some(None) => view! { <CardFields state=state/> }.into_any(),
        None => view! {
            <p class="muted card-entry-loading" role="status">
                <span class="spinner" aria-hidden="true"></span>" Preparing the card form…"
            </p>
        }
        .into_any(),
    }
}

/// Stripe's card field (number, expiry, security code and postal code, in Stripe's own frame)
/// under the name on the card. Its errors show under it, as Settle's own fields' do.
#[component]
fn StripeCardFields(state: FormState, publishable_key: String) -> impl IntoView {
    let mounted = RwSignal::new(false);
    let field = NodeRef::<leptos::html::Div>::new();
    // Stripe's field is mounted into this form's element once it is on the page (each time
    // the card fields are shown: an element of Stripe's lives in one place).
    Effect::new(move |done: Option<bool>| {
        let Some(element) = field.get() else {
            return false;
        };
        if done == Some(true) {
            return true;
        }
        let key = publishable_key.clone();
        leptos::task::spawn_local(async move {
            let on_change = move |error: Option<String>| match error {
                Some(m) => state.show(vec![FieldError::new("card_number", m)]),
                None => state.clear("card_number"),
            };
            match mount_card(key, element.into(), std::rc::Rc::new(on_change)).await {
                Ok(card) => {
                    state.stripe.set_value(Some(card));
                    mounted.set(true);
                }
                Err(m) => state.general.set(Some(m)),
            }
        });
        true
    });
    view! {
        <TextField name="holder_name" label="Name on card" autocomplete="cc-name"
            value=state.holder_name error=state.error_for("holder_name")/>
        <div class="field">
            <label id="stripe-card-label">"Card"</label>
            <div id="stripe-card" node_ref=field class="stripe-card" role="group" aria-labelledby="stripe-card-label"
                aria-describedby="stripe-card-help card_number-error"
                class:invalid=move || state.error_for("card_number").get().is_some()
                aria-busy=move || (!mounted.get()).to_string()></div>
            <p class="help" id="stripe-card-help">
                "Number, expiry, security code and postal code go straight to Stripe, our payment processor."
            </p>
            <FieldMessage id="card_number-error" message=state.error_for("card_number")/>
        </div>
    }
}

/// Adds the card typed in Stripe's field: the SetupIntent confirmed by Stripe.js, then saved
/// by its id (the server takes its card when it was set up for this company).
pub(super) fn submit_stripe(
    state: FormState,
    busy: RwSignal<bool>,
    client_secret: String,
    company: StoredValue<String>,
    link: StoredValue<Option<String>>,
    on_added: Callback<MethodOption>,
    ask_entry: impl Fn() + Copy + 'static,
) {
    state.general.set(None);
    let mut found = Vec::new();
    keep(
        &mut found,
        check_holder_name(&state.holder_name.get_untracked()).map(|_| ()),
    );
    if !found.is_empty() {
        return state.show(found);
    }
    busy.set(true);
    leptos::task::spawn_local(async move {
        let holder_name = state.holder_name.get_untracked();
        let confirmed = match state.stripe.get_value() {
            Some(card) => confirm_card(card, client_secret, holder_name.clone()).await,
            None => {
                Err("Stripe's card field has not loaded yet. Wait a moment and try again.".into())
            }
        };
        let setup = match confirmed {
            Ok(id) => id,
            Err(m) => {
                busy.set(false);
                return state.show(vec![FieldError::new("card_number", m)]);
            }
        };
        let card = NewCardInput {
            company: company.get_value(),
            token: setup,
            holder_name,
        };
        let saved = add_card(card, link.get_value()).await;
        busy.set(false);
        match saved {
            Ok(method) => on_added.run(method),
            Err(e) => {
                // The confirmed setup is spent: the next try gets a new one.
                ask_entry();
                state.show_api(e)
            }
        }
    });
}
