//! The audit trail: who did what, on whose behalf, when, and what changed. Written in the
//! same transaction as the change it records.

use serde_json::Value;
use shared::auth::Role;
use shared::{ApiKeyId, CompanyId, UserId};
use sqlx::PgConnection;

/// Who acted.
#[derive(Clone, Copy, Debug)]
pub struct Actor {
    pub user_id: Option<UserId>,
    pub role: Option<Role>,
    /// The API key a machine acted with.
    pub api_key_id: Option<ApiKeyId>,
}

impl Actor {
    pub const SYSTEM: Actor = Actor {
        user_id: None,
        role: None,
        api_key_id: None,
    };

    pub fn user(id: UserId, role: Role) -> Self {
        Actor {
            user_id: Some(id),
            role: Some(role),
            api_key_id: None,
        }
    }

    pub fn api_key(id: ApiKeyId) -> Self {
        Actor {
            user_id: None,
            role: None,
            api_key_id: Some(id),
        }
    }
}

/// What happened (`audit_events.action`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text")]
pub enum Action {
    #[sqlx(rename = "payment.started")]
    PaymentStarted,
    #[sqlx(rename = "payment.approved")]
    PaymentApproved,
    #[sqlx(rename = "payment.pending")]
    PaymentPending,
    #[sqlx(rename = "payment.declined")]
    PaymentDeclined,
    #[sqlx(rename = "payment.failed")]
    PaymentFailed,
    #[sqlx(rename = "payment.settled")]
    PaymentSettled,
    #[sqlx(rename = "payment.returned")]
    PaymentReturned,
    #[sqlx(rename = "payment.voided")]
    PaymentVoided,
    #[sqlx(rename = "payment_method.added")]
    MethodAdded,
    #[sqlx(rename = "payment_method.activated")]
    MethodActivated,
    #[sqlx(rename = "payment_method.deactivated")]
    MethodDeactivated,
    #[sqlx(rename = "payment_method.default_set")]
    MethodDefaultSet,
    #[sqlx(rename = "user.created")]
    UserCreated,
    #[sqlx(rename = "user.enabled")]
    UserEnabled,
    #[sqlx(rename = "user.disabled")]
    UserDisabled,
    #[sqlx(rename = "user.login")]
    UserLogin,
    #[sqlx(rename = "user.login_failed")]
    UserLoginFailed,
    #[sqlx(rename = "user.locked_out")]
    UserLockedOut,
    #[sqlx(rename = "user.password_set")]
    UserPasswordSet,
    #[sqlx(rename = "demo.seeded")]
    DemoSeeded,
    #[sqlx(rename = "api_key.created")]
    ApiKeyCreated,
    #[sqlx(rename = "api_key.revoked")]
    ApiKeyRevoked,
    #[sqlx(rename = "company.upserted")]
    CompanyUpserted,
    #[sqlx(rename = "contact.upserted")]
    ContactUpserted,
    #[sqlx(rename = "invoice.upserted")]
    InvoiceUpserted,
    #[sqlx(rename = "payment.recorded_in_erp")]
    ErpPaymentRecorded,
    #[sqlx(rename = "webhook.created")]
    WebhookCreated,
    #[sqlx(rename = "webhook.changed")]
    WebhookChanged,
    #[sqlx(rename = "webhook.retried")]
    WebhookRetried,
    #[sqlx(rename = "import.committed")]
    ImportCommitted,
    #[sqlx(rename = "email.resent")]
    EmailResent,
    #[sqlx(rename = "user.invited")]
    UserInvited,
    #[sqlx(rename = "user.password_reset_requested")]
    PasswordResetRequested,
    #[sqlx(rename = "pay_link.sent")]
    PayLinkSent,
    #[sqlx(rename = "pay_link.revoked")]
    PayLinkRevoked,
    /// A pay link made for a statement (printed on it, not emailed on its own).
    #[sqlx(rename = "pay_link.for_statement")]
    PayLinkForStatement,
    #[sqlx(rename = "pay_link.locked")]
    PayLinkLocked,
    #[sqlx(rename = "user.role_changed")]
    UserRoleChanged,
    #[sqlx(rename = "payment_method.corrected")]
    MethodCorrected,
    #[sqlx(rename = "ach_file.written")]
    AchFileWritten,
    #[sqlx(rename = "ach_file.read")]
    AchFileRead,
    #[sqlx(rename = "ach_file.downloaded")]
    AchFileDownloaded,
    #[sqlx(rename = "refund.requested")]
    RefundRequested,
    #[sqlx(rename = "refund.started")]
    RefundStarted,
    #[sqlx(rename = "refund.approved")]
    RefundApproved,
    #[sqlx(rename = "refund.refused")]
    RefundRefused,
    #[sqlx(rename = "refund.succeeded")]
    RefundSucceeded,
    #[sqlx(rename = "refund.failed")]
    RefundFailed,
    #[sqlx(rename = "payment.reversed")]
    PaymentReversed,
    #[sqlx(rename = "settings.refund_limit_changed")]
    RefundLimitChanged,
    #[sqlx(rename = "user.refund_permission_changed")]
    UserRefundPermission,
    #[sqlx(rename = "dispute.opened")]
    DisputeOpened,
    #[sqlx(rename = "dispute.updated")]
    DisputeUpdated,
    #[sqlx(rename = "dispute.won")]
    DisputeWon,
    #[sqlx(rename = "dispute.lost")]
    DisputeLost,
    #[sqlx(rename = "dispute.evidence_downloaded")]
    DisputeEvidenceDownloaded,
    #[sqlx(rename = "reason_code.added")]
    ReasonCodeAdded,
    #[sqlx(rename = "reason_code.changed")]
    ReasonCodeChanged,
    #[sqlx(rename = "settings.payment_policy_changed")]
    PaymentPolicyChanged,
    #[sqlx(rename = "settings.policy_override_changed")]
    PolicyOverrideChanged,
    #[sqlx(rename = "credit.applied")]
    CreditApplied,
    #[sqlx(rename = "settings.surcharge_changed")]
    SurchargeChanged,
    #[sqlx(rename = "settings.time_zone_changed")]
    TimeZoneChanged,
    /// The statements' schedule or remittance details changed.
    #[sqlx(rename = "settings.statements_changed")]
    StatementsChanged,
    #[sqlx(rename = "export.ach_authorizations")]
    AuthorizationsExported,
}

/// What an event is about (`audit_events.entity_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum Entity {
    Payment,
    PaymentMethod,
    User,
    Database,
    ApiKey,
    Company,
    Contact,
    Invoice,
    WebhookEndpoint,
    Import,
    Email,
    PayLink,
    AchFile,
    Settings,
    ReasonCode,
    Credit,
    /// Something staff took out of Settle (an export audited as such).
    Export,
}

/// One audit event.
pub struct Event {
    pub actor: Actor,
    pub on_behalf_of: Option<CompanyId>,
    pub action: Action,
    pub entity: Entity,
    pub entity_id: Option<String>,
    pub details: Value,
}

/// Records a change that is no company's (a key, an endpoint, an import).
pub async fn system_change(
    conn: &mut PgConnection,
    actor: Actor,
    action: Action,
    entity: Entity,
    entity_id: impl ToString,
    details: Value,
) -> sqlx::Result<()> {
    record(
        conn,
        Event {
            actor,
            on_behalf_of: None,
            action,
            entity,
            entity_id: Some(entity_id.to_string()),
            details,
        },
    )
    .await
}

pub async fn record(conn: &mut PgConnection, e: Event) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO audit_events (actor_user_id, actor_role, on_behalf_company_id, action, \
         entity_type, entity_id, details, actor_api_key_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        e.actor.user_id as Option<UserId>,
        e.actor.role as Option<Role>,
        e.on_behalf_of as Option<CompanyId>,
        e.action as Action,
        e.entity as Entity,
        e.entity_id,
        e.details,
        e.actor.api_key_id as Option<ApiKeyId>,
    )
    .execute(conn)
    .await?;
    Ok(())
}
