//! Card surcharges on a real PostgreSQL: on credit cards only, at the lower of the setting and
//! 3 %, never where the company's state forbids it; spread over every invoice paid to the
//! cent and never on a balance; shown to the payer before paying (a payment whose fee the
//! payer did not see is refused); given back in proportion by refunds. Each pitfall peers
//! fall into has a test of its name.

use crate::common;

use common::{d, fixture, payment_input, refund_input, Fixture};
use rust_decimal::Decimal;
use shared::money::{Currency, Money};
use shared::payment::{Consent, PaymentInput, PaymentOutcome, PaymentRequest, Receipt};
use shared::refund::RefundRequest;
use shared::{AppError, InvoiceId, MethodId};

/// Pays `lines` with `method` as the clerk, the payer having been shown `seen` as the fee.
fn request(method: MethodId, lines: &[(InvoiceId, Decimal)], seen: Option<&str>) -> PaymentRequest {
    let input = PaymentInput {
        surcharge: seen.map(|s| Money::usd(d(s))),
        ..payment_input(method, lines)
    };
    PaymentRequest::parse(
        &input,
        Consent::parse_staff("phone", "Call").unwrap(),
        Currency::USD,
    )
    .unwrap()
}

impl Fixture {
    async fn surcharge(&self, percent: Option<&str>) {
        server::policies::set_surcharge(&self.pool, &self.admin().await, percent.map(d))
            .await
            .unwrap();
    }

    async fn bill_in(&self, state: &str) {
        sqlx::query("UPDATE companies SET billing_state = $1 WHERE id = $2")
            .bind(state)
            .bind(self.company_id)
            .execute(&self.pool)
            .await
            .unwrap();
    }

    async fn paid(&self, req: &PaymentRequest) -> Result<Receipt, AppError> {
        match self.pay(&self.clerk, req).await? {
            PaymentOutcome::Paid(r) => Ok(r),
            PaymentOutcome::Declined { message, .. } => panic!("declined: {message}"),
        }
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn a_surcharge_is_spread_over_every_invoice_not_only_the_first(pool: sqlx::PgPool) {
    let f = fixture(pool).await;
    f.surcharge(Some("3")).await;
    let open = f.open().await;
    let (a, b, c) = (open[0], open[1], open[2]);
    let lines = [(a.0, d("100.00")), (b.0, d("100.00")), (c.0, d("100.00"))];
    let card = f.method("4242").await;
    let r = f.paid(&request(card, &lines, Some("9.00"))).await.unwrap();
    let fees: Vec<Money> = r.lines.iter().map(|l| l.fee.unwrap()).collect();
    assert_eq!(
        fees,
        [Money::usd(d("3.00")); 3],
        "every invoice carries its share"
    );
    let s = r.surcharge.as_ref().unwrap();
    assert_eq!((s.percent, s.amount.amount()), (d("3"), d("9.00")));
    assert_eq!(s.label(), "Card surcharge 3 % on a credit card");
    assert_eq!(r.amount.amount(), d("309.00"));
    assert_eq!(f.charged(&r.number).await, d("309.00"));
    // The invoices' balances went down by what was paid on them, not a cent of the fee.
    assert_eq!(f.balance(a.0).await, a.1 - d("100.00"));
    // The feed (the API, the webhooks) and the export carry the fee on its own.
    let event: serde_json::Value = sqlx::query_scalar(
        "SELECT data FROM events WHERE payment_id = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(r.payment_id)
    .fetch_one(&f.pool)
    .await
    .unwrap();
    let typed: shared::event::Payment = serde_json::from_value(event).unwrap();
    assert_eq!(typed.surcharge, d("9.00"));
    assert_eq!(typed.surcharge_percent, Some(d("3")));
    assert!(typed
        .allocations
        .iter()
        .all(|l| l.fee == d("3.00") && l.amount == d("100.00")));
    let page = server::payments::report::list(
        &f.pool,
        &f.clerk.staff().unwrap(),
        &shared::report::PaymentFilter {
            from: None,
            to: None,
            status: None,
            method: None,
            back: None,
            page: 1,
        },
    )
    .await
    .unwrap();
    let row = page.items.iter().find(|p| p.number == r.number).unwrap();
    let cells = row.cells();
    let at = |name: &str| {
        shared::report::COLUMNS
            .iter()
            .position(|c| *c == name)
            .unwrap()
    };
    assert_eq!(cells[at("Amount")], "309.00");
    assert_eq!(cells[at("Card surcharge")], "9.00");
    f.ledger_holds().await;
}

#[sqlx::test(migrations = "./migrations")]
async fn no_surcharge_on_a_debit_card_prepaid_unknown_funding_or_ach(pool: sqlx::PgPool) {
    let f = fixture(pool).await;
    f.surcharge(Some("3")).await;
    let a = f.open().await[0];
    let methods = [
        ("debit", f.add_card("4000056655665556").await),
        ("prepaid", f.add_card("5105105105105100").await),
        ("unknown", f.add_card("6011111111111117").await),
        ("ach", f.ach_method().await),
    ];
    for (what, method) in methods {
        // Shown no fee, paid with none.
        let r = f
            .paid(&request(method, &[(a.0, d("10.00"))], None))
            .await
            .unwrap();
        assert!(r.surcharge.is_none(), "{what}");
        assert_eq!(r.amount.amount(), d("10.00"), "{what}");
        // A fee the payer was shown but the method does not carry is refused.
        let e = f
            .paid(&request(method, &[(a.0, d("10.00"))], Some("0.30")))
            .await
            .unwrap_err();
        assert_eq!(e.field().unwrap().field, "method", "{what}");
    }
    f.ledger_holds().await;
}

#[sqlx::test(migrations = "./migrations")]
async fn the_seller_receives_the_invoices_in_full_the_fee_is_not_grossed_up(pool: sqlx::PgPool) {
    let f = fixture(pool).await;
    f.surcharge(Some("2.9")).await;
    let a = f.open().await[0];
    let card = f.method("4242").await;
    // 2.9 % of $1,234.56 is $35.80 (35.80224): the charge is the invoice plus that, and the
    // invoice is paid by exactly $1,234.56.
    let r = f
        .paid(&request(card, &[(a.0, d("1234.56"))], Some("35.80")))
        .await
        .unwrap();
    assert_eq!(f.charged(&r.number).await, d("1270.36"));
    assert_eq!(r.lines[0].applied.amount(), d("1234.56"));
    assert_eq!(f.balance(a.0).await, a.1 - d("1234.56"));
    f.ledger_holds().await;
}

#[sqlx::test(migrations = "./migrations")]
async fn a_fee_is_never_left_on_an_invoice_after_an_abandoned_checkout(pool: sqlx::PgPool) {
    let f = fixture(pool).await;
    f.surcharge(Some("3")).await;
    let a = f.open().await[0];
    // Shown a fee, then the payer walks away: nothing was recorded, the balance is as it was.
    let card = f.method("4242").await;
    let stale = request(card, &[(a.0, d("50.00"))], Some("1.00"));
    let e = f.paid(&stale).await.unwrap_err();
    assert!(
        e.field()
            .unwrap()
            .message
            .contains("Card surcharge 3 % on a credit card: $1.50"),
        "{e:?}"
    );
    assert_eq!(f.balance(a.0).await, a.1);
    // A declined card with a surcharge: the balance comes back whole, no fee stays anywhere.
    let declined = f.method("0002").await;
    let out = f
        .pay(
            &f.clerk,
            &request(declined, &[(a.0, d("50.00"))], Some("1.50")),
        )
        .await
        .unwrap();
    assert!(matches!(out, PaymentOutcome::Declined { .. }));
    assert_eq!(f.balance(a.0).await, a.1);
    assert_eq!(
        f.count("SELECT count(*) FROM invoices WHERE balance > total")
            .await,
        0
    );
    f.ledger_holds().await;
}

#[sqlx::test(migrations = "./migrations")]
async fn a_state_that_refuses_gets_none_and_one_that_caps_gets_its_cap(pool: sqlx::PgPool) {
    let f = fixture(pool).await;
    f.surcharge(Some("3")).await;
    let a = f.open().await[0];
    let card = f.method("4242").await;
    f.bill_in("CT").await;
    let view = server::policies::read(&mut f.pool.acquire().await.unwrap(), Some(f.company_id))
        .await
        .unwrap();
    assert_eq!(
        view.surcharge,
        shared::surcharge::CompanySurcharge::Forbidden(
            "Connecticut does not allow card surcharges".into()
        )
    );
    let r = f
        .paid(&request(card, &[(a.0, d("100.00"))], None))
        .await
        .unwrap();
    assert!(r.surcharge.is_none());
    f.bill_in("CO").await;
    let r = f
        .paid(&request(card, &[(a.0, d("100.00"))], Some("2.00")))
        .await
        .unwrap();
    assert_eq!(r.surcharge.unwrap().percent, d("2"));
    // Elsewhere, the seller's 3 %.
    f.bill_in("TX").await;
    let r = f
        .paid(&request(card, &[(a.0, d("100.00"))], Some("3.00")))
        .await
        .unwrap();
    assert_eq!(r.surcharge.unwrap().amount.amount(), d("3.00"));
    f.ledger_holds().await;
}

fn refund(payment: shared::PaymentId, lines: &[(&str, &str)]) -> RefundRequest {
    RefundRequest::parse(&refund_input(payment, lines), Currency::USD).unwrap()
}

#[sqlx::test(migrations = "./migrations")]
async fn a_refund_gives_back_the_surcharge_in_proportion(pool: sqlx::PgPool) {
    let f = fixture(pool).await;
    f.surcharge(Some("3")).await;
    let open = f.open().await;
    let (a, b) = (open[0], open[1]);
    let card = f.method("4242").await;
    let r = f
        .paid(&request(
            card,
            &[(a.0, d("100.00")), (b.0, d("33.33"))],
            Some("4.00"),
        ))
        .await
        .unwrap();
    let (na, nb) = (&r.lines[0].invoice_number, &r.lines[1].invoice_number);
    let admin = f.other_clerk.staff().unwrap();
    let give = |req: RefundRequest| {
        let (f, admin) = (&f, &admin);
        async move {
            server::payments::refunds::give_back(&f.pool, &f.gateway, &f.config, admin, &req)
                .await
                .unwrap()
        }
    };
    // Half of the first line: half its $3.00 fee goes back with it.
    let half = give(refund(r.payment_id, &[(na, "50.00")])).await;
    assert_eq!(half.amount.amount(), d("51.50"));
    // The rest of both lines: the rest of each fee, to the cent ($1.50 and $1.00).
    let rest = give(refund(r.payment_id, &[(na, "50.00"), (nb, "33.33")])).await;
    assert_eq!(rest.amount.amount(), d("85.83"));
    assert!(rest
        .lines
        .iter()
        .any(|l| l.invoice_number == "Card surcharge" && l.amount.amount() == d("2.50")));
    // All of the payment came back: the gateway's books say the whole charge.
    let back: Decimal = sqlx::query_scalar(
        "SELECT sum(g.amount) FROM sandbox_refunds g JOIN payments p ON p.gateway_charge_id = g.charge_id WHERE p.id = $1",
    )
    .bind(r.payment_id)
    .fetch_one(&f.pool)
    .await
    .unwrap();
    assert_eq!(back, r.amount.amount());
    assert_eq!(f.balance(a.0).await, a.1);
    f.ledger_holds().await;
}
