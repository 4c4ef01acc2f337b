//! The card fields: name, number (grouped as typed, its brand shown as soon as it is known,
//! checked once whole), expiry, security code and billing postal code.

use super::FormState;
use crate::components::TextField;
use leptos::prelude::*;
use shared::card::{group_card_digits, CardBrand, CardNumber};

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
