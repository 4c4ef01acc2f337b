//! The built-in sandbox gateway: deterministic, and answering like a hosted one — tokens,
//! charges with idempotency keys, declines by test number, ACH pending → settled or returned,
//! calls that finish even when the caller stopped waiting. It keeps its own books in
//! PostgreSQL, as a hosted gateway keeps them on its side.

use super::{
    BankAccountNumbers, CardToken, Charge, ChargeStatus, DisputeNotice, GatewayError,
    GatewayFuture, PaymentGateway, Refund, RefundStatus, TokenDetails, VoidOffer, Voided,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use rust_decimal::Decimal;
use shared::card::CardNumber;
use shared::method::MethodKind;
use shared::money::Money;
use sqlx::PgPool;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The sandbox's test card numbers and what they do.
pub const TEST_CARDS: [(&str, &str, &str); 9] = [
    ("4242424242424242", "approve", ""),
    // Charged as usual; a refund of it is accepted as pending and fails later, as the
    // card's bank refuses it (Stripe's test card of the same number does the same).
    (
        "4000000000005126",
        "refund_fails",
        "The card's bank refused the refund: the card is closed.",
    ),
    // Charged as usual, then disputed by the cardholder (the money taken); the seller wins
    // the first and loses the second, as Stripe's test cards of the same numbers dispute.
    (
        "4000000000002685",
        "dispute_won",
        "Disputed: product not received (won).",
    ),
    (
        "4000000000000259",
        "dispute_lost",
        "Disputed: fraudulent (lost).",
    ),
    (
        "4000000000000002",
        "card_declined",
        "The card was declined.",
    ),
    (
        "4000000000009995",
        "insufficient_funds",
        "The card has insufficient funds.",
    ),
    ("4000000000000069", "expired_card", "The card has expired."),
    (
        "4000000000000127",
        "incorrect_cvc",
        "The card's security code is incorrect.",
    ),
    (
        "4000000000000119",
        "processing_error",
        "The card could not be processed. Try again.",
    ),
];
/// The sandbox's test cards by funding (Stripe's test cards of the same numbers report the
/// same); any other card is a credit card.
pub const TEST_FUNDING: [(&str, &str); 4] = [
    ("4000056655665556", "debit"),
    ("5200828282828210", "debit"),
    ("5105105105105100", "prepaid"),
    ("6011111111111117", "unknown"),
];

/// The funding the sandbox reports for a card number.
pub fn funding_of(number: &str) -> &'static str {
    TEST_FUNDING
        .iter()
        .find(|(n, _)| *n == number)
        .map_or("credit", |(_, f)| *f)
}

/// The sandbox's test bank: routing number and account numbers.
pub const TEST_ROUTING: &str = "110000000";
pub const TEST_ACH_SETTLES: &str = "000123456789";
pub const TEST_ACH_RETURNS: &str = "000222222227";
/// Settles, then comes back late as unauthorized (R10), as a consumer's bank may within 60 days.
pub const TEST_ACH_LATE_RETURN: &str = "000333333335";
/// Stays pending for a day before it settles: time to void it.
pub const TEST_ACH_SLOW: &str = "000444444441";

/// What a declined card says when its code has no message of its own.
const DECLINED: &str = "The payment was declined.";

/// The card behaviours the sandbox approves; any other is the code of a decline.
const APPROVING: [&str; 4] = ["approve", "refund_fails", "dispute_won", "dispute_lost"];

/// The built-in sandbox gateway.
#[derive(Clone)]
pub struct SandboxGateway {
    pool: PgPool,
    /// Added to every call, to exercise slow gateways (`SETTLE_SANDBOX_DELAY_MS`).
    pub delay: Duration,
    /// Whether the gateway can be reached at all; [`SandboxGateway::set_reachable`].
    reachable: Arc<AtomicBool>,
}

/// Tokenizations one caller may ask for within [`TOKENIZE_WINDOW`]: enough for a clerk
/// adding methods all day, too few for testing stolen card numbers one after another.
pub const TOKENIZE_LIMIT: usize = 20;
pub const TOKENIZE_WINDOW: Duration = Duration::from_secs(10 * 60);

fn random_id(prefix: &str) -> String {
    let mut bytes = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{prefix}_{}", URL_SAFE_NO_PAD.encode(bytes))
}

fn unavailable(e: sqlx::Error) -> GatewayError {
    GatewayError::Unavailable(e.to_string())
}

impl SandboxGateway {
    pub fn new(pool: PgPool, delay: Duration) -> Self {
        SandboxGateway {
            pool,
            delay,
            reachable: Arc::new(AtomicBool::new(true)),
        }
    }

    /// Cuts the network to the gateway (`false`: every call fails as a refused connection
    /// would, nothing reaches its books) or restores it.
    pub fn set_reachable(&self, reachable: bool) {
        self.reachable.store(reachable, Ordering::SeqCst);
    }

    /// Counts a tokenization for `caller` ([`tokenize_allowed`]).
    pub async fn allow_tokenization(&self, caller: &str) -> Result<bool, GatewayError> {
        tokenize_allowed(&self.pool, caller).await
    }

    /// Runs a call as a hosted gateway does: after the configured delay, and to the end even
    /// when the caller stops waiting (the work is its own task, as a request that reached the
    /// gateway's servers is processed whatever the client does).
    async fn slow<T: Send + 'static>(
        &self,
        work: impl Future<Output = Result<T, GatewayError>> + Send + 'static,
    ) -> Result<T, GatewayError> {
        if !self.reachable.load(Ordering::SeqCst) {
            return Err(GatewayError::Unavailable(
                "connection refused (the sandbox is unreachable)".into(),
            ));
        }
        let delay = self.delay;
        tokio::spawn(async move {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            work.await
        })
        .await
        .map_err(|e| GatewayError::Unavailable(format!("the gateway failed: {e}")))?
    }

    /// The sandbox bank network's clock: pending ACH charges older than `older_than` move on
    /// in the gateway's books — those of the settling test account settle (the slow one's
    /// after a day), those of the returning one come back returned (R01); pending refunds succeed, or fail for the card
    /// whose bank refuses refunds. Settle learns of it by asking
    /// ([`PaymentGateway::find_charge`], [`PaymentGateway::find_refund`]). Returns how many
    /// moved.
    pub async fn advance_ach(&self, older_than: Duration) -> Result<u64, GatewayError> {
        let moved = sqlx::query!(
            "UPDATE sandbox_charges c SET status = CASE t.behaviour WHEN 'ach_returns' THEN 'returned' ELSE 'settled' END, \
                 code = CASE t.behaviour WHEN 'ach_returns' THEN 'R01' ELSE NULL END, \
                 message = CASE t.behaviour WHEN 'ach_returns' THEN 'Insufficient funds (R01).' ELSE NULL END \
             FROM sandbox_tokens t WHERE t.token = c.token AND c.status = 'pending' \
               AND c.created_at <= now() - make_interval(secs => $1) \
               AND (t.behaviour <> 'ach_slow' OR c.created_at <= now() - interval '1 day')",
            older_than.as_secs_f64()
        )
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        // Pending refunds end too: those of the card whose bank refuses refunds fail.
        let refunds = sqlx::query!(
            "UPDATE sandbox_refunds r SET status = CASE t.behaviour WHEN 'refund_fails' THEN 'failed' ELSE 'succeeded' END \
             FROM sandbox_charges c JOIN sandbox_tokens t ON t.token = c.token \
             WHERE c.id = r.charge_id AND r.status = 'pending' \
               AND r.created_at <= now() - make_interval(secs => $1)",
            older_than.as_secs_f64()
        )
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(moved.rows_affected() + refunds.rows_affected())
    }
}

/// A dispute in the sandbox's books.
struct DisputeRow {
    id: String,
    charge_id: String,
    amount: Decimal,
    reason: String,
    status: String,
    evidence_due_by: chrono::DateTime<chrono::Utc>,
    created_at: chrono::DateTime<chrono::Utc>,
}

impl DisputeRow {
    fn into_notice(self) -> DisputeNotice {
        DisputeNotice {
            id: self.id,
            charge_id: self.charge_id,
            amount: Money::usd(self.amount),
            reason: self.reason,
            status: self.status,
            evidence_due_by: Some(self.evidence_due_by),
            opened_at: self.created_at,
        }
    }
}

/// A debit the sandbox's bank sent back after it had settled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LateReturn {
    pub charge_id: String,
    pub code: String,
    pub message: String,
}

impl SandboxGateway {
    /// The bank network's clock for late returns: settled debits of the late-returning test
    /// account older than twice `older_than` come back returned (R10, unauthorized). Returns
    /// them, for Settle to record as the bank's return file would tell it.
    pub async fn advance_late_returns(
        &self,
        older_than: Duration,
    ) -> Result<Vec<LateReturn>, GatewayError> {
        let rows = sqlx::query!(
            r#"UPDATE sandbox_charges c SET status = 'returned', code = 'R10',
                   message = 'Customer advises not authorized (R10).'
               FROM sandbox_tokens t WHERE t.token = c.token AND t.behaviour = 'ach_late_return'
                 AND c.status = 'settled' AND c.created_at <= now() - make_interval(secs => $1)
               RETURNING c.id, c.code AS "code!", c.message AS "message!""#,
            2.0 * older_than.as_secs_f64()
        )
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(rows
            .into_iter()
            .map(|r| LateReturn {
                charge_id: r.id,
                code: r.code,
                message: r.message,
            })
            .collect())
    }

    /// The card network's clock for disputes: disputes older than `older_than` close (won or
    /// lost, by the test card), then approved charges of the disputing test cards older than
    /// that are disputed in full (fraudulent or product not received, evidence due in 7
    /// days). Returns what changed, for Settle to record as a hosted gateway's events would
    /// tell it.
    pub async fn advance_disputes(
        &self,
        older_than: Duration,
    ) -> Result<Vec<DisputeNotice>, GatewayError> {
        let secs = older_than.as_secs_f64();
        let closed = sqlx::query_as!(
            DisputeRow,
            r#"UPDATE sandbox_disputes d SET status = CASE t.behaviour WHEN 'dispute_won' THEN 'won' ELSE 'lost' END,
                   closed_at = now()
               FROM sandbox_charges c JOIN sandbox_tokens t ON t.token = c.token
               WHERE c.id = d.charge_id AND d.status = 'needs_response'
                 AND d.created_at <= now() - make_interval(secs => $1)
               RETURNING d.id, d.charge_id, d.amount, d.reason, d.status, d.evidence_due_by, d.created_at"#,
            secs
        )
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        let opened = sqlx::query_as!(
            DisputeRow,
            r#"INSERT INTO sandbox_disputes (id, charge_id, amount, reason, status, evidence_due_by)
               SELECT 'dp_' || left(replace(gen_random_uuid()::text, '-', ''), 14), c.id, c.amount,
                      CASE t.behaviour WHEN 'dispute_won' THEN 'product_not_received' ELSE 'fraudulent' END,
                      'needs_response', now() + interval '7 days'
               FROM sandbox_charges c JOIN sandbox_tokens t ON t.token = c.token
               WHERE t.behaviour IN ('dispute_won', 'dispute_lost') AND c.status = 'approved'
                 AND c.created_at <= now() - make_interval(secs => $1)
                 AND NOT EXISTS (SELECT 1 FROM sandbox_disputes d WHERE d.charge_id = c.id)
               RETURNING id, charge_id, amount, reason, status, evidence_due_by, created_at"#,
            secs
        )
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(closed
            .into_iter()
            .chain(opened)
            .map(DisputeRow::into_notice)
            .collect())
    }
}

/// Counts a tokenization for `caller` and says whether it may go ahead: at most
/// [`TOKENIZE_LIMIT`] in any [`TOKENIZE_WINDOW`], as hosted gateways limit card testing
/// (the tokenizer endpoint's limit, whatever the gateway).
/// Kept in PostgreSQL, so the limit holds across every instance; one caller's attempts
/// are counted one at a time (an advisory lock on the caller).
pub async fn tokenize_allowed(pool: &PgPool, caller: &str) -> Result<bool, GatewayError> {
    let mut tx = pool.begin().await.map_err(unavailable)?;
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtextextended('sandbox-tokenize:' || $1, 0)) AS locked",
        caller
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(unavailable)?;
    let recent = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM sandbox_tokenize_attempts
           WHERE caller = $1 AND at > now() - make_interval(secs => $2)"#,
        caller,
        TOKENIZE_WINDOW.as_secs_f64()
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(unavailable)?;
    if recent >= TOKENIZE_LIMIT as i64 {
        return Ok(false);
    }
    sqlx::query!(
        "INSERT INTO sandbox_tokenize_attempts (caller) VALUES ($1)",
        caller
    )
    .execute(&mut *tx)
    .await
    .map_err(unavailable)?;
    tx.commit().await.map_err(unavailable)?;
    Ok(true)
}

/// Forgets tokenizations older than the window. Returns how many.
pub async fn forget_old_tokenizations(pool: &PgPool) -> Result<u64, GatewayError> {
    let done = sqlx::query!(
        "DELETE FROM sandbox_tokenize_attempts WHERE at < now() - make_interval(secs => $1)",
        TOKENIZE_WINDOW.as_secs_f64()
    )
    .execute(pool)
    .await
    .map_err(unavailable)?;
    Ok(done.rows_affected())
}

/// A charge's state in the sandbox's books (`sandbox_charges.status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "lowercase")]
enum BookedStatus {
    Approved,
    Declined,
    Pending,
    Settled,
    Returned,
    Refunded,
    Voided,
}

impl BookedStatus {
    /// Why a charge in this state cannot be voided (`None`: it can).
    fn not_voidable(self) -> Option<&'static str> {
        match self {
            BookedStatus::Pending | BookedStatus::Voided => None,
            BookedStatus::Settled => Some("The debit has settled: it can be refunded instead."),
            BookedStatus::Returned => {
                Some("The bank returned the debit: the money is already back with the payer.")
            }
            BookedStatus::Approved | BookedStatus::Refunded | BookedStatus::Declined => {
                Some("Only a bank debit that has not settled can be cancelled.")
            }
        }
    }
}

struct ChargeRow {
    id: String,
    status: BookedStatus,
    code: Option<String>,
    message: Option<String>,
    amount: Decimal,
}

impl ChargeRow {
    fn into_charge(self) -> Charge {
        let status = match self.status {
            // A refund is a later event; the charge itself was approved.
            BookedStatus::Approved | BookedStatus::Refunded => ChargeStatus::Approved,
            BookedStatus::Declined => ChargeStatus::Declined,
            BookedStatus::Pending => ChargeStatus::Pending,
            BookedStatus::Settled => ChargeStatus::Settled,
            BookedStatus::Returned => ChargeStatus::Returned,
            BookedStatus::Voided => ChargeStatus::Voided,
        };
        Charge {
            id: self.id,
            status,
            code: self.code,
            message: self.message,
        }
    }
}

/// A refund's state in the sandbox's books (`sandbox_refunds.status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "lowercase")]
enum BookedRefund {
    Pending,
    Succeeded,
    Failed,
}

struct RefundRow {
    id: String,
    charge_id: String,
    amount: Decimal,
    status: BookedRefund,
}

impl RefundRow {
    fn into_refund(self) -> Refund {
        let (status, message) = match self.status {
            BookedRefund::Pending => (RefundStatus::Pending, None),
            BookedRefund::Succeeded => (RefundStatus::Succeeded, None),
            BookedRefund::Failed => (
                RefundStatus::Failed,
                Some("The card's bank refused the refund: the card is closed.".to_string()),
            ),
        };
        Refund {
            id: self.id,
            status,
            message,
        }
    }
}

impl PaymentGateway for SandboxGateway {
    fn tokenize_card(
        &self,
        number: &CardNumber,
        exp_month: u32,
        exp_year: i32,
    ) -> GatewayFuture<'_, CardToken> {
        let (pool, number) = (self.pool.clone(), number.clone());
        Box::pin(self.slow(async move {
            let behaviour = TEST_CARDS
                .iter()
                .find(|(n, _, _)| *n == number.expose())
                .map(|(_, b, _)| *b)
                .unwrap_or("approve");
            let token = random_id("tok");
            sqlx::query!(
                "INSERT INTO sandbox_tokens (token, kind, behaviour, brand, last4, exp_month, exp_year, funding) \
                 VALUES ($1, 'card', $2, $3, $4, $5, $6, $7)",
                token,
                behaviour,
                number.brand().as_str(),
                number.last4(),
                exp_month as i16,
                exp_year as i16,
                funding_of(number.expose())
            )
            .execute(&pool)
            .await
            .map_err(unavailable)?;
            Ok(CardToken {
                token,
                brand: number.brand().as_str().to_string(),
                last4: number.last4().to_string(),
            })
        }))
    }

    fn tokenize_bank_account(&self, account: &BankAccountNumbers<'_>) -> GatewayFuture<'_, String> {
        let pool = self.pool.clone();
        let (routing_number, account_number) = (
            account.routing_number.to_string(),
            account.account_number.to_string(),
        );
        Box::pin(self.slow(async move {
            let behaviour = match (routing_number.as_str(), account_number.as_str()) {
                (TEST_ROUTING, TEST_ACH_RETURNS) => "ach_returns",
                (TEST_ROUTING, TEST_ACH_LATE_RETURN) => "ach_late_return",
                (TEST_ROUTING, TEST_ACH_SLOW) => "ach_slow",
                _ => "ach_settles",
            };
            let last4 = &account_number[account_number.len().saturating_sub(4)..];
            let token = random_id("ba");
            sqlx::query!(
                "INSERT INTO sandbox_tokens (token, kind, behaviour, last4, routing_number) VALUES ($1, 'ach', $2, $3, $4)",
                token,
                behaviour,
                last4,
                routing_number
            )
            .execute(&pool)
            .await
            .map_err(unavailable)?;
            Ok(token)
        }))
    }

    fn charge(
        &self,
        token: &str,
        amount: Money,
        idempotency_key: &str,
    ) -> GatewayFuture<'_, Charge> {
        let pool = self.pool.clone();
        let (token, idempotency_key) = (token.to_string(), idempotency_key.to_string());
        Box::pin(self.slow(async move {
            // One statement reads the token and books the charge it decides: pending for a
            // bank account, approved for a card that approves, else declined with the card's
            // code; the same key is the same charge (a repeat books nothing and reads what is
            // there).
            let (codes, messages): (Vec<&str>, Vec<&str>) =
                TEST_CARDS.iter().map(|(_, c, m)| (*c, *m)).unzip();
            let booked = sqlx::query!(
                r#"WITH t AS (SELECT kind, behaviour FROM sandbox_tokens WHERE token = $3),
                        o AS (SELECT t.behaviour,
                                     CASE WHEN t.kind = 'ach' THEN 'pending'
                                          WHEN t.behaviour = ANY($6) THEN 'approved'
                                          ELSE 'declined' END AS status
                              FROM t),
                        ins AS (
                            INSERT INTO sandbox_charges (id, idempotency_key, token, amount, currency, status, code, message)
                            SELECT $1, $2, $3, $4, $5, o.status,
                                   CASE WHEN o.status = 'declined' THEN o.behaviour END,
                                   CASE WHEN o.status = 'declined' THEN COALESCE(
                                       (SELECT d.m FROM unnest($7::text[], $8::text[]) AS d(c, m) WHERE d.c = o.behaviour),
                                       $9) END
                            FROM o ON CONFLICT (idempotency_key) DO NOTHING
                            RETURNING id, status, code, message, amount)
                   SELECT EXISTS (SELECT 1 FROM t) AS "known!", ins.id AS "id?",
                          ins.status AS "status?: BookedStatus", ins.code AS "code?",
                          ins.message AS "message?", ins.amount AS "amount?"
                   FROM (SELECT 1) AS one LEFT JOIN ins ON true"#,
                random_id("ch"),
                idempotency_key,
                token,
                amount.amount(),
                amount.currency().code(),
                &APPROVING as &[&str],
                &codes as &[&str],
                &messages as &[&str],
                DECLINED
            )
            .fetch_one(&pool)
            .await
            .map_err(unavailable)?;
            if !booked.known {
                return Err(GatewayError::Refused("unknown payment token".into()));
            }
            let row = match (booked.id, booked.status, booked.amount) {
                (Some(id), Some(status), Some(amount)) => ChargeRow {
                    id,
                    status,
                    code: booked.code,
                    message: booked.message,
                    amount,
                },
                _ => sqlx::query_as!(
                    ChargeRow,
                    r#"SELECT id, status AS "status: BookedStatus", code, message, amount
                       FROM sandbox_charges WHERE idempotency_key = $1"#,
                    idempotency_key
                )
                .fetch_one(&pool)
                .await
                .map_err(unavailable)?,
            };
            if row.amount != amount.amount() {
                return Err(GatewayError::Refused(
                    "this idempotency key was used for another amount".into(),
                ));
            }
            Ok(row.into_charge())
        }))
    }

    fn token_details(&self, token: &str) -> GatewayFuture<'_, Option<TokenDetails>> {
        let (pool, token) = (self.pool.clone(), token.to_string());
        Box::pin(self.slow(async move {
            let row = sqlx::query!(
                r#"SELECT kind AS "kind: MethodKind", brand, last4::text AS "last4!", exp_month, exp_year,
                          routing_number::text AS routing_number, funding
                   FROM sandbox_tokens WHERE token = $1"#,
                token
            )
            .fetch_optional(&pool)
            .await
            .map_err(unavailable)?;
            let Some(r) = row else { return Ok(None) };
            let broken = || GatewayError::Unavailable(format!("token {token} is incomplete in the books"));
            Ok(Some(match r.kind {
                MethodKind::Card => TokenDetails::Card {
                    brand: r.brand.ok_or_else(broken)?,
                    last4: r.last4,
                    exp_month: r.exp_month.and_then(|m| u32::try_from(m).ok()).ok_or_else(broken)?,
                    exp_year: i32::from(r.exp_year.ok_or_else(broken)?),
                    funding: r.funding,
                },
                MethodKind::Ach => TokenDetails::BankAccount {
                    routing_number: r.routing_number.ok_or_else(broken)?,
                    last4: r.last4,
                },
            }))
        }))
    }

    fn find_charge(&self, idempotency_key: &str) -> GatewayFuture<'_, Option<Charge>> {
        let (pool, idempotency_key) = (self.pool.clone(), idempotency_key.to_string());
        Box::pin(self.slow(async move {
            let row = sqlx::query_as!(
                ChargeRow,
                r#"SELECT id, status AS "status: BookedStatus", code, message, amount
                   FROM sandbox_charges WHERE idempotency_key = $1"#,
                idempotency_key
            )
            .fetch_optional(&pool)
            .await
            .map_err(unavailable)?;
            Ok(row.map(ChargeRow::into_charge))
        }))
    }

    fn refund(
        &self,
        charge_id: &str,
        amount: Money,
        idempotency_key: &str,
    ) -> GatewayFuture<'_, Refund> {
        let pool = self.pool.clone();
        let (charge_id, key) = (charge_id.to_string(), idempotency_key.to_string());
        Box::pin(self.slow(async move {
            let mut tx = pool.begin().await.map_err(unavailable)?;
            // One refund of a charge at a time (its row locked): the sum never passes it.
            let charge = sqlx::query!(
                r#"SELECT c.amount, c.status AS "status: BookedStatus", t.behaviour
                   FROM sandbox_charges c JOIN sandbox_tokens t ON t.token = c.token
                   WHERE c.id = $1 FOR UPDATE OF c"#,
                charge_id
            )
            .fetch_optional(&mut *tx)
            .await
            .map_err(unavailable)?
            .ok_or_else(|| GatewayError::Refused("no charge with that id".into()))?;
            if let Some(done) = sqlx::query_as!(
                RefundRow,
                r#"SELECT id, charge_id, amount, status AS "status: BookedRefund" FROM sandbox_refunds
                   WHERE idempotency_key = $1"#,
                key
            )
            .fetch_optional(&mut *tx)
            .await
            .map_err(unavailable)?
            {
                if done.charge_id != charge_id || done.amount != amount.amount() {
                    return Err(GatewayError::Refused(
                        "this idempotency key was used for another refund".into(),
                    ));
                }
                return Ok(done.into_refund());
            }
            if !matches!(
                charge.status,
                BookedStatus::Approved | BookedStatus::Settled | BookedStatus::Refunded
            ) {
                return Err(GatewayError::Refused(
                    "only an approved or settled charge can be refunded".into(),
                ));
            }
            let refunded = sqlx::query_scalar!(
                r#"SELECT COALESCE(sum(amount), 0) AS "n!" FROM sandbox_refunds
                   WHERE charge_id = $1 AND status <> 'failed'"#,
                charge_id
            )
            .fetch_one(&mut *tx)
            .await
            .map_err(unavailable)?;
            if refunded + amount.amount() > charge.amount {
                return Err(GatewayError::Refused(format!(
                    "the refund is more than is left of the charge ({} of {} refunded)",
                    refunded, charge.amount
                )));
            }
            let status = if charge.behaviour == "refund_fails" {
                BookedRefund::Pending
            } else {
                BookedRefund::Succeeded
            };
            let row = sqlx::query_as!(
                RefundRow,
                r#"INSERT INTO sandbox_refunds (id, charge_id, idempotency_key, amount, status)
                   VALUES ($1, $2, $3, $4, $5)
                   RETURNING id, charge_id, amount, status AS "status: BookedRefund""#,
                random_id("re"),
                charge_id,
                key,
                amount.amount(),
                status as BookedRefund
            )
            .fetch_one(&mut *tx)
            .await
            .map_err(unavailable)?;
            tx.commit().await.map_err(unavailable)?;
            Ok(row.into_refund())
        }))
    }

    /// A pending debit has not reached the sandbox's bank: it can be taken out.
    fn void_offer(&self, charge_id: &str) -> GatewayFuture<'_, VoidOffer> {
        let (pool, charge_id) = (self.pool.clone(), charge_id.to_string());
        Box::pin(self.slow(async move {
            let status = sqlx::query_scalar!(
                r#"SELECT status AS "status: BookedStatus" FROM sandbox_charges WHERE id = $1"#,
                charge_id
            )
            .fetch_optional(&pool)
            .await
            .map_err(unavailable)?
            .ok_or_else(|| GatewayError::Refused("no charge with that id".into()))?;
            Ok(match status.not_voidable() {
                None => VoidOffer::Cancel,
                Some(why) => VoidOffer::No(why.into()),
            })
        }))
    }

    fn void<'a>(
        &'a self,
        charge_id: &'a str,
        _reverse: bool,
        _idempotency_key: &'a str,
    ) -> GatewayFuture<'a, Voided> {
        let (pool, charge_id) = (self.pool.clone(), charge_id.to_string());
        Box::pin(self.slow(async move {
            // Checked and changed in one statement: the bank's clock cannot settle it between.
            let status = sqlx::query_scalar!(
                r#"WITH before AS (SELECT id, status FROM sandbox_charges WHERE id = $1 FOR UPDATE)
                   UPDATE sandbox_charges c SET status = CASE WHEN before.status IN ('pending', 'voided')
                                                             THEN 'voided' ELSE before.status END
                   FROM before WHERE c.id = before.id
                   RETURNING before.status AS "status: BookedStatus""#,
                charge_id
            )
            .fetch_optional(&pool)
            .await
            .map_err(unavailable)?
            .ok_or_else(|| GatewayError::Refused("no charge with that id".into()))?;
            match status.not_voidable() {
                None => Ok(Voided::Cancelled),
                Some(why) => Err(GatewayError::Refused(why.into())),
            }
        }))
    }

    fn find_refund(
        &self,
        charge_id: &str,
        idempotency_key: &str,
    ) -> GatewayFuture<'_, Option<Refund>> {
        let pool = self.pool.clone();
        let (charge_id, key) = (charge_id.to_string(), idempotency_key.to_string());
        Box::pin(self.slow(async move {
            let row = sqlx::query_as!(
                RefundRow,
                r#"SELECT id, charge_id, amount, status AS "status: BookedRefund" FROM sandbox_refunds
                   WHERE idempotency_key = $1 AND charge_id = $2"#,
                key,
                charge_id
            )
            .fetch_optional(&pool)
            .await
            .map_err(unavailable)?;
            Ok(row.map(RefundRow::into_refund))
        }))
    }
}
