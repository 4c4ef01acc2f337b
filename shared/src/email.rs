//! Reaching people by email: the messages Settle sends, the outbox as staff see it
//! (System → Email), invitation and password-reset links, and pay links.

use crate::invoice::OpenInvoice;
use crate::FieldError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The header a payer without a session presents a pay link's token in, to the gateway's
/// tokenizer (card and account numbers never reach Settle's server functions).
pub const PAY_LINK_HEADER: &str = "settle-pay-link";

/// Which message an email is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type))]
#[cfg_attr(feature = "sqlx", sqlx(type_name = "text", rename_all = "snake_case"))]
#[serde(rename_all = "snake_case")]
pub enum EmailKind {
    PaymentReceipt,
    AchReturned,
    CardExpiring,
    MethodAdded,
    MethodDeactivated,
    Invitation,
    PasswordReset,
    PayLink,
    /// To the clerk who sent a pay link: it was locked after repeated declines.
    PayLinkLocked,
    /// To the AP contacts: money was given back from a payment.
    RefundReceipt,
    /// To the AP contacts: the month's statement, attached as PDF.
    Statement,
}

impl EmailKind {
    pub const ALL: [EmailKind; 11] = [
        EmailKind::PaymentReceipt,
        EmailKind::AchReturned,
        EmailKind::CardExpiring,
        EmailKind::MethodAdded,
        EmailKind::MethodDeactivated,
        EmailKind::Invitation,
        EmailKind::PasswordReset,
        EmailKind::PayLink,
        EmailKind::PayLinkLocked,
        EmailKind::RefundReceipt,
        EmailKind::Statement,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EmailKind::PaymentReceipt => "payment_receipt",
            EmailKind::AchReturned => "ach_returned",
            EmailKind::CardExpiring => "card_expiring",
            EmailKind::MethodAdded => "method_added",
            EmailKind::MethodDeactivated => "method_deactivated",
            EmailKind::Invitation => "invitation",
            EmailKind::PasswordReset => "password_reset",
            EmailKind::PayLink => "pay_link",
            EmailKind::PayLinkLocked => "pay_link_locked",
            EmailKind::RefundReceipt => "refund_receipt",
            EmailKind::Statement => "statement",
        }
    }

    /// What the message is, as the Email screen lists it.
    pub fn label(self) -> &'static str {
        match self {
            EmailKind::PaymentReceipt => "Payment receipt",
            EmailKind::AchReturned => "ACH returned",
            EmailKind::CardExpiring => "Card expiring",
            EmailKind::MethodAdded => "Method added",
            EmailKind::MethodDeactivated => "Method deactivated",
            EmailKind::Invitation => "Invitation",
            EmailKind::PasswordReset => "Password reset",
            EmailKind::PayLink => "Pay link",
            EmailKind::PayLinkLocked => "Pay link locked",
            EmailKind::RefundReceipt => "Refund receipt",
            EmailKind::Statement => "Statement",
        }
    }

    /// Whether the message carries a link that signs someone in or pays (its body is never
    /// shown on the Email screen).
    pub fn carries_secret_link(self) -> bool {
        matches!(
            self,
            EmailKind::Invitation
                | EmailKind::PasswordReset
                | EmailKind::PayLink
                | EmailKind::Statement
        )
    }
}

/// Where a message is on its way out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type))]
#[cfg_attr(feature = "sqlx", sqlx(type_name = "text", rename_all = "snake_case"))]
#[serde(rename_all = "snake_case")]
pub enum EmailStatus {
    /// Waiting for its (next) attempt.
    Pending,
    /// Accepted by the mail server.
    Sent,
    /// Given up after the last attempt (can be sent again by hand).
    Failed,
}

impl EmailStatus {
    pub fn label(self) -> &'static str {
        match self {
            EmailStatus::Pending => "Pending",
            EmailStatus::Sent => "Sent",
            EmailStatus::Failed => "Failed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "pending" => Some(EmailStatus::Pending),
            "sent" => Some(EmailStatus::Sent),
            "failed" => Some(EmailStatus::Failed),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EmailStatus::Pending => "pending",
            EmailStatus::Sent => "sent",
            EmailStatus::Failed => "failed",
        }
    }
}

/// One message in the outbox, as System → Email lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EmailSummary {
    pub id: crate::EmailId,
    pub kind: EmailKind,
    pub recipient: String,
    pub subject: String,
    /// The Company ID the message is about, if any.
    pub company: Option<String>,
    /// The event it reports (`evt_…`), if any.
    pub event: Option<String>,
    pub status: EmailStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// When it is tried next (pending only).
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// The outbox page: the messages shown and how many there are in all per status.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outbox {
    pub emails: Vec<EmailSummary>,
    pub pending: i64,
    pub sent: i64,
    pub failed: i64,
}

/// Where a pay link is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayLinkStatus {
    Sent,
    Opened,
    Paid,
    Expired,
    Revoked,
    /// Locked after [`PayLinkStatus::MAX_DECLINES`] declined payments (the clerk who sent it
    /// is told).
    Locked,
}

impl PayLinkStatus {
    /// Declined payments through one link before it is locked.
    pub const MAX_DECLINES: i32 = 5;
    /// Methods a link's holder may save through it.
    pub const MAX_NEW_METHODS: i64 = 2;

    pub fn label(self) -> &'static str {
        match self {
            PayLinkStatus::Sent => "Sent",
            PayLinkStatus::Opened => "Opened",
            PayLinkStatus::Paid => "Paid",
            PayLinkStatus::Expired => "Expired",
            PayLinkStatus::Revoked => "Revoked",
            PayLinkStatus::Locked => "Locked",
        }
    }

    /// Whether the link can still be paid.
    pub fn is_live(self) -> bool {
        matches!(self, PayLinkStatus::Sent | PayLinkStatus::Opened)
    }

    /// The status from the link's dates (revoked, paid and locked win over expiry).
    pub fn of(
        revoked: bool,
        paid: bool,
        locked: bool,
        expires_at: DateTime<Utc>,
        opened: bool,
        now: DateTime<Utc>,
    ) -> Self {
        if revoked {
            PayLinkStatus::Revoked
        } else if paid {
            PayLinkStatus::Paid
        } else if locked {
            PayLinkStatus::Locked
        } else if expires_at <= now {
            PayLinkStatus::Expired
        } else if opened {
            PayLinkStatus::Opened
        } else {
            PayLinkStatus::Sent
        }
    }
}

/// A pay link as the company's page lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PayLinkSummary {
    pub id: crate::PayLinkId,
    pub contact_name: String,
    pub email: String,
    pub invoices: Vec<String>,
    pub status: PayLinkStatus,
    pub sent_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub opened_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
    pub payment_number: Option<String>,
}

/// What the payer sees on a pay link's page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PayLinkView {
    pub seller: String,
    pub company_name: String,
    pub contact_name: String,
    pub sent_by: String,
    pub status: PayLinkStatus,
    pub expires_at: DateTime<Utc>,
    /// The link's invoices that still have a balance, at their balances now.
    pub invoices: Vec<OpenInvoice>,
    /// The payment made through it, once paid.
    pub payment_number: Option<String>,
}

/// An AP contact a pay link can go to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MailContact {
    pub id: crate::ContactId,
    pub name: String,
    pub email: String,
    pub title: Option<String>,
}

/// What an invitation or reset link's page needs to show.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinkedAccount {
    pub name: String,
    pub email: String,
    /// `true` for an invitation (choose a password), `false` for a reset.
    pub invitation: bool,
}

/// A password chosen on an invitation or reset page: the sign-in's rule (12 to 128
/// characters), typed the same twice.
pub fn check_chosen_password(password: &str, confirm: &str) -> Result<(), FieldError> {
    crate::auth::check_new_password(password, "\0")
        .map_err(|e| FieldError::new("password", e.message))?;
    if password != confirm {
        return Err(FieldError::new(
            "confirm",
            "The two passwords are not the same.",
        ));
    }
    Ok(())
}

/// What an ACH return code means, in words (NACHA's common codes).
pub fn ach_return_reason(code: &str) -> &'static str {
    match code {
        "R01" => "Insufficient funds: the account did not have enough money.",
        "R02" => "Account closed.",
        "R03" => "No account, or the account could not be found.",
        "R04" => "Invalid account number.",
        "R05" => "Unauthorized debit to a consumer account.",
        "R06" => "Returned at the request of the originating bank.",
        "R07" => "Authorization revoked by the customer.",
        "R08" => "Payment stopped by the account holder.",
        "R09" => "Uncollected funds.",
        "R10" => "The customer says the debit was not authorized.",
        "R16" => "Account frozen.",
        "R20" => "The account does not allow debits.",
        "R29" => "The company says the debit was not authorized.",
        _ => "Returned by the customer's bank.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn a_chosen_password_is_long_enough_and_confirmed() {
        assert_eq!(
            check_chosen_password("short", "short").unwrap_err().field,
            "password"
        );
        assert_eq!(
            check_chosen_password("long enough pass", "long enough pasS")
                .unwrap_err()
                .field,
            "confirm"
        );
        assert!(check_chosen_password("long enough pass", "long enough pass").is_ok());
        let long = "x".repeat(129);
        assert_eq!(
            check_chosen_password(&long, &long).unwrap_err().field,
            "password"
        );
    }

    #[test]
    fn a_pay_links_status_follows_its_dates() {
        let now = DateTime::parse_from_rfc3339("2026-11-29T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let later = now + Duration::days(1);
        let earlier = now - Duration::days(1);
        assert_eq!(
            PayLinkStatus::of(false, false, false, later, false, now),
            PayLinkStatus::Sent
        );
        assert_eq!(
            PayLinkStatus::of(false, false, false, later, true, now),
            PayLinkStatus::Opened
        );
        assert_eq!(
            PayLinkStatus::of(false, false, false, earlier, true, now),
            PayLinkStatus::Expired
        );
        assert_eq!(
            PayLinkStatus::of(false, true, false, earlier, true, now),
            PayLinkStatus::Paid
        );
        assert_eq!(
            PayLinkStatus::of(true, true, false, later, true, now),
            PayLinkStatus::Revoked
        );
        assert_eq!(
            PayLinkStatus::of(false, false, true, later, true, now),
            PayLinkStatus::Locked
        );
        assert_eq!(
            PayLinkStatus::of(false, true, true, later, true, now),
            PayLinkStatus::Paid
        );
        assert!(!PayLinkStatus::Expired.is_live());
        assert!(!PayLinkStatus::Locked.is_live());
    }

    #[test]
    fn return_codes_read_in_words() {
        assert!(ach_return_reason("R01").starts_with("Insufficient funds"));
        assert_eq!(ach_return_reason("R99"), "Returned by the customer's bank.");
        for k in EmailKind::ALL {
            assert!(!k.label().is_empty());
        }
    }
}
