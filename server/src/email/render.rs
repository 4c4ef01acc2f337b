//! The messages' HTML and plain-text bodies, from the templates in `server/templates/email`
//! (minijinja; HTML escaped). A template sees what the outbox row holds (`data`) and what is
//! worked out here: the seller's name, the method as "Visa ending in 4242" (never more than
//! the last 4 digits: the data holds no more), who took a payment, money and dates in words.

use crate::{Error, Result};
use chrono::{DateTime, NaiveDate, Utc};
use minijinja::{context, Environment, Value};
use rust_decimal::Decimal;
use shared::email::ach_return_reason;
use shared::event::Payment;
use shared::money::{Currency, Money};
use shared::payment::ConsentChannel;
use std::sync::OnceLock;

use super::mail::Mail;

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
            "pay_link_locked.txt",
            "refund_receipt.html",
            "refund_receipt.txt",
            "statement.html",
            "statement.txt"
        );
        env
    })
}

/// Who took a payment, as a receipt says it.
fn taken_by(p: &Payment, seller: &str) -> String {
    let reference = p.consent.reference.as_deref().unwrap_or("");
    let name = p.taken_by.as_ref().map(|t| t.name.as_str());
    match p.consent.channel {
        Some(ConsentChannel::PayLink) => format!("the customer, {reference}"),
        Some(ConsentChannel::Portal) => {
            format!("{} in the customer portal", name.unwrap_or("the customer"))
        }
        Some(channel) => format!(
            "{} of {seller}, authorized by the customer ({}: {reference})",
            name.unwrap_or("staff"),
            channel.as_str()
        ),
        None => seller.to_string(),
    }
}

fn date(d: DateTime<Utc>) -> String {
    d.format("%B %-d, %Y").to_string()
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

/// An invoice and an amount, as a table row of a message.
type Row = (String, String);

/// Renders `mail`, written to the outbox at `written`; `url` is the link the message carries.
pub fn render(
    mail: &Mail,
    written: DateTime<Utc>,
    subject: &str,
    recipient_name: Option<&str>,
    seller: &str,
    url: &str,
) -> Result<Rendered> {
    let kind = mail.kind();
    let money = |d: Decimal, c: Currency| Money::new(d, c).display();
    let payment = mail.payment();
    let (invoices, reopened): (Vec<Row>, Vec<Row>) = match mail {
        Mail::PayLink(l) => (
            l.invoices
                .iter()
                .map(|i| (i.number.clone(), money(i.balance, l.currency)))
                .collect(),
            vec![],
        ),
        Mail::RefundReceipt(p) => (
            p.the_refund()
                .map(|r| {
                    r.lines
                        .iter()
                        .map(|l| (l.invoice.clone(), money(l.amount, p.currency)))
                        .collect()
                })
                .unwrap_or_default(),
            vec![],
        ),
        Mail::AchReturned(r) => (
            vec![],
            r.reopened
                .iter()
                .map(|i| (i.invoice.clone(), money(i.balance, r.payment.currency)))
                .collect(),
        ),
        _ => (
            payment
                .map(|p| {
                    p.allocations
                        .iter()
                        .map(|a| (a.invoice.clone(), money(a.amount, p.currency)))
                        .collect()
                })
                .unwrap_or_default(),
            vec![],
        ),
    };
    let method = match (mail.method(), payment.and_then(|p| p.method.as_ref())) {
        (Some(m), _) => m.label(),
        (None, Some(m)) => m.label(),
        (None, None) => String::new(),
    };
    let expires = match mail {
        Mail::CardExpiring(m) => m
            .exp_year
            .zip(m.exp_month)
            .and_then(|(y, m)| NaiveDate::from_ymd_opt(y, m as u32, 1))
            .map(|d| d.format("%B %Y").to_string())
            .unwrap_or_default(),
        Mail::PayLink(l) => date(l.expires_at),
        _ => String::new(),
    };
    let code = payment
        .and_then(|p| p.failure.as_ref())
        .map(|f| f.code.clone())
        .unwrap_or_default();
    let ctx = context! {
        subject => subject,
        seller => seller,
        recipient_name => recipient_name,
        company_name => mail.company_name().unwrap_or(""),
        data => Value::from_serialize(mail.data()),
        url => link_value(url),
        method => method,
        taken_by => payment.map(|p| taken_by(p, seller)).unwrap_or_default(),
        date => date(payment.map_or(written, |p| p.created_at)),
        amount => payment.map(|p| p.money().display()).unwrap_or_default(),
        refund_amount => payment
            .and_then(|p| p.the_refund().map(|r| money(r.amount, p.currency)))
            .unwrap_or_default(),
        total => match mail {
            Mail::PayLink(l) => money(l.total, l.currency),
            Mail::Statement(st) => money(st.amount_due, st.currency),
            _ => String::new(),
        },
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
    use serde_json::{json, Value as Json};
    use shared::email::EmailKind;

    fn payment(status: &str, method: Json, failure: Json) -> Json {
        json!({
            "object": "payment", "id": "P-100200", "status": status, "amount": "1234.50",
            "currency": "USD", "company": {"id": "C1004", "name": "Acme <Tools> & Co"},
            "method": method,
            "taken_by": {"name": "Carla Clerk", "email": "clerk@x", "role": "clerk"},
            "on_behalf_of": "C1004",
            "consent": {"channel": "phone", "reference": "Call with Maria"},
            "failure": failure,
            "allocations": [{"invoice": "INV-1", "amount": "1000.00", "balance_after": "0.00", "short_pay_code": null, "short_pay_reason": null},
                            {"invoice": "INV-2", "amount": "234.50", "balance_after": "0.00", "short_pay_code": null, "short_pay_reason": null}],
            "refunded": "0.00", "refunds": [], "refund": null, "disputes": [], "dispute": null,
            "created_at": "2026-11-29T10:00:00Z", "updated_at": "2026-11-29T10:00:00Z"
        })
    }

    fn card() -> Json {
        json!({"kind": "card", "brand": "visa", "bank_name": null, "account_type": null, "last4": "4242"})
    }

    /// One outbox row's data per kind, as the triggers and the code write them.
    fn data(kind: EmailKind) -> Json {
        let method = json!({
            "object": "payment_method", "id": 7, "company": {"id": "C1", "name": "C"},
            "kind": "ach", "brand": null, "last4": "6789", "exp_month": null, "exp_year": null,
            "bank_name": "Chase", "account_type": "checking", "holder_name": "H", "active": true,
            "created_at": "2026-11-29T10:00:00Z"
        });
        let link = |purpose: &str| json!({"purpose": purpose, "id": 3});
        match kind {
            EmailKind::PaymentReceipt => payment("approved", card(), Json::Null),
            EmailKind::AchReturned => {
                let mut p = payment(
                    "returned",
                    json!({"kind": "ach", "brand": null, "bank_name": "Chase", "account_type": "checking", "last4": "6789"}),
                    json!({"code": "R01", "message": null}),
                );
                p["reopened"] =
                    json!([{"invoice": "INV-1", "amount": "1000.00", "balance": "1000.00"}]);
                p
            }
            EmailKind::CardExpiring => {
                let mut m = method.clone();
                m["kind"] = json!("card");
                m["brand"] = json!("amex");
                m["exp_month"] = json!(12);
                m["exp_year"] = json!(2026);
                m
            }
            EmailKind::MethodAdded | EmailKind::MethodDeactivated => method,
            EmailKind::Invitation => json!({"link": link("invitation"), "email": "a@b.example",
                "invited_by": "Ann", "company_name": "C", "role_label": "a clerk"}),
            EmailKind::PasswordReset => {
                json!({"link": link("password_reset"), "email": "a@b.example"})
            }
            EmailKind::PayLink => json!({"link": link("pay_link"), "sent_by": "Carla",
                "company_name": "C", "invoices": [{"number": "INV-1", "balance": "5.00"}],
                "total": "5.00", "currency": "USD", "expires_at": "2026-12-06T10:00:00Z"}),
            EmailKind::PayLinkLocked => json!({"company": {"id": "C1", "name": "C"},
                "payer": "ap@c.example", "declines": 5}),
            EmailKind::Statement => json!({"statement_id": 4, "company_name": "Acme <Tools>",
                "company_code": "C1", "month": "November 2026", "amount_due": "1250.00",
                "currency": "USD", "file_name": "statement-C1-2026-11.pdf", "link": link("pay_link")}),
            EmailKind::RefundReceipt => {
                let mut p = payment("approved", card(), Json::Null);
                p["refunded"] = json!("34.50");
                p["refunds"] = json!([{"id": "R-1001", "kind": "refund", "status": "succeeded",
                    "amount": "34.50", "reason": "duplicate", "created_at": "2026-11-30T10:00:00Z",
                    "lines": [{"invoice": "INV-2", "amount": "34.50"}]}]);
                p["refund"] = json!("R-1001");
                p
            }
        }
    }

    fn mail(kind: EmailKind) -> Mail {
        Mail::read(kind, &data(kind)).unwrap()
    }

    #[test]
    fn a_receipt_renders_both_bodies_escaped() {
        let m = mail(EmailKind::PaymentReceipt);
        assert_eq!(
            m.subject(),
            "Payment receipt P-100200: $1,234.50 from Acme <Tools> & Co"
        );
        let r = render(
            &m,
            Utc::now(),
            &m.subject(),
            Some("Maria"),
            "Northwind Supply",
            "http://x/receipts/P-100200.sig",
        )
        .unwrap();
        assert!(r.html.contains("Acme &lt;Tools&gt; &amp; Co"));
        assert!(r.html.contains("$1,234.50"));
        assert!(r.html.contains("Visa ending in 4242"));
        assert!(r.html.contains("Carla Clerk of Northwind Supply"));
        assert!(r.text.contains("INV-2: $234.50"));
        assert!(r.text.contains("November 29, 2026"));
        assert!(r.text.contains("http://x/receipts/P-100200.sig"));
        assert!(r.text.contains("Hello Maria,"));
    }

    #[test]
    fn every_kind_reads_back_what_it_wrote_and_renders() {
        for kind in EmailKind::ALL {
            let m = mail(kind);
            assert_eq!(m.kind(), kind);
            assert_eq!(Mail::read(kind, &m.data()).unwrap(), m, "{kind:?}");
            assert!(!m.subject().is_empty());
            let r = render(&m, Utc::now(), "S", None, "Seller", "http://x/y").unwrap();
            assert!(r.html.contains("http://x/y"), "{kind:?}");
            assert!(r.text.contains("http://x/y"), "{kind:?}");
        }
        let m = mail(EmailKind::AchReturned);
        assert_eq!(
            m.subject(),
            "ACH payment returned: P-100200 ($1,234.50) from Acme <Tools> & Co"
        );
        let r = render(&m, Utc::now(), "S", None, "Seller", "u").unwrap();
        assert!(r.text.contains("Insufficient funds"));
        assert!(r.text.contains("Chase checking ending in 6789"));
        assert!(r.text.contains("INV-1: $1,000.00"));
        let m = mail(EmailKind::CardExpiring);
        assert_eq!(
            m.subject(),
            "Your American Express ending in 6789 expires soon: update it for C"
        );
        let r = render(&m, Utc::now(), "S", None, "Seller", "u").unwrap();
        assert!(r.text.contains("December 2026"));
        let m = mail(EmailKind::PayLink);
        assert_eq!(m.subject(), "Carla sent you a link to pay $5.00 of C");
        let m = mail(EmailKind::RefundReceipt);
        assert_eq!(
            m.subject(),
            "Refund R-1001: $34.50 of payment P-100200 to Acme <Tools> & Co"
        );
        let r = render(&m, Utc::now(), "S", None, "Seller", "u").unwrap();
        assert!(r
            .text
            .contains("Seller refunded $34.50 of payment P-100200"));
        assert!(r.text.contains("INV-2: $34.50"));
        assert!(!r.text.contains("INV-1:"));
        assert!(r.html.contains("Visa ending in 4242"));
        let m = mail(EmailKind::Statement);
        assert_eq!(
            m.subject(),
            "Statement for November 2026: $1,250.00 due from Acme <Tools>"
        );
        let r = render(&m, Utc::now(), "S", None, "Seller", "u").unwrap();
        assert!(r.text.contains("statement-C1-2026-11.pdf"));
        assert!(r.text.contains("$1,250.00"));
        assert!(r.html.contains("Acme &lt;Tools&gt;"));
    }

    #[test]
    fn data_that_does_not_fit_its_kind_is_refused_not_sent_with_blanks() {
        assert!(Mail::read(EmailKind::PaymentReceipt, &data(EmailKind::MethodAdded)).is_err());
        assert!(Mail::read(EmailKind::PayLink, &data(EmailKind::Invitation)).is_err());
        let mut p = data(EmailKind::PaymentReceipt);
        p["company"] = Json::Null;
        assert!(Mail::read(EmailKind::PaymentReceipt, &p).is_err());
    }
}
