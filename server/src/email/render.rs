//! The messages' HTML and plain-text bodies, from the templates in `server/templates/email`
//! (minijinja; HTML escaped). A template sees what the outbox row holds (`data`) and what is
//! worked out here: the seller's name, the method as "Visa ending in 4242" (never more than
//! the last 4 digits: the data holds no more), who took a payment, money and dates in words.

use crate::{Error, Result};
use chrono::{DateTime, NaiveDate, Utc};
use minijinja::{context, Environment, Value};
use rust_decimal::Decimal;
use serde_json::Value as Json;
use shared::email::{ach_return_reason, EmailKind};
use shared::money::{Currency, Money};
use std::str::FromStr;
use std::sync::OnceLock;

macro_rules! templates {
    ($env:ident, $($name:literal),*) => {
        $( $env.add_template($name, include_str!(concat!("../../templates/email/", $name)))
            .expect(concat!("template ", $name, " parses")); )*
    };
}

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        templates!(
            env,
            "layout.html",
            "button.html",
            "payment_receipt.html",
            "payment_receipt.txt",
            "ach_returned.html",
            "ach_returned.txt",
            "card_expiring.html",
            "card_expiring.txt",
            "method_added.html",
            "method_added.txt",
            "method_deactivated.html",
            "method_deactivated.txt",
            "invitation.html",
            "invitation.txt",
            "password_reset.html",
            "password_reset.txt",
            "pay_link.html",
            "pay_link.txt",
            "pay_link_locked.html",
            "pay_link_locked.txt"
        );
        env.add_filter("money", |raw: String| money(&raw));
        env
    })
}

/// `"1234.5"` as `$1,234.50` (what is not an amount stays as it is).
pub fn money(raw: &str) -> String {
    Decimal::from_str(raw.trim())
        .map(|d| Money::new(d, Currency::USD).display())
        .unwrap_or_else(|_| raw.to_string())
}

/// A saved method in words: "Visa ending in 4242", "Chase checking ending in 6789".
pub fn method_label(m: &Json) -> String {
    let last4 = m["last4"].as_str().unwrap_or("????");
    if m["kind"] == "ach" {
        let bank = m["bank_name"].as_str().unwrap_or("Bank");
        let kind = m["account_type"].as_str().unwrap_or("account");
        format!("{bank} {kind} ending in {last4}")
    } else {
        let brand = match m["brand"].as_str().unwrap_or("") {
            "visa" => "Visa",
            "mastercard" => "Mastercard",
            "amex" => "American Express",
            "discover" => "Discover",
            _ => "Card",
        };
        format!("{brand} ending in {last4}")
    }
}

/// Who took a payment, as a receipt says it.
fn taken_by(data: &Json, seller: &str) -> String {
    let consent = &data["consent"];
    let reference = consent["reference"].as_str().unwrap_or("");
    match consent["channel"].as_str() {
        Some("pay_link") => format!("the customer, {reference}"),
        Some("portal") => format!(
            "{} in the customer portal",
            data["taken_by"]["name"].as_str().unwrap_or("the customer")
        ),
        Some(channel) => format!(
            "{} of {seller}, authorized by the customer ({channel}: {reference})",
            data["taken_by"]["name"].as_str().unwrap_or("staff")
        ),
        None => seller.to_string(),
    }
}

fn date(raw: &Json) -> String {
    raw.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or_else(Utc::now)
        .format("%B %-d, %Y")
        .to_string()
}

/// `[["INV-1", "$10.00"], …]` from a list of objects.
fn pairs(items: &Json, name: &str, amount: &str) -> Vec<(String, String)> {
    items
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| {
                    (
                        i[name].as_str().unwrap_or("").to_string(),
                        money(i[amount].as_str().unwrap_or("")),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A link as templates print it: as it is (HTML escaping would turn its slashes into
/// entities) when it holds only URL characters without markup meaning, escaped otherwise.
fn link_value(url: &str) -> Value {
    let plain = url
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b":/._~%?=#-+,".contains(&b));
    if plain {
        Value::from_safe_string(url.to_string())
    } else {
        Value::from(url)
    }
}

/// What one email says.
pub struct Rendered {
    pub html: String,
    pub text: String,
}

/// Renders `kind` for `data`; `url` is the link the message carries.
pub fn render(
    kind: EmailKind,
    subject: &str,
    recipient_name: Option<&str>,
    data: &Json,
    seller: &str,
    url: &str,
) -> Result<Rendered> {
    let company_name = data["company"]["name"]
        .as_str()
        .or(data["company_name"].as_str())
        .unwrap_or("")
        .to_string();
    let (invoices, reopened) = match kind {
        EmailKind::PayLink => (pairs(&data["invoices"], "number", "balance"), vec![]),
        EmailKind::AchReturned => (vec![], pairs(&data["reopened"], "invoice", "balance")),
        _ => (pairs(&data["allocations"], "invoice", "amount"), vec![]),
    };
    let method = match kind {
        EmailKind::MethodAdded | EmailKind::MethodDeactivated | EmailKind::CardExpiring => {
            method_label(data)
        }
        _ => method_label(&data["method"]),
    };
    let expires = match kind {
        EmailKind::CardExpiring => {
            let (m, y) = (data["exp_month"].as_u64(), data["exp_year"].as_u64());
            match (m, y) {
                (Some(m), Some(y)) => NaiveDate::from_ymd_opt(y as i32, m as u32, 1)
                    .map(|d| d.format("%B %Y").to_string())
                    .unwrap_or_default(),
                _ => String::new(),
            }
        }
        _ => date(&data["expires_at"]),
    };
    let code = data["failure"]["code"].as_str().unwrap_or("").to_string();
    let ctx = context! {
        subject => subject,
        seller => seller,
        recipient_name => recipient_name,
        company_name => company_name,
        data => Value::from_serialize(data),
        url => link_value(url),
        method => method,
        taken_by => taken_by(data, seller),
        date => date(&data["created_at"]),
        invoices => invoices,
        reopened => reopened,
        reason => ach_return_reason(&code),
        code => code,
        expires => expires,
    };
    let template = |ext: &str| -> Result<String> {
        env()
            .get_template(&format!("{}.{ext}", kind.as_str()))
            .and_then(|t| t.render(&ctx))
            .map_err(|e| Error::Other(format!("email template {}: {e}", kind.as_str())))
    };
    Ok(Rendered {
        html: template("html")?,
        text: template("txt")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn receipt() -> Json {
        json!({
            "id": "P-100200", "status": "approved", "amount": "1234.50", "currency": "USD",
            "company": {"id": "C1004", "name": "Acme <Tools> & Co"},
            "method": {"kind": "card", "brand": "visa", "last4": "4242"},
            "taken_by": {"name": "Carla Clerk", "email": "clerk@x", "role": "clerk"},
            "consent": {"channel": "phone", "reference": "Call with Maria"},
            "allocations": [{"invoice": "INV-1", "amount": "1000.00"}, {"invoice": "INV-2", "amount": "234.50"}],
            "created_at": "2026-11-29T10:00:00Z"
        })
    }

    #[test]
    fn a_receipt_renders_both_bodies_escaped() {
        let r = render(
            EmailKind::PaymentReceipt,
            "Payment receipt",
            Some("Maria"),
            &receipt(),
            "Northwind Supply",
            "http://x/receipts/P-100200.sig",
        )
        .unwrap();
        assert!(r.html.contains("Acme &lt;Tools&gt; &amp; Co"));
        assert!(r.html.contains("$1,234.50"));
        assert!(r.html.contains("Visa ending in 4242"));
        assert!(r.html.contains("Carla Clerk of Northwind Supply"));
        assert!(r.text.contains("INV-2: $234.50"));
        assert!(r.text.contains("http://x/receipts/P-100200.sig"));
        assert!(r.text.contains("Hello Maria,"));
    }

    #[test]
    fn every_kind_renders() {
        let data = json!({
            "id": "P-1", "amount": "5.00", "company": {"id": "C1", "name": "C"}, "kind": "ach",
            "bank_name": "Chase", "account_type": "checking", "last4": "6789", "holder_name": "H",
            "method": {"kind": "ach", "bank_name": "Chase", "account_type": "checking", "last4": "6789"},
            "failure": {"code": "R01"}, "reopened": [{"invoice": "INV-1", "balance": "5.00"}],
            "exp_month": 12, "exp_year": 2026, "invited_by": "Ann", "email": "a@b.example",
            "role_label": "a clerk", "sent_by": "Carla", "total": "5.00",
            "invoices": [{"number": "INV-1", "balance": "5.00"}], "expires_at": "2026-12-06T10:00:00Z"
        });
        for kind in EmailKind::ALL {
            let r = render(kind, "S", None, &data, "Seller", "http://x/y").unwrap();
            assert!(r.html.contains("http://x/y"), "{kind:?}");
            assert!(r.text.contains("http://x/y"), "{kind:?}");
        }
        let r = render(EmailKind::AchReturned, "S", None, &data, "Seller", "u").unwrap();
        assert!(r.text.contains("Insufficient funds"));
        assert!(r.text.contains("Chase checking ending in 6789"));
    }
}
